//! The kitchen-sink round trip (issue #12): every SQL file of
//! `tests/kitchen_sink/<engine>/` is loaded, in name order, into a fresh
//! database; `strata pull` → `generate` → `migrate` then builds a second
//! database from nothing, and the two catalogs must be identical, compared the
//! way a user would (catalog queries, one per kind of object). The original's
//! rows are then reloaded into the rebuilt database, and new rows take fresh
//! ids. Each feature has a file of its own, so adding one touches no other.

mod common;

use std::path::{Path, PathBuf};

use common::{client_rows, pg_server_url, repo_root, sqlite_strings, strata_ok, PgDatabase};

/// The feature files of one engine, in name order, with their text.
fn feature_files(engine: &str) -> Vec<(PathBuf, String)> {
    let folder = repo_root().join("tests/kitchen_sink").join(engine);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no feature files in {}",
        folder.display()
    );
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect()
}

/// A catalog: per kind of object, its lines (sorted where the catalog's order
/// is not meaningful).
type Catalog = Vec<(&'static str, Vec<String>)>;

/// Panics with a readable diff of the two catalogs if they differ: per kind,
/// the lines only the original has (`-`) and only the rebuilt one has (`+`).
fn assert_same_catalog(original: &Catalog, rebuilt: &Catalog, schema_toml: &str) {
    // A catalog query that finds nothing compares nothing.
    for (kind, lines) in original {
        assert!(
            !lines.is_empty(),
            "the original has no {kind}: is the query right?"
        );
    }
    let mut report = String::new();
    for ((kind, before), (_, after)) in original.iter().zip(rebuilt) {
        let only_before: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
        let only_after: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
        if only_before.is_empty() && only_after.is_empty() && before == after {
            continue;
        }
        report.push_str(&format!("{kind}:\n"));
        for line in only_before {
            report.push_str(&format!("  - {line}\n"));
        }
        for line in only_after {
            report.push_str(&format!("  + {line}\n"));
        }
        if before != after && report.ends_with(&format!("{kind}:\n")) {
            report.push_str("  (same lines, different order)\n");
        }
    }
    assert!(
        report.is_empty(),
        "the rebuilt database differs from the original (- original only, + rebuilt only):\n{report}\n\
         schema.toml written by pull:\n{schema_toml}"
    );
}

/// pull (into a new project) → generate → migrate into `target`.
fn round_trip(project: &Path, source_url: &str, target_url: &str, dev_url: Option<&str>) -> String {
    strata_ok(
        project,
        &[
            "pull",
            "--database-url",
            source_url,
            "--output",
            "schema.toml",
        ],
    );
    let schema = std::fs::read_to_string(project.join("schema.toml")).unwrap();
    let mut generate = vec!["generate", "initial"];
    if let Some(dev) = dev_url {
        generate.extend(["--dev-url", dev]);
    }
    let generated = common::strata(project, &generate);
    assert_eq!(
        generated.code, 0,
        "generate failed:\n{}\n{schema}",
        generated.stderr
    );
    let migrated = common::strata(project, &["migrate", "--database-url", target_url]);
    assert_eq!(
        migrated.code, 0,
        "migrate failed:\n{}\n{schema}",
        migrated.stderr
    );
    schema
}

mod postgres {
    use super::*;

    /// One catalog query per kind of object, names of the schema left out.
    fn catalog(client: &mut ::postgres::Client) -> Catalog {
        // One line per row: a definition's line breaks are shown as ⏎.
        let mut rows = |sql: &str| -> Vec<String> {
            client_rows(client, sql)
                .into_iter()
                .map(|row| row.replace('\n', "⏎"))
                .collect()
        };
        let user_tables = "c.relnamespace = 'public'::regnamespace AND c.relname NOT IN \
            ('refinery_schema_history', 'strata_patch_history')";
        vec![
            (
                "columns",
                rows(&format!(
                    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), \
                            coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attnotnull, a.attidentity, a.attgenerated \
                     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                     LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                     WHERE {user_tables} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
                     ORDER BY c.relname, a.attnum"
                )),
            ),
            (
                "constraints",
                rows(&format!(
                    "SELECT c.relname, con.conname, pg_get_constraintdef(con.oid) \
                     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
                     WHERE {user_tables} ORDER BY 1, 2"
                )),
            ),
            (
                "indexes",
                rows(&format!(
                    "SELECT c.relname, i.relname, replace(pg_get_indexdef(i.oid), 'public.', '') \
                     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid \
                     WHERE {user_tables} ORDER BY 1, 2"
                )),
            ),
            (
                "sequences",
                rows(
                    "SELECT sequencename, data_type, start_value, increment_by, min_value, max_value, cycle \
                     FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
                ),
            ),
            (
                "comments",
                rows(&format!(
                    "SELECT c.relname, coalesce(a.attname, ''), d.description \
                     FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass \
                     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 \
                     WHERE {user_tables} AND c.relkind IN ('r', 'p') ORDER BY 1, 2"
                )),
            ),
            (
                "views",
                rows(
                    "SELECT c.relkind, c.relname, pg_get_viewdef(c.oid) FROM pg_class c \
                     WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('v', 'm') ORDER BY 2",
                ),
            ),
            (
                "functions",
                rows(
                    "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p \
                     WHERE p.pronamespace = 'public'::regnamespace \
                       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e') \
                     ORDER BY 1, 2",
                ),
            ),
            (
                "triggers",
                rows(
                    "SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t \
                     JOIN pg_class c ON c.oid = t.tgrelid \
                     WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal ORDER BY 1",
                ),
            ),
            (
                "extensions",
                rows("SELECT extname FROM pg_extension ORDER BY 1"),
            ),
            (
                "domains",
                rows(
                    "SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, \
                            coalesce(t.typdefault, ''), \
                            coalesce(string_agg(con.conname || ' ' || pg_get_constraintdef(con.oid), '; ' \
                                                ORDER BY con.conname), '') \
                     FROM pg_type t LEFT JOIN pg_constraint con ON con.contypid = t.oid \
                     WHERE t.typnamespace = 'public'::regnamespace AND t.typtype = 'd' \
                     GROUP BY t.oid ORDER BY 1",
                ),
            ),
        ]
    }

    /// Every user table's rows, as text, for the reload check.
    fn rows_of_tables(client: &mut ::postgres::Client) -> Vec<String> {
        let tables = client_rows(
            client,
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' \
             AND relname NOT IN ('refinery_schema_history', 'strata_patch_history') ORDER BY 1",
        );
        let mut lines = Vec::new();
        for table in tables {
            for row in client_rows(
                client,
                &format!("SELECT t::text FROM \"{table}\" AS t ORDER BY 1"),
            ) {
                lines.push(format!("{table}: {row}"));
            }
        }
        lines
    }

    #[test]
    fn the_kitchen_sink_round_trips() {
        let original = PgDatabase::create();
        let mut client = original.client();
        for (path, sql) in feature_files("postgres") {
            client
                .batch_execute(&sql)
                .unwrap_or_else(|error| panic!("{}: {error:?}", path.display()));
        }
        let rebuilt = PgDatabase::create();
        let dir = tempfile::tempdir().unwrap();
        let server = pg_server_url();
        let schema = round_trip(dir.path(), &original.url, &rebuilt.url, Some(&server));

        let mut rebuilt_client = rebuilt.client();
        assert_same_catalog(
            &catalog(&mut client),
            &catalog(&mut rebuilt_client),
            &schema,
        );

        // The original's rows reload with the user's own tool, sequences included.
        let dump = std::process::Command::new("pg_dump")
            .args([
                "--data-only",
                "--disable-triggers",
                "--exclude-table=refinery_schema_history",
            ])
            .arg(&original.url)
            .output()
            .expect("pg_dump runs (install the PostgreSQL client)");
        assert!(
            dump.status.success(),
            "{}",
            String::from_utf8_lossy(&dump.stderr)
        );
        let mut psql = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(&rebuilt.url)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("psql runs");
        use std::io::Write;
        psql.stdin.take().unwrap().write_all(&dump.stdout).unwrap();
        let loaded = psql.wait_with_output().unwrap();
        assert!(
            loaded.status.success(),
            "{}",
            String::from_utf8_lossy(&loaded.stderr)
        );
        assert_eq!(
            rows_of_tables(&mut client),
            rows_of_tables(&mut rebuilt_client)
        );

        // Every sequence-backed column gives a new row an id no row has.
        let serials = client_rows(
            &mut rebuilt_client,
            "SELECT c.relname, a.attname, pg_get_serial_sequence(quote_ident(c.relname), a.attname) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 \
               AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL \
               AND c.relname <> 'refinery_schema_history'",
        );
        assert!(!serials.is_empty());
        for line in serials {
            let [table, column, sequence]: [&str; 3] =
                line.split('|').collect::<Vec<_>>().try_into().unwrap();
            let fresh = client_rows(
                &mut rebuilt_client,
                &format!(
                    "SELECT nextval('{sequence}') > coalesce((SELECT max(\"{column}\") FROM \"{table}\"), 0)"
                ),
            );
            assert_eq!(
                fresh,
                ["t"],
                "{table}.{column}: the next id is already taken"
            );
        }
        rebuilt_client
            .batch_execute("INSERT INTO note (body) VALUES ('after the reload')")
            .unwrap();
    }
}

mod sqlite {
    use super::*;

    /// SQL text as SQLite keeps it, without what a rebuild respells: quotes
    /// around names, letter case, whitespace.
    fn normalised(sql: &str) -> String {
        let unquoted: String = sql
            .chars()
            .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
            .collect();
        unquoted
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
            .replace("( ", "(")
            .replace(" )", ")")
    }

    /// What a table's CREATE TABLE text holds that no pragma reports: its
    /// CHECK clauses, constraint names and DEFERRABLE clauses, sorted.
    fn table_clauses(table: &str, sql: &str) -> Vec<String> {
        let text = normalised(sql);
        let mut clauses = Vec::new();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("check (").or_else(|| rest.find("check(")) {
            let open = at + rest[at..].find('(').unwrap();
            let mut depth = 0;
            let mut end = rest.len();
            for (i, c) in rest[open..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            clauses.push(format!("{table}: check {}", &rest[open..end]));
            rest = &rest[end..];
        }
        let words: Vec<&str> = text
            .split([' ', ',', '(', ')'])
            .filter(|w| !w.is_empty())
            .collect();
        for (i, word) in words.iter().enumerate() {
            match *word {
                // strata names every constraint it writes; SQLite has no name
                // for an unnamed one and strata reads it back by the naming
                // convention, so only other names are compared.
                "constraint" => {
                    let name = words.get(i + 1).copied().unwrap_or("");
                    let conventional = name
                        .trim_end_matches(|c: char| c.is_ascii_digit())
                        .ends_with("_check")
                        || ["_pkey", "_key", "_fkey"]
                            .iter()
                            .any(|suffix| name.ends_with(suffix));
                    if !conventional {
                        clauses.push(format!("{table}: constraint {name}"));
                    }
                }
                "deferrable" => clauses.push(format!(
                    "{table}: {} deferrable {}",
                    if i > 0 && words[i - 1] == "not" {
                        "not"
                    } else {
                        ""
                    },
                    words[i + 1..]
                        .iter()
                        .take(2)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
                _ => {}
            }
        }
        clauses.sort();
        clauses
    }

    fn catalog(path: &Path) -> Catalog {
        let rows = |sql: &str| sqlite_strings(path, sql);
        let user_tables = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
            AND m.name NOT IN ('refinery_schema_history', 'strata_patch_history')";
        let mut clauses = Vec::new();
        let mut objects = Vec::new();
        for line in rows(&format!(
            "SELECT m.type, m.name, m.sql FROM sqlite_schema AS m \
             WHERE ({user_tables}) OR m.type IN ('view', 'trigger') OR (m.type = 'index' AND m.sql IS NOT NULL) \
             ORDER BY m.type, m.name"
        )) {
            let mut parts = line.splitn(3, '|');
            let (kind, name, sql) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            if kind == "table" {
                clauses.extend(table_clauses(name, sql));
            } else {
                let mut sql = normalised(sql);
                if kind == "index" {
                    // strata parenthesises every index expression: `((lower(email)))`.
                    while sql.contains("((") || sql.contains("))") {
                        sql = sql.replace("((", "(").replace("))", ")");
                    }
                }
                objects.push(format!("{kind} {name}: {sql}"));
            }
        }
        vec![
            (
                "columns (pragma table_xinfo)",
                rows(&format!(
                    "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", coalesce(p.dflt_value, 'NULL'), p.pk, p.hidden \
                     FROM sqlite_schema AS m, pragma_table_xinfo(m.name) AS p WHERE {user_tables} ORDER BY 1, 2"
                )),
            ),
            (
                "indexes (pragma index_list, index_xinfo)",
                rows(&format!(
                    "SELECT m.name, CASE WHEN i.origin = 'c' THEN i.name ELSE i.origin END, i.\"unique\", i.partial, \
                            (SELECT group_concat(coalesce(x.name, '<expr>') || ' ' || x.\"desc\" || ' ' || x.coll, ', ') \
                             FROM pragma_index_xinfo(i.name) AS x WHERE x.key ORDER BY x.seqno) \
                     FROM sqlite_schema AS m, pragma_index_list(m.name) AS i WHERE {user_tables} ORDER BY 1, 2, 5"
                )),
            ),
            (
                "foreign keys (pragma foreign_key_list)",
                rows(&format!(
                    "SELECT m.name, f.\"table\", group_concat(f.\"from\", ', '), group_concat(coalesce(f.\"to\", ''), ', '), \
                            f.on_update, f.on_delete, f.\"match\" \
                     FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f WHERE {user_tables} \
                     GROUP BY m.name, f.id ORDER BY 1, 2, 3"
                )),
            ),
            ("table clauses (CHECK, CONSTRAINT, DEFERRABLE)", clauses),
            ("indexes, views and triggers (sqlite_schema.sql)", objects),
        ]
    }

    #[test]
    fn the_kitchen_sink_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let original = dir.path().join("original.db");
        let rebuilt = dir.path().join("rebuilt.db");
        let connection = rusqlite::Connection::open(&original).unwrap();
        for (path, sql) in feature_files("sqlite") {
            connection
                .execute_batch(&sql)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        }
        drop(connection);
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let schema = round_trip(
            &project,
            &format!("sqlite:{}", original.display()),
            &format!("sqlite:{}", rebuilt.display()),
            None,
        );
        assert_same_catalog(&catalog(&original), &catalog(&rebuilt), &schema);

        // The original's rows reload table by table, with foreign keys off as
        // a copy between files needs, and new rows still take fresh ids.
        let connection = rusqlite::Connection::open(&rebuilt).unwrap();
        connection
            .execute_batch(&format!(
                "PRAGMA foreign_keys = OFF; ATTACH DATABASE '{}' AS original;",
                original.display().to_string().replace('\'', "''")
            ))
            .unwrap();
        let tables = sqlite_strings(
            &original,
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        );
        for table in &tables {
            connection
                .execute_batch(&format!(
                    "INSERT INTO main.\"{table}\" SELECT * FROM original.\"{table}\";"
                ))
                .unwrap_or_else(|error| panic!("reloading {table}: {error}"));
        }
        connection
            .execute_batch("DETACH DATABASE original;")
            .unwrap();
        let check: Vec<String> = sqlite_strings(&rebuilt, "PRAGMA foreign_key_check");
        assert!(check.is_empty(), "{check:?}");
        for table in &tables {
            let sql = format!("SELECT * FROM \"{table}\" ORDER BY 1, 2");
            assert_eq!(
                sqlite_strings(&original, &sql),
                sqlite_strings(&rebuilt, &sql),
                "{table}"
            );
        }
        connection
            .execute_batch("INSERT INTO category (name) VALUES ('after the reload');")
            .unwrap();
    }
}
