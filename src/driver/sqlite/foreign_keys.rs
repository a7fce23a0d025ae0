//! Running a migration with foreign keys off, as SQLite's table rebuild needs
//! (<https://www.sqlite.org/lang_altertable.html>, "Making Other Kinds Of Table
//! Schema Changes"): off before the transaction (`PRAGMA foreign_keys` does
//! nothing inside one), `PRAGMA foreign_key_check` before COMMIT so that a
//! migration cannot leave a row pointing at nothing, and back on afterwards,
//! whether the migration committed or not.

use rusqlite::{ffi, Connection};

/// Runs `work` in a transaction with foreign keys off, checks every foreign key
/// before committing (a violation rolls everything back with an error naming each
/// table and how many of its rows have no parent), and restores the connection's
/// `foreign_keys` setting on every path.
pub fn with_foreign_keys_off<T>(
    connection: &mut Connection,
    work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let was_on: bool = connection.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    connection.pragma_update(None, "foreign_keys", false)?;
    let result: rusqlite::Result<T> = (|| {
        let transaction = connection.transaction()?;
        let value = work(&transaction)?;
        check(&transaction)?;
        transaction.commit()?;
        Ok(value)
    })();
    let restored = connection.pragma_update(None, "foreign_keys", was_on);
    let value = result?;
    restored?;
    Ok(value)
}

/// `PRAGMA foreign_key_check` over the whole database, as an error when it finds
/// anything: "2 rows of hero (hero.team_id → team.id)".
pub fn check(connection: &Connection) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(
        "SELECT c.\"table\", c.parent, c.fkid, count(*) \
         FROM pragma_foreign_key_check AS c GROUP BY 1, 2, 3 ORDER BY 1, 3",
    )?;
    let groups = statement
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if groups.is_empty() {
        return Ok(());
    }
    let mut found = Vec::new();
    for (table, parent, id, count) in groups {
        let mut columns = connection.prepare(
            "SELECT \"from\", coalesce(\"to\", '') FROM pragma_foreign_key_list(?1) \
             WHERE id = ?2 ORDER BY seq",
        )?;
        let pairs = columns
            .query_map(rusqlite::params![table, id], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let from: Vec<&str> = pairs.iter().map(|(from, _)| from.as_str()).collect();
        let to: Vec<&str> = pairs.iter().map(|(_, to)| to.as_str()).collect();
        found.push(format!(
            "{} of {} ({}.{} → {}.{})",
            crate::text::plural(count as usize, "row"),
            printable(&table),
            printable(&table),
            printable(&group(&from)),
            printable(&parent),
            printable(&group(&to)),
        ));
    }
    Err(rusqlite::Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
        Some(format!(
            "PRAGMA foreign_key_check found rows whose foreign key points at no row after \
             the migration ran with foreign keys off: {}",
            found.join("; ")
        )),
    ))
}

/// `a` or `(a, b)`.
fn group(columns: &[&str]) -> String {
    match columns {
        [one] => (*one).to_string(),
        many => format!("({})", many.join(", ")),
    }
}

fn printable(text: &str) -> String {
    crate::text::printable(text).into_owned()
}
