//! Changes → PostgreSQL plan steps (statements with their comments and reverses),
//! with constraint names spelled the way PostgreSQL itself would choose them
//! (`hero_pkey`, `hero_team_id_fkey`).

use std::collections::HashSet;

use super::types::{declared_type, serial_type};
use crate::driver::ddl::{
    self, column_list, create_index, drop_column, drop_index, drop_table, references,
};
use crate::driver::{quote_identifier as q, Plan, Reverse, Step, Unsupported};
use crate::schema::{Change, Column, ForeignKey, Table};

pub fn plan(changes: &[Change]) -> Result<Plan, Vec<Unsupported>> {
    let mut steps = Vec::new();
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
                steps.push(Step::new(
                    create_table(table, &now),
                    change.to_string(),
                    Reverse::Sql(drop_table(&table.name)),
                ));
                deferred_foreign_keys
                    .extend(later.into_iter().map(|fk| add_foreign_key(&table.name, fk)));
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
            Change::AddColumn { table, column } => {
                if let Some(reason) = ddl::add_column_problem(table, column) {
                    unsupported.push(Unsupported {
                        change: change.to_string(),
                        reason,
                    });
                } else {
                    steps.push(Step::new(
                        format!(
                            "ALTER TABLE {} ADD COLUMN {};",
                            q(table),
                            column_definition(column, false)
                        ),
                        change.to_string(),
                        Reverse::Sql(drop_column(table, &column.name)),
                    ));
                }
            }
            Change::AddForeignKey { table, foreign_key } => {
                deferred_foreign_keys.push(add_foreign_key(table, foreign_key))
            }
            Change::AddUnique { table, unique } => steps.push(Step::new(
                format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});",
                    q(table),
                    q(&unique.name),
                    column_list(&unique.columns)
                ),
                change.to_string(),
                Reverse::Sql(drop_constraint(table, &unique.name)),
            )),
            other => unsupported.push(Unsupported {
                change: other.to_string(),
                reason: "strata does not generate this change yet; write this migration by hand"
                    .to_string(),
            }),
        }
    }
    steps.extend(deferred_foreign_keys);
    if unsupported.is_empty() {
        Ok(Plan { steps })
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

fn drop_constraint(table: &str, name: &str) -> String {
    format!("ALTER TABLE {} DROP CONSTRAINT {};", q(table), q(name))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::schema::{parse_schema_text, DefaultValue, Index, Schema, Type, UniqueConstraint};

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
                    name: "motto".into(),
                    ty: Type::Text,
                    nullable: false,
                    default: Some(DefaultValue::Text("never give up".into())),
                    renamed_from: None,
                },
            },
            Change::AddColumn {
                table: "hero".into(),
                column: Column {
                    name: "mentor_id".into(),
                    ty: Type::Integer,
                    nullable: true,
                    default: None,
                    renamed_from: None,
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
                index: Index {
                    name: "ix_team_name".into(),
                    columns: vec!["name".into()],
                    unique: false,
                },
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
        let plan = plan(&changes()).unwrap();
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
            step(
                "CREATE INDEX \"ix_team_name\" ON \"team\" (\"name\");",
                "create index ix_team_name on team (name)",
                "DROP INDEX \"ix_team_name\";",
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

    #[test]
    fn a_change_strata_does_not_generate_yet_is_unsupported() {
        let refused = plan(&[Change::DropTable {
            table: "hero".into(),
        }])
        .unwrap_err();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].change, "drop table hero");
        assert!(refused[0].reason.contains("write this migration by hand"));
    }
}
