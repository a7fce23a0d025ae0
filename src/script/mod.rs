//! SQL that users wrote — migration files, `.sql` patches, `[[sql]]` statements —
//! is checked here before any of it runs.
//!
//! strata runs each migration and each patch in one transaction of its own,
//! together with its history row, and a dry run rolls that transaction back. A
//! file that ends or starts transactions itself (`COMMIT`, `BEGIN`, savepoints…)
//! would commit part of its work behind strata's back — on a dry run too — and a
//! statement that cannot run inside a transaction (`VACUUM`, `CREATE INDEX
//! CONCURRENTLY`…) would fail half-way. Both are refused before anything runs,
//! with the file, line and column of the statement — except that a migration
//! whose first lines include `-- strata: no-transaction` may contain statements
//! that cannot run in a transaction: strata runs that migration without one
//! (never transaction control, though: strata still records the history row).
//!
//! The statements are found with `lex`, a lexer that knows each engine's
//! strings, quoted identifiers, comments and bodies, so `'COMMIT'` in a string,
//! `$$ … COMMIT … $$` in a function body or a trigger's `BEGIN … END` are not
//! mistaken for transaction control.

mod lex;

use std::path::Path;

pub use lex::{statements, Engine, Statement};

use crate::diagnostics::{FileProblems, Problem};

/// What the checked text is, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Migration,
    Patch,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Migration => "migration",
            Kind::Patch => "patch",
        }
    }
}

/// Every statement of `text` that strata must not run in its transaction.
pub fn check(engine: Engine, text: &str, kind: Kind) -> Vec<Problem> {
    let no_transaction = kind == Kind::Migration && crate::migrate::directive::no_transaction(text);
    statements(engine, text)
        .filter_map(|statement| problem(engine, text, &statement, kind))
        .filter(|(class, _)| !(no_transaction && matches!(class, Class::OutsideTransaction)))
        .map(|(_, problem)| problem)
        .collect()
}

/// [`check`] for a whole file, as the error strata reports.
pub fn check_file(engine: Engine, path: &Path, text: &str, kind: Kind) -> Result<(), FileProblems> {
    let problems = check(engine, text, kind);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FileProblems::new(path, text, problems))
    }
}

enum Class {
    /// Starts, ends or partly ends a transaction.
    TransactionControl,
    /// Fails inside a transaction block.
    OutsideTransaction,
    /// Changes how the engine reads the strings of later statements.
    StringSyntax,
}

fn problem(
    engine: Engine,
    text: &str,
    statement: &Statement,
    kind: Kind,
) -> Option<(Class, Problem)> {
    let (class, words) = classify(engine, text, statement)?;
    let first = statement.word_span(0)?;
    let last = statement.word_span(words - 1)?;
    let span = first.start..last.end;
    let shown = (0..words)
        .filter_map(|n| statement.word(text, n))
        .map(str::to_ascii_uppercase)
        .collect::<Vec<_>>()
        .join(" ");
    let noun = kind.noun();
    let problem = match class {
        Class::TransactionControl => Problem::new(
            span,
            format!(
                "`{shown}` is transaction control, which a {noun} must not contain: strata runs \
                 each {noun} in a transaction of its own, together with its history row{}",
                match kind {
                    Kind::Patch => ", and rolls it back on --dry-run",
                    Kind::Migration => "",
                }
            ),
        )
        .label("transaction control")
        .help(format!(
            "remove it; strata begins and commits the transaction itself. To commit part of the \
             work separately, put that part in a {noun} of its own: each {noun} is committed on \
             its own, or not at all"
        )),
        Class::OutsideTransaction => Problem::new(
            span,
            format!(
                "`{shown}` cannot run inside a transaction, and strata runs every {noun} in one"
            ),
        )
        .label("cannot run in a transaction")
        .help(match kind {
            Kind::Migration => "put it in a migration of its own whose first line is \
                 `-- strata: no-transaction`: strata then runs that migration's statements one \
                 at a time outside a transaction, and records it as applied after the last one"
                .to_string(),
            Kind::Patch => "run it outside strata: patches always run in a transaction; a \
                 migration can run it with a `-- strata: no-transaction` first line"
                .to_string(),
        }),
        Class::StringSyntax => Problem::new(
            statement.span.clone(),
            "setting standard_conforming_strings off changes how PostgreSQL reads backslashes \
             in later strings, so strata could no longer tell strings from statements",
        )
        .label("changes string syntax")
        .help("remove it and write backslash escapes as E'…' strings; strata runs every file with standard_conforming_strings on"),
    };
    Some((class, problem))
}

/// The class of a statement and how many of its leading words show it.
fn classify(engine: Engine, text: &str, statement: &Statement) -> Option<(Class, usize)> {
    let word = |n: usize| statement.word(text, n).map(str::to_ascii_uppercase);
    let first = word(0)?;
    let second = word(1).unwrap_or_default();
    let postgres = engine == Engine::Postgres;
    use Class::*;
    let found = match first.as_str() {
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" => {
            (TransactionControl, 1)
        }
        "ABORT" if postgres => (TransactionControl, 1),
        "START" | "PREPARE" if postgres && second == "TRANSACTION" => (TransactionControl, 2),
        "VACUUM" => (OutsideTransaction, 1),
        "ATTACH" | "DETACH" if !postgres => (OutsideTransaction, 1),
        _ if !postgres => return None,
        "CREATE" | "DROP" if matches!(second.as_str(), "DATABASE" | "TABLESPACE") => {
            (OutsideTransaction, 2)
        }
        "ALTER" if second == "SYSTEM" => (OutsideTransaction, 2),
        "DISCARD" if second == "ALL" => (OutsideTransaction, 2),
        "CLUSTER" if word(1).is_none() => (OutsideTransaction, 1),
        "CREATE" | "DROP" => {
            let index = if second == "UNIQUE" { 2 } else { 1 };
            if word(index)? == "INDEX" && word(index + 1)? == "CONCURRENTLY" {
                (OutsideTransaction, index + 2)
            } else {
                return None;
            }
        }
        "REINDEX" => {
            if matches!(second.as_str(), "DATABASE" | "SYSTEM") {
                (OutsideTransaction, 2)
            } else {
                let at = (1..4).find(|n| word(*n).as_deref() == Some("CONCURRENTLY"))?;
                (OutsideTransaction, at + 1)
            }
        }
        "SET" => {
            let at = if matches!(second.as_str(), "SESSION" | "LOCAL") {
                2
            } else {
                1
            };
            if word(at)? != "STANDARD_CONFORMING_STRINGS" || turns_on(text, statement, at) {
                return None;
            }
            (StringSyntax, at + 1)
        }
        _ => return None,
    };
    Some(found)
}

/// Whether `SET standard_conforming_strings = value` keeps it on.
fn turns_on(text: &str, statement: &Statement, name_word: usize) -> bool {
    let Some(name) = statement.word_span(name_word) else {
        return false;
    };
    let value = text[name.end..statement.span.end]
        .trim()
        .trim_end_matches(';')
        .trim();
    let value = value
        .strip_prefix('=')
        .or_else(|| {
            value
                .get(..2)
                .filter(|to| to.eq_ignore_ascii_case("to"))
                .map(|_| &value[2..])
        })
        .unwrap_or(value)
        .trim()
        .trim_matches('\'')
        .to_ascii_lowercase();
    matches!(value.as_str(), "on" | "true" | "yes" | "1" | "default")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(engine: Engine, text: &str) -> Vec<String> {
        check(engine, text, Kind::Migration)
            .into_iter()
            .map(|p| text[p.span].to_string())
            .collect()
    }

    #[test]
    fn transaction_control_is_found_on_both_engines() {
        let text = "INSERT INTO t VALUES (1); commit;\nbegin transaction; Rollback TO x; SAVEPOINT a; RELEASE a; END;";
        for engine in [Engine::Sqlite, Engine::Postgres] {
            assert_eq!(
                refused(engine, text),
                ["commit", "begin", "Rollback", "SAVEPOINT", "RELEASE", "END"]
            );
        }
        assert_eq!(
            refused(
                Engine::Postgres,
                "START TRANSACTION; ABORT; PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; PREPARE q AS SELECT 1;"
            ),
            ["START TRANSACTION", "ABORT", "PREPARE TRANSACTION", "COMMIT"]
        );
    }

    #[test]
    fn statements_that_need_no_transaction_are_found() {
        assert_eq!(
            refused(
                Engine::Postgres,
                "VACUUM; CREATE DATABASE x; ALTER SYSTEM SET a = 1; CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);\
                 CREATE INDEX i ON t (a); REINDEX (VERBOSE) TABLE CONCURRENTLY t; REINDEX TABLE t; DROP INDEX CONCURRENTLY i;"
            ),
            [
                "VACUUM",
                "CREATE DATABASE",
                "ALTER SYSTEM",
                "CREATE UNIQUE INDEX CONCURRENTLY",
                "REINDEX (VERBOSE) TABLE CONCURRENTLY",
                "DROP INDEX CONCURRENTLY"
            ]
        );
        assert_eq!(
            refused(Engine::Sqlite, "ATTACH 'x.db' AS x; VACUUM;"),
            ["ATTACH", "VACUUM"]
        );
    }

    #[test]
    fn no_transaction_migrations_may_only_hold_statements_that_need_none() {
        let text =
            "-- strata: no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\nVACUUM;\nCOMMIT;";
        assert_eq!(refused(Engine::Postgres, text), ["COMMIT"]);
        let patch = check(Engine::Postgres, text, Kind::Patch);
        assert_eq!(patch.len(), 3);
    }

    #[test]
    fn bodies_strings_and_comments_are_not_transaction_control() {
        let sqlite =
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES ('COMMIT'); END;\n\
                      -- COMMIT;\n/* ROLLBACK; */ SELECT \"begin\", [end] FROM a;";
        assert!(refused(Engine::Sqlite, sqlite).is_empty());
        let postgres = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM 'COMMIT'; COMMIT; END $$;\n\
                        CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (1); END;\n\
                        SELECT E'\\'; COMMIT; --', $tag$ ROLLBACK; $tag$;";
        assert!(refused(Engine::Postgres, postgres).is_empty());
    }

    #[test]
    fn turning_standard_conforming_strings_off_is_refused() {
        let off = refused(
            Engine::Postgres,
            "SET standard_conforming_strings = off; SET standard_conforming_strings TO 'on';",
        );
        assert_eq!(off, ["SET standard_conforming_strings = off;"]);
    }
}
