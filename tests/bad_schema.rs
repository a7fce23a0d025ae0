//! Bad input for schema.toml: one fixture per kind of mistake (tests/bad_schema/),
//! each run through the real binary. Every one must exit 3 (invalid input), point at
//! `schema.toml:LINE:COL`, say what is wrong and what would be right, and never panic.
//! The exact message is kept as an insta snapshot (tests/snapshots/) so that a change
//! of wording is a reviewed change.
//!
//! Then the other side: odd but valid names (reserved words, quotes, spaces,
//! non-ASCII letters), a self reference and a cycle must go all the way through
//! `generate` and `migrate`, with exactly those names in the database.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// Exit code for invalid input files (see src/error.rs).
const INVALID_INPUT: i32 = 3;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `strata ARGS` with `dir` as working directory, so that `--project .` makes the
/// file show up as `./schema.toml` in every message, whatever the temp folder is.
fn strata(dir: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("strata")
        .expect("the strata binary is built")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("strata runs");
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stdout.contains("panicked"),
        "strata {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bad_schema")
        .join(name)
}

/// Runs `strata --project . generate x` on the fixture (or on no file at all) and
/// checks what every bad input must give: exit 3, the place, no panic, and that
/// nothing was written. Returns stderr.
fn generate_fails(fixture_name: Option<&str>, location: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    if let Some(name) = fixture_name {
        std::fs::copy(fixture(name), dir.path().join("schema.toml")).unwrap();
    }
    let run = strata(dir.path(), &["--project", ".", "generate", "x"]);
    assert_eq!(
        run.code,
        Some(INVALID_INPUT),
        "expected exit 3 (invalid input)\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        run.stderr.contains(location),
        "expected `{location}` in:\n{}",
        run.stderr
    );
    assert!(
        !dir.path().join("migrations").exists(),
        "a bad schema must not produce migrations"
    );
    run.stderr
}

/// Like [`generate_fails`] for a fixture, also checking the error count line.
fn bad_schema(name: &str, location: &str, errors: usize) -> String {
    let stderr = generate_fails(Some(name), &format!("./schema.toml:{location}"));
    let count = format!(
        "./schema.toml: {errors} error{}",
        if errors == 1 { "" } else { "s" }
    );
    assert!(
        stderr.trim_end().ends_with(&count),
        "expected the count line `{count}` at the end of:\n{stderr}"
    );
    stderr
}

#[test]
fn toml_syntax_error() {
    let stderr = bad_schema("syntax_error.toml", "6:20", 1);
    assert!(stderr.contains("invalid TOML"));
    assert!(stderr.contains("expected `]`"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn misspelled_column_option() {
    let stderr = bad_schema("misspelled_key.toml", "3:27", 1);
    assert!(stderr.contains("unknown key `nulable`"));
    assert!(stderr.contains("did you mean `nullable`?"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn check_constraints_with_mistakes() {
    let stderr = bad_schema("bad_checks.toml", "2:42", 3);
    assert!(stderr.contains("table `product` has two check constraints named `product_check`"));
    assert!(stderr.contains("unknown key `nme`"));
    assert!(stderr.contains("schema.toml:5:37"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

#[test]
fn value_of_the_wrong_type() {
    let stderr = bad_schema("wrong_value_type.toml", "3:38", 1);
    assert!(stderr.contains("`nullable` must be `true` or `false`, found a string"));
    assert!(stderr.contains("write `nullable = true`, without quotes"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn duplicated_key() {
    let stderr = bad_schema("duplicate_key.toml", "5:1", 1);
    assert!(stderr.contains("duplicate key `name`"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn unknown_column_type() {
    let stderr = bad_schema("unknown_type.toml", "3:17", 1);
    assert!(stderr.contains("unknown column type `strng`; did you mean `text`?"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn foreign_key_to_a_missing_table() {
    let stderr = bad_schema("fk_missing_table.toml", "6:62", 1);
    assert!(stderr.contains("there is no table `teams`; did you mean `team`?"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn foreign_key_to_a_missing_column() {
    // The caret is under `idd` inside "team.idd", not under the whole string.
    let stderr = bad_schema("fk_missing_column.toml", "7:67", 1);
    assert!(stderr.contains(
        "hero.team_id references team.idd: table `team` has no column `idd`; did you mean `id`?"
    ));
    insta::assert_snapshot!(stderr);
}

#[test]
fn foreign_key_of_a_different_type() {
    // The caret is under the type to change.
    let stderr = bad_schema("fk_type_mismatch.toml", "6:20", 1);
    assert!(stderr.contains("hero.team_id is `text` but references team.id, which is `integer`"));
    assert!(stderr.contains("declare hero.team_id as `integer`"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn foreign_key_to_a_column_that_is_not_a_key() {
    let stderr = bad_schema("fk_not_key.toml", "7:66", 1);
    assert!(stderr.contains("neither the primary key nor unique"));
    assert!(stderr.contains("`unique = true`"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn table_without_columns() {
    let stderr = bad_schema("table_without_columns.toml", "4:8", 1);
    assert!(stderr.contains("table `power` has no columns"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn identifier_longer_than_63_bytes() {
    let stderr = bad_schema("identifier_too_long.toml", "3:1", 1);
    assert!(stderr.contains("is 64 bytes long; PostgreSQL allows at most 63 bytes"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn name_with_a_line_break() {
    // The injection of issue #8: a line break would end the migration header's
    // `--` comment. The name is shown escaped, never with the line break itself.
    let stderr = bad_schema("control_character_in_name.toml", "4:8", 1);
    assert!(stderr.contains(
        "invalid table name: `audit\\nDROP TABLE hero;\\n--` contains the control character \\n"
    ));
    assert!(!stderr.lines().any(|line| line.trim() == "DROP TABLE hero;"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn two_objects_with_one_name() {
    let stderr = bad_schema("name_collision.toml", "5:8", 1);
    assert!(stderr.contains(
        "the unique constraint on `team` (name) and table `team_name_key` would both be named `team_name_key`"
    ));
    insta::assert_snapshot!(stderr);
}

#[test]
fn names_that_differ_only_in_case() {
    let stderr = bad_schema("names_differ_only_in_case.toml", "5:8", 1);
    assert!(stderr.contains("table `Team` differs from `team` only in letter case"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn default_that_is_not_a_finite_number() {
    let stderr = bad_schema("non_finite_default.toml", "3:38", 1);
    assert!(stderr.contains("default must be a finite number"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn empty_file_declares_no_tables() {
    let stderr = bad_schema("empty.toml", "1:1", 1);
    assert!(stderr.contains("schema.toml declares no tables"));
    assert!(stderr.contains("[table.team.columns]"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn missing_file() {
    // No schema.toml is not a bad file but no project at all: a usage error (2).
    let dir = tempfile::tempdir().unwrap();
    let run = strata(dir.path(), &["--project", ".", "generate", "x"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    insta::assert_snapshot!(run.stderr);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn file_that_is_not_utf8() {
    // `"café"` saved as Latin-1: the é (byte 0xe9) is the 5th character of line 4.
    let stderr = bad_schema("not_utf8.toml", "4:5", 1);
    assert!(stderr.contains("not UTF-8"));
    assert!(stderr.contains("0xe9"));
    insta::assert_snapshot!(stderr);
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let stderr = bad_schema("several_errors.toml", "4:17", 5);
    for place in ["4:17", "4:26", "8:42", "9:67", "11:8"] {
        assert!(
            stderr.contains(&format!("./schema.toml:{place}")),
            "expected an error at {place} in:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("error: ").count(), 5, "{stderr}");
    insta::assert_snapshot!(stderr);
}

// ---------------------------------------------------------------------------
// Valid schemas that must go all the way through.

/// Writes `schema`, runs generate and migrate into `db.sqlite`, checks that a second
/// generate finds nothing to do, and opens the database.
fn build_database(schema: &str) -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
    let database = dir.path().join("db.sqlite");
    let url = format!("sqlite:{}", database.display());
    for args in [
        vec!["--project", ".", "generate", "init"],
        vec!["--project", ".", "migrate", "--database-url", &url],
    ] {
        let run = strata(dir.path(), &args);
        assert_eq!(
            run.code,
            Some(0),
            "strata {args:?} failed:\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    let again = strata(dir.path(), &["--project", ".", "generate", "again"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to generate"),
        "the names must round-trip through the migrations:\n{}",
        again.stdout
    );
    let connection = rusqlite::Connection::open(&database).unwrap();
    (dir, connection)
}

fn tables(connection: &rusqlite::Connection) -> Vec<String> {
    let mut statement = connection
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'refinery_schema_history' ORDER BY rowid",
        )
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn columns(connection: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut statement = connection
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .unwrap();
    statement
        .query_map([table], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// (column, referenced table, referenced column) of each foreign key of `table`.
fn foreign_keys(connection: &rusqlite::Connection, table: &str) -> Vec<(String, String, String)> {
    let mut statement = connection
        .prepare("SELECT \"from\", \"table\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id")
        .unwrap();
    statement
        .query_map([table], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

#[test]
fn reserved_words_as_names() {
    let (_dir, db) = build_database(
        r#"
[table.user.columns]
id     = { type = "integer", primary_key = true }
select = "text"
group  = { type = "text", nullable = true, index = true }

[table.order.columns]
id    = { type = "integer", primary_key = true }
user  = { type = "integer", references = "user.id" }
from  = { type = "text", unique = true }
where = { type = "integer", nullable = true }
"#,
    );
    assert_eq!(tables(&db), strings(&["user", "order"]));
    assert_eq!(columns(&db, "user"), strings(&["id", "select", "group"]));
    assert_eq!(
        columns(&db, "order"),
        strings(&["id", "user", "from", "where"])
    );
    assert_eq!(
        foreign_keys(&db, "order"),
        vec![("user".into(), "user".into(), "id".into())]
    );
    // The data path works with those names too.
    db.execute(
        r#"INSERT INTO "user" ("id", "select", "group") VALUES (1, 'a', 'b')"#,
        [],
    )
    .unwrap();
    db.execute(
        r#"INSERT INTO "order" ("id", "user", "from") VALUES (1, 1, 'x')"#,
        [],
    )
    .unwrap();
}

#[test]
fn quotes_spaces_and_non_ascii_letters_in_names() {
    let long_name = "n".repeat(63); // exactly at PostgreSQL's limit: allowed
    let (_dir, db) = build_database(&format!(
        r#"
[table.'say "hi"'.columns]
id             = {{ type = "integer", primary_key = true }}
"with space"   = "text"
'quote"d'      = "text"
"naïve café"   = {{ type = "text", index = true }}
"Ünïcödé_名前" = {{ type = "text", nullable = true }}
{long_name}    = {{ type = "integer", nullable = true }}

[table."straße und weg".columns]
id        = {{ type = "integer", primary_key = true }}
"say id"  = {{ type = "integer", references = {{ table = 'say "hi"', column = "id" }} }}
"#
    ));
    assert_eq!(tables(&db), strings(&["say \"hi\"", "straße und weg"]));
    assert_eq!(
        columns(&db, "say \"hi\""),
        vec![
            "id".to_string(),
            "with space".to_string(),
            "quote\"d".to_string(),
            "naïve café".to_string(),
            "Ünïcödé_名前".to_string(),
            long_name,
        ]
    );
    assert_eq!(columns(&db, "straße und weg"), strings(&["id", "say id"]));
    assert_eq!(
        foreign_keys(&db, "straße und weg"),
        vec![("say id".into(), "say \"hi\"".into(), "id".into())]
    );
}

#[test]
fn self_reference() {
    let (_dir, db) = build_database(
        r#"
[table.employee.columns]
id         = { type = "integer", primary_key = true }
name       = "text"
manager_id = { type = "integer", nullable = true, references = "employee.id", on_delete = "set null" }
"#,
    );
    assert_eq!(tables(&db), strings(&["employee"]));
    assert_eq!(
        columns(&db, "employee"),
        strings(&["id", "name", "manager_id"])
    );
    assert_eq!(
        foreign_keys(&db, "employee"),
        vec![("manager_id".into(), "employee".into(), "id".into())]
    );
}

#[test]
fn cycle_between_two_tables() {
    let (_dir, db) = build_database(
        r#"
[table.department.columns]
id      = { type = "integer", primary_key = true }
head_id = { type = "integer", nullable = true, references = "person.id" }

[table.person.columns]
id            = { type = "integer", primary_key = true }
department_id = { type = "integer", nullable = true, references = "department.id" }
"#,
    );
    assert_eq!(tables(&db), strings(&["department", "person"]));
    assert_eq!(columns(&db, "department"), strings(&["id", "head_id"]));
    assert_eq!(columns(&db, "person"), strings(&["id", "department_id"]));
    assert_eq!(
        foreign_keys(&db, "department"),
        vec![("head_id".into(), "person".into(), "id".into())]
    );
    assert_eq!(
        foreign_keys(&db, "person"),
        vec![("department_id".into(), "department".into(), "id".into())]
    );
}

/// A nullable key column is SQLite's legacy quirk only: refused with PostgreSQL
/// among the dialects, whether the key is declared on the column or the table.
#[test]
fn nullable_key_columns_with_postgres() {
    let stderr = bad_schema("nullable_keys.toml", "5:63", 2);
    assert!(stderr.contains(
        "primary key column `tag.code` is nullable, which the postgres dialect does not allow"
    ));
    assert!(
        stderr.contains("primary key column `pair.b` is nullable"),
        "{stderr}"
    );
    assert!(stderr.contains("./schema.toml:8:1"), "{stderr}");
    insta::assert_snapshot!(stderr);
}

/// A single integer key is SQLite's rowid, which is never NULL.
#[test]
fn nullable_rowid_key() {
    let stderr = bad_schema("nullable_rowid_key.toml", "5:57", 1);
    assert!(stderr.contains("a single integer key is SQLite's rowid, never NULL"));
    insta::assert_snapshot!(stderr);
}
