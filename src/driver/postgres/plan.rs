//! Changes → PostgreSQL statements, with constraint names spelled the way
//! PostgreSQL itself would choose them (`hero_pkey`, `hero_team_id_fkey`).

use std::collections::HashSet;

use super::types::{declared_type, serial_type};
use crate::driver::ddl::{self, column_list, create_index, drop_index, references};
use crate::driver::{quote_identifier as q, Unsupported};
use crate::schema::{Change, Column, ForeignKey, Table};

pub fn plan(changes: &[Change]) -> Result<Vec<String>, Vec<Unsupported>> {
    let mut statements = Vec::new();
    let mut deferred_foreign_keys = Vec::new();
    let mut unsupported = Vec::new();
    let mut created: HashSet<&str> = HashSet::new();
    let new_tables: HashSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    for change in changes {
        match change {
            Change::CreateTable(table) => {
                created.insert(table.name.as_str());
                // A foreign key to a table created later in this migration (a cycle)
                // is added once both tables exist.
                let (now, later): (Vec<&ForeignKey>, Vec<&ForeignKey>) =
                    table.foreign_keys.iter().partition(|fk| {
                        fk.referenced_table == table.name
                            || created.contains(fk.referenced_table.as_str())
                            || !new_tables.contains(fk.referenced_table.as_str())
                    });
                statements.push(create_table(table, &now));
                deferred_foreign_keys
                    .extend(later.into_iter().map(|fk| add_foreign_key(&table.name, fk)));
            }
            Change::CreateIndex { table, index } => statements.push(create_index(table, index)),
            Change::DropIndex { index, .. } => statements.push(drop_index(index)),
            Change::AddColumn { table, column } => {
                if let Some(reason) = ddl::add_column_problem(table, column) {
                    unsupported.push(Unsupported {
                        change: change.to_string(),
                        reason,
                    });
                } else {
                    statements.push(format!(
                        "ALTER TABLE {} ADD COLUMN {};",
                        q(table),
                        column_definition(column, false)
                    ));
                }
            }
            Change::AddForeignKey { table, foreign_key } => {
                deferred_foreign_keys.push(add_foreign_key(table, foreign_key))
            }
            Change::AddUnique { table, unique } => statements.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                q(table),
                q(&unique.name),
                column_list(&unique.columns)
            )),
            other => unsupported.push(Unsupported {
                change: other.to_string(),
                reason: "strata does not generate this change yet; write this migration by hand"
                    .to_string(),
            }),
        }
    }
    statements.extend(deferred_foreign_keys);
    if unsupported.is_empty() {
        Ok(statements)
    } else {
        Err(unsupported)
    }
}

/// `serial` marks the single integer primary key, which PostgreSQL numbers itself.
fn column_definition(column: &Column, serial: bool) -> String {
    let ty = match serial_type(&column.ty).filter(|_| serial) {
        Some(serial) => serial.to_string(),
        None => declared_type(&column.ty),
    };
    ddl::column_definition(column, &ty, postgres_boolean)
}

fn add_foreign_key(table: &str, fk: &ForeignKey) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) {};",
        q(table),
        q(&fk.name),
        column_list(&fk.columns),
        references(fk)
    )
}

/// Whether `column` is the table's single integer primary key without a default.
pub fn is_serial(table: &Table, column: &Column) -> bool {
    column.default.is_none()
        && serial_type(&column.ty).is_some()
        && table
            .primary_key
            .as_ref()
            .is_some_and(|pk| pk.columns == [column.name.clone()])
}

fn create_table(table: &Table, foreign_keys: &[&ForeignKey]) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .map(|column| column_definition(column, is_serial(table, column)))
        .collect();
    if let Some(pk) = &table.primary_key {
        lines.push(format!(
            "CONSTRAINT {} PRIMARY KEY ({})",
            q(&pk.name),
            column_list(&pk.columns)
        ));
    }
    for unique in &table.uniques {
        lines.push(format!(
            "CONSTRAINT {} UNIQUE ({})",
            q(&unique.name),
            column_list(&unique.columns)
        ));
    }
    for fk in foreign_keys {
        lines.push(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) {}",
            q(&fk.name),
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

fn postgres_boolean(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}
