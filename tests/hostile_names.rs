//! Hostile names (issue #8): a name may never turn into SQL outside its quotes, and
//! names at PostgreSQL's 63-byte limit must behave the same on every dialect.

mod common;

use std::path::Path;

use common::*;

/// The table name of issue #8: a line break ends a `--` comment, so in a generated
/// migration's header the second line became a statement of its own.
const HOSTILE: &str = "audit\nDROP TABLE hero;\n--";
/// The same name as strata must show it: escaped, on one line.
const HOSTILE_SHOWN: &str = "audit\\nDROP TABLE hero;\\n--";

const INVALID_INPUT: i32 = 3;
const REFUSED: i32 = 5;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn sqlite_tables(database: &Path) -> Vec<String> {
    sqlite_strings(
        database,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'refinery_schema_history' ORDER BY name",
    )
}

#[test]
fn line_break_in_a_table_name_is_refused_in_schema_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("schema.toml"),
        r#"[project]
dialects = ["sqlite", "postgres"]

[table.hero.columns]
id = { type = "integer", primary_key = true }

[table."audit\nDROP TABLE hero;\n--".columns]
id = { type = "integer", primary_key = true }
"#,
    );
    let run = strata(dir.path(), &["--project", ".", "generate", "audit"]);
    assert_eq!(run.code, INVALID_INPUT, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("./schema.toml:7:8"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "invalid table name: `{HOSTILE_SHOWN}` contains the control character \\n; \
             names cannot contain line breaks, tabs, NUL or other control characters"
        )),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("migrations").exists());
}

#[test]
fn tab_or_escape_in_a_column_name_is_refused_in_schema_toml() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("schema.toml"),
        "[table.hero.columns]\nid = { type = \"integer\", primary_key = true }\n\"se\\tcret\" = \"text\"\n\"\\u001b[2Jname\" = \"text\"\n",
    );
    let run = strata(dir.path(), &["--project", ".", "generate", "x"]);
    assert_eq!(run.code, INVALID_INPUT, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("./schema.toml:3:1"), "{}", run.stderr);
    assert!(run
        .stderr
        .contains("`se\\tcret` contains the control character \\t"));
    assert!(run.stderr.contains("./schema.toml:4:1"), "{}", run.stderr);
    assert!(run
        .stderr
        .contains("`\\u{1b}[2Jname` contains the control character \\u{1b}"));
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no raw escape reaches the terminal"
    );
}

/// A name with a line break that did not come from schema.toml (here: an index in
/// a hand-written migration, which `generate` then drops) still cannot leave the
/// header's comment. Before the fix the header had a line `DROP TABLE hero;`.
#[test]
fn migration_header_neutralises_a_line_break_in_a_name_from_history() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        &project.join("schema.toml"),
        r#"[project]
dialects = ["sqlite", "postgres"]

[table.hero.columns]
id = { type = "integer", primary_key = true }
name = "text"
"#,
    );
    let index = format!("CREATE INDEX \"ix{HOSTILE}\" ON hero (name);\n");
    write(
        &project.join("migrations/sqlite/V1__by_hand.sql"),
        &format!("CREATE TABLE hero (id INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (id));\n{index}"),
    );
    write(
        &project.join("migrations/postgres/V1__by_hand.sql"),
        &format!("CREATE TABLE hero (id SERIAL NOT NULL, name TEXT NOT NULL, CONSTRAINT hero_pkey PRIMARY KEY (id));\n{index}"),
    );
    let run = strata_ok(project, &["generate", "drop_odd_index"]);
    assert!(
        run.stdout
            .contains(&format!("drop index ix{HOSTILE_SHOWN} on hero")),
        "{}",
        run.stdout
    );
    for dialect in ["sqlite", "postgres"] {
        let text = std::fs::read_to_string(
            project.join(format!("migrations/{dialect}/V2__drop_odd_index.sql")),
        )
        .unwrap();
        let header: Vec<&str> = text.lines().take_while(|line| !line.is_empty()).collect();
        assert!(
            header.iter().all(|line| line.starts_with("-- ")),
            "every header line is a comment:\n{text}"
        );
        assert!(
            header.contains(&format!("--   drop index ix{HOSTILE_SHOWN} on hero").as_str()),
            "{text}"
        );
        // The only statement: the name inside its quotes, where a line break is
        // part of the identifier and not the end of anything.
        assert!(
            text.ends_with(&format!("\n\nDROP INDEX \"ix{HOSTILE}\";\n")),
            "{text}"
        );
    }

    // Applied, both engines keep `hero` and lose only the index.
    let sqlite = Backend::new(Kind::Sqlite, project);
    let postgres = Backend::new(Kind::Postgres, project);
    for backend in [&sqlite, &postgres] {
        backend.strata_ok(project, &["migrate"]);
        backend.execute("INSERT INTO hero (id, name) VALUES (1, 'Deadpond')");
        assert_eq!(backend.rows("SELECT name FROM hero"), ["Deadpond"]);
    }
    assert_eq!(
        sqlite.rows("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name LIKE 'ix%'"),
        ["0"]
    );
    assert_eq!(
        postgres.rows("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix%'"),
        ["0"]
    );
}

/// `pull` from a database where someone created such a table by hand refuses,
/// names the table (escaped) and writes nothing: a schema.toml that strata itself
/// would refuse is no use, and the name never reaches a file or a terminal raw.
#[test]
fn pull_refuses_a_table_whose_name_has_a_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let create = format!(
        "CREATE TABLE hero (id INTEGER PRIMARY KEY); CREATE TABLE \"{HOSTILE}\" (id INTEGER PRIMARY KEY, \"x\ry\" TEXT);"
    );
    let sqlite = Backend::new(Kind::Sqlite, project);
    let postgres = Backend::new(Kind::Postgres, project);
    for backend in [&sqlite, &postgres] {
        backend.execute(&create);
        let run = backend.strata(project, &["pull", "--output", "pulled.toml"]);
        assert_eq!(run.code, REFUSED, "{}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("schema.toml cannot hold these names, so nothing was written"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(
                "table: `{HOSTILE_SHOWN}` contains the control character \\n"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!(
                "column of `{HOSTILE_SHOWN}`: `x\\ry` contains the control character \\r"
            )),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains(HOSTILE), "{}", run.stderr);
        assert!(!project.join("pulled.toml").exists());
    }
    assert_eq!(
        sqlite_tables(&project.join("database.db")),
        ["audit\nDROP TABLE hero;\n--", "hero"]
    );
}
