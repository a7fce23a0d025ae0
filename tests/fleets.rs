//! Fleets: one command over many databases (`--targets FILE`, `[targets]` in
//! schema.toml), on the real PostgreSQL server and real SQLite files.

mod common;

use common::{copy_example_project, sqlite_strings, strata, PgDatabase};
use serde_json::Value;

/// What a user checks after setting up a tenant: the migration history, the
/// patch history and the tutorial's rows.
const HISTORY: &str = "SELECT version FROM refinery_schema_history ORDER BY version";
const PATCHES: &str = "SELECT name FROM strata_patch_history ORDER BY name";
const HEROES: &str = "SELECT h.name, coalesce(t.name, 'none') FROM hero h \
                      LEFT JOIN team t ON t.id = h.team_id ORDER BY h.name";

fn expected_heroes() -> Vec<String> {
    [
        "Deadpond|Z-Force",
        "Rusty-Man|Preventers",
        "Spider-Boy|Preventers",
    ]
    .map(String::from)
    .to_vec()
}

fn expected_patches() -> Vec<String> {
    ["0001_heroes_and_teams", "0002_spider_boy_joins_preventers"]
        .map(String::from)
        .to_vec()
}

fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split_once('@')?.0;
    userinfo
        .split_once(':')
        .map(|(_, password)| password.to_string())
}

#[test]
fn setup_of_fifty_postgres_databases_and_fifty_sqlite_files_reports_the_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    std::fs::create_dir(project.join("tenants")).unwrap();

    // pg_17 already has a `hero` table of its own: V1 cannot create it.
    let databases: Vec<PgDatabase> = (0..50)
        .map(|i| {
            if i == 17 {
                let broken = PgDatabase::create();
                broken.execute("CREATE TABLE hero (nickname text)");
                broken
            } else {
                PgDatabase::named()
            }
        })
        .collect();
    let mut list = String::from("# tenants of the fleet test\n\n");
    for (i, database) in databases.iter().enumerate() {
        list.push_str(&format!("pg_{i} = {}\n", database.url));
    }
    for i in 0..50 {
        list.push_str(&format!(
            "sqlite_{i} = sqlite:tenants/t{i}.db  # file {i}\n"
        ));
    }
    std::fs::write(project.join("fleet.txt"), list).unwrap();

    let run = strata(
        project,
        &["setup", "--targets", "fleet.txt", "--parallel", "8"],
    );
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("  ok "))
            .count(),
        99,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("  FAILED  pg_17: exit 4"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("setup: 99 of 100 targets succeeded, 1 failed (pg_17) in "),
        "{}",
        run.stdout
    );
    // The failure names the target and its (masked) URL and what went wrong.
    let broken_line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error: pg_17 ("))
        .unwrap_or_else(|| panic!("no error line for pg_17:\n{}", run.stderr));
    assert!(broken_line.contains(&databases[17].name), "{broken_line}");
    assert!(
        run.stderr.contains("\"hero\" already exists"),
        "{}",
        run.stderr
    );
    if let Some(password) = password_of(&databases[0].url) {
        assert!(!run.stdout.contains(&password) && !run.stderr.contains(&password));
    }

    for (i, database) in databases.iter().enumerate() {
        if i == 17 {
            // Rolled back: the user's own table is untouched and nothing was recorded.
            assert_eq!(
                database.rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'hero'"
                ),
                ["nickname"]
            );
            assert_eq!(
                database.rows(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'team'"
                ),
                ["0"]
            );
            continue;
        }
        assert_eq!(database.rows(HISTORY), ["1"], "pg_{i}");
        assert_eq!(database.rows(PATCHES), expected_patches(), "pg_{i}");
        assert_eq!(database.rows(HEROES), expected_heroes(), "pg_{i}");
    }
    for i in 0..50 {
        let file = project.join(format!("tenants/t{i}.db"));
        assert_eq!(sqlite_strings(&file, HISTORY), ["1"], "sqlite_{i}");
        assert_eq!(
            sqlite_strings(&file, PATCHES),
            expected_patches(),
            "sqlite_{i}"
        );
        assert_eq!(
            sqlite_strings(&file, HEROES),
            expected_heroes(),
            "sqlite_{i}"
        );
    }

    // The same command again applies nothing twice; the broken one still fails.
    let again = strata(
        project,
        &[
            "--format",
            "json",
            "setup",
            "--targets",
            "fleet.txt",
            "--parallel",
            "8",
        ],
    );
    assert_eq!(again.code, 4, "{}", again.stderr);
    let document: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(document["command"], "fleet");
    assert_eq!(document["run"], "setup");
    assert_eq!(document["succeeded"], 99);
    assert_eq!(document["failed"], 1);
    let records = document["targets"].as_array().unwrap();
    assert_eq!(records.len(), 100);
    for record in records {
        if record["name"] == "pg_17" {
            assert_eq!(record["state"], "failed");
            assert_eq!(record["exit_code"], 4);
            assert!(record["error"].as_str().unwrap().contains("hero"));
            continue;
        }
        assert_eq!(record["state"], "ok", "{record}");
        assert_eq!(record["result"]["migrations"], serde_json::json!([]));
        assert_eq!(record["result"]["patches"], serde_json::json!([]));
        assert_eq!(record["result"]["version"], 1);
    }
    assert_eq!(databases[3].rows(HEROES), expected_heroes());
    assert_eq!(
        sqlite_strings(&project.join("tenants/t3.db"), PATCHES),
        expected_patches()
    );
}

#[test]
fn postgres_schemas_are_tenants_named_in_schema_toml() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let database = PgDatabase::create();
    database.execute("CREATE SCHEMA tenant_1; CREATE SCHEMA tenant_2; CREATE SCHEMA tenant_17");
    let mut schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    schema.push_str("\n[targets]\n");
    for tenant in ["tenant_1", "tenant_2", "tenant_17"] {
        schema.push_str(&format!(
            "{tenant} = \"{}?options=-csearch_path%3D{tenant}\"\n",
            database.url
        ));
    }
    std::fs::write(project.join("schema.toml"), schema).unwrap();

    let run = strata(project, &["setup", "--all-targets"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("setup: 3 of 3 targets succeeded in "),
        "{}",
        run.stdout
    );
    for tenant in ["tenant_1", "tenant_2", "tenant_17"] {
        let mut client = database.client();
        client
            .batch_execute(&format!("SET search_path = {tenant}"))
            .unwrap();
        assert_eq!(common::client_rows(&mut client, HISTORY), ["1"], "{tenant}");
        assert_eq!(common::client_rows(&mut client, HEROES), expected_heroes());
    }
    // Each tenant's tables are its own; nothing landed in public.
    assert_eq!(
        database.rows(
            "SELECT table_schema, count(*) FROM information_schema.tables \
             WHERE table_name IN ('hero', 'team', 'refinery_schema_history') \
             GROUP BY 1 ORDER BY 1"
        ),
        ["tenant_1|3", "tenant_17|3", "tenant_2|3"]
    );

    // One tenant by name; its record says it is up to date.
    let status = strata(
        project,
        &["--format", "json", "status", "--only", "tenant_17"],
    );
    assert_eq!(status.code, 0, "{}", status.stderr);
    let document: Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(document["targets"].as_array().unwrap().len(), 1);
    assert_eq!(document["targets"][0]["name"], "tenant_17");
    assert_eq!(document["targets"][0]["result"]["exists"], true);

    let unknown = strata(project, &["migrate", "--only", "tenant_18"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains(
            "--only: no target `tenant_18` in [targets] in ./schema.toml; \
             it names `tenant_1`, `tenant_2`, `tenant_17`; did you mean `tenant_1`?"
        ),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_bad_targets_file_is_reported_by_line_before_any_database_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    std::fs::write(
        project.join("fleet.txt"),
        "sqlite:first.db\n# a comment\nmysql://app@db/app\nsqlite:first.db\n",
    )
    .unwrap();
    let run = strata(project, &["migrate", "--targets", "fleet.txt"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("fleet.txt:3:1"), "{}", run.stderr);
    assert!(run.stderr.contains("fleet.txt:4:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is already listed at line 1"),
        "{}",
        run.stderr
    );
    assert!(!project.join("first.db").exists());

    let missing = strata(project, &["migrate", "--targets", "nowhere.txt"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("--targets nowhere.txt: no such file"),
        "{}",
        missing.stderr
    );
}

#[test]
fn fail_fast_starts_nothing_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    std::fs::write(
        project.join("fleet.txt"),
        "sqlite:missing/a.db\nsqlite:b.db\nsqlite:c.db\n",
    )
    .unwrap();
    let run = strata(
        project,
        &[
            "--format",
            "json",
            "setup",
            "--targets",
            "fleet.txt",
            "--parallel",
            "1",
            "--fail-fast",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let states: Vec<&str> = document["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["failed", "not_started", "not_started"]);
    assert!(!project.join("b.db").exists());
    assert!(run.stderr.contains("the folder"), "{}", run.stderr);

    // Without --fail-fast the others go on.
    let run = strata(project, &["setup", "--targets", "fleet.txt"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("setup: 2 of 3 targets succeeded, 1 failed (sqlite:./missing/a.db)"),
        "{}",
        run.stdout
    );
    assert_eq!(
        sqlite_strings(&project.join("c.db"), HEROES),
        expected_heroes()
    );
}

/// A fleet checks patches against one inspection per migration and patch
/// history: tenants with the same history share it, a tenant behind gets the
/// one its history leads to, and a tenant ahead of the project is refused on
/// its own, exactly as it would be alone.
#[test]
fn tenants_share_an_inspection_only_when_their_history_is_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let fresh_a = PgDatabase::named();
    let behind = PgDatabase::named();
    let fresh_b = PgDatabase::named();
    let ahead = PgDatabase::named();
    // `behind` and `ahead` were set up before the project got V2 and patch 0003.
    for database in [&behind, &ahead] {
        common::strata_ok(project, &["setup", "--database-url", database.url.as_str()]);
    }
    // `ahead` has a V3 this project has never seen.
    ahead.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
         VALUES (3, 'from_elsewhere', '2026-01-01T00:00:00Z', '1')",
    );
    std::fs::write(
        project.join("migrations/postgres/V2__hero_power.sql"),
        "ALTER TABLE hero ADD COLUMN power VARCHAR;\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&project.join("migrations/postgres")).unwrap();
    // Unpinned: it runs after V2, on a schema with `power`. Checked against the
    // V1 schema it would fail (no column `power`).
    std::fs::write(
        project.join("patches/0003_spider_boy_gets_a_power.toml"),
        "description = \"Spider-Boy gets a power\"\n\n[[update]]\ntable = \"hero\"\n\
         where = { name = \"Spider-Boy\" }\nset = { power = \"webs\" }\nexpect_rows = 1\n",
    )
    .unwrap();
    let mut list = String::new();
    for (name, database) in [
        ("fresh_a", &fresh_a),
        ("behind", &behind),
        ("fresh_b", &fresh_b),
        ("ahead", &ahead),
    ] {
        list.push_str(&format!("{name} = {}\n", database.url));
    }
    std::fs::write(project.join("fleet.txt"), list).unwrap();

    // One at a time, so which target inspects is known.
    let run = strata(
        project,
        &[
            "--format",
            "json",
            "setup",
            "--targets",
            "fleet.txt",
            "--parallel",
            "1",
        ],
    );
    // Refused (exit 5), as `strata setup` on that database alone would be.
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    let document: Value = serde_json::from_str(&run.stdout).unwrap();
    let states: Vec<&str> = document["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["ok", "ok", "ok", "failed"]);
    let error = document["targets"][3]["error"].as_str().unwrap();
    assert!(
        error.contains(
            "V3__from_elsewhere.sql was applied to this database but is missing from the migrations folder"
        ),
        "{error}"
    );
    // fresh_a inspects at V1 (patches 0001, 0002) and at V2 (patch 0003);
    // behind needs only the V2 one, fresh_b both: reused, not inspected again.
    assert_eq!(
        document["schemas"],
        serde_json::json!({ "inspected": 2, "reused": 3 })
    );
    let powers = "SELECT name, coalesce(power, '-') FROM hero ORDER BY name";
    for database in [&fresh_a, &behind, &fresh_b] {
        assert_eq!(database.rows(HISTORY), ["1", "2"]);
        assert_eq!(
            database.rows(PATCHES),
            [
                "0001_heroes_and_teams",
                "0002_spider_boy_joins_preventers",
                "0003_spider_boy_gets_a_power"
            ]
        );
        assert_eq!(database.rows(HEROES), expected_heroes());
        assert_eq!(
            database.rows(powers),
            ["Deadpond|-", "Rusty-Man|-", "Spider-Boy|webs"]
        );
    }
    // The refused tenant is as it was: V1, its two patches, no `power`.
    assert_eq!(ahead.rows(HISTORY), ["1", "3"]);
    assert_eq!(ahead.rows(PATCHES), expected_patches());
    assert_eq!(
        ahead.rows("SELECT count(*) FROM information_schema.columns WHERE column_name = 'power'"),
        ["0"]
    );
}
