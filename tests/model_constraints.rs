//! CHECK constraints, explicit constraint names and comments, on SQLite files
//! and a real PostgreSQL database: declared in schema.toml, migrated, enforced
//! (a violating row is rejected), changed and dropped, rolled back, and pulled
//! back into the same schema.toml model (then `generate` has nothing to write).

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(
    checks_reject_rows_change_drop_and_roll_back,
    constraint_names_and_comments_survive_a_pull,
);

const A: &str = r#"[project]
dialects = ["sqlite", "postgres"]

[table.team]
primary_key = { name = "pk_team", columns = ["id"] }
unique = [{ name = "uq_team_name", columns = ["name"] }]
comment = "Teams of heroes"
[table.team.columns]
id = "integer"
name = { type = "text", comment = "shown on the badge" }

[table.product]
comment = "What the shop sells"
[[table.product.check]]
sql = "qty >= 0"
[[table.product.check]]
name = "cheap_enough"
sql = "price < 1000"
[table.product.columns]
id = { type = "integer", primary_key = true }
price = { type = "numeric(8,2)", check = "price > 0", comment = "in euros" }
qty = { type = "integer", default = 0 }
team_id = { type = "integer", nullable = true, references = { table = "team", column = "id", name = "fk_product_team" } }
"#;

/// A, with the price check changed, the qty check dropped and the named check
/// renamed (same expression).
fn b() -> String {
    A.replace("check = \"price > 0\"", "check = \"price >= 1\"")
        .replace("[[table.product.check]]\nsql = \"qty >= 0\"\n", "")
        .replace("name = \"cheap_enough\"", "name = \"under_1000\"")
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

/// Whether `sql` is refused by the database (with a CHECK's message).
fn rejected(backend: &Backend, sql: &str) -> bool {
    match backend {
        Backend::Sqlite(path) => {
            let error = rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .err();
            error.is_some_and(|e| e.to_string().contains("CHECK constraint failed"))
        }
        Backend::Postgres(database) => {
            let error = database.client().batch_execute(sql).err();
            error.is_some_and(|e| format!("{e:?}").contains("violates check constraint"))
        }
    }
}

fn check_names(backend: &Backend) -> Vec<String> {
    match backend {
        Backend::Sqlite(path) => {
            let sql = sqlite_strings(
                path,
                "SELECT sql FROM sqlite_schema WHERE name = 'product'",
            )
            .join("");
            let mut names: Vec<String> = sql
                .split("CONSTRAINT \"")
                .skip(1)
                .filter(|rest| rest.split_once('"').is_some_and(|(_, after)| after.starts_with(" CHECK")))
                .map(|rest| rest.split('"').next().unwrap().to_string())
                .collect();
            names.sort();
            names
        }
        Backend::Postgres(database) => database.rows(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'product'::regclass AND contype = 'c' ORDER BY 1",
        ),
    }
}

fn checks_reject_rows_change_drop_and_roll_back(kind: Kind) {
    let (dir, backend) = project(kind);
    let project = dir.path();
    backend.execute("INSERT INTO product (id, price, qty) VALUES (1, 10, 5)");
    assert!(rejected(
        &backend,
        "INSERT INTO product (id, price, qty) VALUES (2, 0, 1)"
    ));
    assert!(rejected(
        &backend,
        "INSERT INTO product (id, price, qty) VALUES (3, 5, -1)"
    ));
    assert!(rejected(
        &backend,
        "INSERT INTO product (id, price, qty) VALUES (4, 2000, 1)"
    ));
    assert_eq!(
        check_names(&backend),
        ["cheap_enough", "product_check", "product_price_check"]
    );

    std::fs::write(project.join("schema.toml"), b()).unwrap();
    let run = strata_ok(project, &["generate", "b", "--dev-url", &pg_server_url()]);
    assert!(
        run.stdout
            .contains("add check constraint product_price_check"),
        "{}",
        run.stdout
    );
    let postgres_sql: String = std::fs::read_dir(project.join("migrations/postgres"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            !name.starts_with("V1__") && !name.contains(".down.") && name.ends_with(".sql")
        })
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    // PostgreSQL renames the named check in place, and adds the changed one
    // NOT VALID, then validates it outside the transaction.
    assert!(
        postgres_sql.contains(
            "ALTER TABLE \"product\" RENAME CONSTRAINT \"cheap_enough\" TO \"under_1000\";"
        ),
        "{postgres_sql}"
    );
    assert!(
        postgres_sql.contains(
            "ALTER TABLE \"product\" ADD CONSTRAINT \"product_price_check\" CHECK (price >= 1) NOT VALID;"
        ),
        "{postgres_sql}"
    );
    assert!(
        postgres_sql
            .contains("ALTER TABLE \"product\" VALIDATE CONSTRAINT \"product_price_check\";"),
        "{postgres_sql}"
    );
    backend.strata_ok(project, &["migrate"]);
    assert_eq!(check_names(&backend), ["product_price_check", "under_1000"]);
    assert!(rejected(
        &backend,
        "INSERT INTO product (id, price, qty) VALUES (5, 0.5, 1)"
    ));
    // Nothing left to generate: the database's checks are the declared ones.
    let again = strata_ok(project, &["generate", "c", "--dev-url", &pg_server_url()]);
    assert!(
        again.stdout.contains("nothing to generate"),
        "{}",
        again.stdout
    );

    backend.strata_ok(project, &["rollback", "--to", "1"]);
    assert_eq!(
        check_names(&backend),
        ["cheap_enough", "product_check", "product_price_check"]
    );
    assert!(rejected(
        &backend,
        "INSERT INTO product (id, price, qty) VALUES (6, 5, -1)"
    ));
    backend.execute("INSERT INTO product (id, price, qty) VALUES (7, 0.5, 1)");
    assert_eq!(
        backend.rows("SELECT id FROM product ORDER BY id"),
        ["1", "7"]
    );
}

fn parse(text: &str) -> strata::schema::Schema {
    strata::schema::parse_schema_text(Path::new("schema.toml"), text)
        .unwrap_or_else(|problems| panic!("{problems}\n{text}"))
        .schema
}

fn constraint_names_and_comments_survive_a_pull(kind: Kind) {
    let (dir, backend) = project(kind);
    let project = dir.path();
    if let Backend::Postgres(database) = &backend {
        assert_eq!(
            database.rows(
                "SELECT conname FROM pg_constraint WHERE conrelid IN ('team'::regclass, 'product'::regclass) \
                 AND contype IN ('p', 'u', 'f') ORDER BY 1"
            ),
            ["fk_product_team", "pk_team", "product_pkey", "uq_team_name"]
        );
        assert_eq!(
            database.rows(
                "SELECT obj_description('team'::regclass, 'pg_class') || ' / ' || col_description('product'::regclass, 2)"
            ),
            ["Teams of heroes / in euros"]
        );
    }

    let pulled = backend.strata_ok(project, &["pull"]).stdout;
    let declared = parse(A);
    // SQLite has no comments: schema.toml is the only place they are kept.
    let expected = match kind {
        Kind::Sqlite => declared.without_comments(),
        Kind::Postgres => declared,
    };
    assert_eq!(parse(&pulled), expected, "{pulled}");

    // The pulled file is the project's schema now (pull --force keeps the
    // [project] table, and on SQLite the comments schema.toml already had):
    // nothing to generate.
    backend.strata_ok(project, &["pull", "--output", "schema.toml", "--force"]);
    let written = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    assert_eq!(parse(&written), parse(A), "{written}");
    assert_generate_finds_nothing_on_postgres(project);
}
