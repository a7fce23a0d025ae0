//! A drop and an add that look like a rename without a `renamed_from` hint. Left
//! alone they would be generated as a drop (losing the data) and an empty add, so
//! `generate` stops and says which hint to add.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::schema::{Change, Schema, Table};
use crate::text::printable;

/// A drop paired with an add that may be the same thing under a new name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspectedRename {
    /// In `table` (its name in the target schema), column `from` went away and
    /// `to`, of the same type, appeared.
    Column {
        table: String,
        from: String,
        to: String,
    },
    /// Table `from` went away and `to`, with the same columns, appeared.
    Table { from: String, to: String },
}

impl SuspectedRename {
    /// Whether `change` is the drop this rename would replace.
    pub fn is_drop_of(&self, change: &Change) -> bool {
        match (self, change) {
            (
                SuspectedRename::Column { table, from, .. },
                Change::DropColumn { table: t, column },
            ) => t == table && column == from,
            (SuspectedRename::Table { from, .. }, Change::DropTable { table }) => table == from,
            _ => false,
        }
    }
}

impl fmt::Display for SuspectedRename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuspectedRename::Column { table, from, to } => write!(
                f,
                "did you mean to rename {table}.{from} to {table}.{to}? add renamed_from = \"{from}\"",
                table = printable(table),
                from = printable(from),
                to = printable(to),
            ),
            SuspectedRename::Table { from, to } => write!(
                f,
                "did you mean to rename table {} to {}? add renamed_from = \"{}\" to [table.{}]",
                printable(from),
                printable(to),
                printable(from),
                printable(to),
            ),
        }
    }
}

/// The drops in `changes` (from `current` to the target) that are paired with an
/// add of the same shape: a column of the same type added to the same table, or a
/// table created with the same columns (names and types, in order). Each add is
/// paired at most once, in declaration order.
pub fn suspected_renames(current: &Schema, changes: &[Change]) -> Vec<SuspectedRename> {
    let mut found = Vec::new();

    // Tables: a dropped table whose columns a created table repeats.
    let mut created: Vec<&Table> = changes
        .iter()
        .filter_map(|change| match change {
            Change::CreateTable(table) => Some(table),
            _ => None,
        })
        .collect();
    for change in changes {
        let Change::DropTable { table } = change else {
            continue;
        };
        let Some(dropped) = current.table(table) else {
            continue;
        };
        if let Some(position) = created.iter().position(|new| same_columns(dropped, new)) {
            let new = created.remove(position);
            found.push(SuspectedRename::Table {
                from: dropped.name.clone(),
                to: new.name.clone(),
            });
        }
    }

    // Columns: within one table, a dropped column and an added one of the same type.
    // The table may have been renamed in the same changes: its columns are found
    // under its old name in `current`.
    let old_name: HashMap<&str, &str> = changes
        .iter()
        .filter_map(|change| match change {
            Change::RenameTable { from, to } => Some((to.as_str(), from.as_str())),
            _ => None,
        })
        .collect();
    let mut paired: HashSet<(&str, &str)> = HashSet::new();
    for change in changes {
        let Change::DropColumn { table, column } = change else {
            continue;
        };
        let current_table = old_name.get(table.as_str()).copied().unwrap_or(table);
        let Some(dropped) = current.table(current_table).and_then(|t| t.column(column)) else {
            continue;
        };
        let added = changes.iter().find_map(|change| match change {
            Change::AddColumn { table: t, column }
                if t == table
                    && column.ty == dropped.ty
                    && !paired.contains(&(t.as_str(), column.name.as_str())) =>
            {
                Some(column)
            }
            _ => None,
        });
        if let Some(added) = added {
            paired.insert((table.as_str(), added.name.as_str()));
            found.push(SuspectedRename::Column {
                table: table.clone(),
                from: dropped.name.clone(),
                to: added.name.clone(),
            });
        }
    }
    found
}

fn same_columns(a: &Table, b: &Table) -> bool {
    a.columns.len() == b.columns.len()
        && a.columns
            .iter()
            .zip(&b.columns)
            .all(|(x, y)| x.name == y.name && x.ty == y.ty)
}
