//! `strata migrate` and the migration half of `strata status`.

use std::time::{Duration, Instant};

use super::dir::MigrationFiles;
use crate::driver::{AppliedMigration, Database, LockGuard, MigrationScript};
use crate::script::{self, Kind};
use crate::{Error, Result};

/// One line of status: a migration and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusLine {
    Applied(AppliedMigration),
    Pending(MigrationScript),
    /// Applied, but the file has changed since.
    Changed(AppliedMigration),
    /// Applied, but the file is gone.
    Missing(AppliedMigration),
    /// Not applied, yet older than the newest applied migration.
    OutOfOrder(MigrationScript),
}

#[derive(Debug, Default)]
pub struct MigrationStatus {
    pub lines: Vec<StatusLine>,
}

impl MigrationStatus {
    pub fn pending(&self) -> Vec<&MigrationScript> {
        self.lines
            .iter()
            .filter_map(|line| match line {
                StatusLine::Pending(script) => Some(script),
                _ => None,
            })
            .collect()
    }

    pub fn applied_count(&self) -> usize {
        self.lines
            .iter()
            .filter(|line| matches!(line, StatusLine::Applied(_)))
            .count()
    }

    pub fn current_version(&self) -> Option<i32> {
        self.lines
            .iter()
            .filter_map(|line| match line {
                StatusLine::Applied(applied) | StatusLine::Changed(applied) => {
                    Some(applied.version)
                }
                _ => None,
            })
            .max()
    }

    /// Everything that stops `migrate`, as sentences.
    pub fn problems(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|line| match line {
                StatusLine::Changed(applied) => Some(format!(
                    "V{}__{}.sql was changed after it was applied; restore the applied version \
                     (from version control) and put new work in a new migration",
                    applied.version, applied.name
                )),
                StatusLine::Missing(applied) => Some(format!(
                    "V{}__{}.sql was applied to this database but is missing from the migrations folder; restore it",
                    applied.version, applied.name
                )),
                StatusLine::OutOfOrder(script) => Some(format!(
                    "{} is not applied but is older than migrations that are; give it a version above the newest applied one",
                    script.file_name()
                )),
                _ => None,
            })
            .collect()
    }
}

/// The migration history of `database` for the migrations of a folder: refinery's
/// table, or Diesel's when the migrations are in Diesel's layout.
pub fn applied_migrations(
    database: &mut dyn Database,
    scripts: &[MigrationScript],
) -> Result<Vec<AppliedMigration>> {
    if super::diesel::is_diesel(scripts) {
        super::diesel::applied(database, scripts)
    } else {
        database.applied_migrations()
    }
}

/// Compares the history in the database with the files on disk.
pub fn migration_status(
    applied: &[AppliedMigration],
    scripts: &[MigrationScript],
) -> MigrationStatus {
    let newest_applied = applied.iter().map(|a| a.version).max().unwrap_or(0);
    let mut lines = Vec::new();
    for row in applied {
        let line = match scripts.iter().find(|s| s.version == row.version) {
            Some(script) if same_checksum(script, row.checksum) => StatusLine::Applied(row.clone()),
            Some(_) => StatusLine::Changed(row.clone()),
            None => StatusLine::Missing(row.clone()),
        };
        lines.push(line);
    }
    for script in scripts {
        if applied.iter().any(|a| a.version == script.version) {
            continue;
        }
        lines.push(if script.version < newest_applied {
            StatusLine::OutOfOrder(script.clone())
        } else {
            StatusLine::Pending(script.clone())
        });
    }
    lines.sort_by_key(|line| match line {
        StatusLine::Applied(a) | StatusLine::Changed(a) | StatusLine::Missing(a) => a.version,
        StatusLine::Pending(s) | StatusLine::OutOfOrder(s) => s.version,
    });
    MigrationStatus { lines }
}

/// Whether `script` is what was applied. The byte-order mark is stripped when a
/// file is read, but SQLite used to run (and checksum) files with it, so the
/// checksum of the text with a BOM also counts: adding or removing an invisible
/// BOM is not an edit.
fn same_checksum(script: &MigrationScript, recorded: u64) -> bool {
    checksum(script) == recorded
        || checksum(&MigrationScript {
            sql: format!("{}{}", crate::file_text::BOM, script.sql),
            ..script.clone()
        }) == recorded
}

/// refinery's checksum, so that strata and refinery agree on what "changed" means.
pub fn checksum(script: &MigrationScript) -> u64 {
    // A Diesel migration is checksummed under the name it would have in
    // refinery's layout, so `strata convert` can write refinery's history for it.
    let stem = format!("V{}__{}", script.version, script.name);
    refinery::Migration::unapplied(&stem, &script.sql)
        .map(|migration| migration.checksum())
        .unwrap_or_default()
}

pub struct AppliedEvent<'a> {
    pub script: &'a MigrationScript,
    /// How long applying it took; when `batch` is more than 1, the time of the
    /// one round trip that applied it and the others sent with it (PostgreSQL),
    /// the same figure on each of them: their own times are not known.
    pub duration: Duration,
    /// How many migrations were applied together with it in one round trip
    /// (itself included): 1 when it was applied alone.
    pub batch: usize,
}

/// Applies every pending migration in `folder` up to `target` (all of them with
/// `None`), one transaction each, calling `on_applied` after each. Returns the
/// status before anything was applied.
pub fn migrate(
    database: &mut dyn Database,
    folder: &std::path::Path,
    target: Option<i32>,
    lock_timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
    on_applied: impl FnMut(AppliedEvent<'_>),
) -> Result<MigrationStatus> {
    let files = MigrationFiles::read(folder)?;
    migrate_files(database, &files, target, lock_timeout, on_wait, on_applied)
}

/// [`migrate`] for a folder's files already in memory (read from disk or
/// embedded in an application): the same integrity checks, lock and refusals.
pub fn migrate_files(
    database: &mut dyn Database,
    files: &MigrationFiles,
    target: Option<i32>,
    lock_timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
    mut on_applied: impl FnMut(AppliedEvent<'_>),
) -> Result<MigrationStatus> {
    let scripts = files.scripts()?;
    refuse_tampered(files, &scripts)?;
    // The lock comes before the history is read, so two runners never both see
    // the same migration as pending. The guard releases it on every path.
    let mut locked = LockGuard::take(database, lock_timeout, on_wait)?;
    let status = apply_pending(
        &mut *locked,
        &files.folder,
        &scripts,
        target,
        &mut on_applied,
    )?;
    locked.release()?;
    Ok(status)
}

/// Problems with the integrity file stop `migrate` before it connects: an edited
/// or deleted migration must not reach a database. A folder without an integrity
/// file (hand-written migrations) is not refused; `strata check` reports it.
pub fn integrity_problems(
    folder: &std::path::Path,
    scripts: &[MigrationScript],
) -> Result<Vec<String>> {
    Ok(super::integrity::verify_scripts(folder, scripts)?
        .into_iter()
        .filter(|problem| {
            !matches!(
                problem,
                super::integrity::IntegrityProblem::NoSumFile { .. }
            )
        })
        .map(|problem| problem.to_string())
        .collect())
}

/// [`integrity_problems`] for files in memory.
pub fn integrity_problems_of(files: &MigrationFiles, scripts: &[MigrationScript]) -> Vec<String> {
    super::integrity::verify_files(files, scripts)
        .into_iter()
        .filter(|problem| {
            !matches!(
                problem,
                super::integrity::IntegrityProblem::NoSumFile { .. }
            )
        })
        .map(|problem| problem.to_string())
        .collect()
}

fn refuse_tampered(files: &MigrationFiles, scripts: &[MigrationScript]) -> Result<()> {
    let problems = integrity_problems_of(files, scripts);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "{}: nothing was applied:\n  {}",
        files.folder.display(),
        problems.join("\n  ")
    )))
}

/// `migrate --dry-run`: what `migrate` would apply now, read under the migration
/// lock (so another runner's work in progress is not shown as pending), with the
/// same refusals; nothing is applied. `None`: the database does not exist yet,
/// so every migration is pending.
pub fn pending_migrations(
    database: Option<&mut dyn Database>,
    folder: &std::path::Path,
    lock_timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
) -> Result<MigrationStatus> {
    let files = MigrationFiles::read(folder)?;
    let scripts = files.scripts()?;
    refuse_tampered(&files, &scripts)?;
    let Some(database) = database else {
        return Ok(migration_status(&[], &scripts));
    };
    let mut locked = LockGuard::take(database, lock_timeout, on_wait)?;
    let applied = applied_migrations(&mut *locked, &scripts)?;
    let status = migration_status(&applied, &scripts);
    let problems = status.problems();
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: nothing would be applied:\n  {}",
            locked.display_url(),
            problems.join("\n  ")
        )));
    }
    locked.release()?;
    Ok(status)
}

fn apply_pending(
    database: &mut dyn Database,
    folder: &std::path::Path,
    scripts: &[MigrationScript],
    target: Option<i32>,
    on_applied: &mut impl FnMut(AppliedEvent<'_>),
) -> Result<MigrationStatus> {
    let applied = applied_migrations(database, scripts)?;
    let status = migration_status(&applied, scripts);
    let problems = status.problems();
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: nothing was applied:\n  {}",
            database.display_url(),
            problems.join("\n  ")
        )));
    }
    let mut pending = status.pending();
    // Building a database with pinned patches stops at each pin.
    pending.retain(|script| target.is_none_or(|target| script.version <= target));
    // Every pending file is checked before the first one runs, so a refused file
    // leaves the database and its history as they were.
    for script in &pending {
        script::check_file(
            database.engine(),
            &folder.join(script.file_name()),
            &script.sql,
            Kind::Migration,
        )?;
    }
    let diesel = super::diesel::is_diesel(scripts);
    let all_or_nothing = !diesel && database.all_or_nothing(&applied, &pending);
    let mut done = 0;
    let mut on_batch = |group: &[&MigrationScript], duration: Duration| {
        for script in group {
            done += 1;
            on_applied(AppliedEvent {
                script,
                duration,
                batch: group.len(),
            });
        }
    };
    let result = if diesel {
        // A Diesel project's migrations run through diesel_migrations (its own
        // connection), while strata's connection holds the lock.
        let mut started = Instant::now();
        match database.diesel_connection() {
            Ok(mut connection) => {
                super::diesel::run(&mut connection, folder, &pending, &mut |script| {
                    on_batch(&[script], started.elapsed());
                    started = Instant::now();
                })
            }
            Err(error) => Err(error),
        }
    } else {
        database.apply_migrations_batched(&applied, &pending, &mut on_batch)
    };
    match result {
        Err(Error::MigrationFailed {
            message,
            by_storage,
            outcome: known_outcome,
            ..
        }) => {
            let failed = pending[done.min(pending.len() - 1)];
            let before = if done > 0 {
                format!("at V{}", pending[done - 1].version)
            } else {
                match status.current_version() {
                    Some(version) => format!("at V{version}"),
                    None => "no migration applied".to_string(),
                }
            };
            // The engine may know better (a lost connection: what committed is unknown).
            let outcome = if !known_outcome.is_empty() {
                known_outcome
            } else if all_or_nothing {
                "the new database got every migration in one transaction, so nothing was \
                 applied and the database file was removed"
                    .to_string()
            } else if super::directive::no_transaction(&failed.sql) {
                // Its statements were committed one by one (`-- strata: no-transaction`).
                format!(
                    "{} runs without a transaction (`-- strata: no-transaction`), so the \
                     statements before the failing one stay applied, and it is not recorded as \
                     applied (the history is {before}); make the file safe to run again (IF NOT \
                     EXISTS) or undo them by hand before retrying. A failed CREATE INDEX \
                     CONCURRENTLY leaves an INVALID index behind: drop it before retrying",
                    failed.file_name()
                )
            } else {
                format!(
                    "{} was rolled back; the database is as it was before it ({before})",
                    failed.file_name()
                )
            };
            // `by_storage`: the database, not the migration, is at fault (exit 1, not 4).
            return Err(Error::MigrationFailed {
                file: folder.join(failed.file_name()),
                message,
                outcome,
                by_storage,
            });
        }
        other => other?,
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite ran BOM-prefixed migrations before the BOM was stripped on reading,
    /// and recorded the checksum of the text with it: that history must still match.
    #[test]
    fn a_checksum_recorded_with_a_bom_still_matches() {
        let script = MigrationScript {
            version: 2,
            name: "sidekick".into(),
            sql: "CREATE TABLE sidekick (id INTEGER);\n".into(),
            dir: None,
        };
        let with_bom = MigrationScript {
            sql: format!("\u{FEFF}{}", script.sql),
            ..script.clone()
        };
        assert!(same_checksum(&script, checksum(&with_bom)));
        assert!(same_checksum(&script, checksum(&script)));
        let edited = MigrationScript {
            sql: "CREATE TABLE sidekick (id BIGINT);\n".into(),
            ..script.clone()
        };
        assert!(!same_checksum(&script, checksum(&edited)));
    }
}
