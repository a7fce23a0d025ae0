//! Online-safe PostgreSQL migrations: changes to a table that already exists are
//! generated in forms that do not block its writers (CREATE INDEX CONCURRENTLY,
//! foreign keys and NOT NULL checks added NOT VALID and validated outside the
//! transaction), every file sets its own lock_timeout, and a migration run
//! while a long transaction writes to the table never blocks other writers for
//! longer than that timeout, fails cleanly, and succeeds when run again.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const BASE: &str = r#"
[project]
dialects = ["postgres"]

[table.team.columns]
id   = { type = "integer", primary_key = true }
name = "text"

[table.hero.columns]
id      = { type = "integer", primary_key = true }
name    = "text"
age     = { type = "integer", nullable = true }
team_id = { type = "integer", nullable = true }

[table.audit.columns]
id   = { type = "integer", primary_key = true }
note = "text"
"#;

const ROWS: &str = "
INSERT INTO team (name) VALUES ('Preventers'), ('Z-Force');
INSERT INTO hero (name, age, team_id) VALUES
    ('Deadpond', 30, 2), ('Spider-Boy', 17, 1), ('Rusty-Man', 48, 1);";

/// BASE with an index on hero.name and a foreign key hero.team_id → team.id.
fn with_index_and_foreign_key(schema: &str) -> String {
    schema
        .replace(
            "name    = \"text\"",
            "name    = { type = \"text\", index = true }",
        )
        .replace(
            "team_id = { type = \"integer\", nullable = true }",
            "team_id = { type = \"integer\", nullable = true, references = \"team.id\" }",
        )
}

/// BASE with hero.age NOT NULL too.
fn with_not_null_age(schema: &str) -> String {
    schema.replace(
        "age     = { type = \"integer\", nullable = true }",
        "age     = \"integer\"",
    )
}

struct Project {
    dir: tempfile::TempDir,
    db: PgDatabase,
    server: String,
}

impl Project {
    /// A PostgreSQL project migrated to BASE, with the tutorial's rows.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = pg_server_url();
        std::fs::write(dir.path().join("schema.toml"), BASE).unwrap();
        strata_ok(dir.path(), &["generate", "init", "--dev-url", &server]);
        let db = PgDatabase::create();
        strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
        db.execute(ROWS);
        Project { dir, db, server }
    }

    /// Declares `schema` and generates migration `name` with `extra` options.
    fn generate(&self, schema: &str, name: &str, extra: &[&str]) -> Run {
        std::fs::write(self.dir.path().join("schema.toml"), schema).unwrap();
        let mut args = vec!["generate", name, "--dev-url", &self.server];
        args.extend(extra);
        strata_ok(self.dir.path(), &args)
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join("migrations/postgres").join(name))
            .unwrap_or_else(|error| panic!("{name}: {error}"))
    }

    fn migrate(&self) -> Run {
        strata(
            self.dir.path(),
            &["migrate", "--database-url", &self.db.url],
        )
    }

    /// Runs a migration or down file as strata does: in one transaction, or
    /// one statement at a time when it is `-- strata: no-transaction`.
    fn run_file(&self, name: &str) {
        let text = self.file(name);
        let mut client = self.db.client();
        if text.starts_with("-- strata: no-transaction") {
            for statement in strata::script::statements(strata::script::Engine::Postgres, &text) {
                client.batch_execute(&text[statement.span]).unwrap();
            }
        } else {
            client
                .batch_execute(&format!("BEGIN;\n{text}\n;COMMIT;"))
                .unwrap();
        }
    }

    /// Constraints of hero as `name|validated`, and its indexes as `name|valid`.
    fn hero_constraints(&self) -> Vec<String> {
        self.db.rows(
            "SELECT conname, convalidated FROM pg_constraint \
             WHERE conrelid = 'hero'::regclass ORDER BY conname",
        )
    }

    fn hero_indexes(&self) -> Vec<String> {
        self.db.rows(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'hero'::regclass ORDER BY c.relname",
        )
    }

    fn heroes(&self) -> Vec<String> {
        self.db
            .rows("SELECT name, age, team_id FROM hero ORDER BY id")
    }
}

/// The statements of a file, without its comments and blank lines.
fn statements(text: &str) -> Vec<&str> {
    strata::script::statements(strata::script::Engine::Postgres, text)
        .map(|statement| text[statement.span].trim())
        .collect()
}

/// An index, a foreign key and NOT NULL on a populated table: the transactional
/// part (NOT VALID constraints) is one migration, the part that must run
/// outside a transaction the next one; both set lock_timeout from
/// --ddl-lock-timeout. Applied on the real server, the rows stay, the
/// constraints end validated and the index valid; the down files, newest
/// first, bring back the schema as it was; the online file can be run again.
#[test]
fn index_foreign_key_and_not_null_on_an_existing_table_are_online_safe() {
    let project = Project::new();
    let before = project.db.snapshot();
    let schema = with_not_null_age(&with_index_and_foreign_key(BASE));
    let run = project.generate(
        &schema,
        "tighten",
        &["--ddl-lock-timeout", "3", "--allow-destructive"],
    );
    assert!(
        run.stdout.contains("V3__tighten_online.sql"),
        "{}",
        run.stdout
    );

    let first = project.file("V2__tighten.sql");
    assert!(!first.starts_with("-- strata:"), "{first}");
    assert_eq!(
        statements(&first),
        [
            "SET lock_timeout = '3s';",
            "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;",
            "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\") NOT VALID;",
        ]
    );
    let online = project.file("V3__tighten_online.sql");
    assert!(
        online.starts_with("-- strata: no-transaction\n"),
        "{online}"
    );
    assert!(online.contains("-- Runs outside a transaction"), "{online}");
    assert!(online.contains("INVALID index"), "{online}");
    assert_eq!(
        statements(&online),
        [
            "SET lock_timeout = '3s';",
            "DO $strata$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"hero\"'::regclass AND conname = 'hero_age_not_null') THEN\n        ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;\n    END IF;\nEND\n$strata$;",
            "ALTER TABLE \"hero\" VALIDATE CONSTRAINT \"hero_age_not_null\";",
            "ALTER TABLE \"hero\" ALTER COLUMN \"age\" SET NOT NULL;",
            "ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_age_not_null\";",
            "DROP INDEX CONCURRENTLY IF EXISTS \"ix_hero_name\";",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS \"ix_hero_name\" ON \"hero\" (\"name\");",
            "ALTER TABLE \"hero\" VALIDATE CONSTRAINT \"hero_team_id_fkey\";",
        ]
    );
    let online_down = project.file("V3__tighten_online.down.sql");
    assert!(
        online_down.starts_with("-- strata: no-transaction\n"),
        "{online_down}"
    );
    assert_eq!(
        statements(&online_down),
        [
            "SET lock_timeout = '3s';",
            "DROP INDEX CONCURRENTLY IF EXISTS \"ix_hero_name\";",
            "DO $strata$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"hero\"'::regclass AND conname = 'hero_age_not_null') THEN\n        ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;\n    END IF;\nEND\n$strata$;",
            "ALTER TABLE \"hero\" ALTER COLUMN \"age\" DROP NOT NULL;",
        ]
    );
    assert_eq!(
        statements(&project.file("V2__tighten.down.sql")),
        [
            "SET lock_timeout = '3s';",
            "ALTER TABLE \"hero\" DROP CONSTRAINT \"hero_team_id_fkey\";",
            "ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_age_not_null\";",
        ]
    );

    let run = project.migrate();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        project.heroes(),
        ["Deadpond|30|2", "Spider-Boy|17|1", "Rusty-Man|48|1"]
    );
    assert_eq!(
        project.hero_constraints(),
        ["hero_pkey|t", "hero_team_id_fkey|t"]
    );
    assert_eq!(project.hero_indexes(), ["hero_pkey|t", "ix_hero_name|t"]);
    assert_eq!(
        project
            .db
            .rows("SELECT is_nullable FROM information_schema.columns WHERE table_name = 'hero' AND column_name = 'age'"),
        ["NO"]
    );
    // What the migrations build is what schema.toml declares, on the live
    // database and on generate's replay.
    let again = strata_ok(
        project.dir.path(),
        &["generate", "again", "--dev-url", &project.server],
    );
    assert!(
        again.stdout.contains("schema and migrations agree"),
        "{}",
        again.stdout
    );
    strata_ok(
        project.dir.path(),
        &[
            "check",
            "--database-url",
            &project.db.url,
            "--dev-url",
            &project.server,
        ],
    );
    // Every statement of the online file is safe to run again.
    project.run_file("V3__tighten_online.sql");
    assert_eq!(project.hero_indexes(), ["hero_pkey|t", "ix_hero_name|t"]);

    // A NULL age is refused now; the down files, newest first, undo it all.
    let refused = project
        .db
        .client()
        .batch_execute("INSERT INTO hero (name, age) VALUES ('Nobody', NULL)");
    assert!(refused.is_err());
    project.run_file("V3__tighten_online.down.sql");
    project.run_file("V2__tighten.down.sql");
    project
        .db
        .execute("DELETE FROM refinery_schema_history WHERE version > 1");
    assert_eq!(project.db.snapshot(), before);
    assert_eq!(project.hero_constraints(), ["hero_pkey|t"]);
    assert_eq!(project.hero_indexes(), ["hero_pkey|t"]);
}

/// Only changes to existing tables take the online forms: a table created in
/// the same migration gets plain DDL, in one transactional migration.
#[test]
fn a_new_table_keeps_plain_ddl() {
    let project = Project::new();
    let schema = format!(
        "{BASE}\n[table.mission.columns]\nid = {{ type = \"integer\", primary_key = true }}\n\
         code = {{ type = \"text\", index = true }}\n\
         team_id = {{ type = \"integer\", references = \"team.id\" }}\n"
    );
    let run = project.generate(&schema, "missions", &[]);
    assert!(!run.stdout.contains("_online"), "{}", run.stdout);
    let text = project.file("V2__missions.sql");
    assert!(!text.starts_with("-- strata:"), "{text}");
    assert_eq!(
        statements(&text),
        [
            "SET lock_timeout = '10s';",
            "CREATE TABLE \"mission\" (\n    \"id\" SERIAL NOT NULL,\n    \"code\" VARCHAR NOT NULL,\n    \"team_id\" INTEGER NOT NULL,\n    CONSTRAINT \"mission_pkey\" PRIMARY KEY (\"id\"),\n    CONSTRAINT \"mission_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\")\n);",
            "CREATE INDEX \"ix_mission_code\" ON \"mission\" (\"code\");",
        ]
    );
    let run = project.migrate();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// With SQLite among the dialects, its SQL is unchanged (plain CREATE INDEX in
/// the first migration, no SET) and the second version, which PostgreSQL needs
/// for its concurrent steps, is a file of comments for SQLite (lockstep).
#[test]
fn sqlite_keeps_its_sql_and_gets_a_lockstep_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = pg_server_url();
    let base = BASE.replace(
        "dialects = [\"postgres\"]",
        "dialects = [\"sqlite\", \"postgres\"]",
    );
    std::fs::write(dir.path().join("schema.toml"), &base).unwrap();
    strata_ok(dir.path(), &["generate", "init", "--dev-url", &server]);
    std::fs::write(
        dir.path().join("schema.toml"),
        with_index_and_foreign_key(&base).replace(
            "[table.audit.columns]",
            "[table.log.columns]\nid = { type = \"integer\", primary_key = true }\n\n[table.audit.columns]",
        ),
    )
    .unwrap();
    strata_ok(dir.path(), &["generate", "link", "--dev-url", &server]);
    let sqlite = |name: &str| {
        std::fs::read_to_string(dir.path().join("migrations/sqlite").join(name)).unwrap()
    };
    let first = sqlite("V2__link.sql");
    assert!(
        first.contains("CREATE INDEX \"ix_hero_name\" ON \"hero\" (\"name\");"),
        "{first}"
    );
    assert!(!first.contains("SET lock_timeout"), "{first}");
    assert!(!first.contains("CONCURRENTLY"), "{first}");
    let second = sqlite("V3__link_online.sql");
    assert!(
        second.lines().all(|line| line.starts_with("-- ")),
        "{second}"
    );
    assert!(
        second.contains("needs no change at this version"),
        "{second}"
    );
    // The SQLite project migrates through both versions.
    let run = strata(dir.path(), &["migrate", "--database-url", "sqlite:app.db"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Statement latencies of a writer that inserts into `table` in short
/// transactions of its own until told to stop.
fn spawn_writer(
    url: String,
    table: &'static str,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Duration>> {
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut latencies = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let started = Instant::now();
            client
                .batch_execute(&format!(
                    "INSERT INTO {table} (name, age, team_id) VALUES ('Writer', 1, 1)"
                ))
                .unwrap();
            latencies.push(started.elapsed());
            std::thread::sleep(Duration::from_millis(20));
        }
        latencies
    })
}

/// The issue's busy table: a generated migration adding an index and a foreign
/// key to a populated table, run while another connection holds a long
/// transaction writing to it. The migration waits at most lock_timeout (1 s
/// here) for its lock, so writers queued behind it wait no longer; it then
/// fails cleanly, changing nothing. A concurrent index build that times out
/// waiting for an old snapshot leaves an INVALID index; once the long
/// transactions are gone, running migrate again completes, dropping it first.
#[test]
fn a_busy_table_is_never_blocked_longer_than_lock_timeout() {
    let project = Project::new();
    project.db.execute(
        "INSERT INTO hero (name, age, team_id) SELECT 'Extra ' || n, n % 90, 1 + n % 2 \
         FROM generate_series(1, 5000) AS n",
    );
    project.generate(
        &with_index_and_foreign_key(BASE),
        "busy",
        &["--ddl-lock-timeout", "1"],
    );
    let lock_timeout = Duration::from_secs(1);
    // Generous: the wait is bounded by lock_timeout; the rest is scheduling on
    // a shared machine, not a performance figure.
    let bound = lock_timeout * 4;

    // 1. A long transaction writes to hero; a second writer inserts in short
    // transactions, timed. The foreign key's brief lock cannot be had.
    let mut holder = project.db.client();
    holder
        .batch_execute("BEGIN; INSERT INTO hero (name, age, team_id) VALUES ('Holder', 1, 1)")
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = spawn_writer(project.db.url.clone(), "hero", stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let run = project.migrate();
    let took = started.elapsed();
    // The holder keeps writing in its transaction meanwhile: never blocked.
    let holder_started = Instant::now();
    holder
        .batch_execute("INSERT INTO hero (name, age, team_id) VALUES ('Holder', 2, 1)")
        .unwrap();
    assert!(holder_started.elapsed() < bound);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let latencies = writer.join().unwrap();
    let slowest = latencies.iter().max().unwrap();
    assert!(latencies.len() > 5, "{latencies:?}");
    let first_writes = latencies.len();
    eprintln!(
        "busy table, phase 1: {first_writes} writes, slowest {slowest:?}, migrate failed after {took:?}"
    );
    assert!(
        *slowest < bound,
        "a writer waited {slowest:?} (lock_timeout 1 s); migrate took {took:?}"
    );
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__busy.sql") && run.stderr.contains("lock timeout"),
        "{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(30), "{took:?}");
    // Nothing of it was applied.
    assert_eq!(project.hero_constraints(), ["hero_pkey|t"]);
    assert_eq!(project.hero_indexes(), ["hero_pkey|t"]);
    holder.batch_execute("COMMIT").unwrap();

    // 2. A long transaction on another table keeps an old snapshot: the foreign
    // key goes in, the concurrent build waits for the snapshot, times out and
    // leaves an INVALID index. Writers to hero are not blocked meanwhile.
    holder
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ; INSERT INTO audit (note) VALUES ('long')",
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = spawn_writer(project.db.url.clone(), "hero", stop.clone());
    let run = project.migrate();
    stop.store(true, Ordering::SeqCst);
    let latencies = writer.join().unwrap();
    let slowest = latencies.iter().max().unwrap();
    eprintln!(
        "busy table, phase 2: {} writes, slowest {slowest:?}",
        latencies.len()
    );
    assert!(*slowest < bound, "a writer waited {slowest:?}");
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V3__busy_online.sql") && run.stderr.contains("lock timeout"),
        "{}",
        run.stderr
    );
    assert_eq!(
        project.hero_constraints(),
        ["hero_pkey|t", "hero_team_id_fkey|f"]
    );
    assert_eq!(project.hero_indexes(), ["hero_pkey|t", "ix_hero_name|f"]);

    // 3. The long transaction ends; migrate again completes.
    holder.batch_execute("COMMIT").unwrap();
    let run = project.migrate();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        project.hero_constraints(),
        ["hero_pkey|t", "hero_team_id_fkey|t"]
    );
    assert_eq!(project.hero_indexes(), ["hero_pkey|t", "ix_hero_name|t"]);
    let written = 3 + 5000 + 2 + first_writes + latencies.len();
    assert_eq!(
        project.db.rows("SELECT count(*) FROM hero"),
        [written.to_string()]
    );
    assert_eq!(
        project
            .db
            .rows("SELECT name, age, team_id FROM hero ORDER BY id LIMIT 3"),
        ["Deadpond|30|2", "Spider-Boy|17|1", "Rusty-Man|48|1"]
    );
}

/// A unique constraint on a populated table: its index is built concurrently
/// and attached to the constraint. Duplicates make the build fail and leave an
/// INVALID index; once they are gone, migrate again drops it and completes.
/// The online file can be run again, and its down file removes the constraint.
#[test]
fn a_unique_constraint_on_an_existing_table_builds_its_index_concurrently() {
    let project = Project::new();
    project
        .db
        .execute("INSERT INTO team (name) VALUES ('Preventers')");
    let schema = BASE.replace(
        "[table.team.columns]\nid   = { type = \"integer\", primary_key = true }\nname = \"text\"",
        "[table.team.columns]\nid   = { type = \"integer\", primary_key = true }\nname = { type = \"text\", unique = true }",
    );
    assert_ne!(schema, BASE);
    project.generate(&schema, "unique_team", &[]);
    let online = project.file("V2__unique_team.sql");
    assert!(
        online.starts_with("-- strata: no-transaction\n"),
        "{online}"
    );
    let statements = statements(&online);
    assert_eq!(
        statements[2],
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"team_name_key\" ON \"team\" (\"name\");"
    );
    assert!(
        statements[3].contains(
            "ALTER TABLE \"team\" ADD CONSTRAINT \"team_name_key\" UNIQUE USING INDEX \"team_name_key\";"
        ),
        "{online}"
    );

    let run = project.migrate();
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("V2__unique_team.sql") && run.stderr.contains("duplicate"),
        "{}",
        run.stderr
    );
    let team_indexes = || {
        project.db.rows(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = 'team'::regclass ORDER BY c.relname",
        )
    };
    assert_eq!(team_indexes(), ["team_name_key|f", "team_pkey|t"]);

    project.db.execute("DELETE FROM team WHERE id = 3");
    let run = project.migrate();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(team_indexes(), ["team_name_key|t", "team_pkey|t"]);
    assert_eq!(
        project.db.rows(
            "SELECT conname, contype FROM pg_constraint WHERE conrelid = 'team'::regclass ORDER BY conname"
        ),
        ["team_name_key|u", "team_pkey|p"]
    );
    project.run_file("V2__unique_team.sql");
    strata_ok(
        project.dir.path(),
        &[
            "check",
            "--database-url",
            &project.db.url,
            "--dev-url",
            &project.server,
        ],
    );
    project.run_file("V2__unique_team.down.sql");
    assert_eq!(team_indexes(), ["team_pkey|t"]);
}
