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
                .contains("in this run, so it was removed: nothing is left"),
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
        run.stderr.contains("drops table sidekick"),
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
        run.stderr.contains("drops column hero.sidekick") && !run.stderr.contains("drops table"),
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

/// PostgreSQL databases a template test makes beside its own, dropped at the end.
struct DropAfter {
    names: Vec<String>,
}

impl Drop for DropAfter {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&pg_server_url(), postgres::NoTls) {
            for name in &self.names {
                // Two statements: DROP DATABASE cannot run inside a transaction block.
                let _ =
                    admin.batch_execute(&format!("ALTER DATABASE \"{name}\" IS_TEMPLATE false"));
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// A project on `kind`, the URL `strata` is given, and what a clone called
/// `name` is (its URL, and the argument `strata clone` takes).
struct TemplateCase {
    dir: tempfile::TempDir,
    base: Option<PgDatabase>,
    _drop: DropAfter,
}

impl TemplateCase {
    fn new(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_example_project(dir.path());
        let base = matches!(kind, Kind::Postgres).then(PgDatabase::named);
        let names = match &base {
            Some(base) => ["_template", "_c1", "_c2", "_c3"]
                .iter()
                .map(|suffix| format!("{}{suffix}", base.name))
                .collect(),
            None => Vec::new(),
        };
        TemplateCase {
            dir,
            base,
            _drop: DropAfter { names },
        }
    }

    fn project(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn strata(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        if let Some(base) = &self.base {
            all.extend(["--database-url", base.url.as_str()]);
        }
        strata(self.project(), &all)
    }

    fn strata_ok(&self, args: &[&str]) -> Run {
        let run = self.strata(args);
        assert_eq!(run.code, 0, "{args:?}:\n{}\n{}", run.stdout, run.stderr);
        run
    }

    /// The name `strata clone` takes for clone `n`.
    fn clone_name(&self, n: usize) -> String {
        match &self.base {
            Some(base) => format!("{}_c{n}", base.name),
            None => format!("clone{n}.db"),
        }
    }

    fn clone_rows(&self, n: usize, sql: &str) -> Vec<String> {
        match &self.base {
            Some(base) => {
                let url = base.url.replace(&base.name, &self.clone_name(n));
                let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                client_rows(&mut client, sql)
            }
            None => sqlite_strings(&self.project().join(self.clone_name(n)), sql),
        }
    }

    fn clone_execute(&self, n: usize, sql: &str) {
        match &self.base {
            Some(base) => {
                let url = base.url.replace(&base.name, &self.clone_name(n));
                postgres::Client::connect(&url, postgres::NoTls)
                    .unwrap()
                    .batch_execute(sql)
                    .unwrap()
            }
            None => rusqlite::Connection::open(self.project().join(self.clone_name(n)))
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
        }
    }
}

const SPIDER_BOY: &str = "SELECT team.name FROM hero JOIN team ON team.id = hero.team_id \
                          WHERE hero.name = 'Spider-Boy'";

fn clone_has_the_migrated_and_patched_data(kind: Kind) {
    let case = TemplateCase::new(kind);
    let run = case.strata_ok(&["setup", "--template"]);
    assert!(run.stdout.contains("Built the template"), "{}", run.stdout);
    let run = case.strata_ok(&["setup", "--template"]);
    assert!(run.stdout.contains("is up to date"), "{}", run.stdout);

    let run = case.strata_ok(&["clone", &case.clone_name(1)]);
    assert!(run.stdout.contains("Cloned"), "{}", run.stdout);
    assert_eq!(case.clone_rows(1, SPIDER_BOY), vec!["Preventers"]);
    // The history came along: the clone is up to date.
    assert_eq!(
        case.clone_rows(1, "SELECT count(*) FROM refinery_schema_history"),
        vec!["1"]
    );
    // An existing database is never overwritten.
    let run = case.strata(&["clone", &case.clone_name(1)]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
}

#[test]
fn a_sqlite_clone_has_the_migrated_and_patched_data() {
    clone_has_the_migrated_and_patched_data(Kind::Sqlite);
}

#[test]
fn a_postgres_clone_has_the_migrated_and_patched_data() {
    clone_has_the_migrated_and_patched_data(Kind::Postgres);
}

fn template_is_rebuilt_when_migrations_or_patches_change(kind: Kind) {
    let case = TemplateCase::new(kind);
    case.strata_ok(&["setup", "--template"]);
    let sidekick = "CREATE TABLE sidekick (id INTEGER PRIMARY KEY, name TEXT);\n";
    add_migration(case.project(), "sqlite", "V2__sidekick.sql", sidekick);
    add_migration(case.project(), "postgres", "V2__sidekick.sql", sidekick);
    // `clone` notices by itself.
    let run = case.strata_ok(&["clone", &case.clone_name(1)]);
    assert!(run.stdout.contains("Built the template"), "{}", run.stdout);
    assert_eq!(
        case.clone_rows(1, "SELECT count(*) FROM sidekick"),
        vec!["0"]
    );

    std::fs::write(
        case.project().join("patches/0003_sidekick.toml"),
        "[[insert]]\ntable = \"sidekick\"\nrows = [{ id = 1, name = \"Dormammu\" }]\n",
    )
    .unwrap();
    let run = case.strata_ok(&["setup", "--template"]);
    assert!(run.stdout.contains("Built the template"), "{}", run.stdout);
    case.strata_ok(&["clone", &case.clone_name(2)]);
    assert_eq!(
        case.clone_rows(2, "SELECT name FROM sidekick"),
        vec!["Dormammu"]
    );
    assert_eq!(case.clone_rows(2, SPIDER_BOY), vec!["Preventers"]);
    if case.base.is_none() {
        // The template of the old key is gone; one file is left.
        let templates = std::fs::read_dir(case.project().join(".strata/cache"))
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name().into_string().unwrap();
                name.starts_with("template-") && name.ends_with(".db")
            })
            .count();
        assert_eq!(templates, 1);
    }
}

#[test]
fn a_sqlite_template_is_rebuilt_when_migrations_or_patches_change() {
    template_is_rebuilt_when_migrations_or_patches_change(Kind::Sqlite);
}

#[test]
fn a_postgres_template_is_rebuilt_when_migrations_or_patches_change() {
    template_is_rebuilt_when_migrations_or_patches_change(Kind::Postgres);
}

fn clones_are_independent(kind: Kind) {
    let case = TemplateCase::new(kind);
    case.strata_ok(&["clone", &case.clone_name(1)]);
    case.strata_ok(&["clone", &case.clone_name(2)]);
    case.clone_execute(
        1,
        "UPDATE hero SET team_id = (SELECT id FROM team WHERE name = 'Z-Force') \
         WHERE name = 'Spider-Boy'",
    );
    assert_eq!(case.clone_rows(1, SPIDER_BOY), vec!["Z-Force"]);
    assert_eq!(case.clone_rows(2, SPIDER_BOY), vec!["Preventers"]);
    // The template did not change either.
    case.strata_ok(&["clone", &case.clone_name(3)]);
    assert_eq!(case.clone_rows(3, SPIDER_BOY), vec!["Preventers"]);
}

#[test]
fn sqlite_clones_are_independent() {
    clones_are_independent(Kind::Sqlite);
}

#[test]
fn postgres_clones_are_independent() {
    clones_are_independent(Kind::Postgres);
}

/// The library helper test suites call, once per test.
#[test]
fn clone_database_gives_each_test_its_own_database() {
    let case = TemplateCase::new(Kind::Postgres);
    let project = strata::project::Project::new(case.project());
    let base = case.base.as_ref().unwrap();
    let parse =
        |text: &str| strata::driver::DatabaseUrl::parse(text, std::path::Path::new(".")).unwrap();
    let url = parse(&base.url);
    let first =
        strata::migrate::template::clone_database(&project, &url, &case.clone_name(1)).unwrap();
    assert!(first.template.built);
    let second =
        strata::migrate::template::clone_database(&project, &url, &case.clone_name(2)).unwrap();
    assert!(!second.template.built);
    assert_eq!(
        second.url.to_string(),
        parse(&base.url.replace(&base.name, &case.clone_name(2))).to_string()
    );
    assert_eq!(case.clone_rows(2, SPIDER_BOY), vec!["Preventers"]);

    let sqlite = parse("sqlite::memory:");
    let target = case.project().join("test.db");
    let cloned =
        strata::migrate::template::clone_database(&project, &sqlite, target.to_str().unwrap())
            .unwrap();
    assert_eq!(
        cloned.url.to_string(),
        format!("sqlite:{}", target.display())
    );
    assert_eq!(sqlite_strings(&target, SPIDER_BOY), vec!["Preventers"]);
}
