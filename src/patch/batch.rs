//! Multi-row INSERTs: the rows of an `[[insert]]` go to the database in chunks of
//! `INSERT … VALUES (…), (…), …` instead of one statement (one round trip on
//! PostgreSQL) each. Kept apart from the rest of the patch engine so that the
//! SQL shape can move into the dialects later without touching the chunking.

use std::ops::Range;

use super::file::Assignment;
use crate::driver::quote_identifier as q;
use crate::schema::{Table, Type};

/// Rows per statement at most: past a few hundred rows a bigger statement saves
/// no measurable time, while its text and parameters cost memory.
pub const MAX_ROWS_PER_STATEMENT: usize = 1000;

/// Consecutive rows naming the same columns in the same order, each range at
/// most [`MAX_ROWS_PER_STATEMENT`] rows and `max_parameters` bound values.
/// A row naming no column (`INSERT … DEFAULT VALUES`) is a chunk of its own.
pub fn chunks(rows: &[Vec<Assignment>], max_parameters: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let limit = max_parameters
            .checked_div(rows[start].len())
            .map_or(1, |rows| rows.clamp(1, MAX_ROWS_PER_STATEMENT));
        let mut end = start + 1;
        while end < rows.len() && end - start < limit && same_columns(&rows[start], &rows[end]) {
            end += 1;
        }
        ranges.push(start..end);
        start = end;
    }
    ranges
}

fn same_columns(a: &[Assignment], b: &[Assignment]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.column.get_ref() == y.column.get_ref())
}

/// `INSERT INTO "t" ("a", "b") VALUES (?1, ?2), (?3, ?4)` for `rows` rows naming
/// the columns of `first`; `placeholder(n, type)` writes the dialect's `n`-th
/// bound parameter.
pub fn insert_sql(
    table: &Table,
    first: &[Assignment],
    rows: usize,
    placeholder: &dyn Fn(usize, Option<&Type>) -> String,
) -> String {
    if first.is_empty() {
        return format!("INSERT INTO {} DEFAULT VALUES", q(&table.name));
    }
    let columns: Vec<String> = first.iter().map(|a| q(a.column.get_ref())).collect();
    let types: Vec<Option<&Type>> = first
        .iter()
        .map(|a| table.column(a.column.get_ref()).map(|c| &c.ty))
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ",
        q(&table.name),
        columns.join(", ")
    );
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (i, ty) in types.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&placeholder(n, *ty));
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::{PatchValue, ValueKind};
    use toml::Spanned;

    fn row(columns: &[&str]) -> Vec<Assignment> {
        columns
            .iter()
            .map(|c| Assignment {
                column: Spanned::new(0..0, c.to_string()),
                value: PatchValue {
                    span: 0..0,
                    kind: ValueKind::Integer(1),
                },
            })
            .collect()
    }

    #[test]
    fn chunks_follow_columns_and_limits() {
        let mut rows = vec![row(&["a", "b"]); 2500];
        rows.push(row(&["a"]));
        rows.push(row(&[]));
        rows.push(row(&[]));
        assert_eq!(
            chunks(&rows, 65_535),
            [
                0..1000,
                1000..2000,
                2000..2500,
                2500..2501,
                2501..2502,
                2502..2503
            ]
        );
        // 999 parameters hold 499 rows of two columns.
        assert_eq!(chunks(&rows[..1000], 999), [0..499, 499..998, 998..1000]);
    }
}
