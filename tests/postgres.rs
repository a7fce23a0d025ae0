//! PostgreSQL for real: lockstep generation, round trips through pg_catalog,
//! concurrent and interrupted migrations, locks, and connection errors.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    dir
}

fn add_migration(project: &Path, file: &str, sql: &str) {
    let folder = project.join("migrations/postgres");
    std::fs::write(folder.join(file), sql).unwrap();
    // Hand-written, so recorded in the integrity file as `strata hash` would.
    strata::migrate::integrity::rehash(&folder).unwrap();
}

fn history(db: &PgDatabase) -> Vec<String> {
    db.rows("SELECT version, name FROM refinery_schema_history ORDER BY version")
}

#[test]
fn eight_concurrent_migrates_apply_each_migration_once() {
    let dir = example();
    for version in 2..=6 {
        add_migration(
            dir.path(),
            &format!("V{version}__sidekick_{version}.sql"),
            &format!("CREATE TABLE sidekick_{version} (id SERIAL PRIMARY KEY, note VARCHAR NOT NULL);\nSELECT pg_sleep(0.05);\n"),
        );
    }
    let db = PgDatabase::create();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(&binary)
                .current_dir(dir.path())
                .args(["migrate", "--database-url", &db.url])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied_lines = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        applied_lines += stdout.matches("  applied V").count();
    }
    assert_eq!(
        applied_lines, 6,
        "each migration is reported applied exactly once in all"
    );
    assert_eq!(
        history(&db),
        [
            "1|create_team_and_hero",
            "2|sidekick_2",
            "3|sidekick_3",
            "4|sidekick_4",
            "5|sidekick_5",
            "6|sidekick_6"
        ]
    );
}

#[test]
fn kill_during_a_migration_leaves_the_last_completed_one_and_the_next_run_finishes() {
    let dir = example();
    add_migration(
        dir.path(),
        "V2__slow.sql",
        "CREATE TABLE slow_table (id INTEGER);\nSELECT pg_sleep(2);\n",
    );
    let db = PgDatabase::create();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let mut child = std::process::Command::new(&binary)
        .current_dir(dir.path())
        .args(["migrate", "--database-url", &db.url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until V2 is running: V1 is recorded and the server is sleeping for us.
    let started = Instant::now();
    loop {
        // By wait event, not query text: V1 and V2 travel in one message, whose
        // text pg_stat_activity cuts at 1 kB.
        let sleeping = db.rows("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND state = 'active' AND pid <> pg_backend_pid()");
        if sleeping == ["1"] {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "V2 never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(history(&db), ["1|create_team_and_hero"]);
    assert_eq!(db.rows("SELECT to_regclass('slow_table') IS NULL"), ["t"]);

    // The server notices the dead client when the sleep ends and releases the
    // lock; the next run waits for that and finishes the job.
    let run = strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert!(run.stdout.contains("applied V2__slow"), "{}", run.stdout);
    assert_eq!(history(&db), ["1|create_team_and_hero", "2|slow"]);
    assert_eq!(
        db.rows(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        ["0"]
    );
}

#[test]
fn a_failing_migration_leaves_schema_and_history_as_they_were() {
    let dir = example();
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    let before = db.snapshot();
    add_migration(
        dir.path(),
        "V2__half_broken.sql",
        "CREATE TABLE sidekick (id SERIAL PRIMARY KEY);\nALTER TABLE team ADD COLUMN motto VARCHAR;\nINSERT INTO nowhere VALUES (1);\n",
    );
    let run = strata(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("V2__half_broken.sql failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("relation \"nowhere\" does not exist"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("strata-test-secret"), "{}", run.stderr);
    assert_eq!(db.snapshot(), before);
    assert_eq!(history(&db), ["1|create_team_and_hero"]);
}

/// Consecutive migrations travel in one message; a syntax error stops the
/// whole message before anything runs, so strata applies the ones before the
/// failing migration on their own and names the failing one at its line.
#[test]
fn a_syntax_error_in_the_middle_of_a_batch_keeps_the_migrations_before_it() {
    let dir = example();
    add_migration(
        dir.path(),
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id SERIAL PRIMARY KEY);\n",
    );
    add_migration(
        dir.path(),
        "V3__broken.sql",
        "CREATE TABLE villain (id SERIAL PRIMARY KEY);\n-- the typo is on line 3\nALTER TABLE villain ADD COLUM lair VARCHAR;\n",
    );
    add_migration(
        dir.path(),
        "V4__after.sql",
        "CREATE TABLE after_broken (id INTEGER);\n",
    );
    let db = PgDatabase::create();
    let run = strata(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("V3__broken.sql failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("syntax error at or near \"VARCHAR\" at line 3, column 36"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the database is as it was before it (at V2)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("applied V1__create_team_and_hero"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("applied V2__sidekick"),
        "{}",
        run.stdout
    );
    assert_eq!(history(&db), ["1|create_team_and_hero", "2|sidekick"]);
    assert_eq!(
        db.rows("SELECT to_regclass('sidekick') IS NOT NULL, to_regclass('villain') IS NULL, to_regclass('after_broken') IS NULL"),
        ["t|t|t"]
    );

    // Fixed, the next run applies V3 and V4.
    add_migration(
        dir.path(),
        "V3__broken.sql",
        "CREATE TABLE villain (id SERIAL PRIMARY KEY);\n-- the typo is on line 3\nALTER TABLE villain ADD COLUMN lair VARCHAR;\n",
    );
    let run = strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert!(!run.stdout.contains("applied V2"), "{}", run.stdout);
    assert!(run.stdout.contains("applied V3__broken"), "{}", run.stdout);
    assert_eq!(
        history(&db),
        [
            "1|create_team_and_hero",
            "2|sidekick",
            "3|broken",
            "4|after"
        ]
    );
    assert_eq!(
        db.rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'villain' ORDER BY 1"),
        ["id", "lair"]
    );
}

/// An error while a batch runs: the migrations before the failing one are
/// committed (the history says so), the failing one is rolled back whole, the
/// ones after it never run.
#[test]
fn an_error_while_a_batch_runs_keeps_the_migrations_before_it() {
    let dir = example();
    add_migration(
        dir.path(),
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id SERIAL PRIMARY KEY);\n",
    );
    add_migration(
        dir.path(),
        "V3__half_broken.sql",
        "CREATE TABLE villain (id SERIAL PRIMARY KEY);\nINSERT INTO nowhere VALUES (1);\n",
    );
    add_migration(
        dir.path(),
        "V4__after.sql",
        "CREATE TABLE after_broken (id INTEGER);\n",
    );
    let db = PgDatabase::create();
    let run = strata(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("V3__half_broken.sql failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("relation \"nowhere\" does not exist at line 2, column 13"),
        "{}",
        run.stderr
    );
    assert_eq!(history(&db), ["1|create_team_and_hero", "2|sidekick"]);
    assert_eq!(
        db.rows("SELECT to_regclass('villain') IS NULL, to_regclass('after_broken') IS NULL"),
        ["t|t"]
    );
}

/// A no-transaction migration between transactional ones runs on its own,
/// statement by statement; the ones around it are batched.
#[test]
fn a_no_transaction_migration_splits_the_batch() {
    let dir = example();
    add_migration(
        dir.path(),
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id SERIAL PRIMARY KEY, note VARCHAR);\n",
    );
    add_migration(
        dir.path(),
        "V3__index_note.sql",
        "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY sidekick_note ON sidekick (note);\n",
    );
    add_migration(
        dir.path(),
        "V4__villain.sql",
        "CREATE TABLE villain (id INTEGER);\n",
    );
    add_migration(
        dir.path(),
        "V5__lair.sql",
        "ALTER TABLE villain ADD COLUMN lair VARCHAR;\n",
    );
    let db = PgDatabase::create();
    let run = strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert!(
        run.stdout.contains(
            "  applied V1__create_team_and_hero\n  applied V2__sidekick\n  (V1..V2: 2 migrations in one round trip, "
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  applied V3__index_note ("),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  (V4..V5: 2 migrations in one round trip, "),
        "{}",
        run.stdout
    );
    assert_eq!(
        history(&db),
        [
            "1|create_team_and_hero",
            "2|sidekick",
            "3|index_note",
            "4|villain",
            "5|lair"
        ]
    );
    assert_eq!(
        db.rows("SELECT indisvalid FROM pg_index WHERE indexrelid = 'sidekick_note'::regclass"),
        ["t"]
    );
    // --format json: each record says how many migrations shared its round trip.
    let db = PgDatabase::create();
    let run = strata_ok(
        dir.path(),
        &["migrate", "--database-url", &db.url, "--format", "json"],
    );
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let batches: Vec<u64> = document["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| record["batch"].as_u64().unwrap())
        .collect();
    assert_eq!(batches, [2, 2, 1, 2, 2]);
}

#[test]
fn a_held_lock_makes_migrate_wait_then_give_up_clearly() {
    let dir = example();
    let db = PgDatabase::create();
    let mut holder = db.client();
    // strata's lock key: "strata" in ASCII.
    holder
        .execute("SELECT pg_advisory_lock(126943972389985)", &[])
        .unwrap();
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let run = strata(
        dir.path(),
        &["migrate", "--database-url", &db.url, "--lock-timeout", "1"],
    );
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "waiting for the migration lock held by pid {holder_pid}"
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("gave up after 1 s waiting for the migration lock"),
        "{}",
        run.stderr
    );
    assert!(db.rows("SELECT to_regclass('hero') IS NULL") == ["t"]);
    drop(holder);
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
}

#[test]
fn ddl_stuck_behind_a_long_transaction_fails_cleanly() {
    let dir = example();
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    add_migration(
        dir.path(),
        "V2__add_motto.sql",
        "ALTER TABLE team ADD COLUMN motto VARCHAR;\n",
    );
    let mut blocker = db.client();
    let mut transaction = blocker.transaction().unwrap();
    transaction
        .execute("LOCK TABLE team IN ACCESS SHARE MODE", &[])
        .unwrap();
    let started = Instant::now();
    let run = strata(
        dir.path(),
        &[
            "migrate",
            "--database-url",
            &db.url,
            "--ddl-lock-timeout",
            "1",
        ],
    );
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("lock timeout"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(30));
    transaction.rollback().unwrap();
    assert_eq!(history(&db), ["1|create_team_and_hero"]);
}

#[test]
fn connection_problems_are_one_clear_line_without_the_password() {
    let dir = example();
    let server = pg_server_url();
    let base = server.rsplit_once('/').unwrap().0.to_string();

    let missing = strata(
        dir.path(),
        &[
            "status",
            "--database-url",
            &format!("{base}/no_such_database_here"),
        ],
    );
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("database \"no_such_database_here\" does not exist"),
        "{}",
        missing.stderr
    );

    let wrong_password = base.replace("strata-test-secret", "wrong-password");
    let login = strata(
        dir.path(),
        &[
            "status",
            "--database-url",
            &format!("{wrong_password}/postgres"),
        ],
    );
    assert_eq!(login.code, 1);
    assert!(
        login.stderr.contains("login failed for user \"postgres\""),
        "{}",
        login.stderr
    );

    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = strata(
        dir.path(),
        &[
            "status",
            "--database-url",
            &format!("postgres://postgres:strata-test-secret@127.0.0.1:{free_port}/postgres"),
        ],
    );
    assert_eq!(down.code, 1);
    assert!(
        down.stderr
            .contains("connection refused; is PostgreSQL running"),
        "{}",
        down.stderr
    );

    for run in [&missing, &login, &down] {
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        assert!(
            !run.stderr.contains("strata-test-secret") && !run.stderr.contains("wrong-password"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(":***@"), "{}", run.stderr);
    }
}

#[test]
fn setup_creates_the_database_and_fresh_recreates_it() {
    let dir = example();
    let db = PgDatabase::named();
    assert!(!db.exists());
    let run = strata_ok(dir.path(), &["setup", "--database-url", &db.url]);
    assert!(run.stdout.contains("(created)"), "{}", run.stdout);
    assert!(db.exists());
    let mut other = db.client(); // --fresh forces other connections off
    other.execute("SELECT 1", &[]).unwrap();
    let fresh = strata_ok(
        dir.path(),
        &["setup", "--fresh", "--yes", "--database-url", &db.url],
    );
    assert!(fresh.stdout.contains("Dropped"), "{}", fresh.stdout);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
}

const ODD_SCHEMA: &str = r#"
[project]
dialects = ["sqlite", "postgres"]

[table.user.columns]
id = { type = "integer", primary_key = true }
"select" = { type = "varchar(40)", unique = true }
"group" = { type = "text", nullable = true, index = true }
"say \"hi\"" = { type = "boolean", default = true }
"naïve café" = { type = "numeric(10,2)", default = 1.5 }
created = { type = "timestamp", default = { sql = "CURRENT_TIMESTAMP" } }

[table.order.columns]
id = { type = "bigint", primary_key = true }
user_id = { type = "integer", references = "user.id", on_delete = "cascade" }
note = { type = "text", default = "it's new" }
token = { type = "uuid", nullable = true }
payload = { type = "json", nullable = true }
data = { type = "bytes", nullable = true }
day = { type = "date", nullable = true }
at = { type = "timestamptz", nullable = true }
ratio = { type = "double", nullable = true }
small = { type = "smallint", default = -1 }
approx = { type = "real", nullable = true }

[table.employee.columns]
id = { type = "integer", primary_key = true }
manager_id = { type = "integer", nullable = true, references = "employee.id" }
favourite_order = { type = "bigint", nullable = true, references = "order.id" }

[table.a.columns]
id = { type = "integer", primary_key = true }
b_id = { type = "integer", nullable = true, references = "b.id" }
[table.b.columns]
id = { type = "integer", primary_key = true }
a_id = { type = "integer", nullable = true, references = "a.id" }

[table.membership]
primary_key = ["user_id", "group_name"]
unique = [["group_name", "rank"]]
indexes = [{ name = "ix_membership_rank_user", columns = ["rank", "user_id"], unique = true }]
[table.membership.columns]
user_id = { type = "integer", references = "user.id" }
group_name = "text"
rank = "integer"
"#;

/// schema.toml → migrations → a real server → pg_catalog gives back exactly
/// the declared model: `generate --dev-url` replays the PostgreSQL migrations
/// into a scratch database, introspects it, and finds nothing to do.
#[test]
fn introspection_round_trips_odd_names_cycles_and_every_type() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.toml"), ODD_SCHEMA).unwrap();
    let server = pg_server_url();
    strata_ok(dir.path(), &["generate", "init"]);
    let sql = std::fs::read_to_string(dir.path().join("migrations/postgres/V1__init.sql")).unwrap();
    assert!(
        sql.contains("ALTER TABLE \"a\" ADD CONSTRAINT \"a_b_id_fkey\""),
        "{sql}"
    );
    let again = strata_ok(dir.path(), &["generate", "again", "--dev-url", &server]);
    assert!(
        again.stdout.contains("schema and migrations agree"),
        "{}",
        again.stdout
    );

    // And the migrations apply to a real database, which reads back the same.
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(
        db.rows("SELECT conname FROM pg_constraint WHERE conrelid = '\"order\"'::regclass ORDER BY conname"),
        ["order_pkey", "order_user_id_fkey"]
    );
}

#[test]
fn dev_url_honours_hand_edited_postgres_migrations() {
    let dir = example();
    let server = pg_server_url();
    // A person added the index to the PostgreSQL migration by hand.
    let path = dir
        .path()
        .join("migrations/postgres/V1__create_team_and_hero.sql");
    let mut sql = std::fs::read_to_string(&path).unwrap();
    sql.push_str("\nCREATE INDEX \"ix_hero_secret_name\" ON \"hero\" (\"secret_name\");\n");
    std::fs::write(&path, sql).unwrap();
    strata::migrate::integrity::rehash(path.parent().unwrap()).unwrap();
    let schema = std::fs::read_to_string(dir.path().join("schema.toml"))
        .unwrap()
        .replace(
            "secret_name = \"text\"",
            "secret_name = { type = \"text\", index = true }",
        );
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();

    strata_ok(
        dir.path(),
        &["generate", "index_secret_name", "--dev-url", &server],
    );
    let sqlite = std::fs::read_to_string(
        dir.path()
            .join("migrations/sqlite/V2__index_secret_name.sql"),
    )
    .unwrap();
    let postgres = std::fs::read_to_string(
        dir.path()
            .join("migrations/postgres/V2__index_secret_name.sql"),
    )
    .unwrap();
    assert!(
        sqlite.contains("CREATE INDEX \"ix_hero_secret_name\""),
        "{sqlite}"
    );
    assert!(!postgres.contains("CREATE INDEX"), "{postgres}");
    assert!(postgres.contains("needs no change"), "{postgres}");

    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
}

/// Scratch databases of one strata process (their names carry its pid).
fn scratch_databases(db: &PgDatabase, pid: u32) -> Vec<String> {
    db.rows(&format!(
        "SELECT datname FROM pg_database WHERE datname LIKE 'strata\\_dev\\_{pid}\\_%'"
    ))
}

/// The example project with PostgreSQL as its only dialect.
fn postgres_only() -> tempfile::TempDir {
    let dir = example();
    let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
    std::fs::write(
        dir.path().join("schema.toml"),
        schema.replace(
            "dialects = [\"sqlite\", \"postgres\"]",
            "dialects = [\"postgres\"]",
        ),
    )
    .unwrap();
    std::fs::remove_dir_all(dir.path().join("migrations/sqlite")).unwrap();
    dir
}

#[test]
fn scratch_databases_are_dropped_after_success_error_and_ctrl_c() {
    let server = pg_server_url();
    let observer = PgDatabase::create();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let spawn = |dir: &Path| {
        std::process::Command::new(&binary)
            .current_dir(dir)
            .args(["generate", "next", "--dev-url", &server])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };

    // Success.
    let dir = example();
    let child = spawn(dir.path());
    let pid = child.id();
    assert!(child.wait_with_output().unwrap().status.success());
    assert!(scratch_databases(&observer, pid).is_empty());

    // A migration that fails to replay. The project is PostgreSQL-only, so that
    // a version only migrations/postgres has is not a lockstep gap.
    let dir = postgres_only();
    add_migration(dir.path(), "V2__broken.sql", "CREATE TABLE broken (;\n");
    let child = spawn(dir.path());
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("V2__broken.sql"), "{stderr}");
    assert!(scratch_databases(&observer, pid).is_empty());

    // Ctrl-C while a migration replays.
    let dir = postgres_only();
    add_migration(dir.path(), "V2__slow.sql", "SELECT pg_sleep(30);\n");
    let child = spawn(dir.path());
    let pid = child.id();
    let started = Instant::now();
    while observer
        .rows(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'strata\\_dev\\_{pid}\\_%' AND query LIKE '%pg_sleep(30)%'"
        ))
        != ["1"]
    {
        assert!(started.elapsed() < Duration::from_secs(20), "the replay never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(scratch_databases(&observer, pid).len(), 1);
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(scratch_databases(&observer, pid).is_empty());
}

#[test]
fn generate_works_without_a_server() {
    let dir = example();
    let schema = std::fs::read_to_string(dir.path().join("schema.toml"))
        .unwrap()
        .replace(
            "headquarters = \"text\"",
            "headquarters = \"text\"\nfounded = { type = \"integer\", nullable = true }",
        );
    std::fs::write(dir.path().join("schema.toml"), schema).unwrap();
    let run = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("STRATA_DEV_URL")
        .env_remove("DATABASE_URL")
        .args(["generate", "add_founded"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let postgres =
        std::fs::read_to_string(dir.path().join("migrations/postgres/V2__add_founded.sql"))
            .unwrap();
    assert!(
        postgres.contains("ALTER TABLE \"team\" ADD COLUMN \"founded\" INTEGER;"),
        "{postgres}"
    );
    assert!(dir
        .path()
        .join("migrations/sqlite/V2__add_founded.sql")
        .exists());
}

#[test]
fn inserts_without_an_id_work_after_the_tutorial_rows() {
    let dir = example();
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["setup", "--database-url", &db.url]);
    db.execute("INSERT INTO team (name, headquarters) VALUES ('Avengers', 'Stark Tower');");
    assert_eq!(
        db.rows("SELECT id FROM team WHERE name = 'Avengers'"),
        ["3"]
    );
}

#[test]
fn pull_reads_a_postgres_database_back_into_the_declared_model() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.toml"), ODD_SCHEMA).unwrap();
    strata_ok(dir.path(), &["generate", "init"]);
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    let pulled = strata_ok(dir.path(), &["pull", "--database-url", &db.url]);
    let declared = strata::schema::parse_schema_text(Path::new("schema.toml"), ODD_SCHEMA).unwrap();
    let read_back = strata::schema::parse_schema_text(Path::new("pulled.toml"), &pulled.stdout)
        .unwrap_or_else(|problems| panic!("{problems}\n{}", pulled.stdout));
    let mut expected = declared.schema.tables.clone();
    let mut actual = read_back.schema.tables.clone();
    // The server lists tables in creation order (a cycle's back edge comes later);
    // compare them by name.
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    actual.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(actual, expected, "{}", pulled.stdout);
}

#[test]
fn sslmode_require_encrypts_and_disable_does_not() {
    let db = PgDatabase::create();
    let encrypted = |mode: &str| -> bool {
        let url = format!("{}?sslmode={mode}", db.url);
        let mut database =
            strata::driver::postgres::PostgresDatabase::connect(&url, Duration::from_secs(5))
                .unwrap_or_else(|error| panic!("{mode}: {error}"));
        database
            .client()
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert!(encrypted("require"));
    assert!(encrypted("prefer"));
    assert!(!encrypted("disable"));
    let dir = example();
    let run = strata_ok(
        dir.path(),
        &[
            "setup",
            "--database-url",
            &format!("{}?sslmode=require", db.url),
        ],
    );
    assert!(run.stdout.contains("sslmode=require"), "{}", run.stdout);
    assert!(!run.stdout.contains("strata-test-secret"), "{}", run.stdout);
}

/// The reverse SQL a plan carries runs on a real server: every step forward, a row
/// in each table, then every reverse from the last step to the first leaves the
/// database without a table, index or sequence.
#[test]
fn plan_reverses_undo_the_plan_on_postgres() {
    let dir = example();
    let declared = strata::project::Project::new(dir.path())
        .load_schema()
        .unwrap();
    let mut changes = strata::diff::diff(&strata::schema::Schema::default(), &declared.schema);
    changes.push(strata::schema::Change::AddColumn {
        table: "team".into(),
        column: strata::schema::Column {
            name: "motto".into(),
            ty: strata::schema::Type::Text,
            nullable: true,
            default: None,
            renamed_from: None,
            comment: None,
            numbering: Default::default(),
            sequence: Default::default(),
            generated: None,
        },
    });
    let plan = strata::driver::dialect("postgres")
        .unwrap()
        .plan(
            &strata::schema::Schema::default(),
            &declared.schema,
            &changes,
        )
        .unwrap();
    assert!(plan.transactional());

    let db = PgDatabase::create();
    for step in &plan.steps {
        db.execute(&step.sql);
    }
    db.execute(
        "INSERT INTO team (name, headquarters, motto) VALUES ('Preventers', 'Sharp Tower', 'x');
         INSERT INTO hero (name, secret_name, team_id) VALUES ('Deadpond', 'Dive Wilson', 1);",
    );
    for step in plan.steps.iter().rev() {
        match &step.reverse {
            strata::driver::Reverse::Sql(sql) => db.execute(sql),
            strata::driver::Reverse::Irreversible(why)
            | strata::driver::Reverse::Lossy { reason: why, .. } => {
                panic!("{}: {why}", step.comment)
            }
            strata::driver::Reverse::Nothing => {}
        }
    }
    assert_eq!(
        db.rows(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'"
        ),
        ["0"]
    );
}
