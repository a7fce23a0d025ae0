//! Multi-row INSERTs: the rows of an `[[insert]]` go to the database in chunks of
//! `INSERT … VALUES (…), (…), …` instead of one statement (one round trip on
//! PostgreSQL) each. The SQL itself is the engine's
//! ([`crate::driver::Transaction::insert_sql`]); this module only chunks.

use std::ops::Range;

use super::file::Assignment;
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

/// The columns the rows of a chunk name (those of its first row), with their
/// declared types, for [`crate::driver::Transaction::insert_sql`].
pub fn columns<'t>(table: &'t Table, first: &'t [Assignment]) -> Vec<(&'t str, Option<&'t Type>)> {
    first
        .iter()
        .map(|a| {
            let column = a.column.get_ref().as_str();
            (column, table.column(column).map(|c| &c.ty))
        })
        .collect()
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
