use super::diff;
use crate::schema::{parse_schema_text, Change, Schema};
use std::path::Path;

fn schema(text: &str) -> Schema {
    parse_schema_text(Path::new("schema.toml"), text)
        .unwrap_or_else(|problems| panic!("{problems}"))
        .schema
}

fn described(changes: &[Change]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

const HEROES: &str = r#"
[table.hero.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }
team_id = { type = "integer", nullable = true, references = "team.id" }

[table.team.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }
"#;

#[test]
fn creates_referenced_tables_first_and_indexes_after() {
    let changes = diff(&Schema::default(), &schema(HEROES));
    assert_eq!(
        described(&changes),
        [
            "create table team",
            "create table hero",
            "create index ix_team_name on team (name)",
            "create index ix_hero_name on hero (name)",
        ]
    );
}

#[test]
fn no_change_between_equal_schemas() {
    assert!(diff(&schema(HEROES), &schema(HEROES)).is_empty());
}

#[test]
fn cycles_and_self_references_are_ordered_by_readiness() {
    let text = r#"
[table.a.columns]
id = { type = "integer", primary_key = true }
b_id = { type = "integer", nullable = true, references = "b.id" }
[table.b.columns]
id = { type = "integer", primary_key = true }
a_id = { type = "integer", nullable = true, references = "a.id" }
[table.employee.columns]
id = { type = "integer", primary_key = true }
manager_id = { type = "integer", nullable = true, references = "employee.id" }
"#;
    let changes = diff(&Schema::default(), &schema(text));
    assert_eq!(
        described(&changes),
        // employee depends only on itself, so it is ready first; the a↔b cycle is
        // broken at its earliest declared table.
        ["create table employee", "create table a", "create table b"]
    );
}

#[test]
fn added_column_and_index_on_existing_table() {
    let before = schema(HEROES);
    let after = schema(&HEROES.replace(
        "name = { type = \"text\", index = true }\nteam_id",
        "name = { type = \"text\", index = true }\npower = { type = \"integer\", nullable = true, index = true }\nteam_id",
    ));
    assert_eq!(
        described(&diff(&before, &after)),
        [
            "add column hero.power integer null",
            "create index ix_hero_power on hero (power)"
        ]
    );
}

#[test]
fn drops_alters_and_renames_are_detected_and_flagged() {
    let before = schema(HEROES);
    let after = schema(
        r#"
[table.hero.columns]
id = { type = "integer", primary_key = true }
title = { type = "varchar(100)", renamed_from = "name" }

[table.squad]
renamed_from = "team"
[table.squad.columns]
id = { type = "integer", primary_key = true }
name = { type = "text", index = true }
"#,
    );
    let changes = diff(&before, &after);
    let text = described(&changes);
    assert!(
        text.contains(&"rename table team to squad".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"rename column hero.name to title".to_string()),
        "{text:?}"
    );
    assert!(
        text.contains(&"drop column hero.team_id".to_string()),
        "{text:?}"
    );
    assert!(changes
        .iter()
        .any(|c| matches!(c, Change::AlterColumn { to, .. } if to.name == "title")));
    assert!(changes.iter().any(Change::is_destructive));
    assert!(!changes
        .iter()
        .any(|c| matches!(c, Change::DropTable { .. } | Change::CreateTable(_))));
}
