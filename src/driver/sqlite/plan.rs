//! Changes → SQLite plan steps: statements with their comments and reverses.
//!
//! What `ALTER TABLE` can do in place (SQLite ≥ 3.35, bundled) is done in place:
//! rename a table or column, add a column, drop a column nothing else depends on,
//! create and drop tables and indexes. Every other change of a table (a type,
//! nullability or default, its primary key, unique constraints, foreign keys) is
//! made by one rebuild of that table, however many changes it has ([`rebuild`]).

use std::collections::{HashMap, HashSet};

use super::rebuild;
use super::types::declared_type;
use crate::driver::ddl::{
    self, column_list, create_index, drop_column, drop_index, drop_table, references,
};
use crate::driver::{quote_identifier as q, Plan, Reverse, Step, Unsupported};
use crate::schema::{names, Change, Column, DefaultValue, ForeignKey, Schema, Table};
use crate::text::printable;

pub fn plan(
    current: &Schema,
    target: &Schema,
    changes: &[Change],
) -> Result<Plan, Vec<Unsupported>> {
    // The current schema once this plan's renames (done first, in place) ran:
    // what a rebuild copies from.
    let renamed = apply_renames(current, changes);

    // SQLite cannot add a foreign key to an existing column, but a column added in
    // this same migration can carry its REFERENCES clause (if its default is NULL,
    // SQLite's rule for adding a REFERENCES column).
    let added_columns: HashSet<(&str, &str)> = changes
        .iter()
        .filter_map(|change| match change {
            Change::AddColumn { table, column } if column.default.is_none() => {
                Some((table.as_str(), column.name.as_str()))
            }
            _ => None,
        })
        .collect();
    let folded_foreign_key = |table: &str, fk: &ForeignKey| {
        fk.columns.len() == 1 && added_columns.contains(&(table, fk.columns[0].as_str()))
    };

    let rebuilt: HashSet<&str> = changes
        .iter()
        .filter(|change| needs_rebuild(change, &renamed, &folded_foreign_key))
        .map(Change::table)
        .collect();
    // A rebuild takes every change of its table and runs where the last of them
    // was, and after the table's renames (it copies by the new names; the diff
    // may list a column's rename after another column's change) and after
    // anything its new shape refers to.
    let mut last_change: HashMap<&str, usize> = HashMap::new();
    for (position, change) in changes.iter().enumerate() {
        let renames = matches!(
            change,
            Change::RenameColumn { .. } | Change::RenameTable { .. }
        );
        if rebuilt.contains(change.table()) && (part_of_rebuild(change) || renames) {
            last_change.insert(change.table(), position);
        }
    }

    let mut steps = Vec::new();
    let mut unsupported = Vec::new();
    let mut refuse = |change: &Change, reason: String| {
        unsupported.push(Unsupported {
            change: change.to_string(),
            reason,
        })
    };
    for (position, change) in changes.iter().enumerate() {
        let table = change.table();
        let rebuild_here = rebuilt.contains(table) && last_change.get(table) == Some(&position);
        if rebuilt.contains(table) && part_of_rebuild(change) {
            if rebuild_here {
                match rebuild_step(current, &renamed, target, table, changes) {
                    Ok(step) => steps.push(step),
                    Err(reason) => refuse(change, reason),
                }
            }
            continue;
        }
        if let Some(step) = crate::driver::object_ddl::step(change, "sqlite") {
            match step {
                Ok(step) => steps.push(step),
                Err(refusal) => refuse(change, refusal.reason),
            }
            continue;
        }
        if change.is_type_change() {
            // SQLite has no enum types: `Schema::for_dialect` made enum columns
            // text with a CHECK, whose changes rebuild their tables.
            continue;
        }
        match change {
            Change::CreateTable(table) => steps.push(Step::new(
                create_table(table),
                change.to_string(),
                Reverse::Sql(drop_table(&table.name)),
            )),
            Change::DropTable { table } => {
                let reason = format!(
                    "drops table {} and its rows; they cannot be restored by SQL",
                    printable(table)
                );
                // It comes back empty, naming the tables it references as they
                // are at that point of the down file (before the renames back).
                let reverse = match renamed.table(table) {
                    Some(old) => {
                        let mut sql = create_table(old);
                        for index in &old.indexes {
                            sql.push('\n');
                            sql.push_str(&create_index(table, index));
                        }
                        Reverse::Lossy { sql, reason }
                    }
                    None => Reverse::Irreversible(reason),
                };
                let mut step = Step::new(drop_table(table), change.to_string(), reverse);
                // With foreign keys on, DROP TABLE first deletes every row, which
                // fails (or cascades) while another table dropped later in this
                // migration still references them.
                step.foreign_keys_off = renamed.tables.iter().any(|other| {
                    other.name != *table
                        && other
                            .foreign_keys
                            .iter()
                            .any(|fk| fk.referenced_table == *table)
                });
                steps.push(step);
            }
            Change::RenameTable { from, to } => steps.push(Step::new(
                format!("ALTER TABLE {} RENAME TO {};", q(from), q(to)),
                change.to_string(),
                Reverse::Sql(format!("ALTER TABLE {} RENAME TO {};", q(to), q(from))),
            )),
            Change::RenameColumn { table, from, to } => steps.push(Step::new(
                format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    q(table),
                    q(from),
                    q(to)
                ),
                change.to_string(),
                Reverse::Sql(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {};",
                    q(table),
                    q(to),
                    q(from)
                )),
            )),
            Change::DropColumn { table, column } => {
                let reason = format!(
                    "drops column {}.{} and its data; it cannot be restored by SQL",
                    printable(table),
                    printable(column)
                );
                let mut step = Step::new(
                    drop_column(table, column),
                    change.to_string(),
                    Reverse::Irreversible(reason.clone()),
                );
                if let Some((sql, referenced)) =
                    readd_column(&renamed, target, changes, position, table, column)
                {
                    step.reverse = Reverse::Lossy { sql, reason };
                    step.foreign_keys_off = referenced;
                }
                steps.push(step);
            }
            Change::CreateIndex { table, index } => steps.push(Step::new(
                create_index(table, index),
                change.to_string(),
                Reverse::Sql(drop_index(index)),
            )),
            Change::DropIndex { table, index } => steps.push(Step::new(
                drop_index(index),
                change.to_string(),
                Reverse::Sql(create_index(table, index)),
            )),
            Change::AddColumn { table, column } => match add_column(table, column, changes) {
                Ok(step) => steps.push(step),
                Err(reason) => refuse(change, reason),
            },
            Change::AddForeignKey { table, foreign_key }
                if folded_foreign_key(table, foreign_key) => {}
            // SQLite has no comments; schema.toml keeps them (see keeps_comments).
            Change::SetComment { .. } => {}
            // Everything else is part of a rebuild (`needs_rebuild`).
            other => refuse(
                other,
                "strata found no plan for this change on SQLite".to_string(),
            ),
        }
        // The table's last rename: its rebuild comes right after.
        if rebuild_here {
            match rebuild_step(current, &renamed, target, table, changes) {
                Ok(step) => steps.push(step),
                Err(reason) => refuse(change, reason),
            }
        }
    }
    if unsupported.is_empty() {
        Ok(Plan { steps })
    } else {
        Err(unsupported)
    }
}

/// The reverse of dropping `column` of `table` in place (change `position`):
/// a rebuild of the table as it is at that point of the down file (the target
/// shape, with the columns dropped after this one back) into that shape with
/// `column` back, empty (NULL, its default, or its type's zero when NOT NULL
/// without one). Also whether other tables reference the table: the rebuild
/// then needs foreign keys off.
fn readd_column(
    renamed: &Schema,
    target: &Schema,
    changes: &[Change],
    position: usize,
    table: &str,
    column: &str,
) -> Option<(String, bool)> {
    let old = renamed.table(table)?;
    let mut before = target.table(table)?.clone();
    for later in &changes[position + 1..] {
        if let Change::DropColumn {
            table: t,
            column: c,
        } = later
        {
            if t == table {
                before.columns.push(old.column(c)?.clone());
            }
        }
    }
    let mut after = before.clone();
    after.columns.push(old.column(column)?.clone());
    let (sql, _) = rebuild::rebuild(&before, &after, &[renamed, target]);
    // Any table referencing it, itself included: the rebuilt copy's key names
    // the old table, whose DROP would delete the rows that key points to.
    let referenced = renamed.tables.iter().any(|other| {
        other
            .foreign_keys
            .iter()
            .any(|fk| fk.referenced_table == table)
    });
    Some((sql, referenced))
}

/// Whether SQLite cannot make `change` in place.
fn needs_rebuild(
    change: &Change,
    renamed: &Schema,
    folded_foreign_key: &dyn Fn(&str, &ForeignKey) -> bool,
) -> bool {
    match change {
        Change::AlterColumn { .. }
        | Change::SetPrimaryKey { .. }
        | Change::AddUnique { .. }
        | Change::DropUnique { .. }
        | Change::AddCheck { .. }
        | Change::DropCheck { .. }
        | Change::DropForeignKey { .. } => true,
        Change::AddForeignKey { table, foreign_key } => !folded_foreign_key(table, foreign_key),
        // ADD COLUMN takes no expression as default (CURRENT_TIMESTAMP, `(…)`).
        // Nor a STORED generated column (VIRTUAL ones it adds).
        Change::AddColumn { column, .. } => {
            matches!(column.default, Some(DefaultValue::Sql(_)))
                || column.generated.as_ref().is_some_and(|g| g.stored)
        }
        Change::DropColumn { table, column } => renamed
            .table(table)
            .is_none_or(|table| !droppable_in_place(table, column)),
        _ => false,
    }
}

/// SQLite's rules for `DROP COLUMN` (lang_altertable.html): not a primary key
/// column, nor in a UNIQUE constraint or a foreign key. (An index on the column
/// is dropped earlier in the plan, since the target cannot have it.)
fn droppable_in_place(table: &Table, column: &str) -> bool {
    let named = |columns: &[String]| columns.iter().any(|c| c == column);
    !table
        .primary_key
        .as_ref()
        .is_some_and(|pk| named(&pk.columns))
        && !table.uniques.iter().any(|unique| named(&unique.columns))
        && !table.foreign_keys.iter().any(|fk| named(&fk.columns))
}

/// Whether a rebuild of its table makes `change` (renames, creating and dropping
/// whole tables stay steps of their own).
fn part_of_rebuild(change: &Change) -> bool {
    !change.is_type_change()
        && !matches!(
            change,
            Change::CreateTable(_)
                | Change::SetComment { .. }
                | Change::DropTable { .. }
                | Change::RenameTable { .. }
                | Change::RenameColumn { .. }
                | Change::CreateObject(_)
                | Change::DropObject(_)
        )
}

/// One step rebuilding `table` into its target shape; its reverse is the rebuild
/// back when that gives the data back.
fn rebuild_step(
    current: &Schema,
    renamed: &Schema,
    target: &Schema,
    table: &str,
    changes: &[Change],
) -> Result<Step, String> {
    let missing = |which: &str| {
        format!(
            "the {which} schema has no table {}, which the rebuild needs",
            printable(table)
        )
    };
    let before = renamed.table(table).ok_or_else(|| missing("current"))?;
    let after = target.table(table).ok_or_else(|| missing("target"))?;
    for column in &after.columns {
        if before.column(&column.name).is_none() {
            if let Some(problem) = ddl::add_column_problem(table, column) {
                return Err(problem);
            }
        }
    }
    let schemas = [current, target];
    let (sql, notes) = rebuild::rebuild(before, after, &schemas);
    let back = rebuild::rebuild(after, before, &schemas).0;
    // Foreign keys whose target the down file brings back empty (a table or
    // column this migration drops): the rows that pointed to it lose the link.
    // After the rebuild back, not before: until then the column may still be
    // NOT NULL (this migration may have made it so), and the down file runs with
    // foreign keys off, so the order does not matter to the key itself.
    let mut orphans = String::new();
    for fk in before.foreign_keys.iter().filter(|fk| {
        !after.foreign_keys.contains(fk)
            && fk.columns.iter().all(|c| after.column(c).is_some())
            && target_comes_back_empty(changes, fk)
    }) {
        orphans.push_str(&ddl::null_orphans(table, fk, &fk.referenced_table));
        orphans.push('\n');
    }
    let reverse = match rebuild::lossy(before, after) {
        Some(reason) => Reverse::Lossy {
            sql: format!("{back}{orphans}"),
            reason,
        },
        None => Reverse::Sql(format!("{back}{orphans}")),
    };
    let mut made: Vec<String> = changes
        .iter()
        .filter(|change| change.table() == table && part_of_rebuild(change))
        .map(ToString::to_string)
        .collect();
    made.extend(notes.into_iter().map(|note| format!("copies {note}")));
    Ok(Step {
        sql,
        comment: format!(
            "rebuild table {} with foreign keys off: {}",
            printable(table),
            made.join("; ")
        ),
        reverse,
        transactional: true,
        foreign_keys_off: true,
    })
}

/// Whether the migration drops `fk`'s target table or one of its target
/// columns (names after the renames), which the down file re-creates empty.
fn target_comes_back_empty(changes: &[Change], fk: &ForeignKey) -> bool {
    changes.iter().any(|change| match change {
        Change::DropTable { table } => *table == fk.referenced_table,
        Change::DropColumn { table, column } => {
            *table == fk.referenced_table && fk.referenced_columns.contains(column)
        }
        _ => false,
    })
}

/// `current` after the plan's table and column renames, which SQLite carries
/// into indexes and into other tables' REFERENCES clauses.
fn apply_renames(current: &Schema, changes: &[Change]) -> Schema {
    let mut schema = current.clone();
    for change in changes {
        match change {
            Change::RenameTable { from, to } => {
                for table in &mut schema.tables {
                    if table.name == *from {
                        table.name = to.clone();
                    }
                    for fk in &mut table.foreign_keys {
                        if fk.referenced_table == *from {
                            fk.referenced_table = to.clone();
                        }
                    }
                }
            }
            Change::RenameColumn { table, from, to } => {
                let rename = |columns: &mut Vec<String>| {
                    for column in columns.iter_mut() {
                        if column == from {
                            *column = to.clone();
                        }
                    }
                };
                for each in &mut schema.tables {
                    for fk in &mut each.foreign_keys {
                        if fk.referenced_table == *table {
                            rename(&mut fk.referenced_columns);
                        }
                    }
                    if each.name != *table {
                        continue;
                    }
                    for column in &mut each.columns {
                        if column.name == *from {
                            column.name = to.clone();
                        }
                    }
                    if let Some(pk) = &mut each.primary_key {
                        rename(&mut pk.columns);
                    }
                    for unique in &mut each.uniques {
                        rename(&mut unique.columns);
                    }
                    for fk in &mut each.foreign_keys {
                        rename(&mut fk.columns);
                    }
                    for index in &mut each.indexes {
                        for key in &mut index.keys {
                            if let crate::schema::IndexTarget::Column(column) = &mut key.target {
                                if column == from {
                                    *column = to.clone();
                                }
                            }
                        }
                        rename(&mut index.include);
                    }
                }
            }
            _ => {}
        }
    }
    schema
}

fn column_definition(column: &Column) -> String {
    let mut sql = ddl::column_definition(column, &declared_type(&column.ty), sqlite_boolean);
    if let Some(generated) = &column.generated {
        sql.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            generated.sql,
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        ));
    }
    sql
}

/// The layout SQLAlchemy's `create_all` uses: columns, then the primary key, unique
/// constraints and foreign keys as table constraints. A single INTEGER primary key
/// declared this way is still SQLite's rowid alias.
pub(super) fn create_table(table: &Table) -> String {
    create_table_as(table, &table.name)
}

/// `CREATE TABLE` for `table`, whose constraint names follow the convention of
/// a table called `final_name` (a rebuild creates it under a scratch name).
pub(super) fn create_table_as(table: &Table, final_name: &str) -> String {
    // SQLite keeps constraint names only in this text: a name is written when
    // it is not the convention's (which inspection assumes otherwise), and
    // always for a CHECK.
    let named = |name: &str, conventional: String| {
        if name == conventional {
            String::new()
        } else {
            format!("CONSTRAINT {} ", q(name))
        }
    };
    let mut lines: Vec<String> = table.columns.iter().map(column_definition).collect();
    if let Some(pk) = &table.primary_key {
        lines.push(format!(
            "{}PRIMARY KEY ({})",
            named(&pk.name, names::primary_key(final_name)),
            column_list(&pk.columns)
        ));
    }
    for unique in &table.uniques {
        lines.push(format!(
            "{}UNIQUE ({})",
            named(&unique.name, names::unique(final_name, &unique.columns)),
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
    for fk in &table.foreign_keys {
        lines.push(format!(
            "{}FOREIGN KEY ({}) {}",
            named(&fk.name, names::foreign_key(final_name, &fk.columns)),
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

/// `ALTER TABLE … ADD COLUMN`, with the REFERENCES clause of a foreign key added
/// on the same column in this plan (the step's comment names both changes).
fn add_column(table: &str, column: &Column, changes: &[Change]) -> Result<Step, String> {
    // A generated column computes the value of the rows that exist.
    if let Some(problem) =
        ddl::add_column_problem(table, column).filter(|_| column.generated.is_none())
    {
        return Err(problem);
    }
    let mut sql = format!(
        "ALTER TABLE {} ADD COLUMN {}",
        q(table),
        column_definition(column)
    );
    let mut comment = Change::AddColumn {
        table: table.to_string(),
        column: column.clone(),
    }
    .to_string();
    let foreign_key = changes.iter().find(|change| match change {
        Change::AddForeignKey {
            table: t,
            foreign_key,
        } => t == table && foreign_key.columns == [column.name.clone()],
        _ => false,
    });
    if let Some(change @ Change::AddForeignKey { foreign_key, .. }) = foreign_key {
        sql.push(' ');
        sql.push_str(&references(foreign_key));
        comment.push_str(&format!("; {change}"));
    }
    sql.push(';');
    // DROP COLUMN (SQLite 3.35+) takes a column's own REFERENCES clause with it;
    // an index on the column is dropped first, by the reverse of its own step.
    Ok(Step::new(
        sql,
        comment,
        Reverse::Sql(drop_column(table, &column.name)),
    ))
}

/// SQLite has no boolean type; SQLAlchemy stores booleans as 1 and 0.
pub(super) fn sqlite_boolean(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::Connection;

    use super::*;
    use crate::schema::{parse_schema_text, Index, Schema, Type};

    const SCHEMA: &str = r#"
[table.team.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }

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

    fn nullable(name: &str, ty: Type) -> Column {
        Column {
            nullable: true,
            ..Column::new(name, ty)
        }
    }

    /// New tables (one with a foreign key) and their index, then changes to them:
    /// a plain new column, a new column with a foreign key, an index on it, and a
    /// dropped index.
    fn changes() -> Vec<Change> {
        let schema = schema();
        let team = schema.table("team").unwrap();
        let hero = schema.table("hero").unwrap();
        let mentor = ForeignKey {
            name: "hero_mentor_id_fkey".into(),
            columns: vec!["mentor_id".into()],
            referenced_table: "hero".into(),
            referenced_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: false,
            initially_deferred: false,
        };
        let mentor_index = Index::on_columns("ix_hero_mentor_id", vec!["mentor_id".into()], false);
        vec![
            Change::CreateTable(team.clone()),
            Change::CreateTable(hero.clone()),
            Change::CreateIndex {
                table: "team".into(),
                index: team.indexes[0].clone(),
            },
            Change::AddColumn {
                table: "team".into(),
                column: nullable("motto", Type::Text),
            },
            Change::AddColumn {
                table: "hero".into(),
                column: nullable("mentor_id", Type::Integer),
            },
            Change::AddForeignKey {
                table: "hero".into(),
                foreign_key: mentor,
            },
            Change::CreateIndex {
                table: "hero".into(),
                index: mentor_index,
            },
            Change::DropIndex {
                table: "team".into(),
                index: team.indexes[0].clone(),
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
        let plan = plan(&Schema::default(), &Schema::default(), &changes()).unwrap();
        let expected = vec![
            step(
                "CREATE TABLE \"team\" (\n    \"id\" INTEGER NOT NULL,\n    \"name\" VARCHAR NOT NULL,\n    PRIMARY KEY (\"id\")\n);",
                "create table team",
                "DROP TABLE \"team\";",
            ),
            step(
                "CREATE TABLE \"hero\" (\n    \"id\" INTEGER NOT NULL,\n    \"name\" VARCHAR NOT NULL,\n    \"team_id\" INTEGER,\n    PRIMARY KEY (\"id\"),\n    FOREIGN KEY (\"team_id\") REFERENCES \"team\" (\"id\") ON DELETE CASCADE\n);",
                "create table hero",
                "DROP TABLE \"hero\";",
            ),
            step(
                "CREATE INDEX \"ix_team_name\" ON \"team\" (\"name\");",
                "create index ix_team_name on team (name)",
                "DROP INDEX \"ix_team_name\";",
            ),
            step(
                "ALTER TABLE \"team\" ADD COLUMN \"motto\" VARCHAR;",
                "add column team.motto text null",
                "ALTER TABLE \"team\" DROP COLUMN \"motto\";",
            ),
            // The foreign key rides on the new column: one step, both changes named.
            step(
                "ALTER TABLE \"hero\" ADD COLUMN \"mentor_id\" INTEGER REFERENCES \"hero\" (\"id\");",
                "add column hero.mentor_id integer null; add foreign key hero.(mentor_id) -> hero.(id)",
                "ALTER TABLE \"hero\" DROP COLUMN \"mentor_id\";",
            ),
            step(
                "CREATE INDEX \"ix_hero_mentor_id\" ON \"hero\" (\"mentor_id\");",
                "create index ix_hero_mentor_id on hero (mentor_id)",
                "DROP INDEX \"ix_hero_mentor_id\";",
            ),
            step(
                "DROP INDEX \"ix_team_name\";",
                "drop index ix_team_name on team",
                "CREATE INDEX \"ix_team_name\" ON \"team\" (\"name\");",
            ),
        ];
        assert_eq!(plan.steps, expected);
        assert!(plan.transactional());
    }

    /// The reverses are real SQL: run forward then backward (last step first), a
    /// foreign-key-enforcing SQLite database is empty again.
    #[test]
    fn reverse_steps_in_reverse_order_undo_the_plan() {
        let plan = plan(&Schema::default(), &Schema::default(), &changes()).unwrap();
        let connection = Connection::open_in_memory().unwrap();
        connection
            .pragma_update(None, "foreign_keys", true)
            .unwrap();
        for step in &plan.steps {
            connection.execute_batch(&step.sql).unwrap();
        }
        connection
            .execute_batch(
                "INSERT INTO team (id, name, motto) VALUES (1, 'Preventers', NULL);
                 INSERT INTO hero (id, name, team_id, mentor_id) VALUES (1, 'Deadpond', 1, NULL);",
            )
            .unwrap();
        for step in plan.steps.iter().rev() {
            let Reverse::Sql(sql) = &step.reverse else {
                panic!("{} has no reverse", step.comment);
            };
            connection.execute_batch(sql).unwrap();
        }
        let left: i64 = connection
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    /// A populated team ← hero database, then `target` planned from it.
    fn populated(target: &str) -> (Connection, Plan) {
        let current = schema();
        let target = parse_schema_text(Path::new("schema.toml"), target)
            .unwrap()
            .schema;
        let connection = Connection::open_in_memory().unwrap();
        connection
            .pragma_update(None, "foreign_keys", true)
            .unwrap();
        let setup = plan(
            &Schema::default(),
            &current,
            &crate::diff::diff(&Schema::default(), &current),
        )
        .unwrap();
        for statement in setup.statements() {
            connection.execute_batch(statement).unwrap();
        }
        connection
            .execute_batch(
                "INSERT INTO team (id, name) VALUES (1, 'Preventers'), (2, 'Z-Force');
                 INSERT INTO hero (id, name, team_id) VALUES (1, 'Deadpond', 1), (2, 'Rusty-Man', 2), (3, 'Spider-Boy', NULL);",
            )
            .unwrap();
        let changes = crate::diff::diff(&current, &target);
        let plan = plan(&current, &target, &changes).unwrap();
        (connection, plan)
    }

    fn run(connection: &mut Connection, sql: &[&str]) -> rusqlite::Result<()> {
        super::super::foreign_keys::with_foreign_keys_off(connection, |transaction| {
            for statement in sql {
                transaction.execute_batch(statement)?;
            }
            Ok(())
        })
    }

    fn rows(connection: &Connection, sql: &str) -> Vec<String> {
        let mut statement = connection.prepare(sql).unwrap();
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        rows
    }

    /// Several changes to team (a type change, a new unique constraint, a renamed
    /// column) are one rebuild after the rename; hero keeps its rows and its
    /// foreign key still enforces; the reverse rebuild gives the old shape back.
    #[test]
    fn one_rebuild_per_table_keeps_rows_and_referencing_tables() {
        let (mut connection, plan) = populated(
            r#"
[table.team.columns]
id = { type = "integer", primary_key = true }
title = { type = "varchar(40)", unique = true, renamed_from = "name" }

[table.hero.columns]
id = { type = "integer", primary_key = true }
name = "text"
team_id = { type = "integer", nullable = true, references = "team.id", on_delete = "cascade" }
"#,
        );
        assert_eq!(plan.steps.len(), 2, "{:#?}", plan.steps);
        assert_eq!(
            plan.steps[0].sql,
            "ALTER TABLE \"team\" RENAME COLUMN \"name\" TO \"title\";"
        );
        let rebuild = &plan.steps[1];
        assert!(rebuild.foreign_keys_off);
        assert!(plan.foreign_keys_off());
        assert_eq!(
            rebuild.sql,
            "CREATE TABLE \"team_new\" (\n    \"id\" INTEGER NOT NULL,\n    \"title\" VARCHAR(40) NOT NULL,\n    PRIMARY KEY (\"id\"),\n    UNIQUE (\"title\")\n);\n\
             INSERT INTO \"team_new\" (\"id\", \"title\") SELECT \"id\", \"title\" FROM \"team\";\n\
             DROP TABLE \"team\";\n\
             ALTER TABLE \"team_new\" RENAME TO \"team\";"
        );
        assert!(
            rebuild
                .comment
                .starts_with("rebuild table team with foreign keys off: "),
            "{}",
            rebuild.comment
        );
        let forward: Vec<&str> = plan.statements().collect();
        run(&mut connection, &forward).unwrap();
        assert_eq!(
            rows(&connection, "SELECT h.name || '/' || t.title FROM hero h JOIN team t ON t.id = h.team_id ORDER BY h.id"),
            ["Deadpond/Preventers", "Rusty-Man/Z-Force"]
        );
        // The foreign key still enforces, and still cascades.
        assert!(connection
            .execute(
                "INSERT INTO hero (id, name, team_id) VALUES (9, 'x', 99)",
                []
            )
            .is_err());
        connection
            .execute("DELETE FROM team WHERE id = 2", [])
            .unwrap();
        assert_eq!(
            rows(&connection, "SELECT name FROM hero ORDER BY id"),
            ["Deadpond", "Spider-Boy"]
        );

        let back: Vec<String> = plan
            .steps
            .iter()
            .rev()
            .map(|step| match &step.reverse {
                Reverse::Sql(sql) => sql.clone(),
                Reverse::Irreversible(why) | Reverse::Lossy { reason: why, .. } => panic!("{why}"),
                Reverse::Nothing => String::new(),
            })
            .collect();
        let back: Vec<&str> = back.iter().map(String::as_str).collect();
        run(&mut connection, &back).unwrap();
        // The same tables; a rebuilt table is listed last (SQLite lists tables in
        // the order they were created).
        let mut back = super::super::inspect::inspect(&connection).unwrap();
        back.tables.sort_by(|a, b| b.name.cmp(&a.name));
        assert_eq!(back, schema());
        assert_eq!(rows(&connection, "SELECT name FROM team"), ["Preventers"]);
    }

    /// A type change casts; a column that becomes NOT NULL takes its default where
    /// it held NULL; a cast to another affinity makes the reverse irreversible.
    #[test]
    fn a_rebuild_casts_backfills_and_says_what_it_loses() {
        let (mut connection, plan) = populated(
            r#"
[table.team.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }

[table.hero.columns]
id = { type = "integer", primary_key = true }
name = "integer"
team_id = { type = "integer", default = 1, references = "team.id", on_delete = "cascade" }
"#,
        );
        assert_eq!(plan.steps.len(), 1);
        let rebuild = &plan.steps[0];
        assert!(
            rebuild.sql.contains(
                "SELECT \"id\", CAST(\"name\" AS INTEGER), COALESCE(\"team_id\", 1) FROM \"hero\";"
            ),
            "{}",
            rebuild.sql
        );
        assert!(
            rebuild.comment.ends_with(
                "; copies name through CAST(… AS INTEGER); copies team_id through NULL → 1"
            ),
            "{}",
            rebuild.comment
        );
        // The rebuild back restores the shape, not necessarily every value.
        assert!(
            matches!(&rebuild.reverse, Reverse::Lossy { reason, .. } if reason ==
                "the rebuild of hero converts hero.name from VARCHAR to INTEGER; converting back may not restore every value"),
            "{:?}",
            rebuild.reverse
        );
        let forward: Vec<&str> = plan.statements().collect();
        run(&mut connection, &forward).unwrap();
        assert_eq!(
            rows(
                &connection,
                "SELECT typeof(name) || ':' || name || ':' || team_id FROM hero ORDER BY id"
            ),
            ["integer:0:1", "integer:0:2", "integer:0:1"]
        );
    }

    /// Rows a rebuild leaves without a parent stop the migration: nothing changed.
    #[test]
    fn a_violated_foreign_key_rolls_the_rebuild_back() {
        let (mut connection, plan) = populated(SCHEMA);
        assert!(plan.steps.is_empty());
        connection.execute("PRAGMA foreign_keys = OFF", []).unwrap();
        connection
            .execute("UPDATE hero SET team_id = 7 WHERE id = 2", [])
            .unwrap();
        let error = run(&mut connection, &["DROP TABLE team;"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "PRAGMA foreign_key_check found rows whose foreign key points at no row after the \
             migration ran with foreign keys off: 2 rows of hero (hero.team_id → team.id)"
        );
        assert_eq!(
            rows(&connection, "SELECT name FROM team ORDER BY id"),
            ["Preventers", "Z-Force"]
        );
        let on: i64 = connection
            .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
            .unwrap();
        assert_eq!(on, 0, "the setting before the run is restored");
    }
}
