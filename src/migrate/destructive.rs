//! The destructive-change rule of `generate`: drops, narrowing type changes and
//! NOT NULL without a default are refused without `--allow-destructive`, each
//! listed with what it would lose; a drop that looks like a rename says which
//! `renamed_from` hint to add; a NOT NULL says how many rows it would hit when a
//! database is there to count them on.

use crate::diff::suspected_renames;
use crate::driver::{self, quote_identifier as q, ConnectOptions, DatabaseUrl, SqlValue};
use crate::schema::{Change, Schema};
use crate::text::printable;
use crate::{Error, Result};

/// Where NULL rows can be counted: `generate --database-url`, else the dev
/// database. `None`: strata cannot know.
pub struct NullCounter<'a> {
    pub url: Option<&'a DatabaseUrl>,
    pub options: ConnectOptions,
}

/// One dialect's view: what its history builds and the changes to the target.
pub struct DialectChanges<'a> {
    pub current: &'a Schema,
    pub changes: &'a [Change],
}

/// `Ok` when nothing destructive is there or it is allowed; otherwise the
/// refusal, listing every destructive change once (dialects usually agree).
pub fn check(
    dialects: &[DialectChanges<'_>],
    allow_destructive: bool,
    counter: &NullCounter<'_>,
) -> Result<()> {
    if allow_destructive {
        return Ok(());
    }
    let mut lines: Vec<String> = Vec::new();
    let mut push = |line: String| {
        if !lines.contains(&line) {
            lines.push(line);
        }
    };
    for dialect in dialects {
        let hints = suspected_renames(dialect.current, dialect.changes);
        for change in dialect.changes {
            let Some(destruction) = change.destruction() else {
                continue;
            };
            let mut line = format!("  {destruction}");
            if let Some((table, column)) = change.not_null_without_default() {
                let table = old_table_name(dialect.changes, table);
                line.push_str(&format!(": {}", null_rows(counter, table, column)));
            }
            if let Some(hint) = hints.iter().find(|hint| hint.is_drop_of(change)) {
                line.push_str(&format!("\n    {hint}"));
            }
            push(line);
        }
    }
    if lines.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "these changes can lose data, so nothing was written:\n{}\n\
         check them, then run again with --allow-destructive if they are meant",
        lines.join("\n")
    )))
}

/// The table's name before `changes` (a rename in them gives it a new one).
fn old_table_name<'a>(changes: &'a [Change], table: &'a str) -> &'a str {
    changes
        .iter()
        .find_map(|change| match change {
            Change::RenameTable { from, to } if to == table => Some(from.as_str()),
            _ => None,
        })
        .unwrap_or(table)
}

/// What the refusal says about the NULL rows of `table.column`.
fn null_rows(counter: &NullCounter<'_>, table: &str, column: &str) -> String {
    let (t, c) = (printable(table), printable(column));
    let fill = "declare a `default` to fill them in the same migration";
    let Some(url) = counter.url else {
        return format!(
            "strata cannot know how many rows of {t} have {c} NULL without a database \
             (pass --database-url URL to count them); {fill}"
        );
    };
    match count_nulls(url, counter.options, table, column) {
        Ok(Some(0)) => format!(
            "no row of {t} has {c} NULL in {url}, but other databases may have some; {fill}"
        ),
        Ok(Some(rows)) => format!(
            "{} of {t} {} {c} NULL in {url}; {fill}",
            crate::text::plural(rows as usize, "row"),
            if rows == 1 { "has" } else { "have" }
        ),
        Ok(None) => format!(
            "{url} does not exist, so strata cannot know how many rows of {t} have {c} NULL; {fill}"
        ),
        Err(error) => format!(
            "strata could not count the rows of {t} with {c} NULL in {url} ({}); {fill}",
            one_line(&error.to_string())
        ),
    }
}

/// `SELECT count(*) … WHERE column IS NULL` on the database at `url`, read only;
/// `None` when the database does not exist (it is never created).
fn count_nulls(
    url: &DatabaseUrl,
    options: ConnectOptions,
    table: &str,
    column: &str,
) -> Result<Option<u64>> {
    let Some(mut database) = driver::open_existing(url, options)? else {
        return Ok(None);
    };
    let mut transaction = database.begin_read()?;
    let rows = transaction.query(
        &format!(
            "SELECT count(*) FROM {} WHERE {} IS NULL",
            q(table),
            q(column)
        ),
        &[],
    )?;
    match rows.first().and_then(|row| row.first()) {
        Some(SqlValue::Integer(count)) => Ok(Some((*count).max(0) as u64)),
        other => Err(Error::Refused(format!(
            "count(*) returned {other:?} instead of a number"
        ))),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
