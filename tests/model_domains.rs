//! Domains (issue #12, item 1): `[domain.NAME]` in schema.toml, `CREATE DOMAIN`
//! on PostgreSQL, the base type with the domain's checks on SQLite; pull keeps
//! them and the columns over them, changes migrate and roll back.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

/// Every domain of the schema: name, base type, NOT NULL, default, checks.
const PG_DOMAINS: &str =
    "SELECT t.typname || ' ' || format_type(t.typbasetype, t.typtypmod) || ' ' || t.typnotnull \
       || ' ' || coalesce(t.typdefault, '-') || ' ' \
       || coalesce(string_agg(con.conname || ': ' || pg_get_constraintdef(con.oid), '; ' ORDER BY con.conname), '') \
     FROM pg_type t LEFT JOIN pg_constraint con ON con.contypid = t.oid \
     WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'd' \
     GROUP BY t.oid ORDER BY t.typname";

/// Every column: its type (the domain's name for a domain column), NOT NULL, default.
const PG_COLUMNS: &str =
    "SELECT table_name || '.' || column_name || ' ' || coalesce(domain_name, data_type) || ' ' \
       || is_nullable || ' ' || coalesce(column_default, '-') \
     FROM information_schema.columns WHERE table_schema = 'public' \
       AND table_name <> 'refinery_schema_history' ORDER BY table_name, ordinal_position";

const PG_ORIGINAL: &str = r#"
CREATE TYPE mood AS ENUM ('sad', 'ok', 'glad');
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE DOMAIN email AS varchar(200) NOT NULL DEFAULT 'nobody@example.org'
    CONSTRAINT email_at CHECK (VALUE LIKE '%@%')
    CONSTRAINT email_short CHECK (length(VALUE) < 100);
CREATE DOMAIN cheerful AS mood DEFAULT 'ok' CHECK (VALUE <> 'sad');
CREATE DOMAIN scores AS integer[];
CREATE TABLE member (
    id serial PRIMARY KEY,
    age positive,
    visits positive NOT NULL DEFAULT 1,
    mail email,
    mood cheerful,
    points scores
);
INSERT INTO member (age, mail, mood, points) VALUES (30, 'a@b.org', 'glad', '{1,2}');
"#;

fn write(project: &Path, name: &str, text: &str) {
    std::fs::write(project.join(name), text).unwrap();
}

fn read(project: &Path, name: &str) -> String {
    std::fs::read_to_string(project.join(name)).unwrap()
}

#[test]
fn pull_generate_migrate_round_trips_domains() {
    let original = PgDatabase::create();
    original.execute(PG_ORIGINAL);
    let copy = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();

    // No domain is named as left out: pull succeeds without --allow-unmanaged.
    let pulled = pull_ok(project, &original.url);
    assert!(!pulled.stderr.contains("domain"), "{}", pulled.stderr);
    let schema = read(project, "schema.toml");
    for part in [
        "[domain.positive]\ntype = \"integer\"\ncheck = \"VALUE > 0\"\n",
        "[domain.email]\ntype = \"varchar(200)\"\nnullable = false\ndefault = \"nobody@example.org\"\n\
         check = [{ name = \"email_at\", sql = \"(VALUE)::text ~~ '%@%'::text\" }, \
         { name = \"email_short\", sql = \"length((VALUE)::text) < 100\" }]\n",
        "[domain.cheerful]\ntype = \"mood\"\ndefault = \"ok\"\ncheck = \"VALUE <> 'sad'::mood\"\n",
        "[domain.scores]\ntype = \"integer[]\"\n",
        "age = { type = \"positive\", nullable = true }",
        "visits = { type = \"positive\", default = 1 }",
        "mood = { type = \"cheerful\", nullable = true }",
    ] {
        assert!(schema.contains(part), "{part}\n{schema}");
    }

    strata_ok(
        project,
        &["generate", "initial", "--dev-url", &pg_server_url()],
    );
    let up = read(project, "migrations/postgres/V1__initial.sql");
    let (enum_at, domain_at, table_at) = (
        up.find("CREATE TYPE \"mood\""),
        up.find("CREATE DOMAIN \"cheerful\" AS \"mood\" DEFAULT 'ok' CONSTRAINT \"cheerful_check\" CHECK (VALUE <> 'sad'::mood);"),
        up.find("CREATE TABLE \"member\""),
    );
    assert!(
        enum_at.is_some() && enum_at < domain_at && domain_at < table_at,
        "{up}"
    );
    strata_ok(project, &["migrate", "--database-url", &copy.url]);
    assert_eq!(copy.rows(PG_DOMAINS), original.rows(PG_DOMAINS));
    assert_eq!(
        copy.rows(PG_DOMAINS)[0],
        "cheerful mood false 'ok'::mood cheerful_check: CHECK ((VALUE <> 'sad'::mood))"
    );
    assert_eq!(copy.rows(PG_COLUMNS), original.rows(PG_COLUMNS));
    assert!(
        copy.rows(PG_COLUMNS)
            .contains(&"member.mail email NO -".to_string()),
        "{:?}",
        copy.rows(PG_COLUMNS)
    );

    // The copy's domains refuse what the original's refuse, and default alike.
    copy.execute("INSERT INTO member (age, mood, points) VALUES (30, 'glad', '{1,2}')");
    assert_eq!(
        copy.rows("SELECT mail, visits FROM member"),
        ["nobody@example.org|1"]
    );
    for bad in [
        "INSERT INTO member (age) VALUES (0)",
        "INSERT INTO member (mail) VALUES ('no-at-sign')",
        "INSERT INTO member (mood) VALUES ('sad')",
    ] {
        let error = copy.client().batch_execute(bad).unwrap_err();
        assert!(
            format!("{error:?}").contains("violates check constraint"),
            "{bad}: {error:?}"
        );
    }

    assert_generate_finds_nothing_on_postgres(project);
}

#[test]
fn domain_changes_migrate_and_roll_back() {
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let dev = pg_server_url();
    let schema = |domain: &str| {
        format!(
            "[project]\ndialects = [\"postgres\"]\n\n[domain.quantity]\n{domain}\n\n\
             [table.stock.columns]\nid = {{ type = \"integer\", primary_key = true }}\n\
             amount = {{ type = \"quantity\", nullable = true }}\n"
        )
    };
    write(
        project,
        "schema.toml",
        &schema("type = \"integer\"\ncheck = \"VALUE >= 0\""),
    );
    strata_ok(project, &["generate", "initial", "--dev-url", &dev]);
    strata_ok(project, &["migrate", "--database-url", &database.url]);
    database.execute("INSERT INTO stock (id, amount) VALUES (1, 5)");
    let before = database.rows(PG_DOMAINS);
    assert_eq!(
        before,
        ["quantity integer false - quantity_check: CHECK ((VALUE >= 0))"]
    );

    // Default, NOT NULL and checks change; the old check goes, two come.
    write(
        project,
        "schema.toml",
        &schema(
            "type = \"integer\"\nnullable = false\ndefault = 1\n\
             check = [{ name = \"at_least_one\", sql = \"VALUE >= 1\" }, { name = \"small\", sql = \"VALUE < 1000\" }]",
        ),
    );
    let generated = strata_ok(project, &["generate", "stricter", "--dev-url", &dev]);
    assert!(
        generated.stdout.contains("alter domain quantity"),
        "{}",
        generated.stdout
    );
    // The validations run outside the transaction, in a migration of their own.
    let up = read(project, "migrations/postgres/V2__stricter.sql")
        + &read(project, "migrations/postgres/V3__stricter_online.sql");
    for statement in [
        "ALTER DOMAIN \"quantity\" SET DEFAULT 1;",
        "ALTER DOMAIN \"quantity\" SET NOT NULL;",
        "ALTER DOMAIN \"quantity\" DROP CONSTRAINT \"quantity_check\";",
        "ALTER DOMAIN \"quantity\" ADD CONSTRAINT \"small\" CHECK (VALUE < 1000) NOT VALID;",
        "ALTER DOMAIN \"quantity\" VALIDATE CONSTRAINT \"small\";",
    ] {
        assert!(up.contains(statement), "{statement}\n{up}");
    }
    let down = read(project, "migrations/postgres/V2__stricter.down.sql");
    for statement in [
        "ALTER DOMAIN \"quantity\" DROP DEFAULT;",
        "ALTER DOMAIN \"quantity\" DROP NOT NULL;",
        "ALTER DOMAIN \"quantity\" ADD CONSTRAINT \"quantity_check\" CHECK (VALUE >= 0);",
        "ALTER DOMAIN \"quantity\" DROP CONSTRAINT \"small\";",
    ] {
        assert!(down.contains(statement), "{statement}\n{down}");
    }
    strata_ok(project, &["migrate", "--database-url", &database.url]);
    assert_eq!(
        database.rows(PG_DOMAINS),
        ["quantity integer true 1 at_least_one: CHECK ((VALUE >= 1)); small: CHECK ((VALUE < 1000))"]
    );
    assert!(database
        .client()
        .batch_execute("INSERT INTO stock (id, amount) VALUES (2, 5000)")
        .is_err());
    let again = strata_ok(project, &["generate", "again", "--dev-url", &dev]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    strata_ok(
        project,
        &["rollback", "--to", "1", "--database-url", &database.url],
    );
    assert_eq!(database.rows(PG_DOMAINS), before);
    assert_eq!(database.rows("SELECT amount FROM stock"), ["5"]);

    // A base type change is refused, saying what to write by hand.
    write(
        project,
        "schema.toml",
        &schema("type = \"bigint\"\ncheck = \"VALUE >= 0\""),
    );
    for entry in std::fs::read_dir(project.join("migrations/postgres")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("V2__") || name.starts_with("V3__") {
            std::fs::remove_file(path).unwrap();
        }
    }
    strata_ok(project, &["hash"]);
    let refused = strata(project, &["generate", "wider", "--dev-url", &dev]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "PostgreSQL cannot change the type a domain is over; write this migration by hand: CREATE DOMAIN a new domain over bigint"
        ),
        "{}",
        refused.stderr
    );
    assert!(!project.join("migrations/postgres/V2__wider.sql").exists());
}

#[test]
fn a_domain_is_its_base_type_with_its_checks_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let postgres = PgDatabase::create();
    write(
        project,
        "schema.toml",
        r#"[project]
dialects = ["sqlite", "postgres"]

[domain.code]
type = "varchar(10)"
nullable = false
default = "none"
check = [{ name = "shape", sql = "length(VALUE) > 2 AND VALUE <> 'VALUE'" }, "value NOT LIKE '% %'"]

[table.item.columns]
id = { type = "integer", primary_key = true }
code = { type = "code", nullable = true }
other = { type = "code", nullable = true, default = "zzz" }
"#,
    );
    let dev = pg_server_url();
    strata_ok(project, &["generate", "initial", "--dev-url", &dev]);
    let sqlite = read(project, "migrations/sqlite/V1__initial.sql");
    for part in [
        "\"code\" VARCHAR(10) NOT NULL DEFAULT 'none'",
        "\"other\" VARCHAR(10) NOT NULL DEFAULT 'zzz'",
        "CONSTRAINT \"item_code_shape\" CHECK (length(\"code\") > 2 AND \"code\" <> 'VALUE')",
        "CONSTRAINT \"item_other_code_check\" CHECK (\"other\" NOT LIKE '% %')",
    ] {
        assert!(sqlite.contains(part), "{part}\n{sqlite}");
    }
    strata_ok(project, &["migrate"]);
    strata_ok(project, &["migrate", "--database-url", &postgres.url]);
    let db = project.join("database.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    connection
        .execute("INSERT INTO item (id) VALUES (1)", [])
        .unwrap();
    postgres.execute("INSERT INTO item (id) VALUES (1)");
    for bad in ["'ab'", "'VALUE'", "'a b c'"] {
        let sql = format!("INSERT INTO item (id, code) VALUES (2, {bad})");
        assert!(connection.execute(&sql, []).is_err(), "sqlite: {sql}");
        assert!(
            postgres.client().batch_execute(&sql).is_err(),
            "postgres: {sql}"
        );
    }
    assert_eq!(
        sqlite_strings(&db, "SELECT code || ' ' || other FROM item"),
        ["none zzz"]
    );
    assert_eq!(postgres.rows("SELECT code, other FROM item"), ["none|zzz"]);
    drop(connection);
    let again = strata_ok(project, &["generate", "again", "--dev-url", &dev]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
}

#[test]
fn bad_domain_declarations_are_reported_at_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        r#"[project]
dialects = ["postgres"]

[enum.mood]
values = ["sad", "ok"]

[domain.amount]
type = "strng"

[domain.mood]
type = "text"

[domain.uuid]
type = "text"

[domain.doc]
type = "integer"

[domain.always]
type = "integer"
check = "1 = 1"

[table.doc.columns]
id = { type = "integer", primary_key = true }
total = { type = "amount", nullable = true }
flag = { type = "always", nullable = true }
"#,
    );
    let run = strata(project, &["generate", "initial"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(
        error_lines(&run),
        [
            "error: unknown column type `strng`; did you mean `text`?",
            "error: domain `mood` has the name of an enum; PostgreSQL keeps enums and domains in one namespace",
            "error: domain `uuid` has the name of a portable type",
            "error: domain `doc` has the name of a table; PostgreSQL keeps a table's row type and domains in one namespace",
        ],
        "{}",
        run.stderr
    );
    for place in [
        "./schema.toml:10:9",
        "./schema.toml:13:9",
        "./schema.toml:8:8",
        "./schema.toml:16:9",
    ] {
        assert!(run.stderr.contains(place), "{place}\n{}", run.stderr);
    }
    // `total` over the domain with a bad type is not reported again.
    assert!(!run.stderr.contains("total"), "{}", run.stderr);
}

/// A patch into a domain column is checked as the domain's base type (here an
/// enum's values) before anything runs; the domain's CHECK is the database's.
#[test]
fn patches_check_domain_columns_as_their_base_type() {
    let database = PgDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    write(
        project,
        "schema.toml",
        "[project]\ndialects = [\"postgres\"]\n\n[enum.mood]\nvalues = [\"sad\", \"ok\"]\n\n\
         [domain.cheerful]\ntype = \"mood\"\ncheck = \"VALUE <> 'sad'\"\n\n\
         [domain.positive]\ntype = \"integer\"\ncheck = \"VALUE > 0\"\n\n\
         [table.person.columns]\nid = { type = \"integer\", primary_key = true }\n\
         mood = \"cheerful\"\nage = \"positive\"\n",
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
        "[[insert]]\ntable = \"person\"\nrows = [{ mood = \"happy\", age = \"old\" }]\n",
    );
    let refused = strata(project, &["patch", "--database-url", &database.url]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    for message in [
        "person.mood is enum mood, and `happy` is not one of its values",
        "person.age is integer, but the value is a string",
    ] {
        assert!(
            refused.stderr.contains(message),
            "{message}\n{}",
            refused.stderr
        );
    }
    write(
        project,
        "patches/0001_people.toml",
        "[[insert]]\ntable = \"person\"\nrows = [{ mood = \"ok\", age = 30 }]\n",
    );
    strata_ok(project, &["patch", "--database-url", &database.url]);
    assert_eq!(database.rows("SELECT mood, age FROM person"), ["ok|30"]);
}
