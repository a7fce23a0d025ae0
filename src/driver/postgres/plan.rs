//! Changes → PostgreSQL plan steps (statements with their comments and reverses),
//! with constraint names spelled the way PostgreSQL itself would choose them
//! (`hero_pkey`, `hero_team_id_fkey`). Changes to tables that already exist take
//! their online-safe form (see [`super::online`]).

use std::collections::{HashMap, HashSet};

use super::alter::alter_column;
use super::column_kind;
use super::online;
use super::renames::{carry, Renames};
use super::types::{declared_type, serial_type};
use crate::driver::ddl::{
    self, column_list, create_index, drop_column, drop_index, drop_table, references,
};
use crate::driver::{quote_identifier as q, quote_literal, Plan, Reverse, Step, Unsupported};
use crate::schema::{
    names, Change, Check, Column, ForeignKey, Numbering, PrimaryKey, Schema, Table,
};
use crate::text::printable;

/// Whether the existing tables may be in use while the plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// They may: changes to them take their online-safe form.
    Maybe,
    /// Nobody uses the database yet (a catch-up migration): plain DDL.
    No,
}

/// The steps for `changes`, the diff from `current` to `target`; the schemas say
/// which constraints, indexes and sequences a rename carries along.
pub fn plan(
    current: &Schema,
    target: &Schema,
    changes: &[Change],
    busy: Busy,
) -> Result<Plan, Vec<Unsupported>> {
    let mut steps = Vec::new();
    let mut deferred_foreign_keys = Vec::new();
    let mut deferred_validations = Vec::new();
    let mut unsupported = Vec::new();
    let mut created: HashSet<&str> = HashSet::new();
    let mut dropped: HashSet<&str> = HashSet::new();
    let new_tables: HashSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t.name.as_str()),
            _ => None,
        })
        .collect();
    let renames = Renames::of(changes);
    // Tables renamed by the steps so far (old name → new): a reverse runs
    // before the renames back, so it names a table as it is at that point.
    let mut renamed_so_far: std::collections::HashMap<&str, &str> = Default::default();
    let mut carried = carry(current, target, &renames);
    // Objects of tables that keep their name are renamed before anything else;
    // those of a renamed table right after it.
    let mut first: Vec<(String, Vec<Step>)> = carried
        .steps
        .iter()
        .filter(|(table, _)| renames.old_table(table) == table.as_str())
        .map(|(table, steps)| (table.clone(), steps.clone()))
        .collect();
    first.sort_by(|a, b| a.0.cmp(&b.0));
    for (table, table_steps) in first {
        carried.steps.remove(&table);
        steps.extend(table_steps);
    }

    for change in changes {
        if let Some(step) = crate::driver::object_ddl::step(change, "postgres") {
            match step {
                Ok(step) => steps.push(step),
                Err(refusal) => unsupported.push(refusal),
            }
            continue;
        }
        if let Some(domain_steps) = super::domains::steps(change, busy) {
            match domain_steps {
                Ok((now, validations)) => {
                    steps.extend(now);
                    deferred_validations.extend(validations);
                }
                Err(refusal) => unsupported.push(refusal),
            }
            continue;
        }
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
                steps.push(Step::new(
                    create_table(table, &now),
                    change.to_string(),
                    Reverse::Sql(drop_table(&table.name)),
                ));
                if let Some(sql) = column_kind::serial_sequence_setup(table) {
                    // Dropping the table drops its sequence: no reverse of its own.
                    steps.push(Step::new(
                        sql,
                        format!(
                            "set the start and increment of {}'s numbering",
                            printable(&table.name)
                        ),
                        Reverse::Nothing,
                    ));
                }
                // Dropping the table drops its comments: no reverse of their own.
                steps.extend(comments_of(table).into_iter().map(|(column, text)| {
                    Step::new(
                        comment_on(&table.name, column, Some(text)),
                        comment_summary(&table.name, column, Some(text)),
                        Reverse::Nothing,
                    )
                }));
                deferred_foreign_keys
                    .extend(later.into_iter().map(|fk| add_foreign_key(&table.name, fk)));
            }
            Change::DropTable { table } => {
                // A foreign key of another table dropped later in this migration
                // would block the drop (tables that reference each other).
                for other in current.tables.iter().filter(|other| {
                    other.name != *table
                        && !dropped.contains(other.name.as_str())
                        && changes.iter().any(
                            |c| matches!(c, Change::DropTable { table: t } if *t == other.name),
                        )
                }) {
                    for fk in other
                        .foreign_keys
                        .iter()
                        .filter(|fk| fk.referenced_table == *table)
                    {
                        steps.push(drop_foreign_key(&other.name, fk, fk, None));
                    }
                }
                let reason = format!("dropping table {} deleted its rows", printable(table));
                let reverse = match current.table(table) {
                    // It comes back empty, with its foreign keys to tables that
                    // exist at that point of the down file (those to tables
                    // dropped before it were dropped by steps of their own,
                    // whose reverses add them back).
                    Some(old) => {
                        let keys: Vec<ForeignKey> = old
                            .foreign_keys
                            .iter()
                            .filter(|fk| !dropped.contains(fk.referenced_table.as_str()))
                            .map(|fk| as_named_now(fk, &renamed_so_far))
                            .collect();
                        let mut sql = create_table(old, &keys.iter().collect::<Vec<_>>());
                        if let Some(setup) = column_kind::serial_sequence_setup(old) {
                            sql.push('\n');
                            sql.push_str(&setup);
                        }
                        for index in &old.indexes {
                            sql.push('\n');
                            sql.push_str(&create_index(table, index));
                        }
                        for (column, text) in comments_of(old) {
                            sql.push('\n');
                            sql.push_str(&comment_on(table, column, Some(text)));
                        }
                        Reverse::Lossy { sql, reason }
                    }
                    None => Reverse::Irreversible(reason),
                };
                dropped.insert(table.as_str());
                steps.push(Step::new(drop_table(table), change.to_string(), reverse));
            }
            Change::RenameTable { from, to } => {
                steps.push(Step::new(
                    rename_table(from, to),
                    change.to_string(),
                    Reverse::Sql(rename_table(to, from)),
                ));
                renamed_so_far.insert(from.as_str(), to.as_str());
                if let Some(table_steps) = carried.steps.remove(to) {
                    steps.extend(table_steps);
                }
            }
            Change::RenameColumn { table, from, to } => {
                let rename = |a: &str, b: &str| {
                    format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {};",
                        q(table),
                        q(a),
                        q(b)
                    )
                };
                steps.push(Step::new(
                    rename(from, to),
                    change.to_string(),
                    Reverse::Sql(rename(to, from)),
                ));
            }
            Change::AddColumn { table, column } => {
                // A generated or identity column fills the rows that exist itself.
                let fills_itself = column.generated.is_some()
                    || matches!(column.numbering, crate::schema::Numbering::Identity(_));
                if let Some(reason) =
                    ddl::add_column_problem(table, column).filter(|_| !fills_itself)
                {
                    unsupported.push(Unsupported {
                        change: change.to_string(),
                        reason,
                    });
                } else {
                    let add = format!(
                        "ALTER TABLE {} ADD COLUMN {};",
                        q(table),
                        column_definition(column, false)
                    );
                    // Each row's value is computed (or numbered) as the column
                    // is added: a rewrite no online form avoids (a plain column
                    // cannot become generated or identity later without one).
                    let (sql, summary) = if fills_itself {
                        (
                            format!(
                                "-- Computes every row's value: rewrites {} under an ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n-- squawk-ignore adding-field-with-default\n{add}",
                                printable(table)
                            ),
                            format!("{change} (rewrites the table under an ACCESS EXCLUSIVE lock)"),
                        )
                    } else {
                        (add, change.to_string())
                    };
                    steps.push(Step::new(
                        sql,
                        summary,
                        Reverse::Sql(drop_column(table, &column.name)),
                    ));
                    if let Some(text) = &column.comment {
                        // Dropping the column drops its comment.
                        steps.push(Step::new(
                            comment_on(table, Some(&column.name), Some(text)),
                            comment_summary(table, Some(&column.name), Some(text)),
                            Reverse::Nothing,
                        ));
                    }
                }
            }
            Change::DropColumn { table, column } => {
                let old = current
                    .table(renames.old_table(table))
                    .and_then(|t| t.column(column));
                let mut reverse = readd_column(table, column, old);
                if let Reverse::Lossy { sql, .. } = &mut reverse {
                    // The indexes on it that DROP COLUMN dropped (see DropIndex).
                    for change in changes {
                        if let Change::DropIndex { table: t, index } = change {
                            if t == table
                                && first_dropped_column(changes, table, &index.named_columns())
                                    == Some(column.as_str())
                            {
                                sql.push('\n');
                                sql.push_str(&in_down_transaction(
                                    &format!(
                                        "builds the index over every row of {}; writes to it wait until the rollback commits.",
                                        printable(table)
                                    ),
                                    "require-concurrent-index-creation",
                                    &create_index(table, index),
                                ));
                            }
                        }
                    }
                }
                steps.push(Step::new(
                    drop_column(table, column),
                    change.to_string(),
                    reverse,
                ))
            }
            Change::AlterColumn { table, from, to } => {
                let sequence = serial_sequence(current, &renames, table, from, to);
                let old_table = current.table(renames.old_table(table));
                let new_table = target.table(table);
                let tables = old_table.zip(new_table);
                if to.generated.is_some() && from.generated != to.generated {
                    // Dropped and added back: the new definition is the whole change.
                    let (old, new) = tables.map_or((Vec::new(), Vec::new()), |(old, new)| {
                        unchanged_indexes_on(old, new, &from.name, &to.name)
                    });
                    steps.push(column_kind::regenerate(
                        table,
                        from,
                        to,
                        |column| column_definition(column, false),
                        (&old, &new),
                    ));
                } else {
                    let mut from = from.clone();
                    if from.generated.is_some() && to.generated.is_none() {
                        // Its reverse drops and re-adds the column, and with it
                        // the indexes on it (those this migration keeps).
                        let (old, _) = tables.map_or((Vec::new(), Vec::new()), |(old, new)| {
                            unchanged_indexes_on(old, new, &from.name, &to.name)
                        });
                        steps.push(column_kind::stop_generating(
                            table,
                            &from,
                            |column| column_definition(column, false),
                            &old,
                        ));
                        from.generated = None;
                    }
                    steps.extend(alter_column(table, &from, to, sequence.as_deref(), busy));
                    if let Some((old, new)) = tables {
                        steps.extend(column_kind::renumber(table, old, new, &from, to));
                    }
                }
            }
            Change::SetPrimaryKey { table, from, to } => {
                let kept = matches!((from, to), (Some(a), Some(b))
                    if carried.skips_constraint_drop(table, &a.name)
                        && carried.skips_constraint_add(table, &b.name));
                // On a table that may be busy, the key's index is built
                // concurrently after the transaction, and the old key dropped
                // there too (its reverse then builds it back the same way in a
                // down file outside a transaction); unless a foreign key this
                // migration adds in its transaction needs the new key.
                let online = busy == Busy::Maybe
                    && !new_tables.contains(table.as_str())
                    && !to.as_ref().is_some_and(|pk| {
                        referenced_by_new_foreign_key(changes, table, &pk.columns)
                    });
                if !kept {
                    if let Some(pk) = from {
                        let comment = format!(
                            "drop primary key {} of {}",
                            printable(&pk.name),
                            printable(table)
                        );
                        if online {
                            // Its reverse runs before the renames are undone.
                            let columns: Vec<String> = pk
                                .columns
                                .iter()
                                .map(|c| renames.column(table, c).to_string())
                                .collect();
                            steps
                                .push(online::drop_primary_key(table, &pk.name, &columns, comment));
                        } else {
                            steps.push(Step::new(
                                drop_constraint(table, &pk.name),
                                comment,
                                Reverse::Sql(add_primary_key(table, pk)),
                            ));
                        }
                    }
                    steps.extend(serial_defaults_dropped(current, target, &renames, table));
                    if let (Some(old), Some(new)) =
                        (current.table(renames.old_table(table)), target.table(table))
                    {
                        if !new_tables.contains(table.as_str()) {
                            steps.extend(column_kind::serial_started(table, old, new, |name| {
                                old.columns
                                    .iter()
                                    .find(|c| renames.column(table, &c.name) == name)
                                    .map(|c| c.name.clone())
                            }));
                        }
                    }
                    if let Some(pk) = to {
                        if online {
                            steps.extend(online::add_unique(
                                table,
                                &pk.name,
                                &pk.columns,
                                online::Attach::PrimaryKey,
                                change.to_string(),
                            ));
                        } else {
                            steps.push(Step::new(
                                add_primary_key(table, pk),
                                change.to_string(),
                                Reverse::Sql(drop_constraint(table, &pk.name)),
                            ));
                        }
                    }
                }
            }
            Change::CreateIndex { table, index } => {
                if carried.skips_index_add(table, &index.name) {
                } else if new_tables.contains(table.as_str()) {
                    // The reverse of creating its table drops it, index and all.
                    steps.push(Step::new(
                        create_index(table, index),
                        change.to_string(),
                        Reverse::Nothing,
                    ))
                } else if busy == Busy::No {
                    steps.push(Step::new(
                        create_index(table, index),
                        change.to_string(),
                        Reverse::Sql(drop_index(index)),
                    ))
                } else {
                    steps.extend(online::create_index(table, index, change.to_string()))
                }
            }
            Change::DropIndex { table, index } => {
                if carried.skips_index_drop(table, &index.name)
                    || first_dropped_column(changes, table, &index.named_columns()).is_some()
                {
                    // DROP COLUMN drops it; the reverse re-creates it (readd_column).
                } else if busy == Busy::No || new_tables.contains(table.as_str()) {
                    steps.push(Step::new(
                        drop_index(index),
                        change.to_string(),
                        Reverse::Sql(create_index(table, index)),
                    ))
                } else {
                    // It runs in the migration outside the transaction, after
                    // every transactional step (column renames among them), and
                    // its reverse before their reverses: by the target's names.
                    let mut now = index.clone();
                    for key in &mut now.keys {
                        if let crate::schema::IndexTarget::Column(column) = &mut key.target {
                            *column = renames.column(table, column).to_string();
                        }
                    }
                    now.include = renames.column_list(table, &now.include);
                    steps.push(online::drop_index(table, &now, change.to_string()))
                }
            }
            Change::AddForeignKey { table, foreign_key } => {
                if carried.skips_constraint_add(table, &foreign_key.name) {
                } else if busy == Busy::No || new_tables.contains(table.as_str()) {
                    deferred_foreign_keys.push(add_foreign_key(table, foreign_key))
                } else {
                    let (add, validate) = online::foreign_key(
                        table,
                        foreign_key,
                        add_foreign_key(table, foreign_key),
                    );
                    deferred_foreign_keys.push(add);
                    deferred_validations.push(validate);
                }
            }
            Change::DropForeignKey { table, foreign_key } => {
                if !carried.skips_constraint_drop(table, &foreign_key.name) {
                    let now = as_named_now(foreign_key, &renamed_so_far);
                    // When the down file brings its target back empty, the rows
                    // that pointed to it lose their link (their target is gone).
                    let orphans = target_comes_back_empty(changes, &renames, foreign_key)
                        .then(|| ddl::null_orphans(table, foreign_key, &now.referenced_table));
                    steps.push(drop_foreign_key(table, foreign_key, &now, orphans));
                }
            }
            Change::AddUnique { table, unique } => {
                if carried.skips_constraint_add(table, &unique.name) {
                } else if busy == Busy::Maybe
                    && !new_tables.contains(table.as_str())
                    && !referenced_by_new_foreign_key(changes, table, &unique.columns)
                {
                    steps.extend(online::add_unique(
                        table,
                        &unique.name,
                        &unique.columns,
                        online::Attach::Unique,
                        change.to_string(),
                    ))
                } else {
                    steps.push(Step::new(
                        add_unique(table, &unique.name, &unique.columns),
                        change.to_string(),
                        Reverse::Sql(drop_constraint(table, &unique.name)),
                    ))
                }
            }
            Change::AddCheck { table, check } => {
                if carried.skips_constraint_add(table, &check.name) {
                } else if busy == Busy::No || new_tables.contains(table.as_str()) {
                    steps.push(Step::new(
                        add_check(table, check),
                        change.to_string(),
                        Reverse::Sql(drop_constraint(table, &check.name)),
                    ))
                } else {
                    let (add, validate) =
                        online::check(table, check, add_check(table, check), change.to_string());
                    deferred_foreign_keys.push(add);
                    deferred_validations.push(validate);
                }
            }
            Change::DropCheck { table, check } => {
                if !carried.skips_constraint_drop(table, &check.name) {
                    steps.push(Step::new(
                        drop_constraint(table, &check.name),
                        change.to_string(),
                        Reverse::Sql(add_check(table, check)),
                    ))
                }
            }
            Change::SetComment {
                table,
                column,
                from,
                to,
            } => steps.push(Step::new(
                comment_on(table, column.as_deref(), to.as_deref()),
                change.to_string(),
                Reverse::Sql(comment_on(table, column.as_deref(), from.as_deref())),
            )),
            Change::DropUnique { table, unique } => {
                if carried.skips_constraint_drop(table, &unique.name) {
                } else if busy == Busy::Maybe
                    && !new_tables.contains(table.as_str())
                    && unique_drop_may_wait(changes, table, &unique.name, &unique.columns)
                {
                    // Its reverse runs before the renames are undone.
                    let columns: Vec<String> = unique
                        .columns
                        .iter()
                        .map(|c| renames.column(table, c).to_string())
                        .collect();
                    steps.push(online::drop_unique(
                        table,
                        &unique.name,
                        &columns,
                        change.to_string(),
                    ))
                } else {
                    steps.push(Step::new(
                        drop_constraint(table, &unique.name),
                        change.to_string(),
                        Reverse::Sql(add_unique(table, &unique.name, &unique.columns)),
                    ))
                }
            }
            // Made by `object_ddl::step` above.
            Change::CreateObject(_) | Change::DropObject(_) => {}
            Change::CreateEnum(declared) => steps.push(Step::new(
                create_enum(declared),
                change.to_string(),
                Reverse::Sql(format!("DROP TYPE {};", q(&declared.name))),
            )),
            // In the migration's transaction (PostgreSQL 12 and later allow it);
            // the new value cannot be used until that transaction commits, so a
            // default or a row of it belongs in a later migration.
            Change::AddEnumValue {
                name,
                value,
                before,
            } => steps.push(Step::new(
                format!(
                    "ALTER TYPE {} ADD VALUE {}{};",
                    q(name),
                    quote_literal(value),
                    before
                        .as_ref()
                        .map(|b| format!(" BEFORE {}", quote_literal(b)))
                        .unwrap_or_default()
                ),
                change.to_string(),
                Reverse::Irreversible(format!(
                    "PostgreSQL cannot remove value {} from enum {}",
                    printable(value),
                    printable(name)
                )),
            )),
            Change::DropEnum(declared) => steps.push(Step::new(
                format!("DROP TYPE {};", q(&declared.name)),
                change.to_string(),
                Reverse::Sql(create_enum(declared)),
            )),
            // Made by `domains::steps` above.
            Change::CreateDomain(_) | Change::AlterDomain { .. } | Change::DropDomain(_) => {}
            Change::ReplaceEnum { from, to } => {
                let removed: Vec<&String> = from
                    .values
                    .iter()
                    .filter(|v| !to.values.contains(v))
                    .collect();
                unsupported.push(Unsupported {
                    change: change.to_string(),
                    reason: if removed.is_empty() {
                        "PostgreSQL cannot reorder an enum's values; keep the old order and add new values where they belong, or write this migration by hand (create a new type, ALTER COLUMN … TYPE new USING col::text::new, drop the old type)".to_string()
                    } else {
                        format!(
                            "PostgreSQL cannot remove a value from an enum (removed: {}); keep it, or write this migration by hand (create a new type, ALTER COLUMN … TYPE new USING col::text::new, drop the old type)",
                            printable(&removed.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "))
                        )
                    },
                });
            }
        }
    }
    // Renamed objects of a table whose rename is not among the changes (cannot
    // happen with the diff's changes, but a plan never loses steps).
    let mut rest: Vec<_> = carried.steps.into_iter().collect();
    rest.sort_by(|a, b| a.0.cmp(&b.0));
    steps.extend(rest.into_iter().flat_map(|(_, s)| s));
    steps.extend(deferred_foreign_keys);
    steps.extend(deferred_validations);
    if unsupported.is_empty() {
        Ok(Plan { steps })
    } else {
        Err(unsupported)
    }
}

/// `CREATE TYPE "rating" AS ENUM ('G', 'PG');`
fn create_enum(declared: &crate::schema::EnumType) -> String {
    let values: Vec<String> = declared.values.iter().map(|v| quote_literal(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        q(&declared.name),
        values.join(", ")
    )
}

/// Whether a foreign key added in this migration references exactly `columns`
/// of `table`: it needs their unique constraint in the same transaction, so
/// that constraint cannot wait for the migration outside it.
fn referenced_by_new_foreign_key(changes: &[Change], table: &str, columns: &[String]) -> bool {
    changes
        .iter()
        .flat_map(|change| match change {
            Change::AddForeignKey { foreign_key, .. } => vec![foreign_key],
            Change::CreateTable(new) => new.foreign_keys.iter().collect(),
            _ => Vec::new(),
        })
        .any(|fk| fk.referenced_table == table && fk.referenced_columns == columns)
}

/// The sequence of a column that is SERIAL in the current schema, by the name it
/// has when the change runs (after renames, which carry it along).
fn serial_sequence(
    current: &Schema,
    renames: &Renames,
    table: &str,
    from: &Column,
    to: &Column,
) -> Option<String> {
    let old_table = current.table(renames.old_table(table))?;
    let column = old_table.column(&from.name)?;
    is_serial(old_table, column).then(|| names::sequence(table, &to.name))
}

/// A column that stops being the single integer primary key stops being SERIAL:
/// its `nextval` default goes, as the target declares no default (the sequence
/// stays, owned by the column, and goes with it).
fn serial_defaults_dropped(
    current: &Schema,
    target: &Schema,
    renames: &Renames,
    table: &str,
) -> Vec<Step> {
    let (Some(old), Some(new)) = (current.table(renames.old_table(table)), target.table(table))
    else {
        return Vec::new();
    };
    old.columns
        .iter()
        .filter(|column| is_serial(old, column))
        .filter_map(|column| {
            let renamed = renames.column(table, &column.name);
            let now = new.column(renamed)?;
            (!is_serial(new, now) && now.default.is_none()).then(|| {
                let sequence = names::sequence(table, renamed);
                let alter = |clause: &str| {
                    format!(
                        "ALTER TABLE {} ALTER COLUMN {} {clause};",
                        q(table),
                        q(renamed)
                    )
                };
                Step::new(
                    alter("DROP DEFAULT"),
                    format!(
                        "stop numbering {}.{} from its sequence (no longer the single integer primary key)",
                        printable(table),
                        printable(renamed)
                    ),
                    Reverse::Sql(alter(&format!(
                        "SET DEFAULT nextval({})",
                        crate::driver::quote_literal(&q(&sequence))
                    ))),
                )
            })
        })
        .collect()
}

fn rename_table(from: &str, to: &str) -> String {
    format!("ALTER TABLE {} RENAME TO {};", q(from), q(to))
}

fn add_primary_key(table: &str, pk: &PrimaryKey) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({});",
        q(table),
        q(&pk.name),
        column_list(&pk.columns)
    )
}

fn add_unique(table: &str, name: &str, columns: &[String]) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
        q(table),
        q(name),
        column_list(columns)
    )
}

/// The step dropping `fk`; its reverse adds `now` back (`fk` naming its target
/// as it is at that point of the down file), after `orphans` (see
/// [`ddl::null_orphans`]) when the target comes back empty.
fn drop_foreign_key(
    table: &str,
    fk: &ForeignKey,
    now: &ForeignKey,
    orphans: Option<String>,
) -> Step {
    let change = Change::DropForeignKey {
        table: table.to_string(),
        foreign_key: fk.clone(),
    };
    // A down file runs in one transaction (rollback undoes a migration as a
    // whole), where NOT VALID then VALIDATE would hold the same lock: the
    // plain form, with the lock it takes said above it.
    let add = in_down_transaction(
        &format!(
            "checks every row of {} under SHARE ROW EXCLUSIVE: writes to {} and {} wait until the rollback commits.",
            printable(table),
            printable(table),
            printable(&now.referenced_table)
        ),
        "constraint-missing-not-valid, adding-foreign-key-constraint",
        &add_foreign_key(table, now).sql,
    );
    Step::new(
        drop_constraint(table, &fk.name),
        change.to_string(),
        Reverse::Sql(match orphans {
            Some(update) => format!("{update}\n{add}"),
            None => add,
        }),
    )
}

/// `statement`, a reverse that restores a constraint or index of an existing
/// table inside a down file's transaction, after a comment saying what it
/// locks (`lock`) and the inline ignore of the squawk `rules` that flag it.
/// The up migration dropped the object in its transaction (other steps there
/// need it gone first), so its reverse is in a transactional down file, where
/// no online form (`CONCURRENTLY`, validating in a later transaction) exists.
fn in_down_transaction(lock: &str, rules: &str, statement: &str) -> String {
    format!(
        "-- Restored inside the rollback's transaction: {lock}\n-- squawk-ignore {rules}\n{statement}"
    )
}

/// The first of `columns` of `table` that the migration drops, if any.
fn first_dropped_column<'a>(
    changes: &'a [Change],
    table: &str,
    columns: &[String],
) -> Option<&'a str> {
    changes.iter().find_map(|change| match change {
        Change::DropColumn { table: t, column } if t == table && columns.contains(column) => {
            Some(column.as_str())
        }
        _ => None,
    })
}

/// Whether dropping unique constraint `name` of `table` may wait until after
/// the migration's transaction (see `online::drop_unique`): no step in it
/// needs it gone first. A column of it dropped (DROP COLUMN takes it along, and
/// its reverse would run before the column is back), its table dropped, or the
/// same name added back in the transaction (a new foreign key needs it) do.
fn unique_drop_may_wait(changes: &[Change], table: &str, name: &str, columns: &[String]) -> bool {
    first_dropped_column(changes, table, columns).is_none()
        && !changes.iter().any(|change| match change {
            Change::DropTable { table: t } => t == table,
            Change::AddUnique { table: t, unique } => {
                t == table
                    && unique.name == name
                    && referenced_by_new_foreign_key(changes, table, &unique.columns)
            }
            _ => false,
        })
}

/// `fk` naming its target table as the renames so far left it.
fn as_named_now(fk: &ForeignKey, renamed_so_far: &HashMap<&str, &str>) -> ForeignKey {
    let mut fk = fk.clone();
    if let Some(new) = renamed_so_far.get(fk.referenced_table.as_str()) {
        fk.referenced_table = new.to_string();
    }
    fk
}

/// Whether the migration drops `fk`'s target table or one of its target
/// columns, which the down file then re-creates empty.
fn target_comes_back_empty(changes: &[Change], renames: &Renames, fk: &ForeignKey) -> bool {
    changes.iter().any(|change| match change {
        Change::DropTable { table } => *table == fk.referenced_table,
        Change::DropColumn { table, column } => {
            renames.old_table(table) == fk.referenced_table
                && fk.referenced_columns.contains(column)
        }
        _ => false,
    })
}

/// The reverse of dropping `column` (`old`, as it was) from `table`: add it back,
/// empty, at the end of the table. NOT NULL without a default takes its type's
/// zero value in the rows that exist, then loses that default.
fn readd_column(table: &str, column: &str, old: Option<&Column>) -> Reverse {
    let reason = format!(
        "dropping column {}.{} deleted its values",
        printable(table),
        printable(column)
    );
    let Some(old) = old else {
        return Reverse::Irreversible(reason);
    };
    if old.nullable
        || old.default.is_some()
        || old.generated.is_some()
        || matches!(old.numbering, crate::schema::Numbering::Identity(_))
    {
        return Reverse::Lossy {
            sql: format!(
                "ALTER TABLE {} ADD COLUMN {};",
                q(table),
                column_definition(old, false)
            ),
            reason,
        };
    }
    let Some(zero) = ddl::zero_value(&old.ty, postgres_boolean) else {
        return Reverse::Irreversible(reason);
    };
    Reverse::Lossy {
        sql: format!(
            "ALTER TABLE {table} ADD COLUMN {} DEFAULT {zero};\nALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
            column_definition(old, false),
            q(column),
            table = q(table),
        ),
        reason,
    }
}

/// The CREATE INDEX statements of the indexes on column `from` (of `old`),
/// named `to` in `new`, that both tables have: what dropping and adding back
/// the column must build again, as (for `old`, for `new`).
fn unchanged_indexes_on(
    old: &Table,
    new: &Table,
    from: &str,
    to: &str,
) -> (Vec<String>, Vec<String>) {
    let kept: Vec<&crate::schema::Index> = new
        .indexes
        .iter()
        .filter(|index| index.uses_column(to))
        .filter(|index| {
            old.indexes
                .iter()
                .any(|o| o.name == index.name && o.uses_column(from))
        })
        .collect();
    let old_sql = old
        .indexes
        .iter()
        .filter(|index| kept.iter().any(|k| k.name == index.name))
        .map(|index| create_index(&new.name, index))
        .collect();
    let new_sql = kept
        .iter()
        .map(|index| create_index(&new.name, index))
        .collect();
    (old_sql, new_sql)
}

/// `serial` marks the single integer primary key, which PostgreSQL numbers itself.
/// An identity or generated column has its `GENERATED …` clause.
fn column_definition(column: &Column, serial: bool) -> String {
    let ty = match serial_type(&column.ty).filter(|_| serial) {
        Some(serial) => serial.to_string(),
        None => declared_type(&column.ty),
    };
    ddl::column_definition(column, &ty, postgres_boolean) + &column_kind::definition_clause(column)
}

/// The step that adds `fk` to `table`; its comment is the change's summary even
/// when the foreign key came with a new table (a cycle, added once both exist).
fn add_foreign_key(table: &str, fk: &ForeignKey) -> Step {
    let change = Change::AddForeignKey {
        table: table.to_string(),
        foreign_key: fk.clone(),
    };
    Step::new(
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) {};",
            q(table),
            q(&fk.name),
            column_list(&fk.columns),
            references(fk)
        ),
        change.to_string(),
        Reverse::Sql(drop_constraint(table, &fk.name)),
    )
}

/// `ALTER TABLE … ADD CONSTRAINT … CHECK (…);`
fn add_check(table: &str, check: &Check) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({});",
        q(table),
        q(&check.name),
        check.expression
    )
}

/// `COMMENT ON TABLE|COLUMN … IS '…' | NULL;`
fn comment_on(table: &str, column: Option<&str>, text: Option<&str>) -> String {
    let target = match column {
        Some(column) => format!("COLUMN {}.{}", q(table), q(column)),
        None => format!("TABLE {}", q(table)),
    };
    let text = text.map_or("NULL".to_string(), crate::driver::quote_literal);
    format!("COMMENT ON {target} IS {text};")
}

fn comment_summary(table: &str, column: Option<&str>, text: Option<&str>) -> String {
    Change::SetComment {
        table: table.to_string(),
        column: column.map(str::to_string),
        from: None,
        to: text.map(str::to_string),
    }
    .to_string()
}

/// The comments of `table`: `(None, text)` for the table's, then its columns'.
fn comments_of(table: &Table) -> Vec<(Option<&str>, &str)> {
    table
        .comment
        .as_deref()
        .map(|text| (None, text))
        .into_iter()
        .chain(
            table.columns.iter().filter_map(|column| {
                Some((Some(column.name.as_str()), column.comment.as_deref()?))
            }),
        )
        .collect()
}

fn drop_constraint(table: &str, name: &str) -> String {
    format!("ALTER TABLE {} DROP CONSTRAINT {};", q(table), q(name))
}

/// Whether `column` is the table's single integer primary key without a default,
/// identity, generation or `autoincrement = false`.
pub fn is_serial(table: &Table, column: &Column) -> bool {
    column.default.is_none()
        && column.numbering == Numbering::Auto
        && column.generated.is_none()
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
    for check in &table.checks {
        lines.push(format!(
            "CONSTRAINT {} CHECK ({})",
            q(&check.name),
            check.expression
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

pub(super) fn postgres_boolean(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::schema::{parse_schema_text, DefaultValue, Index, Schema, Type, UniqueConstraint};

    /// The plan for a database that may be busy, as `generate` makes it.
    fn plan(
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<Plan, Vec<Unsupported>> {
        super::plan(current, target, changes, Busy::Maybe)
    }

    /// `team` and `hero` reference each other: a cycle within one migration.
    const SCHEMA: &str = r#"
[table.team.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }
captain_id = { type = "integer", nullable = true, references = "hero.id" }

[table.hero.columns]
id = { type = "integer", primary_key = true }
name = "text"
team_id = { type = "integer", nullable = true, references = "team.id", on_delete = "cascade" }
"#;

    fn schema() -> Schema {
        parse_schema_text(Path::new("schema.toml"), SCHEMA)
            .unwrap()
            .schema
    }

    /// New tables in a cycle and an index, then changes to them: a new column with
    /// a default, a new column with a foreign key, a unique constraint and a
    /// dropped index.
    fn changes() -> Vec<Change> {
        let schema = schema();
        let team = schema.table("team").unwrap();
        let hero = schema.table("hero").unwrap();
        vec![
            Change::CreateTable(team.clone()),
            Change::CreateTable(hero.clone()),
            Change::CreateIndex {
                table: "team".into(),
                index: team.indexes[0].clone(),
            },
            Change::AddColumn {
                table: "team".into(),
                column: Column {
                    default: Some(DefaultValue::Text("never give up".into())),
                    ..Column::new("motto", Type::Text)
                },
            },
            Change::AddColumn {
                table: "hero".into(),
                column: Column {
                    nullable: true,
                    ..Column::new("mentor_id", Type::Integer)
                },
            },
            Change::AddForeignKey {
                table: "hero".into(),
                foreign_key: ForeignKey {
                    name: "hero_mentor_id_fkey".into(),
                    columns: vec!["mentor_id".into()],
                    referenced_table: "hero".into(),
                    referenced_columns: vec!["id".into()],
                    on_delete: Default::default(),
                    on_update: Default::default(),
                    deferrable: false,
                    initially_deferred: false,
                },
            },
            Change::AddUnique {
                table: "hero".into(),
                unique: UniqueConstraint {
                    name: "hero_name_key".into(),
                    columns: vec!["name".into()],
                },
            },
            Change::DropIndex {
                table: "team".into(),
                index: Index::on_columns("ix_team_name", vec!["name".into()], false),
            },
        ]
    }

    fn step(sql: &str, comment: &str, reverse: &str) -> Step {
        Step {
            sql: sql.into(),
            comment: comment.into(),
            reverse: Reverse::Sql(reverse.into()),
            transactional: true,
            foreign_keys_off: false,
        }
    }

    #[test]
    fn every_step_has_its_sql_comment_reverse_and_transaction_flag() {
        let plan = plan(&Schema::default(), &schema(), &changes()).unwrap();
        let expected = vec![
            // team's foreign key to hero waits until hero exists.
            step(
                "CREATE TABLE \"team\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" VARCHAR NOT NULL,\n    \"captain_id\" INTEGER,\n    CONSTRAINT \"team_pkey\" PRIMARY KEY (\"id\")\n);",
                "create table team",
                "DROP TABLE \"team\";",
            ),
            step(
                "CREATE TABLE \"hero\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" VARCHAR NOT NULL,\n    \"team_id\" INTEGER,\n    CONSTRAINT \"hero_pkey\" PRIMARY KEY (\"id\"),\n    CONSTRAINT \"hero_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\") ON DELETE CASCADE\n);",
                "create table hero",
                "DROP TABLE \"hero\";",
            ),
            // Dropping the new table (the reverse of its creation) drops it.
            Step::new(
                "CREATE INDEX \"ix_team_name\" ON \"team\" (\"name\");".into(),
                "create index ix_team_name on team (name)",
                Reverse::Nothing,
            ),
            step(
                "ALTER TABLE \"team\" ADD COLUMN \"motto\" VARCHAR NOT NULL DEFAULT 'never give up';",
                "add column team.motto text not null default \"never give up\"",
                "ALTER TABLE \"team\" DROP COLUMN \"motto\";",
            ),
            step(
                "ALTER TABLE \"hero\" ADD COLUMN \"mentor_id\" INTEGER;",
                "add column hero.mentor_id integer null",
                "ALTER TABLE \"hero\" DROP COLUMN \"mentor_id\";",
            ),
            step(
                "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_name_key\" UNIQUE (\"name\");",
                "add unique constraint hero_name_key on hero (name)",
                "ALTER TABLE \"hero\" DROP CONSTRAINT \"hero_name_key\";",
            ),
            step(
                "DROP INDEX \"ix_team_name\";",
                "drop index ix_team_name on team",
                "CREATE INDEX \"ix_team_name\" ON \"team\" (\"name\");",
            ),
            // Foreign keys come last, once every table and column they need exists.
            step(
                "ALTER TABLE \"team\" ADD CONSTRAINT \"team_captain_id_fkey\" FOREIGN KEY (\"captain_id\") REFERENCES \"hero\" (\"id\");",
                "add foreign key team.(captain_id) -> hero.(id)",
                "ALTER TABLE \"team\" DROP CONSTRAINT \"team_captain_id_fkey\";",
            ),
            step(
                "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_mentor_id_fkey\" FOREIGN KEY (\"mentor_id\") REFERENCES \"hero\" (\"id\");",
                "add foreign key hero.(mentor_id) -> hero.(id)",
                "ALTER TABLE \"hero\" DROP CONSTRAINT \"hero_mentor_id_fkey\";",
            ),
        ];
        assert_eq!(plan.steps, expected);
        assert!(plan.transactional());
    }
}

#[cfg(test)]
mod evolution_tests {
    use std::path::Path;

    use super::*;
    use crate::schema::{parse_schema_text, DefaultValue, Type};

    /// The plan for a database that may be busy, as `generate` makes it.
    fn plan(
        current: &Schema,
        target: &Schema,
        changes: &[Change],
    ) -> Result<Plan, Vec<Unsupported>> {
        super::plan(current, target, changes, Busy::Maybe)
    }

    const BEFORE: &str = r#"
[table.team.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", unique = true }

[table.hero.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }
team_id = { type = "integer", nullable = true, references = "team.id" }
"#;

    fn parse(text: &str) -> Schema {
        parse_schema_text(Path::new("schema.toml"), text)
            .unwrap()
            .schema
    }

    fn sql(sql: &str, comment: &str, reverse: &str) -> Step {
        Step::new(sql.into(), comment, Reverse::Sql(reverse.into()))
    }

    fn lossy(sql: &str, comment: &str, why: &str) -> Step {
        Step::new(sql.into(), comment, Reverse::Irreversible(why.into()))
    }

    /// NOT NULL on hero.age, a column of a table that exists: a check added NOT
    /// VALID in the transaction; outside it the check is added back if a failed
    /// run dropped it, validated, NOT NULL set (PostgreSQL uses the validated
    /// check) and the check dropped.
    fn online_not_null(comment: &str) -> [Step; 5] {
        let outside = |mut step: Step| {
            step.transactional = false;
            step
        };
        [
            sql(
                "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;",
                "check that hero.age is not NULL, for new rows (NOT VALID: hero_age_not_null)",
                "ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_age_not_null\";",
            ),
            outside(Step::new(
                "DO $strata$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"hero\"'::regclass AND conname = 'hero_age_not_null') THEN\n        ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;\n    END IF;\nEND\n$strata$;".into(),
                "add hero_age_not_null back if a failed earlier run of this file dropped it",
                Reverse::Nothing,
            )),
            outside(Step::new(
                "-- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" VALIDATE CONSTRAINT \"hero_age_not_null\";".into(),
                "validate hero_age_not_null: check the existing rows of hero.age without blocking writes",
                Reverse::Nothing,
            )),
            outside(sql(
                "-- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" ALTER COLUMN \"age\" SET NOT NULL;",
                &format!("{comment} (PostgreSQL 12+ uses the validated check: no scan)"),
                "-- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" ALTER COLUMN \"age\" DROP NOT NULL;",
            )),
            outside(sql(
                "ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_age_not_null\";",
                "drop hero_age_not_null, which NOT NULL now enforces",
                "DO $strata$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"hero\"'::regclass AND conname = 'hero_age_not_null') THEN\n        ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;\n    END IF;\nEND\n$strata$;",
            )),
        ]
    }

    fn column(name: &str, ty: Type, nullable: bool, default: Option<DefaultValue>) -> Column {
        Column {
            nullable,
            default,
            ..Column::new(name, ty)
        }
    }

    /// The diff lists the constraints and indexes named after the old names as
    /// dropped and added again; the plan renames them instead, and is the same
    /// when the diff lists only the renames.
    #[test]
    fn a_table_and_column_rename_carries_constraint_index_and_sequence_names() {
        let current = parse(BEFORE);
        let target = parse(
            &BEFORE
                .replace(
                    "[table.hero.columns]",
                    "[table.champion]\nrenamed_from = \"hero\"\n[table.champion.columns]",
                )
                .replace(
                    "team_id = { type = \"integer\", nullable = true, references = \"team.id\" }",
                    "squad_id = { type = \"integer\", nullable = true, references = \"team.id\", renamed_from = \"team_id\" }",
                ),
        );
        let changes = crate::diff::diff(&current, &target);
        let planned = plan(&current, &target, &changes).unwrap();
        let expected = vec![
            sql(
                "ALTER TABLE \"hero\" RENAME TO \"champion\";",
                "rename table hero to champion",
                "ALTER TABLE \"champion\" RENAME TO \"hero\";",
            ),
            sql(
                "ALTER TABLE \"champion\" RENAME CONSTRAINT \"hero_pkey\" TO \"champion_pkey\";",
                "rename constraint hero_pkey on champion to champion_pkey",
                "ALTER TABLE \"champion\" RENAME CONSTRAINT \"champion_pkey\" TO \"hero_pkey\";",
            ),
            sql(
                "ALTER TABLE \"champion\" RENAME CONSTRAINT \"hero_team_id_fkey\" TO \"champion_squad_id_fkey\";",
                "rename constraint hero_team_id_fkey on champion to champion_squad_id_fkey",
                "ALTER TABLE \"champion\" RENAME CONSTRAINT \"champion_squad_id_fkey\" TO \"hero_team_id_fkey\";",
            ),
            sql(
                "ALTER INDEX \"ix_hero_name\" RENAME TO \"ix_champion_name\";",
                "rename index ix_hero_name to ix_champion_name",
                "ALTER INDEX \"ix_champion_name\" RENAME TO \"ix_hero_name\";",
            ),
            sql(
                "ALTER SEQUENCE IF EXISTS \"hero_id_seq\" RENAME TO \"champion_id_seq\";",
                "rename sequence hero_id_seq to champion_id_seq",
                "ALTER SEQUENCE IF EXISTS \"champion_id_seq\" RENAME TO \"hero_id_seq\";",
            ),
            sql(
                "ALTER TABLE \"champion\" RENAME COLUMN \"team_id\" TO \"squad_id\";",
                "rename column champion.team_id to squad_id",
                "ALTER TABLE \"champion\" RENAME COLUMN \"squad_id\" TO \"team_id\";",
            ),
        ];
        assert_eq!(planned.steps, expected);
        assert!(planned.transactional());

        let renames_only: Vec<Change> = changes
            .into_iter()
            .filter(|c| matches!(c, Change::RenameTable { .. } | Change::RenameColumn { .. }))
            .collect();
        assert_eq!(
            plan(&current, &target, &renames_only).unwrap().steps,
            expected
        );
    }

    #[test]
    fn drops_come_back_empty_and_say_they_cannot_be_undone() {
        let current = parse(BEFORE);
        let target =
            parse("[table.team.columns]\nid = { type = \"integer\", primary_key = true }\n");
        let changes = vec![
            Change::DropColumn {
                table: "team".into(),
                column: "name".into(),
            },
            Change::DropTable {
                table: "hero".into(),
            },
        ];
        assert_eq!(
            plan(&current, &target, &changes).unwrap().steps,
            [
                Step::new(
                    "ALTER TABLE \"team\" DROP COLUMN \"name\";".into(),
                    "drop column team.name",
                    Reverse::Lossy {
                        sql: "ALTER TABLE \"team\" ADD COLUMN \"name\" VARCHAR NOT NULL DEFAULT '';\n\
                              ALTER TABLE \"team\" ALTER COLUMN \"name\" DROP DEFAULT;"
                            .into(),
                        reason: "dropping column team.name deleted its values".into(),
                    },
                ),
                Step::new(
                    "DROP TABLE \"hero\";".into(),
                    "drop table hero",
                    Reverse::Lossy {
                        sql: "CREATE TABLE \"hero\" (\n    \"id\" SERIAL NOT NULL,\n    \"name\" VARCHAR NOT NULL,\n    \
                              \"team_id\" INTEGER,\n    CONSTRAINT \"hero_pkey\" PRIMARY KEY (\"id\"),\n    \
                              CONSTRAINT \"hero_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\")\n);\n\
                              CREATE INDEX \"ix_hero_name\" ON \"hero\" (\"name\");"
                            .into(),
                        reason: "dropping table hero deleted its rows".into(),
                    },
                ),
            ]
        );
    }

    #[test]
    fn tables_that_reference_each_other_are_dropped_after_their_foreign_keys() {
        let current = parse(
            r#"
[table.a.columns]
id = { type = "integer", primary_key = true }
b_id = { type = "integer", nullable = true, references = "b.id" }
[table.b.columns]
id = { type = "integer", primary_key = true }
a_id = { type = "integer", nullable = true, references = "a.id" }
"#,
        );
        let changes = crate::diff::diff(&current, &Schema::default());
        let planned = plan(&current, &Schema::default(), &changes).unwrap();
        let statements: Vec<&str> = planned.statements().collect();
        assert_eq!(
            statements,
            [
                "ALTER TABLE \"a\" DROP CONSTRAINT \"a_b_id_fkey\";",
                "DROP TABLE \"b\";",
                "DROP TABLE \"a\";"
            ]
        );
    }

    #[test]
    fn column_changes_cast_backfill_and_undo() {
        let schema = Schema::default();
        let alter = |from: Column, to: Column| {
            plan(
                &schema,
                &schema,
                &[Change::AlterColumn {
                    table: "hero".into(),
                    from,
                    to,
                }],
            )
            .unwrap()
            .steps
        };

        assert_eq!(
            alter(
                column("age", Type::Integer, true, None),
                column("age", Type::BigInt, true, None)
            ),
            [sql(
                "-- integer to bigint rewrites the table: ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n\
                 -- squawk-ignore changing-column-type\n\
                 ALTER TABLE \"hero\" ALTER COLUMN \"age\" TYPE BIGINT USING \"age\"::BIGINT;",
                "change type of hero.age from integer to bigint (widening: every value fits; rewrites the table under an ACCESS EXCLUSIVE lock)",
                "-- bigint to integer rewrites the table: ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n\
                 -- squawk-ignore changing-column-type\n\
                 ALTER TABLE \"hero\" ALTER COLUMN \"age\" TYPE INTEGER USING \"age\"::INTEGER;",
            )]
        );

        // A narrowing cast, and a default that may not survive it.
        assert_eq!(
            alter(
                column("code", Type::Text, false, Some(DefaultValue::Text("none".into()))),
                column("code", Type::Varchar(4), false, Some(DefaultValue::Text("n/a".into())))
            ),
            [
                sql(
                    "ALTER TABLE \"hero\" ALTER COLUMN \"code\" DROP DEFAULT;",
                    "drop default of hero.code (before its type changes)",
                    "ALTER TABLE \"hero\" ALTER COLUMN \"code\" SET DEFAULT 'none';",
                ),
                lossy(
                    "-- text to varchar(4) rewrites the table: ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n\
                     -- squawk-ignore changing-column-type\n\
                     ALTER TABLE \"hero\" ALTER COLUMN \"code\" TYPE VARCHAR(4) USING \"code\"::VARCHAR(4);",
                    "change type of hero.code from text to varchar(4) (cast that may fail or lose data: text longer than 4 characters is cut; rewrites the table under an ACCESS EXCLUSIVE lock)",
                    "the cast from text to varchar(4) may have changed values (text longer than 4 characters is cut)",
                ),
                sql(
                    "ALTER TABLE \"hero\" ALTER COLUMN \"code\" SET DEFAULT 'n/a';",
                    "set default of hero.code to \"n/a\"",
                    "ALTER TABLE \"hero\" ALTER COLUMN \"code\" DROP DEFAULT;",
                ),
            ]
        );

        // NOT NULL with a default: existing NULLs get it first.
        assert_eq!(
            alter(
                column("age", Type::Integer, true, None),
                column("age", Type::Integer, false, Some(DefaultValue::Integer(30)))
            ),
            [
                sql(
                    "ALTER TABLE \"hero\" ALTER COLUMN \"age\" SET DEFAULT 30;",
                    "set default of hero.age to 30",
                    "ALTER TABLE \"hero\" ALTER COLUMN \"age\" DROP DEFAULT;",
                ),
                lossy(
                    "UPDATE \"hero\" SET \"age\" = DEFAULT WHERE \"age\" IS NULL;",
                    "fill NULLs of hero.age with its default",
                    "which rows of hero.age were NULL before they got the default is not recorded",
                ),
            ]
            .into_iter()
            .chain(online_not_null("make hero.age NOT NULL"))
            .collect::<Vec<_>>()
        );

        // Without a default, SET NOT NULL says it fails on a NULL; the default goes.
        assert_eq!(
            alter(
                column("age", Type::Integer, true, Some(DefaultValue::Integer(1))),
                column("age", Type::Integer, false, None)
            ),
            [sql(
                "ALTER TABLE \"hero\" ALTER COLUMN \"age\" DROP DEFAULT;",
                "drop default of hero.age",
                "ALTER TABLE \"hero\" ALTER COLUMN \"age\" SET DEFAULT 1;",
            ),]
            .into_iter()
            .chain(online_not_null(
                "make hero.age NOT NULL (fails if a row holds NULL)"
            ))
            .collect::<Vec<_>>()
        );

        assert_eq!(
            alter(
                column("age", Type::Integer, false, None),
                column("age", Type::Integer, true, None)
            ),
            // Outside the transaction, so that its reverse is the online NOT NULL.
            [Step::outside_transaction(
                "-- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" ALTER COLUMN \"age\" DROP NOT NULL;".into(),
                "make hero.age nullable",
                Reverse::Sql(
                    "DO $strata$\nBEGIN\n    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = '\"hero\"'::regclass AND conname = 'hero_age_not_null') THEN\n        ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_age_not_null\" CHECK (\"age\" IS NOT NULL) NOT VALID;\n    END IF;\nEND\n$strata$;\n\n\
                     -- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" VALIDATE CONSTRAINT \"hero_age_not_null\";\n\n\
                     -- Outside a transaction, and a no-op when run again.\n-- squawk-ignore prefer-robust-stmts\nALTER TABLE \"hero\" ALTER COLUMN \"age\" SET NOT NULL;\n\n\
                     ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_age_not_null\";"
                        .into()
                ),
            )]
        );
    }

    #[test]
    fn a_serial_key_widens_its_sequence_with_it() {
        let current = parse(BEFORE);
        let target = parse(&BEFORE.replacen(
            "[table.hero.columns]\nid = { type = \"integer\"",
            "[table.hero.columns]\nid = { type = \"bigint\"",
            1,
        ));
        let changes = crate::diff::diff(&current, &target);
        let planned = plan(&current, &target, &changes).unwrap();
        assert!(planned.steps.contains(&sql(
            "ALTER SEQUENCE IF EXISTS \"hero_id_seq\" AS BIGINT;",
            "number hero.id with the range of bigint (its sequence hero_id_seq)",
            "ALTER SEQUENCE IF EXISTS \"hero_id_seq\" AS INTEGER;",
        )));
    }

    /// Primary key, unique, foreign key and index changes: the old one is dropped
    /// and the new one added; foreign keys come last.
    #[test]
    fn key_and_index_changes_drop_then_add() {
        let current = parse(BEFORE);
        let target = parse(
            &BEFORE
                .replace(
                    "name = { type = \"text\", unique = true }",
                    "name = \"text\"",
                )
                .replace(
                    "[table.hero.columns]\nid = { type = \"integer\", primary_key = true }\nname = { type = \"text\", index = true }",
                    "[table.hero]\nprimary_key = [\"id\", \"name\"]\nunique = [[\"name\"]]\n[table.hero.columns]\nid = { type = \"integer\", default = 0 }\nname = \"text\"",
                )
                .replace("references = \"team.id\" }", "references = \"team.id\", on_delete = \"set null\" }"),
        );
        let changes = crate::diff::diff(&current, &target);
        let planned = plan(&current, &target, &changes).unwrap();
        let comments: Vec<&str> = planned.steps.iter().map(|s| s.comment.as_str()).collect();
        let statements: Vec<&str> = planned.statements().collect();
        // hero exists: its primary key is dropped and its new one's index
        // built concurrently, then attached, all outside the transaction.
        assert!(
            statements.contains(&"ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_pkey\";"),
            "{statements:#?}"
        );
        assert!(statements.contains(
            &"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"hero_pkey\" ON \"hero\" (\"id\", \"name\");"
        ));
        assert!(statements.iter().any(|s| s.contains(
            "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_pkey\" PRIMARY KEY USING INDEX \"hero_pkey\";"
        )));
        // team exists: its unique constraint is dropped outside the transaction,
        // so that its down builds it back concurrently.
        assert!(statements
            .contains(&"ALTER TABLE \"team\" DROP CONSTRAINT IF EXISTS \"team_name_key\";"));
        // hero exists: its new unique constraint's index is built concurrently.
        assert!(statements.contains(
            &"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"hero_name_key\" ON \"hero\" (\"name\");"
        ));
        assert!(statements.contains(&"DROP INDEX CONCURRENTLY IF EXISTS \"ix_hero_name\";"));
        let drop_fk = planned
            .steps
            .iter()
            .find(|s| s.comment == "drop foreign key hero_team_id_fkey on hero")
            .unwrap();
        assert_eq!(
            drop_fk.reverse,
            Reverse::Sql(
                "-- Restored inside the rollback's transaction: checks every row of hero under SHARE ROW EXCLUSIVE: \
                 writes to hero and team wait until the rollback commits.\n\
                 -- squawk-ignore constraint-missing-not-valid, adding-foreign-key-constraint\n\
                 ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\");"
                    .into()
            )
        );
        // hero exists: its new foreign key is added NOT VALID with the other
        // foreign keys, last in the transaction, and validated outside it.
        let (inside, outside) = planned.split_by_transaction();
        assert_eq!(
            inside.statements().last().unwrap(),
            "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_team_id_fkey\" FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\") ON DELETE SET NULL NOT VALID;"
        );
        let outside: Vec<&str> = outside.statements().collect();
        assert_eq!(outside.len(), 10, "{outside:#?}");
        assert_eq!(
            outside[0],
            "ALTER TABLE \"team\" DROP CONSTRAINT IF EXISTS \"team_name_key\";"
        );
        assert_eq!(
            outside[1],
            "DROP INDEX CONCURRENTLY IF EXISTS \"ix_hero_name\";"
        );
        assert_eq!(
            outside[2],
            "ALTER TABLE \"hero\" DROP CONSTRAINT IF EXISTS \"hero_pkey\";"
        );
        assert!(outside[8].contains(
            "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_name_key\" UNIQUE USING INDEX \"hero_name_key\";"
        ));
        assert_eq!(
            outside[9],
            "-- Outside a transaction, and a no-op when run again.\n\
             -- squawk-ignore prefer-robust-stmts\n\
             ALTER TABLE \"hero\" VALIDATE CONSTRAINT \"hero_team_id_fkey\";"
        );
        let drop_pk = planned
            .steps
            .iter()
            .find(|s| s.comment == "drop primary key hero_pkey of hero")
            .unwrap();
        // Its reverse, in a down file outside a transaction, builds it back
        // the same way.
        let Reverse::Sql(restore) = &drop_pk.reverse else {
            panic!("{:?}", drop_pk.reverse)
        };
        assert!(
            restore.contains(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"hero_pkey\" ON \"hero\" (\"id\");"
            ) && restore.contains(
                "ALTER TABLE \"hero\" ADD CONSTRAINT \"hero_pkey\" PRIMARY KEY USING INDEX \"hero_pkey\";"
            ),
            "{restore}"
        );
        assert!(!drop_pk.transactional);
        assert!(
            comments.contains(&"set primary key of hero to (id, name), using that index"),
            "{comments:#?}"
        );
        assert!(!planned.transactional());
    }
}
