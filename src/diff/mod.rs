//! Schema × Schema → the ordered changes that take the first to the second.
//!
//! Order matters and is fixed here, not in the drivers: constraints and indexes
//! that would block a change go first, new tables go in dependency order (a
//! referenced table before the tables that reference it), drops go last.

use std::collections::{HashMap, HashSet};

use crate::schema::{Change, Column, Schema, Table};

mod domains;
mod enums;
mod objects;
mod suspected_renames;
pub use suspected_renames::{suspected_renames, SuspectedRename};

/// The changes that turn `current` into `target`.
pub fn diff(current: &Schema, target: &Schema) -> Vec<Change> {
    let mut early = Vec::new(); // drops of constraints and indexes, renames
    let mut creates = Vec::new(); // tables new in `target`
    let mut alters = Vec::new(); // columns and keys of tables in both
    let mut indexes = Vec::new(); // new indexes and foreign keys, after their tables
    let mut drops = Vec::new(); // tables and columns that went away

    let current_by_name: HashMap<&str, &Table> = current
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let target_names: HashSet<&str> = target.tables.iter().map(|t| t.name.as_str()).collect();
    let mut matched: HashSet<&str> = HashSet::new();

    for table in &target.tables {
        let existing = current_by_name
            .get(table.name.as_str())
            .copied()
            .or_else(|| {
                let old = table.renamed_from.as_deref()?;
                let old_table = current_by_name.get(old).copied()?;
                (!target_names.contains(old)).then(|| {
                    early.push(Change::RenameTable {
                        from: old.to_string(),
                        to: table.name.clone(),
                    });
                    old_table
                })
            });
        match existing {
            Some(old) => {
                matched.insert(old.name.as_str());
                diff_table(
                    old,
                    table,
                    &mut early,
                    &mut alters,
                    &mut indexes,
                    &mut drops,
                );
            }
            None => {
                creates.push(table);
            }
        }
    }

    let mut changes = early;
    let mut new_table_indexes = Vec::new();
    for table in dependency_order(&creates) {
        changes.push(Change::CreateTable(table.clone()));
        new_table_indexes.extend(table.indexes.iter().map(|index| Change::CreateIndex {
            table: table.name.clone(),
            index: index.clone(),
        }));
    }
    changes.extend(alters);
    changes.extend(new_table_indexes);
    changes.extend(indexes);
    changes.extend(drops);
    for table in current.tables.iter().rev() {
        if !matched.contains(table.name.as_str()) {
            changes.push(Change::DropTable {
                table: table.name.clone(),
            });
        }
    }
    let objects = objects::diff_objects(current, target, &changes);
    let (enums_before, enums_after) = enums::diff_enums(current, target);
    let (domains_before, domains_after) = domains::diff_domains(current, target);
    let mut all = objects.early;
    all.extend(objects.before_tables);
    // Types before the tables that use them, dropped after the tables that did.
    all.extend(enums_before);
    all.extend(domains_before);
    all.extend(changes);
    all.extend(domains_after);
    all.extend(enums_after);
    all.extend(objects.after_tables);
    all.extend(objects.late);
    all
}

/// Tables ordered so that each comes after the tables it references. Where
/// references form a cycle, the earliest declared table of the cycle goes first;
/// the planner then adds the foreign keys that point forward once both exist.
fn dependency_order<'a>(tables: &[&'a Table]) -> Vec<&'a Table> {
    let names: HashSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut placed: HashSet<&str> = HashSet::new();
    let mut ordered = Vec::with_capacity(tables.len());
    let mut remaining: Vec<&Table> = tables.to_vec();
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|table| {
            table
                .dependencies()
                .all(|dependency| !names.contains(dependency) || placed.contains(dependency))
        });
        let next = remaining.remove(ready.unwrap_or(0));
        placed.insert(next.name.as_str());
        ordered.push(next);
    }
    ordered
}

fn diff_table(
    old: &Table,
    new: &Table,
    early: &mut Vec<Change>,
    alters: &mut Vec<Change>,
    late: &mut Vec<Change>,
    drops: &mut Vec<Change>,
) {
    let table = new.name.clone();
    let old_columns: HashMap<&str, &Column> =
        old.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new_column_names: HashSet<&str> = new.columns.iter().map(|c| c.name.as_str()).collect();
    let mut kept_columns: HashSet<&str> = HashSet::new();

    // Constraints that disappear or change are dropped before columns change.
    for fk in &old.foreign_keys {
        if !new.foreign_keys.contains(fk) {
            early.push(Change::DropForeignKey {
                table: table.clone(),
                foreign_key: fk.clone(),
            });
        }
    }
    for unique in &old.uniques {
        if !new.uniques.contains(unique) {
            early.push(Change::DropUnique {
                table: table.clone(),
                unique: unique.clone(),
            });
        }
    }
    for check in &old.checks {
        if !new.checks.contains(check) {
            early.push(Change::DropCheck {
                table: table.clone(),
                check: check.clone(),
            });
        }
    }
    for index in &old.indexes {
        if !new.indexes.contains(index) {
            early.push(Change::DropIndex {
                table: table.clone(),
                index: index.clone(),
            });
        }
    }

    for column in &new.columns {
        let existing = old_columns.get(column.name.as_str()).copied().or_else(|| {
            let previous = column.renamed_from.as_deref()?;
            let old_column = old_columns.get(previous).copied()?;
            (!new_column_names.contains(previous)).then(|| {
                alters.push(Change::RenameColumn {
                    table: table.clone(),
                    from: previous.to_string(),
                    to: column.name.clone(),
                });
                old_column
            })
        });
        match existing {
            Some(old_column) => {
                kept_columns.insert(old_column.name.as_str());
                if old_column.comment != column.comment {
                    late.push(Change::SetComment {
                        table: table.clone(),
                        column: Some(column.name.clone()),
                        from: old_column.comment.clone(),
                        to: column.comment.clone(),
                    });
                }
                if !same_column_definition(old_column, column) {
                    alters.push(Change::AlterColumn {
                        table: table.clone(),
                        from: old_column.clone(),
                        to: column.clone(),
                    });
                }
            }
            None => alters.push(Change::AddColumn {
                table: table.clone(),
                column: column.clone(),
            }),
        }
    }

    if old.primary_key != new.primary_key {
        alters.push(Change::SetPrimaryKey {
            table: table.clone(),
            from: old.primary_key.clone(),
            to: new.primary_key.clone(),
        });
    }
    for unique in &new.uniques {
        if !old.uniques.contains(unique) {
            late.push(Change::AddUnique {
                table: table.clone(),
                unique: unique.clone(),
            });
        }
    }
    for index in &new.indexes {
        if !old.indexes.contains(index) {
            late.push(Change::CreateIndex {
                table: table.clone(),
                index: index.clone(),
            });
        }
    }
    for check in &new.checks {
        if !old.checks.contains(check) {
            late.push(Change::AddCheck {
                table: table.clone(),
                check: check.clone(),
            });
        }
    }
    if old.comment != new.comment {
        late.push(Change::SetComment {
            table: table.clone(),
            column: None,
            from: old.comment.clone(),
            to: new.comment.clone(),
        });
    }
    for fk in &new.foreign_keys {
        if !old.foreign_keys.contains(fk) {
            late.push(Change::AddForeignKey {
                table: table.clone(),
                foreign_key: fk.clone(),
            });
        }
    }
    for column in &old.columns {
        if !kept_columns.contains(column.name.as_str()) {
            drops.push(Change::DropColumn {
                table: table.clone(),
                column: column.name.clone(),
            });
        }
    }
}

/// Column equality that ignores the rename hint (never present when introspected).
fn same_column_definition(a: &Column, b: &Column) -> bool {
    a.ty == b.ty
        && a.nullable == b.nullable
        && a.default == b.default
        && a.numbering == b.numbering
        && a.sequence == b.sequence
        && a.generated == b.generated
}

#[cfg(test)]
mod tests;
