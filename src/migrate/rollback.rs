//! `strata rollback`: run the down files of the newest applied migrations, each
//! in one transaction with the removal of its history row, under the migration
//! lock. A `-- strata: no-transaction` down file (`DROP INDEX CONCURRENTLY`) runs
//! statement by statement instead, its history row removed after the last one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::apply::integrity_problems;
use super::dir::{down_file_name, load_down, load_migrations};
use super::directive;
use crate::driver::{Database, LockGuard, MigrationScript, HISTORY_TABLE};
use crate::script::{self, Kind};
use crate::{Error, Result};

/// The first line of a down file whose steps cannot restore what the migration
/// removed (a dropped column's data): rollback refuses it unless told to.
pub const IRREVERSIBLE_MARK: &str = "-- strata: irreversible";

/// One migration to undo: its version, name, down file and SQL.
#[derive(Debug, Clone)]
pub struct Undo {
    pub version: i32,
    pub name: String,
    /// The migration as its file is named: `V3__add_power`, or a Diesel folder.
    pub stem: String,
    pub down_file: PathBuf,
    pub sql: String,
}

/// How far and how to roll back.
#[derive(Debug, Clone, Copy)]
pub struct RollbackOptions {
    /// Undo the applied migrations newer than this version (default: only the newest).
    pub to: Option<i32>,
    /// Also run down files marked irreversible.
    pub allow_destructive: bool,
    /// Check and show everything, run nothing.
    pub dry_run: bool,
    /// How long to wait for another strata's migration lock.
    pub lock_timeout: Duration,
}

/// What `rollback` undid (or, in a dry run, would undo), newest first, and the
/// version the database is at afterwards.
#[derive(Debug)]
pub struct RollbackReport {
    pub undone: Vec<(Undo, Duration)>,
    pub version: Option<i32>,
}

/// Undoes the applied migrations newer than `to` (default: only the newest),
/// newest first. Everything is checked before anything runs: a migration
/// without a down file, one whose down file is marked irreversible (unless
/// `allow_destructive`), a down file with transaction control, or a migration
/// folder that fails its integrity check stops the rollback with nothing done.
pub fn rollback(
    database: &mut dyn Database,
    folder: &Path,
    options: RollbackOptions,
    on_wait: &mut dyn FnMut(&str),
    on_undone: &mut dyn FnMut(&Undo, Duration),
) -> Result<RollbackReport> {
    let scripts = load_migrations(folder)?;
    let problems = integrity_problems(folder, &scripts)?;
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: nothing was rolled back:\n  {}",
            folder.display(),
            problems.join("\n  ")
        )));
    }
    let mut lock = LockGuard::take(database, options.lock_timeout, on_wait)?;
    let report = rollback_locked(&mut *lock, folder, &scripts, options, on_undone)?;
    lock.release()?;
    Ok(report)
}

fn rollback_locked(
    database: &mut dyn Database,
    folder: &Path,
    scripts: &[MigrationScript],
    options: RollbackOptions,
    on_undone: &mut dyn FnMut(&Undo, Duration),
) -> Result<RollbackReport> {
    let RollbackOptions {
        to,
        allow_destructive,
        dry_run,
        ..
    } = options;
    let mut applied: Vec<i32> = super::apply::applied_migrations(database, scripts)?
        .iter()
        .map(|a| a.version)
        .collect();
    applied.sort_unstable();
    let Some(&newest) = applied.last() else {
        return Err(Error::Refused(format!(
            "{}: no migration is applied, so there is nothing to roll back",
            database.display_url()
        )));
    };
    let to = to.unwrap_or_else(|| applied.iter().rev().nth(1).copied().unwrap_or(0));
    if to >= newest {
        return Err(Error::Usage(format!(
            "--to {to}: the database is at V{newest}; give a version below it"
        )));
    }
    let undos = plan_undos(database, folder, scripts, &applied, to, allow_destructive)?;
    // A Diesel project's down files run through diesel_migrations' harness.
    let mut diesel = match super::diesel::is_diesel(scripts) && !dry_run {
        true => Some(database.diesel_connection()?),
        false => None,
    };
    let mut undone = Vec::new();
    for undo in undos {
        let started = Instant::now();
        if !dry_run {
            match (
                &mut diesel,
                scripts.iter().find(|s| s.version == undo.version),
            ) {
                (Some(connection), Some(script)) => {
                    super::diesel::revert(connection, folder, script)
                        .map_err(|error| undo_failed(error, &undo, &applied))?;
                }
                _ => undo_one(database, &undo, &applied)?,
            }
        }
        let duration = started.elapsed();
        on_undone(&undo, duration);
        undone.push((undo, duration));
    }
    let version = if dry_run {
        Some(newest)
    } else {
        applied.iter().copied().filter(|v| *v <= to).max()
    };
    Ok(RollbackReport { undone, version })
}

fn plan_undos(
    database: &mut dyn Database,
    folder: &Path,
    scripts: &[MigrationScript],
    applied: &[i32],
    to: i32,
    allow_destructive: bool,
) -> Result<Vec<Undo>> {
    let mut undos = Vec::new();
    let mut refusals = Vec::new();
    for version in applied.iter().rev().filter(|v| **v > to) {
        let Some(script) = scripts.iter().find(|s| s.version == *version) else {
            refusals.push(format!(
                "V{version} is applied but its migration file is gone from {}; restore it (and its down file) first",
                folder.display()
            ));
            continue;
        };
        let Some((down_name, sql)) = load_down(folder, script)? else {
            refusals.push(format!(
                "{} has no down file ({}), so it cannot be rolled back; write one that undoes it, then run `strata hash`",
                script.file_name(),
                down_file_name(script)
            ));
            continue;
        };
        let down_file = folder.join(&down_name);
        if is_irreversible(&sql) && !allow_destructive {
            // The comment lines after the directives, up to the first other line.
            let reason: Vec<&str> = sql
                .lines()
                .skip_while(|line| directive::directive(line).is_some())
                .take_while(|line| line.starts_with("--"))
                .map(|line| line.trim_start_matches('-').trim())
                .filter(|line| !line.is_empty())
                .collect();
            refusals.push(format!(
                "{down_name} cannot restore everything {} changed{}; run again with --allow-destructive to roll it back anyway",
                script.file_name(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", reason.join("; "))
                }
            ));
            continue;
        }
        script::check_file(database.engine(), &down_file, &sql, Kind::Migration)?;
        undos.push(Undo {
            version: script.version,
            name: script.name.clone(),
            stem: script.stem(),
            down_file,
            sql,
        });
    }
    if refusals.is_empty() {
        Ok(undos)
    } else {
        Err(Error::Refused(format!(
            "{}: nothing was rolled back:\n  {}",
            database.display_url(),
            refusals.join("\n  ")
        )))
    }
}

/// Whether the down file's leading directives include `-- strata: irreversible`
/// (generated down files put it first; see [`IRREVERSIBLE_MARK`]).
fn is_irreversible(sql: &str) -> bool {
    directive::leading_directives(sql).any(|name| name.eq_ignore_ascii_case("irreversible"))
}

/// The down SQL and the removal of the history row, in one transaction (with
/// foreign keys off on SQLite when the file says so: the reverse of a rebuild).
/// A `-- strata: no-transaction` down file runs statement by statement instead.
fn undo_one(database: &mut dyn Database, undo: &Undo, applied: &[i32]) -> Result<()> {
    let forget = format!(
        "DELETE FROM {HISTORY_TABLE} WHERE version = {};",
        undo.version
    );
    if directive::no_transaction(&undo.sql) {
        return undo_without_transaction(database, undo, &forget);
    }
    let result = database.run_in_write_transaction(&[&undo.sql, &forget]);
    result.map_err(|error| undo_failed(error, undo, applied))
}

/// The error of a down file that failed (its transaction was rolled back).
fn undo_failed(error: Error, undo: &Undo, applied: &[i32]) -> Error {
    {
        let (by_storage, message) = match error {
            Error::MigrationFailed {
                message,
                by_storage,
                ..
            } => (by_storage, message),
            other => (matches!(other, Error::Storage(_)), other.to_string()),
        };
        let at = applied
            .iter()
            .copied()
            .filter(|v| *v <= undo.version)
            .max()
            .map_or("no migration".to_string(), |v| format!("V{v}"));
        Error::MigrationFailed {
            file: undo.down_file.clone(),
            message,
            outcome: format!(
                "the rollback of V{} was itself rolled back; the database is as it was before it (at {at})",
                undo.version
            ),
            by_storage,
        }
    }
}

/// A `-- strata: no-transaction` down file (`DROP INDEX CONCURRENTLY`): each
/// statement runs and commits on its own, as `migrate` runs such an up file, and
/// the history row is deleted only after the last one succeeded. A failure
/// part-way names the statements that ran (they stay done) and keeps the row, so
/// the migration still counts as applied.
fn undo_without_transaction(database: &mut dyn Database, undo: &Undo, forget: &str) -> Result<()> {
    let mut ran = Vec::new();
    let result = database
        .run_without_transaction(&undo.sql, &mut ran)
        .map_err(|error| (error, false))
        .and_then(|()| {
            let mut forgotten = Vec::new();
            database
                .run_without_transaction(forget, &mut forgotten)
                .map_err(|error| (error, true))
        });
    let Err((error, forgetting)) = result else {
        return Ok(());
    };
    let by_storage = matches!(error, Error::Storage(_));
    let file = undo.down_file.file_name().map_or_else(
        || undo.down_file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let describe = |span: &std::ops::Range<usize>| describe_statement(&undo.sql, span.clone());
    let what_ran = match ran.as_slice() {
        [] => "none ran".to_string(),
        [one] => format!("this statement ran and stays done: {}", describe(one)),
        many => format!(
            "these {} statements ran and stay done: {}",
            many.len(),
            many.iter().map(describe).collect::<Vec<_>>().join("; ")
        ),
    };
    let failed = if forgetting {
        format!(
            "every statement ran ({what_ran}), then removing V{}'s history row failed",
            undo.version
        )
    } else {
        // The failing statement is the next one after those that ran.
        let after = ran.last().map_or(0, |span| span.end);
        let failing = crate::script::statements(database.engine(), &undo.sql)
            .find(|statement| statement.span.start >= after)
            .map_or_else(String::new, |statement| {
                format!(" ({})", describe(&statement.span))
            });
        if ran.is_empty() {
            format!("its first statement{failing} failed, so no statement of it ran")
        } else {
            format!("{what_ran}; the next statement{failing} failed, and none after it ran")
        }
    };
    Err(Error::MigrationFailed {
        file: undo.down_file.clone(),
        message: error.to_string(),
        outcome: format!(
            "{file} runs without a transaction (`-- strata: no-transaction`), so each statement \
             committed on its own: {failed}. V{}'s history row is kept, so the database still \
             counts V{} as applied; make the down file safe to run again (IF EXISTS) or undo what \
             ran by hand, then run rollback again",
            undo.version, undo.version
        ),
        by_storage,
    })
}

/// `line N: `first line of the statement`` (shortened), for naming a statement.
fn describe_statement(sql: &str, span: std::ops::Range<usize>) -> String {
    let (line, _) = crate::text::line_column(sql, span.start);
    let text = sql.get(span).unwrap_or_default();
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut shown = words.join(" ");
    if shown.chars().count() > 80 {
        shown = format!("{}…", shown.chars().take(79).collect::<String>());
    }
    format!("line {line}: `{shown}`")
}
