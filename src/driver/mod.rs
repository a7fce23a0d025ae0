//! The traits every database implements, and the shared types that cross them.
//! Each engine lives in its own folder; nothing outside `driver/` knows SQL dialects.

pub(crate) mod ddl;
mod patch_history;
pub mod postgres;
pub mod sqlite;
pub(crate) mod url;
mod value;

pub use patch_history::{
    ensure as ensure_patch_history, read as read_patch_history, record as record_patch,
    AppliedPatch,
};
pub use url::DatabaseUrl;
pub use value::SqlValue;

use std::time::Duration;

use refinery_core::traits::sync as runner;

use crate::schema::{Change, Schema, Type};
use crate::Result;

/// refinery's migration history table, in every dialect.
pub const HISTORY_TABLE: &str = "refinery_schema_history";

/// Set when Ctrl-C arrived while a driver was cleaning up after itself (scratch
/// databases); the command then exits 130 whatever error the interruption caused.
pub static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// One migration file, as the driver needs it: no paths, no parsing left to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationScript {
    pub version: i32,
    pub name: String,
    pub sql: String,
}

impl MigrationScript {
    /// `V3__add_hero_power`, the name refinery and the history table use.
    pub fn stem(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }

    pub fn file_name(&self) -> String {
        format!("{}.sql", self.stem())
    }
}

/// A row of the migration history in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
    pub checksum: u64,
    pub applied_on: String,
}

/// A change the planner of a dialect cannot turn into SQL (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub change: String,
    pub reason: String,
}

/// What a dialect knows without a user database: SQL for changes, and the schema
/// that a list of migrations builds.
pub trait Dialect {
    /// The folder name under `migrations/`.
    fn name(&self) -> &'static str;

    /// The SQL statements (each ending in `;`) for `changes`, or every change
    /// that cannot be planned.
    fn plan(&self, changes: &[Change]) -> Result<Vec<String>, Vec<Unsupported>>;

    /// The schema the scripts build when run in order on an empty database, or
    /// `None` when this dialect cannot replay them here (PostgreSQL without a dev
    /// database); `dev_url` is a server where scratch databases may be created.
    fn replay(
        &self,
        scripts: &[MigrationScript],
        dev_url: Option<&DatabaseUrl>,
    ) -> Result<Option<Schema>>;
}

/// A live database.
pub trait Database {
    /// Whose SQL this database reads (for checking scripts before they run).
    fn engine(&self) -> crate::script::Engine;

    /// The URL, with any password masked, for messages.
    fn display_url(&self) -> String;

    fn inspect(&mut self) -> Result<Schema>;

    /// The migration history, oldest first; empty when no migration ever ran.
    fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>>;

    /// Applies `pending` in order, each in one transaction together with its
    /// history row, calling `on_applied` after each. `applied` is the history as
    /// read under the migration lock. A migration that fails is rolled back (the
    /// database is as it was before it) and ends the run with
    /// [`crate::Error::MigrationFailed`].
    fn apply_migrations(
        &mut self,
        applied: &[AppliedMigration],
        pending: &[&MigrationScript],
        on_applied: &mut dyn FnMut(&MigrationScript),
    ) -> Result<()>;

    /// Whether `apply_migrations` after `applied` runs every pending migration in
    /// one transaction (a SQLite file this connection created): a failure then
    /// undoes all of them and the new file is removed.
    fn all_or_nothing(&self, _applied: &[AppliedMigration]) -> bool {
        false
    }

    /// Takes the migration lock, waiting at most `timeout` for another strata to
    /// release it (`on_wait` is told once who holds it). Held until `unlock` or
    /// until the connection closes, so a killed strata never leaves it behind.
    fn lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<()>;

    fn unlock(&mut self) -> Result<()>;

    /// Starts a transaction that holds strata's lock (the migration lock) and the
    /// database's write lock from its first statement, so that two strata processes
    /// never both apply the same patch. Waits at most `timeout` for another strata,
    /// telling `on_wait` once who holds the lock, as [`Database::lock`] does.
    fn begin_exclusive(
        &mut self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Box<dyn Transaction + '_>>;

    /// Starts a read-only transaction that takes no lock of strata's, so reading
    /// history never waits for a running migration or patch.
    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// The patch history, oldest first; empty when no patch ever ran. A plain
    /// read: `status` answers at once while another strata holds the lock.
    fn applied_patches(&mut self) -> Result<Vec<AppliedPatch>> {
        let mut transaction = self.begin_read()?;
        patch_history::read(transaction.as_mut())
    }
}

/// An open transaction. Dropping it without `commit` rolls it back.
pub trait Transaction {
    /// The `n`-th (1-based) bound-parameter placeholder of this dialect, for a
    /// value going into a column of type `ty` when that is known.
    fn placeholder(&self, n: usize, ty: Option<&Type>) -> String;

    /// How many bound parameters one statement may have (multi-row INSERTs are
    /// cut to fit). 999 is what every SQLite build accepts.
    fn max_parameters(&self) -> usize {
        999
    }

    /// Runs a statement that returns rows.
    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>>;

    /// Runs a statement and returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64>;

    /// Runs several statements without parameters; returns rows changed if known.
    fn execute_script(&mut self, sql: &str) -> Result<Option<u64>>;

    /// Whether a table exists (the patch history, say).
    fn table_exists(&mut self, name: &str) -> Result<bool>;

    fn commit(self: Box<Self>) -> Result<()>;
}

/// The dialect of a name listed in `[project] dialects`.
pub fn dialect(name: &str) -> Option<Box<dyn Dialect>> {
    match name {
        "sqlite" => Some(Box::new(sqlite::SqliteDialect)),
        "postgres" => Some(Box::new(postgres::PostgresDialect)),
        _ => None,
    }
}

/// Settings for a connection that the command line may change.
#[derive(Debug, Clone, Copy)]
pub struct ConnectOptions {
    /// How long one DDL statement may wait for a table lock (PostgreSQL).
    pub ddl_lock_timeout: Duration,
    /// How long to wait for a lock another process holds: strata's lock, and on
    /// SQLite the database's write lock (its busy timeout).
    pub lock_timeout: Duration,
}

/// `--lock-timeout`'s default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            ddl_lock_timeout: postgres::DEFAULT_DDL_LOCK_TIMEOUT,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

/// Opens the database at `url` (a SQLite file is created when missing).
pub fn connect(url: &DatabaseUrl, options: ConnectOptions) -> Result<Box<dyn Database>> {
    match url {
        DatabaseUrl::Sqlite(target) => Ok(Box::new(sqlite::SqliteDatabase::open_waiting(
            target,
            options.lock_timeout,
        )?)),
        DatabaseUrl::Postgres(text) => Ok(Box::new(postgres::PostgresDatabase::connect(
            text,
            options.ddl_lock_timeout,
        )?)),
    }
}

/// Double-quotes an identifier, doubling embedded quotes. Every name strata writes
/// into SQL goes through here, so reserved words and odd names always work.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Single-quotes a string literal, doubling embedded quotes.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Applies `pending` in order with refinery's runner, each migration together
/// with its history row in one transaction ("grouped", targeted at exactly that
/// version), so a crash never leaves a migration applied but unrecorded.
///
/// strata has already read and checked the history under its lock, so refinery
/// is handed that history ([`KnownHistory`]) instead of re-reading it and
/// re-creating its table before every migration: one round trip per statement,
/// not a dozen per migration.
fn run_migrations<C: refinery::Migrate>(
    connection: &mut C,
    applied: &[AppliedMigration],
    pending: &[&MigrationScript],
    on_applied: &mut dyn FnMut(&MigrationScript),
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
            .map_err(|error| crate::Error::Database(format!("refinery: {error}")))?;
        let report = refinery::Runner::new(std::slice::from_ref(&migration))
            .set_target(refinery::Target::Version(script.version))
            .set_grouped(true)
            .set_abort_divergent(true)
            // Only this migration is handed over; strata checked the rest of the
            // history against the files (edited, missing, out of order) already.
            .set_abort_missing(false)
            .run(&mut known)
            .map_err(|error| {
                let source = std::error::Error::source(&error);
                let pg = source.and_then(|s| s.downcast_ref::<::postgres::Error>());
                let lite = source.and_then(|s| s.downcast_ref::<rusqlite::Error>());
                let reason = match pg {
                    Some(pg) => postgres::one_line(pg),
                    None => source
                        .map(ToString::to_string)
                        .unwrap_or_else(|| error.to_string()),
                };
                // The database's fault (read-only, disk full, I/O): exit 1, not 4.
                if pg.is_some_and(postgres::is_storage_error)
                    || lite.is_some_and(sqlite::is_storage_error)
                {
                    crate::Error::Storage(reason)
                } else {
                    crate::Error::MigrationFailed(reason)
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
