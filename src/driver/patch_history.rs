//! The patch history table. Its SQL is plain enough to be shared by every driver.

use super::{SqlValue, Transaction};
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

pub fn ensure(transaction: &mut dyn Transaction) -> Result<()> {
    if transaction.table_exists(PATCH_HISTORY_TABLE)? {
        return Ok(());
    }
    transaction
        .execute_script(&format!(
            "CREATE TABLE {PATCH_HISTORY_TABLE} (
    name VARCHAR(255) NOT NULL PRIMARY KEY,
    checksum VARCHAR(64) NOT NULL,
    rows_changed BIGINT NOT NULL,
    applied_at VARCHAR(40) NOT NULL,
    duration_ms BIGINT NOT NULL
);"
        ))
        .map(|_| ())
}

pub fn read(transaction: &mut dyn Transaction) -> Result<Vec<AppliedPatch>> {
    if !transaction.table_exists(PATCH_HISTORY_TABLE)? {
        return Ok(Vec::new());
    }
    let rows = transaction.query(
        &format!(
            "SELECT name, checksum, rows_changed, applied_at, duration_ms FROM {PATCH_HISTORY_TABLE} ORDER BY name"
        ),
        &[],
    )?;
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [SqlValue::Text(name), SqlValue::Text(checksum), SqlValue::Integer(rows_changed), SqlValue::Text(applied_at), SqlValue::Integer(duration_ms)] => {
                Ok(AppliedPatch {
                    name: name.clone(),
                    checksum: checksum.clone(),
                    rows_changed: *rows_changed,
                    applied_at: applied_at.clone(),
                    duration_ms: *duration_ms,
                })
            }
            other => Err(Error::Database(format!(
                "{PATCH_HISTORY_TABLE} has an unexpected row {other:?}; was it edited by hand?"
            ))),
        })
        .collect()
}

pub fn record(transaction: &mut dyn Transaction, patch: &AppliedPatch) -> Result<()> {
    let placeholders: Vec<String> = (1..=5).map(|n| transaction.placeholder(n, None)).collect();
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
