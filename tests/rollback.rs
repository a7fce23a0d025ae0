//! `strata rollback` on SQLite files and a real PostgreSQL database: down files
//! run with the removal of their history row, refusals change nothing.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    rollback_runs_the_down_file_and_forgets_the_migration,
    dry_run_shows_the_down_sql_and_changes_nothing,
    a_migration_without_a_down_file_is_refused_by_name,
    an_irreversible_down_file_needs_allow_destructive,
    a_no_transaction_down_file_runs_outside_a_transaction,
    a_no_transaction_down_file_failing_part_way_keeps_the_history_row,
    the_tutorial_rolls_back_step_by_step_keeping_its_rows,
);

fn folder(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

/// The example project, set up, plus a hand-written V2 (with `down` when given)
/// that adds `hero.power`, applied.
fn set_up(kind: Kind, down: Option<&str>) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["setup"]);
    let migrations = dir.path().join("migrations").join(folder(kind));
    std::fs::write(
        migrations.join("V2__add_power.sql"),
        "ALTER TABLE hero ADD COLUMN power VARCHAR;\n",
    )
    .unwrap();
    if let Some(down) = down {
        std::fs::write(migrations.join("V2__add_power.down.sql"), down).unwrap();
    }
    strata::migrate::integrity::rehash(&migrations).unwrap();
    backend.strata_ok(dir.path(), &["migrate"]);
    backend.execute("UPDATE hero SET power = 'webs' WHERE name = 'Spider-Boy'");
    (dir, backend)
}

fn heroes(backend: &Backend) -> Vec<String> {
    backend.rows("SELECT name, secret_name, team_id FROM hero ORDER BY id")
}

fn history(backend: &Backend) -> Vec<String> {
    backend.rows("SELECT version FROM refinery_schema_history ORDER BY version")
}

fn has_power(backend: &Backend, project: &Path) -> bool {
    let run = backend.strata_ok(project, &["pull"]);
    run.stdout.contains("power")
}

fn rollback_runs_the_down_file_and_forgets_the_migration(kind: Kind) {
    let (dir, backend) = set_up(kind, Some("ALTER TABLE hero DROP COLUMN power;\n"));
    let before = heroes(&backend);
    assert!(has_power(&backend, dir.path()));

    let run = backend.strata_ok(dir.path(), &["rollback"]);
    assert!(
        run.stdout.contains("rolled back V2__add_power")
            && run
                .stdout
                .contains("Rollback: rolled back 1 migration; the database is at V1."),
        "{}",
        run.stdout
    );
    assert!(!has_power(&backend, dir.path()));
    assert_eq!(heroes(&backend), before);
    assert_eq!(history(&backend), ["1"]);
    let status = backend.strata_ok(dir.path(), &["status"]);
    assert!(
        status.stdout.contains("pending   V2__add_power"),
        "{}",
        status.stdout
    );

    // Forward again: the migration applies as new.
    backend.strata_ok(dir.path(), &["migrate"]);
    assert!(has_power(&backend, dir.path()));
    assert_eq!(history(&backend), ["1", "2"]);
}

fn dry_run_shows_the_down_sql_and_changes_nothing(kind: Kind) {
    let (dir, backend) = set_up(kind, Some("ALTER TABLE hero DROP COLUMN power;\n"));
    let before = backend.snapshot();
    let run = backend.strata_ok(dir.path(), &["rollback", "--dry-run", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["command"], "rollback");
    assert_eq!(document["dry_run"], true);
    assert_eq!(document["rolled_back"][0]["version"], 2);
    assert_eq!(
        document["rolled_back"][0]["sql"],
        "ALTER TABLE hero DROP COLUMN power;\n"
    );
    assert_eq!(backend.snapshot(), before);
    assert_eq!(history(&backend), ["1", "2"]);
}

fn a_migration_without_a_down_file_is_refused_by_name(kind: Kind) {
    let (dir, backend) = set_up(kind, None);
    let before = backend.snapshot();
    let run = backend.strata(dir.path(), &["rollback"]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "V2__add_power.sql has no down file (V2__add_power.down.sql), so it cannot be rolled back"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(backend.snapshot(), before);

    // --to 0 would also need V1's, which the example project does not have:
    // refused as a whole, V2 is not undone on its own.
    std::fs::write(
        dir.path()
            .join("migrations")
            .join(folder(kind))
            .join("V2__add_power.down.sql"),
        "ALTER TABLE hero DROP COLUMN power;\n",
    )
    .unwrap();
    strata_ok(dir.path(), &["hash"]);
    let run = backend.strata(dir.path(), &["rollback", "--to", "0"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("V1__create_team_and_hero.sql has no down file"),
        "{}",
        run.stderr
    );
    assert_eq!(backend.snapshot(), before);
}

fn an_irreversible_down_file_needs_allow_destructive(kind: Kind) {
    let (dir, backend) = set_up(
        kind,
        Some(
            "-- strata: irreversible\n-- the down step cannot bring back the rows V2 deleted\nALTER TABLE hero DROP COLUMN power;\n",
        ),
    );
    let before = backend.snapshot();
    let run = backend.strata(dir.path(), &["rollback"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "V2__add_power.down.sql cannot restore everything V2__add_power.sql changed (the down step cannot bring back the rows V2 deleted); run again with --allow-destructive"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(backend.snapshot(), before);
    backend.strata_ok(dir.path(), &["rollback", "--allow-destructive"]);
    assert_eq!(history(&backend), ["1"]);
}

#[test]
fn an_edited_down_file_is_caught_by_the_integrity_check() {
    let (dir, backend) = set_up(Kind::Sqlite, Some("ALTER TABLE hero DROP COLUMN power;\n"));
    std::fs::write(
        dir.path().join("migrations/sqlite/V2__add_power.down.sql"),
        "DROP TABLE hero;\n",
    )
    .unwrap();
    let run = backend.strata(dir.path(), &["rollback"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("V2__add_power.down.sql was edited after it was generated or hashed"),
        "{}",
        run.stderr
    );
    assert_eq!(history(&backend), ["1", "2"]);
}

/// The example project, set up, plus a hand-written `-- strata: no-transaction`
/// V2 that builds an index on `hero` (CONCURRENTLY on PostgreSQL) with `down`
/// beside it, applied.
fn set_up_index(kind: Kind, down: &str) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["setup"]);
    let migrations = dir.path().join("migrations").join(folder(kind));
    let concurrently = match kind {
        Kind::Sqlite => "",
        Kind::Postgres => "CONCURRENTLY ",
    };
    std::fs::write(
        migrations.join("V2__index_names.sql"),
        format!(
            "-- strata: no-transaction\nCREATE INDEX {concurrently}hero_by_secret ON hero (secret_name);\n"
        ),
    )
    .unwrap();
    std::fs::write(migrations.join("V2__index_names.down.sql"), down).unwrap();
    strata::migrate::integrity::rehash(&migrations).unwrap();
    backend.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(indexes(&backend), ["hero_by_secret"]);
    (dir, backend)
}

/// strata's indexes on `hero` (those named hero_by_…).
fn indexes(backend: &Backend) -> Vec<String> {
    backend.rows(match backend {
        Backend::Sqlite(_) => {
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'hero_by_%' ORDER BY name"
        }
        Backend::Postgres(_) => {
            "SELECT indexname FROM pg_indexes WHERE tablename = 'hero' AND indexname LIKE 'hero_by_%' \
             ORDER BY indexname"
        }
    })
}

/// `DROP INDEX CONCURRENTLY` (PostgreSQL) and `VACUUM` (SQLite) fail inside a
/// transaction: the down file runs statement by statement, then the history row
/// goes, and the migration can be applied again.
fn a_no_transaction_down_file_runs_outside_a_transaction(kind: Kind) {
    let down = match kind {
        Kind::Sqlite => "-- strata: no-transaction\nDROP INDEX hero_by_secret;\nVACUUM;\n",
        Kind::Postgres => "-- strata: no-transaction\nDROP INDEX CONCURRENTLY hero_by_secret;\n",
    };
    let (dir, backend) = set_up_index(kind, down);
    let before = heroes(&backend);

    let run = backend.strata_ok(dir.path(), &["rollback"]);
    assert!(
        run.stdout
            .contains("Rollback: rolled back 1 migration; the database is at V1."),
        "{}",
        run.stdout
    );
    assert!(indexes(&backend).is_empty());
    assert_eq!(history(&backend), ["1"]);
    assert_eq!(heroes(&backend), before);
    let status = backend.strata_ok(dir.path(), &["status"]);
    assert!(
        status.stdout.contains("pending   V2__index_names"),
        "{}",
        status.stdout
    );

    backend.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(indexes(&backend), ["hero_by_secret"]);
    assert_eq!(history(&backend), ["1", "2"]);
}

/// A statement that fails part-way: the ones before it stay done and are named,
/// the history row stays, and once the file is fixed rollback finishes.
fn a_no_transaction_down_file_failing_part_way_keeps_the_history_row(kind: Kind) {
    let concurrently = match kind {
        Kind::Sqlite => "",
        Kind::Postgres => "CONCURRENTLY ",
    };
    let down = format!(
        "-- strata: no-transaction\n\
         DROP INDEX {concurrently}hero_by_secret;\n\
         DROP INDEX {concurrently}hero_by_nothing;\n\
         CREATE INDEX {concurrently}hero_by_team ON hero (team_id);\n"
    );
    let (dir, backend) = set_up_index(kind, &down);
    let run = backend.strata(dir.path(), &["rollback"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let expected = format!(
        "V2__index_names.down.sql runs without a transaction (`-- strata: no-transaction`), so \
         each statement committed on its own: this statement ran and stays done: line 2: \
         `DROP INDEX {concurrently}hero_by_secret;`; the next statement (line 3: \
         `DROP INDEX {concurrently}hero_by_nothing;`) failed, and none after it ran. V2's \
         history row is kept, so the database still counts V2 as applied; make the down file \
         safe to run again (IF EXISTS) or undo what ran by hand, then run rollback again"
    );
    assert!(
        run.stderr.contains("V2__index_names.down.sql failed")
            && run.stderr.contains("hero_by_nothing")
            && run.stderr.contains(&expected),
        "{}",
        run.stderr
    );
    // The first statement ran, the third did not, and V2 is still applied.
    assert!(indexes(&backend).is_empty());
    assert_eq!(history(&backend), ["1", "2"]);
    let status = backend.strata_ok(dir.path(), &["status"]);
    assert!(
        status.stdout.contains("applied   V2__index_names"),
        "{}",
        status.stdout
    );

    let migrations = dir.path().join("migrations").join(folder(kind));
    std::fs::write(
        migrations.join("V2__index_names.down.sql"),
        format!("-- strata: no-transaction\nDROP INDEX {concurrently}IF EXISTS hero_by_secret;\n"),
    )
    .unwrap();
    strata_ok(dir.path(), &["hash"]);
    backend.strata_ok(dir.path(), &["rollback"]);
    assert_eq!(history(&backend), ["1"]);
    assert!(indexes(&backend).is_empty());
}

/// Rewrites schema.toml's text, replacing `from` (which must be there) with `to`.
fn edit_schema(project: &Path, from: &str, to: &str) {
    let path = project.join("schema.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} is not in\n{text}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// The tutorial's first two steps (rename `secret_name` to `alias`, add
/// `power`), generated and migrated, then rolled back one at a time; the heroes
/// are checked after every step, forward and back, and forward again at the end.
fn the_tutorial_rolls_back_step_by_step_keeping_its_rows(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let backend = Backend::new(kind, project);
    backend.strata_ok(project, &["setup"]);
    let heroes_as = |secret: &str| {
        backend.rows(&format!(
            "SELECT h.name, h.{secret}, t.name FROM hero h LEFT JOIN team t ON t.id = h.team_id \
             ORDER BY h.id"
        ))
    };
    let before = heroes_as("secret_name");
    assert!(
        before.contains(&"Spider-Boy|Pedro Parqueador|Preventers".to_string()),
        "{before:?}"
    );

    edit_schema(
        project,
        "secret_name = \"text\"",
        "alias = { type = \"text\", renamed_from = \"secret_name\" }",
    );
    strata_ok(project, &["generate", "rename_secret_name"]);
    backend.strata_ok(project, &["migrate"]);
    assert_eq!(heroes_as("alias"), before);

    edit_schema(
        project,
        "alias = {",
        "power = { type = \"text\", nullable = true }\nalias = {",
    );
    strata_ok(project, &["generate", "add_power"]);
    backend.strata_ok(project, &["migrate"]);
    backend.execute("UPDATE hero SET power = 'webs' WHERE name = 'Spider-Boy'");
    assert_eq!(heroes_as("alias"), before);
    assert_eq!(
        backend.rows("SELECT name FROM hero WHERE power = 'webs'"),
        ["Spider-Boy"]
    );
    assert_eq!(history(&backend), ["1", "2", "3"]);

    // Back one step: power is gone, the rename stays.
    let run = backend.strata_ok(project, &["rollback"]);
    assert!(
        run.stdout.contains("rolled back V3__add_power")
            && run
                .stdout
                .contains("Rollback: rolled back 1 migration; the database is at V2."),
        "{}",
        run.stdout
    );
    assert!(!has_power(&backend, project));
    assert_eq!(heroes_as("alias"), before);
    assert_eq!(history(&backend), ["1", "2"]);

    // Back another: secret_name is back, with every hero's value.
    let run = backend.strata_ok(project, &["rollback"]);
    assert!(
        run.stdout
            .contains("Rollback: rolled back 1 migration; the database is at V1."),
        "{}",
        run.stdout
    );
    assert_eq!(heroes_as("secret_name"), before);
    assert_eq!(history(&backend), ["1"]);

    // Forward again: both steps apply as new.
    backend.strata_ok(project, &["migrate"]);
    assert_eq!(heroes_as("alias"), before);
    assert_eq!(
        backend.rows("SELECT count(*) FROM hero WHERE power IS NULL"),
        [before.len().to_string()]
    );
    assert_eq!(history(&backend), ["1", "2", "3"]);
}
