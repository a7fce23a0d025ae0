//! Views, triggers, functions and extensions declared in schema.toml as SQL
//! objects: created after the tables they use, replaced when their text changes,
//! dropped when they go, rolled back, re-created around a table change that
//! would break them, and read back by `pull` so that `generate` finds nothing to do.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    views_and_triggers_are_created_replaced_dropped_and_rolled_back,
    pull_declares_the_objects_and_generate_then_writes_nothing,
);

fn dialect(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

const TABLES: &str = r#"
[table.team.columns]
id   = { type = "integer", primary_key = true }
name = "text"

[table.hero.columns]
id          = { type = "integer", primary_key = true }
name        = "text"
secret_name = "varchar(40)"
shout       = { type = "text", nullable = true }
team_id     = { type = "integer", nullable = true, references = "team.id" }
"#;

const VIEW_V1: &str = r#"
[[view]]
name = "hero_teams"
sql = '''
SELECT hero.name AS hero, team.name AS team
FROM hero JOIN team ON team.id = hero.team_id'''
"#;

const VIEW_V2: &str = r#"
[[view]]
name = "hero_teams"
sql = '''
SELECT hero.name AS hero, team.name AS team, hero.secret_name AS secret
FROM hero JOIN team ON team.id = hero.team_id'''
"#;

/// The trigger fills `shout` with the upper-cased name: on SQLite an AFTER
/// INSERT trigger updating the row, on PostgreSQL a plpgsql function and a
/// BEFORE INSERT trigger.
fn trigger(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => {
            r#"
[[trigger]]
name = "hero_shout"
table = "hero"
sql = '''
CREATE TRIGGER hero_shout AFTER INSERT ON hero
BEGIN
  UPDATE hero SET shout = upper(NEW.name) WHERE id = NEW.id;
END'''
"#
        }
        Kind::Postgres => {
            r#"
[[function]]
name = "hero_shout"
sql = '''
CREATE FUNCTION hero_shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.shout := upper(NEW.name);
  RETURN NEW;
END
$$'''

[[trigger]]
name = "hero_shout"
table = "hero"
sql = "CREATE TRIGGER hero_shout BEFORE INSERT ON hero FOR EACH ROW EXECUTE FUNCTION hero_shout()"
"#
        }
    }
}

fn project(kind: Kind, objects: &str) -> String {
    format!(
        "[project]\ndialects = [\"{}\"]\n{TABLES}{objects}",
        dialect(kind)
    )
}

fn write_schema(dir: &Path, text: &str) {
    std::fs::write(dir.join("schema.toml"), text).unwrap();
}

/// `strata generate NAME`, with the test server as dev database on PostgreSQL.
fn generate(kind: Kind, dir: &Path, name: &str) -> Run {
    let server = pg_server_url();
    let mut args = vec!["generate", name];
    if matches!(kind, Kind::Postgres) {
        args.extend(["--dev-url", server.as_str()]);
    }
    strata(dir, &args)
}

fn migration(kind: Kind, dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join("migrations").join(dialect(kind)).join(file)).unwrap()
}

/// How many migrations the database has applied, as `rollback --to` takes it.
fn history_len(backend: &Backend) -> String {
    backend.rows("SELECT count(*) FROM refinery_schema_history")[0].clone()
}

/// The names of the views of the database.
fn views(backend: &Backend) -> Vec<String> {
    match backend {
        Backend::Sqlite(_) => {
            backend.rows("SELECT name FROM sqlite_schema WHERE type = 'view' ORDER BY name")
        }
        Backend::Postgres(_) => backend
            .rows("SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY viewname"),
    }
}

fn views_and_triggers_are_created_replaced_dropped_and_rolled_back(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    let backend = Backend::new(kind, project_dir);
    write_schema(
        project_dir,
        &project(kind, &format!("{VIEW_V1}{}", trigger(kind))),
    );
    let run = generate(kind, project_dir, "init");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v1 = migration(kind, project_dir, "V1__init.sql");
    // The view and trigger come after the tables they use.
    let view_at = v1.find("CREATE VIEW \"hero_teams\"").expect(&v1);
    let hero_at = v1.find("CREATE TABLE \"hero\"").expect(&v1);
    let trigger_at = v1.find("CREATE TRIGGER hero_shout").expect(&v1);
    assert!(hero_at < view_at && view_at < trigger_at, "{v1}");
    backend.strata_ok(project_dir, &["migrate"]);

    backend.execute(
        "INSERT INTO team (id, name) VALUES (1, 'Preventers');
         INSERT INTO hero (id, name, secret_name, team_id) VALUES (1, 'Deadpond', 'Dive Wilson', 1);",
    );
    assert_eq!(
        backend.rows("SELECT hero, team FROM hero_teams"),
        ["Deadpond|Preventers"]
    );
    assert_eq!(backend.rows("SELECT shout FROM hero"), ["DEADPOND"]);

    // Nothing changed: nothing to write, and no drift.
    let again = generate(kind, project_dir, "again");
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    backend.strata_ok(project_dir, &["check"]);

    // A new view text, and a change to hero that breaks what uses it (SQLite
    // rebuilds the table, which drops its trigger; PostgreSQL refuses to retype
    // a column a view uses): the view and trigger are dropped first and
    // re-created after.
    write_schema(
        project_dir,
        &project(kind, &format!("{VIEW_V2}{}", trigger(kind))).replace(
            "secret_name = \"varchar(40)\"",
            "secret_name = { type = \"text\", nullable = true }",
        ),
    );
    let run = generate(kind, project_dir, "view_v2");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let v2 = migration(kind, project_dir, "V2__view_v2.sql");
    let drop_view = v2.find("DROP VIEW \"hero_teams\";").expect(&v2);
    let drop_trigger = v2.find("DROP TRIGGER \"hero_shout\"").expect(&v2);
    let create_view = v2.find("CREATE VIEW \"hero_teams\"").expect(&v2);
    let create_trigger = v2.find("CREATE TRIGGER hero_shout").expect(&v2);
    assert!(
        drop_trigger < drop_view && drop_view < create_view && create_view < create_trigger,
        "{v2}"
    );
    let before_v2 = history_len(&backend);
    backend.strata_ok(project_dir, &["migrate"]);
    assert_eq!(
        backend.rows("SELECT hero, team, secret FROM hero_teams"),
        ["Deadpond|Preventers|Dive Wilson"]
    );
    backend.execute("INSERT INTO hero (id, name, secret_name) VALUES (2, 'Rusty-Man', NULL)");
    assert_eq!(
        backend.rows("SELECT shout FROM hero ORDER BY id"),
        ["DEADPOND", "RUSTY-MAN"]
    );
    let again = generate(kind, project_dir, "again");
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}{}",
        again.stdout,
        again.stderr
    );
    backend.strata_ok(project_dir, &["check"]);

    // Both go away: dropped (the function last, after its trigger).
    backend.execute("DELETE FROM hero WHERE id = 2");
    write_schema(
        project_dir,
        &project(kind, "").replace(
            "secret_name = \"varchar(40)\"",
            "secret_name = { type = \"text\", nullable = true }",
        ),
    );
    let run = generate(kind, project_dir, "drop_objects");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let before_drop = history_len(&backend);
    backend.strata_ok(project_dir, &["migrate"]);
    assert!(views(&backend).is_empty());
    backend.execute("INSERT INTO hero (id, name, secret_name) VALUES (3, 'Dormammu', NULL)");
    assert_eq!(
        backend.rows("SELECT shout FROM hero WHERE id = 3"),
        ["null"]
    );
    if matches!(kind, Kind::Postgres) {
        assert!(backend
            .rows("SELECT proname FROM pg_proc WHERE proname = 'hero_shout'")
            .is_empty());
    }
    backend.execute("DELETE FROM hero WHERE id = 3");

    // Rolled back: the view (V2's text) and the trigger are back. (A generate
    // may write two migrations on PostgreSQL: the online part is the second.)
    backend.strata_ok(project_dir, &["rollback", "--to", &before_drop]);
    assert_eq!(views(&backend), ["hero_teams"]);
    assert_eq!(
        backend.rows("SELECT hero, team, secret FROM hero_teams"),
        ["Deadpond|Preventers|Dive Wilson"]
    );
    backend.execute("INSERT INTO hero (id, name, secret_name) VALUES (4, 'Wong', NULL)");
    assert_eq!(
        backend.rows("SELECT shout FROM hero WHERE id = 4"),
        ["WONG"]
    );
    backend.execute("DELETE FROM hero WHERE id = 4");

    // And V2 rolled back: V1's view text again.
    backend.strata_ok(project_dir, &["rollback", "--to", &before_v2]);
    assert_eq!(
        backend.rows("SELECT * FROM hero_teams"),
        ["Deadpond|Preventers"]
    );
}

/// PostgreSQL alone: an extension and a
/// materialized view.
const POSTGRES_ONLY: &str = r#"
[[extension]]
name = "citext"

[[materialized_view]]
name = "team_sizes"
sql = "SELECT team_id, count(*) AS heroes FROM hero GROUP BY team_id"
"#;

fn pull_declares_the_objects_and_generate_then_writes_nothing(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    let backend = Backend::new(kind, project_dir);
    let extra = match kind {
        Kind::Sqlite => "",
        Kind::Postgres => POSTGRES_ONLY,
    };
    write_schema(
        project_dir,
        &project(kind, &format!("{VIEW_V1}{}{extra}", trigger(kind))),
    );
    let run = generate(kind, project_dir, "init");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    backend.strata_ok(project_dir, &["migrate"]);

    // pull names no view, trigger or function as unmanaged (exit 0)...
    let pulled = backend.strata_ok(project_dir, &["pull"]);
    assert!(
        pulled.stdout.contains("[[view]]\nname = \"hero_teams\""),
        "{}",
        pulled.stdout
    );
    assert!(
        pulled
            .stdout
            .contains("[[trigger]]\nname = \"hero_shout\"\ntable = \"hero\""),
        "{}",
        pulled.stdout
    );
    if matches!(kind, Kind::Postgres) {
        assert!(
            pulled
                .stdout
                .contains("[[function]]\nname = \"hero_shout\""),
            "{}",
            pulled.stdout
        );
        for declared in [
            "[[extension]]\nname = \"citext\"",
            "[[materialized_view]]\nname = \"team_sizes\"",
        ] {
            assert!(pulled.stdout.contains(declared), "{}", pulled.stdout);
        }
        backend.execute(
            "INSERT INTO hero (id, name, secret_name) VALUES (1, 'Deadpond', 'Dive');
             REFRESH MATERIALIZED VIEW team_sizes;",
        );
        assert_eq!(
            backend.rows("SELECT team_id, heroes FROM team_sizes"),
            ["null|1"]
        );
    }
    // ...and with the pulled file as schema.toml, the migrations already build it.
    write_schema(project_dir, &pulled.stdout);
    let again = generate(kind, project_dir, "again");
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    backend.strata_ok(project_dir, &["check"]);
}

/// A project for both dialects: a view with one text for both, one with a text
/// per dialect, and an extension PostgreSQL alone has.
const BOTH_DIALECTS: &str = r#"
[[extension]]
name = "citext"

[[view]]
name = "hero_count"
sql.sqlite = "SELECT count(*) AS n FROM hero"
sql.postgres = "SELECT count(*)::integer AS n FROM hero"
"#;

#[test]
fn each_dialect_gets_its_own_text_and_only_its_objects() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    let schema = format!(
        "[project]\ndialects = [\"sqlite\", \"postgres\"]\n{TABLES}{VIEW_V1}{BOTH_DIALECTS}"
    );
    write_schema(project_dir, &schema);
    // PostgreSQL's own objects need its migrations replayed (SQLite's cannot
    // stand in for them).
    let refused = strata(project_dir, &["generate", "init"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "schema.toml declares postgres objects sqlite does not share (extension citext, view hero_count)"
        ),
        "{}",
        refused.stderr
    );
    let server = pg_server_url();
    strata_ok(project_dir, &["generate", "init", "--dev-url", &server]);
    let sqlite = migration(Kind::Sqlite, project_dir, "V1__init.sql");
    let postgres = migration(Kind::Postgres, project_dir, "V1__init.sql");
    assert!(!sqlite.contains("EXTENSION"), "{sqlite}");
    assert!(
        sqlite.contains("SELECT count(*) AS n FROM hero"),
        "{sqlite}"
    );
    assert!(
        postgres.starts_with("-- ")
            && postgres.contains("CREATE EXTENSION IF NOT EXISTS \"citext\";"),
        "{postgres}"
    );
    assert!(
        postgres.find("CREATE EXTENSION") < postgres.find("CREATE TABLE"),
        "{postgres}"
    );
    assert!(
        postgres.contains("SELECT count(*)::integer AS n FROM hero"),
        "{postgres}"
    );

    // Nothing changed.
    let again = strata_ok(project_dir, &["generate", "again", "--dev-url", &server]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    let sqlite_db = Backend::new(Kind::Sqlite, project_dir);
    let postgres_db = Backend::new(Kind::Postgres, project_dir);
    for backend in [&sqlite_db, &postgres_db] {
        backend.strata_ok(project_dir, &["migrate"]);
        backend.execute(
            "INSERT INTO hero (id, name, secret_name) VALUES (1, 'Deadpond', 'Dive Wilson')",
        );
        assert_eq!(backend.rows("SELECT n FROM hero_count"), ["1"]);
    }
    assert_eq!(
        postgres_db.rows("SELECT extname FROM pg_extension WHERE extname = 'citext'"),
        ["citext"]
    );

    // PostgreSQL's text alone changes: its view is replaced, SQLite's file says
    // it has nothing to do at that version.
    write_schema(
        project_dir,
        &schema.replace("count(*)::integer AS n", "count(*)::bigint AS n"),
    );
    strata_ok(
        project_dir,
        &["generate", "count_bigint", "--dev-url", &server],
    );
    let postgres = migration(Kind::Postgres, project_dir, "V2__count_bigint.sql");
    assert!(postgres.contains("DROP VIEW \"hero_count\";"), "{postgres}");
    assert!(postgres.contains("count(*)::bigint AS n"), "{postgres}");
    let sqlite = migration(Kind::Sqlite, project_dir, "V2__count_bigint.sql");
    assert!(!sqlite.contains("VIEW"), "{sqlite}");
    postgres_db.strata_ok(project_dir, &["migrate"]);
    assert_eq!(
        postgres_db.rows("SELECT pg_typeof(n)::text FROM hero_count"),
        ["bigint"]
    );
}

#[test]
fn schema_toml_refuses_a_trigger_on_no_table_and_an_object_without_text() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    write_schema(
        project_dir,
        &format!(
            "{TABLES}\n[[view]]\nname = \"hero_names\"\n\n[[trigger]]\nname = \"t\"\ntable = \"heroes\"\nsql = \"CREATE TRIGGER t …\"\n\n[[view]]\nname = \"v\"\nsql.oracle = \"SELECT 1\"\n"
        ),
    );
    let run = strata(project_dir, &["generate", "init"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    for message in [
        "a `[[view]]` needs `sql`",
        "trigger on `heroes`, which schema.toml declares no table or view of",
        "`sql.oracle`: strata knows no dialect `oracle`",
    ] {
        assert!(run.stderr.contains(message), "{message}\n{}", run.stderr);
    }
}

/// What schema.toml cannot declare (here a SQLite view with a column list,
/// written by hand in a migration) is left alone: `generate` never drops it.
#[test]
fn generate_never_drops_an_object_schema_toml_cannot_declare() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    write_schema(project_dir, &project(Kind::Sqlite, VIEW_V1));
    strata_ok(project_dir, &["generate", "init"]);
    let folder = project_dir.join("migrations").join("sqlite");
    std::fs::write(
        folder.join("V2__by_hand.sql"),
        "CREATE VIEW hand_made (hero_name) AS SELECT name FROM hero;\n",
    )
    .unwrap();
    strata_ok(project_dir, &["hash"]);
    let again = strata_ok(project_dir, &["generate", "again"]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );
    let backend = Backend::new(Kind::Sqlite, project_dir);
    backend.strata_ok(project_dir, &["migrate"]);
    assert_eq!(views(&backend), ["hand_made", "hero_teams"]);
}

/// A function whose text changes is dropped and created again, and so is the
/// trigger that calls it (PostgreSQL refuses to drop a function a trigger uses).
#[test]
fn a_changed_function_is_replaced_with_the_trigger_that_calls_it() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path();
    let backend = Backend::new(Kind::Postgres, project_dir);
    let schema = project(Kind::Postgres, trigger(Kind::Postgres));
    write_schema(project_dir, &schema);
    assert_eq!(generate(Kind::Postgres, project_dir, "init").code, 0);
    backend.strata_ok(project_dir, &["migrate"]);
    write_schema(
        project_dir,
        &schema.replace("upper(NEW.name)", "lower(NEW.name)"),
    );
    let run = generate(Kind::Postgres, project_dir, "lower");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "  drop trigger hero_shout on hero\n  drop function hero_shout\n  create function hero_shout\n  create trigger hero_shout on hero\n"
        ),
        "{}",
        run.stdout
    );
    backend.strata_ok(project_dir, &["migrate"]);
    backend.execute("INSERT INTO hero (id, name, secret_name) VALUES (1, 'Deadpond', 'Dive')");
    assert_eq!(backend.rows("SELECT shout FROM hero"), ["deadpond"]);
    let again = generate(Kind::Postgres, project_dir, "again");
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    backend.strata_ok(project_dir, &["rollback"]);
    backend.execute("INSERT INTO hero (id, name, secret_name) VALUES (2, 'Wong', 'Wong')");
    assert_eq!(
        backend.rows("SELECT shout FROM hero ORDER BY id"),
        ["deadpond", "WONG"]
    );
}
