//! Down files written by `strata generate`: migrate V2, roll it back, and the
//! database is what V1 built (schema and the rows of surviving columns), on
//! SQLite files and a real PostgreSQL database.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    a_generated_migration_rolls_back_to_what_v1_built,
    a_dropped_column_makes_the_down_file_irreversible,
);

fn folder(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

/// The example project set up at V1, with a team and two heroes.
fn set_up(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["setup"]);
    backend.execute(
        "INSERT INTO team (id, name, headquarters) VALUES (101, 'Preventers', 'Sharp Tower');
         INSERT INTO hero (id, name, secret_name, age, team_id)
         VALUES (101, 'Deadpond', 'Dive Wilson', NULL, 101), (102, 'Rusty-Man', 'Tommy Sharp', 48, NULL);",
    );
    (dir, backend)
}

/// Rewrites schema.toml's text with `edit`.
fn edit_schema(project: &Path, edit: impl FnOnce(String) -> String) {
    let path = project.join("schema.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, edit(text)).unwrap();
}

/// What `strata pull` reads from the database (the schema, not the rows).
fn pulled(backend: &Backend, project: &Path) -> String {
    backend.strata_ok(project, &["pull"]).stdout
}

fn a_generated_migration_rolls_back_to_what_v1_built(kind: Kind) {
    let (dir, backend) = set_up(kind);
    let v1 = pulled(&backend, dir.path());
    let teams = backend.rows("SELECT id, name, headquarters FROM team ORDER BY id");
    let heroes = backend.rows("SELECT id, name, secret_name, age, team_id FROM hero ORDER BY id");

    // Add a column, a table with a foreign key and an index, rename a column,
    // and widen a column to nullable (a table rebuild on SQLite).
    edit_schema(dir.path(), |text| {
        text.replace(
            "headquarters = \"text\"",
            "base = { type = \"text\", renamed_from = \"headquarters\" }",
        )
        .replace(
            "secret_name = \"text\"",
            "secret_name = { type = \"text\", nullable = true }\n\
             power       = { type = \"text\", nullable = true }",
        ) + "\n[table.mission.columns]\n\
             id      = { type = \"integer\", primary_key = true }\n\
             hero_id = { type = \"integer\", references = \"hero.id\", index = true }\n"
    });
    let run = strata_ok(dir.path(), &["generate", "v2"]);
    if matches!(kind, Kind::Postgres) {
        keep_generated(dir.path());
    }
    for dialect in ["sqlite", "postgres"] {
        assert!(
            run.stdout
                .contains(&format!("migrations/{dialect}/V2__v2.down.sql")),
            "{}",
            run.stdout
        );
    }
    let migrations = dir.path().join("migrations").join(folder(kind));
    let down = std::fs::read_to_string(migrations.join("V2__v2.down.sql")).unwrap();
    // A rebuild's reverse is a rebuild, run with foreign keys off.
    assert_eq!(
        down.starts_with("-- strata: foreign-keys-off\n"),
        matches!(kind, Kind::Sqlite),
        "{down}"
    );
    assert!(!down.contains("irreversible"), "{down}");

    backend.strata_ok(dir.path(), &["migrate"]);
    backend.execute(
        "INSERT INTO hero (id, name, secret_name, power) VALUES (103, 'Spider-Boy', NULL, 'webs');
         INSERT INTO mission (id, hero_id) VALUES (1, 101), (2, 102);",
    );
    backend.execute("DELETE FROM hero WHERE id = 103");

    // hero.secret_name's DROP NOT NULL is V3__v2_online on PostgreSQL (its
    // reverse, NOT NULL again, is online: outside a transaction); SQLite has
    // a file of comments there, in lockstep.
    let run = backend.strata_ok(dir.path(), &["rollback", "--to", "1"]);
    assert!(
        run.stdout
            .contains("Rollback: rolled back 2 migrations; the database is at V1."),
        "{}",
        run.stdout
    );
    assert_eq!(pulled(&backend, dir.path()), v1);
    assert_eq!(
        backend.rows("SELECT id, name, headquarters FROM team ORDER BY id"),
        teams
    );
    assert_eq!(
        backend.rows("SELECT id, name, secret_name, age, team_id FROM hero ORDER BY id"),
        heroes
    );
    if let Kind::Sqlite = kind {
        // The rebuild's reverse left foreign keys checked and the file consistent.
        assert!(backend.rows("PRAGMA foreign_key_check").is_empty());
    }

    // The files are still there: migrate applies V2 again.
    backend.strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        backend.rows("SELECT id, base FROM team WHERE id = 101"),
        ["101|Sharp Tower"]
    );
}

fn a_dropped_column_makes_the_down_file_irreversible(kind: Kind) {
    let (dir, backend) = set_up(kind);
    let v1 = pulled(&backend, dir.path());
    edit_schema(dir.path(), |text| {
        text.replace("headquarters = \"text\"\n", "")
    });
    strata_ok(
        dir.path(),
        &["generate", "drop_headquarters", "--allow-destructive"],
    );
    if matches!(kind, Kind::Postgres) {
        keep_generated(dir.path());
    }
    let migrations = dir.path().join("migrations").join(folder(kind));
    let down = std::fs::read_to_string(migrations.join("V2__drop_headquarters.down.sql")).unwrap();
    // Each planner words its own reason.
    let reason = match kind {
        Kind::Sqlite => "drops column team.headquarters and its data; it cannot be restored by SQL",
        Kind::Postgres => "dropping column team.headquarters deleted its values",
    };
    assert!(down.starts_with("-- strata: irreversible\n"), "{down}");
    assert!(down.contains(&format!("\n-- {reason}\n\n")), "{down}");
    backend.strata_ok(dir.path(), &["migrate"]);
    let before = backend.snapshot();

    let run = backend.strata(dir.path(), &["rollback"]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "V2__drop_headquarters.down.sql cannot restore everything V2__drop_headquarters.sql \
             changed ({reason}); run again with --allow-destructive to roll it back anyway"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(backend.snapshot(), before);

    let run = backend.strata_ok(dir.path(), &["rollback", "--allow-destructive"]);
    assert!(
        run.stdout.contains("the database is at V1."),
        "{}",
        run.stdout
    );
    assert_eq!(
        backend.rows("SELECT version FROM refinery_schema_history ORDER BY version"),
        ["1"]
    );
    // The column comes back without its values (NOT NULL without a default: the
    // empty string); the other columns are intact. (SQLite's rebuild lists the
    // table last: each table reads back as V1 built it.)
    let now = pulled(&backend, dir.path());
    for table in v1.split("\n\n[table.") {
        assert!(now.contains(table.trim_end()), "{now}\n---\n{v1}");
    }
    assert_eq!(
        backend.rows("SELECT id, name, headquarters FROM team WHERE id = 101"),
        ["101|Preventers|"]
    );
}

/// A two-dialect project at A (`a_text`), migrated on `kind`, then generated to
/// B (`b_text`, with --allow-destructive) and migrated: what the known-defect
/// tests below start from.
fn evolve(kind: Kind, a_text: &str, b_text: &str) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    let server = pg_server_url();
    let backend = Backend::new(kind, dir.path());
    std::fs::write(dir.path().join("schema.toml"), a_text).unwrap();
    strata_ok(dir.path(), &["generate", "a", "--dev-url", &server]);
    backend.strata_ok(dir.path(), &["migrate"]);
    backend.execute("INSERT INTO t1 (id) VALUES (1); INSERT INTO t2 (id, c) VALUES (1, 1);");
    std::fs::write(dir.path().join("schema.toml"), b_text).unwrap();
    strata_ok(
        dir.path(),
        &["generate", "b", "--allow-destructive", "--dev-url", &server],
    );
    backend.strata_ok(dir.path(), &["migrate"]);
    (dir, backend)
}

const T1_T2: &str = "[project]\ndialects = [\"sqlite\", \"postgres\"]\n\n\
    [table.t1.columns]\nid = { type = \"integer\", primary_key = true }\n\n\
    [table.t2.columns]\nid = { type = \"integer\", primary_key = true }\n\
    c = { type = \"integer\", nullable = true, references = \"t1.id\" }\n";

/// Found by the evolution property test: B renames t1 and drops t2's foreign
/// key to it. PostgreSQL's down file re-added the foreign key `REFERENCES "t1"`
/// before renaming r1 back to t1 (`relation "t1" does not exist`); it now names
/// the target as it is at that point of the down file (r1), and the rename back
/// carries it. (SQLite's rebuild back was right.)
#[test]
fn postgres_a_dropped_foreign_key_to_a_renamed_table_rolls_back() {
    let b = T1_T2
        .replace(
            "[table.t1.columns]",
            "[table.r1]\nrenamed_from = \"t1\"\n\n[table.r1.columns]",
        )
        .replace(", references = \"t1.id\"", "");
    let (dir, backend) = evolve(Kind::Postgres, T1_T2, &b);
    backend.strata_ok(dir.path(), &["rollback"]);
    assert_eq!(
        backend.rows("SELECT conname FROM pg_constraint WHERE contype = 'f'"),
        ["t2_c_fkey"]
    );
    assert_eq!(backend.rows("SELECT id, c FROM t2"), ["1|1"]);
}

/// Found by the evolution property test: B drops t1 and with it t2's foreign
/// key to it. The down file's re-added foreign key needed t1 (PostgreSQL:
/// `relation "t1" does not exist`; SQLite: `PRAGMA foreign_key_check` failed).
/// Now the down file (still irreversible) re-creates t1 empty, sets the links
/// to its lost rows to NULL, and re-adds the foreign key: the schema is A's.
fn a_destructive_rollback_recreates_what_was_dropped_empty(kind: Kind) {
    let b = "[project]\ndialects = [\"sqlite\", \"postgres\"]\n\n\
             [table.t2.columns]\nid = { type = \"integer\", primary_key = true }\n\
             c = { type = \"integer\", nullable = true }\n";
    let (dir, backend) = evolve(kind, T1_T2, b);
    backend.strata_ok(dir.path(), &["rollback", "--allow-destructive"]);
    assert_eq!(
        backend.rows("SELECT version FROM refinery_schema_history ORDER BY version"),
        ["1"]
    );
    assert_eq!(
        backend.rows("SELECT id, c IS NULL FROM t2"),
        backend.rows("SELECT 1, 1 = 1")
    );
    assert_eq!(backend.rows("SELECT count(*) FROM t1"), ["0"]);
}

#[test]
fn sqlite_a_destructive_rollback_recreates_what_was_dropped_empty() {
    a_destructive_rollback_recreates_what_was_dropped_empty(Kind::Sqlite);
}

#[test]
fn postgres_a_destructive_rollback_recreates_what_was_dropped_empty() {
    a_destructive_rollback_recreates_what_was_dropped_empty(Kind::Postgres);
}
