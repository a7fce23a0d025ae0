//! The migration history table (refinery's `refinery_schema_history`): its rows
//! come from the engine ([`crate::driver::Database::history_rows`]), and are
//! checked here, the same for every engine. refinery's own readers
//! panic on a row they cannot parse (a hand-edited table); here every row is
//! checked and a malformed one is an error that names it.

use crate::driver::{AppliedMigration, SqlValue, HISTORY_TABLE};
use crate::{Error, Result};

/// Checks every history row and turns it into an [`AppliedMigration`].
pub fn parse_rows(rows: &[Vec<SqlValue>]) -> Result<Vec<AppliedMigration>> {
    rows.iter()
        .enumerate()
        .map(|(index, row)| parse_row(index, row))
        .collect()
}

/// One row, or an error naming it (by version when that much is readable, else
/// by position) and saying which column is wrong and what it should hold.
fn parse_row(index: usize, row: &[SqlValue]) -> Result<AppliedMigration> {
    let [version, name, applied_on, checksum] = row else {
        return Err(malformed(
            &format!("row {}", index + 1),
            &format!("has {} columns instead of 4", row.len()),
        ));
    };
    let version = match version {
        SqlValue::Integer(n) => i32::try_from(*n).map_err(|_| {
            malformed(
                &format!("row {}", index + 1),
                &format!("version {n} does not fit a 32-bit migration version"),
            )
        })?,
        other => {
            return Err(malformed(
                &format!("row {}", index + 1),
                &format!("version is {other}, not an integer"),
            ))
        }
    };
    let name = match name {
        SqlValue::Text(text) => text.clone(),
        other => {
            return Err(malformed(
                &format!("version {version}"),
                &format!("name is {other}, not text"),
            ))
        }
    };
    let label = format!("version {version} (V{version}__{name})");
    let applied_on = match applied_on {
        SqlValue::Text(text) => text.clone(),
        // refinery writes it; strata only shows it, so a missing date is no error.
        SqlValue::Null => String::new(),
        other => {
            return Err(malformed(
                &label,
                &format!("applied_on is {other}, not text"),
            ))
        }
    };
    let checksum = match checksum {
        SqlValue::Text(text) => text.trim().parse::<u64>().map_err(|_| {
            malformed(
                &label,
                &format!(
                    "checksum {} is not refinery's checksum (an unsigned 64-bit number written as text)",
                    SqlValue::Text(text.clone())
                ),
            )
        })?,
        other => {
            return Err(malformed(
                &label,
                &format!("checksum is {other}, not text holding a number"),
            ))
        }
    };
    Ok(AppliedMigration {
        version,
        name,
        checksum,
        applied_on,
    })
}

fn malformed(row: &str, problem: &str) -> Error {
    Error::Database(format!(
        "{HISTORY_TABLE}: the row for {row} {problem}; the table was edited by hand or by \
         another tool. Restore the row as refinery wrote it (or delete it and re-apply that \
         migration) before running strata again"
    ))
}
