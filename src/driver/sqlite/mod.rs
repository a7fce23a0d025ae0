//! SQLite: the embedded default. rusqlite talks to it; refinery runs migrations.

mod inspect;
mod plan;
mod types;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{AppliedMigration, Database, Dialect, MigrationScript, Unsupported};
use crate::schema::{Change, Schema};
use crate::{Error, Result};

pub const HISTORY_TABLE: &str = "refinery_schema_history";

pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn plan(&self, changes: &[Change]) -> Result<Vec<String>, Vec<Unsupported>> {
        plan::plan(changes)
    }

    fn replay(&self, scripts: &[MigrationScript]) -> Result<Schema> {
        let connection = Connection::open_in_memory().map_err(database_error)?;
        configure(&connection)?;
        for script in scripts {
            connection
                .execute_batch(&script.sql)
                .map_err(|error| Error::InvalidFile {
                    path: Path::new("migrations")
                        .join(self.name())
                        .join(script.file_name()),
                    message: format!(
                    "replaying the migrations on an empty SQLite database failed here: {error}; \
                     fix the file so the history replays"
                ),
                })?;
        }
        inspect::inspect(&connection).map_err(database_error)
    }
}

pub struct SqliteDatabase {
    connection: Connection,
    path: Option<PathBuf>,
}

fn database_error(error: rusqlite::Error) -> Error {
    Error::Database(format!("SQLite: {error}"))
}

/// Settings every connection strata opens gets.
fn configure(connection: &Connection) -> Result<()> {
    connection
        .execute_batch("PRAGMA foreign_keys = ON;")
        .map_err(database_error)?;
    // Another strata (or the application) may hold the write lock for a moment.
    connection
        .busy_timeout(Duration::from_secs(30))
        .map_err(database_error)
}

impl SqliteDatabase {
    /// Opens `path` (creating the file if missing), or an in-memory database.
    pub fn open(path: &Option<PathBuf>) -> Result<Self> {
        let connection = match path {
            None => Connection::open_in_memory(),
            Some(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    if !parent.is_dir() {
                        return Err(Error::Database(format!(
                            "cannot create {}: the folder {} does not exist",
                            path.display(),
                            parent.display()
                        )));
                    }
                }
                Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_CREATE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
            }
        }
        .map_err(|error| match path {
            Some(path) => Error::Database(format!("cannot open {}: {error}", path.display())),
            None => database_error(error),
        })?;
        configure(&connection)?;
        // Opening does not read the file; this fails early on a file that is not SQLite.
        connection
            .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .map_err(|error| match path {
                Some(path) => Error::Database(format!(
                    "{} is not a usable SQLite database: {error}",
                    path.display()
                )),
                None => database_error(error),
            })?;
        Ok(SqliteDatabase {
            connection,
            path: path.clone(),
        })
    }

    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }

    fn has_history_table(&self) -> Result<bool> {
        self.connection
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [HISTORY_TABLE],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count > 0)
            .map_err(database_error)
    }
}

impl Database for SqliteDatabase {
    fn display_url(&self) -> String {
        match &self.path {
            Some(path) => format!("sqlite:{}", path.display()),
            None => "sqlite::memory:".to_string(),
        }
    }

    fn inspect(&mut self) -> Result<Schema> {
        inspect::inspect(&self.connection).map_err(database_error)
    }

    fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>> {
        if !self.has_history_table()? {
            return Ok(Vec::new());
        }
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT version, name, applied_on, checksum FROM {HISTORY_TABLE} ORDER BY version"
            ))
            .map_err(database_error)?;
        let rows = statement
            .query_map([], |row| {
                Ok(AppliedMigration {
                    version: row.get(0)?,
                    name: row.get(1)?,
                    applied_on: row.get(2)?,
                    checksum: row.get::<_, String>(3)?.parse().unwrap_or_default(),
                })
            })
            .map_err(database_error)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(database_error)
    }

    fn apply_migration(&mut self, all: &[MigrationScript], script: &MigrationScript) -> Result<()> {
        let migrations = all
            .iter()
            .map(|s| refinery::Migration::unapplied(&s.stem(), &s.sql))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| Error::Database(format!("refinery: {error}")))?;
        refinery::Runner::new(&migrations)
            .set_target(refinery::Target::Version(script.version))
            .set_abort_divergent(true)
            .run(&mut self.connection)
            .map(|_| ())
            .map_err(|error| {
                let reason = std::error::Error::source(&error)
                    .map(ToString::to_string)
                    .unwrap_or_else(|| error.to_string());
                Error::MigrationFailed(reason)
            })
    }
}
