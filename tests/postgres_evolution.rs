//! Schema evolution on a real PostgreSQL server: for each kind of change, a
//! populated database is migrated by the generated migration, keeps its rows, and
//! reads back as declared (`check` against the live database and `generate
//! --dev-url` find nothing to do, constraint and index names included).

mod common;

use common::*;

const BASE: &str = r#"
[project]
dialects = ["postgres"]

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

/// The SQLModel tutorial's rows: Deadpond on Z-Force, Spider-Boy on the
/// Preventers, and Rusty-Man with an age.
const ROWS: &str = "
INSERT INTO team (name, headquarters) VALUES ('Preventers', 'Sharp Tower'), ('Z-Force', 'Sister Margaret''s Bar');
INSERT INTO hero (name, secret_name, age, team_id) VALUES
    ('Deadpond', 'Dive Wilson', NULL, 2),
    ('Spider-Boy', 'Pedro Parqueador', NULL, 1),
    ('Rusty-Man', 'Tommy Sharp', 48, 1);";

/// A PostgreSQL-only project migrated to `BASE` with the tutorial's rows.
struct Evolving {
    dir: tempfile::TempDir,
    db: PgDatabase,
    server: String,
    version: u32,
}

/// What the test generated is kept for ci/check-squawk (see `keep_generated`).
impl Drop for Evolving {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            keep_generated(self.dir.path());
        }
    }
}

impl Evolving {
    fn new(schema: &str, rows: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = pg_server_url();
        std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
        strata_ok(dir.path(), &["generate", "init", "--dev-url", &server]);
        let db = PgDatabase::create();
        strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
        db.execute(rows);
        Evolving {
            dir,
            db,
            server,
            version: 1,
        }
    }

    fn base() -> Self {
        Self::new(BASE, ROWS)
    }

    /// Declares `schema`, generates the next migration, applies it, and checks that
    /// nothing is left to generate and the live database has no drift. Returns the
    /// migration's text (with the text of its `_online` migration after it, when
    /// changes to existing tables needed one).
    fn evolve(&mut self, schema: &str) -> String {
        self.version += 1;
        let name = format!("step{}", self.version);
        let project = self.dir.path();
        std::fs::write(project.join("schema.toml"), schema).unwrap();
        strata_ok(
            project,
            &[
                "generate",
                &name,
                "--dev-url",
                &self.server,
                "--allow-destructive",
            ],
        );
        let mut sql = std::fs::read_to_string(
            project.join(format!("migrations/postgres/V{}__{name}.sql", self.version)),
        )
        .unwrap();
        let online = project.join(format!(
            "migrations/postgres/V{}__{name}_online.sql",
            self.version + 1
        ));
        if online.exists() {
            self.version += 1;
            sql.push_str(&std::fs::read_to_string(online).unwrap());
        }
        let run = strata(project, &["migrate", "--database-url", &self.db.url]);
        assert_eq!(run.code, 0, "{sql}\n{}\n{}", run.stdout, run.stderr);
        let again = strata_ok(project, &["generate", "again", "--dev-url", &self.server]);
        assert!(
            again.stdout.contains("schema and migrations agree"),
            "{sql}\n{}",
            again.stdout
        );
        let check = strata(
            project,
            &[
                "check",
                "--database-url",
                &self.db.url,
                "--dev-url",
                &self.server,
            ],
        );
        assert_eq!(check.code, 0, "{sql}\n{}\n{}", check.stdout, check.stderr);
        sql
    }

    fn rows(&self, sql: &str) -> Vec<String> {
        self.db.rows(sql)
    }

    fn constraints(&self, table: &str) -> Vec<String> {
        self.rows(&format!(
            "SELECT conname FROM pg_constraint WHERE conrelid = '\"{table}\"'::regclass ORDER BY conname"
        ))
    }

    fn indexes(&self, table: &str) -> Vec<String> {
        self.rows(&format!(
            "SELECT indexname FROM pg_indexes WHERE tablename = '{table}' ORDER BY indexname"
        ))
    }
}

fn edit(schema: &str, replacements: &[(&str, &str)]) -> String {
    let mut text = schema.to_string();
    for (from, to) in replacements {
        assert!(text.contains(from), "{from} is not in\n{text}");
        text = text.replacen(from, to, 1);
    }
    text
}

#[test]
fn renaming_a_table_and_a_column_keeps_rows_and_renames_keys_indexes_and_sequence() {
    let mut project = Evolving::base();
    let schema = edit(
        BASE,
        &[
            (
                "[table.hero.columns]",
                "[table.champion]\nrenamed_from = \"hero\"\n[table.champion.columns]",
            ),
            (
                "secret_name = \"text\"",
                "alias = { type = \"text\", renamed_from = \"secret_name\" }",
            ),
        ],
    );
    let sql = project.evolve(&schema);
    assert!(
        sql.contains("ALTER TABLE \"hero\" RENAME TO \"champion\";"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE \"champion\" RENAME COLUMN \"secret_name\" TO \"alias\";"),
        "{sql}"
    );
    assert!(
        !sql.contains("DROP"),
        "nothing is dropped and rebuilt:\n{sql}"
    );
    assert_eq!(
        project.rows("SELECT id, name, alias, age, team_id FROM champion ORDER BY id"),
        [
            "1|Deadpond|Dive Wilson|null|2",
            "2|Spider-Boy|Pedro Parqueador|null|1",
            "3|Rusty-Man|Tommy Sharp|48|1"
        ]
    );
    assert_eq!(
        project.constraints("champion"),
        ["champion_pkey", "champion_team_id_fkey"]
    );
    assert_eq!(
        project.indexes("champion"),
        ["champion_pkey", "ix_champion_age", "ix_champion_name"]
    );
    assert_eq!(
        project.rows("SELECT pg_get_serial_sequence('champion', 'id')"),
        ["public.champion_id_seq"]
    );
    // The sequence carries on numbering.
    project
        .db
        .execute("INSERT INTO champion (name, alias) VALUES ('Tarantula', 'Natalia Roman-on')");
    assert_eq!(
        project.rows("SELECT id FROM champion WHERE name = 'Tarantula'"),
        ["4"]
    );
}

#[test]
fn renaming_a_referenced_key_and_a_foreign_key_column_keeps_the_links() {
    let mut project = Evolving::base();
    let schema = edit(
        BASE,
        &[
            (
                "id           = { type = \"integer\", primary_key = true }",
                "team_no      = { type = \"integer\", primary_key = true, renamed_from = \"id\" }",
            ),
            (
                "team_id     = { type = \"integer\", nullable = true, references = \"team.id\" }",
                "squad_id    = { type = \"integer\", nullable = true, references = \"team.team_no\", renamed_from = \"team_id\" }",
            ),
            (
                "age         = { type = \"integer\", nullable = true, index = true }",
                "years       = { type = \"integer\", nullable = true, index = true, renamed_from = \"age\" }",
            ),
        ],
    );
    let sql = project.evolve(&schema);
    assert!(
        !sql.contains("DROP"),
        "nothing is dropped and rebuilt:\n{sql}"
    );
    assert_eq!(
        project.rows(
            "SELECT hero.name, years, team.name FROM hero JOIN team ON team.team_no = hero.squad_id ORDER BY hero.id"
        ),
        [
            "Deadpond|null|Z-Force",
            "Spider-Boy|null|Preventers",
            "Rusty-Man|48|Preventers"
        ]
    );
    assert_eq!(
        project.constraints("hero"),
        ["hero_pkey", "hero_squad_id_fkey"]
    );
    assert_eq!(
        project.indexes("hero"),
        ["hero_pkey", "ix_hero_name", "ix_hero_years"]
    );
    assert_eq!(
        project.rows("SELECT pg_get_serial_sequence('team', 'team_no')"),
        ["public.team_team_no_seq"]
    );
}

#[test]
fn dropping_a_column_then_a_table_keeps_the_other_rows() {
    let mut project = Evolving::base();
    let without_age = edit(
        BASE,
        &[(
            "age         = { type = \"integer\", nullable = true, index = true }\n",
            "",
        )],
    );
    let sql = project.evolve(&without_age);
    assert!(
        sql.contains("ALTER TABLE \"hero\" DROP COLUMN \"age\";"),
        "{sql}"
    );
    assert_eq!(
        project.rows("SELECT id, name, secret_name, team_id FROM hero ORDER BY id"),
        [
            "1|Deadpond|Dive Wilson|2",
            "2|Spider-Boy|Pedro Parqueador|1",
            "3|Rusty-Man|Tommy Sharp|1"
        ]
    );

    let without_team = edit(
        &without_age,
        &[
            (
                "[table.team.columns]\nid           = { type = \"integer\", primary_key = true }\nname         = { type = \"text\", index = true }\nheadquarters = \"text\"\n",
                "",
            ),
            (
                "team_id     = { type = \"integer\", nullable = true, references = \"team.id\" }",
                "team_id     = { type = \"integer\", nullable = true }",
            ),
        ],
    );
    let sql = project.evolve(&without_team);
    assert!(sql.contains("DROP TABLE \"team\";"), "{sql}");
    assert_eq!(project.rows("SELECT to_regclass('team') IS NULL"), ["t"]);
    assert_eq!(
        project.rows("SELECT name, team_id FROM hero ORDER BY id"),
        ["Deadpond|2", "Spider-Boy|1", "Rusty-Man|1"]
    );
}

#[test]
fn type_changes_widen_or_cast_and_say_which() {
    let mut project = Evolving::base();
    let schema = edit(
        BASE,
        &[
            (
                "age         = { type = \"integer\", nullable = true, index = true }",
                "age         = { type = \"bigint\", nullable = true, index = true }",
            ),
            ("secret_name = \"text\"", "secret_name = \"varchar(11)\""),
            ("headquarters = \"text\"", "headquarters = \"varchar(40)\""),
        ],
    );
    let sql = project.evolve(&schema);
    assert!(
        sql.contains(
            "ALTER TABLE \"hero\" ALTER COLUMN \"age\" TYPE BIGINT USING \"age\"::BIGINT;"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("change type of hero.age from integer to bigint (widening: every value fits; rewrites the table under an ACCESS EXCLUSIVE lock)"),
        "{sql}"
    );
    // The rewrite is named above the statement, with squawk's inline ignore.
    assert!(
        sql.contains(
            "-- integer to bigint rewrites the table: ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n\
             -- squawk-ignore changing-column-type\n\
             ALTER TABLE \"hero\" ALTER COLUMN \"age\" TYPE BIGINT USING \"age\"::BIGINT;"
        ),
        "{sql}"
    );
    assert!(
        sql.contains("change type of hero.secret_name from text to varchar(11) (cast that may fail or lose data: text longer than 11 characters is cut; rewrites the table under an ACCESS EXCLUSIVE lock)"),
        "{sql}"
    );
    assert_eq!(
        project.rows("SELECT name, secret_name, age FROM hero ORDER BY id"),
        [
            "Deadpond|Dive Wilson|null",
            "Spider-Boy|Pedro Parqu|null",
            "Rusty-Man|Tommy Sharp|48"
        ]
    );
    assert_eq!(
        project.rows("SELECT headquarters FROM team ORDER BY id"),
        ["Sharp Tower", "Sister Margaret's Bar"]
    );
    // An integer change of the SERIAL key widens its sequence too.
    let schema = edit(
        &schema,
        &[(
            "[table.hero.columns]\nid          = { type = \"integer\", primary_key = true }",
            "[table.hero.columns]\nid          = { type = \"bigint\", primary_key = true }",
        )],
    );
    project.evolve(&schema);
    assert_eq!(
        project.rows("SELECT data_type FROM information_schema.sequences WHERE sequence_name = 'hero_id_seq'"),
        ["bigint"]
    );
    project
        .db
        .execute("SELECT setval('hero_id_seq', 3000000000)");
    project
        .db
        .execute("INSERT INTO hero (name, secret_name) VALUES ('Big', 'Number')");
    assert_eq!(
        project.rows("SELECT id FROM hero WHERE name = 'Big'"),
        ["3000000001"]
    );
}

#[test]
fn nullability_and_defaults_change_and_nulls_are_backfilled() {
    let mut project = Evolving::base();
    let schema = edit(
        BASE,
        &[
            (
                "age         = { type = \"integer\", nullable = true, index = true }",
                "age         = { type = \"integer\", default = 30, index = true }",
            ),
            (
                "headquarters = \"text\"",
                "headquarters = { type = \"text\", nullable = true }",
            ),
            (
                "secret_name = \"text\"",
                "secret_name = { type = \"text\", default = \"unknown\" }",
            ),
        ],
    );
    let sql = project.evolve(&schema);
    assert!(
        sql.contains("UPDATE \"hero\" SET \"age\" = DEFAULT WHERE \"age\" IS NULL;"),
        "{sql}"
    );
    assert_eq!(
        project.rows("SELECT name, age FROM hero ORDER BY id"),
        ["Deadpond|30", "Spider-Boy|30", "Rusty-Man|48"]
    );
    project
        .db
        .execute("INSERT INTO hero (name) VALUES ('Tarantula'); INSERT INTO team (name) VALUES ('Avengers');");
    assert_eq!(
        project.rows("SELECT secret_name, age FROM hero WHERE name = 'Tarantula'"),
        ["unknown|30"]
    );
    assert_eq!(
        project.rows("SELECT headquarters FROM team WHERE name = 'Avengers'"),
        ["null"]
    );

    // The default changes, then goes.
    let schema = edit(
        &schema,
        &[(
            "secret_name = { type = \"text\", default = \"unknown\" }",
            "secret_name = { type = \"text\", default = \"classified\" }",
        )],
    );
    project.evolve(&schema);
    let schema = edit(
        &schema,
        &[(
            "secret_name = { type = \"text\", default = \"classified\" }",
            "secret_name = \"text\"",
        )],
    );
    let sql = project.evolve(&schema);
    assert!(
        sql.contains("ALTER TABLE \"hero\" ALTER COLUMN \"secret_name\" DROP DEFAULT;"),
        "{sql}"
    );
    assert_eq!(
        project.rows("SELECT count(*) FROM hero WHERE secret_name IS NOT NULL"),
        ["4"]
    );
}

const KEYS: &str = r#"
[project]
dialects = ["postgres"]

[table.team.columns]
id   = { type = "integer", primary_key = true }
name = "text"
city = "text"

[table.mission]
indexes = [{ name = "ix_mission_lookup", columns = ["code"] }]
[table.mission.columns]
code    = { type = "text", primary_key = true }
level   = "integer"
team_id = { type = "integer", nullable = true, references = "team.id" }
"#;

const KEY_ROWS: &str = "
INSERT INTO team (name, city) VALUES ('Preventers', 'Sharp Tower'), ('Z-Force', 'Bar');
INSERT INTO mission (code, level, team_id) VALUES ('M1', 1, 1), ('M2', 2, 2), ('M3', 2, NULL);";

#[test]
fn keys_uniques_foreign_keys_and_indexes_change_without_losing_rows() {
    let mut project = Evolving::new(KEYS, KEY_ROWS);
    let schema = edit(
        KEYS,
        &[
            // Primary key (code) → (code, level).
            (
                "[table.mission]\n",
                "[table.mission]\nprimary_key = [\"code\", \"level\"]\n",
            ),
            (
                "code    = { type = \"text\", primary_key = true }",
                "code    = \"text\"",
            ),
            // An index's columns change under the same name.
            (
                "columns = [\"code\"] }",
                "columns = [\"level\", \"code\"] }",
            ),
            // A foreign key's action changes.
            (
                "references = \"team.id\" }",
                "references = \"team.id\", on_delete = \"cascade\" }",
            ),
            // A unique constraint is added.
            (
                "name = \"text\"",
                "name = { type = \"text\", unique = true }",
            ),
        ],
    );
    let sql = project.evolve(&schema);
    // mission exists: the new key's index is built concurrently and attached,
    // outside the transaction.
    assert!(
        sql.contains("ALTER TABLE \"mission\" DROP CONSTRAINT IF EXISTS \"mission_pkey\";"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"mission_pkey\" ON \"mission\" (\"code\", \"level\");"),
        "{sql}"
    );
    assert!(
        sql.contains("ALTER TABLE \"mission\" ADD CONSTRAINT \"mission_pkey\" PRIMARY KEY USING INDEX \"mission_pkey\";"),
        "{sql}"
    );
    assert!(
        sql.contains("DROP INDEX CONCURRENTLY IF EXISTS \"ix_mission_lookup\";"),
        "{sql}"
    );
    assert!(
        sql.contains("ON DELETE CASCADE"),
        "the foreign key is dropped and added again:\n{sql}"
    );
    assert_eq!(
        project.rows("SELECT code, level, team_id FROM mission ORDER BY code"),
        ["M1|1|1", "M2|2|2", "M3|2|null"]
    );
    assert_eq!(project.constraints("team"), ["team_name_key", "team_pkey"]);
    project.db.execute("DELETE FROM team WHERE id = 2");
    assert_eq!(
        project.rows("SELECT code FROM mission ORDER BY code"),
        ["M1", "M3"],
        "ON DELETE CASCADE took M2 with Z-Force"
    );

    // The unique constraint goes, the index goes, the foreign key goes.
    let schema = edit(
        &schema,
        &[
            ("name = { type = \"text\", unique = true }", "name = \"text\""),
            (
                "indexes = [{ name = \"ix_mission_lookup\", columns = [\"level\", \"code\"] }]\n",
                "",
            ),
            (
                "team_id = { type = \"integer\", nullable = true, references = \"team.id\", on_delete = \"cascade\" }",
                "team_id = { type = \"integer\", nullable = true }",
            ),
        ],
    );
    project.evolve(&schema);
    assert_eq!(project.constraints("team"), ["team_pkey"]);
    assert_eq!(project.constraints("mission"), ["mission_pkey"]);
    assert_eq!(project.indexes("mission"), ["mission_pkey"]);
    assert_eq!(
        project.rows("SELECT code, level, team_id FROM mission ORDER BY code"),
        ["M1|1|1", "M3|2|null"]
    );
}

#[test]
fn a_serial_key_that_joins_a_composite_key_stops_numbering_and_round_trips() {
    let mut project = Evolving::base();
    let schema = edit(
        BASE,
        &[
            (
                "[table.hero.columns]\nid          = { type = \"integer\", primary_key = true }",
                "[table.hero]\nprimary_key = [\"id\", \"name\"]\n[table.hero.columns]\nid          = \"integer\"",
            ),
        ],
    );
    let sql = project.evolve(&schema);
    assert!(
        sql.contains("ALTER TABLE \"hero\" ALTER COLUMN \"id\" DROP DEFAULT;"),
        "{sql}"
    );
    assert_eq!(
        project.rows("SELECT id, name FROM hero ORDER BY id"),
        ["1|Deadpond", "2|Spider-Boy", "3|Rusty-Man"]
    );
}

/// The reverses of an evolution plan run on a real server, last step first, give
/// back the schema it started from: rename, retype and re-key, then undo.
#[test]
fn reverses_of_reversible_changes_restore_the_schema() {
    use strata::driver::Database;
    let parse = |text: &str| {
        strata::schema::parse_schema_text(std::path::Path::new("schema.toml"), text)
            .unwrap()
            .schema
    };
    let current = parse(BASE);
    let target = parse(&edit(
        BASE,
        &[
            (
                "[table.hero.columns]",
                "[table.champion]\nrenamed_from = \"hero\"\nunique = [[\"name\", \"alias\"]]\n[table.champion.columns]",
            ),
            (
                "secret_name = \"text\"",
                "alias = { type = \"text\", renamed_from = \"secret_name\", default = \"?\" }",
            ),
            (
                "age         = { type = \"integer\", nullable = true, index = true }",
                "age         = { type = \"bigint\", nullable = true }",
            ),
            ("headquarters = \"text\"", "headquarters = { type = \"text\", nullable = true }"),
            (
                "references = \"team.id\" }",
                "references = \"team.id\", on_delete = \"cascade\" }",
            ),
        ],
    ));
    let dialect = strata::driver::dialect("postgres").unwrap();
    let empty = strata::schema::Schema::default();
    let create = dialect
        .plan(&empty, &current, &strata::diff::diff(&empty, &current))
        .unwrap();
    let changes = strata::diff::diff(&current, &target);
    let evolve = dialect.plan(&current, &target, &changes).unwrap();

    let db = PgDatabase::create();
    for statement in create.statements() {
        db.execute(statement);
    }
    db.execute(ROWS);
    let inspect = || {
        strata::driver::postgres::PostgresDatabase::connect(
            &db.url,
            std::time::Duration::from_secs(5),
        )
        .unwrap()
        .inspect()
        .unwrap()
    };
    let before = inspect();
    for statement in evolve.statements() {
        db.execute(statement);
    }
    assert!(strata::diff::diff(&inspect(), &target).is_empty());
    for step in evolve.steps.iter().rev() {
        match &step.reverse {
            // One statement at a time, as a down file outside a transaction
            // runs (DROP INDEX CONCURRENTLY cannot run in a batch).
            strata::driver::Reverse::Sql(sql) => {
                for statement in strata::script::statements(strata::script::Engine::Postgres, sql) {
                    db.execute(&sql[statement.span]);
                }
            }
            strata::driver::Reverse::Irreversible(why)
            | strata::driver::Reverse::Lossy { reason: why, .. } => {
                panic!("{}: {why}", step.comment)
            }
            strata::driver::Reverse::Nothing => {}
        }
    }
    assert_eq!(inspect(), before);
    assert_eq!(
        db.rows("SELECT name, secret_name, age, team_id FROM hero ORDER BY id"),
        [
            "Deadpond|Dive Wilson|null|2",
            "Spider-Boy|Pedro Parqueador|null|1",
            "Rusty-Man|Tommy Sharp|48|1"
        ]
    );
}
