//! PostgreSQL, the production target: the `postgres` crate talks to it, refinery
//! runs migrations, an advisory lock keeps concurrent runners apart.

mod admin;
mod ahead;
mod alter;
mod batch;
mod column_kind;
mod domains;
mod engine;
mod inspect;
mod objects;
mod online;
mod passfile;
mod plan;
mod renames;
mod template;
mod tls;
mod types;
mod unmanaged;
mod values;

use std::str::FromStr;
use std::time::{Duration, Instant};

use postgres::{Client, Config, GenericClient, NoTls};

pub use engine::{PostgresEngine, PostgresTarget, POSTGRES};

use super::{
    AppliedMigration, Database, DatabaseUrl, Dialect, MigrationScript, SqlValue, Transaction,
    Unsupported,
};
use crate::schema::{Change, Schema, Type};
use crate::{Error, Result};

/// The advisory lock every strata migrate and patch takes ("strata" in ASCII).
const LOCK_KEY: i64 = 0x7374_7261_7461;
/// The transaction `pull` and `baseline` read the catalogs in: one snapshot for
/// every query (as pg_dump does), which a second session can import (`ahead`).
pub(crate) const BEGIN_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

const TABLE_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relname = $1 AND n.nspname = current_schema() AND c.relkind IN ('r', 'p'))";

/// How long DDL may wait for a table lock before failing cleanly, unless told.
pub const DEFAULT_DDL_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn plan(
        &self,
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<super::Plan, Vec<Unsupported>> {
        plan::plan(current, target, changes, plan::Busy::Maybe)
    }

    fn plan_unused(
        &self,
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<super::Plan, Vec<Unsupported>> {
        plan::plan(current, target, changes, plan::Busy::No)
    }

    /// `SET lock_timeout`, session-wide (not `SET LOCAL`): psql runs a file
    /// statement by statement outside a transaction, where `SET LOCAL` does
    /// nothing, and a no-transaction migration needs it for every statement.
    fn file_preamble(&self, ddl_lock_timeout: std::time::Duration) -> Option<String> {
        Some(format!(
            "SET lock_timeout = '{}';",
            lock_timeout_literal(ddl_lock_timeout)
        ))
    }

    fn replay(
        &self,
        scripts: &[MigrationScript],
        dev_url: Option<&DatabaseUrl>,
    ) -> Result<Option<Schema>> {
        // Only a PostgreSQL server can host the scratch database.
        let Some(target) = dev_url.and_then(|url| url.target::<PostgresTarget>().ok()) else {
            return Ok(None);
        };
        let scratch = admin::ScratchDatabase::create(&target.text)?;
        let mut client = scratch.connect()?;
        replay_on(&mut client, scripts)?;
        let schema = inspect::inspect(&mut client).map_err(|e| query_error(&e))?;
        drop(client);
        scratch.drop_now()?;
        Ok(Some(schema))
    }

    fn test_apply(
        &self,
        history: &[MigrationScript],
        new: &[MigrationScript],
        dev_url: Option<&DatabaseUrl>,
    ) -> Result<bool> {
        let Some(target) = dev_url.and_then(|url| url.target::<PostgresTarget>().ok()) else {
            return Ok(false);
        };
        let scratch = admin::ScratchDatabase::create(&target.text)?;
        let mut client = scratch.connect()?;
        replay_on(&mut client, history)?;
        for script in new {
            run_as_migrate_does(&mut client, &script.sql).map_err(|error| {
                Error::MigrationFailed {
                    file: std::path::Path::new("migrations/postgres").join(script.file_name()),
                    message: one_line(&error),
                    outcome: format!(
                        "generate test-applied it on a scratch database of the dev server {target}, \
                         on top of the existing migrations, and the server rejected it, so \
                         nothing was written; change schema.toml and generate again"
                    ),
                    by_storage: false,
                }
            })?;
        }
        drop(client);
        scratch.drop_now()?;
        Ok(true)
    }
}

/// Runs `scripts` in order on a scratch database, as `migrate` would; a file
/// that fails is named (it is part of the history being replayed).
fn replay_on(client: &mut Client, scripts: &[MigrationScript]) -> Result<()> {
    for script in scripts {
        run_as_migrate_does(client, &script.sql).map_err(|error| Error::InvalidFile {
            path: std::path::Path::new("migrations/postgres").join(script.file_name()),
            message: format!(
                "replaying the migrations on a scratch PostgreSQL database failed here: {}",
                one_line(&error)
            ),
        })?;
    }
    Ok(())
}

/// One migration's text, run as `migrate` runs it: a file in one simple query
/// (one implicit transaction), a no-transaction file one statement at a time
/// (CREATE INDEX CONCURRENTLY fails in a batch).
fn run_as_migrate_does(client: &mut Client, sql: &str) -> std::result::Result<(), postgres::Error> {
    let statements: Vec<&str> = if crate::migrate::directive::no_transaction(sql) {
        crate::script::statements(crate::script::Engine::Postgres, sql)
            .map(|statement| &sql[statement.span])
            .collect()
    } else {
        vec![sql]
    };
    statements
        .into_iter()
        .try_for_each(|sql| client.batch_execute(sql))
}

/// `10s`, or `1500ms` when the timeout is not whole seconds.
fn lock_timeout_literal(timeout: std::time::Duration) -> String {
    if timeout.subsec_millis() == 0 {
        format!("{}s", timeout.as_secs())
    } else {
        format!("{}ms", timeout.as_millis())
    }
}

/// The server's message without the crate's "db error:" prefix, on one line.
pub(crate) fn one_line(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            text.replace('\n', " ")
        }
        None => error.to_string().replace('\n', " "),
    }
}

fn query_error(error: &postgres::Error) -> Error {
    if is_storage_error(error) {
        Error::Storage(format!("PostgreSQL: {}", one_line(error)))
    } else {
        Error::Database(format!("PostgreSQL: {}", one_line(error)))
    }
}

/// Errors of the server rather than of the statement: a read-only transaction
/// (a standby, `default_transaction_read_only`), insufficient resources (disk
/// full, out of memory), system I/O errors, shutdowns and lost connections.
pub(crate) fn is_storage_error(error: &postgres::Error) -> bool {
    match error.code().map(|code| code.code()) {
        Some(code) => {
            code == "25006"
                || code.starts_with("53")
                || code.starts_with("58")
                || code.starts_with("08")
                || code.starts_with("57P")
        }
        None => error.is_closed(),
    }
}

pub struct PostgresDatabase {
    client: Client,
    display: String,
    /// The URL as given (password included), for Diesel's connection.
    url: String,
}

/// Parses a postgres:// URL or libpq string, never echoing the password.
pub(crate) fn config_of(url: &str) -> Result<Config> {
    Config::from_str(url).map_err(|error| {
        Error::Usage(format!(
            "invalid PostgreSQL URL {}: {}; expected {}",
            super::url::mask_password(url),
            error.to_string().replace(url, "…"),
            engine::FORMS
        ))
    })
}

/// The driver's config for `url`, with a connect timeout and the password from
/// the environment or the password file when the URL has none.
pub(crate) fn parse_config(url: &str) -> Result<Config> {
    let mut config = config_of(url)?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    passfile::fill_password(&mut config);
    Ok(config)
}

pub(crate) fn open(config: &Config, display: &str) -> Result<Client> {
    // strata reads every file's strings as the server will (crate::script), with
    // backslashes literal outside E'…': the PostgreSQL default, pinned here so a
    // server, role or database setting cannot change how files are split.
    let mut config = config.clone();
    let options = match config.get_options() {
        Some(options) => format!("{options} -c standard_conforming_strings=on"),
        None => "-c standard_conforming_strings=on".to_string(),
    };
    config.options(&options);
    let result = match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => config.connect(NoTls),
        _ => config.connect(tls::connector()?),
    };
    let mut client = result.map_err(|error| connection_error(&config, display, error))?;
    // PostgreSQL 14+ can notice that a client vanished while a statement runs;
    // without this, a killed strata's long statement (and the locks it holds)
    // lives on until the statement ends. Older servers, and platforms where the
    // setting must stay 0, keep the default: the error is ignored on purpose.
    let _ = client.batch_execute(
        "SELECT set_config('client_connection_check_interval', '1s', false) \
         WHERE current_setting('server_version_num')::int >= 140000",
    );
    Ok(client)
}

/// One line that says what to check.
/// What to tell the user about a failed connection; a mistake on the command
/// line (no password) is a usage error instead.
fn connection_message(
    config: &Config,
    display: &str,
    error: &postgres::Error,
) -> std::result::Result<String, Error> {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_string());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("?");
    let database = config.get_dbname().unwrap_or(user);
    if let Some(db) = error.as_db_error() {
        let code = db.code().code();
        return Ok(match code {
            "3D000" => format!(
                "database \"{database}\" does not exist on {host}:{port}; create it, or let `strata setup` create it ({display})"
            ),
            "28P01" | "28000" => format!(
                "login failed for user \"{user}\" on {host}:{port}: check the user name and the password (in the URL, PGPASSWORD or the password file) ({display})"
            ),
            _ => format!("cannot connect to {display}: {}", one_line(error)),
        });
    }
    // tokio-postgres says only "password missing" when the server asks for a
    // password and none was given: a mistake in the command line, exit 2.
    let password_missing = std::error::Error::source(error)
        .is_some_and(|source| source.to_string().contains("password missing"));
    if password_missing {
        return Err(Error::Usage(format!(
            "{display}: the server asks user \"{user}\" for a password and none was given; \
             put it in the URL (postgres://{user}:PASSWORD@{host}:{port}/{database}), \
             in PGPASSWORD or in the password file (~/.pgpass or PGPASSFILE)"
        )));
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return Ok(format!(
                    "cannot connect to {display}: connection refused; is PostgreSQL running and listening on {host}:{port}?"
                ));
            }
        }
        source = inner.source();
    }
    Ok(format!("cannot connect to {display}: {}", one_line(error)))
}

/// [`Error::Connection`], with the driver's error as its source.
fn connection_error(config: &Config, display: &str, error: postgres::Error) -> Error {
    match connection_message(config, display, &error) {
        Ok(message) => Error::Connection {
            database: display.to_string(),
            message,
            source: Some(Box::new(error)),
        },
        Err(usage) => usage,
    }
}

impl PostgresDatabase {
    pub fn connect(url: &str, ddl_lock_timeout: Duration) -> Result<Self> {
        let mut config = parse_config(url)?;
        let display = super::url::mask_password(url);
        // A migration stuck behind a long transaction fails after this instead of
        // queueing every other query on the table behind it. Set at login (no
        // round trip of its own).
        let lock_timeout = format!("-c lock_timeout={}", ddl_lock_timeout.as_millis());
        let options = match config.get_options() {
            Some(options) => format!("{options} {lock_timeout}"),
            None => lock_timeout,
        };
        config.options(&options);
        let client = open(&config, &display)?;
        Ok(PostgresDatabase {
            client,
            display,
            url: url.to_string(),
        })
    }

    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// A second session running the costliest catalog queries of
    /// `inspect_with_unmanaged` in this session's snapshot (see `ahead`), or
    /// none when the snapshot cannot be exported. Call inside the open
    /// REPEATABLE READ transaction, which must outlive what it returns.
    fn second_session(&mut self) -> ahead::Ahead {
        let Ok(config) = parse_config(&self.url) else {
            return ahead::Ahead::none();
        };
        // Exporting is allowed in a read-only transaction, not in a savepoint;
        // a failure (an old server, a pooler) aborts the transaction, which
        // then starts again as it was.
        let snapshot = self
            .client
            .simple_query("SELECT pg_export_snapshot()")
            .ok()
            .and_then(|messages| {
                messages.into_iter().find_map(|message| match message {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
            });
        match snapshot {
            Some(snapshot) => ahead::Ahead::start(
                config,
                self.display.clone(),
                snapshot,
                inspect::queries_ahead(),
            ),
            None => {
                let _ = self
                    .client
                    .batch_execute(&format!("ROLLBACK; {BEGIN_SNAPSHOT}"));
                ahead::Ahead::none()
            }
        }
    }
}

/// The pid of the session holding strata's advisory lock, if another one does.
fn lock_holder(client: &mut impl GenericClient) -> Option<i32> {
    client
        .query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND classid = ($1::bigint >> 32)::oid AND objid = ($1::bigint & 4294967295)::oid AND objsubid = 1 \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND pid <> pg_backend_pid() LIMIT 1",
            &[&LOCK_KEY],
        )
        .ok()
        .flatten()
        .map(|row| row.get(0))
}

/// Polls `try_lock` (a query returning whether strata's advisory lock was taken)
/// until it succeeds, or gives up after `timeout`. Polling rather than a blocking
/// lock call, so the wait is bounded by `--lock-timeout`, not by `lock_timeout`,
/// and `on_wait` can name the holder once.
fn wait_for_lock(
    client: &mut impl GenericClient,
    try_lock: &str,
    timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
    display: &str,
) -> Result<()> {
    let started = Instant::now();
    let mut told = false;
    loop {
        // The key is strata's constant, so the simple protocol can carry it:
        // one round trip instead of a prepare and an execute.
        let acquired = client
            .simple_query(&try_lock.replace("$1", &LOCK_KEY.to_string()))
            .map_err(|e| query_error(&e))?
            .into_iter()
            .any(|message| match message {
                postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("t"),
                _ => false,
            });
        if acquired {
            return Ok(());
        }
        let holder = lock_holder(client);
        if !told {
            match holder {
                Some(pid) => on_wait(&format!("waiting for the migration lock held by pid {pid}")),
                None => on_wait("waiting for the migration lock"),
            }
            told = true;
        }
        if started.elapsed() >= timeout {
            return Err(Error::LockTimeout {
                waited_secs: timeout.as_secs(),
                holder: holder.map(|pid| format!("pid {pid}")),
                place: format!("on {display}"),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Database for PostgresDatabase {
    fn engine(&self) -> crate::script::Engine {
        crate::script::Engine::Postgres
    }

    fn display_url(&self) -> String {
        self.display.clone()
    }

    fn diesel_connection(&self) -> Result<crate::migrate::diesel::DieselConnection> {
        crate::migrate::diesel::DieselConnection::postgres(&self.url, &self.display)
    }

    fn inspect(&mut self) -> Result<Schema> {
        inspect::inspect(&mut self.client).map_err(|e| query_error(&e))
    }

    fn inspect_with_unmanaged(&mut self) -> Result<(Schema, Vec<crate::schema::Unmanaged>)> {
        // One snapshot for every catalog query (as pg_dump does), so DDL running
        // meanwhile cannot give pull or baseline half of a change. Read only, so
        // it ends with ROLLBACK: nothing to commit. strata calls this outside any
        // transaction of its own (its locks are session advisory locks).
        self.client
            .batch_execute(BEGIN_SNAPSHOT)
            .map_err(|e| query_error(&e))?;
        let mut ahead = self.second_session();
        let inspected = inspect::inspect_with_unmanaged(&mut self.client, &mut ahead);
        drop(ahead);
        let ended = self.client.batch_execute("ROLLBACK");
        let inspected = inspected.map_err(|e| query_error(&e))?;
        ended.map_err(|e| query_error(&e))?;
        Ok(inspected)
    }

    fn apply_migrations(
        &mut self,
        applied: &[AppliedMigration],
        pending: &[&MigrationScript],
        on_applied: &mut dyn FnMut(&MigrationScript),
    ) -> Result<()> {
        batch::apply(&mut self.client, applied, pending, &mut |group, _| {
            group.iter().for_each(|script| on_applied(script))
        })
    }

    fn apply_migrations_batched(
        &mut self,
        applied: &[AppliedMigration],
        pending: &[&MigrationScript],
        on_batch: &mut dyn FnMut(&[&MigrationScript], Duration),
    ) -> Result<()> {
        batch::apply(&mut self.client, applied, pending, on_batch)
    }

    fn take_lock(&mut self, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<()> {
        wait_for_lock(
            &mut self.client,
            "SELECT pg_try_advisory_lock($1)",
            timeout,
            on_wait,
            &self.display,
        )
    }

    fn release_lock(&mut self) -> Result<()> {
        self.client
            .simple_query(&format!("SELECT pg_advisory_unlock({LOCK_KEY})"))
            .map(|_| ())
            .map_err(|e| query_error(&e))
    }

    fn begin_exclusive(
        &mut self,
        timeout: Duration,
        on_wait: &mut dyn FnMut(&str),
    ) -> Result<Box<dyn Transaction + '_>> {
        let mut transaction = self.client.transaction().map_err(|e| query_error(&e))?;
        // The same key as migrations; a transaction-level lock ends with the transaction.
        wait_for_lock(
            &mut transaction,
            "SELECT pg_try_advisory_xact_lock($1)",
            timeout,
            on_wait,
            &self.display,
        )?;
        Ok(Box::new(PostgresTransaction { transaction }))
    }

    fn run_without_transaction(
        &mut self,
        sql: &str,
        ran: &mut Vec<std::ops::Range<usize>>,
    ) -> Result<()> {
        one_statement_at_a_time(&mut self.client, sql, ran).map_err(|e| query_error(&e))
    }

    fn begin_write(&mut self) -> Result<Box<dyn Transaction + '_>> {
        let transaction = self.client.transaction().map_err(|e| query_error(&e))?;
        Ok(Box::new(PostgresTransaction { transaction }))
    }

    /// One statement, one round trip; a missing table (42P01) is no history.
    fn history_rows(&mut self) -> Result<Option<Vec<Vec<SqlValue>>>> {
        let sql = format!(
            "SELECT version, name, applied_on, checksum FROM {} ORDER BY version",
            super::HISTORY_TABLE
        );
        let messages = match self.client.simple_query(&sql) {
            Ok(messages) => messages,
            Err(error) if error.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Ok(None)
            }
            Err(error) => return Err(query_error(&error)),
        };
        let mut rows = Vec::new();
        for message in messages {
            if let postgres::SimpleQueryMessage::Row(row) = message {
                // The simple protocol gives text; the version column is an integer.
                let version = match row.get(0) {
                    Some(text) => text
                        .parse::<i64>()
                        .map(SqlValue::Integer)
                        .unwrap_or_else(|_| SqlValue::Text(text.to_string())),
                    None => SqlValue::Null,
                };
                let text = |i: usize| {
                    row.get(i)
                        .map_or(SqlValue::Null, |t| SqlValue::Text(t.to_string()))
                };
                rows.push(vec![version, text(1), text(2), text(3)]);
            }
        }
        Ok(Some(rows))
    }

    /// One statement, one round trip, outside any transaction: the rows of the
    /// current schema's history table (the one `table_exists` would find), none
    /// when it has none.
    fn applied_patches(&mut self) -> Result<Vec<crate::driver::AppliedPatch>> {
        let table = crate::driver::patch_history::PATCH_HISTORY_TABLE;
        let sql = crate::driver::patch_history::SELECT_PATCH_HISTORY.replace(
            " ORDER BY",
            &format!(
                " WHERE {} ORDER BY",
                &TABLE_EXISTS.replace("$1", &literal(table))["SELECT ".len()..]
            ),
        );
        match self.client.simple_query(&sql) {
            Ok(messages) => crate::driver::patch_history::parse(text_rows(messages)),
            Err(error) if error.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) => {
                Ok(Vec::new())
            }
            Err(error) => Err(query_error(&error)),
        }
    }

    fn begin_read(&mut self) -> Result<Box<dyn Transaction + '_>> {
        let transaction = self
            .client
            .build_transaction()
            .read_only(true)
            .start()
            .map_err(|e| query_error(&e))?;
        Ok(Box::new(PostgresTransaction { transaction }))
    }
}

struct PostgresTransaction<'c> {
    transaction: postgres::Transaction<'c>,
}

impl PostgresTransaction<'_> {
    /// `sql` with every parameter declared text: parse, bind and execute in one
    /// round trip (a prepared statement takes two: the server must first say
    /// what types it wants). Only for statements whose parameters the server
    /// would take as text anyway ([`text_parameters_only`]).
    fn typed(&mut self, sql: &str, params: &[SqlValue]) -> Result<(Vec<Vec<SqlValue>>, u64)> {
        use postgres::fallible_iterator::FallibleIterator;
        let typed = params.iter().map(|p| {
            (
                p as &(dyn postgres::types::ToSql + Sync),
                postgres::types::Type::TEXT,
            )
        });
        let mut iter = self
            .transaction
            .query_typed_raw(sql, typed)
            .map_err(|e| query_error(&e))?;
        let mut rows = Vec::new();
        while let Some(row) = iter.next().map_err(|e| query_error(&e))? {
            rows.push(row_values(&row));
        }
        let changed = iter.rows_affected().unwrap_or(0);
        Ok((rows, changed))
    }
}

/// Whether every parameter of `sql` (`$1` … `$count`) is cast from text
/// (`$n::text::TYPE`, as [`Transaction::placeholder`] writes a value for a
/// column of known type), so declaring it text changes nothing. Statements
/// with quotes or comments are left to the server to type: a `$n::text::`
/// inside a string literal must not count.
fn text_parameters_only(sql: &str, count: usize) -> bool {
    if sql.contains('\'') || sql.contains("--") || sql.contains("/*") {
        return false;
    }
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            // `$$` or `$tag$`: a dollar-quoted string.
            return false;
        }
        match rest[..digits].parse::<usize>() {
            Ok(n) if (1..=count).contains(&n) && rest[digits..].starts_with("::text::") => {}
            _ => return false,
        }
        rest = &rest[digits..];
    }
    true
}

/// A row's values, whatever their types.
fn row_values(row: &postgres::Row) -> Vec<SqlValue> {
    (0..row.len())
        .map(|i| row.get::<_, values::AnyValue>(i).0)
        .collect()
}

impl Transaction for PostgresTransaction<'_> {
    /// Typed values travel as text and are cast by the server (`$1::text::integer`),
    /// so every portable type, numeric and dates included, binds the same way.
    fn placeholder(&self, n: usize, ty: Option<&Type>) -> String {
        match ty {
            Some(ty) => format!("${n}::text::{}", types::declared_type(ty)),
            None => format!("${n}"),
        }
    }

    /// The protocol counts parameters in 16 bits.
    fn max_parameters(&self) -> usize {
        u16::MAX as usize
    }

    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>> {
        if text_parameters_only(sql, params.len()) {
            return self.typed(sql, params).map(|(rows, _)| rows);
        }
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as _).collect();
        let rows = self
            .transaction
            .query(sql, &params)
            .map_err(|e| query_error(&e))?;
        Ok(rows.iter().map(row_values).collect())
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        if text_parameters_only(sql, params.len()) {
            return self.typed(sql, params).map(|(_, changed)| changed);
        }
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p as _).collect();
        self.transaction
            .execute(sql, &params)
            .map_err(|e| query_error(&e))
    }

    /// Rows changed: the sum of the counts PostgreSQL reports for the statements
    /// that return no rows (INSERT, UPDATE, DELETE, MERGE, COPY …), as SQLite's
    /// change counter does; a SELECT's row count is not a change.
    fn execute_script(&mut self, sql: &str) -> Result<Option<u64>> {
        let messages = self
            .transaction
            .simple_query(sql)
            .map_err(|e| query_error(&e))?;
        let mut changed = 0;
        let mut returns_rows = false;
        for message in messages {
            match message {
                postgres::SimpleQueryMessage::RowDescription(_) => returns_rows = true,
                postgres::SimpleQueryMessage::CommandComplete(count) => {
                    if !returns_rows {
                        changed += count;
                    }
                    returns_rows = false;
                }
                _ => {}
            }
        }
        Ok(Some(changed))
    }

    fn table_exists(&mut self, name: &str) -> Result<bool> {
        // A plain catalog query, not to_regclass(): its cached lookup can miss a
        // table another session committed while this one waited for the lock.
        // The name goes in as a literal: one round trip, not a prepare and an
        // execute.
        let sql = TABLE_EXISTS.replace("$1", &literal(name));
        let messages = self
            .transaction
            .simple_query(&sql)
            .map_err(|e| query_error(&e))?;
        Ok(text_rows(messages)
            .first()
            .is_some_and(|row| row.first() == Some(&SqlValue::Text("t".into()))))
    }

    /// The existence check, then the CREATE or the read: two round trips
    /// instead of six, and the same table (the current schema's) as
    /// [`Transaction::table_exists`] finds.
    fn ensure_patch_history_rows(&mut self) -> Option<Result<Vec<Vec<SqlValue>>>> {
        let table = crate::driver::patch_history::PATCH_HISTORY_TABLE;
        Some((|| {
            if !self.table_exists(table)? {
                let create = format!(
                    "CREATE TABLE {table} {}",
                    crate::driver::patch_history::PATCH_HISTORY_COLUMNS
                );
                self.transaction
                    .batch_execute(&create)
                    .map_err(|e| query_error(&e))?;
                return Ok(Vec::new());
            }
            let messages = self
                .transaction
                .simple_query(crate::driver::patch_history::SELECT_PATCH_HISTORY)
                .map_err(|e| query_error(&e))?;
            Ok(text_rows(messages))
        })())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        self.transaction.commit().map_err(|e| query_error(&e))
    }
}

/// `text` as an SQL string literal (standard_conforming_strings is on: only
/// quotes are doubled).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The rows of a simple query, every value as text (NULL as null).
fn text_rows(messages: Vec<postgres::SimpleQueryMessage>) -> Vec<Vec<SqlValue>> {
    messages
        .into_iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| {
                        row.get(i)
                            .map_or(SqlValue::Null, |text| SqlValue::Text(text.to_string()))
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// Each statement of `sql` as its own simple-query message, so each runs and
/// commits on its own (a `-- strata: no-transaction` file, up or down); `ran`
/// receives the span of each one that completed.
fn one_statement_at_a_time(
    client: &mut Client,
    sql: &str,
    ran: &mut Vec<std::ops::Range<usize>>,
) -> std::result::Result<(), postgres::Error> {
    for statement in crate::script::statements(crate::script::Engine::Postgres, sql) {
        client.batch_execute(&sql[statement.span.clone()])?;
        ran.push(statement.span);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::text_parameters_only;

    /// Only statements whose every parameter is cast from text go in one round
    /// trip with text parameters; anything the server must type is prepared.
    #[test]
    fn text_parameters_only_when_every_placeholder_is_cast_from_text() {
        assert!(text_parameters_only(
            r#"UPDATE "hero" SET "team_id" = $1::text::INTEGER WHERE "name" = $2::text::VARCHAR"#,
            2
        ));
        assert!(text_parameters_only(
            "SELECT name FROM strata_patch_history ORDER BY name",
            0
        ));
        for prepared in [
            "INSERT INTO strata_patch_history (name) VALUES ($1)",
            r#"SELECT "id" FROM "t" WHERE "a" = $1::text::INTEGER AND "b" = $2"#,
            r#"SELECT "id" FROM "t" WHERE "a" = $10::text::INTEGER"#,
            r#"SELECT '$1::text::x', "id" FROM "t" WHERE "a" = $1"#,
            "SELECT $$ $1::text::int $$ FROM t -- $1",
        ] {
            assert!(!text_parameters_only(prepared, 2), "{prepared}");
        }
    }
}
