//! Types beyond the portable set (issue #12, item 1): PostgreSQL's built-in
//! and extension types and arrays, SQLite's declared types kept as written,
//! and `[enum.NAME]` enums. Each round-trips through pull → generate →
//! migrate into an empty database with the same catalog.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

/// Every column of the schema's tables as `table.column type not-null default`,
/// the type as `format_type` prints it.
const PG_COLUMNS: &str =
    "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
       || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '') \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
     LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
     WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'refinery_schema_history' \
     ORDER BY c.relname, a.attnum";

/// Every enum of the schema with its values in order.
const PG_ENUMS: &str =
    "SELECT t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) \
     FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
     JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' \
     GROUP BY t.typname ORDER BY t.typname";

const PG_TYPES: &str = r#"
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE TYPE mood AS ENUM ('sad', 'it''s ok');
CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title text NOT NULL,
    code char(2),
    rating mpaa_rating DEFAULT 'G',
    special_features text[],
    scores integer[],
    fulltext tsvector,
    attrs jsonb NOT NULL DEFAULT '{}',
    email citext,
    addr inet,
    span interval,
    starts time,
    starts_tz timestamp(3) with time zone,
    price money,
    bits bit varying(8),
    name varchar(20));
INSERT INTO film (title, code, rating, special_features, scores, attrs, email)
VALUES ('Academy Dinosaur', 'AD', 'PG', '{Trailers,"Deleted Scenes"}', '{1,2}', '{"a": 1}', 'X@Y.org');
"#;

fn write(project: &Path, name: &str, text: &str) {
    std::fs::write(project.join(name), text).unwrap();
}

#[test]
fn postgres_types_arrays_extension_types_and_enums_round_trip() {
    let original = PgDatabase::create();
    original.execute(PG_TYPES);
    let copy = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();

    // Nothing is left out: pull succeeds without --allow-unmanaged.
    let pulled = pull_ok(project, &original.url);
    assert!(!pulled.stderr.contains("warning"), "{}", pulled.stderr);
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    for line in [
        "[enum.mood]\nvalues = [\"sad\", \"it's ok\"]",
        "[enum.mpaa_rating]\nvalues = [\"G\", \"PG\", \"PG-13\", \"R\", \"NC-17\"]",
        // `text` is PostgreSQL's own (the portable `text` is VARCHAR there).
        "title = { type = { postgres = \"text\" } }",
        "code = { type = \"character(2)\", nullable = true }",
        "rating = { type = \"mpaa_rating\", nullable = true, default = \"G\" }",
        "special_features = { type = \"text[]\", nullable = true }",
        "attrs = { type = \"jsonb\", default = \"{}\" }",
        // An extension's type is not a built-in one: named per dialect.
        "email = { type = { postgres = \"citext\" }, nullable = true }",
        "starts_tz = { type = \"timestamp(3) with time zone\", nullable = true }",
    ] {
        assert!(schema.contains(line), "{line}\n{schema}");
    }

    strata_ok(
        project,
        &["generate", "initial", "--dev-url", &pg_server_url()],
    );
    strata_ok(project, &["migrate", "--database-url", &copy.url]);
    assert_eq!(copy.rows(PG_COLUMNS), original.rows(PG_COLUMNS));
    assert_eq!(copy.rows(PG_ENUMS), original.rows(PG_ENUMS));
    assert_eq!(
        copy.rows(PG_ENUMS),
        ["mood sad,it's ok", "mpaa_rating G,PG,PG-13,R,NC-17"]
    );

    // The data reloads into the copy, and nothing is left to generate.
    copy.execute(
        "INSERT INTO film (title, code, rating, special_features, scores, attrs, email) \
         VALUES ('Academy Dinosaur', 'AD', 'PG', '{Trailers,\"Deleted Scenes\"}', '{1,2}', '{\"a\": 1}', 'X@Y.org')",
    );
    assert_eq!(
        copy.rows("SELECT rating, special_features[2], attrs->>'a', email = 'x@y.org' FROM film"),
        ["PG|Deleted Scenes|1|t"]
    );
    assert_generate_finds_nothing_on_postgres(project);
}

#[test]
fn sqlite_declared_types_are_kept_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let original = project.join("original.db");
    rusqlite::Connection::open(&original)
        .unwrap()
        .execute_batch(
            "CREATE TABLE categories (category_id INTEGER PRIMARY KEY, category_name NVARCHAR(40) NOT NULL,
                 code CHAR(1), note TEXT, stock int, price DECIMAL(4,2) NOT NULL DEFAULT 0,
                 ratio DECIMAL(10, 5), weight FLOAT, label VARCHAR(10), born DATETIME);
             CREATE TABLE products (id INT PRIMARY KEY, category_id INT REFERENCES categories, tag text);",
        )
        .unwrap();
    strata_ok(
        project,
        &[
            "pull",
            "--database-url",
            "sqlite:original.db",
            "--output",
            "schema.toml",
        ],
    );
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    for line in [
        "category_name = \"NVARCHAR(40)\"",
        "code = { type = \"CHAR(1)\", nullable = true }",
        // `text` is a portable name, so SQLite's own TEXT is said per dialect.
        "note = { type = { sqlite = \"TEXT\" }, nullable = true }",
        "stock = { type = \"INT\", nullable = true }",
        "price = { type = \"DECIMAL(4,2)\", default = 0 }",
        "ratio = { type = \"DECIMAL(10, 5)\", nullable = true }",
        "label = { type = \"varchar(10)\", nullable = true }",
        "category_id = { type = \"INT\", nullable = true, references = \"categories.category_id\" }",
    ] {
        assert!(schema.contains(line), "{line}\n{schema}");
    }
    strata_ok(project, &["generate", "initial"]);
    strata_ok(project, &["migrate", "--database-url", "sqlite:copy.db"]);
    let declared = |file: &str, table: &str| {
        sqlite_strings(
            &project.join(file),
            &format!("SELECT name || ' ' || type FROM pragma_table_info('{table}')"),
        )
    };
    for table in ["categories", "products"] {
        assert_eq!(
            declared("copy.db", table),
            declared("original.db", table),
            "{table}"
        );
    }
    assert!(declared("copy.db", "categories").contains(&"category_name NVARCHAR(40)".to_string()));
    let again = strata_ok(project, &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_postgres_type_in_a_two_dialect_project_names_each_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        r#"[project]
dialects = ["sqlite", "postgres"]

[table.doc.columns]
id = { type = "integer", primary_key = true }
body = "jsonb"
words = { type = { postgres = "tsvector" }, nullable = true }
"#,
    );
    let run = strata(project, &["generate", "initial"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        error_lines(&run),
        [
            "error: `jsonb` is a postgres type, and this project's dialects are sqlite, postgres: a dialect-specific type names its spelling for each dialect",
            "error: column `doc.words` has no type for `sqlite`, one of this project's dialects (sqlite, postgres)",
        ],
        "{}",
        run.stderr
    );
    for part in [
        "./schema.toml:6:8",
        "help: write type = { sqlite = \"...\", postgres = \"jsonb\" }, or the portable type `json`",
        "./schema.toml:7:18",
    ] {
        assert!(run.stderr.contains(part), "{part}\n{}", run.stderr);
    }

    // Each dialect's spelling: accepted, and each dialect gets its own.
    write(
        project,
        "schema.toml",
        r#"[project]
dialects = ["sqlite", "postgres"]

[table.doc.columns]
id = { type = "integer", primary_key = true }
body = { type = { postgres = "JSONB", sqlite = "TEXT" } }
words = { type = { postgres = "tsvector", sqlite = "TEXT" }, nullable = true }
"#,
    );
    strata_ok(
        project,
        &["generate", "initial", "--dev-url", &pg_server_url()],
    );
    let postgres =
        std::fs::read_to_string(project.join("migrations/postgres/V1__initial.sql")).unwrap();
    let sqlite =
        std::fs::read_to_string(project.join("migrations/sqlite/V1__initial.sql")).unwrap();
    assert!(postgres.contains("\"body\" jsonb NOT NULL"), "{postgres}");
    assert!(postgres.contains("\"words\" tsvector,"), "{postgres}");
    assert!(sqlite.contains("\"body\" TEXT NOT NULL"), "{sqlite}");
    assert_generate_finds_nothing_on_postgres(project);
}

#[test]
fn a_type_that_is_not_a_type_spelling_is_refused_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        r#"[project]
dialects = ["postgres"]

[table.doc.columns]
id = { type = "integer", primary_key = true }
a = { type = { postgres = "text; DROP TABLE doc" } }
b = "varchar(x)"
c = { type = "jsnb", unique = true }
d = { type = "mood" }
e = { type = "text", references = "doc.c" }
"#,
    );
    let run = strata(project, &["generate", "initial"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        error_lines(&run),
        [
            "error: `text; DROP TABLE doc` is not a type: `;` cannot appear in a type: a type is words, an optional (n) or (n,m), and `[]` for an array",
            "error: `varchar(x)` is not a type: `(x)`: a type takes one or two whole numbers, as in `(10)` or `(10,2)`",
            "error: unknown column type `jsnb`; did you mean `json`?",
            "error: unknown column type `mood`",
        ],
        "{}",
        run.stderr
    );
    for place in [
        "./schema.toml:6:27",
        "./schema.toml:7:5",
        "./schema.toml:8:14",
        "./schema.toml:9:14",
    ] {
        assert!(run.stderr.contains(place), "{place}\n{}", run.stderr);
    }
    // The column of a bad type is still declared, and its type is not
    // compared again: no knock-on error for `e`, which references it.
}

#[test]
fn enum_values_are_added_in_place_and_removals_are_refused() {
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let schema = |values: &str| {
        format!(
            "[project]\ndialects = [\"postgres\"]\n\n[enum.mpaa_rating]\nvalues = [{values}]\n\n\
             [table.film.columns]\nid = {{ type = \"integer\", primary_key = true }}\n\
             rating = {{ type = \"mpaa_rating\", default = \"G\" }}\n"
        )
    };
    let dev = pg_server_url();
    write(project, "schema.toml", &schema("\"G\", \"R\""));
    strata_ok(project, &["generate", "initial", "--dev-url", &dev]);
    let first =
        std::fs::read_to_string(project.join("migrations/postgres/V1__initial.sql")).unwrap();
    let create_type = first.find("CREATE TYPE \"mpaa_rating\" AS ENUM ('G', 'R');");
    let create_table = first.find("CREATE TABLE \"film\"");
    assert!(
        create_type.is_some() && create_type < create_table,
        "{first}"
    );
    strata_ok(project, &["migrate", "--database-url", &database.url]);

    write(
        project,
        "schema.toml",
        &schema("\"G\", \"PG\", \"R\", \"NC-17\""),
    );
    let added = strata_ok(project, &["generate", "more_ratings", "--dev-url", &dev]);
    assert!(
        added
            .stdout
            .contains("add value PG to enum mpaa_rating before R"),
        "{}",
        added.stdout
    );
    let second =
        std::fs::read_to_string(project.join("migrations/postgres/V2__more_ratings.sql")).unwrap();
    assert!(
        second.contains("ALTER TYPE \"mpaa_rating\" ADD VALUE 'PG' BEFORE 'R';")
            && second.contains("ALTER TYPE \"mpaa_rating\" ADD VALUE 'NC-17';"),
        "{second}"
    );
    strata_ok(project, &["migrate", "--database-url", &database.url]);
    assert_eq!(database.rows(PG_ENUMS), ["mpaa_rating G,PG,R,NC-17"]);
    database.execute("INSERT INTO film (id, rating) VALUES (1, 'NC-17')");

    // A value removed: refused, saying why and what to do instead.
    write(project, "schema.toml", &schema("\"G\", \"PG\", \"R\""));
    let refused = strata(project, &["generate", "fewer", "--dev-url", &dev]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("PostgreSQL cannot remove a value from an enum (removed: NC-17)"),
        "{}",
        refused.stderr
    );
    assert!(!project.join("migrations/postgres/V3__fewer.sql").exists());

    // An enum no longer used nor declared is dropped after its column.
    write(
        project,
        "schema.toml",
        "[project]\ndialects = [\"postgres\"]\n\n[table.film.columns]\nid = { type = \"integer\", primary_key = true }\nrating = { type = \"text\", default = \"G\" }\n",
    );
    strata_ok(
        project,
        &[
            "generate",
            "plain_rating",
            "--dev-url",
            &dev,
            "--allow-destructive",
        ],
    );
    strata_ok(project, &["migrate", "--database-url", &database.url]);
    assert!(database.rows(PG_ENUMS).is_empty());
    assert_eq!(database.rows("SELECT rating FROM film"), ["NC-17"]);
}

#[test]
fn an_enum_is_a_type_on_postgres_and_text_with_a_check_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let schema = |values: &str| {
        format!(
            "[project]\ndialects = [\"sqlite\", \"postgres\"]\n\n[enum.mood]\nvalues = [{values}]\n\n[table.person.columns]\n\
             id = {{ type = \"integer\", primary_key = true }}\nmood = {{ type = \"mood\", nullable = true }}\n"
        )
    };
    write(project, "schema.toml", &schema("\"sad\", \"ok\""));
    let dev = pg_server_url();
    strata_ok(project, &["generate", "initial", "--dev-url", &dev]);
    let first = std::fs::read_to_string(project.join("migrations/sqlite/V1__initial.sql")).unwrap();
    assert!(
        first.contains("CONSTRAINT \"person_mood_enum\" CHECK (\"mood\" IN ('sad', 'ok'))"),
        "{first}"
    );
    strata_ok(project, &["migrate"]);
    let db = project.join("database.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute("INSERT INTO person (id, mood) VALUES (1, 'ok')", [])
        .unwrap();
    assert!(connection
        .execute("INSERT INTO person (id, mood) VALUES (2, 'happy')", [])
        .is_err());
    drop(connection);

    write(
        project,
        "schema.toml",
        &schema("\"sad\", \"ok\", \"happy\""),
    );
    strata_ok(project, &["generate", "happy", "--dev-url", &dev]);
    // PostgreSQL, in the same project, adds the value to its enum type.
    let postgres =
        std::fs::read_to_string(project.join("migrations/postgres/V2__happy.sql")).unwrap();
    assert!(
        postgres.contains("ALTER TYPE \"mood\" ADD VALUE 'happy';"),
        "{postgres}"
    );
    strata_ok(project, &["migrate"]);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute("INSERT INTO person (id, mood) VALUES (2, 'happy')", [])
        .unwrap();
    assert_eq!(
        sqlite_strings(&db, "SELECT mood FROM person ORDER BY id"),
        ["ok", "happy"]
    );
    let again = strata_ok(project, &["generate", "again", "--dev-url", &dev]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
}

/// A patch into an NVARCHAR column (SQLite, checked by its TEXT affinity) and
/// into an enum column (PostgreSQL, checked against the enum's values) before
/// anything runs.
#[test]
fn patches_check_values_of_native_and_enum_columns() {
    // SQLite: NVARCHAR(40) takes text; an integer column of INT takes no text.
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        "[table.category.columns]\nid = { type = \"integer\", primary_key = true }\nname = \"NVARCHAR(40)\"\nstock = { type = \"INT\", nullable = true }\n",
    );
    strata_ok(project, &["generate", "initial"]);
    strata_ok(project, &["migrate"]);
    std::fs::create_dir_all(project.join("patches")).unwrap();
    write(
        project,
        "patches/0001_bad.toml",
        "[[insert]]\ntable = \"category\"\nrows = [{ name = \"Beverages\", stock = \"many\" }]\n",
    );
    let refused = strata(project, &["patch"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("category.stock is INT, but the value is a string"),
        "{}",
        refused.stderr
    );
    std::fs::remove_file(project.join("patches/0001_bad.toml")).unwrap();
    write(
        project,
        "patches/0001_categories.toml",
        "[[insert]]\ntable = \"category\"\nrows = [{ name = \"Beverages\", stock = 3 }]\n",
    );
    strata_ok(project, &["patch"]);
    assert_eq!(
        sqlite_strings(
            &project.join("database.db"),
            "SELECT name, stock FROM category"
        ),
        ["Beverages|3"]
    );

    // PostgreSQL: an enum column takes its values only.
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        "[project]\ndialects = [\"postgres\"]\n\n[enum.mood]\nvalues = [\"sad\", \"ok\"]\n\n[table.person.columns]\nid = { type = \"integer\", primary_key = true }\nmood = \"mood\"\n",
    );
    strata_ok(
        project,
        &["generate", "initial", "--dev-url", &pg_server_url()],
    );
    strata_ok(project, &["migrate", "--database-url", &database.url]);
    std::fs::create_dir_all(project.join("patches")).unwrap();
    write(
        project,
        "patches/0001_people.toml",
        "[[insert]]\ntable = \"person\"\nrows = [{ mood = \"ok\" }, { mood = \"happy\" }]\n",
    );
    let refused = strata(project, &["patch", "--database-url", &database.url]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("person.mood is enum mood, and `happy` is not one of its values")
            && refused.stderr.contains("0001_people.toml:3:35"),
        "{}",
        refused.stderr
    );
    write(
        project,
        "patches/0001_people.toml",
        "[[insert]]\ntable = \"person\"\nrows = [{ mood = \"ok\" }, { mood = \"sad\" }]\n",
    );
    strata_ok(project, &["patch", "--database-url", &database.url]);
    assert_eq!(
        database.rows("SELECT mood FROM person ORDER BY id"),
        ["ok", "sad"]
    );
}

/// What the model still cannot hold is named by `pull`, never dropped
/// silently: a domain, and an enum named like a portable type.
#[test]
fn pull_names_domains_and_an_enum_named_like_a_portable_type() {
    let database = PgDatabase::create();
    database.execute(
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
         CREATE TYPE pair AS (a integer, b integer);
         CREATE DOMAIN pair_d AS pair;
         CREATE DOMAIN folded AS varchar(10) COLLATE \"C\";
         CREATE TYPE public.json AS ENUM ('a', 'b');
         CREATE TABLE t (id serial PRIMARY KEY, n pair_d, p positive, j public.json, ok jsonb);",
    );
    let dir = tempfile::tempdir().unwrap();
    let refused = strata(dir.path(), &["pull", "--database-url", &database.url]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    for line in [
        "  enum type `json`: ('a', 'b'); named like the portable type, which schema.toml would take it for",
        // A domain over a composite type stays out; one over integer is `[domain.positive]`.
        "  domain `pair_d`: over pair",
        "  domain `folded`: over character varying(10)",
        "  column `t.n`: type `pair_d` is not one schema.toml declares; the column is left out",
        "  column `t.j`: type `public.json` is not one schema.toml declares; the column is left out",
    ] {
        assert!(refused.stderr.contains(line), "{line}\n{}", refused.stderr);
    }
    assert!(!refused.stderr.contains("t.ok"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("positive"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("t.p"), "{}", refused.stderr);
}
