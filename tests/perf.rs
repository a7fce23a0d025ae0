//! The fast paths of issue #15: a new SQLite database migrated in one transaction,
//! the cached replay of `generate`/`check`, and template databases with clones.

mod common;

use common::*;

/// Writes a hand-made migration and records it in the integrity file, as
/// `strata hash` does.
fn add_migration(project: &std::path::Path, dialect: &str, file: &str, sql: &str) {
    let folder = project.join("migrations").join(dialect);
    std::fs::write(folder.join(file), sql).unwrap();
    strata::migrate::integrity::rehash(&folder).unwrap();
}

#[test]
fn a_failed_setup_of_a_new_sqlite_file_leaves_no_database_behind() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    add_migration(
        project,
        "sqlite",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "INSERT INTO nowhere VALUES (1);\n",
    );
    let run = strata(project, &["setup"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("V3__broken.sql failed: no such table: nowhere")
            && run
                .stderr
                .contains("nothing was applied and the database file was removed"),
        "{}",
        run.stderr
    );
    assert!(!project.join("database.db").exists());
    assert!(!project.join("database.db-journal").exists());

    // Fixed, the same setup builds everything.
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "CREATE TABLE nowhere (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    );
    strata_ok(project, &["setup"]);
    let db = project.join("database.db");
    assert_eq!(
        sqlite_strings(
            &db,
            "SELECT version, name FROM refinery_schema_history ORDER BY version"
        ),
        vec!["1|create_team_and_hero", "2|sidekick", "3|broken"]
    );
    assert_eq!(
        sqlite_strings(
            &db,
            "SELECT team.name FROM hero JOIN team ON team.id = hero.team_id WHERE hero.name = 'Spider-Boy'"
        ),
        vec!["Preventers"]
    );
}

#[test]
fn an_existing_sqlite_database_keeps_one_transaction_per_migration() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    strata_ok(project, &["migrate"]);
    add_migration(
        project,
        "sqlite",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    add_migration(
        project,
        "sqlite",
        "V3__broken.sql",
        "INSERT INTO nowhere VALUES (1);\n",
    );
    let run = strata(project, &["migrate"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "V3__broken.sql was rolled back; the database is as it was before it (at V2)"
        ),
        "{}",
        run.stderr
    );
    let db = project.join("database.db");
    assert_eq!(
        sqlite_strings(
            &db,
            "SELECT version FROM refinery_schema_history ORDER BY version"
        ),
        vec!["1", "2"]
    );
}

const AGREE: &str = "schema and migrations agree";
const UNREACHABLE: &str = "postgres://nobody@127.0.0.1:1/nowhere?connect_timeout=2";

fn cache_file(project: &std::path::Path, dialect: &str) -> std::path::PathBuf {
    project
        .join(".strata/cache")
        .join(format!("replay-{dialect}.json"))
}

fn scripts(project: &std::path::Path, dialect: &str) -> Vec<strata::driver::MigrationScript> {
    strata::migrate::load_migrations(&project.join("migrations").join(dialect)).unwrap()
}

#[test]
fn a_cache_hit_generates_without_touching_the_dev_server() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let server = pg_server_url();
    let run = strata_ok(project, &["generate", "nothing", "--dev-url", &server]);
    assert!(run.stdout.contains(AGREE), "{}", run.stdout);
    assert!(cache_file(project, "postgres").is_file());
    assert!(cache_file(project, "sqlite").is_file());
    assert_eq!(
        std::fs::read_to_string(project.join(".strata/cache/.gitignore"))
            .unwrap()
            .lines()
            .last(),
        Some("*")
    );

    // Nothing changed: the replay comes from the cache, the server is never asked.
    let run = strata_ok(project, &["generate", "nothing", "--dev-url", UNREACHABLE]);
    assert!(run.stdout.contains(AGREE), "{}", run.stdout);

    // A miss must replay, so the unreachable server is an error again.
    add_migration(
        project,
        "postgres",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    add_migration(
        project,
        "sqlite",
        "V2__sidekick.sql",
        "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n",
    );
    let run = strata(project, &["generate", "nothing", "--dev-url", UNREACHABLE]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stderr.contains("127.0.0.1"), "{}", run.stderr);
}

/// What `generate` sees after each kind of change to the migrations: never the
/// schema cached for the files as they were.
#[test]
fn every_kind_of_migration_change_misses_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    let generate = |project: &std::path::Path| strata(project, &["generate", "next"]);
    assert!(generate(project).stdout.contains(AGREE));

    // Added: a table schema.toml does not declare, so generate wants to drop it.
    let sidekick = "CREATE TABLE sidekick (id INTEGER PRIMARY KEY);\n";
    add_migration(project, "sqlite", "V2__sidekick.sql", sidekick);
    add_migration(project, "postgres", "V2__sidekick.sql", sidekick);
    let run = generate(project);
    assert!(
        run.stderr.contains("drop table sidekick"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );

    // Edited: the sidekick becomes a column of hero instead.
    let column = "ALTER TABLE hero ADD COLUMN sidekick TEXT;\n";
    add_migration(project, "sqlite", "V2__sidekick.sql", column);
    add_migration(project, "postgres", "V2__sidekick.sql", column);
    let run = generate(project);
    assert!(
        run.stderr.contains("drop column hero.sidekick") && !run.stderr.contains("drop table"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );

    // Removed: back to what schema.toml declares.
    for dialect in ["sqlite", "postgres"] {
        let folder = project.join("migrations").join(dialect);
        std::fs::remove_file(folder.join("V2__sidekick.sql")).unwrap();
        strata::migrate::integrity::rehash(&folder).unwrap();
    }
    assert!(generate(project).stdout.contains(AGREE));

    // Renamed (same text, same schema): still a different key.
    let before = scripts(project, "sqlite");
    let cache = strata::migrate::replay_cache::ReplayCache::new(
        &strata::project::Project::new(project),
        "sqlite",
        &before,
    );
    assert!(cache.load().is_some());
    let mut renamed = before.clone();
    renamed[0].name = "create_teams_and_heroes".into();
    let renamed_cache = strata::migrate::replay_cache::ReplayCache::new(
        &strata::project::Project::new(project),
        "sqlite",
        &renamed,
    );
    assert!(renamed_cache.load().is_none());
    let mut renumbered = before.clone();
    renumbered[0].version = 2;
    assert!(strata::migrate::replay_cache::ReplayCache::new(
        &strata::project::Project::new(project),
        "sqlite",
        &renumbered,
    )
    .load()
    .is_none());
}

#[test]
fn a_corrupt_cache_is_ignored_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_example_project(project);
    assert!(strata_ok(project, &["generate", "next"])
        .stdout
        .contains(AGREE));
    let path = cache_file(project, "sqlite");
    let good = std::fs::read_to_string(&path).unwrap();
    assert!(good.contains("\"hero\""));
    let (header, body) = good.split_once('\n').unwrap();
    let damaged = [
        // Truncated mid-write.
        good[..good.len() / 2].to_string(),
        // A plausible schema without hero, under the old checksum: trusting it
        // would make generate create hero again.
        format!("{header}\n{}", body.replace("\"hero\"", "\"villain\"")),
        // Another format's header.
        format!("strata-replay-cache 0 sha256:x\n{body}"),
        // Not text at all.
        "\u{0}\u{1}garbage".to_string(),
        String::new(),
    ];
    for text in damaged {
        std::fs::write(&path, &text).unwrap();
        let run = strata_ok(project, &["generate", "next"]);
        assert!(run.stdout.contains(AGREE), "{text:?}: {}", run.stdout);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good, "{text:?}");
    }
}
