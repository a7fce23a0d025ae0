//! `strata check` (the CI gate), `strata hash`, and the refusals of commands run
//! outside a project — on SQLite files and a real PostgreSQL database.

mod common;

use common::*;

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    dir
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

#[test]
fn a_clean_project_passes_check_without_a_database() {
    let dir = example();
    let run = strata_ok(dir.path(), &["check"]);
    assert_eq!(
        run.stdout,
        "check: schema.toml and the migrations agree; nothing pending.\n"
    );
    assert!(
        !dir.path().join("database.db").exists(),
        "check created a database"
    );
}

#[test]
fn check_names_an_edited_migration_and_hash_accepts_a_deliberate_edit() {
    let dir = example();
    let path = dir
        .path()
        .join("migrations/sqlite/V1__create_team_and_hero.sql");
    let mut sql = std::fs::read_to_string(&path).unwrap();
    sql.push_str("\n-- a hand edit\n");
    std::fs::write(&path, sql).unwrap();

    let run = strata(dir.path(), &["check"]);
    assert_eq!(run.code, 10, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "integrity: ./migrations/sqlite: V1__create_team_and_hero.sql was edited after it was generated or hashed"
        ),
        "{}",
        run.stderr
    );
    let generate = strata(dir.path(), &["generate", "more"]);
    assert_eq!(generate.code, 5, "{}", generate.stderr);
    assert!(generate.stderr.contains("nothing was written"));

    let hash = strata_ok(dir.path(), &["hash"]);
    assert!(hash.stdout.contains("Wrote ./migrations/sqlite/strata.sum"));
    strata_ok(dir.path(), &["check"]);
}

#[test]
fn check_names_deleted_added_and_renumbered_migrations() {
    let dir = example();
    let sqlite = dir.path().join("migrations/sqlite");
    std::fs::write(sqlite.join("V2__by_hand.sql"), "SELECT 1;\n").unwrap();
    let run = strata(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 10);
    let document = json(&run);
    let messages: Vec<String> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["kind"], f["message"]))
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("\"integrity\"")
            && m.contains("V2__by_hand.sql was added by hand")),
        "{messages:?}"
    );
    // The PostgreSQL folder has no V2: the dialects are out of lockstep too.
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\"lockstep\"") && m.contains("has version 2")),
        "{messages:?}"
    );

    std::fs::remove_file(sqlite.join("V2__by_hand.sql")).unwrap();
    std::fs::rename(
        sqlite.join("V1__create_team_and_hero.sql"),
        sqlite.join("V3__create_team_and_hero.sql"),
    )
    .unwrap();
    let run = strata(dir.path(), &["check"]);
    assert_eq!(run.code, 10);
    assert!(
        run.stderr
            .contains("V3__create_team_and_hero.sql was named V1__create_team_and_hero.sql"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(sqlite.join("V3__create_team_and_hero.sql")).unwrap();
    let run = strata(dir.path(), &["check"]);
    assert!(
        run.stderr
            .contains("V1__create_team_and_hero.sql was deleted"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_schema_changes_not_yet_generated() {
    let dir = example();
    let schema = std::fs::read_to_string(dir.path().join("schema.toml"))
        .unwrap()
        .replace(
            "headquarters = \"text\"",
            "headquarters = \"text\"\nmotto = { type = \"text\", nullable = true }",
        );
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
    let run = strata(dir.path(), &["check"]);
    assert_eq!(run.code, 12, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("schema_out_of_sync: schema.toml and migrations/sqlite disagree"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("add column team.motto"),
        "{}",
        run.stderr
    );
}

fn drift_and_pending(kind: Kind) {
    let dir = example();
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["migrate"]);

    // Patches are not applied yet: pending.
    let run = backend.strata(dir.path(), &["check"]);
    assert_eq!(run.code, 14, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("patch 0001_heroes_and_teams is pending"),
        "{}",
        run.stderr
    );
    backend.strata_ok(dir.path(), &["patch"]);
    backend.strata_ok(dir.path(), &["check"]);

    // Someone adds a column by hand on the live database.
    backend.execute("ALTER TABLE hero ADD COLUMN power VARCHAR");
    let before = backend.snapshot();
    let run = backend.strata(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 13, "{}\n{}", run.stdout, run.stderr);
    let document = json(&run);
    let finding = &document["findings"][0];
    assert_eq!(finding["kind"], "drift");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("drop column hero.power"),
        "{finding}"
    );
    assert_eq!(document["ok"], false);
    // check only looks.
    assert_eq!(backend.snapshot(), before);

    // Every finding comes first by kind: a schema.toml change not generated yet
    // (12) outranks the drift, an edited migration of this engine (10) both.
    let schema = std::fs::read_to_string(dir.path().join("schema.toml"))
        .unwrap()
        .replace(
            "headquarters = \"text\"",
            "headquarters = \"text\"\nmotto = { type = \"text\", nullable = true }",
        );
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
    let run = backend.strata(dir.path(), &["check"]);
    assert_eq!(run.code, 12, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("add column team.motto"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("drift:"), "{}", run.stderr);
    let folder = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    let migration = dir
        .path()
        .join("migrations")
        .join(folder)
        .join("V1__create_team_and_hero.sql");
    let mut sql = std::fs::read_to_string(&migration).unwrap();
    sql.push_str("\n-- edited after it was applied\n");
    std::fs::write(&migration, sql).unwrap();
    let run = backend.strata(dir.path(), &["check"]);
    assert_eq!(run.code, 10, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "integrity: ./migrations/{folder}: V1__create_team_and_hero.sql was edited"
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("V1__create_team_and_hero.sql was changed after it was applied"),
        "{}",
        run.stderr
    );
    assert_eq!(backend.snapshot(), before);
}

#[test]
fn check_finds_drift_and_pending_patches_on_sqlite() {
    drift_and_pending(Kind::Sqlite);
}

#[test]
fn check_finds_drift_and_pending_patches_on_postgres() {
    drift_and_pending(Kind::Postgres);
}

#[test]
fn check_never_creates_a_database_file() {
    let dir = example();
    let run = strata(
        dir.path(),
        &["check", "--database-url", "sqlite:nothere.db"],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!dir.path().join("nothere.db").exists());
}

#[test]
fn commands_outside_a_project_refuse_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for command in [
        &["migrate"][..],
        &["patch"],
        &["setup"],
        &["status"],
        &["check"],
        &["hash"],
        &["generate", "x"],
    ] {
        let run = strata(dir.path(), command);
        assert_eq!(run.code, 2, "{command:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "no strata project here: ./schema.toml does not exist; run `strata init`"
            ),
            "{command:?}: {}",
            run.stderr
        );
    }
    let run = strata(dir.path(), &["status", "--project", "no/such/dir"]);
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("the project folder no/such/dir does not exist"));
    let run = strata(dir.path(), &["pull", "--database-url", "sqlite:nothere.db"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("the database file does not exist"));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files were created: {left:?}");
}
