//! A column's `type`: the portable names, with suggestions for other databases'
//! and languages' names for them.

use std::ops::Range;

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{type_spelling_problem, Schema, Type};
use crate::text::{backticked, closest};

/// A column type that can only be settled once `[project] dialects` is known:
/// a bare name that is no portable type nor enum (`jsonb`), or a table of
/// per-dialect spellings, to be checked against the project's dialects.
pub(super) struct PendingType {
    pub table: String,
    pub column: String,
    pub span: Range<usize>,
    pub spelling: PendingSpelling,
}

pub(super) enum PendingSpelling {
    Bare(String),
    PerDialect(Vec<(String, String)>),
}

impl Parser<'_> {
    /// A column's `type`: a portable name or an enum's now; any other
    /// well-formed name (or `{ postgres = "...", sqlite = "..." }`) is kept as
    /// pending, settled by [`Parser::settle_types`]. `None` after a problem.
    pub(super) fn column_type_value(
        &mut self,
        table: &str,
        column: &str,
        value: &crate::spanned_toml::Value<'_>,
    ) -> Option<Type> {
        let span = value.span();
        match value.get_ref() {
            DeValue::String(name) => {
                if let Some(ty) = Type::parse_portable(name) {
                    return Some(ty);
                }
                if self.enum_names.iter().any(|e| e == name.as_ref()) {
                    return Some(Type::Enum(name.to_string()));
                }
                if self.is_domain(name) {
                    return Some(Type::Domain(name.to_string()));
                }
                if let Some(problem) = type_spelling_problem(name) {
                    if name
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == ' ')
                    {
                        self.unknown_type(name, span, None, &[]);
                    } else {
                        self.bad_spelling(name, &problem, span);
                    }
                    return None;
                }
                self.pending_types.push(PendingType {
                    table: table.to_string(),
                    column: column.to_string(),
                    span,
                    spelling: PendingSpelling::Bare(name.to_string()),
                });
                Some(Type::Custom(name.to_string()))
            }
            DeValue::Table(spellings) => {
                let known = crate::driver::dialect_names();
                let mut list = Vec::new();
                let mut ok = true;
                for (dialect, spelling) in spellings.iter() {
                    let dialect_name = dialect.get_ref().as_ref();
                    if !known.contains(&dialect_name) {
                        self.reader
                            .unknown_key(dialect, "a column's per-dialect `type`", &known);
                        ok = false;
                        continue;
                    }
                    let Some(text) = self.reader.string(dialect_name, spelling) else {
                        ok = false;
                        continue;
                    };
                    if let Some(problem) = type_spelling_problem(&text) {
                        self.bad_spelling(&text, &problem, spelling.span());
                        ok = false;
                        continue;
                    }
                    list.push((dialect_name.to_string(), text));
                }
                if list.is_empty() && ok {
                    self.reader.problem(
                        Problem::new(span.clone(), "a per-dialect `type` names no dialect")
                            .label("expected e.g. { postgres = \"jsonb\", sqlite = \"text\" }"),
                    );
                    return None;
                }
                if !ok {
                    return None;
                }
                self.pending_types.push(PendingType {
                    table: table.to_string(),
                    column: column.to_string(),
                    span,
                    spelling: PendingSpelling::PerDialect(list),
                });
                Some(Type::Custom(String::new()))
            }
            _ => {
                self.reader.wrong_type(
                    "type",
                    value,
                    "a type name such as \"text\", or per-dialect spellings such as { postgres = \"jsonb\", sqlite = \"text\" }",
                );
                None
            }
        }
    }

    fn bad_spelling(&mut self, name: &str, problem: &str, span: Range<usize>) {
        self.reader.problem(
            Problem::new(span, format!("`{name}` is not a type: {problem}"))
                .label("not a type name")
                .help("a type is words, an optional (n) or (n,m), and `[]` for an array, e.g. `character(2)`, `text[]`, `NVARCHAR(40)`"),
        );
    }

    /// Settles the pending types now that the project's dialects are known:
    /// a bare name must be a built-in type of the only dialect; per-dialect
    /// spellings must cover every dialect. Each column's type problem is
    /// reported once, here.
    pub(super) fn settle_types(&mut self, dialects: &[String], schema: &mut Schema) {
        for pending in std::mem::take(&mut self.pending_types) {
            let settled = match pending.spelling {
                PendingSpelling::Bare(name) => self.settle_bare(&name, pending.span, dialects),
                PendingSpelling::PerDialect(list) => {
                    let missing: Vec<&String> = dialects
                        .iter()
                        .filter(|d| !list.iter().any(|(named, _)| named == *d))
                        .collect();
                    if let Some(dialect) = missing.first() {
                        self.reader.problem(
                            Problem::new(
                                pending.span,
                                format!(
                                    "column `{}.{}` has no type for `{dialect}`, one of this project's dialects ({})",
                                    pending.table,
                                    pending.column,
                                    dialects.join(", ")
                                ),
                            )
                            .label(format!("add {dialect} = \"...\""))
                            .help("each dialect of the project needs its spelling of a dialect-specific type, e.g. type = { postgres = \"jsonb\", sqlite = \"text\" }"),
                        );
                        None
                    } else {
                        let spellings = list
                            .into_iter()
                            .filter(|(dialect, _)| dialects.contains(dialect))
                            .map(|(dialect, text)| {
                                let text = crate::driver::registry::engine(&dialect)
                                    .map_or(text.clone(), |engine| engine.canonical_type(&text));
                                (dialect, text)
                            })
                            .collect();
                        Some(Type::Native(spellings))
                    }
                }
            };
            // A domain's type is pending under an empty table name.
            if pending.table.is_empty() {
                let domain = schema.domains.iter_mut().find(|d| d.name == pending.column);
                if let (Some(domain), Some(ty)) = (domain, settled) {
                    domain.base = ty;
                }
                continue;
            }
            let column = schema
                .tables
                .iter_mut()
                .find(|t| t.name == pending.table)
                .and_then(|t| t.columns.iter_mut().find(|c| c.name == pending.column));
            if let (Some(column), Some(ty)) = (column, settled) {
                column.ty = ty;
            }
        }
    }

    fn settle_bare(&mut self, name: &str, span: Range<usize>, dialects: &[String]) -> Option<Type> {
        let engines: Vec<&'static dyn crate::driver::Engine> = dialects
            .iter()
            .filter_map(|d| crate::driver::registry::engine(d))
            .collect();
        if let [engine] = engines.as_slice() {
            if let Some(spelling) = engine.builtin_type(name) {
                return Some(Type::native(engine.name(), &spelling));
            }
            self.unknown_type(name, span, Some(engine.name()), engine.builtin_type_names());
            return None;
        }
        let knowing: Vec<&str> = crate::driver::ENGINES
            .iter()
            .filter(|engine| engine.builtin_type(name).is_some())
            .map(|engine| engine.name())
            .collect();
        if knowing.is_empty() {
            self.unknown_type(name, span, None, &[]);
            return None;
        }
        // A built-in type of every dialect of the project is no dialect-specific
        // type: each gets its own spelling of it (`char(2)` is PostgreSQL's
        // `character(2)`).
        if !engines.is_empty() && engines.iter().all(|e| knowing.contains(&e.name())) {
            let spellings = engines
                .iter()
                .filter_map(|e| Some((e.name().to_string(), e.builtin_type(name)?)))
                .collect();
            return Some(Type::Native(spellings));
        }
        let example: Vec<String> = dialects
            .iter()
            .map(|d| {
                if knowing.contains(&d.as_str()) {
                    format!("{d} = \"{name}\"")
                } else {
                    format!("{d} = \"...\"")
                }
            })
            .collect();
        self.reader.problem(
            Problem::new(
                span,
                format!(
                    "`{name}` is a {} type, and this project's dialects are {}: a dialect-specific type names its spelling for each dialect",
                    knowing.join(" and "),
                    dialects.join(", ")
                ),
            )
            .label("not a portable type")
            .help(match self.type_suggestion(name, &[]) {
                Some(portable) => format!(
                    "write type = {{ {} }}, or the portable type `{portable}`",
                    example.join(", ")
                ),
                None => format!(
                    "write type = {{ {} }}, or use a portable type: {}",
                    example.join(", "),
                    backticked(crate::schema::types::PORTABLE_TYPE_NAMES)
                ),
            }),
        );
        None
    }

    /// An unknown type, with a suggestion only of a name that would be accepted.
    fn unknown_type(
        &mut self,
        name: &str,
        span: Range<usize>,
        dialect: Option<&str>,
        native: &[&str],
    ) {
        let hint = self
            .type_suggestion(name, native)
            .map(|hit| format!("; did you mean `{hit}`?"))
            .unwrap_or_default();
        self.reader.problem(
            Problem::new(span, format!("unknown column type `{name}`{hint}"))
                .label("not a known type")
                .help(self.types_help(dialect)),
        );
    }

    /// What a column's `type` may be, for the help of an unknown type.
    fn types_help(&self, dialect: Option<&str>) -> String {
        let mut text = format!(
            "types are {}",
            backticked(crate::schema::types::PORTABLE_TYPE_NAMES)
        );
        if !self.enum_names.is_empty() {
            text.push_str(&format!(", the enums {}", backticked(&self.enum_names)));
        }
        match dialect {
            Some(dialect) => text.push_str(&format!(
                ", and {dialect}'s built-in types ({}, …); any other {dialect} type (such as an extension's) is written type = {{ {dialect} = \"NAME\" }}",
                crate::driver::registry::engine(dialect).map_or("", |e| e.type_examples())
            )),
            None => text.push_str(
                "; a type of one dialect names each dialect's spelling, e.g. type = { postgres = \"jsonb\", sqlite = \"text\" }",
            ),
        }
        text
    }

    /// A name close to `name` that schema.toml accepts as written: a portable
    /// type (with the arguments written, when they fit), an enum, or one of
    /// `native`, the built-in types of the project's only dialect.
    fn type_suggestion(&self, name: &str, native: &[&str]) -> Option<String> {
        let bare = name.split('(').next().unwrap_or(name).trim();
        // Other databases' and languages' names for the portable types, so
        // that a typo of either (`strng`, `integr`) gets a suggestion.
        const SYNONYMS: &[(&str, &str)] = &[
            ("int", "integer"),
            ("int4", "integer"),
            ("serial", "integer"),
            ("int8", "bigint"),
            ("bigserial", "bigint"),
            ("int2", "smallint"),
            ("string", "text"),
            ("str", "text"),
            ("bool", "boolean"),
            ("float", "double"),
            ("float8", "double"),
            ("double precision", "double"),
            ("decimal", "numeric"),
            ("datetime", "timestamp"),
            ("blob", "bytes"),
            ("bytea", "bytes"),
            ("jsonb", "json"),
        ];
        let known = crate::schema::types::PORTABLE_TYPE_NAMES
            .iter()
            .map(|known| known.split('(').next().unwrap_or(known))
            .chain(native.iter().copied())
            .chain(self.enum_names.iter().map(String::as_str))
            .collect::<Vec<_>>();
        let lowered = bare.to_lowercase();
        let hit = SYNONYMS
            .iter()
            .find(|(synonym, _)| *synonym == lowered)
            .map(|(_, portable)| *portable)
            .or_else(|| {
                let word = closest(
                    bare,
                    known.iter().copied().chain(SYNONYMS.iter().map(|s| s.0)),
                )?;
                Some(
                    SYNONYMS
                        .iter()
                        .find(|(synonym, _)| *synonym == word)
                        .map_or(word, |(_, portable)| *portable),
                )
            });
        // Only a name schema.toml accepts: `varchar` alone is not one, so a
        // parameterised type is suggested with the arguments written
        // (`NVARCHAR(40)` → `varchar(40)`) or with its placeholder.
        let arguments = name[bare.len()..].trim();
        hit.map(|hit| {
            let template = crate::schema::types::PORTABLE_TYPE_NAMES
                .iter()
                .find(|known| known.split('(').next() == Some(hit))
                .copied()
                .unwrap_or(hit);
            let with_arguments = format!("{hit}{arguments}");
            if Type::parse_portable(&with_arguments).is_some()
                || (native.contains(&hit) && type_spelling_problem(&with_arguments).is_none())
            {
                with_arguments
            } else {
                template.to_string()
            }
        })
    }
}
