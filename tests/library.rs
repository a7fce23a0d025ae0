//! The library's typed errors, as an application calling strata at start-up
//! would match on them.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use strata::driver::DatabaseUrl;
use strata::project::Project;
use strata::Error;

fn open(project: &Path) -> (DatabaseUrl, Box<dyn strata::driver::Database>) {
    let url = DatabaseUrl::parse(
        &format!("sqlite:{}", project.join("app.db").display()),
        Path::new("."),
    )
    .unwrap();
    let database = strata::driver::connect(&url, Default::default()).unwrap();
    (url, database)
}

fn migrate(project: &Path, database: &mut dyn strata::driver::Database) -> strata::Result<()> {
    strata::migrate::migrate(
        database,
        &project.join("migrations/sqlite"),
        None,
        Duration::from_secs(5),
        &mut |_| {},
        |_| {},
    )
    .map(|_| ())
}

#[test]
fn a_failed_migration_is_a_typed_error_with_its_file_and_the_database_message() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let (_, mut database) = open(dir.path());
    migrate(dir.path(), database.as_mut()).unwrap();
    let folder = dir.path().join("migrations/sqlite");
    std::fs::write(
        folder.join("V2__broken.sql"),
        "INSERT INTO nowhere VALUES (1);\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
    match migrate(dir.path(), database.as_mut()) {
        Err(Error::MigrationFailed {
            file,
            message,
            outcome,
            by_storage,
        }) => {
            assert_eq!(file, folder.join("V2__broken.sql"));
            assert!(message.contains("no such table: nowhere"), "{message}");
            assert!(outcome.contains("rolled back"), "{outcome}");
            assert!(!by_storage);
        }
        other => panic!("expected MigrationFailed, got {other:?}"),
    }
    // V1 stays applied; V2 left nothing behind.
    let history = sqlite_strings(
        &dir.path().join("app.db"),
        "SELECT version FROM refinery_schema_history",
    );
    assert_eq!(history, ["1"]);
}

#[test]
fn drift_is_a_typed_error_listing_the_differences() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let (url, mut database) = open(dir.path());
    migrate(dir.path(), database.as_mut()).unwrap();
    let project = Project::new(dir.path());
    strata::migrate::check::ensure_no_drift(&project, &url, database.as_mut(), None).unwrap();
    rusqlite::Connection::open(dir.path().join("app.db"))
        .unwrap()
        .execute_batch("CREATE TABLE by_hand (id INTEGER);")
        .unwrap();
    match strata::migrate::check::ensure_no_drift(&project, &url, database.as_mut(), None) {
        Err(Error::Drift {
            database,
            differences,
        }) => {
            assert_eq!(database, url.to_string());
            assert_eq!(differences, ["drop table by_hand"]);
        }
        other => panic!("expected Drift, got {other:?}"),
    }
}

#[test]
fn a_refused_connection_is_a_typed_error_with_its_source() {
    let url = DatabaseUrl::parse("postgres://app:secret@127.0.0.1:1/app", Path::new(".")).unwrap();
    match strata::driver::connect(&url, Default::default()) {
        Err(error @ Error::Connection { .. }) => {
            let Error::Connection {
                database, message, ..
            } = &error
            else {
                unreachable!()
            };
            assert_eq!(database, "postgres://app:***@127.0.0.1:1/app");
            assert!(message.contains("connection refused"), "{message}");
            assert!(!message.contains("secret"));
            assert!(std::error::Error::source(&error).is_some());
            assert_eq!(error.exit_code(), 1);
        }
        Err(other) => panic!("expected Connection, got {other:?}"),
        Ok(_) => panic!("connected to port 1"),
    }
}

#[test]
fn a_lock_held_too_long_is_a_typed_error_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let (url, mut first) = open(dir.path());
    let _held =
        strata::driver::LockGuard::take(first.as_mut(), Duration::from_secs(1), &mut |_| {})
            .unwrap();
    let mut second = strata::driver::connect(&url, Default::default()).unwrap();
    let taken =
        strata::driver::LockGuard::take(second.as_mut(), Duration::from_millis(200), &mut |_| {})
            .map(|_| ());
    match taken {
        Err(Error::LockTimeout { holder, place, .. }) => {
            assert_eq!(holder, Some(format!("pid {}", std::process::id())));
            assert!(place.contains("app.db.strata-lock"), "{place}");
        }
        Err(other) => panic!("expected LockTimeout, got {other:?}"),
        Ok(_) => panic!("took a lock another connection holds"),
    }
}
