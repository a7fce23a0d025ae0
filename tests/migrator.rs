//! `strata::Migrator`, the library API an application calls at start-up:
//! embedded and folder migrations, its typed results and errors, the start-up
//! example, and many instances starting at once.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use strata::{Error, FindingKind, Migrator, State};

/// examples/startup, built by `cargo build --examples` (ci/test does it first:
/// `cargo test` builds examples only in test mode).
fn startup_example() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_strata"))
        .parent()
        .unwrap()
        .join("examples/startup");
    assert!(
        path.exists(),
        "{} is not built: run `cargo build --example startup` first (ci/test does)",
        path.display()
    );
    path
}

fn run_startup(url: &str, in_dir: &Path) -> Output {
    Command::new(startup_example())
        .arg(url)
        .current_dir(in_dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const HEROES: &str = "SELECT hero.name, team.name FROM hero LEFT JOIN team ON team.id = hero.team_id ORDER BY hero.name";

fn tutorial_rows() -> Vec<String> {
    vec![
        "Deadpond|Z-Force".to_string(),
        "Rusty-Man|Preventers".to_string(),
        "Spider-Boy|Preventers".to_string(),
    ]
}

fn the_startup_example_migrates_and_patches_the_tutorial_database(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::new(kind, dir.path());
    let first = run_startup(&backend.url(), dir.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(
        text(&first.stdout),
        format!(
            "applied migration V1__create_team_and_hero\n\
             applied patch 0001_heroes_and_teams (5 rows changed)\n\
             applied patch 0002_spider_boy_joins_preventers (1 rows changed)\n\
             {} is at V1, up to date\n",
            backend.url()
        )
    );
    assert_eq!(backend.rows(HEROES), tutorial_rows());
    // Restarting the application changes nothing.
    let again = run_startup(&backend.url(), dir.path());
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!("{} is at V1, up to date\n", backend.url())
    );
    assert_eq!(backend.rows(HEROES), tutorial_rows());
}

#[test]
fn the_startup_example_defaults_to_a_sqlite_file_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let run = Command::new(startup_example())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(
        sqlite_strings(&dir.path().join("heroes.db"), HEROES),
        tutorial_rows()
    );
}

/// Eight application instances start at once against one database: every
/// migration and patch is applied exactly once, and none of them fails.
fn eight_instances_starting_at_once_apply_everything_exactly_once(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::new(kind, dir.path());
    let url = backend.url();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(startup_example())
                .arg(&url)
                .current_dir(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut stdout = String::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "an instance failed: {}",
            text(&output.stderr)
        );
        stdout.push_str(&text(&output.stdout));
    }
    // Between them, the instances report each migration and patch once.
    let count = |line: &str| stdout.lines().filter(|l| l.starts_with(line)).count();
    assert_eq!(count("applied migration V1__"), 1, "{stdout}");
    assert_eq!(count("applied patch 0001_"), 1, "{stdout}");
    assert_eq!(count("applied patch 0002_"), 1, "{stdout}");
    assert_eq!(count(&format!("{url} is at V1, up to date")), 8, "{stdout}");
    // And the database's own history agrees.
    assert_eq!(
        backend.rows("SELECT version, name FROM refinery_schema_history ORDER BY version"),
        ["1|create_team_and_hero"]
    );
    assert_eq!(
        backend.rows("SELECT name FROM strata_patch_history ORDER BY name"),
        ["0001_heroes_and_teams", "0002_spider_boy_joins_preventers"]
    );
    assert_eq!(backend.rows(HEROES), tutorial_rows());
}

on_both_databases!(
    the_startup_example_migrates_and_patches_the_tutorial_database,
    eight_instances_starting_at_once_apply_everything_exactly_once,
    a_folder_migrator_reports_status_migrates_patches_and_checks,
);

fn a_folder_migrator_reports_status_migrates_patches_and_checks(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    let url = backend.url();
    let migrator = Migrator::from_folder(dir.path()).unwrap();

    let before = migrator.status(&url).unwrap();
    assert_eq!(before.version, None);
    assert_eq!(before.migrations.len(), 1);
    assert_eq!(before.migrations[0].state, State::Pending);
    assert_eq!(before.pending_patches().count(), 2);
    assert!(!before.is_up_to_date());

    // Patches are written against the migrated schema.
    match migrator.patch(&url) {
        Err(Error::Refused(message)) => assert!(
            message.contains("V1__create_team_and_hero") && message.contains("migrate first"),
            "{message}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }

    let migrated = migrator.migrate(&url).unwrap();
    assert_eq!(migrated.version, Some(1));
    assert_eq!(
        migrated
            .applied
            .iter()
            .map(|m| (m.version, m.name.as_str()))
            .collect::<Vec<_>>(),
        [(1, "create_team_and_hero")]
    );
    let patched = migrator.patch(&url).unwrap();
    assert_eq!(
        patched
            .applied
            .iter()
            .map(|p| (p.name.as_str(), p.rows_changed))
            .collect::<Vec<_>>(),
        [
            ("0001_heroes_and_teams", 5),
            ("0002_spider_boy_joins_preventers", 1)
        ]
    );
    assert_eq!(backend.rows(HEROES), tutorial_rows());
    assert!(migrator.status(&url).unwrap().is_up_to_date());
    assert!(migrator.migrate(&url).unwrap().applied.is_empty());
    assert!(migrator.patch(&url).unwrap().applied.is_empty());
    let checked = migrator.check(&url).unwrap();
    assert!(checked.is_clean(), "{:?}", checked.findings);

    // A column added behind strata's back is drift, named in the finding.
    backend.execute("ALTER TABLE hero ADD COLUMN nickname TEXT");
    let checked = migrator.check(&url).unwrap();
    let drift: Vec<_> = checked.of_kind(FindingKind::Drift).collect();
    assert_eq!(drift.len(), 1, "{:?}", checked.findings);
    assert!(
        drift[0].message.contains("nickname"),
        "{}",
        drift[0].message
    );
}

#[test]
fn embedded_migrations_are_checked_against_their_integrity_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    // V1 there was edited after `strata hash`.
    let migrator = strata::embed_migrations!("$CARGO_MANIFEST_DIR/tests/embedded_tampered");
    match migrator.migrate(&url) {
        Err(error @ Error::Refused(_)) => {
            let message = error.to_string();
            assert!(
                message.starts_with("migrations/sqlite: nothing was applied:")
                    && message.contains(
                        "V1__create_team_and_hero.sql was edited after it was generated or hashed"
                    ),
                "{message}"
            );
            assert_eq!(error.exit_code(), 5);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Nothing reached the database.
    assert!(sqlite_strings(
        &dir.path().join("app.db"),
        "SELECT name FROM sqlite_master WHERE name = 'hero'"
    )
    .is_empty());
}

#[test]
fn embedded_migrations_without_patches_migrate_and_report_no_patches() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("app.db").display());
    let migrator = strata::embed_migrations!("$CARGO_MANIFEST_DIR/migrations");
    assert_eq!(migrator.migrate(&url).unwrap().version, Some(1));
    let status = migrator.status(&url).unwrap();
    assert!(status.exists && status.patches.is_empty() && status.is_up_to_date());
    assert!(migrator.patch(&url).unwrap().applied.is_empty());
}

#[test]
fn status_never_creates_a_missing_database_and_check_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.db");
    let url = format!("sqlite:{}", path.display());
    let migrator = strata::embed_migrations!("$CARGO_MANIFEST_DIR/migrations");
    let status = migrator.status(&url).unwrap();
    assert!(!status.exists);
    assert_eq!(status.pending_migrations().count(), 1);
    match migrator.check(&url) {
        Err(Error::Usage(message)) => assert!(message.contains("does not exist"), "{message}"),
        other => panic!("expected a usage error, got {other:?}"),
    }
    assert!(!path.exists());
}

#[test]
fn a_folder_without_schema_toml_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    match Migrator::from_folder(dir.path()) {
        Err(Error::Usage(message)) => assert!(message.contains("schema.toml"), "{message}"),
        other => panic!("expected a usage error, got {other:?}"),
    }
}
