//! Changes → SQLite statements.

use std::collections::HashSet;

use super::types::declared_type;
use crate::driver::ddl::{self, column_list, create_index, drop_index, references};
use crate::driver::{quote_identifier as q, Unsupported};
use crate::schema::{Change, Column, ForeignKey, Table};

pub fn plan(changes: &[Change]) -> Result<Vec<String>, Vec<Unsupported>> {
    // SQLite cannot add a foreign key to an existing column, but a column added in
    // this same migration can carry its REFERENCES clause.
    let added_columns: HashSet<(&str, &str)> = changes
        .iter()
        .filter_map(|change| match change {
            Change::AddColumn { table, column } => Some((table.as_str(), column.name.as_str())),
            _ => None,
        })
        .collect();
    let folded_foreign_key = |table: &str, fk: &ForeignKey| {
        fk.columns.len() == 1 && added_columns.contains(&(table, fk.columns[0].as_str()))
    };

    let mut statements = Vec::new();
    let mut unsupported = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable(table) => statements.push(create_table(table)),
            Change::CreateIndex { table, index } => statements.push(create_index(table, index)),
            Change::DropIndex { index, .. } => statements.push(drop_index(index)),
            Change::AddColumn { table, column } => match add_column(table, column, changes) {
                Ok(statement) => statements.push(statement),
                Err(reason) => unsupported.push(Unsupported {
                    change: change.to_string(),
                    reason,
                }),
            },
            Change::AddForeignKey { table, foreign_key }
                if folded_foreign_key(table, foreign_key) => {}
            other => unsupported.push(Unsupported {
                change: other.to_string(),
                reason:
                    "SQLite needs a table rebuild for this, which strata does not generate yet; \
                         write this migration by hand"
                        .to_string(),
            }),
        }
    }
    if unsupported.is_empty() {
        Ok(statements)
    } else {
        Err(unsupported)
    }
}

fn column_definition(column: &Column) -> String {
    ddl::column_definition(column, &declared_type(&column.ty), sqlite_boolean)
}

/// The layout SQLAlchemy's `create_all` uses: columns, then the primary key, unique
/// constraints and foreign keys as table constraints. A single INTEGER primary key
/// declared this way is still SQLite's rowid alias.
fn create_table(table: &Table) -> String {
    let mut lines: Vec<String> = table.columns.iter().map(column_definition).collect();
    if let Some(pk) = &table.primary_key {
        lines.push(format!("PRIMARY KEY ({})", column_list(&pk.columns)));
    }
    for unique in &table.uniques {
        lines.push(format!("UNIQUE ({})", column_list(&unique.columns)));
    }
    for fk in &table.foreign_keys {
        lines.push(format!(
            "FOREIGN KEY ({}) {}",
            column_list(&fk.columns),
            references(fk)
        ));
    }
    format!(
        "CREATE TABLE {} (\n    {}\n);",
        q(&table.name),
        lines.join(",\n    ")
    )
}

fn add_column(table: &str, column: &Column, changes: &[Change]) -> Result<String, String> {
    if let Some(problem) = ddl::add_column_problem(table, column) {
        return Err(problem);
    }
    let mut sql = format!(
        "ALTER TABLE {} ADD COLUMN {}",
        q(table),
        column_definition(column)
    );
    let foreign_key = changes.iter().find_map(|change| match change {
        Change::AddForeignKey {
            table: t,
            foreign_key,
        } if t == table && foreign_key.columns == [column.name.clone()] => Some(foreign_key),
        _ => None,
    });
    if let Some(fk) = foreign_key {
        sql.push(' ');
        sql.push_str(&references(fk));
    }
    sql.push(';');
    Ok(sql)
}

/// SQLite has no boolean type; SQLAlchemy stores booleans as 1 and 0.
fn sqlite_boolean(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}
