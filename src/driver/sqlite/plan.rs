//! Changes → SQLite plan steps: statements with their comments and reverses.

use std::collections::HashSet;

use super::types::declared_type;
use crate::driver::ddl::{
    self, column_list, create_index, drop_column, drop_index, drop_table, references,
};
use crate::driver::{quote_identifier as q, Plan, Reverse, Step, Unsupported};
use crate::schema::{Change, Column, ForeignKey, Table};

pub fn plan(changes: &[Change]) -> Result<Plan, Vec<Unsupported>> {
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

    let mut steps = Vec::new();
    let mut unsupported = Vec::new();
    for change in changes {
        match change {
            Change::CreateTable(table) => steps.push(Step::new(
                create_table(table),
                change.to_string(),
                Reverse::Sql(drop_table(&table.name)),
            )),
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
        Ok(Plan { steps })
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

/// `ALTER TABLE … ADD COLUMN`, with the REFERENCES clause of a foreign key added
/// on the same column in this plan (the step's comment names both changes).
fn add_column(table: &str, column: &Column, changes: &[Change]) -> Result<Step, String> {
    if let Some(problem) = ddl::add_column_problem(table, column) {
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
fn sqlite_boolean(value: bool) -> &'static str {
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
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            renamed_from: None,
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
        };
        let mentor_index = Index {
            name: "ix_hero_mentor_id".into(),
            columns: vec!["mentor_id".into()],
            unique: false,
        };
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
        }
    }

    #[test]
    fn every_step_has_its_sql_comment_reverse_and_transaction_flag() {
        let plan = plan(&changes()).unwrap();
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
        let plan = plan(&changes()).unwrap();
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

    #[test]
    fn a_change_that_needs_a_table_rebuild_is_unsupported() {
        let refused = plan(&[Change::DropColumn {
            table: "hero".into(),
            column: "name".into(),
        }])
        .unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].change, "drop column hero.name");
        assert!(refused[0].reason.contains("table rebuild"), "{:?}", refused);
    }
}
