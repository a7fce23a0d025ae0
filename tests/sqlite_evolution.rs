//! Every change kind on SQLite, end to end through the CLI on a populated
//! database file: `generate` writes it, `migrate` applies it, the rows are still
//! there (renamed, cast, backfilled as asked), and `generate` then finds nothing.
//! Table rebuilds keep the rows of the tables that reference the rebuilt one, and
//! their foreign keys still enforce; a rebuild that leaves a row without its
//! parent is rolled back, naming the table.

mod common;

use std::path::Path;

use common::*;

const BASE: &str = r#"[project]
dialects = ["sqlite"]
database = "sqlite:database.db"

[table.team.columns]
id           = { type = "integer", primary_key = true }
name         = { type = "text", index = true }
headquarters = "text"

[table.hero.columns]
id          = { type = "integer", primary_key = true }
name        = { type = "text", index = true }
secret_name = "text"
age         = { type = "integer", nullable = true, index = true }
team_id     = { type = "integer", nullable = true, references = "team.id" }
"#;

/// The tutorial's teams and heroes, Spider-Boy on the Preventers, migrated.
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(project.join("schema.toml"), BASE).unwrap();
    strata_ok(project, &["generate", "create_team_and_hero"]);
    strata_ok(project, &["migrate"]);
    let connection = rusqlite::Connection::open(project.join("database.db")).unwrap();
    connection
        .execute_batch(
            "INSERT INTO team (id, name, headquarters) VALUES
                 (1, 'Preventers', 'Sharp Tower'), (2, 'Z-Force', 'Sister Margaret''s Bar');
             INSERT INTO hero (id, name, secret_name, age, team_id) VALUES
                 (1, 'Deadpond', 'Dive Wilson', NULL, 2),
                 (2, 'Rusty-Man', 'Tommy Sharp', 48, 1),
                 (3, 'Spider-Boy', 'Pedro Parqueador', NULL, 1);",
        )
        .unwrap();
    dir
}

/// Writes `schema`, generates `name` (with `flags`), migrates, checks nothing is
/// left to generate, and returns the migration's text.
fn evolve(project: &Path, schema: &str, name: &str, flags: &[&str]) -> String {
    std::fs::write(project.join("schema.toml"), schema).unwrap();
    let mut args = vec!["generate", name];
    args.extend_from_slice(flags);
    strata_ok(project, &args);
    let file = std::fs::read_dir(project.join("migrations/sqlite"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(&format!("__{name}.sql")))
        .expect("the migration was written");
    let sql = std::fs::read_to_string(file).unwrap();
    strata_ok(project, &["migrate"]);
    let again = strata_ok(project, &["generate", "nothing_left"]);
    assert!(
        again.stdout.contains("schema and migrations agree"),
        "after {name}: {}\n{sql}",
        again.stdout
    );
    let check = strata_ok(project, &["check", "--database-url", "sqlite:database.db"]);
    assert!(check.stdout.contains("agree"), "{}", check.stdout);
    sql
}

fn db(project: &Path) -> std::path::PathBuf {
    project.join("database.db")
}

fn heroes(project: &Path) -> Vec<String> {
    sqlite_strings(
        &db(project),
        "SELECT h.name, t.name FROM hero h LEFT JOIN team t ON t.id = h.team_id ORDER BY h.id",
    )
}

/// hero.team_id still enforces its foreign key.
fn assert_foreign_key_enforced(project: &Path) {
    let connection = rusqlite::Connection::open(db(project)).unwrap();
    connection
        .pragma_update(None, "foreign_keys", true)
        .unwrap();
    let error = connection
        .execute(
            "INSERT INTO hero (id, name, secret_name, team_id) VALUES (99, 'x', 'y', 42)",
            [],
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("FOREIGN KEY constraint failed"),
        "{error}"
    );
}

const TUTORIAL_HEROES: [&str; 3] = [
    "Deadpond|Z-Force",
    "Rusty-Man|Preventers",
    "Spider-Boy|Preventers",
];

#[test]
fn renaming_a_table_and_a_column_keeps_rows_and_references() {
    let dir = populated();
    let project = dir.path();
    let schema = BASE
        .replace(
            "[table.team.columns]",
            "[table.squad]\nrenamed_from = \"team\"\n\n[table.squad.columns]",
        )
        .replace("references = \"team.id\"", "references = \"squad.id\"")
        .replace(
            "secret_name = \"text\"",
            "alias = { type = \"text\", renamed_from = \"secret_name\" }",
        );
    let sql = evolve(project, &schema, "renames", &[]);
    assert!(
        sql.contains("ALTER TABLE \"team\" RENAME TO \"squad\";"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE \"hero\" RENAME COLUMN \"secret_name\" TO \"alias\";"),
        "{sql}"
    );
    assert_eq!(
        sqlite_strings(
            &db(project),
            "SELECT h.alias, s.name FROM hero h JOIN squad s ON s.id = h.team_id ORDER BY h.id"
        ),
        [
            "Dive Wilson|Z-Force",
            "Tommy Sharp|Preventers",
            "Pedro Parqueador|Preventers"
        ]
    );
}

#[test]
fn dropping_an_indexed_column_and_a_table_happens_in_place() {
    let dir = populated();
    let project = dir.path();
    let schema = BASE.replace(
        "age         = { type = \"integer\", nullable = true, index = true }\n",
        "",
    );
    std::fs::write(project.join("schema.toml"), &schema).unwrap();
    let refused = strata(project, &["generate", "drop_age"]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    let sql = evolve(project, &schema, "drop_age", &["--allow-destructive"]);
    assert!(!sql.contains("foreign-keys-off"), "{sql}");
    assert!(sql.contains("DROP INDEX \"ix_hero_age\";"), "{sql}");
    assert!(
        sql.contains("ALTER TABLE \"hero\" DROP COLUMN \"age\";"),
        "{sql}"
    );
    assert_eq!(heroes(project), TUTORIAL_HEROES);

    // hero is the only table referencing team: dropping it is a plain DROP TABLE.
    let schema = schema[..schema.find("[table.hero.columns]").unwrap()].to_string();
    let sql = evolve(project, &schema, "drop_hero", &["--allow-destructive"]);
    assert!(sql.contains("DROP TABLE \"hero\";"), "{sql}");
    assert_eq!(
        sqlite_strings(&db(project), "SELECT name FROM team ORDER BY id"),
        ["Preventers", "Z-Force"]
    );
}

/// Type, nullability and default changes of hero in one migration: one rebuild,
/// with a cast and a backfill; every row is there and the foreign key holds.
#[test]
fn altering_columns_is_one_rebuild_that_keeps_the_rows() {
    let dir = populated();
    let project = dir.path();
    let schema = BASE
        .replace(
            "age         = { type = \"integer\", nullable = true, index = true }",
            "age         = { type = \"bigint\", default = 16, index = true }",
        )
        .replace(
            "secret_name = \"text\"",
            "secret_name = { type = \"varchar(40)\", nullable = true }",
        );
    let sql = evolve(project, &schema, "alter_hero", &["--allow-destructive"]);
    assert!(sql.starts_with("-- strata: foreign-keys-off\n"), "{sql}");
    assert_eq!(sql.matches("CREATE TABLE \"hero_new\"").count(), 1, "{sql}");
    assert!(
        sql.contains(
            "INSERT INTO \"hero_new\" (\"id\", \"name\", \"secret_name\", \"age\", \"team_id\") \
             SELECT \"id\", \"name\", \"secret_name\", COALESCE(\"age\", 16), \"team_id\" FROM \"hero\";"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("-- What it does:\n--   rebuild table hero with foreign keys off: "),
        "{sql}"
    );
    assert_eq!(
        sqlite_strings(
            &db(project),
            "SELECT name, secret_name, age, team_id FROM hero ORDER BY id"
        ),
        [
            "Deadpond|Dive Wilson|16|2",
            "Rusty-Man|Tommy Sharp|48|1",
            "Spider-Boy|Pedro Parqueador|16|1"
        ]
    );
    assert_eq!(
        sqlite_strings(
            &db(project),
            "SELECT name FROM pragma_index_list('hero') ORDER BY name"
        ),
        ["ix_hero_age", "ix_hero_name"]
    );
    assert_foreign_key_enforced(project);
}

/// A unique constraint on team.name rebuilds team, which hero references: hero
/// keeps every row, its foreign key still points at team and still enforces.
#[test]
fn rebuilding_a_referenced_table_keeps_the_children() {
    let dir = populated();
    let project = dir.path();
    let schema = BASE.replace(
        "name         = { type = \"text\", index = true }\nheadquarters = \"text\"",
        "name         = { type = \"text\", unique = true }\nheadquarters = { type = \"text\", nullable = true }",
    );
    let sql = evolve(project, &schema, "unique_team_name", &[]);
    assert!(sql.contains("DROP TABLE \"team\";"), "{sql}");
    assert_eq!(heroes(project), TUTORIAL_HEROES);
    assert_eq!(
        sqlite_strings(
            &db(project),
            "SELECT \"table\" FROM pragma_foreign_key_list('hero')"
        ),
        ["team"]
    );
    assert_foreign_key_enforced(project);
    let connection = rusqlite::Connection::open(db(project)).unwrap();
    let error = connection
        .execute("INSERT INTO team (id, name) VALUES (3, 'Preventers')", [])
        .unwrap_err();
    assert!(
        error.to_string().contains("UNIQUE constraint failed"),
        "{error}"
    );

    // And back: dropping the constraint is another rebuild (NOT NULL again is
    // destructive: rows holding NULL would stop it).
    let sql = evolve(project, BASE, "plain_team_name", &["--allow-destructive"]);
    assert!(sql.starts_with("-- strata: foreign-keys-off\n"), "{sql}");
    assert_eq!(heroes(project), TUTORIAL_HEROES);
    assert_foreign_key_enforced(project);
}

/// Foreign keys dropped and added on an existing column, a primary key changed
/// and a column in a foreign key dropped: each a rebuild, rows kept.
#[test]
fn foreign_keys_and_primary_keys_change_through_rebuilds() {
    let dir = populated();
    let project = dir.path();
    let without = BASE.replace(", references = \"team.id\"", "");
    let sql = evolve(project, &without, "drop_hero_team_fk", &[]);
    assert!(sql.contains("CREATE TABLE \"hero_new\""), "{sql}");
    assert!(sqlite_strings(
        &db(project),
        "SELECT \"table\" FROM pragma_foreign_key_list('hero')"
    )
    .is_empty());
    evolve(project, BASE, "add_hero_team_fk", &[]);
    assert_eq!(heroes(project), TUTORIAL_HEROES);
    assert_foreign_key_enforced(project);

    let keyed = BASE.replace(
        "secret_name = \"text\"",
        "secret_name = { type = \"text\", primary_key = true }",
    );
    let sql = evolve(project, &keyed, "two_column_key", &[]);
    assert!(
        sql.contains("PRIMARY KEY (\"id\", \"secret_name\")"),
        "{sql}"
    );
    assert_eq!(heroes(project), TUTORIAL_HEROES);

    let no_team = keyed.replace(
        "team_id     = { type = \"integer\", nullable = true, references = \"team.id\" }\n",
        "",
    );
    let sql = evolve(project, &no_team, "drop_team_id", &["--allow-destructive"]);
    assert!(sql.contains("DROP TABLE \"hero\";"), "{sql}");
    assert_eq!(
        sqlite_strings(&db(project), "SELECT name FROM hero ORDER BY id"),
        ["Deadpond", "Rusty-Man", "Spider-Boy"]
    );
}

/// Adding a foreign key to a column holding a value with no parent row: the
/// rebuild's foreign key check stops the migration, names the table and the
/// count, and the database is as it was.
#[test]
fn a_rebuild_leaving_orphans_is_rolled_back_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let without = BASE.replace(", references = \"team.id\"", "");
    std::fs::write(project.join("schema.toml"), &without).unwrap();
    strata_ok(project, &["generate", "create_team_and_hero"]);
    strata_ok(project, &["migrate"]);
    let connection = rusqlite::Connection::open(db(project)).unwrap();
    connection
        .execute_batch(
            "INSERT INTO team (id, name, headquarters) VALUES (1, 'Preventers', 'Sharp Tower');
             INSERT INTO hero (id, name, secret_name, team_id) VALUES
                 (1, 'Deadpond', 'Dive Wilson', 2), (2, 'Rusty-Man', 'Tommy Sharp', 1);",
        )
        .unwrap();
    drop(connection);
    let before = sqlite_snapshot(&db(project));
    std::fs::write(project.join("schema.toml"), BASE).unwrap();
    strata_ok(project, &["generate", "add_hero_team_fk"]);
    let run = strata(project, &["migrate"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "PRAGMA foreign_key_check found rows whose foreign key points at no row after the \
             migration ran with foreign keys off: 1 row of hero (hero.team_id → team.id)"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("V2__add_hero_team_fk.sql was rolled back"),
        "{}",
        run.stderr
    );
    assert_eq!(sqlite_snapshot(&db(project)), before);
    assert!(sqlite_strings(
        &db(project),
        "SELECT \"table\" FROM pragma_foreign_key_list('hero')"
    )
    .is_empty());
}

/// The directive in a hand-written migration: foreign keys are off while it runs
/// and checked before COMMIT, so a deleted parent row aborts it.
#[test]
fn a_hand_written_foreign_keys_off_migration_is_checked_before_commit() {
    let dir = populated();
    let project = dir.path();
    let before = sqlite_snapshot(&db(project));
    let folder = project.join("migrations/sqlite");
    std::fs::write(
        folder.join("V2__retire_z_force.sql"),
        "-- strata: foreign-keys-off\nDELETE FROM team WHERE name = 'Z-Force';\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
    let run = strata(project, &["migrate"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("1 row of hero (hero.team_id → team.id)"),
        "{}",
        run.stderr
    );
    assert_eq!(sqlite_snapshot(&db(project)), before);

    // Fixed to move the heroes first, it applies; foreign keys are on again after.
    std::fs::write(
        folder.join("V2__retire_z_force.sql"),
        "-- strata: foreign-keys-off\nUPDATE hero SET team_id = 1 WHERE team_id = 2;\n\
         DELETE FROM team WHERE name = 'Z-Force';\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
    strata_ok(project, &["migrate"]);
    assert_eq!(
        heroes(project),
        [
            "Deadpond|Preventers",
            "Rusty-Man|Preventers",
            "Spider-Boy|Preventers"
        ]
    );
}
