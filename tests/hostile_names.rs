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
        // (PostgreSQL's line goes on: ", concurrently".)
        let step = format!("--   drop index ix{HOSTILE_SHOWN} on hero");
        assert!(header.iter().any(|line| line.starts_with(&step)), "{text}");
        // The only statement: the name inside its quotes, where a line break is
        // part of the identifier and not the end of anything (PostgreSQL drops
        // the index of an existing table concurrently).
        let drop = match dialect {
            "postgres" => "DROP INDEX CONCURRENTLY IF EXISTS",
            _ => "DROP INDEX",
        };
        assert!(
            text.ends_with(&format!("\n\n{drop} \"ix{HOSTILE}\";\n")),
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

// ---------------------------------------------------------------------------
// Names at PostgreSQL's 63-byte limit.

/// A table name of exactly 63 bytes, a 40-byte column that is unique and a
/// foreign key, and an indexed column: every derived name is over 63 bytes before
/// shortening. Before the fix `<table>_pkey` was cut by PostgreSQL to the table's
/// own name (`relation … already exists`) while SQLite applied it, and
/// `index = true` was refused.
#[test]
fn table_name_of_63_bytes_migrates_on_sqlite_and_postgresql_and_round_trips() {
    let table = "a".repeat(63);
    let column = "b".repeat(40);
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        &project.join("schema.toml"),
        &format!(
            r#"[project]
dialects = ["sqlite", "postgres"]

[table.{table}.columns]
id = {{ type = "integer", primary_key = true }}
{column} = {{ type = "integer", nullable = true, unique = true, references = "{table}.id" }}
name = {{ type = "text", index = true }}
"#
        ),
    );
    strata_ok(project, &["generate", "long_names"]);
    let pkey = format!("{}_pkey", "a".repeat(58));
    let key = format!("{}_{}_key", "a".repeat(29), "b".repeat(29));
    let fkey = format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28));
    let index = format!("ix_{}_d4ee", "a".repeat(52)); // md5 by Python's hashlib
    let postgres_sql =
        std::fs::read_to_string(project.join("migrations/postgres/V1__long_names.sql")).unwrap();
    for name in [&pkey, &key, &fkey, &index] {
        assert!(name.len() <= 63);
        assert!(
            postgres_sql.contains(&format!("\"{name}\"")),
            "{name} in:\n{postgres_sql}"
        );
    }

    let sqlite = Backend::new(Kind::Sqlite, project);
    let postgres = Backend::new(Kind::Postgres, project);
    for backend in [&sqlite, &postgres] {
        backend.strata_ok(project, &["migrate"]);
        backend.execute(&format!(
            "INSERT INTO \"{table}\" (id, \"{column}\", name) VALUES (1, NULL, 'root'), (2, 1, 'child')"
        ));
        assert_eq!(
            backend.rows(&format!("SELECT count(*) FROM \"{table}\"")),
            ["2"]
        );
    }
    assert_eq!(
        sqlite.rows(&format!("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = '{table}' AND sql IS NOT NULL")),
        vec![index.clone()]
    );
    assert_eq!(
        postgres.rows("SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conname NOT LIKE 'refinery%' ORDER BY contype, conname"),
        vec![fkey.clone(), pkey.clone(), key.clone()]
    );
    assert_eq!(
        postgres.rows(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'ix%'"
        ),
        vec![index.clone()]
    );

    // Both histories replay to exactly the declared names: from SQLite, and from
    // PostgreSQL's own catalog through a dev database.
    let again = strata_ok(project, &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    let server = pg_server_url();
    let again = strata_ok(project, &["generate", "again", "--dev-url", &server]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    // And what `pull` reads back from PostgreSQL is the short form again.
    let pulled = postgres.strata_ok(project, &["pull"]);
    assert!(
        pulled.stdout.contains(&format!("{column} = {{ type = \"integer\", nullable = true, unique = true, references = \"{table}.id\" }}")),
        "{}",
        pulled.stdout
    );
    assert!(
        pulled
            .stdout
            .contains("name = { type = \"text\", index = true }"),
        "{}",
        pulled.stdout
    );
}

/// Two 59-byte table names that differ only in their last byte: PostgreSQL's rule
/// cuts both primary keys to the same 58 bytes + `_pkey`. `generate` names both
/// objects and writes nothing, instead of a migration that fails on PostgreSQL.
#[test]
fn derived_names_that_meet_after_shortening_are_refused() {
    let first = format!("{}1", "x".repeat(58));
    let second = format!("{}2", "x".repeat(58));
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("schema.toml"),
        &format!(
            "[table.{first}.columns]\nid = {{ type = \"integer\", primary_key = true }}\n\n\
             [table.{second}.columns]\nid = {{ type = \"integer\", primary_key = true }}\n"
        ),
    );
    let run = strata(dir.path(), &["--project", ".", "generate", "x"]);
    assert_eq!(run.code, INVALID_INPUT, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("./schema.toml:5:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "the primary key of `{first}` and the primary key of `{second}` would both be named `{}_pkey`",
            "x".repeat(58)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the first is declared at line 2, column 1"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("migrations").exists());
}

/// A derived name equal to a declared one: `team.name` unique is `team_name_key`,
/// which is also a table. PostgreSQL would fail on the second CREATE.
#[test]
fn a_constraint_named_like_a_table_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("schema.toml"),
        "[table.team.columns]\nid = { type = \"integer\", primary_key = true }\nname = { type = \"text\", unique = true }\n\n\
         [table.team_name_key.columns]\nid = { type = \"integer\", primary_key = true }\n",
    );
    let run = strata(dir.path(), &["--project", ".", "generate", "x"]);
    assert_eq!(run.code, INVALID_INPUT, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("./schema.toml:5:8"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "the unique constraint on `team` (name) and table `team_name_key` would both be named `team_name_key`; \
             tables, indexes and constraints share one namespace in PostgreSQL"
        ),
        "{}",
        run.stderr
    );
}

/// A check constraint named with quotes on SQLite: read back from the
/// CREATE TABLE text as SQLite reads it (`""` is one quote), so a second
/// generate has nothing to do instead of rebuilding the table every time.
#[test]
fn a_quoted_check_name_round_trips_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.toml"),
        "[project]\ndialects = [\"sqlite\"]\ndatabase = \"sqlite:db.db\"\n\n\
         [table.t.columns]\nid = { type = \"integer\", primary_key = true }\n\
         price = { type = \"integer\", check = { name = \"it's \\\"ok\\\"\", sql = \"price > 0\" } }\n",
    )
    .unwrap();
    strata_ok(dir.path(), &["generate", "init"]);
    strata_ok(dir.path(), &["migrate"]);
    let again = strata_ok(dir.path(), &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    strata_ok(dir.path(), &["check"]);
}

/// The same for the other things pull writes by name: an enum type and one of
/// its values, a domain and its CHECK, a view (PostgreSQL). Each is named,
/// escaped, and nothing is written, instead of a file generate would refuse.
#[test]
fn pull_refuses_types_domains_and_views_whose_names_have_a_line_break() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let postgres = Backend::new(Kind::Postgres, project);
    postgres.execute(
        "CREATE TYPE \"mo\nod\" AS ENUM ('ok', 'b\nad');
         CREATE DOMAIN \"pos\nitive\" AS integer CONSTRAINT \"ch\nk\" CHECK (VALUE > 0);
         CREATE TABLE t (id serial PRIMARY KEY, m \"mo\nod\", p \"pos\nitive\");
         CREATE VIEW \"v\nw\" AS SELECT 1 AS one;",
    );
    let run = postgres.strata(
        project,
        &["pull", "--output", "pulled.toml", "--allow-unmanaged"],
    );
    assert_eq!(run.code, REFUSED, "{}\n{}", run.stdout, run.stderr);
    for expected in [
        "enum type: `mo\\nod` contains the control character \\n",
        "value `b\\nad` of enum type `mo\\nod`: holds a control character",
        "domain: `pos\\nitive` contains the control character \\n",
        "constraint on domain `pos\\nitive`: `ch\\nk` contains the control character \\n",
        "view: `v\\nw` contains the control character \\n",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected}\nnot in:\n{}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("a bug in pull"), "{}", run.stderr);
    assert!(!project.join("pulled.toml").exists());
}
