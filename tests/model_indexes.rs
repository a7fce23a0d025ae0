//! Indexes beyond plain columns: expressions, partial (`where`), sort order,
//! and on PostgreSQL methods, operator classes, INCLUDE and NULLS NOT DISTINCT.
//! Each is declared in schema.toml, migrated into a real SQLite file or
//! PostgreSQL database, checked by what the server accepts and refuses, and then
//! `generate` finds nothing, `check` finds no drift, `pull` gives back a
//! schema.toml that generates nothing, a changed definition is a drop and a
//! create under the same name, and rollback undoes it.

#[macro_use]
mod common;

use std::path::Path;

use common::*;

on_both_databases!(indexes_are_built_round_trip_change_and_roll_back);

fn dialect(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
    }
}

/// Indexes every engine has, and (PostgreSQL) the ones only it has.
fn schema(kind: Kind) -> String {
    let mut indexes = vec![
        r#"{ name = "ux_account_lower_email", columns = [{ expr = "lower(email)" }], unique = true }"#,
        r#"{ name = "ux_account_live_name", columns = ["name"], unique = true, where = "deleted_at IS NULL" }"#,
        r#"{ columns = [{ column = "created_at", order = "desc" }, "id"] }"#,
    ];
    if let Kind::Postgres = kind {
        indexes.extend([
            r#"{ name = "ix_account_name_search", columns = [{ expr = "to_tsvector('english', name)" }], method = "gin" }"#,
            r#"{ name = "ix_account_name_pattern", columns = [{ column = "name", opclass = "varchar_pattern_ops" }] }"#,
            r#"{ name = "ix_account_status", columns = ["status"], include = ["name"], where = "status = 'active' AND id > -1" }"#,
            r#"{ name = "ux_account_nickname", columns = ["nickname"], unique = true, nulls_not_distinct = true }"#,
            r#"{ name = "ix_account_recent", columns = [{ column = "created_at", order = "desc", nulls = "last" }] }"#,
            r#"{ name = "ix_account_created_brin", columns = ["created_at"], method = "brin" }"#,
        ]);
    }
    format!(
        "[project]\ndialects = [\"{}\"]\n\n\
         [table.account]\nindexes = [\n    {}\n]\n\
         [table.account.columns]\n\
         id = {{ type = \"integer\", primary_key = true }}\n\
         email = \"text\"\n\
         name = \"text\"\n\
         nickname = {{ type = \"text\", nullable = true }}\n\
         status = {{ type = \"text\", default = \"active\" }}\n\
         created_at = {{ type = \"timestamp\", nullable = true }}\n\
         deleted_at = {{ type = \"timestamp\", nullable = true }}\n",
        dialect(kind),
        indexes.join(",\n    ")
    )
}

/// `generate NAME`, with the server as dev database on PostgreSQL.
fn generate(kind: Kind, project: &Path, name: &str) -> Run {
    let server = pg_server_url();
    let mut args = vec!["generate", name];
    if let Kind::Postgres = kind {
        args.extend(["--dev-url", server.as_str()]);
    }
    strata(project, &args)
}

fn assert_nothing_to_generate(kind: Kind, project: &Path) {
    let before = migration_files(kind, project);
    let run = generate(kind, project, "again");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("nothing to generate"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(migration_files(kind, project), before);
}

fn migration_files(kind: Kind, project: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(project.join("migrations").join(dialect(kind)))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// Runs `sql` and returns the server's error, if any.
fn refused(backend: &Backend, sql: &str) -> Option<String> {
    match backend {
        Backend::Sqlite(path) => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .err()
            .map(|error| error.to_string()),
        Backend::Postgres(database) => database.client().batch_execute(sql).err().map(|error| {
            error
                .as_db_error()
                .map_or(error.to_string(), |e| e.message().to_string())
        }),
    }
}

fn index_definitions(backend: &Backend) -> Vec<String> {
    match backend {
        Backend::Sqlite(_) => backend.rows(
            "SELECT sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        ),
        Backend::Postgres(_) => backend.rows(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname",
        ),
    }
}

fn indexes_are_built_round_trip_change_and_roll_back(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::write(project.join("schema.toml"), schema(kind)).unwrap();
    let backend = Backend::new(kind, project);
    let run = generate(kind, project, "accounts");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    backend.strata_ok(project, &["migrate"]);

    // The server enforces what was declared.
    backend.execute(
        "INSERT INTO account (id, email, name, nickname) VALUES (1, 'Ann@example.com', 'ann', NULL)",
    );
    let duplicate = refused(
        &backend,
        "INSERT INTO account (id, email, name) VALUES (2, 'ann@EXAMPLE.com', 'bob')",
    );
    assert!(
        duplicate
            .as_deref()
            .is_some_and(|e| e.to_lowercase().contains("unique")),
        "lower(email) took a case variant: {duplicate:?}"
    );
    // A deleted account's name may come back; two live ones may not share it.
    backend.execute(
        "UPDATE account SET deleted_at = '2024-01-01 00:00:00' WHERE id = 1;
         INSERT INTO account (id, email, name, nickname) VALUES (2, 'bob@example.com', 'ann', 'b')",
    );
    assert!(
        refused(
            &backend,
            "INSERT INTO account (id, email, name, nickname) VALUES (3, 'cy@example.com', 'ann', 'c')"
        )
        .is_some(),
        "the partial unique index took a second live `ann`"
    );
    let definitions = index_definitions(&backend).join("\n");
    match kind {
        Kind::Sqlite => {
            assert!(
                definitions.contains("(\"created_at\" DESC, \"id\")"),
                "{definitions}"
            );
            assert!(
                definitions.contains("WHERE deleted_at IS NULL"),
                "{definitions}"
            );
        }
        Kind::Postgres => {
            // NULLS NOT DISTINCT: a second NULL nickname is a duplicate.
            assert!(refused(
                &backend,
                "INSERT INTO account (id, email, name, nickname) VALUES (4, 'd@example.com', 'dee', NULL)"
            )
            .is_some_and(|e| e.contains("ux_account_nickname")));
            for expected in [
                "CREATE INDEX ix_account_name_search ON public.account USING gin (to_tsvector('english'::regconfig, (name)::text))",
                "CREATE INDEX ix_account_name_pattern ON public.account USING btree (name varchar_pattern_ops)",
                "USING btree (status) INCLUDE (name) WHERE",
                "CREATE UNIQUE INDEX ux_account_nickname ON public.account USING btree (nickname) NULLS NOT DISTINCT",
                "USING btree (created_at DESC NULLS LAST)",
                "USING brin (created_at)",
                "USING btree (created_at DESC, id)",
            ] {
                assert!(definitions.contains(expected), "{expected} not in\n{definitions}");
            }
        }
    }

    // Nothing changed: nothing to generate, no drift, and pull says the same.
    assert_nothing_to_generate(kind, project);
    let check = backend.strata(project, &["check"]);
    assert_eq!(check.code, 0, "{}\n{}", check.stdout, check.stderr);
    let pull = backend.strata(project, &["pull"]);
    assert_eq!(pull.code, 0, "pull left something out:\n{}", pull.stderr);
    assert!(
        pull.stdout.contains("ux_account_lower_email") && pull.stdout.contains("where = "),
        "{}",
        pull.stdout
    );
    let declared = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    std::fs::write(project.join("schema.toml"), &pull.stdout).unwrap();
    assert_nothing_to_generate(kind, project);
    std::fs::write(project.join("schema.toml"), &declared).unwrap();
    let pulled_v1 = pull.stdout;

    // A changed predicate: the same index dropped and created again.
    std::fs::write(
        project.join("schema.toml"),
        declared.replace(
            "where = \"deleted_at IS NULL\"",
            "where = \"deleted_at IS NULL AND status <> 'closed'\"",
        ),
    )
    .unwrap();
    let run = generate(kind, project, "closed_accounts");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let folder = project.join("migrations").join(dialect(kind));
    let v2: String = migration_files(kind, project)
        .iter()
        .filter(|file| file.starts_with("V2") && !file.contains(".down."))
        .map(|file| std::fs::read_to_string(folder.join(file)).unwrap())
        .collect();
    assert!(v2.contains("DROP INDEX"), "{v2}");
    assert!(
        v2.contains("\"ux_account_live_name\" ON \"account\" (\"name\") WHERE deleted_at IS NULL AND status <> 'closed'"),
        "{v2}"
    );
    if let Kind::Postgres = kind {
        // An existing (maybe busy) table: built concurrently, outside a transaction.
        assert!(
            v2.contains("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"ux_account_live_name\""),
            "{v2}"
        );
    }
    backend.strata_ok(project, &["migrate"]);
    backend.execute("UPDATE account SET status = 'closed' WHERE id = 2");
    backend.execute(
        "INSERT INTO account (id, email, name, nickname) VALUES (3, 'cy@example.com', 'ann', 'c')",
    );
    assert_nothing_to_generate(kind, project);

    // Rolled back, the database is what V1 built (the closed duplicate removed first).
    backend.execute("DELETE FROM account WHERE id = 3");
    backend.strata_ok(project, &["rollback"]);
    std::fs::write(project.join("schema.toml"), &declared).unwrap();
    // The re-created index is the newest, so pull lists it last.
    assert_eq!(
        sorted_indexes(&backend.strata_ok(project, &["pull"]).stdout),
        sorted_indexes(&pulled_v1)
    );
}

/// schema.toml text with the entries of each `indexes = [...]` line sorted.
fn sorted_indexes(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("indexes = [") {
            Some(rest) => {
                let mut entries: Vec<&str> = rest
                    .trim_end_matches(']')
                    .split("}, { name")
                    .map(|entry| entry.trim_matches(['{', '}', ' ']))
                    .map(|entry| entry.trim_start_matches("name"))
                    .collect();
                entries.sort();
                entries.join("|")
            }
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sqlite_refuses_postgresql_only_index_options_by_name_and_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.toml"),
        "[project]\ndialects = [\"sqlite\", \"postgres\"]\n\n\
         [table.doc]\n\
         indexes = [{ name = \"ix_doc_body\", columns = [\"body\"], method = \"gin\" }]\n\
         [table.doc.columns]\n\
         id = { type = \"integer\", primary_key = true }\n\
         body = \"text\"\n",
    )
    .unwrap();
    let run = strata(dir.path(), &["generate", "docs"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "error: index `ix_doc_body` uses `method`, which the sqlite dialect does not have"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("./schema.toml:5:"), "{}", run.stderr);
    assert!(!dir.path().join("migrations").exists());
}

#[test]
fn an_expression_index_needs_a_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.toml"),
        "[table.doc]\n\
         indexes = [{ columns = [{ expr = \"lower(body)\" }] }]\n\
         [table.doc.columns]\n\
         id = { type = \"integer\", primary_key = true }\n\
         body = \"text\"\n",
    )
    .unwrap();
    let run = strata(dir.path(), &["generate", "docs"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("error: an index on an expression needs a `name`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("./schema.toml:2:24"), "{}", run.stderr);
}

/// Indexes written by hand in a database strata did not build: `pull` writes
/// them, `generate` and `baseline` agree the migrations build that database, and
/// a database built by those migrations has the same index definitions.
#[test]
fn postgres_pull_adopts_hand_written_indexes_exactly() {
    // `varchar`, not `text`: schema.toml's `text` is VARCHAR on PostgreSQL, and
    // a `text` column would come back as another type (the index aside).
    let original = PgDatabase::create();
    original.execute(
        "CREATE TABLE item (id serial PRIMARY KEY, name varchar(80) NOT NULL, price integer NOT NULL,
                            archived boolean NOT NULL DEFAULT false, tags varchar NOT NULL);
         CREATE UNIQUE INDEX item_lower_name ON item (lower(name)) WHERE NOT archived;
         CREATE INDEX item_price ON item (price DESC NULLS LAST, name varchar_pattern_ops) INCLUDE (archived);
         CREATE INDEX item_tags ON item USING gin (to_tsvector('simple', tags));
         CREATE UNIQUE INDEX item_name_price ON item (name, price) NULLS NOT DISTINCT;
         CREATE INDEX item_hash ON item USING hash (name);
         CREATE INDEX item_cheap ON item ((price * 2)) WHERE price < 10 AND name LIKE 'a%';",
    );
    let server = pg_server_url();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let url = original.url.as_str();
    let pulled = strata(
        project,
        &["pull", "--database-url", url, "--output", "schema.toml"],
    );
    assert_eq!(pulled.code, 0, "{}", pulled.stderr);
    strata_ok(project, &["generate", "initial", "--dev-url", &server]);
    strata_ok(
        project,
        &["baseline", "--database-url", url, "--dev-url", &server],
    );

    let copy = PgDatabase::create();
    strata_ok(project, &["migrate", "--database-url", &copy.url]);
    let definitions = "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
                       AND tablename = 'item' ORDER BY indexname";
    assert_eq!(copy.rows(definitions), original.rows(definitions));
    assert_nothing_to_generate(Kind::Postgres, project);
}

#[test]
fn sqlite_pull_adopts_hand_written_indexes_and_names_a_collated_one() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let original = project.join("original.db");
    rusqlite::Connection::open(&original)
        .unwrap()
        .execute_batch(
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL,
                                archived BOOLEAN NOT NULL DEFAULT 0);
             CREATE UNIQUE INDEX item_lower_name ON item (lower(name)) WHERE NOT archived;
             CREATE INDEX item_price ON item (price DESC, name);
             CREATE INDEX item_cheap ON item (price * 2 ASC) WHERE price < 10;
             CREATE INDEX item_nocase ON item (name COLLATE NOCASE);",
        )
        .unwrap();
    let url = format!("sqlite:{}", original.display());
    let refused = strata(
        project,
        &["pull", "--database-url", &url, "--output", "schema.toml"],
    );
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(
            "index `item.item_nocase`: CREATE INDEX item_nocase ON item (name COLLATE NOCASE)"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("item_lower_name"),
        "{}",
        refused.stderr
    );
    strata_ok(
        project,
        &[
            "pull",
            "--database-url",
            &url,
            "--output",
            "schema.toml",
            "--allow-unmanaged",
        ],
    );
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    assert!(
        schema.contains(
            "{ name = \"item_lower_name\", columns = [{ expr = \"lower(name)\" }], unique = true, where = \"NOT archived\" }"
        ),
        "{schema}"
    );
    strata_ok(project, &["generate", "initial"]);
    strata_ok(project, &["baseline", "--database-url", &url]);

    let copy = project.join("copy.db");
    strata_ok(
        project,
        &[
            "migrate",
            "--database-url",
            &format!("sqlite:{}", copy.display()),
        ],
    );
    let keys = "SELECT l.name, l.\"unique\", l.partial, i.seqno, i.cid, i.name, i.\"desc\" \
                FROM pragma_index_list('item') l JOIN pragma_index_xinfo(l.name) i \
                WHERE i.key AND l.name <> 'item_nocase' ORDER BY l.name, i.seqno";
    assert_eq!(sqlite_strings(&copy, keys), sqlite_strings(&original, keys));
    assert_nothing_to_generate(Kind::Sqlite, project);
}
