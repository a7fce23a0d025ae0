//! Hostile use of database URLs, `setup --fresh`, locks and waits (issue #8, items
//! 3, 4, 6, 7 and the SQLite lock of item 9): each test is named after what it protects.

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// strata's advisory lock key: "strata" in ASCII.
const LOCK_KEY: i64 = 0x7374_7261_7461;

on_both_databases!(
    setup_fresh_needs_yes_even_when_stdin_is_not_a_terminal,
    status_answers_at_once_while_another_strata_holds_the_lock,
    a_patch_behind_a_running_patch_waits_up_to_lock_timeout,
    a_patch_that_cannot_get_the_lock_in_time_exits_5_naming_the_holder,
);

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    dir
}

/// `strata ARGS` with extra environment variables and stdin from /dev/null.
fn strata_env(project: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .stdin(Stdio::null())
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Host, port, user and password of the test server.
fn server_parts() -> (String, u16, String, String) {
    let config: ::postgres::Config = pg_server_url().parse().unwrap();
    let host = match &config.get_hosts()[0] {
        ::postgres::config::Host::Tcp(host) => host.clone(),
        #[allow(unreachable_patterns)]
        _ => panic!("the test server is reached over TCP"),
    };
    let password = String::from_utf8(config.get_password().unwrap().to_vec()).unwrap();
    (
        host,
        config.get_ports()[0],
        config.get_user().unwrap().to_string(),
        password,
    )
}

fn assert_no_secret(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret) && !run.stderr.contains(secret),
        "the password {secret:?} was shown:\n{}\n{}",
        run.stdout,
        run.stderr
    );
}

// ---- item 3: passwords outside user:password@ ----

#[test]
fn a_password_in_a_query_parameter_never_reaches_output() {
    let dir = example();
    let db = PgDatabase::create();
    let (host, port, user, password) = server_parts();
    let url = format!(
        "postgres://{host}:{port}/{}?user={user}&password={password}",
        db.name
    );
    let migrate = strata_env(dir.path(), &["migrate", "--database-url", &url], &[]);
    assert_eq!(migrate.code, 0, "{}\n{}", migrate.stdout, migrate.stderr);
    assert!(
        migrate.stdout.contains("password=***"),
        "{}",
        migrate.stdout
    );
    assert_no_secret(&migrate, &password);

    let wrong = format!(
        "postgres://{host}:{port}/{}?user={user}&password=wrong-query-secret",
        db.name
    );
    let login = strata_env(dir.path(), &["status", "--database-url", &wrong], &[]);
    assert_eq!(login.code, 1, "{}\n{}", login.stdout, login.stderr);
    assert!(login.stderr.contains("login failed"), "{}", login.stderr);
    assert_no_secret(&login, "wrong-query-secret");

    let fresh = strata_env(
        dir.path(),
        &["setup", "--fresh", "--database-url", &url],
        &[],
    );
    assert_eq!(fresh.code, 5, "{}\n{}", fresh.stdout, fresh.stderr);
    assert!(fresh.stderr.contains("--yes"), "{}", fresh.stderr);
    assert_no_secret(&fresh, &password);

    let dev = strata_env(dir.path(), &["generate", "next", "--dev-url", &wrong], &[]);
    assert_ne!(dev.code, 0, "{}\n{}", dev.stdout, dev.stderr);
    assert_no_secret(&dev, "wrong-query-secret");
}

#[test]
fn urls_strata_does_not_recognise_are_never_echoed_with_their_password() {
    let dir = example();
    for url in [
        "postgres:/app:pw-secret-1@h/db",
        "app:pw-secret-1@host/db",
        "mysql://app:pw-secret-1@host/db?password=pw-secret-1",
        "mysql://host/db?password=pw-secret-1",
        "postgres:app:pw-secret-1@h/db",
    ] {
        let run = strata_env(dir.path(), &["status", "--database-url", url], &[]);
        assert_eq!(run.code, 2, "{url}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("unrecognised database URL"),
            "{}",
            run.stderr
        );
        assert_no_secret(&run, "pw-secret-1");
    }
}

#[test]
fn libpq_key_value_strings_connect_and_hide_their_password() {
    let dir = example();
    let db = PgDatabase::create();
    let (host, port, user, password) = server_parts();
    let conninfo = format!(
        "host={host} port={port} user={user} password='{password}' dbname={}",
        db.name
    );
    let run = strata_env(dir.path(), &["setup", "--database-url", &conninfo], &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("password=***"), "{}", run.stdout);
    assert_no_secret(&run, &password);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);

    let wrong = format!(
        "host={host} port={port} user={user} password=kv-wrong-secret dbname={}",
        db.name
    );
    let login = strata_env(dir.path(), &["status", "--database-url", &wrong], &[]);
    assert_eq!(login.code, 1, "{}\n{}", login.stdout, login.stderr);
    assert!(login.stderr.contains("login failed"), "{}", login.stderr);
    assert_no_secret(&login, "kv-wrong-secret");
}

#[test]
fn pgpassword_and_pgpassfile_supply_a_missing_password() {
    let dir = example();
    let db = PgDatabase::create();
    let (host, port, user, password) = server_parts();
    let url = format!("postgres://{user}@{host}:{port}/{}", db.name);

    let with_env = strata_env(
        dir.path(),
        &["migrate", "--database-url", &url],
        &[("PGPASSWORD", &password)],
    );
    assert_eq!(with_env.code, 0, "{}\n{}", with_env.stdout, with_env.stderr);
    assert_no_secret(&with_env, &password);

    // libpq's format: wildcards, and `\:` for a colon inside a field.
    let passfile = dir.path().join("pgpass");
    std::fs::write(
        &passfile,
        format!(
            "# comment\nother\\:host:*:*:*:not-this-one\n{host}:{port}:*:{user}:{password}\n*:*:*:*:not-this-either\n"
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let with_file = strata_env(
        dir.path(),
        &["status", "--database-url", &url],
        &[("PGPASSFILE", passfile.to_str().unwrap())],
    );
    assert_eq!(
        with_file.code, 0,
        "{}\n{}",
        with_file.stdout, with_file.stderr
    );
    assert!(
        with_file.stdout.contains("1 applied"),
        "{}",
        with_file.stdout
    );

    // No password anywhere: a usage error (exit 2) saying where one can go.
    let without = strata_env(dir.path(), &["status", "--database-url", &url], &[]);
    assert_eq!(without.code, 2, "{}\n{}", without.stdout, without.stderr);
    assert!(
        without.stderr.contains("for a password and none was given"),
        "{}",
        without.stderr
    );
}

#[test]
fn strata_database_url_overrides_database_url() {
    let dir = example();
    let run = strata_env(
        dir.path(),
        &["migrate"],
        &[
            ("DATABASE_URL", "sqlite:app.db"),
            ("STRATA_DATABASE_URL", "sqlite:strata.db"),
        ],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(dir.path().join("strata.db").exists());
    assert!(!dir.path().join("app.db").exists());

    let plain = strata_env(
        dir.path(),
        &["migrate"],
        &[("DATABASE_URL", "sqlite:app.db")],
    );
    assert_eq!(plain.code, 0, "{}\n{}", plain.stdout, plain.stderr);
    assert!(dir.path().join("app.db").exists());

    let flag = strata_env(
        dir.path(),
        &["migrate", "--database-url", "sqlite:flag.db"],
        &[("STRATA_DATABASE_URL", "sqlite:strata2.db")],
    );
    assert_eq!(flag.code, 0, "{}\n{}", flag.stdout, flag.stderr);
    assert!(dir.path().join("flag.db").exists());
    assert!(!dir.path().join("strata2.db").exists());
}

// ---- item 4: setup --fresh deletes any file ----

#[test]
fn setup_fresh_never_deletes_a_file_that_is_not_a_sqlite_database() {
    let dir = example();
    let before = std::fs::read(dir.path().join("schema.toml")).unwrap();
    for args in [
        &["setup", "--fresh", "--database-url", "sqlite:schema.toml"][..],
        &[
            "setup",
            "--fresh",
            "--yes",
            "--database-url",
            "sqlite:schema.toml",
        ][..],
    ] {
        let run = strata_env(dir.path(), args, &[]);
        assert_eq!(run.code, 5, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("schema.toml"), "{}", run.stderr);
        assert!(!run.stdout.contains("Removed"), "{}", run.stdout);
        assert_eq!(
            std::fs::read(dir.path().join("schema.toml")).unwrap(),
            before
        );
    }
    let yes = strata_env(
        dir.path(),
        &[
            "setup",
            "--fresh",
            "--yes",
            "--database-url",
            "sqlite:schema.toml",
        ],
        &[],
    );
    assert!(
        yes.stderr.contains("not a SQLite database"),
        "{}",
        yes.stderr
    );
}

fn setup_fresh_needs_yes_even_when_stdin_is_not_a_terminal(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    let url = db.url();
    let first = strata_env(dir.path(), &["setup", "--database-url", &url], &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    db.execute("DELETE FROM hero WHERE name = 'Deadpond';");

    let refused = strata_env(
        dir.path(),
        &["setup", "--fresh", "--database-url", &url],
        &[],
    );
    assert_eq!(refused.code, 5, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("add --yes"), "{}", refused.stderr);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["2"]);

    let fresh = strata_env(
        dir.path(),
        &["setup", "--fresh", "--yes", "--database-url", &url],
        &[],
    );
    assert_eq!(fresh.code, 0, "{}\n{}", fresh.stdout, fresh.stderr);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
}

// ---- item 6: locks and waits ----

/// Holds what a running `strata patch` holds, until dropped: on PostgreSQL the
/// advisory lock (in a session of its own), on SQLite the lock file and the write lock.
/// The fields are only held, never read: dropping them lets go.
#[allow(dead_code)]
enum Holder {
    Postgres(::postgres::Client),
    Sqlite(std::fs::File, rusqlite::Connection),
}

impl Holder {
    fn take(db: &Backend) -> (Holder, i32) {
        match db {
            Backend::Postgres(pg) => {
                let mut client = pg.client();
                client
                    .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
                    .unwrap();
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .unwrap()
                    .get(0);
                (Holder::Postgres(client), pid)
            }
            Backend::Sqlite(path) => {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .read(true)
                    .write(true)
                    .open(format!("{}.strata-lock", path.display()))
                    .unwrap();
                file.lock().unwrap();
                file.set_len(0).unwrap();
                write!(file, "{}", std::process::id()).unwrap();
                let connection = rusqlite::Connection::open(path).unwrap();
                connection
                    .execute_batch("BEGIN IMMEDIATE; UPDATE hero SET age = age;")
                    .unwrap();
                (Holder::Sqlite(file, connection), std::process::id() as i32)
            }
        }
    }
}

fn status_answers_at_once_while_another_strata_holds_the_lock(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    db.strata_ok(dir.path(), &["setup"]);
    // SQLite: with a rollback journal, then in WAL mode.
    let rounds = if matches!(kind, Kind::Sqlite) { 2 } else { 1 };
    for round in 0..rounds {
        if round == 1 {
            db.execute("PRAGMA journal_mode = WAL;");
            assert_eq!(db.rows("PRAGMA journal_mode"), ["wal"]);
        }
        let (holder, _) = Holder::take(&db);
        let started = Instant::now();
        let run = db.strata(dir.path(), &["status"]);
        let took = started.elapsed();
        drop(holder);
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("Migrations: 1 applied, 0 pending. Patches: 2 applied, 0 pending."),
            "{}",
            run.stdout
        );
        assert!(took < Duration::from_secs(5), "status took {took:?}");
    }
}

fn a_patch_behind_a_running_patch_waits_up_to_lock_timeout(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    db.strata_ok(dir.path(), &["migrate"]);
    let (holder, pid) = Holder::take(&db);
    // The holder lets go after 3 s; the PostgreSQL lock_timeout (--ddl-lock-timeout)
    // is 1 s, so only a wait that honours --lock-timeout gets through.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(3));
        drop(holder);
    });
    let run = db.strata(
        dir.path(),
        &["patch", "--lock-timeout", "120", "--ddl-lock-timeout", "1"],
    );
    release.join().unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("waiting for the migration lock held by pid {pid}")),
        "{}",
        run.stdout
    );
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
}

fn a_patch_that_cannot_get_the_lock_in_time_exits_5_naming_the_holder(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    db.strata_ok(dir.path(), &["migrate"]);
    let (holder, pid) = Holder::take(&db);
    let started = Instant::now();
    let run = db.strata(dir.path(), &["patch", "--lock-timeout", "2"]);
    let took = started.elapsed();
    drop(holder);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains(&format!("waiting for the migration lock held by pid {pid}")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(&format!(
            "gave up after 2 s waiting for the migration lock held by pid {pid}"
        )),
        "{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(db.rows("SELECT count(*) FROM team"), ["0"]);
}

#[test]
fn a_killed_strata_frees_its_postgres_lock_within_seconds() {
    let dir = example();
    let db = PgDatabase::create();
    std::fs::write(
        dir.path().join("migrations/postgres/V2__slow.sql"),
        "SELECT pg_sleep(60);\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&dir.path().join("migrations/postgres")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DATABASE_URL")
        .args(["migrate", "--database-url", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut observer = db.client();
    let lock_held = |client: &mut ::postgres::Client| -> bool {
        client
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    };
    let sleeping = |client: &mut ::postgres::Client| -> bool {
        client
            .query_one(
                // Not the query text: V1 and V2 go in one message, and the
                // server keeps only its first kilobyte.
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' \
                 AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get::<_, i64>(0)
            > 0
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(lock_held(&mut observer) && sleeping(&mut observer)) {
        assert!(Instant::now() < deadline, "strata never reached V2");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap(); // SIGKILL
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    while lock_held(&mut observer) {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "the killed strata's lock is still held after 10 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!sleeping(&mut observer));
}

// ---- item 7: concurrent setup on a missing PostgreSQL database ----

#[test]
fn sixteen_parallel_setups_on_a_missing_database_all_succeed() {
    let dir = example();
    let db = PgDatabase::named();
    let children: Vec<_> = (0..16)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_strata"))
                .current_dir(dir.path())
                .env_remove("DATABASE_URL")
                .env_remove("STRATA_DATABASE_URL")
                .args(["setup", "--database-url", &db.url])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut created = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        if stdout.contains("(created)") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
    assert_eq!(db.rows("SELECT count(*) FROM strata_patch_history"), ["2"]);
}

// ---- item 9: a symlinked SQLite path ----

#[cfg(unix)]
#[test]
fn a_symlinked_sqlite_path_shares_the_lock_of_its_target() {
    let dir = example();
    let target = dir.path().join("real.db");
    let link = dir.path().join("link.db");
    rusqlite::Connection::open(&target).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("real.db.strata-lock"))
        .unwrap();
    lock.lock().unwrap();
    let run = strata_env(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            "sqlite:link.db",
            "--lock-timeout",
            "1",
        ],
        &[],
    );
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("waiting for the migration lock"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("link.db.strata-lock").exists());
    drop(lock);
    let run = strata_env(
        dir.path(),
        &["migrate", "--database-url", "sqlite:link.db"],
        &[],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        sqlite_strings(&target, "SELECT count(*) FROM refinery_schema_history"),
        ["1"]
    );
}
