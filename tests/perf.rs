//! The fast paths of issue #15: a new SQLite database migrated in one transaction,
//! the cached replay of `generate`/`check`, and template databases with clones.

mod common;

use common::*;

/// Writes a hand-made migration and records it in the integrity file, as
/// `strata hash` does.
fn add_migration(project: &std::path::Path, dialect: &str, file: &str, sql: &str) {
    let folder = project.join("migrations").join(dialect);
    std::fs::write(folder.join(file), sql).unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
}

#[test]
fn a_failed_setup_of_a_new_sqlite_file_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    add_migration(
        project,
        "sqlite",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "INSERT INTO nowhere VALUES (1);\n",
    );
    let run = strata(project, &["setup"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V3__broken.sql failed: no such table: nowhere")
            && run.stderr.contains("nothing was applied and the database file was removed"),
        "{}",
        run.stderr
    );
    assert!(!project.join("database.db").exists());
    assert!(!project.join("database.db-journal").exists());

    // Fixed, the same setup builds everything.
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "CREATE TABLE nowhere (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    );
    strata_ok(project, &["setup"]);
    let db = project.join("database.db");
    assert_eq!(
        sqlite_strings(&db, "SELECT version, name FROM refinery_schema_history ORDER BY version"),
        vec!["1|create_team_and_hero", "2|sidekick", "3|broken"]
    );
    assert_eq!(
        sqlite_strings(
            &db,
            "SELECT team.name FROM hero JOIN team ON team.id = hero.team_id WHERE hero.name = 'Spider-Boy'"
        ),
        vec!["Preventers"]
    );
}

#[test]
fn an_existing_sqlite_database_keeps_one_transaction_per_migration() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    strata_ok(project, &["migrate"]);
    add_migration(
        project,
        "sqlite",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "INSERT INTO nowhere VALUES (1);\n",
    );
    let run = strata(project, &["migrate"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("V3__broken.sql was rolled back; the database is as it was before it (at V2)"),
        "{}",
        run.stderr
    );
    let db = project.join("database.db");
    assert_eq!(
        sqlite_strings(&db, "SELECT version FROM refinery_schema_history ORDER BY version"),
        vec!["1", "2"]
    );
}
