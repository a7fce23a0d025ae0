//! The statement shapes the patch engine runs, in standard SQL: the defaults of
//! [`super::Transaction`]'s `insert_sql`, `select_sql`, `update_sql`,
//! `delete_sql` and `insert_returning`. An engine whose SQL differs overrides
//! those methods instead of the patch engine learning about it.

use super::quote_identifier as q;
use crate::schema::Type;

/// `column = value`, or `column IS NULL` when `null` (binding no parameter).
#[derive(Debug, Clone, Copy)]
pub struct Condition<'a> {
    pub column: &'a str,
    pub ty: Option<&'a Type>,
    pub null: bool,
}

type Placeholder<'a> = &'a dyn Fn(usize, Option<&Type>) -> String;

pub fn insert(
    table: &str,
    columns: &[(&str, Option<&Type>)],
    rows: usize,
    placeholder: Placeholder<'_>,
) -> String {
    if columns.is_empty() {
        return format!("INSERT INTO {} DEFAULT VALUES", q(table));
    }
    let names: Vec<String> = columns.iter().map(|(name, _)| q(name)).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", q(table), names.join(", "));
    let mut n = 0;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (i, (_, ty)) in columns.iter().enumerate() {
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

pub fn returning(insert: &str, columns: &[&str]) -> String {
    let columns: Vec<String> = columns.iter().map(|c| q(c)).collect();
    format!("{insert} RETURNING {}", columns.join(", "))
}

/// ` WHERE "a" = $1 AND "b" IS NULL`, or nothing without conditions.
fn where_clause(
    conditions: &[Condition<'_>],
    first: usize,
    placeholder: Placeholder<'_>,
) -> String {
    let mut n = first;
    let parts: Vec<String> = conditions
        .iter()
        .map(|condition| {
            if condition.null {
                format!("{} IS NULL", q(condition.column))
            } else {
                n += 1;
                format!("{} = {}", q(condition.column), placeholder(n, condition.ty))
            }
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    }
}

pub fn select(
    table: &str,
    columns: &[&str],
    conditions: &[Condition<'_>],
    limit: usize,
    placeholder: Placeholder<'_>,
) -> String {
    let columns: Vec<String> = if columns.is_empty() {
        vec!["1".to_string()]
    } else {
        columns.iter().map(|c| q(c)).collect()
    };
    format!(
        "SELECT {} FROM {}{} LIMIT {limit}",
        columns.join(", "),
        q(table),
        where_clause(conditions, 0, placeholder)
    )
}

pub fn update(
    table: &str,
    set: &[(&str, Option<&Type>)],
    conditions: &[Condition<'_>],
    placeholder: Placeholder<'_>,
) -> String {
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, (column, ty))| format!("{} = {}", q(column), placeholder(i + 1, *ty)))
        .collect();
    format!(
        "UPDATE {} SET {}{}",
        q(table),
        assignments.join(", "),
        where_clause(conditions, set.len(), placeholder)
    )
}

pub fn delete(table: &str, conditions: &[Condition<'_>], placeholder: Placeholder<'_>) -> String {
    format!(
        "DELETE FROM {}{}",
        q(table),
        where_clause(conditions, 0, placeholder)
    )
}
