//! `generate --dev-url` test-applies the migration it is about to write: on a
//! scratch database of the dev server, on top of the replayed history, so a
//! migration the server rejects fails `generate` with the server's message and
//! nothing is written.

mod common;

use std::path::Path;

use common::*;

const BASE: &str = r#"
[project]
dialects = ["postgres"]

[table.hero.columns]
id   = { type = "integer", primary_key = true }
name = "text"
"#;

fn write_schema(dir: &Path, text: &str) {
    std::fs::write(dir.join("schema.toml"), text).unwrap();
}

/// Every file of migrations/postgres with its text, to show nothing changed.
fn migrations(dir: &Path) -> Vec<(String, String)> {
    let folder = dir.join("migrations/postgres");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// A project whose V1 creates hero, generated with the test server.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_schema(dir.path(), BASE);
    strata_ok(
        dir.path(),
        &["generate", "init", "--dev-url", &pg_server_url()],
    );
    dir
}

/// A default naming a sequence nobody created passes every check strata makes
/// on its own, and PostgreSQL rejects it: generate says so, with the server's
/// message and the file it would have written, and writes nothing. The fixed
/// schema then generates, and the migration applies.
#[test]
fn a_migration_the_server_rejects_is_reported_and_not_written() {
    let dir = project();
    let server = pg_server_url();
    // Generate again once, so that the history's replay is cached: the
    // test-apply must reach the server all the same.
    let nothing = strata_ok(dir.path(), &["generate", "again", "--dev-url", &server]);
    assert!(
        nothing.stdout.contains("nothing to generate"),
        "{}",
        nothing.stdout
    );
    let before = migrations(dir.path());

    write_schema(
        dir.path(),
        &format!(
            "{BASE}ticket = {{ type = \"bigint\", default = {{ sql = \"nextval('missing_seq')\" }} }}\n"
        ),
    );
    let run = strata(dir.path(), &["generate", "ticket", "--dev-url", &server]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "migration migrations/postgres/V2__ticket.sql failed: ERROR: relation \"missing_seq\" does not exist"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the server rejected it, so nothing was written"),
        "{}",
        run.stderr
    );
    assert_eq!(migrations(dir.path()), before);

    // A column the server accepts generates.
    write_schema(
        dir.path(),
        &format!("{BASE}ticket = {{ type = \"bigint\", nullable = true }}\n"),
    );
    let written = strata_ok(dir.path(), &["generate", "ticket", "--dev-url", &server]);
    assert!(
        written.stdout.contains("V2__ticket.sql"),
        "{}",
        written.stdout
    );
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(
        db.rows(
            "SELECT column_name FROM information_schema.columns \
             WHERE table_name = 'hero' ORDER BY ordinal_position"
        ),
        ["id", "name", "ticket"]
    );
}

/// The scratch database holds the rows the history inserted: a unique
/// constraint they break is caught at generate time. An online-safe change
/// (a new index, built CONCURRENTLY outside a transaction, in a second file
/// beside a new column) is test-applied as migrate runs it, and written.
#[test]
fn rows_of_the_history_are_there_and_online_migrations_pass() {
    let dir = project();
    let server = pg_server_url();
    std::fs::write(
        dir.path().join("migrations/postgres/V2__heroes.sql"),
        "INSERT INTO hero (id, name) VALUES (1, 'Deadpond'), (2, 'Deadpond');\n",
    )
    .unwrap();
    strata::migrate::integrity::rehash(&dir.path().join("migrations/postgres")).unwrap();
    let before = migrations(dir.path());

    write_schema(
        dir.path(),
        &BASE.replace(
            "name = \"text\"",
            "name = { type = \"text\", unique = true }",
        ),
    );
    let run = strata(
        dir.path(),
        &["generate", "unique_name", "--dev-url", &server],
    );
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "migrations/postgres/V3__unique_name.sql failed: ERROR: could not create unique index"
        ) && run.stderr.contains("Key (name)=(Deadpond) is duplicated."),
        "{}",
        run.stderr
    );
    assert_eq!(migrations(dir.path()), before);

    write_schema(
        dir.path(),
        &format!(
            "{}power = {{ type = \"integer\", nullable = true }}\n",
            BASE.replace(
                "name = \"text\"",
                "name = { type = \"text\", index = true }"
            )
        ),
    );
    let written = strata_ok(
        dir.path(),
        &["generate", "name_index", "--dev-url", &server],
    );
    assert!(
        written.stdout.contains("V3__name_index.sql")
            && written.stdout.contains("V4__name_index_online.sql"),
        "{}",
        written.stdout
    );
    let online = std::fs::read_to_string(
        dir.path()
            .join("migrations/postgres/V4__name_index_online.sql"),
    )
    .unwrap();
    assert!(online.starts_with("-- strata: no-transaction"), "{online}");
    assert!(online.contains("CONCURRENTLY"), "{online}");
    let db = PgDatabase::create();
    strata_ok(dir.path(), &["migrate", "--database-url", &db.url]);
    assert_eq!(
        db.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'hero' ORDER BY 1"),
        ["hero_pkey", "ix_hero_name"]
    );
}
