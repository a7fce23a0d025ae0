//! Applying migrations in as few round trips as possible. Consecutive
//! transactional migrations travel together in one simple-query message,
//! `BEGIN; m1; history 1; COMMIT; RESET lock_timeout; BEGIN; m2; …`: the server
//! runs them in order and each commits on its own, so a failure still undoes
//! exactly the failing migration. Against a database 20-50 ms away the round
//! trips, not the DDL, are what a migration costs.
//!
//! What the server does with such a message (checked against PostgreSQL 15):
//! an error during execution skips the rest of the message and leaves the
//! failing migration's transaction aborted, the ones before it committed; a
//! syntax error anywhere stops the message before anything runs (the whole
//! message is parsed first). Either way the history table says what committed.

use std::ops::Range;
use std::time::Instant;

use postgres::Client;

use super::{is_storage_error, one_line};
use crate::driver::{AppliedMigration, MigrationScript, HISTORY_TABLE};
use crate::migrate::directive::no_transaction;
use crate::{Error, Result};

/// A message stops growing past this many bytes of SQL (a larger migration
/// goes alone), so neither strata nor the server holds more than a few MB.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Applies `pending` in order; `on_batch` hears each group of migrations that
/// one round trip applied (a no-transaction migration is a group of one).
pub(super) fn apply(
    client: &mut Client,
    applied: &[AppliedMigration],
    pending: &[&MigrationScript],
    on_batch: &mut dyn FnMut(&[&MigrationScript], std::time::Duration),
) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    // A database with no history may have no history table yet: refinery's
    // CREATE TABLE IF NOT EXISTS goes first in the first message.
    let mut create_table = applied.is_empty();
    let mut rest = pending;
    while let Some(first) = rest.first() {
        let started = Instant::now();
        if no_transaction(&first.sql) {
            if std::mem::take(&mut create_table) {
                client
                    .batch_execute(&create_table_sql())
                    .map_err(|error| failed(first, one_line(&error), is_storage_error(&error)))?;
            }
            without_transaction(client, first)?;
            on_batch(&rest[..1], started.elapsed());
            rest = &rest[1..];
            continue;
        }
        let size = batch_len(rest);
        let (batch, after) = rest.split_at(size);
        run_batch(client, batch, std::mem::take(&mut create_table), on_batch)?;
        rest = after;
    }
    Ok(())
}

/// How many of the migrations at the start of `rest` go in one message: the
/// transactional ones up to the next no-transaction one, within the size bound.
fn batch_len(rest: &[&MigrationScript]) -> usize {
    let mut bytes = 0;
    let mut count = 0;
    for script in rest {
        if no_transaction(&script.sql) || (count > 0 && bytes + script.sql.len() > MAX_BATCH_BYTES)
        {
            break;
        }
        bytes += script.sql.len();
        count += 1;
    }
    count.max(1)
}

/// The message for `batch`, and for each migration the byte range of its
/// script inside it (to place the server's error position).
fn message(batch: &[&MigrationScript], create_table: bool) -> (String, Vec<Range<usize>>) {
    let applied_on = now_rfc3339();
    // Before the first BEGIN it joins the first migration's transaction.
    let mut text = if create_table {
        format!("{}\n", create_table_sql())
    } else {
        String::new()
    };
    let mut scripts = Vec::new();
    for script in batch {
        text.push_str("BEGIN;\n");
        let start = text.len();
        text.push_str(&script.sql);
        scripts.push(start..text.len());
        // A newline first: the script may end in a `--` comment.
        text.push_str("\n;\n");
        text.push_str(&history_row(script, &applied_on));
        // A generated migration sets lock_timeout for itself (`SET lock_timeout`
        // in the file, for tools that run it without strata); the next one gets
        // the connection's `--ddl-lock-timeout` again.
        text.push_str("COMMIT;\nRESET lock_timeout;\n");
    }
    (text, scripts)
}

/// The history row of `script`, as refinery writes it, so refinery and strata
/// read the same table.
fn history_row(script: &MigrationScript, applied_on: &str) -> String {
    format!(
        "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) \
         VALUES ({}, '{}', '{applied_on}', '{}');\n",
        script.version,
        script.name.replace('\'', "''"),
        crate::migrate::checksum(script),
    )
}

/// refinery's CREATE TABLE IF NOT EXISTS of the history table.
fn create_table_sql() -> String {
    <Client as refinery::Migrate>::assert_migrations_table_query(HISTORY_TABLE)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Sends `batch` as one message. On failure, the history table (read once,
/// on this path only) says which migrations committed; those are reported
/// applied and the failing one is named, at its line when the server says where.
fn run_batch(
    client: &mut Client,
    batch: &[&MigrationScript],
    create_table: bool,
    on_batch: &mut dyn FnMut(&[&MigrationScript], std::time::Duration),
) -> Result<()> {
    let started = Instant::now();
    let (text, scripts) = message(batch, create_table);
    let error = match client.batch_execute(&text) {
        Ok(()) => {
            on_batch(batch, started.elapsed());
            return Ok(());
        }
        Err(error) => error,
    };
    let elapsed = started.elapsed();
    // The session is in the failing migration's aborted transaction (or in
    // none); this leaves it clean, with the connection's own lock_timeout.
    let _ = client.batch_execute("ROLLBACK; RESET lock_timeout");
    let by_storage = is_storage_error(&error);
    let at = error_offset(&text, &error);
    // The migration the server's position points into, and where in it.
    let pointed = at.and_then(|at| {
        let index = scripts.iter().rposition(|range| range.start <= at)?;
        let range = &scripts[index];
        let place = (at <= range.end).then(|| {
            let (line, column) = crate::text::line_column(&batch[index].sql, at - range.start);
            format!(" at line {line}, column {column}")
        });
        Some((index, place))
    });
    let Some(committed) = committed_count(client, batch) else {
        let versions = match (batch.first(), batch.last()) {
            (Some(first), Some(last)) if batch.len() > 1 => {
                format!("V{}..V{} were sent together", first.version, last.version)
            }
            _ => format!("{} was sent", batch[0].file_name()),
        };
        return Err(Error::MigrationFailed {
            file: batch[0].file_name().into(),
            message: one_line(&error),
            outcome: format!(
                "{versions} and the history could not be read afterwards, so which of them \
                 were applied is not known here; `strata status` shows it (each migration is \
                 applied whole or not at all)"
            ),
            by_storage: true,
        });
    };
    if committed > 0 {
        on_batch(&batch[..committed], elapsed);
    }
    let failing = pointed
        .as_ref()
        .map_or(committed, |(index, _)| *index)
        .max(committed)
        .min(batch.len() - 1);
    if failing > committed {
        // A syntax error stops the whole message before anything runs: the
        // migrations before the failing one parse, so they are applied now.
        run_batch(client, &batch[committed..failing], create_table, on_batch)?;
    }
    let place = match pointed {
        Some((index, Some(place))) if index == failing => place,
        _ => String::new(),
    };
    Err(failed(
        batch[failing],
        format!("{}{place}", one_line(&error)),
        by_storage,
    ))
}

/// The byte offset in `text` of the server's error position (a 1-based
/// character count), if it gave one.
fn error_offset(text: &str, error: &postgres::Error) -> Option<usize> {
    match error.as_db_error()?.position()? {
        postgres::error::ErrorPosition::Original(position) => text
            .char_indices()
            .nth((*position as usize).checked_sub(1)?)
            .map(|(offset, _)| offset),
        postgres::error::ErrorPosition::Internal { .. } => None,
    }
}

/// How many migrations at the start of `batch` the history table records;
/// `None` when it cannot be read (the connection is gone).
fn committed_count(client: &mut Client, batch: &[&MigrationScript]) -> Option<usize> {
    let versions: Vec<String> = batch.iter().map(|s| s.version.to_string()).collect();
    let sql = format!(
        "SELECT version FROM {HISTORY_TABLE} WHERE version IN ({})",
        versions.join(", ")
    );
    let recorded: Vec<String> = match client.simple_query(&sql) {
        Ok(messages) => messages
            .into_iter()
            .filter_map(|message| match message {
                postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                _ => None,
            })
            .collect(),
        Err(error) if error.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
            Vec::new()
        }
        Err(_) => return None,
    };
    Some(
        versions
            .iter()
            .take_while(|version| recorded.contains(version))
            .count(),
    )
}

/// A `-- strata: no-transaction` migration: each statement is its own
/// simple-query message, so each runs (and commits) on its own — several
/// statements in one message would share an implicit transaction, in which
/// `CREATE INDEX CONCURRENTLY` fails. The history row follows the last one.
/// A failure part-way leaves the statements before it applied.
fn without_transaction(client: &mut Client, script: &MigrationScript) -> Result<()> {
    for statement in crate::script::statements(crate::script::Engine::Postgres, &script.sql) {
        let sql = &script.sql[statement.span.clone()];
        if let Err(error) = client.batch_execute(sql) {
            let place = error_offset(sql, &error).map_or(String::new(), |at| {
                let (line, column) =
                    crate::text::line_column(&script.sql, statement.span.start + at);
                format!(" at line {line}, column {column}")
            });
            let _ = client.batch_execute("RESET lock_timeout");
            return Err(failed(
                script,
                format!("{}{place}", one_line(&error)),
                is_storage_error(&error),
            ));
        }
    }
    let history = format!("{}RESET lock_timeout;", history_row(script, &now_rfc3339()));
    client
        .batch_execute(&history)
        .map_err(|error| failed(script, one_line(&error), is_storage_error(&error)))
}

/// The caller (`migrate::apply`) names the folder and says what state the
/// database is in.
fn failed(script: &MigrationScript, message: String, by_storage: bool) -> Error {
    Error::MigrationFailed {
        file: script.file_name().into(),
        message,
        outcome: String::new(),
        by_storage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(version: i32, sql: String) -> MigrationScript {
        MigrationScript {
            version,
            name: format!("m{version}"),
            sql,
            dir: None,
        }
    }

    #[test]
    fn a_batch_stops_at_a_no_transaction_migration_and_at_the_size_bound() {
        let small = |v| script(v, "CREATE TABLE t (id INTEGER);\n".into());
        let online = script(
            3,
            "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (id);\n".into(),
        );
        let scripts = [small(1), small(2), online, small(4)];
        let refs: Vec<&MigrationScript> = scripts.iter().collect();
        assert_eq!(batch_len(&refs), 2);
        assert_eq!(batch_len(&refs[2..]), 1);
        assert_eq!(batch_len(&refs[3..]), 1);

        let big = |v| {
            script(
                v,
                format!("SELECT '{}';\n", "x".repeat(MAX_BATCH_BYTES / 2)),
            )
        };
        let scripts = [big(1), big(2), big(3)];
        let refs: Vec<&MigrationScript> = scripts.iter().collect();
        assert_eq!(batch_len(&refs), 1);
        // A migration larger than the bound still goes, alone.
        let huge = [script(1, "-".repeat(MAX_BATCH_BYTES + 1))];
        assert_eq!(batch_len(&[&huge[0], &huge[0]]), 1);
    }

    #[test]
    fn the_message_places_each_script_and_escapes_the_name() {
        let scripts = [
            script(1, "CREATE TABLE a (id INTEGER); -- trailing".into()),
            MigrationScript {
                name: "it's".into(),
                ..script(2, "CREATE TABLE b (id INTEGER);".into())
            },
        ];
        let refs: Vec<&MigrationScript> = scripts.iter().collect();
        let (text, ranges) = message(&refs, false);
        assert_eq!(&text[ranges[0].clone()], scripts[0].sql);
        assert_eq!(&text[ranges[1].clone()], scripts[1].sql);
        assert!(text.contains("VALUES (2, 'it''s', "), "{text}");
        assert_eq!(text.matches("COMMIT;\nRESET lock_timeout;").count(), 2);
    }
}
