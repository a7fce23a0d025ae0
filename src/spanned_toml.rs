//! Walking a spanned TOML document while collecting every problem, shared by the
//! schema.toml and patch parsers (serde would stop at the first error).

use std::borrow::Cow;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostics::{FileProblems, Problem};
use crate::text::{backticked, did_you_mean};

pub type Key<'i> = Spanned<Cow<'i, str>>;
pub type Value<'i> = Spanned<DeValue<'i>>;

/// Parses `text`, or returns its syntax errors as problems of `path`.
pub fn parse_document<'i>(
    path: &Path,
    text: &'i str,
) -> Result<Spanned<DeTable<'i>>, FileProblems> {
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    if syntax_errors.is_empty() {
        return Ok(document);
    }
    let problems = syntax_errors
        .iter()
        .map(|error| syntax_problem(text, error))
        .collect();
    Err(FileProblems::new(path, text, problems))
}

/// One TOML syntax error as a problem, naming the key when toml only says "duplicate key".
pub fn syntax_problem(text: &str, error: &toml::de::Error) -> Problem {
    let span = error.span().unwrap_or(0..0);
    let message = error.message().trim_end();
    if message.starts_with("duplicate key") {
        let key = text.get(span.clone()).unwrap_or_default().trim();
        return Problem::new(span, format!("invalid TOML: duplicate key `{key}`"))
            .label("defined a second time here")
            .help(
                "a key, and a [table] header, may appear only once in its table; \
                 remove one of the two or merge them",
            );
    }
    Problem::new(span, format!("invalid TOML: {message}")).label("here")
}

pub fn kind_of(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Collects problems while typed values are read out of a document.
#[derive(Default)]
pub struct Reader {
    pub problems: Vec<Problem>,
}

impl Reader {
    pub fn problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    pub fn unknown_key(&mut self, key: &Key<'_>, context: &str, known: &[&str]) {
        let name = key.get_ref().as_ref();
        self.problem(
            Problem::new(
                key.span(),
                format!(
                    "unknown key `{name}` in {context}{}",
                    did_you_mean(name, known.iter().copied())
                ),
            )
            .label("not a known key")
            .help(format!("the keys allowed here are {}", backticked(known))),
        );
    }

    /// Reports every key of `table` not in `known`.
    pub fn only_keys(&mut self, table: &DeTable<'_>, context: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                self.unknown_key(key, context, known);
            }
        }
    }

    pub fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str) {
        self.problem(
            Problem::new(
                value.span(),
                format!(
                    "`{key}` must be {expected}, found {}",
                    kind_of(value.get_ref())
                ),
            )
            .label(format!("expected {expected}")),
        );
    }

    pub fn missing(&mut self, span: Range<usize>, key: &str, context: &str, example: &str) {
        self.problem(
            Problem::new(span, format!("{context} needs `{key}`")).label(format!("add {example}")),
        );
    }

    pub fn table<'a, 'i>(&mut self, key: &str, value: &'a Value<'i>) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(table) => Some(table),
            _ => {
                self.wrong_type(key, value, "a table");
                None
            }
        }
    }

    pub fn string(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        match value.get_ref() {
            DeValue::String(text) => Some(text.to_string()),
            _ => {
                self.wrong_type(key, value, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, value: &Value<'_>) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(flag) => Some(*flag),
            other => {
                let meant = match other {
                    DeValue::String(text) => match text.trim().to_lowercase().as_str() {
                        "true" | "yes" | "y" | "on" | "1" => Some(true),
                        "false" | "no" | "n" | "off" | "0" => Some(false),
                        _ => None,
                    },
                    _ => None,
                };
                let help = match meant {
                    Some(flag) => format!("write `{key} = {flag}`, without quotes"),
                    None => format!("write `{key} = true` or `{key} = false`, without quotes"),
                };
                self.problem(
                    Problem::new(
                        value.span(),
                        format!(
                            "`{key}` must be `true` or `false`, found {}",
                            kind_of(other)
                        ),
                    )
                    .label("expected `true` or `false`")
                    .help(help),
                );
                None
            }
        }
    }

    pub fn unsigned(&mut self, key: &str, value: &Value<'_>) -> Option<u64> {
        match value.get_ref() {
            DeValue::Integer(integer) => u64::from_str_radix(integer.as_str(), integer.radix())
                .ok()
                .or_else(|| {
                    self.wrong_type(key, value, "a whole number of 0 or more");
                    None
                }),
            _ => {
                self.wrong_type(key, value, "a whole number of 0 or more");
                None
            }
        }
    }
}
