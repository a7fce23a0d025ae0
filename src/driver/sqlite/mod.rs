//! SQLite: the embedded default. rusqlite talks to it; refinery runs migrations.

mod engine;
mod foreign_keys;
mod index_sql;
mod inspect;
mod objects;
mod plan;
mod rebuild;
mod script;
mod template;
mod types;
mod unmanaged;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql, TransactionBehavior};

use super::{
    AppliedMigration, Database, Dialect, MigrationScript, SqlValue, Transaction, Unsupported,
};
use crate::schema::{Change, Schema};
use crate::script::Engine;
use crate::{Error, Result};

pub use engine::{SqliteEngine, SqliteTarget, SQLITE};

pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn keeps_comments(&self) -> bool {
        false
    }

    fn plan(
        &self,
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<super::Plan, Vec<Unsupported>> {
        plan::plan(current, target, changes)
    }

    fn replay(
        &self,
        scripts: &[MigrationScript],
        _dev_url: Option<&super::DatabaseUrl>,
    ) -> Result<Option<Schema>> {
        let mut connection = Connection::open_in_memory().map_err(database_error)?;
        configure(&connection)?;
        for script in scripts {
            // Replayed as `migrate` runs it: a rebuild's directive turns foreign
            // keys off around it.
            let ran = if crate::migrate::directive::foreign_keys_off(&script.sql) {
                foreign_keys::with_foreign_keys_off(&mut connection, |transaction| {
                    script::run_script(transaction, &script.sql)
                })
            } else {
                script::run_script(&connection, &script.sql)
            };
            ran.map_err(|error| Error::InvalidFile {
                path: Path::new("migrations")
                    .join(self.name())
                    .join(script.file_name()),
                message: format!(
                    "replaying the migrations on an empty SQLite database failed here: {error}; \
                     fix the file so the history replays"
                ),
            })?;
        }
        inspect::inspect(&connection)
            .map(Some)
            .map_err(database_error)
    }
}

pub struct SqliteDatabase {
    connection: Connection,
    path: Option<PathBuf>,
    /// The file did not exist before this connection created it (or the database
    /// is in memory): its first migrations may run in one transaction.
    created: bool,
    /// `<database>.strata-lock`, locked while migrating (see `lock`).
    lock_file: Option<std::fs::File>,
}

fn database_error(error: rusqlite::Error) -> Error {
    if is_storage_error(&error) {
        Error::Storage(format!("SQLite: {error}"))
    } else {
        Error::Database(format!("SQLite: {error}"))
    }
}

/// Errors of the file rather than of the statement: read-only, full disk, I/O.
pub(crate) fn is_storage_error(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        error.sqlite_error_code(),
        Some(ReadOnly | DiskFull | SystemIoFailure | CannotOpen | PermissionDenied)
    )
}

/// Settings every connection strata opens gets.
fn configure(connection: &Connection) -> Result<()> {
    connection
        .execute_batch("PRAGMA foreign_keys = ON;")
        .map_err(database_error)
}

impl SqliteDatabase {
    /// Opens `path` (creating the file if missing), or an in-memory database.
    pub fn open(path: &Option<PathBuf>) -> Result<Self> {
        let target = SqliteTarget {
            path: path.clone(),
            parameters: Vec::new(),
        };
        Self::open_target(&target, super::DEFAULT_LOCK_TIMEOUT, true)
    }

    /// Opens the database a URL names; `create` creates a missing file. A write
    /// lock held by another process (the application, say) is waited for up to
    /// `busy_timeout` (`--lock-timeout`).
    pub fn open_target(
        target: &SqliteTarget,
        busy_timeout: Duration,
        create: bool,
    ) -> Result<Self> {
        let path = &target.path;
        let created = path.as_ref().is_none_or(|path| !path.exists());
        let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
        flags |= if target.read_only() {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        if create && !target.read_only() {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let connection = match (target.uri(), path) {
            // SQLite's URI parameters (`mode=ro`, `cache=shared` …) only count
            // when the name is opened as a URI.
            (Some(uri), _) => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI),
            (None, None) => Connection::open_in_memory(),
            (None, Some(path)) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    if create && !parent.is_dir() {
                        return Err(Error::Database(format!(
                            "cannot create {}: the folder {} does not exist",
                            path.display(),
                            parent.display()
                        )));
                    }
                }
                Connection::open_with_flags(path, flags)
            }
        }
        .map_err(|error| match path {
            Some(path)
                if !create
                    && error.sqlite_error_code() == Some(rusqlite::ErrorCode::CannotOpen) =>
            {
                Error::Database(format!(
                    "cannot open {}: the database file does not exist or cannot be read ({error})",
                    path.display()
                ))
            }
            Some(path) => Error::Database(format!("cannot open {}: {error}", path.display())),
            None => database_error(error),
        })?;
        configure(&connection)?;
        connection
            .busy_timeout(busy_timeout)
            .map_err(database_error)?;
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
            created,
            lock_file: None,
        })
    }

    pub fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

impl Database for SqliteDatabase {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn diesel_connection(&self) -> Result<crate::migrate::diesel::DieselConnection> {
        match &self.path {
            Some(path) => crate::migrate::diesel::DieselConnection::sqlite(path),
            None => Err(Error::Usage(
                "sqlite::memory: belongs to one connection, and Diesel's would open an empty \
                 database of its own; use a database file for a Diesel project"
                    .to_string(),
            )),
        }
    }

    fn display_url(&self) -> String {
        match &self.path {
            Some(path) => format!("sqlite:{}", path.display()),
            None => "sqlite::memory:".to_string(),
        }
    }

    fn inspect(&mut self) -> Result<Schema> {
        inspect::inspect(&self.connection).map_err(database_error)
    }

    fn inspect_with_unmanaged(&mut self) -> Result<(Schema, Vec<crate::schema::Unmanaged>)> {
        inspect::inspect_with_unmanaged(&self.connection).map_err(database_error)
    }

    fn apply_migrations(
        &mut self,
        applied: &[AppliedMigration],
        pending: &[&MigrationScript],
        on_applied: &mut dyn FnMut(&MigrationScript),
    ) -> Result<()> {
        let classify = |error: &(dyn std::error::Error + 'static)| {
            let error = error.downcast_ref::<rusqlite::Error>()?;
            Some((error.to_string(), is_storage_error(error)))
        };
        if !self.all_or_nothing(applied, pending) {
            return crate::migrate::runner::run(
                &mut LinearScripts {
                    connection: &mut self.connection,
                    outer_transaction: false,
                },
                applied,
                pending,
                on_applied,
                &classify,
            );
        }
        // A database this run created has nothing to protect: every migration
        // and its history row go into one transaction, one commit (one set of
        // fsyncs) instead of one per migration. On failure nothing is left, not
        // even the file.
        self.connection
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(database_error)?;
        let result = crate::migrate::runner::run(
            &mut LinearScripts {
                connection: &mut self.connection,
                outer_transaction: true,
            },
            applied,
            pending,
            on_applied,
            &classify,
        )
        .and_then(|()| {
            self.connection
                .execute_batch("COMMIT")
                .map_err(database_error)
        });
        match result {
            Ok(()) => {
                self.created = false;
                Ok(())
            }
            Err(error) => {
                let _ = self.connection.execute_batch("ROLLBACK");
                self.remove_new_file()?;
                Err(error)
            }
        }
    }

    /// A migration that needs foreign keys off (a rebuild) cannot run inside one
    /// outer transaction (the pragma is a no-op there), nor can a
    /// `-- strata: no-transaction` one, so with one pending the new database gets
    /// a transaction per migration like any other.
    fn all_or_nothing(&self, applied: &[AppliedMigration], pending: &[&MigrationScript]) -> bool {
        self.created
            && applied.is_empty()
            && !pending.iter().any(|script| {
                crate::migrate::directive::foreign_keys_off(&script.sql)
                    || crate::migrate::directive::no_transaction(&script.sql)
            })
    }

    /// SQLite has no session locks, so migrations and patches are serialised with
    /// an OS file lock beside the database; the OS drops it when the process dies.
    fn take_lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<()> {
        if self.lock_file.is_none() {
            self.lock_file = self.take_lock_file(timeout, on_wait)?;
        }
        Ok(())
    }

    fn release_lock(&mut self) -> Result<()> {
        // Closing the file releases the lock.
        self.lock_file = None;
        Ok(())
    }

    fn begin_exclusive(
        &mut self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Box<dyn Transaction + '_>> {
        // strata's own lock first (unless this process holds it already), so a
        // patch waits for a running migration or patch up to --lock-timeout and
        // names its pid, like `migrate` does.
        let lock_file = match self.lock_file {
            Some(_) => None,
            None => self.take_lock_file(timeout, on_wait)?,
        };
        // IMMEDIATE takes the write lock now, not at the first write, so a second
        // process waits here (busy_timeout) instead of reading a stale history.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database_error)?;
        Ok(Box::new(SqliteTransaction {
            transaction,
            _lock_file: lock_file,
        }))
    }

    fn begin_write(&mut self) -> Result<Box<dyn Transaction + '_>> {
        // IMMEDIATE: the write lock now, so the statements never fail half-way
        // for a writer that got in between.
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(database_error)?;
        Ok(Box::new(SqliteTransaction {
            transaction,
            _lock_file: None,
        }))
    }

    fn run_in_write_transaction(&mut self, scripts: &[&str]) -> Result<()> {
        let foreign_keys_off = scripts
            .first()
            .is_some_and(|sql| crate::migrate::directive::foreign_keys_off(sql));
        if !foreign_keys_off {
            let mut transaction = self.begin_write()?;
            for sql in scripts {
                transaction.execute_script(sql)?;
            }
            return transaction.commit();
        }
        // The same helper `migrate` runs a rebuild with (see `LinearScripts`).
        foreign_keys::with_foreign_keys_off(&mut self.connection, |transaction| {
            for sql in scripts {
                script::run_script(transaction, sql)?;
            }
            Ok(())
        })
        .map_err(database_error)
    }

    fn run_without_transaction(
        &mut self,
        sql: &str,
        ran: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<()> {
        // Autocommit, as `LinearScripts` runs a no-transaction migration.
        script::run_script_reporting(&self.connection, sql, &mut |span| ran.push(span))
            .map_err(database_error)
    }

    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>> {
        // DEFERRED: a plain read, which SQLite serves while a writer works.
        let transaction = self.connection.transaction().map_err(database_error)?;
        Ok(Box::new(SqliteTransaction {
            transaction,
            _lock_file: None,
        }))
    }
}

impl SqliteDatabase {
    /// After a failed first migration run on a file this connection created:
    /// closes the file and removes it, so the failure leaves no database behind.
    /// The connection becomes an in-memory one. A file something else wrote into
    /// meanwhile (not empty) is left alone.
    fn remove_new_file(&mut self) -> Result<()> {
        let Some(path) = self.path.clone() else {
            return Ok(());
        };
        let memory = Connection::open_in_memory().map_err(database_error)?;
        drop(std::mem::replace(&mut self.connection, memory));
        self.path = None;
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == 0) {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                match std::fs::remove_file(&file) {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io(&file, error))
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Locks `<database>.strata-lock`, waiting at most `timeout`; `None` for an
    /// in-memory database. The file holds the pid of the process holding it, for
    /// the waiting message. The path is canonical, so a symlink to the database and
    /// the database itself share one lock.
    fn take_lock_file(
        &self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Option<std::fs::File>> {
        let Some(path) = &self.path else {
            return Ok(None);
        };
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        let lock_path = PathBuf::from(format!("{}.strata-lock", path.display()));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|error| Error::io(&lock_path, error))?;
        let started = std::time::Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {
                    let pid = std::fs::read_to_string(&lock_path)
                        .ok()
                        .and_then(|text| text.trim().parse::<u32>().ok());
                    let holder = pid
                        .map(|pid| format!(" held by pid {pid}"))
                        .unwrap_or_default();
                    if !told {
                        on_wait(&format!(
                            "waiting for the migration lock{holder} ({})",
                            lock_path.display()
                        ));
                        told = true;
                    }
                    if started.elapsed() >= timeout {
                        return Err(Error::LockTimeout {
                            waited_secs: timeout.as_secs(),
                            holder: pid.map(|pid| format!("pid {pid}")),
                            place: format!("({})", lock_path.display()),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(Error::io(&lock_path, error))
                }
            }
        }
        // Best effort: the pid is only for messages; the lock is what counts.
        use std::io::{Seek, Write};
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| write!(file, "{}", std::process::id()))
            .and_then(|()| file.flush());
        Ok(Some(file))
    }
}

struct SqliteTransaction<'c> {
    transaction: rusqlite::Transaction<'c>,
    /// strata's lock file, released after the transaction ends (fields drop in order).
    _lock_file: Option<std::fs::File>,
}

impl ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            SqlValue::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            SqlValue::Integer(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            SqlValue::Float(n) => ToSqlOutput::Borrowed(ValueRef::Real(*n)),
            SqlValue::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            SqlValue::Boolean(flag) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*flag))),
            SqlValue::Bytes(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}

fn sql_value(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(n) => SqlValue::Integer(n),
        ValueRef::Real(n) => SqlValue::Float(n),
        ValueRef::Text(text) => SqlValue::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(bytes) => SqlValue::Bytes(bytes.to_vec()),
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn placeholder(&self, n: usize, _ty: Option<&crate::schema::Type>) -> String {
        format!("?{n}")
    }

    /// SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite (the default since 3.32).
    fn max_parameters(&self) -> usize {
        32_766
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>> {
        let mut statement = self
            .transaction
            .prepare_cached(sql)
            .map_err(database_error)?;
        let width = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(database_error)?;
        let mut result = Vec::new();
        while let Some(row) = rows.next().map_err(database_error)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(sql_value(row.get_ref(i).map_err(database_error)?));
            }
            result.push(values);
        }
        Ok(result)
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let mut statement = self
            .transaction
            .prepare_cached(sql)
            .map_err(database_error)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params))
            .map_err(database_error)?;
        Ok(changed as u64)
    }

    fn execute_script(&mut self, sql: &str) -> Result<Option<u64>> {
        let before = self.transaction.total_changes();
        script::run_script(&self.transaction, sql).map_err(database_error)?;
        Ok(Some(self.transaction.total_changes() - before))
    }

    fn table_exists(&mut self, name: &str) -> Result<bool> {
        self.transaction
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [name],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| count > 0)
            .map_err(database_error)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let this = *self;
        this.transaction.commit().map_err(database_error)
        // `this._lock_file` is dropped here, after the commit.
    }
}

/// The connection as refinery's runner sees it: refinery's own rusqlite runner
/// calls `execute_batch`, which is quadratic in the script's length, so migrations
/// and their history rows go through [`script::run_script`] instead, in the same
/// one transaction per call that refinery's runner uses, or inside the caller's
/// transaction when `outer_transaction` (a new database, see `apply_migrations`).
///
/// A migration whose first line is `-- strata: foreign-keys-off` (a table
/// rebuild) runs with foreign keys off around that transaction, and
/// `PRAGMA foreign_key_check` runs before its COMMIT; the history row is in the
/// same transaction, so the migration stays all or nothing. (Such migrations are
/// never run inside an outer transaction: see `all_or_nothing`.)
struct LinearScripts<'c> {
    connection: &'c mut Connection,
    outer_transaction: bool,
}

impl refinery_core::traits::sync::Transaction for LinearScripts<'_> {
    type Error = rusqlite::Error;

    fn execute<'a, T: Iterator<Item = &'a str>>(&mut self, queries: T) -> rusqlite::Result<usize> {
        let queries: Vec<&str> = queries.collect();
        let run_all = |transaction: &rusqlite::Transaction<'_>| {
            for query in &queries {
                script::run_script(transaction, query)?;
            }
            Ok(queries.len())
        };
        if self.outer_transaction {
            for query in &queries {
                script::run_script(self.connection, query)?;
            }
            return Ok(queries.len());
        }
        // refinery hands over the migration first, then its history row.
        if queries
            .first()
            .is_some_and(|sql| crate::migrate::directive::no_transaction(sql))
        {
            // `-- strata: no-transaction` (VACUUM…): no wrapper; the history row
            // is recorded after the migration, in autocommit like it. (`rollback`
            // runs such down files the same way: `run_without_transaction`.)
            for query in &queries {
                script::run_script(self.connection, query)?;
            }
            return Ok(queries.len());
        }
        if queries
            .first()
            .is_some_and(|sql| crate::migrate::directive::foreign_keys_off(sql))
        {
            return foreign_keys::with_foreign_keys_off(self.connection, run_all);
        }
        let transaction = self.connection.transaction()?;
        let count = run_all(&transaction)?;
        transaction.commit()?;
        Ok(count)
    }
}

impl refinery_core::traits::sync::Query<Vec<refinery::Migration>> for LinearScripts<'_> {
    // Never reached inside an outer transaction: strata hands refinery the
    // history it read (`KnownHistory`), so refinery does not query it.
    fn query(&mut self, query: &str) -> rusqlite::Result<Vec<refinery::Migration>> {
        refinery_core::traits::sync::Query::query(self.connection, query)
    }
}

impl refinery::Migrate for LinearScripts<'_> {}
