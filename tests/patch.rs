//! `strata patch` and `strata setup`, every test on a SQLite file and on a real
//! PostgreSQL database of its own.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

const HEROES_WITH_TEAMS: &str = "SELECT hero.id, hero.name, hero.secret_name, hero.age, team.name \
     FROM hero LEFT JOIN team ON team.id = hero.team_id ORDER BY hero.id";

on_both_databases!(
    setup_from_nothing_builds_the_tutorial,
    dry_run_shows_changes_and_statements_but_changes_nothing,
    echo_logs_statements_with_parameters,
    patch_refuses_pending_migrations,
    a_new_patch_applies_once,
    an_edited_applied_patch_is_reported_not_reapplied,
    missing_ref_changes_nothing,
    ambiguous_ref_changes_nothing,
    expect_rows_mismatch_changes_nothing,
    unknown_column_is_caught_before_running,
    wrong_value_type_is_caught_before_running,
    ref_on_a_column_without_foreign_key_is_caught,
    toml_error_is_reported_with_place,
    non_utf8_patch_is_reported,
    failing_sql_in_the_middle_rolls_back_the_whole_patch,
    a_failing_patch_stops_later_ones,
    sql_patches_and_deletes_apply,
    concurrent_patch_runs_apply_each_patch_once,
    setup_fresh_rebuilds_from_nothing,
    pinned_patches_build_a_new_database_through_a_rename,
    an_unpinned_patch_that_no_longer_fits_says_pinning_would_fix_it,
    a_pending_patch_past_its_pin_says_so,
    a_bad_after_is_an_error_at_its_place,
    dry_run_cannot_migrate_after_pinned_patches,
);

fn set_up(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    (dir, backend)
}

fn write_patch(project: &Path, name: &str, text: &[u8]) {
    std::fs::write(project.join("patches").join(name), text).unwrap();
}

fn setup_from_nothing_builds_the_tutorial(kind: Kind) {
    let (dir, db) = set_up(kind);
    let run = db.strata_ok(dir.path(), &["setup"]);
    assert!(
        run.stdout.contains("applied V1__create_team_and_hero"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("hero id=3 \"Spider-Boy\": team_id null → 1 (team \"Preventers\")"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows(HEROES_WITH_TEAMS),
        [
            "1|Deadpond|Dive Wilson|null|Z-Force",
            "2|Rusty-Man|Tommy Sharp|48|Preventers",
            "3|Spider-Boy|Pedro Parqueador|null|Preventers",
        ]
    );
    assert_eq!(
        db.rows("SELECT id, name, headquarters FROM team ORDER BY id"),
        [
            "1|Preventers|Sharp Tower",
            "2|Z-Force|Sister Margaret's Bar"
        ]
    );
    assert_eq!(
        db.rows("SELECT name, rows_changed FROM strata_patch_history ORDER BY name"),
        [
            "0001_heroes_and_teams|5",
            "0002_spider_boy_joins_preventers|1"
        ]
    );

    let before = db.snapshot();
    let again = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        again.stdout.contains("nothing to apply"),
        "{}",
        again.stdout
    );
    let setup_again = db.strata_ok(dir.path(), &["setup"]);
    assert!(
        setup_again
            .stdout
            .contains("0 migrations and 0 patches applied now"),
        "{}",
        setup_again.stdout
    );
    assert_eq!(db.snapshot(), before);
}

fn dry_run_shows_changes_and_statements_but_changes_nothing(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["migrate"]);
    let before = db.snapshot();
    let run = db.strata_ok(dir.path(), &["patch", "--dry-run"]);
    assert!(
        run.stdout
            .contains("hero id=3 (provisional) \"Spider-Boy\": team_id null → 1 (team \"Preventers\", provisional)"),
        "{}",
        run.stdout
    );
    let update = match kind {
        Kind::Sqlite => "SQL: UPDATE \"hero\" SET \"team_id\" = ?1 WHERE \"name\" = ?2  [1, \"Spider-Boy\"]",
        Kind::Postgres => "SQL: UPDATE \"hero\" SET \"team_id\" = $1::text::INTEGER WHERE \"name\" = $2::text::VARCHAR  [1, \"Spider-Boy\"]",
    };
    assert!(run.stdout.contains(update), "{}", run.stdout);
    assert!(
        run.stdout.contains("rolled back, nothing was changed"),
        "{}",
        run.stdout
    );
    assert_eq!(db.snapshot(), before);
    let status = db.strata_ok(dir.path(), &["status"]);
    assert!(
        status
            .stdout
            .contains("pending   0002_spider_boy_joins_preventers"),
        "{}",
        status.stdout
    );
}

fn echo_logs_statements_with_parameters(kind: Kind) {
    let (dir, db) = set_up(kind);
    let run = db.strata_ok(dir.path(), &["patch", "--migrate", "--echo"]);
    let lookup = format!(
        "SQL: SELECT \"id\" FROM \"team\" WHERE \"name\" = {}{} LIMIT 2  [\"Z-Force\"]",
        db.placeholder(1),
        if matches!(kind, Kind::Postgres) {
            "::text::VARCHAR"
        } else {
            ""
        }
    );
    assert!(run.stdout.contains(&lookup), "{}", run.stdout);
    assert!(
        run.stdout.contains("Patches: applied 2 patches."),
        "{}",
        run.stdout
    );
}

fn patch_refuses_pending_migrations(kind: Kind) {
    let (dir, db) = set_up(kind);
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("run `strata migrate` first, or `strata patch --migrate`"),
        "{}",
        run.stderr
    );
    assert!(
        !db.snapshot().iter().any(|line| line.contains("hero")),
        "{:?}",
        db.snapshot()
    );
}

fn a_new_patch_applies_once(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    write_patch(
        dir.path(),
        "0003_rusty_man_birthday.toml",
        b"description = \"Rusty-Man turns 49\"\n[[update]]\ntable = \"hero\"\nwhere = { name = \"Rusty-Man\" }\nset = { age = 49 }\nexpect_rows = 1\n",
    );
    let run = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        run.stdout.contains("hero id=2 \"Rusty-Man\": age 48 → 49"),
        "{}",
        run.stdout
    );
    let again = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        again.stdout.contains("nothing to apply"),
        "{}",
        again.stdout
    );
    assert_eq!(
        db.rows("SELECT age FROM hero WHERE name = 'Rusty-Man'"),
        ["49"]
    );
    assert_eq!(
        db.rows("SELECT count(*) FROM strata_patch_history WHERE name = '0003_rusty_man_birthday'"),
        ["1"]
    );
}

fn an_edited_applied_patch_is_reported_not_reapplied(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    let before = db.snapshot();
    let path = dir
        .path()
        .join("patches/0002_spider_boy_joins_preventers.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("Preventers\" }", "Z-Force\" }");
    std::fs::write(&path, text).unwrap();

    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("patch 0002_spider_boy_joins_preventers was changed after it was applied"),
        "{}",
        run.stderr
    );
    let status = db.strata(dir.path(), &["status"]);
    assert_eq!(status.code, 5);
    assert!(
        status
            .stdout
            .contains("CHANGED   0002_spider_boy_joins_preventers"),
        "{}",
        status.stdout
    );
    assert_eq!(db.snapshot(), before);
}

/// Each bad patch: non-zero exit, the message a user needs, and every table as it was.
fn assert_bad_patch(kind: Kind, file: &str, text: &[u8], code: i32, expected: &[&str]) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    let before = db.snapshot();
    write_patch(dir.path(), file, text);
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, code, "{file}: {}\n{}", run.stdout, run.stderr);
    for fragment in expected {
        assert!(
            run.stderr.contains(fragment),
            "{file}: expected {fragment:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(db.snapshot(), before, "{file} changed the database");
}

fn missing_ref_changes_nothing(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_avengers.toml",
        b"[[insert]]\ntable = \"team\"\nrows = [{ name = \"Defenders\", headquarters = \"Hell's Kitchen\" }]\n\n[[update]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\" }\nset = { team_id = { ref = { name = \"Avengers\" } } }\n",
        4,
        &[
            "patch 0003_avengers failed at ./patches/0003_avengers.toml:5:1",
            "team with name = \"Avengers\": no such row",
            "rolled back",
        ],
    );
}

fn ambiguous_ref_changes_nothing(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_ambiguous.toml",
        b"[[insert]]\ntable = \"team\"\nrows = [{ name = \"Twins\", headquarters = \"A\" }, { name = \"Twins\", headquarters = \"B\" }]\n[[update]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\" }\nset = { team_id = { ref = { name = \"Twins\" } } }\n",
        4,
        &["team with name = \"Twins\": more than one row matches"],
    );
}

fn expect_rows_mismatch_changes_nothing(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_everyone_ages.toml",
        b"[[update]]\ntable = \"hero\"\nwhere = {}\nset = { age = 30 }\nexpect_rows = 1\n",
        4,
        &["expect_rows = 1, but the update changed 3 rows"],
    );
}

fn unknown_column_is_caught_before_running(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_typo.toml",
        b"[[update]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\" }\nset = { agee = 31 }\n",
        3,
        &[
            "0003_typo.toml:4:9",
            "table `hero` has no column `agee`; did you mean `age`?",
        ],
    );
}

fn wrong_value_type_is_caught_before_running(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_type.toml",
        b"[[update]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\" }\nset = { age = \"old\" }\n",
        3,
        &[
            "0003_type.toml:4:15",
            "hero.age is integer, but the value is a string",
        ],
    );
}

fn ref_on_a_column_without_foreign_key_is_caught(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_ref.toml",
        b"[[update]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\" }\nset = { age = { ref = { name = \"Z-Force\" } } }\n",
        3,
        &["hero.age is not a foreign key, so it cannot take a `ref`"],
    );
}

fn toml_error_is_reported_with_place(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_broken.toml",
        b"[[update]\ntable = \"hero\"\n",
        3,
        &["0003_broken.toml:1:", "invalid TOML"],
    );
}

fn non_utf8_patch_is_reported(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_latin1.toml",
        b"description = \"caf\xe9\"\n",
        3,
        &[
            "0003_latin1.toml:1:19",
            "the file is not UTF-8 text: byte 0xe9 is not valid UTF-8",
        ],
    );
}

fn failing_sql_in_the_middle_rolls_back_the_whole_patch(kind: Kind) {
    assert_bad_patch(
        kind,
        "0003_half.toml",
        b"[[insert]]\ntable = \"team\"\nrows = [{ name = \"Defenders\", headquarters = \"Hell's Kitchen\" }]\n\n[[sql]]\nstatement = \"UPDATE nowhere SET x = 1\"\n\n[[delete]]\ntable = \"hero\"\nwhere = {}\n",
        4,
        &["0003_half.toml:5:1", "nowhere"],
    );
}

fn a_failing_patch_stops_later_ones(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    write_patch(
        dir.path(),
        "0003_bad.sql",
        b"-- breaks\nUPDATE hero SET age = 1;\nINSERT INTO nowhere VALUES (1);\n",
    );
    write_patch(
        dir.path(),
        "0004_good.sql",
        b"-- fine\nUPDATE hero SET age = 2;\n",
    );
    let before = db.snapshot();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("later patches were not applied"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

fn sql_patches_and_deletes_apply(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    write_patch(
        dir.path(),
        "0003_ages.sql",
        b"-- Everyone without an age is 20\nUPDATE hero SET age = 20 WHERE age IS NULL;\n",
    );
    write_patch(
        dir.path(),
        "0004_farewell.toml",
        b"description = \"Deadpond leaves\"\n[[delete]]\ntable = \"hero\"\nwhere = { name = \"Deadpond\", team_id = { ref = { name = \"Z-Force\" } } }\nexpect_rows = 1\n",
    );
    let run = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        run.stdout
            .contains("0003_ages: Everyone without an age is 20"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("hero id=1 \"Deadpond\": deleted"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows("SELECT name, age FROM hero ORDER BY id"),
        ["Rusty-Man|48", "Spider-Boy|20"]
    );
    assert_eq!(
        db.rows("SELECT count(*) FROM strata_patch_history WHERE name LIKE '0003%' OR name LIKE '0004%'"),
        ["2"]
    );
}

fn concurrent_patch_runs_apply_each_patch_once(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["migrate"]);
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let url = db.url();
    let children: Vec<_> = (0..4)
        .map(|_| {
            std::process::Command::new(&binary)
                .current_dir(dir.path())
                .args(["patch", "--database-url", &url])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(db.rows("SELECT count(*) FROM team"), ["2"]);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
    assert_eq!(db.rows("SELECT count(*) FROM strata_patch_history"), ["2"]);
}

fn setup_fresh_rebuilds_from_nothing(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    db.execute("DELETE FROM hero WHERE name = 'Deadpond';");
    // --yes is needed even without a terminal (see tests/hostile_urls.rs).
    let run = db.strata_ok(dir.path(), &["setup", "--fresh", "--yes"]);
    assert!(
        run.stdout.contains("Removed") || run.stdout.contains("Dropped"),
        "{}",
        run.stdout
    );
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
}

const HEROES_WITH_ALIASES: &str = "SELECT hero.id, hero.name, hero.alias, hero.age, team.name \
     FROM hero LEFT JOIN team ON team.id = hero.team_id ORDER BY hero.id";

/// The tutorial after its rename: V2 (hand-written for both dialects, recorded
/// in strata.sum as `strata hash` does) renames hero.secret_name to alias, and
/// schema.toml says so.
fn rename_secret_name(project: &Path) {
    for dialect in ["sqlite", "postgres"] {
        let folder = project.join("migrations").join(dialect);
        std::fs::write(
            folder.join("V2__rename_secret_name.sql"),
            "ALTER TABLE hero RENAME COLUMN secret_name TO alias;\n",
        )
        .unwrap();
        strata::migrate::integrity::rehash(&folder).unwrap();
    }
    let schema = project.join("schema.toml");
    let text = std::fs::read_to_string(&schema).unwrap().replace(
        "secret_name = \"text\"",
        "alias       = { type = \"text\", renamed_from = \"secret_name\" }",
    );
    assert!(text.contains("renamed_from"));
    std::fs::write(schema, text).unwrap();
}

fn pinned_patches_build_a_new_database_through_a_rename(kind: Kind) {
    let (dir, db) = set_up(kind);
    rename_secret_name(dir.path());
    // A .sql patch pins itself with a leading comment.
    write_patch(
        dir.path(),
        "0003_tarantula.sql",
        b"-- Tarantula, written at V1\n-- strata: after = 1\nINSERT INTO hero (name, secret_name) VALUES ('Tarantula', 'Natalia Roman-on');\n",
    );
    let run = db.strata_ok(dir.path(), &["setup"]);
    let at = |text: &str| {
        run.stdout
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} not in:\n{}", run.stdout))
    };
    // V1, then the patches pinned to it, then V2.
    assert!(at("applied V1__create_team_and_hero") < at("0001_heroes_and_teams:"));
    assert!(at("0001_heroes_and_teams:") < at("0002_spider_boy_joins_preventers:"));
    assert!(
        at("0002_spider_boy_joins_preventers:") < at("0003_tarantula: Tarantula, written at V1")
    );
    assert!(at("0003_tarantula:") < at("applied V2__rename_secret_name"));
    assert!(
        run.stdout.contains("Ready: ")
            && run
                .stdout
                .contains("(2 migrations and 3 patches applied now)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows(HEROES_WITH_ALIASES),
        [
            "1|Deadpond|Dive Wilson|null|Z-Force",
            "2|Rusty-Man|Tommy Sharp|48|Preventers",
            "3|Spider-Boy|Pedro Parqueador|null|Preventers",
            "4|Tarantula|Natalia Roman-on|null|null",
        ]
    );
    assert_eq!(
        db.rows("SELECT id, name, headquarters FROM team ORDER BY id"),
        [
            "1|Preventers|Sharp Tower",
            "2|Z-Force|Sister Margaret's Bar"
        ]
    );
    let status = db.strata_ok(dir.path(), &["status"]);
    assert!(
        status
            .stdout
            .contains("applied   0001_heroes_and_teams  after V1  "),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("applied   0003_tarantula  after V1  "),
        "{}",
        status.stdout
    );
    let again = db.strata_ok(dir.path(), &["setup"]);
    assert!(
        again
            .stdout
            .contains("(0 migrations and 0 patches applied now)"),
        "{}",
        again.stdout
    );
}

fn an_unpinned_patch_that_no_longer_fits_says_pinning_would_fix_it(kind: Kind) {
    let (dir, db) = set_up(kind);
    rename_secret_name(dir.path());
    // The example patches as they were before pins.
    for name in ["0001_heroes_and_teams", "0002_spider_boy_joins_preventers"] {
        let path = dir.path().join(format!("patches/{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let unpinned: String = text
            .lines()
            .filter(|line| !line.starts_with("after = "))
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(&path, unpinned).unwrap();
    }
    let run = db.strata(dir.path(), &["setup"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    for expected in [
        "0001_heroes_and_teams.toml:14:26",
        "table `hero` has no column `secret_name`",
        "0001_heroes_and_teams has no pin, so it is checked against the latest schema",
        "pin it: add `after = N` at the top",
        "new databases then apply it right after VN, where it fits",
    ] {
        assert!(
            run.stderr.contains(expected),
            "expected {expected:?} in:\n{}",
            run.stderr
        );
    }
    match kind {
        // Checked against the replayed schema before the first migration.
        Kind::Sqlite => {
            assert!(
                run.stderr
                    .contains("checked against the schema migrations up to V2 build"),
                "{}",
                run.stderr
            );
            assert!(!run.stdout.contains("applied V1"), "{}", run.stdout);
        }
        // Checked against the live database once it is at V2; no patch ran.
        Kind::Postgres => {
            assert!(run.stdout.contains("applied V2__rename_secret_name"));
            assert_eq!(db.rows("SELECT count(*) FROM hero"), ["0"]);
        }
    }
}

fn a_pending_patch_past_its_pin_says_so(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    rename_secret_name(dir.path());
    db.strata_ok(dir.path(), &["migrate"]);
    let before = db.snapshot();
    write_patch(
        dir.path(),
        "0003_tarantula.toml",
        b"after = 1\n[[insert]]\ntable = \"hero\"\nrows = [{ name = \"Tarantula\", secret_name = \"Natalia Roman-on\" }]\n",
    );
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    for expected in [
        "0003_tarantula.toml:4:31",
        "table `hero` has no column `secret_name`",
        "0003_tarantula is pinned to V1 (`after = 1`) and was written for the schema at V1, \
         but this database is already at V2",
        "`strata setup --fresh --yes` to rebuild this one",
        "change it to `after = 2`",
    ] {
        assert!(
            run.stderr.contains(expected),
            "expected {expected:?} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(db.snapshot(), before);
    // Rebuilt from nothing, the patch runs at V1 and its row follows the rename.
    db.strata_ok(dir.path(), &["setup", "--fresh", "--yes"]);
    assert_eq!(
        db.rows("SELECT alias FROM hero WHERE name = 'Tarantula'"),
        ["Natalia Roman-on"]
    );
}

fn a_bad_after_is_an_error_at_its_place(kind: Kind) {
    let dialect = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    let insert = "\n[[insert]]\ntable = \"team\"\nrows = [{ name = \"Defenders\", headquarters = \"Hell's Kitchen\" }]\n";
    let cases: [(&str, &str); 4] = [
        (
            "after = 0",
            "`after` must be a migration version (a whole number of 1 or more), found 0",
        ),
        (
            "after = \"1\"",
            "`after` must be a migration version (a whole number of 1 or more), found a string",
        ),
        ("after = 1.5", "found a float"),
        (
            "after = 7",
            &format!("no migration has version 7; the migrations in ./migrations/{dialect} are V1"),
        ),
    ];
    for (line, expected) in cases {
        let text = format!("{line}{insert}");
        assert_bad_patch(
            kind,
            "0003_bad.toml",
            text.as_bytes(),
            3,
            &["0003_bad.toml:1:9", expected],
        );
    }
    assert_bad_patch(
        kind,
        "0003_bad.sql",
        b"-- strata: after = first\nSELECT 1;\n",
        3,
        &["0003_bad.sql:1:20", "found `first`"],
    );
}

fn dry_run_cannot_migrate_after_pinned_patches(kind: Kind) {
    let (dir, db) = set_up(kind);
    rename_secret_name(dir.path());
    db.strata_ok(dir.path(), &["migrate", "--dry-run"]);
    let run = db.strata(dir.path(), &["patch", "--migrate", "--dry-run"]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "patch 0001_heroes_and_teams is pinned to V1 and migrations up to V2 are pending: \
             a dry run rolls its patches back, so it cannot apply later migrations after them; \
             nothing was applied"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("applied V1"), "{}", run.stdout);
}

#[test]
fn patch_new_writes_the_next_patch_pinned_to_the_latest_migration() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    rename_secret_name(dir.path());
    let run = strata_ok(dir.path(), &["patch", "new", "tarantula_joins"]);
    assert_eq!(
        run.stdout.trim_end(),
        "Wrote ./patches/0003_tarantula_joins.toml (after = 2: a new database applies it right after V2, the latest migration)"
    );
    let text =
        std::fs::read_to_string(dir.path().join("patches/0003_tarantula_joins.toml")).unwrap();
    assert!(text.contains("\nafter = 2\n"), "{text}");
    assert!(text.contains("description = \"tarantula joins\""), "{text}");
    // The template has no operation yet: it says so, at its place, until filled in.
    let status = strata(dir.path(), &["status"]);
    assert_eq!(status.code, 3, "{}", status.stderr);
    assert!(
        status.stderr.contains("the patch has no operations"),
        "{}",
        status.stderr
    );
    // Filled in, it is a patch pinned to V2.
    std::fs::write(
        dir.path().join("patches/0003_tarantula_joins.toml"),
        text.replace("# [[sql]]\n# statement", "[[sql]]\nstatement"),
    )
    .unwrap();
    let status = strata(dir.path(), &["status"]);
    assert!(
        status
            .stdout
            .contains("pending   0003_tarantula_joins  after V2"),
        "{}\n{}",
        status.stdout,
        status.stderr
    );
    let next = strata_ok(dir.path(), &["patch", "new", "more"]);
    assert!(next.stdout.contains("0004_more.toml"), "{}", next.stdout);

    let bad = strata(dir.path(), &["patch", "new", "Bad name!"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("invalid patch name `Bad name!`: use only ASCII letters, digits and underscores, e.g. `bad_name`"),
        "{}",
        bad.stderr
    );
}
