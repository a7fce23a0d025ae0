//! Table-level foreign keys (`[[table.NAME.foreign_keys]]`): over several
//! columns, with actions, DEFERRABLE / INITIALLY DEFERRED and explicit names,
//! on SQLite files and a real PostgreSQL database: migrated, enforced (a
//! deferred key lets a transaction insert the child first), changed (a
//! deferral change is a drop and a re-add, NOT VALID then validated on
//! PostgreSQL), rolled back, and pulled back into the same model.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    composite_deferrable_keys_migrate_enforce_change_and_roll_back,
    composite_deferrable_keys_survive_a_pull,
);

const A: &str = r#"[project]
dialects = ["sqlite", "postgres"]

[table.warehouse]
primary_key = ["region", "code"]
[table.warehouse.columns]
region = "varchar(4)"
code = "integer"

[table.bin]
[[table.bin.foreign_keys]]
name = "fk_bin_warehouse"
columns = ["region", "code"]
references = "warehouse(region, code)"
on_delete = "cascade"
initially_deferred = true
[table.bin.columns]
id = { type = "integer", primary_key = true }
region = "varchar(4)"
code = "integer"
"#;

/// A, with the key checked at once (no longer deferrable).
fn b() -> String {
    A.replace("initially_deferred = true\n", "")
}

fn parse(text: &str) -> strata::schema::Schema {
    strata::schema::parse_schema_text(Path::new("schema.toml"), text)
        .unwrap_or_else(|problems| panic!("{problems}\n{text}"))
        .schema
}

fn project(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    let backend = Backend::new(kind, dir.path());
    std::fs::write(dir.path().join("schema.toml"), A).unwrap();
    strata_ok(
        dir.path(),
        &["generate", "a", "--dev-url", &pg_server_url()],
    );
    backend.strata_ok(dir.path(), &["migrate"]);
    (dir, backend)
}

/// Runs `sql` in one transaction; the error text if the database refuses it.
fn run(backend: &Backend, sql: &str) -> Option<String> {
    let sql = format!("BEGIN; {sql} COMMIT;");
    match backend {
        Backend::Sqlite(path) => {
            let connection = rusqlite::Connection::open(path).unwrap();
            connection
                .execute_batch("PRAGMA foreign_keys = ON")
                .unwrap();
            let error = connection.execute_batch(&sql).err().map(|e| e.to_string());
            let _ = connection.execute_batch("ROLLBACK");
            error
        }
        Backend::Postgres(database) => database
            .client()
            .batch_execute(&sql)
            .err()
            .map(|e| format!("{e:?}")),
    }
}

/// The key as the engine reports it: PostgreSQL's definition, SQLite's text.
fn definition(backend: &Backend) -> String {
    match backend {
        Backend::Sqlite(path) => sqlite_strings(path, "SELECT sql FROM sqlite_schema WHERE name = 'bin'")
            .join(""),
        Backend::Postgres(database) => database
            .rows("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'bin'::regclass AND contype = 'f'")
            .join(""),
    }
}

const CHILD_FIRST: &str = "INSERT INTO bin (id, region, code) VALUES (1, 'EU', 1); \
                           INSERT INTO warehouse (region, code) VALUES ('EU', 1);";

fn composite_deferrable_keys_migrate_enforce_change_and_roll_back(kind: Kind) {
    let (dir, backend) = project(kind);
    let project = dir.path();
    let deferred = match kind {
        Kind::Sqlite => "CONSTRAINT \"fk_bin_warehouse\" FOREIGN KEY (\"region\", \"code\") REFERENCES \"warehouse\" (\"region\", \"code\") ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
        Kind::Postgres => "fk_bin_warehouse FOREIGN KEY (region, code) REFERENCES warehouse(region, code) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
    };
    assert!(
        definition(&backend).contains(deferred),
        "{}",
        definition(&backend)
    );
    // Checked at COMMIT: the child may come first, a missing parent is refused.
    assert_eq!(run(&backend, CHILD_FIRST), None);
    assert!(run(
        &backend,
        "INSERT INTO bin (id, region, code) VALUES (2, 'US', 9);"
    )
    .is_some());
    backend.execute("DELETE FROM warehouse");
    assert_eq!(
        backend.rows("SELECT count(*) FROM bin"),
        ["0"],
        "ON DELETE CASCADE"
    );

    std::fs::write(project.join("schema.toml"), b()).unwrap();
    let generated = strata_ok(project, &["generate", "b", "--dev-url", &pg_server_url()]);
    assert!(
        generated
            .stdout
            .contains("drop foreign key fk_bin_warehouse on bin")
            && generated
                .stdout
                .contains("add foreign key bin.(region, code) -> warehouse.(region, code)"),
        "{}",
        generated.stdout
    );
    backend.execute("INSERT INTO warehouse (region, code) VALUES ('EU', 1)");
    backend.strata_ok(project, &["migrate"]);
    assert!(
        !definition(&backend).contains("DEFERRABLE"),
        "{}",
        definition(&backend)
    );
    let refused = run(&backend, CHILD_FIRST.replace("'EU', 1", "'NL', 2").as_str());
    assert!(refused.is_some_and(|e| e.to_lowercase().contains("foreign key")));
    let again = strata_ok(project, &["generate", "c", "--dev-url", &pg_server_url()]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    if matches!(kind, Kind::Postgres) {
        // On a table in use the key is added NOT VALID and validated after.
        let up: String = std::fs::read_dir(project.join("migrations/postgres"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                !name.starts_with("V1__") && !name.contains(".down.") && name.ends_with(".sql")
            })
            .map(|path| std::fs::read_to_string(path).unwrap())
            .collect();
        assert!(
            up.contains(
                "REFERENCES \"warehouse\" (\"region\", \"code\") ON DELETE CASCADE NOT VALID;"
            ),
            "{up}"
        );
        assert!(
            up.contains("VALIDATE CONSTRAINT \"fk_bin_warehouse\";"),
            "{up}"
        );
    }

    // The down file puts the deferred key back.
    backend.strata_ok(project, &["rollback", "--to", "1"]);
    assert!(
        definition(&backend).contains(deferred),
        "{}",
        definition(&backend)
    );
    assert_eq!(
        run(&backend, &CHILD_FIRST.replace("'EU', 1", "'FR', 3")),
        None
    );
}

fn composite_deferrable_keys_survive_a_pull(kind: Kind) {
    let (dir, backend) = project(kind);
    let project = dir.path();
    let pulled = backend.strata_ok(project, &["pull"]).stdout;
    assert!(
        pulled.contains(
            "foreign_keys = [{ name = \"fk_bin_warehouse\", columns = [\"region\", \"code\"], references = \"warehouse(region, code)\", on_delete = \"cascade\", initially_deferred = true }]"
        ),
        "{pulled}"
    );
    assert_eq!(parse(&pulled), parse(A), "{pulled}");
}

#[test]
fn table_foreign_keys_are_checked_against_their_target() {
    let problems = |text: &str| {
        strata::schema::parse_schema_text(Path::new("schema.toml"), text)
            .err()
            .map(|problems| problems.to_string())
            .unwrap_or_default()
    };
    let fewer = problems(&A.replace(
        "references = \"warehouse(region, code)\"",
        "references = \"warehouse(region)\"",
    ));
    assert!(
        fewer.contains("the foreign key on bin(region, code) names 2 column(s) but references 1 (warehouse.region)"),
        "{fewer}"
    );
    let crossed = problems(&A.replace(
        "references = \"warehouse(region, code)\"",
        "references = \"warehouse(code, region)\"",
    ));
    assert!(
        crossed.contains(
            "bin.region is `varchar(4)` but references warehouse.code, which is `integer`"
        ),
        "{crossed}"
    );
    let unknown = problems(&A.replace(
        "references = \"warehouse(region, code)\"",
        "references = \"warehouse(region, kode)\"",
    ));
    assert!(
        unknown.contains("bin(region, code) references warehouse(region, kode): table `warehouse` has no column `kode`; did you mean `code`?"),
        "{unknown}"
    );
    let not_unique = problems(&A.replace(
        "primary_key = [\"region\", \"code\"]",
        "primary_key = [\"region\"]",
    ));
    assert!(
        not_unique.contains("bin(region, code) references warehouse(region, code), which is neither the primary key nor unique"),
        "{not_unique}"
    );
    let contradiction = problems(&A.replace(
        "initially_deferred = true",
        "initially_deferred = true\ndeferrable = false",
    ));
    assert!(
        contradiction.contains(
            "the foreign key `fk_bin_warehouse` is `initially_deferred` but `deferrable = false`"
        ),
        "{contradiction}"
    );
    let bad_spelling = problems(&A.replace(
        "references = \"warehouse(region, code)\"",
        "references = \"warehouse.region\"",
    ));
    assert!(
        bad_spelling
            .contains("`references = \"warehouse.region\"` must be written `table(column, …)`"),
        "{bad_spelling}"
    );
}
