//! One changed row, as a patch reports it: structured, so that the command line
//! can print it for people (before → after, coloured), as JSON, and mark the keys
//! a dry run's database generated as provisional.

use std::fmt;

use crate::driver::SqlValue;

/// A row a patch inserted, updated or deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub table: String,
    /// The row's primary key, column by column (empty when the table has none).
    pub key: Vec<(String, SqlValue)>,
    /// The row's name-like column (`name`, `title`, …), to tell people which row.
    pub label: Option<SqlValue>,
    /// Key columns whose values the database generated for this insert (the patch
    /// did not give them). After a dry run's rollback, PostgreSQL's sequences keep
    /// their new values, so the real run will not use these.
    pub generated: Vec<String>,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Inserted(Vec<ColumnValue>),
    /// The columns that changed; empty when the update left the row as it was.
    Updated(Vec<ColumnChange>),
    Deleted,
}

/// `team_id = 1 (team "Preventers")`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnValue {
    pub column: String,
    pub value: SqlValue,
    pub reference: Option<Reference>,
}

/// `team_id null → 1 (team "Preventers")`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnChange {
    pub column: String,
    pub before: SqlValue,
    pub after: SqlValue,
    pub reference: Option<Reference>,
}

/// Where a `ref` value came from: the key of `table`'s row `description` names.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub table: String,
    /// `team "Preventers"`.
    pub description: String,
}

impl RowChange {
    /// `hero id=3 "Spider-Boy"`.
    pub fn identity(&self) -> String {
        let mut text = self.table.clone();
        for (column, value) in &self.key {
            text.push_str(&format!(
                " {column}={}",
                value.to_string().trim_matches('"')
            ));
        }
        if let Some(label) = &self.label {
            text.push_str(&format!(" {label}"));
        }
        text
    }

    /// The key values, in key order (what a later row or `ref` would carry).
    pub fn key_values(&self) -> Vec<SqlValue> {
        self.key.iter().map(|(_, value)| value.clone()).collect()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({})", self.description)
    }
}

/// The plain line: `hero id=3 "Spider-Boy": team_id null → 1 (team "Preventers")`.
impl fmt::Display for RowChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.identity())?;
        match &self.change {
            Change::Inserted(values) => {
                let parts: Vec<String> = values
                    .iter()
                    .map(|v| {
                        let note = v
                            .reference
                            .as_ref()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default();
                        format!("{} = {}{note}", v.column, v.value)
                    })
                    .collect();
                write!(f, "inserted {}", parts.join(", "))
            }
            Change::Updated(changes) if changes.is_empty() => f.write_str("unchanged"),
            Change::Updated(changes) => {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|c| {
                        let note = c
                            .reference
                            .as_ref()
                            .map(|r| format!(" {r}"))
                            .unwrap_or_default();
                        format!("{} {} → {}{note}", c.column, c.before, c.after)
                    })
                    .collect();
                f.write_str(&parts.join(", "))
            }
            Change::Deleted => f.write_str("deleted"),
        }
    }
}
