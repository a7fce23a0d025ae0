//! The traits every database implements, and the shared types that cross them.
//! Each engine lives in its own folder; nothing outside `driver/` knows SQL dialects.

pub(crate) mod ddl;
mod lock;
mod object_ddl;
mod patch_history;
mod plan;
pub mod postgres;
pub mod registry;
pub mod sqlite;
mod statements;
pub(crate) mod url;
mod value;

pub use lock::LockGuard;
pub use patch_history::{
    ensure as ensure_patch_history, ensure_and_read as ensure_and_read_patch_history,
    read as read_patch_history, record as record_patch, AppliedPatch,
};
pub use plan::{Plan, Reverse, Step};
pub use registry::{dialect_names, Engine, ENGINES};
pub use statements::Condition;
pub use url::DatabaseUrl;
pub use value::SqlValue;

use std::time::Duration;

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
    /// strata's number for it: refinery's version, or for a Diesel migration its
    /// position in the folder (1 for the oldest).
    pub version: i32,
    pub name: String,
    pub sql: String,
    /// A Diesel migration's folder, `2026-11-25-230000_add_hero_power`
    /// (`[project] layout = "diesel"`); `None` in refinery's layout.
    pub dir: Option<String>,
}

impl MigrationScript {
    /// `V3__add_hero_power`, the name refinery and the history table use; a
    /// Diesel migration's folder name.
    pub fn stem(&self) -> String {
        match &self.dir {
            Some(dir) => dir.clone(),
            None => format!("V{}__{}", self.version, self.name),
        }
    }

    /// The file inside the migrations folder: `V3__add_hero_power.sql`, or
    /// `2026-11-25-230000_add_hero_power/up.sql`.
    pub fn file_name(&self) -> String {
        match &self.dir {
            Some(dir) => format!("{dir}/{}", crate::migrate::layout::UP_FILE),
            None => format!("{}.sql", self.stem()),
        }
    }

    /// The version Diesel records for it (`20261125230000`), for a Diesel migration.
    pub fn diesel_version(&self) -> Option<String> {
        self.dir
            .as_deref()
            .map(crate::migrate::layout::recorded_version)
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

    /// The steps that carry out `changes` (the diff from `current` to `target`) in
    /// order, each with its SQL, what it does, its reverse and whether it may run
    /// in a transaction; or every change that cannot be planned. The schemas are
    /// there for changes that need a table's whole shape (SQLite's rebuild).
    fn plan(
        &self,
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<Plan, Vec<Unsupported>>;

    /// [`Dialect::plan`] for a database nobody uses yet (a new dialect's
    /// catch-up migrations): no online-safe forms, every step in the
    /// transaction, as each catch-up is one file at a version of its own.
    fn plan_unused(
        &self,
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<Plan, Vec<Unsupported>> {
        self.plan(current, target, changes)
    }

    /// Whether the engine stores comments on tables and columns. SQLite has
    /// none: schema.toml's comments are left out of what is compared for it.
    fn keeps_comments(&self) -> bool {
        true
    }

    /// A statement every generated migration (and down file) of this dialect
    /// runs before its steps, written into the file itself so that any tool
    /// running the file gets it (PostgreSQL: `SET lock_timeout`, from
    /// `generate --ddl-lock-timeout`).
    fn file_preamble(&self, _ddl_lock_timeout: std::time::Duration) -> Option<String> {
        None
    }

    /// The schema the scripts build when run in order on an empty database, or
    /// `None` when this dialect cannot replay them here (PostgreSQL without a dev
    /// database); `dev_url` is a server where scratch databases may be created.
    fn replay(
        &self,
        scripts: &[MigrationScript],
        dev_url: Option<&DatabaseUrl>,
    ) -> Result<Option<Schema>>;

    /// Runs `new` (migrations not written yet) on top of `history` in a scratch
    /// database, as `migrate` would run them, so a migration the engine rejects
    /// is found before it is written: [`crate::Error::MigrationFailed`] naming
    /// it, with the engine's message. `Ok(false)` when this dialect has no
    /// scratch database here (PostgreSQL without a dev database; SQLite, whose
    /// test-apply would cost a replay the replay cache exists to avoid).
    fn test_apply(
        &self,
        _history: &[MigrationScript],
        _new: &[MigrationScript],
        _dev_url: Option<&DatabaseUrl>,
    ) -> Result<bool> {
        Ok(false)
    }
}

/// A live database.
pub trait Database {
    /// Whose SQL this database reads (for checking scripts before they run).
    fn engine(&self) -> crate::script::Engine;

    /// The URL, with any password masked, for messages.
    fn display_url(&self) -> String;

    fn inspect(&mut self) -> Result<Schema>;

    /// [`Database::inspect`] for `pull` and `baseline`, with every object of the
    /// database the model leaves out, named (read from the catalogs in bulk).
    fn inspect_with_unmanaged(&mut self) -> Result<(Schema, Vec<crate::schema::Unmanaged>)>;

    /// The migration history, oldest first; empty when no migration ever ran.
    /// The rows come from [`Database::history_rows`] and are checked by
    /// `migrate::history`, the same for every engine; a malformed row is an
    /// error naming it.
    fn applied_migrations(&mut self) -> Result<Vec<AppliedMigration>> {
        match self.history_rows()? {
            Some(rows) => crate::migrate::history::parse_rows(&rows),
            None => Ok(Vec::new()),
        }
    }

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

    /// [`Database::apply_migrations`] for engines that apply several migrations
    /// in one round trip (PostgreSQL): `on_batch` hears each group applied
    /// together and the time that group took, which its members share. Each
    /// migration is still all or nothing. By default, one migration at a time.
    fn apply_migrations_batched(
        &mut self,
        applied: &[AppliedMigration],
        pending: &[&MigrationScript],
        on_batch: &mut dyn FnMut(&[&MigrationScript], Duration),
    ) -> Result<()> {
        let mut started = std::time::Instant::now();
        self.apply_migrations(applied, pending, &mut |script| {
            on_batch(&[script], started.elapsed());
            started = std::time::Instant::now();
        })
    }

    /// A second connection to this database, Diesel's, for a Diesel project's
    /// migrations (`migrate::diesel`); strata's own connection keeps holding
    /// the migration lock meanwhile. Engines Diesel cannot drive refuse.
    fn diesel_connection(&self) -> Result<crate::migrate::diesel::DieselConnection> {
        Err(crate::Error::Usage(format!(
            "{}: Diesel cannot run migrations on this database; use refinery's layout \
             (`[project] layout = \"refinery\"`)",
            self.display_url()
        )))
    }

    /// Whether `apply_migrations` after `applied` runs every pending migration in
    /// one transaction (a SQLite file this connection created): a failure then
    /// undoes all of them and the new file is removed.
    fn all_or_nothing(&self, _applied: &[AppliedMigration], _pending: &[&MigrationScript]) -> bool {
        false
    }

    /// Takes the migration lock, waiting at most `timeout` for another strata to
    /// release it (`on_wait` is told once who holds it). Held until
    /// `release_lock` or until the connection closes, so a killed strata never
    /// leaves it behind. Callers use [`LockGuard::take`], which releases it on drop.
    fn take_lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<()>;

    /// Releases what `take_lock` took; only [`LockGuard`] calls it.
    fn release_lock(&mut self) -> Result<()>;

    /// Starts a transaction that holds strata's lock (the migration lock) and the
    /// database's write lock from its first statement, so that two strata processes
    /// never both apply the same patch. Waits at most `timeout` for another strata,
    /// telling `on_wait` once who holds the lock, as `Database::lock` does.
    fn begin_exclusive(
        &mut self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Box<dyn Transaction + '_>>;

    /// Starts a write transaction without taking strata's lock: for callers that
    /// hold the migration lock already (`rollback`).
    fn begin_write(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// Runs `scripts` in order in one write transaction and commits it (a down
    /// file and the removal of its history row, under the migration lock the
    /// caller holds). When the first script's leading directives include
    /// `-- strata: foreign-keys-off`, SQLite runs the transaction with foreign
    /// keys off and checks them before COMMIT, as `migrate` runs such a file;
    /// other engines have no such directive.
    fn run_in_write_transaction(&mut self, scripts: &[&str]) -> Result<()> {
        let mut transaction = self.begin_write()?;
        for sql in scripts {
            transaction.execute_script(sql)?;
        }
        transaction.commit()
    }

    /// Runs the statements of `sql` one at a time outside any transaction, each
    /// committed on its own: how `migrate` runs a `-- strata: no-transaction`
    /// migration (the same code path), here for `rollback`'s no-transaction down
    /// files, under the migration lock the caller holds. `ran` receives the span
    /// of each statement that completed, so a failure part-way can say exactly
    /// which ones stay applied.
    fn run_without_transaction(
        &mut self,
        sql: &str,
        ran: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<()>;

    /// Starts a read-only transaction that takes no lock of strata's, so reading
    /// history never waits for a running migration or patch.
    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>>;

    /// The rows of refinery's history table (version, name, applied_on,
    /// checksum), oldest first; `None` when the table does not exist. Checked by
    /// `migrate::history`. Engines may read it in fewer round trips than this.
    fn history_rows(&mut self) -> Result<Option<Vec<Vec<SqlValue>>>> {
        let mut transaction = self.begin_read()?;
        if !transaction.table_exists(HISTORY_TABLE)? {
            return Ok(None);
        }
        transaction
            .query(
                &format!(
                    "SELECT version, name, applied_on, checksum FROM {HISTORY_TABLE} ORDER BY version"
                ),
                &[],
            )
            .map(Some)
    }

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

    /// Creates the patch history table when it is missing and returns its rows
    /// (as `patch_history::SELECT_PATCH_HISTORY` selects them), in one round
    /// trip; `None` when the engine has no such shortcut and the table is
    /// looked for, created and read statement by statement.
    fn ensure_patch_history_rows(&mut self) -> Option<Result<Vec<Vec<SqlValue>>>> {
        None
    }

    // The statement shapes the patch engine needs. The defaults are standard
    // SQL; an engine whose SQL differs overrides them.

    /// `INSERT INTO t (a, b) VALUES (…), (…)` for `rows` rows of `columns`
    /// (`DEFAULT VALUES` when there are none).
    fn insert_sql(&self, table: &str, columns: &[(&str, Option<&Type>)], rows: usize) -> String {
        statements::insert(table, columns, rows, &|n, ty| self.placeholder(n, ty))
    }

    /// Runs `insert` (one row, from [`Transaction::insert_sql`]) and returns the
    /// `returning` columns of the inserted row. `on_statement` sees each statement
    /// run, for `--echo`. The default uses `RETURNING`.
    fn insert_returning(
        &mut self,
        insert: &str,
        params: &[SqlValue],
        returning: &[&str],
        on_statement: &mut dyn FnMut(&str, &[SqlValue]),
    ) -> Result<Vec<Vec<SqlValue>>> {
        let sql = statements::returning(insert, returning);
        on_statement(&sql, params);
        self.query(&sql, params)
    }

    /// `SELECT columns FROM t WHERE conditions LIMIT limit`; the placeholders of
    /// the conditions are numbered from `first_parameter`.
    fn select_sql(
        &self,
        table: &str,
        columns: &[&str],
        conditions: &[Condition<'_>],
        first_parameter: usize,
        limit: usize,
    ) -> String {
        statements::select(table, columns, conditions, limit, &|n, ty| {
            self.placeholder(first_parameter + n - 1, ty)
        })
    }

    /// `UPDATE t SET a = $1, … WHERE conditions`: the new values bind first,
    /// then the conditions' values.
    fn update_sql(
        &self,
        table: &str,
        set: &[(&str, Option<&Type>)],
        conditions: &[Condition<'_>],
    ) -> String {
        statements::update(table, set, conditions, &|n, ty| self.placeholder(n, ty))
    }

    /// `DELETE FROM t WHERE conditions`.
    fn delete_sql(&self, table: &str, conditions: &[Condition<'_>]) -> String {
        statements::delete(table, conditions, &|n, ty| self.placeholder(n, ty))
    }

    fn commit(self: Box<Self>) -> Result<()>;
}

/// The dialect of a name listed in `[project] dialects`, from the registry.
pub fn dialect(name: &str) -> Option<Box<dyn Dialect>> {
    registry::engine(name).map(|engine| engine.dialect())
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

/// Opens the database at `url` through its engine (a SQLite file is created
/// when missing).
pub fn connect(url: &DatabaseUrl, options: ConnectOptions) -> Result<Box<dyn Database>> {
    url.engine().connect(url, options)
}

/// Opens the database at `url` only if it exists (never creating it); `None`
/// when its engine can tell it does not.
pub fn open_existing(
    url: &DatabaseUrl,
    options: ConnectOptions,
) -> Result<Option<Box<dyn Database>>> {
    url.engine().open_existing(url, options)
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
