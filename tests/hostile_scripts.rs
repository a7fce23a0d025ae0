//! Hostile SQL in files users write (issue #8, items 2 and 5): transaction control
//! inside migrations and patches, bodies that only look like it, and big scripts.
//! Each test runs on a SQLite file and on a PostgreSQL database of its own unless
//! it is about one engine.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    sql_patch_with_commit_is_refused_and_dry_run_changes_nothing,
    toml_sql_operation_with_commit_is_refused,
    migration_with_commit_is_refused_before_anything_runs,
    migration_with_statement_that_needs_no_transaction_is_refused,
    no_transaction_migration_still_refuses_transaction_control,
);

fn folder(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

/// The example project, migrated and patched (heroes and teams in it).
fn set_up(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["setup"]);
    (dir, backend)
}

fn write_migration(project: &Path, kind: Kind, file: &str, sql: &str) {
    let migrations = project.join("migrations").join(folder(kind));
    std::fs::write(migrations.join(file), sql).unwrap();
    // Hand-written, so recorded in the integrity file as `strata hash` would.
    strata::migrate::integrity::rehash(&migrations).unwrap();
}

fn sql_patch_with_commit_is_refused_and_dry_run_changes_nothing(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    std::fs::write(
        dir.path().join("patches/0003_sneaky.sql"),
        "-- adds a team, committing by itself\nBEGIN;\nINSERT INTO team (name, headquarters) VALUES ('Z-Force', 'Bar');\nCOMMIT;\n",
    )
    .unwrap();

    for args in [&["patch", "--dry-run"][..], &["patch"][..]] {
        let run = db.strata(dir.path(), args);
        assert_eq!(run.code, 3, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("0003_sneaky.sql:2:1")
                && run.stderr.contains("0003_sneaky.sql:4:1"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(
                "`BEGIN` is transaction control, which a patch must not contain: strata runs each \
                 patch in a transaction of its own, together with its history row, and rolls it back on --dry-run"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("put that part in a patch of its own"),
            "{}",
            run.stderr
        );
        assert!(!run.stdout.contains("rolled back"), "{}", run.stdout);
        assert_eq!(db.snapshot(), before, "{args:?} changed the database");
    }
}

fn toml_sql_operation_with_commit_is_refused(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    std::fs::write(
        dir.path().join("patches/0003_sneaky.toml"),
        "description = \"sneaky\"\n\n[[sql]]\nstatement = \"UPDATE hero SET age = 1\"\n\n[[sql]]\nstatement = 'commit'\n",
    )
    .unwrap();
    let run = db.strata(dir.path(), &["patch", "--dry-run"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("0003_sneaky.toml:7:14")
            && run.stderr.contains("`COMMIT` is transaction control"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

fn migration_with_commit_is_refused_before_anything_runs(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    write_migration(
        dir.path(),
        kind,
        "V2__sneaky.sql",
        "INSERT INTO team (name, headquarters) VALUES ('Z-Force', 'Bar');\n  COMMIT;\nINSERT INTO nosuchtable VALUES (1);\n",
    );
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__sneaky.sql:2:3")
            && run.stderr.contains(
                "`COMMIT` is transaction control, which a migration must not contain: strata runs \
                 each migration in a transaction of its own, together with its history row"
            ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("rolled back"), "{}", run.stderr);
    // Nothing ran: no Z-Force, no history row for V2.
    assert_eq!(db.snapshot(), before);
    let status = db.strata_ok(dir.path(), &["status"]);
    assert!(status.stdout.contains("V2__sneaky"), "{}", status.stdout);
}

fn migration_with_statement_that_needs_no_transaction_is_refused(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    let statement = match kind {
        Kind::Sqlite => "VACUUM;",
        Kind::Postgres => "CREATE INDEX CONCURRENTLY ix_hero_secret ON hero (secret_name);",
    };
    write_migration(
        dir.path(),
        kind,
        "V2__index.sql",
        &format!("-- a comment with COMMIT; in it\n{statement}\n"),
    );
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__index.sql:2:1")
            && run.stderr.contains("cannot run inside a transaction")
            && run.stderr.contains(
                "put it in a migration of its own whose first line is `-- strata: no-transaction`"
            ),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

fn no_transaction_migration_still_refuses_transaction_control(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    write_migration(
        dir.path(),
        kind,
        "V2__index.sql",
        "-- strata: no-transaction\nBEGIN;\nCREATE INDEX ix_hero_secret ON hero (secret_name);\nCOMMIT;\n",
    );
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__index.sql:2:1")
            && run.stderr.contains("V2__index.sql:4:1")
            && run.stderr.contains("`BEGIN` is transaction control"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn postgres_create_index_concurrently_runs_in_a_no_transaction_migration() {
    let (dir, db) = set_up(Kind::Postgres);
    write_migration(
        dir.path(),
        Kind::Postgres,
        "V2__index.sql",
        "-- strata: no-transaction\n-- built without locking hero against writes\n\
         CREATE INDEX CONCURRENTLY ix_hero_secret ON hero (secret_name);\n\
         CREATE INDEX CONCURRENTLY ix_hero_team ON hero (team_id);\n",
    );
    db.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        db.rows(
            "SELECT c.relname, i.indisvalid, i.indisready FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname IN ('ix_hero_secret', 'ix_hero_team') ORDER BY 1"
        ),
        ["ix_hero_secret|t|t", "ix_hero_team|t|t"]
    );
    assert_eq!(
        db.rows("SELECT version, name FROM refinery_schema_history WHERE version = 2"),
        ["2|index"]
    );
    let status = db.strata_ok(dir.path(), &["status"]);
    assert!(
        status.stdout.contains("applied   V2__index"),
        "{}",
        status.stdout
    );
}

#[test]
fn postgres_generate_replays_a_no_transaction_migration_and_rollback_runs_its_down_file() {
    let (dir, db) = set_up(Kind::Postgres);
    // Two statements: sent as one message they would share an implicit
    // transaction, in which CONCURRENTLY fails.
    write_migration(
        dir.path(),
        Kind::Postgres,
        "V2__index.sql",
        "-- strata: no-transaction\n\
         CREATE INDEX CONCURRENTLY ix_hero_secret ON hero (secret_name);\n\
         CREATE INDEX CONCURRENTLY ix_hero_team ON hero (team_id);\n",
    );
    write_migration(
        dir.path(),
        Kind::Sqlite,
        "V2__index.sql",
        "CREATE INDEX ix_hero_secret ON hero (secret_name);\nCREATE INDEX ix_hero_team ON hero (team_id);\n",
    );
    // Replayed on a scratch database statement by statement, as migrate runs it:
    // generate sees the indexes (and drops them, as schema.toml lacks them).
    let generate = db.strata_ok(
        dir.path(),
        &["generate", "after_index", "--dev-url", &pg_server_url()],
    );
    assert!(
        generate
            .stdout
            .contains("drop index ix_hero_secret on hero"),
        "{}",
        generate.stdout
    );
    for dialect in [Kind::Sqlite, Kind::Postgres] {
        let migrations = dir.path().join("migrations").join(folder(dialect));
        for suffix in [".sql", ".down.sql"] {
            std::fs::remove_file(migrations.join(format!("V3__after_index{suffix}"))).unwrap();
        }
        strata::migrate::integrity::rehash(&migrations).unwrap();
    }
    write_migration(
        dir.path(),
        Kind::Postgres,
        "V2__index.down.sql",
        "-- strata: no-transaction\nDROP INDEX CONCURRENTLY ix_hero_secret;\n",
    );
    db.strata_ok(dir.path(), &["migrate"]);
    // The down file runs statement by statement too (DROP INDEX CONCURRENTLY
    // fails in a transaction), then the history row goes.
    db.strata_ok(dir.path(), &["rollback"]);
    assert_eq!(
        db.rows("SELECT count(*) FROM pg_class WHERE relname = 'ix_hero_secret'"),
        ["0"]
    );
    assert_eq!(
        db.rows("SELECT version FROM refinery_schema_history ORDER BY version"),
        ["1"]
    );
}

#[test]
fn postgres_failed_no_transaction_migration_keeps_earlier_statements_and_says_so() {
    let (dir, db) = set_up(Kind::Postgres);
    write_migration(
        dir.path(),
        Kind::Postgres,
        "V2__index.sql",
        "-- strata: no-transaction\n\
         CREATE INDEX CONCURRENTLY ix_hero_secret ON hero (secret_name);\n\
         CREATE INDEX CONCURRENTLY ix_nothing ON nosuchtable (x);\n",
    );
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__index.sql")
            && run.stderr.contains("nosuchtable")
            && run.stderr.contains(
                "runs without a transaction (`-- strata: no-transaction`), so the statements \
                 before the failing one stay applied"
            )
            && run.stderr.contains("INVALID index"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_hero_secret'::regclass"),
        ["t"]
    );
    assert!(db
        .rows("SELECT version FROM refinery_schema_history WHERE version = 2")
        .is_empty());
}

#[test]
fn sqlite_vacuum_runs_in_a_no_transaction_migration() {
    let (dir, db) = set_up(Kind::Sqlite);
    write_migration(
        dir.path(),
        Kind::Sqlite,
        "V2__vacuum.sql",
        "-- strata: no-transaction\nVACUUM;\n",
    );
    db.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        db.rows("SELECT version, name FROM refinery_schema_history WHERE version = 2"),
        ["2|vacuum"]
    );
}

#[test]
fn sqlite_trigger_bodies_are_not_transaction_control() {
    let (dir, db) = set_up(Kind::Sqlite);
    write_migration(
        dir.path(),
        Kind::Sqlite,
        "V2__hero_audit.sql",
        "CREATE TABLE audit (note TEXT NOT NULL);\n\
         CREATE TRIGGER hero_audit AFTER INSERT ON hero\n\
         BEGIN\n\
             INSERT INTO audit (note) VALUES ('begin; ' || NEW.name || CASE WHEN NEW.age IS NULL THEN ' ageless' ELSE '' END);\n\
             INSERT INTO audit (note) VALUES ('end;');\n\
         END;\n\
         INSERT INTO hero (name, secret_name) VALUES ('Tarantula', 'Natalia');\n",
    );
    db.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        db.rows("SELECT note FROM audit ORDER BY rowid"),
        ["begin; Tarantula ageless", "end;"]
    );
}

#[test]
fn postgres_bodies_and_strings_with_commit_are_accepted() {
    let (dir, db) = set_up(Kind::Postgres);
    write_migration(
        dir.path(),
        Kind::Postgres,
        "V2__functions.sql",
        "CREATE FUNCTION last_word() RETURNS text LANGUAGE plpgsql AS $$\n\
         BEGIN\n\
             RETURN 'COMMIT';\n\
         END\n\
         $$;\n\
         CREATE FUNCTION hero_count() RETURNS bigint LANGUAGE sql\n\
         BEGIN ATOMIC\n\
             SELECT count(*) FROM hero;\n\
         END;\n\
         /* ROLLBACK; /* nested */ END; */\n\
         INSERT INTO team (name, headquarters) VALUES (E'Commit\\'s; COMMIT;', $tag$ROLLBACK;$tag$);\n",
    );
    db.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(db.rows("SELECT last_word()"), ["COMMIT"]);
    assert_eq!(
        db.rows("SELECT headquarters FROM team WHERE name = 'Commit''s; COMMIT;'"),
        ["ROLLBACK;"]
    );
    assert_eq!(db.rows("SELECT hero_count() > 0"), ["t"]);
}

#[test]
fn generate_refuses_to_replay_a_migration_with_commit() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    write_migration(
        dir.path(),
        Kind::Sqlite,
        "V2__sneaky.sql",
        "CREATE TABLE extra (id INTEGER);\nEND TRANSACTION;\n",
    );
    let run = strata(dir.path(), &["generate", "next"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__sneaky.sql:2:1")
            && run.stderr.contains("`END` is transaction control"),
        "{}",
        run.stderr
    );
}

/// A migration of many INSERT lines goes through the statement-by-statement runner
/// (linear in the script's size; ci/bench-sqlite-script measures it) and keeps
/// every row; a failure in it names its line.
#[test]
fn sqlite_insert_per_line_migration_applies_every_row_and_names_a_failing_line() {
    let (dir, db) = set_up(Kind::Sqlite);
    let mut sql = String::from("CREATE TABLE bulk (id INTEGER PRIMARY KEY, note TEXT);\n");
    for i in 0..20_000 {
        sql.push_str(&format!(
            "INSERT INTO bulk (id, note) VALUES ({i}, 'row; {i}');\n"
        ));
    }
    write_migration(dir.path(), Kind::Sqlite, "V2__bulk.sql", &sql);
    db.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        db.rows("SELECT count(*), sum(id) FROM bulk"),
        ["20000|199990000"]
    );

    let before = db.snapshot();
    let mut broken = String::new();
    for i in 0..1_000 {
        broken.push_str(&format!(
            "INSERT INTO bulk (id) VALUES ({});\n",
            100_000 + i
        ));
    }
    broken.push_str("INSERT INTO bulk (id) VALUES (0);\n");
    write_migration(dir.path(), Kind::Sqlite, "V3__clash.sql", &broken);
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("UNIQUE constraint failed: bulk.id at line 1001, column 1"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}
