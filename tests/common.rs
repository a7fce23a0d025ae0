//! Helpers shared by the integration tests: run the real binary in a project folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `strata ARGS` with the project folder as working directory.
pub fn strata(project: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("strata")
        .expect("the strata binary is built")
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .expect("strata runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "strata panicked: {}",
        run.stderr
    );
    run
}

/// Like [`strata`], but the command must succeed.
pub fn strata_ok(project: &Path, args: &[&str]) -> Run {
    let run = strata(project, args);
    assert_eq!(
        run.code, 0,
        "strata {args:?} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    run
}

/// `strata pull` of `url` into `project`'s schema.toml, which must succeed
/// (nothing left out, so no `--allow-unmanaged`).
pub fn pull_ok(project: &Path, url: &str) -> Run {
    strata_ok(
        project,
        &["pull", "--database-url", url, "--output", "schema.toml"],
    )
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the example project (schema.toml, migrations, patches) into `to`.
pub fn copy_example_project(to: &Path) {
    let root = repo_root();
    std::fs::copy(root.join("schema.toml"), to.join("schema.toml")).unwrap();
    for folder in ["migrations", "patches"] {
        copy_dir(&root.join(folder), &to.join(folder));
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// With `STRATA_KEEP_GENERATED=/dir` (ci/check-squawk sets it), copies the
/// project's PostgreSQL migrations (up and down files) to a new folder under
/// `/dir` named after the running test, so that what the evolution tests
/// generated can be linted once they have run. Without it, does nothing.
pub fn keep_generated(project: &Path) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static KEPT: AtomicUsize = AtomicUsize::new(0);
    let Some(keep) = std::env::var_os("STRATA_KEEP_GENERATED") else {
        return;
    };
    let from = project.join("migrations").join("postgres");
    if !from.is_dir() {
        return;
    }
    // libtest names each test's thread after the test.
    let test: String = std::thread::current()
        .name()
        .unwrap_or("test")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let to = Path::new(&keep).join(format!(
        "{test}-{}-{}",
        std::process::id(),
        KEPT.fetch_add(1, Ordering::Relaxed)
    ));
    copy_dir(&from, &to);
}

/// Every table's rows as text, for "nothing changed" comparisons.
pub fn sqlite_snapshot(path: &Path) -> Vec<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut lines = Vec::new();
    for table in tables {
        let sql: String = connection
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = ?1",
                [&table],
                |row| row.get(0),
            )
            .unwrap();
        lines.push(sql);
        let mut statement = connection
            .prepare(&format!(
                "SELECT * FROM \"{}\" ORDER BY 1",
                table.replace('"', "\"\"")
            ))
            .unwrap();
        let width = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let values: Vec<String> = (0..width)
                    .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                    .collect();
                Ok(values.join("|"))
            })
            .unwrap();
        for row in rows {
            lines.push(format!("{table}: {}", row.unwrap()));
        }
    }
    lines
}

pub fn sqlite_strings(path: &Path, sql: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut statement = connection.prepare(sql).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |row| {
            Ok((0..width)
                .map(|i| match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "null".to_string(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "<blob>".to_string(),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The PostgreSQL server the tests use. Never skipped: without a server the
/// PostgreSQL tests fail and say how to get one.
pub fn pg_server_url() -> String {
    match std::env::var("STRATA_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "STRATA_TEST_PG_URL is not set, so the PostgreSQL tests cannot run. Run ci/test \
             (it starts a throwaway server), or `eval \"$(ci/pg-start)\"` first."
        ),
    }
}

/// A database of its own on the test server, dropped when the test ends, so
/// PostgreSQL tests run in parallel without seeing each other.
pub struct PgDatabase {
    pub url: String,
    pub name: String,
    server: String,
}

static DATABASE_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl PgDatabase {
    /// A name only; the database does not exist yet (for `setup`, which creates it).
    pub fn named() -> Self {
        let server = pg_server_url();
        let n = DATABASE_COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("strata_test_{}_{n}_{nanos}", std::process::id());
        let base = server
            .rsplit_once('/')
            .map(|(base, _)| base)
            .unwrap_or(&server);
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
            server,
        }
    }

    pub fn create() -> Self {
        let database = Self::named();
        let mut admin = postgres::Client::connect(&database.server, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE \"{}\"", database.name))
            .unwrap();
        database
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }

    pub fn exists(&self) -> bool {
        let mut admin = postgres::Client::connect(&self.server, postgres::NoTls).unwrap();
        admin
            .query_opt(
                "SELECT 1 FROM pg_database WHERE datname = $1",
                &[&self.name],
            )
            .unwrap()
            .is_some()
    }

    pub fn execute(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap();
    }

    /// Every row as `a|b|c`, NULL as `null` (the simple protocol gives text).
    pub fn rows(&self, sql: &str) -> Vec<String> {
        client_rows(&mut self.client(), sql)
    }

    /// Every table's columns and rows, for "nothing changed" comparisons.
    pub fn snapshot(&self) -> Vec<String> {
        let mut lines = self.rows(
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') \
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        );
        let tables = self.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        );
        for table in tables {
            for row in self.rows(&format!("SELECT t::text FROM \"{table}\" AS t ORDER BY 1")) {
                lines.push(format!("{table}: {row}"));
            }
        }
        lines
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Where a test's data lives: a SQLite file in the project, or a PostgreSQL database.
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn new(kind: Kind, project: &Path) -> Self {
        match kind {
            Kind::Sqlite => Backend::Sqlite(project.join("database.db")),
            Kind::Postgres => Backend::Postgres(PgDatabase::create()),
        }
    }

    pub fn url(&self) -> String {
        match self {
            Backend::Sqlite(path) => format!("sqlite:{}", path.display()),
            Backend::Postgres(database) => database.url.clone(),
        }
    }

    /// `strata ARGS --database-url URL` in `project`.
    pub fn strata(&self, project: &Path, args: &[&str]) -> Run {
        let url = self.url();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", url.as_str()]);
        strata(project, &all)
    }

    pub fn strata_ok(&self, project: &Path, args: &[&str]) -> Run {
        let run = self.strata(project, args);
        assert_eq!(
            run.code, 0,
            "strata {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    pub fn rows(&self, sql: &str) -> Vec<String> {
        match self {
            Backend::Sqlite(path) => sqlite_strings(path, sql),
            Backend::Postgres(database) => database.rows(sql),
        }
    }

    pub fn execute(&self, sql: &str) {
        match self {
            Backend::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Backend::Postgres(database) => database.client().batch_execute(sql).unwrap(),
        }
    }

    pub fn snapshot(&self) -> Vec<String> {
        match self {
            Backend::Sqlite(path) => sqlite_snapshot(path),
            Backend::Postgres(database) => database.snapshot(),
        }
    }

    /// `?1` on SQLite, `$1` on PostgreSQL, as strata prints them.
    pub fn placeholder(&self, n: usize) -> String {
        match self {
            Backend::Sqlite(_) => format!("?{n}"),
            Backend::Postgres(_) => format!("${n}"),
        }
    }
}

/// `on_both_databases!(a, b)`: tests `sqlite::a`, `postgres::a`, … that call
/// `a(Kind::Sqlite)` and `a(Kind::Postgres)`.
#[allow(unused_macros)]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(super::Kind::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name(super::Kind::Postgres) } )*
        }
    };
}

/// Every row `sql` returns on `client`, as `a|b|c`, NULL as `null`.
pub fn client_rows(client: &mut postgres::Client, sql: &str) -> Vec<String> {
    client
        .simple_query(sql)
        .unwrap()
        .into_iter()
        .filter_map(|message| match message {
            postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("null").to_string())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        })
        .collect()
}

/// The `error:` lines of a run's stderr.
pub fn error_lines(run: &Run) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect()
}

/// `generate` replayed on the test server finds schema.toml and the migrations
/// in agreement: what was just migrated reads back as declared.
pub fn assert_generate_finds_nothing_on_postgres(project: &Path) {
    let again = strata_ok(
        project,
        &["generate", "again", "--dev-url", &pg_server_url()],
    );
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
}
