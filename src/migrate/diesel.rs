//! The adapter between strata and diesel_migrations, parallel to refinery's in
//! [`super::runner`]: in a Diesel project (`[project] layout = "diesel"`)
//! migrations run through Diesel's own `FileBasedMigrations` and
//! `MigrationHarness`, so the history is Diesel's `__diesel_schema_migrations`
//! and `diesel migration run`, `diesel migration revert` and an application's
//! `embed_migrations!` see the same state as strata.
//!
//! Engines hand over a [`DieselConnection`] to the same database (a second
//! connection: strata's own keeps holding the migration lock meanwhile). The
//! history is read with strata's connection ([`applied`]), so `status` never
//! creates Diesel's table.

use std::path::Path;

use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

use super::layout::DIESEL_HISTORY_TABLE;
use crate::driver::{AppliedMigration, Database, MigrationScript, SqlValue, HISTORY_TABLE};
use crate::{Error, Result};

/// A Diesel connection to one of the engines Diesel supports.
pub enum DieselConnection {
    /// A SQLite file.
    Sqlite(SqliteConnection),
    /// A PostgreSQL database (libpq).
    Postgres(PgConnection),
}

impl DieselConnection {
    /// Opens a SQLite file with Diesel.
    pub fn sqlite(path: &Path) -> Result<Self> {
        let text = path.to_string_lossy();
        let mut connection = SqliteConnection::establish(&text).map_err(|error| {
            Error::Database(format!("Diesel: cannot open {}: {error}", path.display()))
        })?;
        // As strata's own SQLite connection: wait for a writer instead of failing.
        diesel::sql_query("PRAGMA busy_timeout = 5000")
            .execute(&mut connection)
            .map_err(|error| Error::Database(format!("Diesel: {error}")))?;
        Ok(DieselConnection::Sqlite(connection))
    }

    /// Connects to PostgreSQL with Diesel (libpq); `display` is the URL with its
    /// password masked, for messages.
    pub fn postgres(url: &str, display: &str) -> Result<Self> {
        PgConnection::establish(url)
            .map(DieselConnection::Postgres)
            .map_err(|error| Error::Connection {
                database: display.to_string(),
                message: format!("Diesel cannot connect to {display}: {error}"),
                source: None,
            })
    }
}

/// Whether these migrations are in Diesel's layout.
pub fn is_diesel(scripts: &[MigrationScript]) -> bool {
    scripts.iter().any(|script| script.dir.is_some())
}

/// The rows of Diesel's history table, `(version, run_on)` oldest first, read
/// with strata's connection; `None` when the table does not exist.
pub fn history_rows(database: &mut dyn Database) -> Result<Option<Vec<(String, String)>>> {
    let mut transaction = database.begin_read()?;
    if !transaction.table_exists(DIESEL_HISTORY_TABLE)? {
        return Ok(None);
    }
    let rows = transaction.query(
        &format!(
            "SELECT version, CAST(run_on AS TEXT) FROM {DIESEL_HISTORY_TABLE} ORDER BY version"
        ),
        &[],
    )?;
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [SqlValue::Text(version), run_on] => Ok((
                version.clone(),
                match run_on {
                    SqlValue::Text(text) => text.clone(),
                    _ => String::new(),
                },
            )),
            other => Err(Error::Database(format!(
                "{DIESEL_HISTORY_TABLE}: a row holds {other:?} instead of a version (text) and \
                 its run_on time; the table was edited by hand or by another tool"
            ))),
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Diesel's history as strata's [`AppliedMigration`]s: each recorded version is
/// matched to the migration folder with that version (numbered as the folder's
/// position). Diesel records no checksum; strata.sum guards the files instead.
/// A recorded version without a folder becomes a migration numbered after the
/// folders, named by its version, so `status` reports it as missing.
///
/// A history still in refinery's table is refused: `strata convert` moves it.
pub fn applied(
    database: &mut dyn Database,
    scripts: &[MigrationScript],
) -> Result<Vec<AppliedMigration>> {
    let rows = history_rows(database)?.unwrap_or_default();
    if rows.is_empty()
        && database
            .history_rows()?
            .is_some_and(|rows| !rows.is_empty())
    {
        return Err(Error::Refused(format!(
            "{}: its migration history is in {HISTORY_TABLE} (refinery's layout), but the \
             project's migrations are in Diesel's layout; run `strata convert --to diesel` \
             with this database to move the history to {DIESEL_HISTORY_TABLE}",
            database.display_url()
        )));
    }
    let mut unknown = scripts.len() as i32;
    let mut applied: Vec<AppliedMigration> = rows
        .into_iter()
        .map(|(version, run_on)| {
            match scripts
                .iter()
                .find(|script| script.diesel_version().as_deref() == Some(version.as_str()))
            {
                Some(script) => AppliedMigration {
                    version: script.version,
                    name: script.name.clone(),
                    checksum: super::apply::checksum(script),
                    applied_on: run_on,
                },
                None => {
                    unknown += 1;
                    AppliedMigration {
                        version: unknown,
                        name: version,
                        checksum: 0,
                        applied_on: run_on,
                    }
                }
            }
        })
        .collect();
    applied.sort_by_key(|migration| migration.version);
    Ok(applied)
}

/// Runs `pending` in order with diesel_migrations' harness, each in its own
/// transaction with its history row unless its `metadata.toml` says
/// `run_in_transaction = false`, calling `on_applied` after each.
pub fn run(
    connection: &mut DieselConnection,
    folder: &Path,
    pending: &[&MigrationScript],
    on_applied: &mut dyn FnMut(&MigrationScript),
) -> Result<()> {
    match connection {
        DieselConnection::Sqlite(connection) => {
            run_sqlite(connection, folder, pending, on_applied, Direction::Up)
        }
        DieselConnection::Postgres(connection) => {
            run_with(connection, folder, pending, on_applied, Direction::Up)
        }
    }
}

/// Reverts `script` (the newest applied migration) with its `down.sql` through
/// the harness, which deletes its history row in the same transaction.
pub fn revert(
    connection: &mut DieselConnection,
    folder: &Path,
    script: &MigrationScript,
) -> Result<()> {
    let mut ignore = |_: &MigrationScript| {};
    match connection {
        DieselConnection::Sqlite(connection) => {
            run_sqlite(connection, folder, &[script], &mut ignore, Direction::Down)
        }
        DieselConnection::Postgres(connection) => {
            run_with(connection, folder, &[script], &mut ignore, Direction::Down)
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Up,
    Down,
}

fn run_with<DB, C>(
    connection: &mut C,
    folder: &Path,
    scripts: &[&MigrationScript],
    on_done: &mut dyn FnMut(&MigrationScript),
    direction: Direction,
) -> Result<()>
where
    DB: Backend,
    C: MigrationHarness<DB> + Connection<Backend = DB>,
    FileBasedMigrations: MigrationSource<DB>,
{
    let source = FileBasedMigrations::from_path(folder)
        .map_err(|error| Error::Database(format!("Diesel: {}: {error}", folder.display())))?;
    let migrations = MigrationSource::<DB>::migrations(&source)
        .map_err(|error| Error::Database(format!("Diesel: {}: {error}", folder.display())))?;
    // Creates Diesel's history table when it is missing, as `diesel migration run` does.
    connection
        .applied_migrations()
        .map_err(|error| Error::Database(format!("Diesel: {error}")))?;
    for script in scripts {
        let dir = script.stem();
        let migration = migrations
            .iter()
            .find(|migration| migration.name().to_string() == dir)
            .ok_or_else(|| Error::InvalidFile {
                path: folder.join(&dir),
                message: "diesel_migrations does not see this migration folder".to_string(),
            })?;
        let result = match direction {
            Direction::Up => connection.run_migration(&**migration).map(|_| ()),
            Direction::Down => connection.revert_migration(&**migration).map(|_| ()),
        };
        result.map_err(|error| failed(script, &error.to_string()))?;
        on_done(script);
    }
    Ok(())
}

/// [`run_with`] on SQLite, one migration at a time: a file that starts with
/// `-- strata: foreign-keys-off` (a table rebuild) runs with foreign keys off,
/// since `PRAGMA foreign_keys` is a no-op inside the transaction Diesel opens;
/// the keys are checked before they are switched back on.
fn run_sqlite(
    connection: &mut SqliteConnection,
    folder: &Path,
    scripts: &[&MigrationScript],
    on_done: &mut dyn FnMut(&MigrationScript),
    direction: Direction,
) -> Result<()> {
    for script in scripts {
        let sql = match direction {
            Direction::Up => script.sql.clone(),
            Direction::Down => super::dir::load_down(folder, script)?
                .map(|(_, sql)| sql)
                .unwrap_or_default(),
        };
        if !super::directive::foreign_keys_off(&sql) {
            run_with(connection, folder, &[script], on_done, direction)?;
            continue;
        }
        pragma(connection, "PRAGMA foreign_keys = OFF")?;
        let result = run_with(connection, folder, &[script], on_done, direction);
        let violations = foreign_key_violations(connection);
        pragma(connection, "PRAGMA foreign_keys = ON")?;
        result?;
        if violations > 0 {
            return Err(failed(
                script,
                &format!(
                    "{violations} row(s) violate a foreign key after it ran (PRAGMA foreign_key_check)"
                ),
            ));
        }
    }
    Ok(())
}

fn pragma(connection: &mut SqliteConnection, sql: &str) -> Result<()> {
    connection
        .batch_execute(sql)
        .map_err(|error| Error::Database(format!("Diesel: {sql}: {error}")))
}

fn foreign_key_violations(connection: &mut SqliteConnection) -> usize {
    #[derive(diesel::QueryableByName)]
    struct Violation {
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[allow(dead_code)]
        table: String,
    }
    diesel::sql_query("PRAGMA foreign_key_check")
        .load::<Violation>(connection)
        .map(|rows| rows.len())
        .unwrap_or(0)
}

fn failed(script: &MigrationScript, message: &str) -> Error {
    Error::MigrationFailed {
        file: script.file_name().into(),
        message: message.to_string(),
        outcome: String::new(),
        by_storage: false,
    }
}
