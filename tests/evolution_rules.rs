//! The rules `generate` applies to schema changes, through the CLI: renames are
//! never guessed into drops, destructive changes are explicit, a NOT NULL says
//! how many rows it would hit, and every dialect's folder stays in lockstep.

mod common;

use std::path::Path;

use common::*;

/// The example project (SQLite and PostgreSQL, V1), with schema.toml edited.
fn example_with(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
    std::fs::write(dir.path().join("schema.toml"), edit(&schema)).unwrap();
    dir
}

fn files_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `generate` did not refuse for data loss: the migration is written, unless it
/// adds a NOT NULL column without a default to a table with rows — the one change
/// the planners still refuse (with their own message; nothing is written).
fn assert_not_refused_as_destructive(run: &Run) {
    assert!(!run.stderr.contains("can lose data"), "{}", run.stderr);
    assert!(
        run.code == 0
            || run
                .stderr
                .contains("need a value for the new NOT NULL column"),
        "exit {}: {}",
        run.code,
        run.stderr
    );
}

const SECRET_NAME: &str = "secret_name = \"text\"";

#[test]
fn a_drop_and_add_of_the_same_type_asks_for_a_rename_hint() {
    let dir = example_with(|s| s.replace(SECRET_NAME, "alias = \"text\""));
    let run = strata(dir.path(), &["generate", "rename_secret"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: these changes can lose data, so nothing was written:
  drops column hero.secret_name and its data
    did you mean to rename hero.secret_name to hero.alias? add renamed_from = \"secret_name\"
check them, then run again with --allow-destructive if they are meant
"
    );
    assert_eq!(
        files_in(&dir.path().join("migrations/sqlite")),
        ["V1__create_team_and_hero.sql", "strata.sum"]
    );

    // --allow-destructive says the drop is meant: the hint no longer stops it.
    let run = strata(
        dir.path(),
        &["generate", "rename_secret", "--allow-destructive"],
    );
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
    assert_not_refused_as_destructive(&run);
    keep_generated(dir.path());
}

#[test]
fn a_dropped_table_recreated_under_another_name_asks_for_a_table_hint() {
    let dir = example_with(|s| {
        s.replace("[table.team.columns]", "[table.squad.columns]")
            .replace("references = \"team.id\"", "references = \"squad.id\"")
    });
    let run = strata(dir.path(), &["generate", "squad"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "  drops table team and all its rows\n    did you mean to rename table team to squad? \
             add renamed_from = \"team\" to [table.squad]\n"
        ),
        "{}",
        run.stderr
    );
    keep_generated(dir.path());
}

#[test]
fn a_rename_hint_renames_and_a_leftover_hint_is_ignored() {
    let dir = example_with(|s| {
        s.replace(
            SECRET_NAME,
            "alias = { type = \"text\", renamed_from = \"secret_name\" }",
        )
    });
    let run = strata(dir.path(), &["generate", "rename_secret"]);
    // A rename is never destructive (the planner may not write it yet here).
    assert_not_refused_as_destructive(&run);
    if run.code != 0 {
        assert!(
            run.stderr
                .contains("rename column hero.secret_name to alias"),
            "{}",
            run.stderr
        );
        return;
    }
    strata_ok(dir.path(), &["migrate"]);

    // The rename is in the history now; the hint stays in schema.toml, naming a
    // column that no longer exists: nothing more to generate.
    let again = strata_ok(dir.path(), &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    keep_generated(dir.path());
}

#[test]
fn a_leftover_hint_whose_old_name_is_gone_is_ignored() {
    // `renamed_from` names a column no migration ever built: the new column is
    // simply added, as without the hint.
    let dir = example_with(|s| {
        format!(
            "{s}power = {{ type = \"integer\", nullable = true, renamed_from = \"strength\" }}\n"
        )
    });
    let run = strata_ok(dir.path(), &["generate", "add_power"]);
    assert!(
        run.stdout.contains("  add column hero.power integer null"),
        "{}",
        run.stdout
    );
    let again = strata_ok(dir.path(), &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    keep_generated(dir.path());
}

#[test]
fn widening_integer_to_bigint_is_not_destructive() {
    // The referenced key widens; the referencing column follows in the same step.
    let dir = example_with(|s| {
        s.replace(
            "id          = { type = \"integer\", primary_key = true }",
            "id          = { type = \"bigint\", primary_key = true }",
        )
        .replace(
            "age         = { type = \"integer\", nullable = true, index = true }",
            "age         = { type = \"bigint\", nullable = true, index = true }",
        )
    });
    let run = strata(dir.path(), &["generate", "widen"]);
    assert_not_refused_as_destructive(&run);
    keep_generated(dir.path());
}

#[test]
fn a_referenced_key_may_be_widened_before_the_referencing_column() {
    let dir = example_with(|s| {
        s.replacen(
            "id           = { type = \"integer\", primary_key = true }",
            "id           = { type = \"bigint\", primary_key = true }",
            1,
        )
    });
    let run = strata(dir.path(), &["generate", "widen_team_id"]);
    assert!(!run.stderr.contains("but references"), "{}", run.stderr);
    assert_not_refused_as_destructive(&run);
    keep_generated(dir.path());
}

#[test]
fn narrowing_is_refused_and_marked_in_the_header_with_the_flag() {
    let dir = example_with(|s| s.replace(SECRET_NAME, "secret_name = \"varchar(20)\""));
    let run = strata(dir.path(), &["generate", "narrow"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: these changes can lose data, so nothing was written:
  changes column hero.secret_name from text to varchar(20) (narrowing: values that do not fit or convert are cut or stop the migration)
check them, then run again with --allow-destructive if they are meant
"
    );
    let run = strata(dir.path(), &["generate", "narrow", "--allow-destructive"]);
    assert_not_refused_as_destructive(&run);
    {
        for dialect in ["sqlite", "postgres"] {
            let text = std::fs::read_to_string(
                dir.path()
                    .join(format!("migrations/{dialect}/V2__narrow.sql")),
            )
            .unwrap();
            // In the header (after SQLite's foreign-keys-off directive, when a
            // rebuild needs it), before the steps.
            let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("--")).collect();
            assert!(
                header.contains(
                    &"-- destructive: changes column hero.secret_name from text to varchar(20)"
                ),
                "{text}"
            );
        }
    }
    keep_generated(dir.path());
}

#[test]
fn not_null_without_a_default_is_refused_with_the_null_count() {
    let dir = example_with(|s| {
        s.replace(
            "age         = { type = \"integer\", nullable = true, index = true }",
            "age         = { type = \"integer\", index = true }",
        )
    });
    let project = dir.path();
    let run = strata(project, &["generate", "age_required"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: these changes can lose data, so nothing was written:
  makes column hero.age NOT NULL without a default (rows where it is NULL stop the migration): \
strata cannot know how many rows of hero have age NULL without a database (pass --database-url URL \
to count them); declare a `default` to fill them in the same migration
check them, then run again with --allow-destructive if they are meant
"
    );

    // With the database at hand, the rows it would hit are counted.
    strata_ok(project, &["migrate"]);
    let connection = rusqlite::Connection::open(project.join("database.db")).unwrap();
    connection
        .execute_batch(
            "INSERT INTO hero (name, secret_name, age) VALUES ('Deadpond', 'Dive Wilson', NULL), \
             ('Spider-Boy', 'Pedro Parqueador', NULL), ('Rusty-Man', 'Tommy Sharp', 48);",
        )
        .unwrap();
    let run = strata(
        project,
        &[
            "generate",
            "age_required",
            "--database-url",
            "sqlite:database.db",
        ],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "  makes column hero.age NOT NULL without a default (rows where it is NULL stop the \
             migration): 2 rows of hero have age NULL in sqlite:./database.db; declare a `default` \
             to fill them in the same migration\n"
        ),
        "{}",
        run.stderr
    );

    // A default makes it safe: the planners backfill the NULLs with it.
    std::fs::write(
        project.join("schema.toml"),
        std::fs::read_to_string(project.join("schema.toml"))
            .unwrap()
            .replace(
                "age         = { type = \"integer\", index = true }",
                "age         = { type = \"integer\", index = true, default = 0 }",
            ),
    )
    .unwrap();
    let run = strata(project, &["generate", "age_required"]);
    assert_not_refused_as_destructive(&run);
    keep_generated(dir.path());
}

#[test]
fn not_null_counts_on_postgres_too() {
    let dir = example_with(|s| {
        s.replace(
            "age         = { type = \"integer\", nullable = true, index = true }",
            "age         = { type = \"integer\", index = true }",
        )
    });
    let db = PgDatabase::create();
    // Migrate with the V1 schema, then count with the edited one.
    let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
    std::fs::copy(
        repo_root().join("schema.toml"),
        dir.path().join("schema.toml"),
    )
    .unwrap();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
    db.execute("INSERT INTO hero (name, secret_name) VALUES ('Deadpond', 'Dive Wilson')");
    let run = strata(
        dir.path(),
        &["generate", "age_required", "--database-url", &db.url],
    );
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(": 1 row of hero has age NULL in postgres://"),
        "{}",
        run.stderr
    );
    keep_generated(dir.path());
}

/// A SQLite-only project with V1 and V2; then PostgreSQL joins.
fn sqlite_only_history() -> tempfile::TempDir {
    let dir = example_with(|s| {
        s.replace(
            "dialects = [\"sqlite\", \"postgres\"]",
            "dialects = [\"sqlite\"]",
        )
    });
    let project = dir.path();
    std::fs::remove_dir_all(project.join("migrations/postgres")).unwrap();
    // The example's patches do not concern lockstep; without them `check` on a
    // database reports only what the migrations build.
    std::fs::remove_dir_all(project.join("patches")).unwrap();
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    std::fs::write(
        project.join("schema.toml"),
        format!("{schema}power = {{ type = \"integer\", nullable = true }}\n"),
    )
    .unwrap();
    strata_ok(project, &["generate", "add_power"]);
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    std::fs::write(
        project.join("schema.toml"),
        schema.replace(
            "dialects = [\"sqlite\"]",
            "dialects = [\"sqlite\", \"postgres\"]",
        ),
    )
    .unwrap();
    dir
}

#[test]
fn a_dialect_added_later_gets_catch_up_migrations() {
    let dir = sqlite_only_history();
    let project = dir.path();

    // Before generating, status and check say the folders are not in lockstep.
    let status = strata_ok(project, &["status"]);
    assert!(
        status.stderr.contains(
            "warning: ./migrations/sqlite/V2__add_power.sql has version 2 but ./migrations/postgres has none"
        ),
        "{}",
        status.stderr
    );
    assert_eq!(strata(project, &["check"]).code, 11);

    let run = strata_ok(project, &["generate", "catch_up"]);
    assert_eq!(
        files_in(&project.join("migrations/postgres")),
        [
            "V1__create_team_and_hero.down.sql",
            "V1__create_team_and_hero.sql",
            "V2__add_power.down.sql",
            "V2__add_power.sql",
            "strata.sum"
        ]
    );
    // Catch-up migrations get their down files too.
    let down = std::fs::read_to_string(project.join("migrations/postgres/V2__add_power.down.sql"))
        .unwrap();
    assert!(
        down.ends_with("\nALTER TABLE \"hero\" DROP COLUMN \"power\";\n"),
        "{down}"
    );
    assert!(
        run.stdout
            .contains("  postgres/V2__add_power.sql: add column hero.power integer null"),
        "{}",
        run.stdout
    );
    let v2 =
        std::fs::read_to_string(project.join("migrations/postgres/V2__add_power.sql")).unwrap();
    assert!(v2.contains(
        "-- Catch-up: postgres was added to [project] dialects after this version; this file builds \
         the schema migrations/sqlite has at V2"
    ), "{v2}");
    assert!(
        v2.ends_with("ALTER TABLE \"hero\" ADD COLUMN \"power\" INTEGER;\n"),
        "{v2}"
    );
    // The V1 catch-up is what generating V1 for PostgreSQL writes, header aside.
    let v1 =
        std::fs::read_to_string(project.join("migrations/postgres/V1__create_team_and_hero.sql"))
            .unwrap();
    let original = std::fs::read_to_string(
        repo_root().join("migrations/postgres/V1__create_team_and_hero.sql"),
    )
    .unwrap();
    let body = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("-- V1__") && !l.starts_with("-- Catch-up"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&v1), body(&original));

    strata_ok(project, &["check"]);
    let again = strata_ok(project, &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    // The caught-up history builds the declared schema on a real server.
    let db = PgDatabase::create();
    strata_ok(project, &["migrate", "--database-url", &db.url]);
    strata_ok(project, &["check", "--database-url", &db.url]);
    keep_generated(dir.path());
}

#[test]
fn a_hand_written_sqlite_only_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let folder = project.join("migrations/sqlite");
    std::fs::write(
        folder.join("V2__sidekick.sql"),
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    std::fs::write(
        project.join("schema.toml"),
        format!("{schema}power = {{ type = \"integer\", nullable = true }}\n"),
    )
    .unwrap();
    let run = strata(project, &["generate", "add_power"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: the dialects' migrations are not in lockstep, so nothing was written:
  ./migrations/sqlite/V2__sidekick.sql has version 2 but ./migrations/postgres has none: every dialect \
needs the same versions (write ./migrations/postgres/V2__sidekick.sql by hand; for a dialect newly added \
to [project] dialects, `strata generate NAME` writes its catch-up migrations)
write the missing file for each dialect (same version and name), then run `strata hash`
"
    );
    assert!(!project.join("migrations/sqlite/V3__add_power.sql").exists());
    assert!(!project
        .join("migrations/postgres/V2__sidekick.sql")
        .exists());
    let status = strata_ok(project, &["status", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(
        document["lockstep"][0].as_str().unwrap(),
        "./migrations/sqlite/V2__sidekick.sql has version 2 but ./migrations/postgres has none: every \
         dialect needs the same versions (write ./migrations/postgres/V2__sidekick.sql by hand; for a \
         dialect newly added to [project] dialects, `strata generate NAME` writes its catch-up migrations)"
    );
    keep_generated(dir.path());
}
