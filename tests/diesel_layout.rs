//! Diesel projects (`[project] layout = "diesel"`): strata generates Diesel's
//! layout, a Diesel application (tests/diesel-app) embeds those migrations with
//! `embed_migrations!` and runs them, and strata and the application see the
//! same history (`__diesel_schema_migrations`) and build the same schema.
//! `strata convert` moves a project and its database's history between layouts.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};

use common::*;

/// The Diesel application's project: schema.toml and the migrations it embeds.
fn app_project() -> PathBuf {
    repo_root().join("tests/diesel-app/project")
}

/// A copy of the application's project in a folder of its own.
fn copy_of_app_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        app_project().join("schema.toml"),
        dir.path().join("schema.toml"),
    )
    .unwrap();
    copy_dir(
        &app_project().join("migrations"),
        &dir.path().join("migrations"),
    );
    dir
}

/// The migration folders of a dialect folder, oldest first.
fn migration_dirs(folder: &Path) -> Vec<String> {
    let mut dirs: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    dirs
}

/// The files of a dialect folder, relative to it, sorted.
fn files_in(folder: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in walk(folder) {
        files.push(
            entry
                .strip_prefix(folder)
                .unwrap()
                .to_string_lossy()
                .into_owned(),
        );
    }
    files.sort();
    files
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The schema as `strata pull` prints it (history tables left out).
fn pulled_schema(backend: &Backend, project: &Path) -> String {
    backend.strata_ok(project, &["pull"]).stdout
}

#[test]
fn strata_generate_writes_the_migrations_the_application_embeds() {
    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(
        app_project().join("schema.toml"),
        fresh.path().join("schema.toml"),
    )
    .unwrap();
    let run = strata_ok(fresh.path(), &["generate", "create_team_and_hero"]);
    for dialect in ["sqlite", "postgres"] {
        let committed = app_project().join("migrations").join(dialect);
        let generated = fresh.path().join("migrations").join(dialect);
        let [committed_dir] = migration_dirs(&committed).try_into().unwrap();
        let [generated_dir] = migration_dirs(&generated).try_into().unwrap();
        // Diesel's version: the timestamp diesel CLI writes, YYYY-MM-DD-HHMMSS.
        let (version, name) = generated_dir.split_once('_').unwrap();
        assert_eq!(name, "create_team_and_hero");
        assert_eq!(version.len(), "2026-11-25-230000".len(), "{version}");
        assert!(
            run.stdout.contains(&format!(
                "Wrote ./migrations/{dialect}/{generated_dir}/up.sql"
            )),
            "{}",
            run.stdout
        );
        // The same files with the same text, the version (a timestamp) aside.
        let same_version = |text: String| text.replace(&generated_dir, &committed_dir);
        let expected = files_in(&committed);
        assert_eq!(
            files_in(&generated)
                .into_iter()
                .map(same_version)
                .collect::<Vec<_>>(),
            expected
        );
        assert!(expected.contains(&format!("{committed_dir}/down.sql")));
        for file in expected.iter().filter(|file| file.ends_with(".sql")) {
            let text = std::fs::read_to_string(
                generated.join(file.replace(&committed_dir, &generated_dir)),
            )
            .unwrap();
            assert_eq!(
                same_version(text),
                std::fs::read_to_string(committed.join(file)).unwrap(),
                "{dialect}/{file}"
            );
        }
    }
    // The committed migrations are intact (strata.sum) and agree with schema.toml.
    let committed = copy_of_app_project();
    let check = strata_ok(committed.path(), &["check"]);
    assert!(
        check
            .stdout
            .contains("schema.toml and the migrations agree"),
        "{}",
        check.stdout
    );
}

/// The application migrates an empty database with its embedded migrations and
/// moves Spider-Boy to the Preventers; strata sees everything applied, applies
/// nothing more, and builds the same schema on a database of its own.
fn application_and_strata_share_history_and_schema(kind: Kind) {
    let project = copy_of_app_project();
    let app_database = Backend::new(kind, project.path());
    let outcome = diesel_app::run(&app_database.url()).unwrap();
    let dialect = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    let [dir] = migration_dirs(&project.path().join("migrations").join(dialect))
        .try_into()
        .unwrap();
    let version = dir.split_once('_').unwrap().0.replace('-', "");
    assert_eq!(outcome.applied, vec![version.clone()]);
    assert_eq!(
        outcome.heroes,
        [
            "Deadpond|Z-Force",
            "Rusty-Man|Preventers",
            "Spider-Boy|Preventers"
        ]
    );
    assert_eq!(
        app_database.rows(
            "SELECT hero.name, hero.secret_name, team.headquarters FROM hero \
             JOIN team ON team.id = hero.team_id WHERE hero.name = 'Spider-Boy'"
        ),
        ["Spider-Boy|Pedro Parqueador|Sharp Tower"]
    );
    assert_eq!(
        app_database.rows("SELECT version FROM __diesel_schema_migrations"),
        std::slice::from_ref(&version)
    );

    // strata reads Diesel's history: everything applied, nothing to do.
    let status = app_database.strata_ok(project.path(), &["status"]);
    assert!(
        status.stdout.contains(&format!("  applied   {dir}  ")),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("Migrations: 1 applied, 0 pending."),
        "{}",
        status.stdout
    );
    let migrate = app_database.strata_ok(project.path(), &["migrate"]);
    assert!(
        migrate.stdout.contains("nothing to apply"),
        "{}",
        migrate.stdout
    );

    // strata builds the same schema on a database of its own, recording the
    // same history, so the application then applies nothing there.
    let strata_database = match kind {
        Kind::Sqlite => Backend::Sqlite(project.path().join("strata.db")),
        Kind::Postgres => Backend::Postgres(PgDatabase::create()),
    };
    let migrate = strata_database.strata_ok(project.path(), &["migrate"]);
    assert!(
        migrate.stdout.contains(&format!("applied {dir} (")),
        "{}",
        migrate.stdout
    );
    assert_eq!(
        pulled_schema(&strata_database, project.path()),
        pulled_schema(&app_database, project.path())
    );
    assert_eq!(
        strata_database.rows("SELECT version FROM __diesel_schema_migrations"),
        [version]
    );
    let again = diesel_app::run(&strata_database.url()).unwrap();
    assert!(again.applied.is_empty(), "{:?}", again.applied);
    assert_eq!(again.heroes.len(), 3);
}

/// A second migration, a rollback through Diesel's harness, then the project
/// and its history converted to refinery's layout and back, nothing re-run.
fn migrate_rollback_and_convert(kind: Kind) {
    let project = copy_of_app_project();
    let root = project.path();
    let database = Backend::new(kind, root);
    database.strata_ok(root, &["migrate"]);
    database.execute("INSERT INTO team (name, headquarters) VALUES ('Preventers', 'Sharp Tower')");

    let schema = std::fs::read_to_string(root.join("schema.toml")).unwrap();
    std::fs::write(
        root.join("schema.toml"),
        schema.replace(
            "team_id     = {",
            "power       = { type = \"text\", nullable = true }\nteam_id     = {",
        ),
    )
    .unwrap();
    strata_ok(root, &["generate", "add_power"]);
    let dialect = match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    };
    let folder = root.join("migrations").join(dialect);
    let dirs = migration_dirs(&folder);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(dirs[1].ends_with("_add_power"), "{dirs:?}");
    database.strata_ok(root, &["migrate"]);
    let versions = |database: &Backend| {
        database.rows("SELECT version FROM __diesel_schema_migrations ORDER BY version")
    };
    let recorded: Vec<String> = dirs
        .iter()
        .map(|dir| dir.split_once('_').unwrap().0.replace('-', ""))
        .collect();
    assert_eq!(versions(&database), recorded);

    let rollback = database.strata_ok(root, &["rollback"]);
    assert!(
        rollback.stdout.contains("rolled back 1 migration"),
        "{}",
        rollback.stdout
    );
    assert_eq!(versions(&database), recorded[..1]);
    assert!(!pulled_schema(&database, root).contains("power"));
    database.strata_ok(root, &["migrate"]);
    assert!(pulled_schema(&database, root).contains("power"));

    // To refinery's layout: files renamed, history rows moved, nothing re-run.
    let convert = database.strata_ok(root, &["convert", "--to", "refinery"]);
    assert!(
        convert.stdout.contains(
            "moved 2 history rows from __diesel_schema_migrations to refinery_schema_history"
        ),
        "{}",
        convert.stdout
    );
    assert_eq!(
        files_in(&folder),
        [
            "V1__create_team_and_hero.down.sql",
            "V1__create_team_and_hero.sql",
            "V2__add_power.down.sql",
            "V2__add_power.sql",
            "strata.sum"
        ]
    );
    assert_eq!(
        database.rows("SELECT version, name FROM refinery_schema_history ORDER BY version"),
        ["1|create_team_and_hero", "2|add_power"]
    );
    assert!(std::fs::read_to_string(root.join("schema.toml"))
        .unwrap()
        .contains("layout = \"refinery\""));
    let status = database.strata_ok(root, &["status"]);
    assert!(
        status.stdout.contains("Migrations: 2 applied, 0 pending."),
        "{}",
        status.stdout
    );
    strata_ok(root, &["check"]);

    // And back: Diesel's table again, the team row still the only one.
    let convert = database.strata_ok(root, &["convert", "--to", "diesel"]);
    assert!(
        convert.stdout.contains(
            "moved 2 history rows from refinery_schema_history to __diesel_schema_migrations"
        ),
        "{}",
        convert.stdout
    );
    let dirs = migration_dirs(&folder);
    assert_eq!(dirs.len(), 2);
    let recorded: Vec<String> = dirs
        .iter()
        .map(|dir| dir.split_once('_').unwrap().0.replace('-', ""))
        .collect();
    assert_eq!(versions(&database), recorded);
    let status = database.strata_ok(root, &["status"]);
    assert!(
        status.stdout.contains("Migrations: 2 applied, 0 pending."),
        "{}",
        status.stdout
    );
    assert_eq!(database.rows("SELECT count(*) FROM team"), ["1"]);
    strata_ok(root, &["check"]);
}

on_both_databases!(
    application_and_strata_share_history_and_schema,
    migrate_rollback_and_convert
);

/// A refinery history on a Diesel project is refused with the command that
/// converts it, and nothing runs.
#[test]
fn a_refinery_history_on_a_diesel_project_is_refused() {
    let project = copy_of_app_project();
    let root = project.path();
    let database = Backend::new(Kind::Sqlite, root);
    // Built as a refinery project first.
    strata_ok(root, &["convert", "--to", "refinery", "--files-only"]);
    database.strata_ok(root, &["migrate"]);
    strata_ok(root, &["convert", "--to", "diesel", "--files-only"]);
    let run = database.strata(root, &["migrate"]);
    assert_eq!(run.code, 5, "refused: {}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("run `strata convert --to diesel` with this database"),
        "{}",
        run.stderr
    );
    // The files were converted already; converting the history alone works.
    let convert = database.strata_ok(root, &["convert", "--to", "diesel"]);
    assert!(
        convert
            .stdout
            .contains("moved 1 history row from refinery_schema_history"),
        "{}",
        convert.stdout
    );
    let status = database.strata_ok(root, &["status"]);
    assert!(
        status.stdout.contains("Migrations: 1 applied, 0 pending."),
        "{}",
        status.stdout
    );
}

/// A hand-written `-- strata: no-transaction` migration (SQLite's VACUUM cannot
/// run in a transaction) gets Diesel's `metadata.toml` on conversion, and
/// Diesel then runs it outside a transaction.
#[test]
fn a_no_transaction_migration_runs_outside_diesels_transaction() {
    let project = copy_of_app_project();
    let root = project.path();
    strata_ok(root, &["convert", "--to", "refinery"]);
    let folder = root.join("migrations/sqlite");
    std::fs::write(
        folder.join("V2__vacuum.sql"),
        "-- strata: no-transaction\nVACUUM;\n",
    )
    .unwrap();
    std::fs::write(folder.join("V2__vacuum.down.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(
        root.join("migrations/postgres/V2__vacuum.sql"),
        "SELECT 1;\n",
    )
    .unwrap();
    strata_ok(root, &["hash"]);
    strata_ok(root, &["convert", "--to", "diesel"]);
    let dirs = migration_dirs(&folder);
    let metadata = folder.join(&dirs[1]).join("metadata.toml");
    assert_eq!(
        std::fs::read_to_string(&metadata).unwrap(),
        "# Written by strata: this migration starts with `-- strata: no-transaction`.\n\
         run_in_transaction = false\n"
    );
    let database = Backend::new(Kind::Sqlite, root);
    let run = database.strata_ok(root, &["migrate"]);
    assert!(
        run.stdout.contains("applied 2 migrations"),
        "{}",
        run.stdout
    );
    assert_eq!(
        database.rows("SELECT count(*) FROM __diesel_schema_migrations"),
        ["2"]
    );
}

/// `generate` never mixes the layouts in one folder, and says how to move.
#[test]
fn generate_refuses_a_folder_in_the_other_layout() {
    let project = copy_of_app_project();
    let root = project.path();
    let schema = std::fs::read_to_string(root.join("schema.toml")).unwrap();
    std::fs::write(
        root.join("schema.toml"),
        schema
            .replace("layout = \"diesel\"", "layout = \"refinery\"")
            .replace(
                "team_id     = {",
                "power       = { type = \"text\", nullable = true }\nteam_id     = {",
            ),
    )
    .unwrap();
    let run = strata(root, &["generate", "add_power"]);
    assert_eq!(run.code, 5, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "its migrations are in diesel's layout but schema.toml says `[project] layout = \"refinery\"`, so nothing was written; run `strata convert --to refinery`"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(migration_dirs(&root.join("migrations/sqlite")).len(), 1);

    std::fs::write(
        root.join("schema.toml"),
        schema.replace("layout = \"diesel\"", "layout = \"diessel\""),
    )
    .unwrap();
    let run = strata(root, &["generate", "add_power"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("unknown layout `diessel`") && run.stderr.contains("`diesel`"),
        "{}",
        run.stderr
    );
}

/// A SQLite table rebuild (`-- strata: foreign-keys-off`) runs through Diesel
/// with the rows kept and the foreign keys checked, and rolls back.
#[test]
fn a_sqlite_table_rebuild_runs_through_diesel() {
    let project = copy_of_app_project();
    let root = project.path();
    let database = Backend::new(Kind::Sqlite, root);
    database.strata_ok(root, &["migrate"]);
    database.execute(
        "INSERT INTO team (name, headquarters) VALUES ('Preventers', 'Sharp Tower');
         INSERT INTO hero (name, secret_name, team_id) VALUES ('Rusty-Man', 'Tommy Sharp', 1);",
    );
    let schema = std::fs::read_to_string(root.join("schema.toml")).unwrap();
    std::fs::write(
        root.join("schema.toml"),
        schema.replace(
            "headquarters = \"text\"",
            "headquarters = { type = \"text\", nullable = true }",
        ),
    )
    .unwrap();
    strata_ok(root, &["generate", "headquarters_optional"]);
    let folder = root.join("migrations/sqlite");
    let dirs = migration_dirs(&folder);
    let up = std::fs::read_to_string(folder.join(&dirs[1]).join("up.sql")).unwrap();
    assert!(up.starts_with("-- strata: foreign-keys-off\n"), "{up}");
    let run = database.strata_ok(root, &["migrate"]);
    assert!(
        run.stdout.contains(&format!("applied {} (", dirs[1])),
        "{}",
        run.stdout
    );
    assert_eq!(
        database.rows("SELECT hero.name, team.name FROM hero JOIN team ON team.id = hero.team_id"),
        ["Rusty-Man|Preventers"]
    );
    assert!(database.rows("PRAGMA foreign_key_check").is_empty());
    database.execute("INSERT INTO team (name) VALUES ('Z-Force')");
    database.execute("DELETE FROM team WHERE name = 'Z-Force'");
    let run = database.strata_ok(root, &["rollback"]);
    assert!(
        run.stdout.contains(&format!("rolled back {} (", dirs[1])),
        "{}",
        run.stdout
    );
    assert_eq!(database.rows("SELECT count(*) FROM hero"), ["1"]);
}

/// Diesel sends a file as one simple query, which PostgreSQL runs as one implicit
/// transaction: an index on an existing table is generated as plain DDL in a
/// Diesel project (no CONCURRENTLY, no metadata.toml), and runs through the harness.
#[test]
fn an_index_on_an_existing_postgres_table_is_plain_ddl_in_diesel_layout() {
    let project = copy_of_app_project();
    let root = project.path();
    let schema = std::fs::read_to_string(root.join("schema.toml")).unwrap();
    std::fs::write(
        root.join("schema.toml"),
        schema.replace(
            "secret_name = \"text\"",
            "secret_name = { type = \"text\", index = true }",
        ),
    )
    .unwrap();
    strata_ok(root, &["generate", "index_secret_name"]);
    let folder = root.join("migrations/postgres");
    let dirs = migration_dirs(&folder);
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    assert!(dirs[1].ends_with("_index_secret_name"), "{dirs:?}");
    let up = std::fs::read_to_string(folder.join(&dirs[1]).join("up.sql")).unwrap();
    assert!(
        up.contains("CREATE INDEX \"ix_hero_secret_name\" ON \"hero\" (\"secret_name\");")
            && !up.contains("CONCURRENTLY")
            && !up.contains("no-transaction"),
        "{up}"
    );
    assert!(!folder.join(&dirs[1]).join("metadata.toml").exists());
    let database = Backend::new(Kind::Postgres, root);
    database.strata_ok(root, &["setup"]);
    assert_eq!(
        database.rows(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'hero' AND indexname = 'ix_hero_secret_name'"
        ),
        ["ix_hero_secret_name"]
    );
    assert_eq!(
        database.rows("SELECT count(*) FROM __diesel_schema_migrations"),
        ["2"]
    );
}
