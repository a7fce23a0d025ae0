//! Running a SQL script on SQLite in time linear in its length.
//!
//! rusqlite's `execute_batch` (and its `Batch` iterator) hand `sqlite3_prepare_v3`
//! the rest of the script as a pointer and a length; SQLite copies any text that
//! is not NUL-terminated within that length before parsing it, so each statement
//! copied everything after it: an INSERT-per-line 11 MB migration took 48 s, a
//! 50 MB one did not finish. Here the script is one NUL-terminated `CString`, and
//! each statement is prepared from the tail pointer the previous one left, which
//! SQLite parses in place (what the `sqlite3` shell does).

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use rusqlite::{ffi, Connection};

use crate::script::{statements, Engine};

/// Runs every statement of `sql` in order, each to completion (rows, as from a
/// PRAGMA, are ignored). Errors name the line and column of the statement.
///
/// When called inside a transaction, a statement that ends it stops the script
/// with an error instead of letting the rest run outside it (strata refuses such
/// statements before running a file; this is the engine-level backstop).
pub fn run_script(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    run_script_reporting(connection, sql, &mut |_| {})
}

/// [`run_script`], telling `on_done` the span of each statement once it has run
/// (from its first token to the end of its `;`): outside a transaction, each is
/// then committed, and a failure part-way can say exactly which ones ran.
pub fn run_script_reporting(
    connection: &Connection,
    sql: &str,
    on_done: &mut dyn FnMut(std::ops::Range<usize>),
) -> rusqlite::Result<()> {
    let text = CString::new(sql).map_err(|error| {
        failure(
            ffi::SQLITE_ERROR,
            format!(
                "the script contains a NUL byte{}; remove it",
                place(sql, error.nul_position())
            ),
        )
    })?;
    let inside_transaction = !connection.is_autocommit();
    // SAFETY: the handle is only used below, while `connection` is borrowed, for
    // prepare/step/finalize of statements that are all finalized before returning.
    let db = unsafe { connection.handle() };
    let start = text.as_ptr();
    let mut tail: *const c_char = start;
    loop {
        // SAFETY: `tail` is `start` or a tail pointer SQLite returned, which points
        // into the same NUL-terminated buffer.
        let offset = unsafe { tail.offset_from(start) } as usize;
        if offset >= sql.len() {
            return Ok(());
        }
        let mut statement: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut next: *const c_char = ptr::null();
        // SAFETY: `tail` points to NUL-terminated text (nByte -1: read up to the
        // NUL, in place); `statement` and `next` are valid out-pointers.
        let code = unsafe { ffi::sqlite3_prepare_v3(db, tail, -1, 0, &mut statement, &mut next) };
        if code != ffi::SQLITE_OK {
            // SAFETY: reads the error state of the connection we hold.
            let within = unsafe { ffi::sqlite3_error_offset(db) };
            let at = if within >= 0 {
                offset + within as usize
            } else {
                statement_start(sql, offset)
            };
            return Err(error(db, code, sql, at));
        }
        if statement.is_null() {
            // Only white space, comments or an empty `;` were left before `next`.
            if next.is_null() || next == tail {
                return Ok(());
            }
            tail = next;
            continue;
        }
        let result = loop {
            // SAFETY: `statement` is a live prepared statement of `db`.
            match unsafe { ffi::sqlite3_step(statement) } {
                ffi::SQLITE_ROW => continue,
                ffi::SQLITE_DONE => break Ok(()),
                code => break Err(error(db, code, sql, statement_start(sql, offset))),
            }
        };
        // SAFETY: finalized exactly once; the error was read before.
        unsafe { ffi::sqlite3_finalize(statement) };
        result?;
        let end = if next.is_null() {
            sql.len()
        } else {
            // SAFETY: `next` points into the same buffer as `start`, at or before its NUL.
            (unsafe { next.offset_from(start) } as usize).min(sql.len())
        };
        on_done(statement_start(sql, offset)..end);
        if inside_transaction && connection.is_autocommit() {
            return Err(failure(
                ffi::SQLITE_ERROR,
                format!(
                    "the statement{} ended the transaction strata runs the script in, so what \
                     ran before it was committed; transaction control is not allowed in scripts",
                    place(sql, statement_start(sql, offset))
                ),
            ));
        }
        tail = next;
    }
}

/// Where the statement after `offset` begins (past white space and comments).
fn statement_start(sql: &str, offset: usize) -> usize {
    statements(Engine::Sqlite, &sql[offset..])
        .next()
        .map_or(offset, |statement| offset + statement.span.start)
}

fn place(sql: &str, offset: usize) -> String {
    let (line, column) = crate::text::line_column(sql, offset);
    format!(" at line {line}, column {column}")
}

fn error(db: *mut ffi::sqlite3, code: i32, sql: &str, offset: usize) -> rusqlite::Error {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by the
    // connection, valid until the next call on it; it is copied at once.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: reads the error state of the connection we hold.
    let code = match unsafe { ffi::sqlite3_extended_errcode(db) } {
        0 => code,
        extended => extended,
    };
    failure(code, format!("{message}{}", place(sql, offset)))
}

fn failure(code: i32, message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_statements_in_order_and_names_the_failing_line() {
        let connection = Connection::open_in_memory().unwrap();
        run_script(
            &connection,
            "CREATE TABLE t (x);\n-- a comment\n;;INSERT INTO t VALUES (1);\nPRAGMA table_info(t);\n",
        )
        .unwrap();
        let count: i64 = connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 1);
        let error = run_script(
            &connection,
            "INSERT INTO t VALUES (2);\n  INSERT INTO nowhere VALUES (1);",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(error, "no such table: nowhere at line 2, column 3");
        let error = run_script(&connection, "INSERT INTO t VALUES (3);\n\n  SELECT 'a' + ;")
            .unwrap_err()
            .to_string();
        assert!(error.contains("at line 3"), "{error}");
    }

    #[test]
    fn a_commit_inside_a_transaction_stops_the_script() {
        let mut connection = Connection::open_in_memory().unwrap();
        connection.execute_batch("CREATE TABLE t (x)").unwrap();
        let transaction = connection.transaction().unwrap();
        let error = run_script(
            &transaction,
            "INSERT INTO t VALUES (1);\nCOMMIT;\nINSERT INTO t VALUES (2);",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("at line 2, column 1 ended the transaction"),
            "{error}"
        );
    }

    /// Outside a transaction each statement commits on its own: the spans of
    /// those that ran are reported, the failing one and those after it are not.
    #[test]
    fn reports_the_span_of_each_statement_that_ran() {
        let connection = Connection::open_in_memory().unwrap();
        let sql = "-- header\nCREATE TABLE t (x);\n\n INSERT INTO t VALUES (1);\nINSERT INTO nope VALUES (2);\nINSERT INTO t VALUES (3);\n";
        let mut ran = Vec::new();
        let error = run_script_reporting(&connection, sql, &mut |span| ran.push(span)).unwrap_err();
        assert!(error.to_string().contains("no such table: nope"), "{error}");
        let texts: Vec<&str> = ran.iter().map(|span| &sql[span.clone()]).collect();
        assert_eq!(texts, ["CREATE TABLE t (x);", "INSERT INTO t VALUES (1);"]);
        let count: i64 = connection
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }
}
