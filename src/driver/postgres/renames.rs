//! Renames that carry a table's constraints, indexes and SERIAL sequences along.
//!
//! Constraint and index names are derived from table and column names
//! (`hero_pkey`, `hero_team_id_fkey`, `ix_hero_name`, `hero_id_seq`), so after
//! `ALTER TABLE hero RENAME TO champion` the database would still say `hero_pkey`
//! where schema.toml now means `champion_pkey`. The diff compares these objects by
//! name and so lists each one as dropped and added again; dropping and rebuilding
//! them would rescan the table (and a primary key referenced from elsewhere cannot
//! be dropped at all). Instead the planner renames every object that survives the
//! change (the same object once table and column renames are applied) to its new
//! name, and skips the drop/add pairs that this already accounts for.

use std::collections::{HashMap, HashSet};

use super::plan::is_serial;
use crate::driver::{quote_identifier as q, Reverse, Step};
use crate::schema::{names, Change, ForeignKey, Index, Schema, Table};
use crate::text::printable;

/// The table and column renames of one list of changes.
#[derive(Default)]
pub struct Renames {
    /// Old table name → new.
    tables: HashMap<String, String>,
    /// (new table name, old column name) → new column name.
    columns: HashMap<(String, String), String>,
}

impl Renames {
    pub fn of(changes: &[Change]) -> Self {
        let mut renames = Renames::default();
        for change in changes {
            match change {
                Change::RenameTable { from, to } => {
                    renames.tables.insert(from.clone(), to.clone());
                }
                Change::RenameColumn { table, from, to } => {
                    renames
                        .columns
                        .insert((table.clone(), from.clone()), to.clone());
                }
                _ => {}
            }
        }
        renames
    }

    /// The name a table of the current schema has in the target.
    pub fn table<'a>(&'a self, old: &'a str) -> &'a str {
        self.tables.get(old).map_or(old, String::as_str)
    }

    /// The name a table of the target schema had in the current one.
    pub fn old_table<'a>(&'a self, new: &'a str) -> &'a str {
        self.tables
            .iter()
            .find(|(_, to)| to.as_str() == new)
            .map_or(new, |(from, _)| from.as_str())
    }

    /// The name column `old` of (new-named) `table` has in the target.
    pub fn column<'a>(&'a self, table: &str, old: &'a str) -> &'a str {
        self.columns
            .get(&(table.to_string(), old.to_string()))
            .map_or(old, String::as_str)
    }

    pub(super) fn column_list(&self, table: &str, old: &[String]) -> Vec<String> {
        old.iter()
            .map(|column| self.column(table, column).to_string())
            .collect()
    }

    /// A foreign key of (new-named) `table` as it reads once every rename is applied.
    fn foreign_key(&self, table: &str, fk: &ForeignKey) -> ForeignKey {
        let referenced_table = self.table(&fk.referenced_table).to_string();
        ForeignKey {
            columns: self.column_list(table, &fk.columns),
            referenced_columns: self.column_list(&referenced_table, &fk.referenced_columns),
            referenced_table,
            ..fk.clone()
        }
    }
}

/// Which objects survive the changes, and the steps that give them their new names.
#[derive(Default)]
pub struct Carried {
    /// Steps renaming objects, per target table: they run right after the table's
    /// own rename, or first of all for a table that keeps its name.
    pub steps: HashMap<String, Vec<Step>>,
    /// (target table, constraint name) of constraints whose drop is skipped, by
    /// their current name, and whose add is skipped, by their new name.
    dropped: HashSet<(String, String)>,
    added: HashSet<(String, String)>,
    /// The same for indexes.
    dropped_indexes: HashSet<(String, String)>,
    added_indexes: HashSet<(String, String)>,
}

impl Carried {
    pub fn skips_constraint_drop(&self, table: &str, name: &str) -> bool {
        self.dropped
            .contains(&(table.to_string(), name.to_string()))
    }

    pub fn skips_constraint_add(&self, table: &str, name: &str) -> bool {
        self.added.contains(&(table.to_string(), name.to_string()))
    }

    pub fn skips_index_drop(&self, table: &str, name: &str) -> bool {
        self.dropped_indexes
            .contains(&(table.to_string(), name.to_string()))
    }

    pub fn skips_index_add(&self, table: &str, name: &str) -> bool {
        self.added_indexes
            .contains(&(table.to_string(), name.to_string()))
    }

    fn keep_constraint(&mut self, table: &str, old: &str, new: &str) {
        self.dropped.insert((table.to_string(), old.to_string()));
        self.added.insert((table.to_string(), new.to_string()));
        if old != new {
            self.push(
                table,
                Step::new(
                    rename_constraint(table, old, new),
                    format!(
                        "rename constraint {} on {} to {}",
                        printable(old),
                        printable(table),
                        printable(new)
                    ),
                    Reverse::Sql(rename_constraint(table, new, old)),
                ),
            );
        }
    }

    fn keep_index(&mut self, table: &str, old: &str, new: &str) {
        self.dropped_indexes
            .insert((table.to_string(), old.to_string()));
        self.added_indexes
            .insert((table.to_string(), new.to_string()));
        if old != new {
            self.push(
                table,
                Step::new(
                    rename_index(old, new),
                    format!("rename index {} to {}", printable(old), printable(new)),
                    Reverse::Sql(rename_index(new, old)),
                ),
            );
        }
    }

    fn push(&mut self, table: &str, step: Step) {
        self.steps.entry(table.to_string()).or_default().push(step);
    }
}

/// Matches every object of `current` with the same object in `target` (renames
/// applied, names aside).
pub fn carry(current: &Schema, target: &Schema, renames: &Renames) -> Carried {
    let mut carried = Carried::default();
    for old in &current.tables {
        let name = renames.table(&old.name);
        let Some(new) = target.table(name) else {
            continue; // dropped
        };
        carry_table(old, new, renames, &mut carried);
    }
    carried
}

fn carry_table(old: &Table, new: &Table, renames: &Renames, carried: &mut Carried) {
    let table = new.name.as_str();
    if let (Some(before), Some(after)) = (&old.primary_key, &new.primary_key) {
        if renames.column_list(table, &before.columns) == after.columns {
            carried.keep_constraint(table, &before.name, &after.name);
        }
    }

    let mut taken = HashSet::new();
    for unique in &old.uniques {
        let columns = renames.column_list(table, &unique.columns);
        if let Some(found) = new
            .uniques
            .iter()
            .find(|u| u.columns == columns && !taken.contains(&u.name))
        {
            taken.insert(found.name.clone());
            carried.keep_constraint(table, &unique.name, &found.name);
        }
    }
    for fk in &old.foreign_keys {
        let translated = renames.foreign_key(table, fk);
        if let Some(found) = new.foreign_keys.iter().find(|f| {
            !taken.contains(&f.name)
                && ForeignKey {
                    name: f.name.clone(),
                    ..translated.clone()
                } == **f
        }) {
            taken.insert(found.name.clone());
            carried.keep_constraint(table, &fk.name, &found.name);
        }
    }

    // A CHECK whose name alone changes (`name = "…"` in schema.toml).
    for check in &old.checks {
        let key = crate::schema::check_expression_key(&check.expression);
        if let Some(found) = new.checks.iter().find(|c| {
            !taken.contains(&c.name)
                && !old.checks.iter().any(|o| o.name == c.name)
                && crate::schema::check_expression_key(&c.expression) == key
        }) {
            if !new.checks.iter().any(|c| c.name == check.name) {
                taken.insert(found.name.clone());
                carried.keep_constraint(table, &check.name, &found.name);
            }
        }
    }

    let mut taken_indexes = HashSet::new();
    for index in &old.indexes {
        let mut translated = index.clone();
        for key in &mut translated.keys {
            if let crate::schema::IndexTarget::Column(column) = &mut key.target {
                *column = renames.column(table, column).to_string();
            }
        }
        translated.include = renames.column_list(table, &index.include);
        if let Some(found) = new.indexes.iter().find(|i: &&Index| {
            !taken_indexes.contains(&i.name)
                && Index {
                    name: i.name.clone(),
                    ..translated.clone()
                } == **i
        }) {
            taken_indexes.insert(found.name.clone());
            carried.keep_index(table, &index.name, &found.name);
        }
    }

    // A SERIAL column's sequence is named after table and column too. Only the
    // name changes, which pg_catalog never reports back, so a sequence that was
    // named otherwise (PostgreSQL picks another name on a clash) is left alone.
    for column in &old.columns {
        if !is_serial(old, column) {
            continue;
        }
        let renamed = renames.column(table, &column.name);
        let before = names::sequence(&old.name, &column.name);
        let after = names::sequence(table, renamed);
        if before != after && new.column(renamed).is_some() {
            carried.push(
                table,
                Step::new(
                    rename_sequence(&before, &after),
                    format!(
                        "rename sequence {} to {}",
                        printable(&before),
                        printable(&after)
                    ),
                    Reverse::Sql(rename_sequence(&after, &before)),
                ),
            );
        }
    }
}

fn rename_constraint(table: &str, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
        q(table),
        q(from),
        q(to)
    )
}

fn rename_index(from: &str, to: &str) -> String {
    format!("ALTER INDEX {} RENAME TO {};", q(from), q(to))
}

fn rename_sequence(from: &str, to: &str) -> String {
    format!("ALTER SEQUENCE IF EXISTS {} RENAME TO {};", q(from), q(to))
}
