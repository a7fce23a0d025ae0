//! SQLite's table rebuild (<https://www.sqlite.org/lang_altertable.html>, "Making
//! Other Kinds Of Table Schema Changes"), for the changes `ALTER TABLE` cannot
//! make in place: create `<table>_new` in the target shape, copy the rows by SQL
//! with an explicit column list, drop the old table, rename the new one, and
//! re-create the table's indexes. Foreign keys are off meanwhile (the migration's
//! `-- strata: foreign-keys-off` directive), so tables referencing this one keep
//! their rows, and `PRAGMA foreign_key_check` runs before COMMIT.
//!
//! Renames are not part of the rebuild: they run first, in place, because
//! `ALTER TABLE … RENAME` also rewrites the REFERENCES clauses of other tables,
//! which a rebuild cannot reach.

use super::types::declared_type;
use crate::driver::ddl::{self, create_index};
use crate::driver::quote_identifier as q;
use crate::schema::{Column, Schema, Table};
use crate::text::printable;

/// SQLite's type affinity of a declared type (section 3.1 of
/// <https://www.sqlite.org/datatype3.html>): what it stores a value as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|w| upper.contains(w)) {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|w| upper.contains(w)) {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// How a column's values are copied into its new definition.
struct Copy {
    expression: String,
    /// Said in the step's comment: `age through CAST(… AS INTEGER)`.
    note: Option<String>,
}

/// The copy of `before` into `after`. A change of affinity to INTEGER, REAL or
/// TEXT is an explicit `CAST`; to NUMERIC (dates, booleans, decimals) or BLOB the
/// new column's affinity converts what can be converted, which `CAST … AS NUMERIC`
/// would not do as gently (it turns '2024-01-02' into 2024). A column that becomes
/// NOT NULL with a default gets the default where it held NULL.
fn copy(before: &Column, after: &Column) -> Copy {
    let mut expression = q(&before.name);
    let mut notes = Vec::new();
    let from = declared_type(&before.ty);
    let to = declared_type(&after.ty);
    let target = affinity(&to);
    if affinity(&from) != target
        && matches!(target, Affinity::Integer | Affinity::Real | Affinity::Text)
    {
        expression = format!("CAST({expression} AS {to})");
        notes.push(format!("CAST(… AS {to})"));
    }
    if before.nullable && !after.nullable {
        if let Some(default) = &after.default {
            let value = ddl::default_value(default, super::plan::sqlite_boolean);
            expression = format!("COALESCE({expression}, {value})");
            notes.push(format!("NULL → {}", printable(&value)));
        }
    }
    Copy {
        expression,
        note: (!notes.is_empty())
            .then(|| format!("{} through {}", printable(&after.name), notes.join(" and "))),
    }
}

/// The rebuild's statements (one a line) and what the copy does to values, for
/// the step's comment. `names` are every table name in play, so the scratch table's
/// name meets none of them.
pub fn rebuild(before: &Table, after: &Table, names: &[&Schema]) -> (String, Vec<String>) {
    let scratch = scratch_name(&after.name, names);
    let mut shape = after.clone();
    shape.name = scratch.clone();
    let mut sql = vec![super::plan::create_table_as(&shape, &after.name)];

    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut notes = Vec::new();
    for column in &after.columns {
        if column.generated.is_some() {
            // Computed by the new table itself; it takes no value.
            continue;
        }
        if let Some(old) = before.column(&column.name) {
            let copy = copy(old, column);
            columns.push(q(&column.name));
            values.push(copy.expression);
            notes.extend(copy.note);
        } else if !column.nullable && column.default.is_none() {
            // Only a down file re-creates a NOT NULL column without a default
            // (its data is gone): the rows that exist get the type's zero.
            if let Some(zero) = ddl::zero_value(&column.ty, super::plan::sqlite_boolean) {
                columns.push(q(&column.name));
                values.push(zero);
            }
        }
    }
    if columns.is_empty() {
        // No column survives: the rows still do (their new columns take defaults).
        columns.push("\"rowid\"".to_string());
        values.push("\"rowid\"".to_string());
    }
    sql.push(format!(
        "INSERT INTO {} ({}) SELECT {} FROM {};",
        q(&scratch),
        columns.join(", "),
        values.join(", "),
        q(&before.name)
    ));
    sql.push(format!("DROP TABLE {};", q(&before.name)));
    sql.push(format!(
        "ALTER TABLE {} RENAME TO {};",
        q(&scratch),
        q(&after.name)
    ));
    sql.extend(
        after
            .indexes
            .iter()
            .map(|index| create_index(&after.name, index)),
    );
    (sql.join("\n"), notes)
}

/// Why rebuilding `after` back into `before` would not give the data back, if it
/// would not: a column that is gone, or values cast to another affinity.
pub fn lossy(before: &Table, after: &Table) -> Option<String> {
    let table = printable(&after.name);
    if let Some(gone) = before
        .columns
        .iter()
        .find(|column| after.column(&column.name).is_none())
    {
        return Some(format!(
            "the rebuild of {table} drops column {}; its data cannot be restored by SQL",
            printable(&gone.name)
        ));
    }
    before.columns.iter().find_map(|old| {
        let new = after.column(&old.name)?;
        let (from, to) = (declared_type(&old.ty), declared_type(&new.ty));
        (affinity(&from) != affinity(&to)).then(|| {
            format!(
                "the rebuild of {table} converts {}.{} from {from} to {to}; converting back may not restore every value",
                table,
                printable(&old.name)
            )
        })
    })
}

/// `<table>_new`, or `<table>_new_2`… when that name is taken (SQLite compares
/// names without letter case).
fn scratch_name(table: &str, schemas: &[&Schema]) -> String {
    let taken = |name: &str| {
        schemas.iter().any(|schema| {
            schema
                .tables
                .iter()
                .any(|t| t.name.eq_ignore_ascii_case(name))
        })
    };
    let mut name = format!("{table}_new");
    let mut n = 2;
    while taken(&name) {
        name = format!("{table}_new_{n}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinities_follow_sqlites_rules() {
        assert_eq!(affinity("BIGINT"), Affinity::Integer);
        assert_eq!(affinity("VARCHAR(20)"), Affinity::Text);
        assert_eq!(affinity("BLOB"), Affinity::Blob);
        assert_eq!(affinity("DOUBLE"), Affinity::Real);
        assert_eq!(affinity("DATETIME"), Affinity::Numeric);
        assert_eq!(affinity("BOOLEAN"), Affinity::Numeric);
    }
}
