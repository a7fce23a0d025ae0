//! The adapter between strata and refinery's migration runner. Engines hand
//! over their refinery connection ([`run`]); refinery records each migration's
//! history row in the same transaction as the migration. (PostgreSQL sends
//! several migrations per round trip itself: `driver/postgres/batch.rs`.)

use refinery_core::traits::sync as runner;

use crate::driver::{AppliedMigration, MigrationScript};
use crate::{Error, Result};

/// How an engine classifies the error a migration ended with: its one-line
/// reason, and whether the database rather than the statement is at fault
/// (read-only, disk full, I/O: exit 1, not 4).
pub type Classify<'a> = &'a dyn Fn(&(dyn std::error::Error + 'static)) -> Option<(String, bool)>;

/// Applies `pending` in order with refinery's runner, each migration together
/// with its history row in one transaction ("grouped", targeted at exactly that
/// version), so a crash never leaves a migration applied but unrecorded.
///
/// strata has already read and checked the history under its lock, so refinery
/// is handed that history (`KnownHistory`) instead of re-reading it and
/// re-creating its table before every migration: one round trip per statement,
/// not a dozen per migration.
pub fn run<C: refinery::Migrate>(
    connection: &mut C,
    applied: &[AppliedMigration],
    pending: &[&MigrationScript],
    on_applied: &mut dyn FnMut(&MigrationScript),
    classify: Classify<'_>,
) -> Result<()> {
    let mut known = KnownHistory {
        connection,
        // refinery compares version, name and checksum; the date is not consulted.
        applied: applied
            .iter()
            .map(|a| {
                refinery::Migration::applied(
                    a.version,
                    a.name.clone(),
                    time::OffsetDateTime::UNIX_EPOCH,
                    a.checksum,
                )
            })
            .collect(),
        table_ready: false,
    };
    for script in pending {
        let migration = refinery::Migration::unapplied(&script.stem(), &script.sql)
            .map_err(|error| Error::Database(format!("refinery: {error}")))?;
        let report = refinery::Runner::new(std::slice::from_ref(&migration))
            .set_target(refinery::Target::Version(script.version))
            .set_grouped(true)
            .set_abort_divergent(true)
            // Only this migration is handed over; strata checked the rest of the
            // history against the files (edited, missing, out of order) already.
            .set_abort_missing(false)
            .run(&mut known)
            .map_err(|error| {
                let classified = std::error::Error::source(&error).and_then(classify);
                let (message, by_storage) = classified.unwrap_or_else(|| {
                    let message = std::error::Error::source(&error)
                        .map(ToString::to_string)
                        .unwrap_or_else(|| error.to_string());
                    (message, false)
                });
                // The caller knows the folder and what state the database is in.
                Error::MigrationFailed {
                    file: script.file_name().into(),
                    message,
                    outcome: String::new(),
                    by_storage,
                }
            })?;
        known
            .applied
            .extend(report.applied_migrations().iter().cloned());
        on_applied(script);
    }
    Ok(())
}

/// A connection whose migration history refinery need not read again.
struct KnownHistory<'c, C> {
    connection: &'c mut C,
    applied: Vec<refinery::Migration>,
    table_ready: bool,
}

impl<C: runner::Transaction> runner::Transaction for KnownHistory<'_, C> {
    type Error = C::Error;

    fn execute<'a, T: Iterator<Item = &'a str>>(
        &mut self,
        queries: T,
    ) -> std::result::Result<usize, Self::Error> {
        self.connection.execute(queries)
    }
}

impl<C: runner::Query<Vec<refinery::Migration>>> runner::Query<Vec<refinery::Migration>>
    for KnownHistory<'_, C>
{
    fn query(&mut self, query: &str) -> std::result::Result<Vec<refinery::Migration>, Self::Error> {
        self.connection.query(query)
    }
}

impl<C: refinery::Migrate> refinery::Migrate for KnownHistory<'_, C> {
    fn assert_migrations_table(
        &mut self,
        table: &str,
    ) -> std::result::Result<usize, refinery::Error> {
        if self.table_ready {
            return Ok(0);
        }
        let created = self.connection.assert_migrations_table(table)?;
        self.table_ready = true;
        Ok(created)
    }

    fn get_applied_migrations(
        &mut self,
        _table: &str,
    ) -> std::result::Result<Vec<refinery::Migration>, refinery::Error> {
        Ok(self.applied.clone())
    }
}
