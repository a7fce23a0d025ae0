//! Hostile cases of issue #8, items 9 and 10: odd migration versions, files in
//! migrations/ and patches/ that are not regular files of the project, byte-order
//! marks, NUL characters, row counts of `.sql` patches, exit codes when the
//! database itself fails, and inserts big enough to be sent in several chunks.

#[macro_use]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

on_both_databases!(
    a_bom_prefixed_migration_and_patches_apply,
    sql_patch_records_the_rows_it_changed,
    nul_character_in_a_patch_value_is_refused_before_running,
    multi_chunk_insert_inserts_every_row_with_refs_and_counts,
    failure_in_the_last_chunk_leaves_the_table_unchanged,
);

fn set_up(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    (dir, backend)
}

fn dialect(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

/// `strata ARGS` in `project`, killed (and the test failed) after `limit`.
fn strata_within(project: &Path, args: &[&str], limit: Duration) -> Run {
    let started = Instant::now();
    let output = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .args(args)
        .timeout(limit)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < limit,
        "strata {args:?} did not finish within {limit:?}"
    );
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

// --- migration versions -------------------------------------------------------

#[test]
fn migration_version_past_i32_max_is_refused_not_wrapped() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let file = dir
        .path()
        .join("migrations/sqlite/V2147483648__too_far.sql");
    std::fs::write(&file, "CREATE TABLE too_far (id INTEGER);\n").unwrap();
    for command in ["status", "migrate"] {
        let run = strata(dir.path(), &[command]);
        assert_eq!(run.code, 3, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("V2147483648__too_far.sql")
                && run
                    .stderr
                    .contains("the version 2147483648 is larger than 2147483647"),
            "{command}: {}",
            run.stderr
        );
    }
    assert_eq!(
        sqlite_strings(
            &dir.path().join("database.db"),
            "SELECT count(*) FROM sqlite_schema"
        ),
        ["0"]
    );
}

#[test]
fn ambiguous_migration_versions_are_refused() {
    for (file_name, expected) in [
        ("V+2__plus.sql", "is not a plain number"),
        ("V 2__space.sql", "is not a plain number"),
        ("V-2__minus.sql", "is not a plain number"),
        ("V02__zero.sql", "rename the file to V2__zero.sql"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_example_project(dir.path());
        std::fs::write(
            dir.path().join("migrations/sqlite").join(file_name),
            "CREATE TABLE ambiguous (id INTEGER);\n",
        )
        .unwrap();
        let run = strata(dir.path(), &["migrate"]);
        assert_eq!(run.code, 3, "{file_name}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains(file_name) && run.stderr.contains(expected),
            "{file_name}: {}",
            run.stderr
        );
        // Nothing was applied, not even V1.
        assert_eq!(
            sqlite_strings(
                &dir.path().join("database.db"),
                "SELECT count(*) FROM sqlite_schema"
            ),
            ["0"]
        );
    }
}

#[test]
fn a_down_file_without_its_up_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    // The up file was renamed to V2__add_power.sql, the down file was not.
    std::fs::write(
        dir.path().join("migrations/sqlite/V2__add_powers.down.sql"),
        "ALTER TABLE hero DROP COLUMN power;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("migrations/sqlite/V2__add_power.sql"),
        "ALTER TABLE hero ADD COLUMN power TEXT;\n",
    )
    .unwrap();
    let run = strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__add_powers.down.sql")
            && run.stderr.contains(
                "this down migration has no up migration: expected V2__add_powers.sql beside it"
            ),
        "{}",
        run.stderr
    );
    assert!(
        !dir.path().join("database.db").exists()
            || sqlite_strings(
                &dir.path().join("database.db"),
                "SELECT count(*) FROM sqlite_schema"
            ) == ["0"]
    );
}

// --- files that are not regular files of the project --------------------------

#[test]
fn symlink_to_dev_zero_in_migrations_is_refused_promptly() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    std::os::unix::fs::symlink(
        "/dev/zero",
        dir.path().join("migrations/sqlite/V2__zero.sql"),
    )
    .unwrap();
    for command in ["status", "migrate"] {
        let run = strata_within(dir.path(), &[command], Duration::from_secs(20));
        assert_eq!(run.code, 3, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("V2__zero.sql")
                && run
                    .stderr
                    .contains("is a symbolic link to a file outside the project"),
            "{command}: {}",
            run.stderr
        );
    }
}

#[test]
fn fifo_in_migrations_or_patches_is_refused_without_hanging() {
    for (folder, name) in [
        ("migrations/sqlite", "V2__pipe.sql"),
        ("patches", "0003_pipe.toml"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        copy_example_project(dir.path());
        make_fifo(&dir.path().join(folder).join(name));
        for command in ["status", "migrate"] {
            let run = strata_within(dir.path(), &[command], Duration::from_secs(20));
            if folder == "patches" && command == "migrate" {
                // migrate does not read patches/.
                assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
                continue;
            }
            assert_eq!(run.code, 3, "{command}: {}{}", run.stdout, run.stderr);
            assert!(
                run.stderr.contains(name) && run.stderr.contains("is a named pipe (FIFO)"),
                "{command}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn symlink_to_a_file_outside_the_project_is_refused_without_showing_it() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-CONTENT this is not SQL (\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    std::os::unix::fs::symlink(&secret, dir.path().join("migrations/sqlite/V2__leak.sql")).unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("patches/0003_leak.sql")).unwrap();
    for command in ["status", "migrate", "patch", "setup"] {
        let run = strata(dir.path(), &[command]);
        assert_eq!(run.code, 3, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("V2__leak.sql") || run.stderr.contains("0003_leak.sql"),
            "{command}: {}",
            run.stderr
        );
        assert!(
            !run.stdout.contains("TOP-SECRET") && !run.stderr.contains("TOP-SECRET"),
            "{command} showed the linked file: {}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn symlink_to_a_file_inside_the_project_is_read() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(
        shared.join("villain.sql"),
        "CREATE TABLE villain (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "../../shared/villain.sql",
        dir.path().join("migrations/sqlite/V2__villain.sql"),
    )
    .unwrap();
    strata_ok(dir.path(), &["hash"]);
    strata_ok(dir.path(), &["migrate"]);
    assert_eq!(
        sqlite_strings(
            &dir.path().join("database.db"),
            "SELECT name FROM sqlite_schema WHERE name = 'villain'"
        ),
        ["villain"]
    );
}

// --- byte-order marks ----------------------------------------------------------

fn a_bom_prefixed_migration_and_patches_apply(kind: Kind) {
    let (dir, db) = set_up(kind);
    let bom = "\u{FEFF}";
    std::fs::write(
        dir.path()
            .join("migrations")
            .join(dialect(kind))
            .join("V2__sidekick.sql"),
        format!("{bom}CREATE TABLE sidekick (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"),
    )
    .unwrap();
    strata::migrate::integrity::rehash(&dir.path().join("migrations").join(dialect(kind))).unwrap();
    std::fs::write(
        dir.path().join("patches/0003_sidekicks.sql"),
        format!("{bom}-- Sidekicks\nINSERT INTO sidekick (id, name) VALUES (1, 'Robin');\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("patches/0004_more.toml"),
        format!("{bom}description = \"More\"\n[[insert]]\ntable = \"sidekick\"\nrows = [{{ id = 2, name = \"Bucky\" }}]\n"),
    )
    .unwrap();
    let run = db.strata_ok(dir.path(), &["setup"]);
    assert!(
        run.stdout.contains("applied V2__sidekick"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0003_sidekicks: Sidekicks"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows("SELECT id, name FROM sidekick ORDER BY id"),
        ["1|Robin", "2|Bucky"]
    );
    let status = db.strata_ok(dir.path(), &["status"]);
    assert!(
        status.stdout.contains("applied   V2__sidekick"),
        "{}",
        status.stdout
    );
    assert!(!status.stdout.contains("CHANGED"), "{}", status.stdout);
}

// --- .sql patches: rows changed -------------------------------------------------

fn sql_patch_records_the_rows_it_changed(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    std::fs::write(
        dir.path().join("patches/0003_ages.sql"),
        "-- Ages and a new team\n\
         UPDATE hero SET age = 30;\n\
         INSERT INTO team (name, headquarters) VALUES ('Avengers', 'Tower'), ('X', 'Mansion');\n\
         SELECT * FROM hero;\n\
         DELETE FROM team WHERE name = 'X';\n",
    )
    .unwrap();
    let run = db.strata_ok(dir.path(), &["patch"]);
    // 3 heroes updated + 2 teams inserted + 1 deleted; the SELECT changes nothing.
    assert!(run.stdout.contains("6 rows changed"), "{}", run.stdout);
    assert_eq!(
        db.rows("SELECT rows_changed FROM strata_patch_history WHERE name = '0003_ages'"),
        ["6"]
    );
}

// --- NUL characters -------------------------------------------------------------

fn nul_character_in_a_patch_value_is_refused_before_running(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    let before = db.snapshot();
    std::fs::write(
        dir.path().join("patches/0003_nul.toml"),
        "[[insert]]\ntable = \"team\"\nrows = [\n  { name = \"Fine\", headquarters = \"Here\" },\n  { name = \"Bad\\u0000Name\", headquarters = \"There\" },\n]\n",
    )
    .unwrap();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("the string contains a NUL character")
            && run.stderr.contains("0003_nul.toml:5:12"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

// --- the database's own failures exit 1 ------------------------------------------

/// As root, file permissions are not enforced, so the read-only test runs strata
/// as `nobody` (setpriv) on a file only root may write.
#[test]
fn migrate_on_a_read_only_sqlite_database_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let database = dir.path().join("database.db");
    rusqlite::Connection::open(&database)
        .unwrap()
        .execute_batch("CREATE TABLE unrelated (id INTEGER);")
        .unwrap();
    let lock = dir.path().join("database.db.strata-lock");
    std::fs::write(&lock, "").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = sqlite_snapshot(&database);

    let binary = assert_cmd::cargo::cargo_bin("strata");
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap();
    let mut command = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary);
        c
    } else {
        std::process::Command::new(&binary)
    };
    let output = command
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("V1__create_team_and_hero.sql failed")
            && stderr.contains("readonly database")
            && stderr.contains("rolled back"),
        "{stderr}"
    );
    assert_eq!(sqlite_snapshot(&database), before);
}

/// A full disk, made honestly without root tricks: the file-size limit
/// (`ulimit -f`) stops the database file from growing, as a full disk would.
#[test]
fn patch_on_a_full_disk_exits_1_and_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    std::fs::remove_dir_all(dir.path().join("patches")).unwrap();
    std::fs::create_dir(dir.path().join("patches")).unwrap();
    strata_ok(dir.path(), &["migrate"]);
    let mut patch = String::from("[[insert]]\ntable = \"team\"\nrows = [\n");
    for i in 0..5000 {
        patch.push_str(&format!(
            "  {{ name = \"T{i}\", headquarters = \"{}\" }},\n",
            "x".repeat(1000)
        ));
    }
    patch.push_str("]\n");
    std::fs::write(dir.path().join("patches/0001_big.toml"), patch).unwrap();
    let database = dir.path().join("database.db");
    let blocks = std::fs::metadata(&database).unwrap().len() / 1024;
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f {blocks}; trap '' XFSZ; exec \"$0\" patch"
        ))
        .arg(&binary)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("patch 0001_big failed") && stderr.contains("rolled back"),
        "{stderr}"
    );
    assert_eq!(
        sqlite_strings(&database, "SELECT count(*) FROM team"),
        ["0"]
    );
}

// --- big inserts in chunks --------------------------------------------------------

/// Rows: more than the 20 shown one by one plus two full chunks of 1,000.
const MANY: usize = 2_345;

fn many_heroes_patch(last_team_id: Option<i64>) -> String {
    let mut text =
        String::from("description = \"Many heroes\"\n[[insert]]\ntable = \"hero\"\nrows = [\n");
    for i in 1..=MANY {
        let team = if i % 3 == 0 {
            "{ ref = { name = \"Preventers\" } }".to_string()
        } else if i % 3 == 1 {
            "{ ref = { name = \"Z-Force\" } }".to_string()
        } else {
            "{ null = true }".to_string()
        };
        let team = match last_team_id {
            Some(id) if i == MANY => id.to_string(),
            _ => team,
        };
        text.push_str(&format!(
            "  {{ name = \"Hero {i}\", secret_name = \"It's {i}\", age = {}, team_id = {team} }},\n",
            i % 90
        ));
    }
    text.push_str("]\n");
    text
}

fn multi_chunk_insert_inserts_every_row_with_refs_and_counts(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    std::fs::write(
        dir.path().join("patches/0003_many.toml"),
        many_heroes_patch(None),
    )
    .unwrap();
    let run = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        run.stdout.contains("hero id=4 \"Hero 1\": inserted name = \"Hero 1\", secret_name = \"It's 1\", age = 1, team_id = 2 (team \"Z-Force\")"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("and {} rows more", MANY - 20)),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("{MANY} rows changed")),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows("SELECT rows_changed FROM strata_patch_history WHERE name = '0003_many'"),
        [MANY.to_string()]
    );
    // Every row, with its values and resolved refs, in file order.
    let expected: Vec<String> = (1..=MANY)
        .map(|i| {
            let team = match i % 3 {
                0 => "Preventers",
                1 => "Z-Force",
                _ => "null",
            };
            format!("{}|Hero {i}|It's {i}|{}|{team}", i + 3, i % 90)
        })
        .collect();
    let rows = db.rows(
        "SELECT hero.id, hero.name, hero.secret_name, hero.age, coalesce(team.name, 'null') \
         FROM hero LEFT JOIN team ON team.id = hero.team_id WHERE hero.id > 3 ORDER BY hero.id",
    );
    assert_eq!(rows.len(), MANY);
    assert!(
        rows == expected,
        "first difference: {:?}",
        rows.iter().zip(&expected).find(|(a, b)| a != b)
    );
}

fn failure_in_the_last_chunk_leaves_the_table_unchanged(kind: Kind) {
    let (dir, db) = set_up(kind);
    db.strata_ok(dir.path(), &["setup"]);
    let before = db.snapshot();
    // The last row names a team that does not exist: the foreign key fails in
    // the last chunk, after two chunks went in.
    std::fs::write(
        dir.path().join("patches/0003_many.toml"),
        many_heroes_patch(Some(999)),
    )
    .unwrap();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 4, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("patch 0003_many failed at")
            && run.stderr.contains("0003_many.toml:2:1")
            && run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

/// PostgreSQL's honest read-only database: `default_transaction_read_only`.
/// A migration or patch stopped by it is the database's fault: exit 1, not 4.
#[test]
fn migrate_and_patch_on_a_read_only_postgres_database_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let db = Backend::new(Kind::Postgres, dir.path());
    db.strata_ok(dir.path(), &["setup"]);
    let Backend::Postgres(database) = &db else {
        unreachable!()
    };
    database.execute(&format!(
        "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
        database.name
    ));
    let before = db.snapshot();
    std::fs::write(
        dir.path().join("patches/0003_more.toml"),
        "[[insert]]\ntable = \"team\"\nrows = [{ name = \"X\", headquarters = \"Y\" }]\n",
    )
    .unwrap();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("patch 0003_more failed")
            && run.stderr.contains("read-only transaction")
            && run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(dir.path().join("patches/0003_more.toml")).unwrap();
    std::fs::write(
        dir.path().join("migrations/postgres/V2__villain.sql"),
        "CREATE TABLE villain (id INTEGER PRIMARY KEY);\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&dir.path().join("migrations/postgres")).unwrap();
    let run = db.strata(dir.path(), &["migrate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("V2__villain.sql failed")
            && run.stderr.contains("read-only transaction")
            && run.stderr.contains("rolled back"),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}
