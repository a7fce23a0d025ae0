//! Where a fleet's databases come from: a targets file (`--targets FILE`) or the
//! `[targets]` table of schema.toml (`--all-targets`), narrowed by `--only`.
//!
//! A targets file holds one database per line, optionally named:
//!
//! ```text
//! # comments and blank lines are ignored
//! postgres://app@db1/tenant_1
//! eu = postgres://app@db-eu/app
//! sqlite:shards/3.db            # relative to the targets file's folder
//! ```
//!
//! Every problem in the file is reported at once, each at its line, before any
//! database is touched.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::diagnostics::{FileProblems, Problem};
use crate::driver::url::is_key_value;
use crate::driver::{DatabaseUrl, ENGINES};
use crate::project::Project;
use crate::text::{backticked, did_you_mean};
use crate::{Error, Result};

/// One database of a fleet.
#[derive(Debug, Clone)]
pub struct FleetTarget {
    /// The name given in the file or `[targets]`, if any.
    pub name: Option<String>,
    pub url: DatabaseUrl,
}

impl FleetTarget {
    /// What lines and records show: the name, else the URL (password masked).
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.url.to_string())
    }
}

/// The targets a fleet command runs against, in the order they were listed.
pub fn load(
    project: &Project,
    file: Option<&Path>,
    all_targets: bool,
    only: &[String],
) -> Result<Vec<FleetTarget>> {
    let (targets, source) = match file {
        Some(path) => (read_file(path)?, path.display().to_string()),
        None => (
            from_schema(project)?,
            format!("[targets] in {}", project.schema_path().display()),
        ),
    };
    if targets.is_empty() {
        return Err(Error::Usage(format!(
            "{source} names no database; {}",
            if file.is_some() {
                "write one URL per line (or `name = URL`)"
            } else {
                "add `[targets]` with `name = \"URL\"` lines to schema.toml, or pass --targets FILE"
            }
        )));
    }
    if all_targets || only.is_empty() {
        return Ok(targets);
    }
    select(targets, only, &source)
}

/// `--only a,b`: those targets, in the list's order; an unknown name is an error
/// naming the ones that exist.
fn select(targets: Vec<FleetTarget>, only: &[String], source: &str) -> Result<Vec<FleetTarget>> {
    let names: Vec<&str> = targets.iter().filter_map(|t| t.name.as_deref()).collect();
    for wanted in only {
        if !names.contains(&wanted.as_str()) {
            let known = if names.is_empty() {
                "it names none (give names as `name = URL`)".to_string()
            } else {
                format!("it names {}", backticked(&names))
            };
            return Err(Error::Usage(format!(
                "--only: no target `{wanted}` in {source}; {known}{}",
                did_you_mean(wanted, names.iter().copied())
            )));
        }
    }
    Ok(targets
        .into_iter()
        .filter(|t| t.name.as_ref().is_some_and(|name| only.contains(name)))
        .collect())
}

/// `[targets]` of schema.toml (already checked by the schema parser), URLs
/// relative to the project like `[project] database`.
fn from_schema(project: &Project) -> Result<Vec<FleetTarget>> {
    let schema = project.load_schema()?;
    schema
        .config
        .targets
        .iter()
        .map(|(name, url)| {
            Ok(FleetTarget {
                name: Some(name.clone()),
                url: DatabaseUrl::parse(url, &project.root)?,
            })
        })
        .collect()
}

fn read_file(path: &Path) -> Result<Vec<FleetTarget>> {
    let bytes = std::fs::read(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!(
            "--targets {}: no such file; it should hold one database URL per line",
            path.display()
        )),
        _ => Error::io(path, error),
    })?;
    let text = crate::file_text::utf8_text(path, bytes)?;
    // Relative SQLite paths are the file's neighbours, wherever strata runs from.
    let base = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    parse_text(path, &text, &base)
}

/// The targets of a targets file's text; `path` is only used in messages.
pub fn parse_text(path: &Path, text: &str, base: &Path) -> Result<Vec<FleetTarget>> {
    let mut targets: Vec<(FleetTarget, Range<usize>)> = Vec::new();
    let mut problems = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some((name, url_text, span)) = entry(line, start) else {
            continue;
        };
        let url = match DatabaseUrl::parse(url_text, base) {
            Ok(url) => url,
            Err(error) => {
                problems.push(
                    Problem::new(span, error.to_string())
                        .label(format!("expected a database URL ({})", url_forms())),
                );
                continue;
            }
        };
        let target = FleetTarget { name, url };
        if let Some((_, first)) = targets.iter().find(|(seen, _)| {
            seen.url.to_string() == target.url.to_string()
                || (seen.name.is_some() && seen.name == target.name)
        }) {
            let (line, _) = crate::text::line_column(text, first.start);
            let what = if targets
                .iter()
                .any(|(seen, _)| seen.name.is_some() && seen.name == target.name)
            {
                format!("the name `{}`", target.label())
            } else {
                format!("the database {}", target.url)
            };
            problems.push(
                Problem::new(span, format!("{what} is already listed at line {line}"))
                    .label("listed twice")
                    .help("each database (and each name) may appear once; remove one of them"),
            );
            continue;
        }
        targets.push((target, span));
    }
    if !problems.is_empty() {
        return Err(Error::Problems(Box::new(FileProblems::new(
            path, text, problems,
        ))));
    }
    Ok(targets.into_iter().map(|(target, _)| target).collect())
}

/// `(name, url, span of the url)` of one line; None for blank and comment lines.
/// `name = URL` is told from a libpq string (`host=db dbname=app`) by what
/// follows the `=`: a URL or another `key=value` makes it a name.
fn entry(line: &str, start: usize) -> Option<(Option<String>, &str, Range<usize>)> {
    // A `#` starts a comment only at the start of a line or after whitespace: a
    // password or path may hold one.
    let content = match line
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || line[..i].ends_with(char::is_whitespace)))
    {
        Some((i, _)) => &line[..i],
        None => line,
    };
    let trimmed = content.trim();
    if trimmed.is_empty() {
        return None;
    }
    let span_of = |part: &str| {
        let at = start + (part.as_ptr() as usize - line.as_ptr() as usize);
        at..at + part.len()
    };
    if let Some((name, rest)) = trimmed.split_once('=') {
        let (name, rest) = (name.trim(), rest.trim());
        let is_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            && (is_key_value(rest)
                || ENGINES.iter().any(|engine| {
                    engine
                        .url_prefixes()
                        .iter()
                        .any(|prefix| rest.starts_with(prefix))
                }));
        if is_name {
            return Some((Some(name.to_string()), rest, span_of(rest)));
        }
    }
    Some((None, trimmed, span_of(trimmed)))
}

fn url_forms() -> String {
    ENGINES
        .iter()
        .map(|engine| engine.url_forms())
        .collect::<Vec<_>>()
        .join(", ")
}
