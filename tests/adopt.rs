//! Adopting an existing database: `pull` names everything schema.toml cannot
//! hold (and writes nothing unless --allow-unmanaged), what it writes `generate`
//! accepts, `baseline` records the pulled migration without running it, and
//! later migrations apply normally. Hand-written sample schemas in the spirit of
//! pagila and northwind, loaded with the databases' own clients.

mod common;

use std::path::Path;

use common::{pg_server_url, sqlite_strings, strata, strata_ok, PgDatabase, Run};

/// The indented object lines of pull's or baseline's list on stderr.
fn listed(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter_map(|line| line.strip_prefix("  "))
        .map(str::to_string)
        .collect()
}

const PAGILA_LIKE: &str = r#"
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'R');
CREATE SEQUENCE actor_actor_id_seq;
CREATE TABLE region (region_id integer PRIMARY KEY, region_description varchar(60) NOT NULL);
CREATE TABLE actor (
    actor_id integer PRIMARY KEY DEFAULT nextval('actor_actor_id_seq'),
    first_name varchar(45) NOT NULL,
    last_name varchar(45) NOT NULL,
    last_update timestamp NOT NULL DEFAULT now());
CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title varchar(255) NOT NULL,
    rating mpaa_rating,
    length smallint CHECK (length > 0),
    rental_rate numeric(4,2) NOT NULL DEFAULT 4.99,
    replacement_cost numeric(5,2) NOT NULL DEFAULT 19.99,
    total_cost numeric(6,2) GENERATED ALWAYS AS (rental_rate + replacement_cost) STORED);
CREATE INDEX film_title_lower ON film (lower(title));
CREATE TABLE film_actor (
    actor_id integer NOT NULL REFERENCES actor,
    film_id integer NOT NULL REFERENCES film,
    PRIMARY KEY (actor_id, film_id));
CREATE TABLE casting_note (
    id serial PRIMARY KEY,
    actor_id integer NOT NULL,
    film_id integer NOT NULL,
    note text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    FOREIGN KEY (actor_id, film_id) REFERENCES film_actor (actor_id, film_id));
CREATE INDEX casting_note_active ON casting_note (note) WHERE active;
CREATE VIEW actor_names AS SELECT first_name || ' ' || last_name AS name FROM actor;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.last_update = now(); RETURN NEW; END $$;
CREATE TRIGGER actor_touch BEFORE UPDATE ON actor FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO region VALUES (1, 'Eastern');
INSERT INTO actor (first_name, last_name) VALUES ('Penelope', 'Guiness');
"#;

#[test]
fn postgres_pull_names_what_it_leaves_out_and_baseline_adopts_the_database() {
    let database = PgDatabase::create();
    database.execute(PAGILA_LIKE);
    let server = pg_server_url();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let url = database.url.as_str();

    let refused = strata(
        project,
        &["pull", "--database-url", url, "--output", "schema.toml"],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(!project.join("schema.toml").exists());
    assert_eq!(
        listed(&refused),
        [
            "column default `actor.actor_id`: nextval('actor_actor_id_seq'::regclass) uses a sequence no column owns; its migrations declare the column SERIAL (a sequence of its own) instead",
            "sequence `actor_actor_id_seq`: owned by no column",
        ],
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("pass --allow-unmanaged"));

    let pulled = strata_ok(
        project,
        &[
            "pull",
            "--database-url",
            url,
            "--output",
            "schema.toml",
            "--allow-unmanaged",
        ],
    );
    assert!(pulled.stderr.starts_with("warning: "), "{}", pulled.stderr);
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    // Neither a DEFAULT from a generated column nor a nextval() of a sequence
    // no migration creates; the generated column and the key without a
    // sequence are declared as such.
    assert!(!schema.contains("nextval"), "{schema}");
    assert!(
        schema.contains("total_cost = { type = \"numeric(6,2)\", nullable = true, generated = { sql = \"rental_rate + replacement_cost\" } }"),
        "{schema}"
    );
    assert!(
        schema.contains(
            "region_id = { type = \"integer\", primary_key = true, autoincrement = false }"
        ),
        "{schema}"
    );
    assert!(
        schema
            .contains("length = { type = \"smallint\", nullable = true, check = \"length > 0\" }"),
        "{schema}"
    );
    // A foreign key over two columns is declared on its table.
    assert!(
        schema.contains(
            "foreign_keys = [{ columns = [\"actor_id\", \"film_id\"], references = \"film_actor(actor_id, film_id)\" }]"
        ),
        "{schema}"
    );
    // Views, functions and triggers are declared, as the server prints them.
    for declared in [
        "[[function]]\nname = \"touch\"\nsql = '''\nCREATE OR REPLACE FUNCTION public.touch()",
        "[[view]]\nname = \"actor_names\"\nsql = '''\nSELECT (((actor.first_name)::text",
        "[[trigger]]\nname = \"actor_touch\"\ntable = \"actor\"\nsql = \"CREATE TRIGGER actor_touch BEFORE UPDATE ON public.actor FOR EACH ROW EXECUTE FUNCTION touch()\"",
    ] {
        assert!(schema.contains(declared), "{declared}\n{schema}");
    }
    strata_ok(project, &["generate", "initial", "--dev-url", &server]);

    // The database is already there: V1 is recorded, not run.
    let baselined = strata_ok(
        project,
        &["baseline", "--database-url", url, "--dev-url", &server],
    );
    assert!(
        baselined
            .stdout
            .contains("1 migration recorded as applied without running it"),
        "{}",
        baselined.stdout
    );
    assert_eq!(
        database.rows("SELECT version, name FROM refinery_schema_history"),
        ["1|initial"]
    );
    let migrated = strata_ok(project, &["migrate", "--database-url", url]);
    assert!(
        migrated.stdout.contains("nothing to apply"),
        "{}",
        migrated.stdout
    );
    strata_ok(
        project,
        &["check", "--database-url", url, "--dev-url", &server],
    );
    // A second baseline has a history to respect.
    let again = strata(
        project,
        &["baseline", "--database-url", url, "--dev-url", &server],
    );
    assert_eq!(again.code, 5, "{}", again.stderr);
    assert!(again.stderr.contains("already has a migration history"));

    // A later change migrates as usual, and what strata does not manage stays.
    let schema = schema.replace(
        "region_description = \"varchar(60)\"",
        "region_description = \"varchar(60)\"\nnote = { type = \"text\", nullable = true }",
    );
    std::fs::write(project.join("schema.toml"), schema).unwrap();
    strata_ok(project, &["generate", "region_note", "--dev-url", &server]);
    let migrated = strata_ok(project, &["migrate", "--database-url", url]);
    assert!(
        migrated.stdout.contains("applied V2__region_note"),
        "{}",
        migrated.stdout
    );
    assert_eq!(
        database.rows("SELECT note IS NULL, region_description FROM region"),
        ["t|Eastern"]
    );
    let mut client = database.client();
    let rejected = client
        .batch_execute("INSERT INTO film (title, length) VALUES ('Zero', 0)")
        .unwrap_err();
    assert!(
        rejected.to_string().contains("film_length_check")
            || format!("{rejected:?}").contains("film_length_check"),
        "{rejected:?}"
    );
    assert_eq!(
        database.rows("SELECT count(*) FROM pg_trigger WHERE tgname = 'actor_touch'"),
        ["1"]
    );
    client
        .batch_execute("INSERT INTO actor (first_name, last_name) VALUES ('Nick', 'Wahlberg')")
        .unwrap();
    assert_eq!(
        database.rows("SELECT actor_id FROM actor ORDER BY 1"),
        ["1", "2"]
    );
}

const NORTHWIND_LIKE: &str = r#"
CREATE TABLE categories (category_id INTEGER PRIMARY KEY, category_name NVARCHAR(40) NOT NULL, code CHAR(1));
CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    product_name NVARCHAR(40) NOT NULL,
    category_id INT REFERENCES categories,
    unit_price DECIMAL(4,2) NOT NULL DEFAULT 0,
    units_in_stock INT CHECK (units_in_stock >= 0),
    discontinued CHAR(1) NOT NULL DEFAULT 'N');
CREATE TABLE tags (label TEXT);
CREATE TABLE product_tags (product_id INTEGER NOT NULL REFERENCES products, tag TEXT REFERENCES tags);
CREATE VIEW current_products AS SELECT * FROM products WHERE discontinued = 'N';
CREATE TRIGGER products_no_negative BEFORE UPDATE ON products
    WHEN NEW.unit_price < 0 BEGIN SELECT RAISE(ABORT, 'negative price'); END;
INSERT INTO categories VALUES (1, 'Beverages', 'B');
INSERT INTO products (product_id, product_name, category_id, unit_price, units_in_stock) VALUES (1, 'Chai', 1, 18, 39);
"#;

#[test]
fn sqlite_pull_keeps_declared_types_as_written_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let file = project.join("northwind.db");
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch(NORTHWIND_LIKE)
        .unwrap();
    let url = "sqlite:northwind.db";

    let refused = strata(project, &["pull", "--database-url", url]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert_eq!(refused.stdout, "");
    assert_eq!(
        listed(&refused),
        [
            "foreign key `product_tags.product_tags_tag_fkey`: (tag) → tags(): references `tags`, which has no primary key",
        ],
        "{}",
        refused.stderr
    );

    strata_ok(
        project,
        &[
            "pull",
            "--database-url",
            url,
            "--output",
            "schema.toml",
            "--allow-unmanaged",
        ],
    );
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    for line in [
        "category_name = \"NVARCHAR(40)\"",
        "code = { type = \"CHAR(1)\", nullable = true }",
        // `REFERENCES categories` is its primary key.
        "category_id = { type = \"INT\", nullable = true, references = \"categories.category_id\" }",
        "unit_price = { type = \"DECIMAL(4,2)\", default = 0 }",
        // The CHECK is kept, on its column.
        "units_in_stock = { type = \"INT\", nullable = true, check = \"units_in_stock >= 0\" }",
        "product_id = { type = \"integer\", references = \"products.product_id\" }",
        "[[view]]\nname = \"current_products\"\nsql = \"SELECT * FROM products WHERE discontinued = 'N'\"",
        "[[trigger]]\nname = \"products_no_negative\"\ntable = \"products\"\nsql = '''\nCREATE TRIGGER products_no_negative BEFORE UPDATE ON products\n    WHEN NEW.unit_price < 0",
    ] {
        assert!(schema.contains(line), "{line}\n{schema}");
    }
    strata_ok(project, &["generate", "initial"]);
    strata_ok(project, &["baseline", "--database-url", url]);
    let migrated = strata_ok(project, &["migrate", "--database-url", url]);
    assert!(
        migrated.stdout.contains("nothing to apply"),
        "{}",
        migrated.stdout
    );
    strata_ok(project, &["check", "--database-url", url]);

    let schema = schema.replace(
        "code = { type = \"CHAR(1)\", nullable = true }",
        "code = { type = \"CHAR(1)\", nullable = true }\ndescription = { type = \"text\", nullable = true }",
    );
    std::fs::write(project.join("schema.toml"), schema).unwrap();
    strata_ok(project, &["generate", "category_description"]);
    strata_ok(project, &["migrate", "--database-url", url]);
    assert_eq!(
        sqlite_strings(&file, "SELECT category_name, description FROM categories"),
        ["Beverages|null"]
    );
    assert_eq!(
        sqlite_strings(
            &file,
            "SELECT type || ' ' || name FROM sqlite_schema WHERE type IN ('view', 'trigger') ORDER BY name"
        ),
        ["view current_products", "trigger products_no_negative"]
    );
}

#[test]
fn baseline_refuses_a_database_the_migrations_do_not_describe() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(
        project.join("schema.toml"),
        "[table.team.columns]\nid = { type = \"integer\", primary_key = true }\nname = \"text\"\n",
    )
    .unwrap();
    strata_ok(project, &["generate", "initial"]);
    rusqlite::Connection::open(project.join("live.db"))
        .unwrap()
        .execute_batch(
            "CREATE TABLE team (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, city VARCHAR)",
        )
        .unwrap();
    let refused = strata(project, &["baseline", "--database-url", "sqlite:live.db"]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("is not what the migrations up to V1 build")
            && refused.stderr.contains("  drop column team.city"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        sqlite_strings(
            &project.join("live.db"),
            "SELECT count(*) FROM sqlite_schema WHERE name = 'refinery_schema_history'"
        ),
        ["0"]
    );
    let missing = strata(
        project,
        &[
            "baseline",
            "--database-url",
            "sqlite:live.db",
            "--version",
            "7",
        ],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}

#[test]
fn pull_force_keeps_the_project_table() {
    let dir = tempfile::tempdir().unwrap();
    let project: &Path = dir.path();
    rusqlite::Connection::open(project.join("app.db"))
        .unwrap()
        .execute_batch("CREATE TABLE hero (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL)")
        .unwrap();
    let settings = "# My project\n[project]\ndialects = [\"sqlite\", \"postgres\"] # both\ndatabase = \"sqlite:app.db\"\n";
    std::fs::write(
        project.join("schema.toml"),
        format!("{settings}\n# old tables\n[table.old.columns]\nid = \"integer\"\n"),
    )
    .unwrap();
    strata_ok(project, &["pull", "--output", "schema.toml", "--force"]);
    let written = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    assert_eq!(
        written,
        format!("{settings}\n[table.hero.columns]\nid = {{ type = \"integer\", primary_key = true }}\nname = \"text\"\n")
    );
}

/// In a project of two dialects, a type only one of them has is an error
/// saying to name each dialect's spelling; one both have is each one's; an
/// unknown type is one error with a valid suggestion, and nothing that uses
/// the column is reported again.
#[test]
fn another_databases_type_gets_one_error_and_a_valid_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(
        project.join("schema.toml"),
        r#"[project]
dialects = ["sqlite", "postgres"]
[table.film.columns]
id = { type = "integer", primary_key = true }
title = "NVARCHAR(40)"
price = "DECIMAL(4,2)"
code = { type = "char(2)", unique = true }
name = "strng"
[table.copy.columns]
id = { type = "integer", primary_key = true }
film_code = { type = "text", references = "film.code" }
"#,
    )
    .unwrap();
    let run = strata(project, &["generate", "initial"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(
        errors,
        [
            "error: `NVARCHAR(40)` is a sqlite type, and this project's dialects are sqlite, postgres: a dialect-specific type names its spelling for each dialect",
            "error: unknown column type `strng`; did you mean `text`?",
        ],
        "{}",
        run.stderr
    );
    for part in [
        "./schema.toml:5:9",
        "help: write type = { sqlite = \"NVARCHAR(40)\", postgres = \"...\" }, or the portable type `varchar(40)`",
        "./schema.toml:8:8",
    ] {
        assert!(run.stderr.contains(part), "{part}\n{}", run.stderr);
    }
    // What the suggestions say is accepted.
    let fixed = std::fs::read_to_string(project.join("schema.toml"))
        .unwrap()
        .replace("\"NVARCHAR(40)\"", "\"varchar(40)\"")
        .replace("\"strng\"", "\"text\"");
    std::fs::write(project.join("schema.toml"), fixed).unwrap();
    strata_ok(
        project,
        &["generate", "initial", "--dev-url", &pg_server_url()],
    );
    let postgres =
        std::fs::read_to_string(project.join("migrations/postgres/V1__initial.sql")).unwrap();
    let sqlite =
        std::fs::read_to_string(project.join("migrations/sqlite/V1__initial.sql")).unwrap();
    assert!(
        postgres.contains("\"code\" character(2) NOT NULL"),
        "{postgres}"
    );
    assert!(
        postgres.contains("\"price\" numeric(4,2) NOT NULL"),
        "{postgres}"
    );
    assert!(sqlite.contains("\"code\" char(2) NOT NULL"), "{sqlite}");
    assert!(
        sqlite.contains("\"price\" DECIMAL(4,2) NOT NULL"),
        "{sqlite}"
    );
}

/// SERIAL and identity give their sequence the column's type; a sequence made
/// on its own (bigint by default) and then owned by an integer column is not
/// what schema.toml would rebuild, so pull names it instead of changing it.
#[test]
fn postgres_pull_names_an_owned_sequence_of_another_type() {
    let database = PgDatabase::create();
    database.execute(
        "CREATE SEQUENCE parcel_id_seq START WITH 500 INCREMENT BY 5;
         CREATE TABLE parcel (id integer NOT NULL DEFAULT nextval('parcel_id_seq') PRIMARY KEY);
         ALTER SEQUENCE parcel_id_seq OWNED BY parcel.id;",
    );
    let dir = tempfile::tempdir().unwrap();
    let refused = strata(
        dir.path(),
        &[
            "pull",
            "--database-url",
            &database.url,
            "--output",
            "schema.toml",
        ],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert_eq!(
        listed(&refused),
        ["sequence `parcel_id_seq`: of parcel.id: its type is bigint, the column's integer; schema.toml gives a sequence its column's type (start 500 and increment 5 are kept)"],
        "{}",
        refused.stderr
    );
    assert!(!dir.path().join("schema.toml").exists());
}

/// schema.toml holds comments on tables and columns only: a comment on a
/// domain, an enum, a constraint or a function is named, not dropped.
#[test]
fn postgres_pull_names_comments_on_other_objects() {
    let database = PgDatabase::create();
    database.execute(
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
         COMMENT ON DOMAIN positive IS 'above zero';
         CREATE TYPE mood AS ENUM ('ok');
         COMMENT ON TYPE mood IS 'how it feels';
         CREATE TABLE t (id serial PRIMARY KEY, p positive CONSTRAINT p_small CHECK (p < 10), m mood);
         COMMENT ON CONSTRAINT p_small ON t IS 'small';
         COMMENT ON TABLE t IS 'kept in schema.toml';
         CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';
         COMMENT ON FUNCTION one() IS 'the number one';",
    );
    let dir = tempfile::tempdir().unwrap();
    let refused = strata(
        dir.path(),
        &[
            "pull",
            "--database-url",
            &database.url,
            "--output",
            "schema.toml",
        ],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert_eq!(
        listed(&refused),
        [
            "comment `on constraint p_small on table t`: small",
            "comment `on function one()`: the number one",
            "comment `on type mood`: how it feels",
            "comment `on type positive`: above zero",
        ],
        "{}",
        refused.stderr
    );
    let pulled = strata_ok(
        dir.path(),
        &[
            "pull",
            "--database-url",
            &database.url,
            "--output",
            "schema.toml",
            "--allow-unmanaged",
        ],
    );
    assert!(pulled.stderr.starts_with("warning: "), "{}", pulled.stderr);
    let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
    assert!(
        schema.contains("comment = \"kept in schema.toml\""),
        "{schema}"
    );
}

/// Comments on relations other than the tables schema.toml holds (a sequence,
/// a view, a partitioned table and a column of one of its partitions) are named
/// too, while those on its tables and their columns are kept.
#[test]
fn postgres_pull_names_comments_on_other_relations() {
    let database = PgDatabase::create();
    database.execute(
        "CREATE TABLE kept (id serial PRIMARY KEY, note text);
         COMMENT ON TABLE kept IS 'a table';
         COMMENT ON COLUMN kept.note IS 'a column';
         CREATE SEQUENCE tickets;
         COMMENT ON SEQUENCE tickets IS 'numbers';
         CREATE VIEW notes AS SELECT note FROM kept;
         COMMENT ON VIEW notes IS 'a view';
         CREATE TABLE measure (at date NOT NULL, value int) PARTITION BY RANGE (at);
         COMMENT ON TABLE measure IS 'partitioned';
         CREATE TABLE measure_2026 PARTITION OF measure FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         COMMENT ON COLUMN measure_2026.value IS 'a partition column';",
    );
    let dir = tempfile::tempdir().unwrap();
    let pulled = strata(
        dir.path(),
        &[
            "pull",
            "--database-url",
            &database.url,
            "--output",
            "schema.toml",
            "--allow-unmanaged",
        ],
    );
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    let listed = listed(&pulled);
    for expected in [
        "comment `measure`: partitioned",
        "comment `measure_2026.value`: a partition column",
        "comment `notes`: a view",
        "comment `tickets`: numbers",
    ] {
        assert!(
            listed.iter().any(|line| line == expected),
            "{expected} not in {listed:#?}"
        );
    }
    assert!(
        !listed
            .iter()
            .any(|line| line.contains("a table") || line.contains("a column")),
        "{listed:#?}"
    );
    let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
    assert!(schema.contains("comment = \"a table\""), "{schema}");
    assert!(schema.contains("comment = \"a column\""), "{schema}");
}

/// pull reads the largest catalog queries on a second session when it can;
/// when it cannot (a role allowed one connection, or one that may not export
/// its snapshot), it reads them on its own session and writes the very same
/// schema.toml.
#[test]
fn postgres_pull_with_one_connection_writes_the_same_schema() {
    let database = PgDatabase::create();
    let role = format!("one_session_{}", database.name);
    database.execute(&format!(
        "CREATE TABLE team (id serial PRIMARY KEY, name varchar(40) NOT NULL CHECK (name <> ''));
         CREATE TABLE hero (id serial PRIMARY KEY, team_id int REFERENCES team (id), age int CHECK (age > 0));
         CREATE SEQUENCE loose;
         CREATE ROLE \"{role}\" LOGIN PASSWORD 'one-secret' CONNECTION LIMIT 1;"
    ));
    let (scheme, rest) = database.url.split_once("://").unwrap();
    let (_, host_and_database) = rest.split_once('@').unwrap();
    let one_session_url = format!("{scheme}://{role}:one-secret@{host_and_database}");
    let pull = |url: &str, folder: &std::path::Path| {
        let run = strata(
            folder,
            &[
                "pull",
                "--database-url",
                url,
                "--output",
                "schema.toml",
                "--allow-unmanaged",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        (
            std::fs::read_to_string(folder.join("schema.toml")).unwrap(),
            listed(&run),
        )
    };
    let two = tempfile::tempdir().unwrap();
    let one = tempfile::tempdir().unwrap();
    let (with_two, listed_two) = pull(&database.url, two.path());
    let (with_one, listed_one) = pull(&one_session_url, one.path());
    // A session that may connect twice but cannot export its snapshot starts
    // its transaction again and reads everything itself.
    database.execute(&format!(
        "ALTER ROLE \"{role}\" CONNECTION LIMIT 5; \
         REVOKE EXECUTE ON FUNCTION pg_export_snapshot() FROM PUBLIC"
    ));
    let unexported = tempfile::tempdir().unwrap();
    let (with_no_export, listed_no_export) = pull(&one_session_url, unexported.path());
    database.execute(&format!("DROP ROLE \"{role}\""));
    assert_eq!(with_no_export, with_two);
    assert_eq!(listed_no_export, listed_two);
    assert!(
        with_two.contains("CHECK") || with_two.contains("check"),
        "{with_two}"
    );
    assert_eq!(with_one, with_two);
    assert_eq!(listed_one, listed_two);
    assert!(
        listed_one.iter().any(|line| line.contains("loose")),
        "{listed_one:#?}"
    );
}
