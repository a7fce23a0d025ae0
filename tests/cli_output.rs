//! How strata prints: a closed stdout, --quiet, --verbose, --color and NO_COLOR,
//! --format json for patch and setup, provisional keys in dry runs, progress bars.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    dir
}

struct Closed {
    code: i32,
    stderr: String,
}

/// `strata ARGS` with its stdout a pipe whose read end is closed before strata
/// writes anything: every write fails with EPIPE.
fn with_stdout_closed(project: &Path, args: &[&str]) -> Closed {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("strata"))
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    Closed {
        code: output.status.code().unwrap_or(-1),
        stderr,
    }
}

/// `strata ARGS | head -1` through sh: stdout closes after the first line.
fn piped_to_head(project: &Path, args: &[&str]) -> (i32, String) {
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let words: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let script = format!(
        "'{}' {} 2>stderr.txt | head -1 >/dev/null; echo ${{PIPESTATUS[0]}}",
        binary.display(),
        words.join(" ")
    );
    let output = Command::new("bash")
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .args(["-c", &script])
        .output()
        .unwrap();
    let stderr = std::fs::read_to_string(project.join("stderr.txt")).unwrap_or_default();
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    let code = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    (code, stderr)
}

fn assert_fully_set_up(db: &Backend) {
    assert_eq!(db.rows("SELECT count(*) FROM team"), ["2"]);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
    assert_eq!(
        db.rows("SELECT name FROM strata_patch_history ORDER BY name"),
        ["0001_heroes_and_teams", "0002_spider_boy_joins_preventers"]
    );
}

fn closed_stdout_finishes_every_command(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    let url = db.url();
    let with_db = |args: &[&str]| -> Vec<String> {
        let mut all: Vec<String> = args.iter().map(ToString::to_string).collect();
        all.extend(["--database-url".to_string(), url.clone()]);
        all
    };
    let run = |args: Vec<String>, expected: i32| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let closed = with_stdout_closed(dir.path(), &args);
        assert_eq!(closed.code, expected, "{args:?}: {}", closed.stderr);
    };
    // Read-only commands first, on a database with nothing applied.
    run(with_db(&["migrate", "--dry-run"]), 0);
    assert_eq!(strata(dir.path(), &with_db_strs(&["status"], &url)).code, 0);
    // setup: migrations AND patches applied, whatever became of stdout.
    run(with_db(&["setup"]), 0);
    assert_fully_set_up(&db);
    run(with_db(&["status"]), 0);
    run(with_db(&["status", "--format", "json"]), 0);
    run(with_db(&["check"]), 0);
    run(with_db(&["pull"]), 0);
    run(with_db(&["migrate"]), 0);
    run(with_db(&["patch"]), 0);
    // patch: all or nothing. A new patch applies whole.
    std::fs::write(
        dir.path().join("patches/0003_more.toml"),
        "[[insert]]\ntable = \"hero\"\nrows = [{ name = \"Tarantula\", secret_name = \"Natalia Roman-on\" }, { name = \"Dr. Weird\", secret_name = \"Steve Weird\", age = 36 }]\n",
    )
    .unwrap();
    run(with_db(&["patch", "--dry-run"]), 0);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["3"]);
    run(with_db(&["patch", "--format", "json"]), 0);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["5"]);
    assert_eq!(
        db.rows("SELECT rows_changed FROM strata_patch_history WHERE name = '0003_more'"),
        ["2"]
    );
    // A failing patch behind a closed stdout still exits 4 and keeps nothing.
    std::fs::write(
        dir.path().join("patches/0004_fails.toml"),
        "[[insert]]\ntable = \"hero\"\nrows = [{ name = \"Black Lion\", secret_name = \"Trevor Challa\" }]\n\n[[update]]\ntable = \"hero\"\nwhere = { name = \"Nobody\" }\nset = { age = 1 }\nexpect_rows = 1\n",
    )
    .unwrap();
    let closed = with_stdout_closed(dir.path(), &with_db_strs(&["patch"], &url));
    assert_eq!(closed.code, 4, "{}", closed.stderr);
    assert!(closed.stderr.contains("rolled back"), "{}", closed.stderr);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["5"]);
}

fn with_db_strs<'a>(args: &[&'a str], url: &'a str) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--database-url", url]);
    all
}

#[test]
fn closed_stdout_finishes_every_command_on_sqlite() {
    closed_stdout_finishes_every_command(Kind::Sqlite);
}

#[test]
fn closed_stdout_finishes_every_command_on_postgres() {
    closed_stdout_finishes_every_command(Kind::Postgres);
}

#[test]
fn closed_stdout_in_project_commands_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let closed = with_stdout_closed(dir.path(), &["init"]);
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(dir.path().join("schema.toml").exists());
    let closed = with_stdout_closed(dir.path(), &["generate", "create_tables"]);
    assert_eq!(closed.code, 0, "{}", closed.stderr);
    assert!(dir
        .path()
        .join("migrations/sqlite/V1__create_tables.sql")
        .exists());
    for args in [
        &["hash"][..],
        &["check"],
        &["completions", "bash"],
        &["man"],
        &["--help"],
    ] {
        let closed = with_stdout_closed(dir.path(), args);
        assert_eq!(closed.code, 0, "{args:?}: {}", closed.stderr);
    }
}

#[test]
fn setup_piped_to_head_applies_migrations_and_patches() {
    for kind in [Kind::Sqlite, Kind::Postgres] {
        let dir = example();
        let db = Backend::new(kind, dir.path());
        let url = db.url();
        let (code, stderr) = piped_to_head(dir.path(), &["setup", "--database-url", &url]);
        assert_eq!(code, 0, "{stderr}");
        assert_fully_set_up(&db);
        let (code, stderr) = piped_to_head(dir.path(), &["status", "--database-url", &url]);
        assert_eq!(code, 0, "{stderr}");
    }
}

#[test]
fn quiet_prints_only_errors() {
    let dir = example();
    let run = strata_ok(dir.path(), &["--quiet", "setup"]);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "");
    let run = strata_ok(dir.path(), &["-q", "status"]);
    assert_eq!(run.stdout, "");
    std::fs::write(
        dir.path().join("patches/0003_bad.toml"),
        "[[update]]\ntable = \"hero\"\nwhere = { name = \"Nobody\" }\nset = { age = 1 }\nexpect_rows = 1\n",
    )
    .unwrap();
    let run = strata(dir.path(), &["-q", "patch"]);
    assert_eq!(run.code, 4);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with(
            "error: patch 0003_bad failed at ./patches/0003_bad.toml:1:1: expect_rows = 1, but the update changed 0 rows"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn verbose_puts_statements_on_stderr() {
    let dir = example();
    let run = strata_ok(dir.path(), &["-v", "setup"]);
    // Migration SQL and patch statements on stderr, never on stdout.
    assert!(
        run.stderr.contains("V1__create_team_and_hero.sql:\n")
            && run.stderr.contains("CREATE TABLE \"team\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "SQL: INSERT INTO \"team\" (\"name\", \"headquarters\") VALUES (?1, ?2) RETURNING \"id\", \"name\"  [\"Preventers\", \"Sharp Tower\"]"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("SQL:"), "{}", run.stdout);
    assert!(run.stdout.contains("Ready: "), "{}", run.stdout);
    // With JSON, stdout stays one document.
    let dir = example();
    let run = strata_ok(dir.path(), &["-v", "--format", "json", "setup"]);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["command"], "setup");
    assert!(run.stderr.contains("SQL: INSERT INTO"), "{}", run.stderr);
}

#[test]
fn color_always_never_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    // No schema.toml: an error on stderr.
    let run = strata(dir.path(), &["--color", "always", "status"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("\x1b[1;31merror:\x1b[0m "),
        "{:?}",
        run.stderr
    );
    let run = strata(dir.path(), &["--color", "never", "status"]);
    assert!(run.stderr.starts_with("error: "), "{:?}", run.stderr);
    // A pipe is not a terminal: auto means no colour.
    let run = strata(dir.path(), &["status"]);
    assert!(run.stderr.starts_with("error: "), "{:?}", run.stderr);
    // On a terminal (script(1) gives strata one), auto colours unless NO_COLOR.
    let on_terminal = |no_color: bool| {
        let binary = assert_cmd::cargo::cargo_bin("strata");
        let mut command = Command::new("script");
        command
            .current_dir(dir.path())
            .args([
                "-qec",
                &format!("'{}' status", binary.display()),
                "/dev/null",
            ])
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        let output = command.output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_terminal(false);
    assert!(coloured.contains("\x1b[1;31merror:"), "{coloured:?}");
    let plain = on_terminal(true);
    assert!(plain.contains("error: "), "{plain:?}");
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn before_after_values_coloured_with_color_always() {
    let dir = example();
    strata_ok(dir.path(), &["migrate"]);
    let run = strata_ok(dir.path(), &["--color", "always", "patch"]);
    assert!(
        run.stdout.contains(
            "hero id=3 \"Spider-Boy\": team_id \x1b[31mnull\x1b[0m → \x1b[32m1 (team \"Preventers\")\x1b[0m"
        ),
        "{:?}",
        run.stdout
    );
}

fn patch_and_setup_json(kind: Kind) {
    let dir = example();
    let db = Backend::new(kind, dir.path());
    db.strata_ok(dir.path(), &["migrate"]);
    let run = db.strata_ok(dir.path(), &["--format", "json", "patch", "--dry-run"]);
    let dry: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(dry["command"], "patch");
    assert_eq!(dry["dry_run"], true);
    let patches = dry["patches"].as_array().unwrap();
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[0]["name"], "0001_heroes_and_teams");
    assert_eq!(patches[0]["description"], "The tutorial's teams and heroes");
    assert_eq!(patches[0]["rows_changed"], 5);
    assert!(patches[0]["statements"].as_array().unwrap().len() >= 5);
    let update = &patches[1]["rows"][0];
    assert_eq!(update["action"], "updated");
    assert_eq!(update["table"], "hero");
    assert_eq!(update["label"], "Spider-Boy");
    assert_eq!(update["provisional"], true);
    assert_eq!(update["columns"][0]["column"], "team_id");
    assert_eq!(update["columns"][0]["before"], serde_json::Value::Null);
    assert_eq!(
        update["columns"][0]["reference"]["row"],
        "team \"Preventers\""
    );
    assert_eq!(update["columns"][0]["reference"]["provisional"], true);
    assert_eq!(db.rows("SELECT count(*) FROM hero"), ["0"]);

    let run = db.strata_ok(dir.path(), &["--format", "json", "patch"]);
    let real: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(real["dry_run"], false);
    assert!(real["patches"][0].get("statements").is_none());
    let inserted = &real["patches"][0]["rows"][0];
    assert_eq!(inserted["action"], "inserted");
    assert_eq!(inserted["provisional"], false);
    assert_eq!(inserted["generated"], serde_json::json!(["id"]));
    assert_eq!(
        inserted["columns"][0],
        serde_json::json!({"column": "name", "value": "Preventers", "reference": null})
    );

    let fresh = example();
    let db = Backend::new(kind, fresh.path());
    let run = db.strata_ok(fresh.path(), &["--format", "json", "setup"]);
    let setup: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(setup["command"], "setup");
    assert_eq!(setup["removed"], false);
    assert_eq!(setup["migrations"][0]["name"], "create_team_and_hero");
    assert_eq!(setup["patches"].as_array().unwrap().len(), 2);
}

#[test]
fn patch_and_setup_json_on_sqlite() {
    patch_and_setup_json(Kind::Sqlite);
}

#[test]
fn patch_and_setup_json_on_postgres() {
    patch_and_setup_json(Kind::Postgres);
}

/// The bug of issue #13: on PostgreSQL the rolled-back dry run consumed sequence
/// values, so it showed ids the real run did not use. They are marked provisional.
#[test]
fn postgres_dry_run_marks_generated_keys_provisional() {
    let dir = example();
    let db = Backend::new(Kind::Postgres, dir.path());
    db.strata_ok(dir.path(), &["migrate"]);
    let dry = db.strata_ok(dir.path(), &["patch", "--dry-run"]);
    assert!(
        dry.stdout.contains(
            "  hero id=3 (provisional) \"Spider-Boy\": inserted name = \"Spider-Boy\", secret_name = \"Pedro Parqueador\""
        ),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(
            "  hero id=2 (provisional) \"Rusty-Man\": inserted name = \"Rusty-Man\", secret_name = \"Tommy Sharp\", age = 48, team_id = 1 (team \"Preventers\", provisional)"
        ),
        "{}",
        dry.stdout
    );
    let real = db.strata_ok(dir.path(), &["patch"]);
    assert!(!real.stdout.contains("provisional"), "{}", real.stdout);
    // The real run's keys are not the dry run's: that is why they were marked.
    assert_eq!(
        db.rows("SELECT id, name FROM hero ORDER BY id"),
        ["4|Deadpond", "5|Rusty-Man", "6|Spider-Boy"]
    );
    assert!(
        real.stdout
            .contains("  hero id=6 \"Spider-Boy\": team_id null → 3 (team \"Preventers\")"),
        "{}",
        real.stdout
    );
}

/// On a terminal a long patch shows a progress bar on stderr; in a pipe never.
#[test]
fn progress_bar_only_on_a_terminal() {
    let dir = example();
    strata_ok(dir.path(), &["migrate"]);
    let rows: Vec<String> = (0..60_000)
        .map(|i| format!("{{ name = \"h{i}\", secret_name = \"s{i}\" }}"))
        .collect();
    std::fs::write(
        dir.path().join("patches/0003_many.toml"),
        format!(
            "[[insert]]\ntable = \"hero\"\nrows = [\n{}\n]\n",
            rows.join(",\n")
        ),
    )
    .unwrap();
    let piped = Command::new(assert_cmd::cargo::cargo_bin("strata"))
        .current_dir(dir.path())
        .env("STRATA_PROGRESS_AFTER_MS", "0")
        .args(["patch", "--dry-run"])
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(String::from_utf8_lossy(&piped.stderr), "");
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let output = Command::new("script")
        .current_dir(dir.path())
        // The bar waits 1 s before it appears; a fast machine may finish sooner.
        .env("STRATA_PROGRESS_AFTER_MS", "0")
        .args([
            "-qec",
            &format!("'{}' patch --dry-run >/dev/null", binary.display()),
            "/dev/null",
        ])
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{terminal}");
    assert!(terminal.contains("patching: "), "{terminal:?}");
}
