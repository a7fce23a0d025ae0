//! The engine boundary: the registry, the migration history as read back from a
//! hand-edited table, the migration lock as a guard, and the URLs each engine
//! accepts — on SQLite files and a real PostgreSQL database.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use strata::driver::{self, ConnectOptions, DatabaseUrl, LockGuard};

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    dir
}

fn options() -> ConnectOptions {
    ConnectOptions::default()
}

#[test]
fn the_dialects_schema_toml_accepts_are_the_registered_engines() {
    let names = driver::dialect_names();
    assert_eq!(
        names,
        driver::ENGINES.iter().map(|e| e.name()).collect::<Vec<_>>()
    );
    let error = strata::schema::parse_schema_text(
        Path::new("schema.toml"),
        "[project]\ndialects = [\"oracle\"]\n\n[table.team.columns]\nid = { type = \"integer\", primary_key = true }\n",
    )
    .unwrap_err()
    .to_string();
    let listed: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    assert!(
        error.contains(&format!("expected one of {}", listed.join(", "))),
        "{error}"
    );
    // Every registered engine's URLs lead back to it.
    for (text, name) in [
        ("sqlite:app.db", "sqlite"),
        ("postgres://app@db/app", "postgres"),
        ("host=db dbname=app", "postgres"),
    ] {
        let url = DatabaseUrl::parse(text, Path::new(".")).unwrap();
        assert_eq!(url.dialect_name(), name, "{text}");
        assert_eq!(url.engine().name(), name, "{text}");
    }
}

/// Migrates the example project into a SQLite file; returns the file.
fn migrated_sqlite(dir: &Path) -> std::path::PathBuf {
    strata_ok(dir, &["migrate"]);
    dir.join("database.db")
}

fn sqlite_exec(path: &Path, sql: &str) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

#[test]
fn a_history_row_with_a_checksum_that_is_not_a_number_is_an_error_naming_it() {
    let dir = example();
    let database = migrated_sqlite(dir.path());
    sqlite_exec(
        &database,
        "UPDATE refinery_schema_history SET checksum = 'not-a-checksum' WHERE version = 1",
    );
    let url =
        DatabaseUrl::parse(&format!("sqlite:{}", database.display()), Path::new(".")).unwrap();
    let mut connection = driver::connect(&url, options()).unwrap();
    let error = connection.applied_migrations().unwrap_err().to_string();
    assert!(error.contains("refinery_schema_history"), "{error}");
    assert!(error.contains("version 1 (V1__"), "{error}");
    assert!(error.contains("checksum \"not-a-checksum\""), "{error}");
    // The command line says the same, exits 1, and does not panic.
    for command in ["status", "migrate"] {
        let run = strata(dir.path(), &[command]);
        assert_eq!(run.code, 1, "{command}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("version 1 (V1__"), "{}", run.stderr);
    }
}

#[test]
fn a_history_row_with_a_value_of_the_wrong_type_is_an_error_naming_it() {
    let dir = example();
    let database = migrated_sqlite(dir.path());
    // SQLite keeps a value its column's affinity cannot convert: a checksum
    // written as a blob, a version written as words.
    sqlite_exec(
        &database,
        "UPDATE refinery_schema_history SET checksum = x'0102' WHERE version = 1",
    );
    let run = strata(dir.path(), &["status"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("version 1 (V1__")
            && run.stderr.contains("checksum is")
            && run.stderr.contains("not text holding a number"),
        "{}",
        run.stderr
    );
    sqlite_exec(
        &database,
        "UPDATE refinery_schema_history SET version = 'one' WHERE version = 1",
    );
    let run = strata(dir.path(), &["status"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("row 1 version is \"one\", not an integer"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_malformed_history_row_on_postgres_is_an_error_naming_it() {
    let dir = example();
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    db.execute("UPDATE refinery_schema_history SET checksum = 'x1' WHERE version = 1");
    let run = strata(dir.path(), &["status", "--database-url", &db.url]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("version 1 (V1__") && run.stderr.contains("checksum \"x1\""),
        "{}",
        run.stderr
    );
}

/// Another connection can take the lock at once: nobody holds it.
fn lock_is_free(url: &DatabaseUrl) -> bool {
    let mut other = driver::connect(url, options()).unwrap();
    let free = LockGuard::take(other.as_mut(), Duration::ZERO, &mut |_| {}).is_ok();
    free
}

fn lock_released_after_a_failed_migration(url: &DatabaseUrl, dir: &Path) {
    let folder = dir.join("migrations").join(url.dialect_name());
    std::fs::write(
        folder.join("V90__broken.sql"),
        "CREATE TABLE broken (id INTEGER;\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
    let mut database = driver::connect(url, options()).unwrap();
    {
        let held = LockGuard::take(database.as_mut(), Duration::ZERO, &mut |_| {}).unwrap();
        assert!(!lock_is_free(url), "the guard holds the lock");
        drop(held);
    }
    assert!(lock_is_free(url), "dropping the guard released the lock");
    let error = strata::migrate::migrate(
        database.as_mut(),
        &folder,
        None,
        Duration::ZERO,
        &mut |_| {},
        |_| {},
    )
    .unwrap_err();
    assert_eq!(
        error.exit_code(),
        strata::error::exit::MIGRATION_FAILED,
        "{error}"
    );
    assert!(error.to_string().contains("V90__broken.sql"), "{error}");
    // The same connection is still open: only the guard can have released it.
    assert!(lock_is_free(url), "the lock was released on the error path");
}

#[test]
fn the_lock_is_released_when_its_guard_drops_on_an_error_path_sqlite() {
    let dir = example();
    let url = DatabaseUrl::parse(
        &format!("sqlite:{}", dir.path().join("database.db").display()),
        Path::new("."),
    )
    .unwrap();
    lock_released_after_a_failed_migration(&url, dir.path());
}

#[test]
fn the_lock_is_released_when_its_guard_drops_on_an_error_path_postgres() {
    let dir = example();
    let db = PgDatabase::create();
    let url = DatabaseUrl::parse(&db.url, Path::new(".")).unwrap();
    lock_released_after_a_failed_migration(&url, dir.path());
}

#[test]
fn sqlite_uri_parameters_open_the_file_and_never_create_one_named_after_them() {
    let dir = example();
    let database = migrated_sqlite(dir.path());
    let url = format!("sqlite:{}?mode=ro", database.display());
    let run = strata_ok(dir.path(), &["status", "--database-url", &url]);
    assert!(
        run.stdout.contains("Migrations: 1 applied") || run.stdout.contains("applied"),
        "{}",
        run.stdout
    );
    // Read-only really is read-only.
    let run = strata(dir.path(), &["patch", "--database-url", &url]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|name| name.contains('?')), "{names:?}");
    // On a file that does not exist, status says so and creates nothing.
    let run = strata_ok(
        dir.path(),
        &["status", "--database-url", "sqlite:missing.db?mode=ro"],
    );
    assert!(run.stdout.contains("does not exist yet"), "{}", run.stdout);
    assert!(!dir.path().join("missing.db").exists());
    assert!(!dir.path().join("missing.db?mode=ro").exists());
}

#[test]
fn url_mistakes_are_usage_errors_with_the_accepted_forms() {
    let dir = example();
    for (url, expected) in [
        ("sqlite:///srv/app.db", "write sqlite:srv/app.db for a path relative"),
        ("sqlite:app.db?mode=readonly", "`mode` takes one of ro, rw, rwc, memory"),
        ("sqlite:app.db?journal=wal", "unknown SQLite URI parameter `journal`"),
        ("postgres://", "names no server, user or database"),
        (
            "postgres://app:s3cret@localhost/app?sslmode=verify-full",
            "unknown sslmode `verify-full`; strata accepts sslmode=disable, sslmode=prefer, sslmode=require",
        ),
    ] {
        let run = strata(dir.path(), &["status", "--database-url", url]);
        assert_eq!(run.code, 2, "{url}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{url}: {}", run.stderr);
        assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
    }
    assert!(!dir.path().join("database.db").exists());
}

#[test]
fn a_missing_password_the_server_asks_for_is_a_usage_error() {
    let dir = example();
    let db = PgDatabase::create();
    let mut without = url::Url::parse(&db.url).unwrap();
    if without.password().is_none() {
        eprintln!("the test server URL has no password; nothing to leave out");
        return;
    }
    without.set_password(None).unwrap();
    let output = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent/strata-test-pgpass")
        .args(["status", "--database-url", without.as_str()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A server that trusts this connection asks for nothing: then there is no error to see.
    if output.status.success() {
        eprintln!("the test server did not ask for a password");
        return;
    }
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("asks user"), "{stderr}");
    assert!(
        stderr.contains("for a password and none was given"),
        "{stderr}"
    );
}
