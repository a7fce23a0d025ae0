//! The patch history table. Its SQL is plain enough to be shared by every driver.

use super::{SqlValue, Transaction};
use crate::schema::Type;
use crate::{Error, Result};

pub const PATCH_HISTORY_TABLE: &str = "strata_patch_history";

/// A row of `strata_patch_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPatch {
    pub name: String,
    pub checksum: String,
    pub rows_changed: i64,
    pub applied_at: String,
    pub duration_ms: i64,
}

/// The table's columns, for `CREATE TABLE` and `CREATE TABLE IF NOT EXISTS`.
pub const PATCH_HISTORY_COLUMNS: &str = "(
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    checksum VARCHAR(64) NOT NULL,
    rows_changed BIGINT NOT NULL,
    applied_at VARCHAR(40) NOT NULL,
    duration_ms BIGINT NOT NULL
)";

/// The history, oldest name first.
pub const SELECT_PATCH_HISTORY: &str =
    "SELECT name, checksum, rows_changed, applied_at, duration_ms FROM strata_patch_history ORDER BY name";

pub fn ensure(transaction: &mut dyn Transaction) -> Result<()> {
    if transaction.table_exists(PATCH_HISTORY_TABLE)? {
        return Ok(());
    }
    transaction
        .execute_script(&format!(
            "CREATE TABLE {PATCH_HISTORY_TABLE} {PATCH_HISTORY_COLUMNS};"
        ))
        .map(|_| ())
}

/// [`ensure`] then [`read`], in one round trip where the engine can
/// ([`Transaction::ensure_patch_history_rows`]): what a patch does under its
/// lock before it runs.
pub fn ensure_and_read(transaction: &mut dyn Transaction) -> Result<Vec<AppliedPatch>> {
    match transaction.ensure_patch_history_rows() {
        Some(rows) => parse(rows?),
        None => {
            ensure(transaction)?;
            read(transaction)
        }
    }
}

pub fn read(transaction: &mut dyn Transaction) -> Result<Vec<AppliedPatch>> {
    if !transaction.table_exists(PATCH_HISTORY_TABLE)? {
        return Ok(Vec::new());
    }
    let rows = transaction.query(SELECT_PATCH_HISTORY, &[])?;
    parse(rows)
}

/// The rows of [`SELECT_PATCH_HISTORY`] as patches; an engine that reads them
/// as text (PostgreSQL's one-round-trip reads) hands the numbers over as text.
pub fn parse(rows: Vec<Vec<SqlValue>>) -> Result<Vec<AppliedPatch>> {
    let number = |value: &SqlValue| match value {
        SqlValue::Integer(n) => Some(*n),
        SqlValue::Text(text) => text.parse().ok(),
        _ => None,
    };
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [SqlValue::Text(name), SqlValue::Text(checksum), rows_changed, SqlValue::Text(applied_at), duration_ms]
                if number(rows_changed).is_some() && number(duration_ms).is_some() =>
            {
                Ok(AppliedPatch {
                    name: name.clone(),
                    checksum: checksum.clone(),
                    rows_changed: number(rows_changed).unwrap_or_default(),
                    applied_at: applied_at.clone(),
                    duration_ms: number(duration_ms).unwrap_or_default(),
                })
            }
            other => Err(Error::Database(format!(
                "{PATCH_HISTORY_TABLE} has an unexpected row {other:?}; was it edited by hand?"
            ))),
        })
        .collect()
}

pub fn record(transaction: &mut dyn Transaction, patch: &AppliedPatch) -> Result<()> {
    // Typed placeholders: PostgreSQL then binds the row in one round trip.
    let types = [
        Type::Text,
        Type::Text,
        Type::BigInt,
        Type::Text,
        Type::BigInt,
    ];
    let placeholders: Vec<String> = (1..=5)
        .map(|n| transaction.placeholder(n, Some(&types[n - 1])))
        .collect();
    transaction.execute(
        &format!(
            "INSERT INTO {PATCH_HISTORY_TABLE} (name, checksum, rows_changed, applied_at, duration_ms) VALUES ({})",
            placeholders.join(", ")
        ),
        &[
            SqlValue::Text(patch.name.clone()),
            SqlValue::Text(patch.checksum.clone()),
            SqlValue::Integer(patch.rows_changed),
            SqlValue::Text(patch.applied_at.clone()),
            SqlValue::Integer(patch.duration_ms),
        ],
    )?;
    Ok(())
}
