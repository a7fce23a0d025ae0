use super::{diff, suspected_renames, SuspectedRename};
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

fn hero_with(columns: &str) -> Schema {
    schema(&format!(
        "[table.hero.columns]\nid = {{ type = \"integer\", primary_key = true }}\n{columns}\n"
    ))
}

#[test]
fn a_drop_and_an_add_of_the_same_type_is_a_suspected_rename() {
    let before = hero_with("power = \"text\"\nage = \"integer\"");
    let after = hero_with("superpower = \"text\"\nyears = \"text\"");
    let changes = diff(&before, &after);
    let hints = suspected_renames(&before, &changes);
    // age (integer) and years (text) differ in type: no hint for them.
    assert_eq!(
        hints,
        [SuspectedRename::Column {
            table: "hero".into(),
            from: "power".into(),
            to: "superpower".into(),
        }]
    );
    assert_eq!(
        hints[0].to_string(),
        "did you mean to rename hero.power to hero.superpower? add renamed_from = \"power\""
    );
    let drop = changes
        .iter()
        .find(|c| matches!(c, Change::DropColumn { column, .. } if column == "power"))
        .unwrap();
    assert!(hints[0].is_drop_of(drop));
}

#[test]
fn a_table_recreated_with_the_same_columns_is_a_suspected_rename() {
    let before = schema(
        "[table.team.columns]\nid = { type = \"integer\", primary_key = true }\nname = \"text\"\n",
    );
    let after = schema(
        "[table.squad.columns]\nid = { type = \"integer\", primary_key = true }\nname = \"text\"\n",
    );
    let hints = suspected_renames(&before, &diff(&before, &after));
    assert_eq!(
        hints,
        [SuspectedRename::Table {
            from: "team".into(),
            to: "squad".into()
        }]
    );
}

#[test]
fn a_hint_gives_a_rename_and_a_leftover_hint_is_ignored() {
    let before = hero_with("power = \"text\"");
    let hinted = hero_with("superpower = { type = \"text\", renamed_from = \"power\" }");
    let changes = diff(&before, &hinted);
    assert_eq!(
        described(&changes),
        ["rename column hero.power to superpower"]
    );
    assert!(suspected_renames(&before, &changes).is_empty());

    // Once the rename is in the history, the hint names a column that is gone.
    let renamed = hero_with("superpower = \"text\"");
    assert!(diff(&renamed, &hinted).is_empty());
    // A hint naming a column that never existed adds the column, nothing else.
    let never = hero_with(
        "power = \"text\"\nx = { type = \"integer\", nullable = true, renamed_from = \"gone\" }",
    );
    assert_eq!(
        described(&diff(&before, &never)),
        ["add column hero.x integer null"]
    );
}

#[test]
fn widening_is_safe_and_narrowing_destructive() {
    let before = hero_with("age = \"integer\"\nname = \"varchar(20)\"");
    let widened = hero_with("age = \"bigint\"\nname = \"text\"");
    let changes = diff(&before, &widened);
    assert_eq!(changes.len(), 2);
    assert!(!changes.iter().any(Change::is_destructive), "{changes:?}");

    let narrowed = diff(&widened, &before);
    let summaries: Vec<String> = narrowed
        .iter()
        .filter_map(Change::destruction)
        .map(|d| d.summary)
        .collect();
    assert_eq!(
        summaries,
        [
            "changes column hero.age from bigint to integer",
            "changes column hero.name from text to varchar(20)"
        ]
    );
}

#[test]
fn not_null_is_destructive_only_without_a_default() {
    let before = hero_with("age = { type = \"integer\", nullable = true }");
    let required = diff(&before, &hero_with("age = \"integer\""));
    assert_eq!(
        required[0].destruction().unwrap().summary,
        "makes column hero.age NOT NULL without a default"
    );
    assert_eq!(
        required[0].not_null_without_default(),
        Some(("hero", "age"))
    );
    let with_default = diff(
        &before,
        &hero_with("age = { type = \"integer\", default = 0 }"),
    );
    assert!(!with_default[0].is_destructive());
}

#[test]
fn drops_say_what_they_lose() {
    let before = schema(HEROES);
    let after = hero_with("name = { type = \"text\", index = true }");
    let lines: Vec<String> = diff(&before, &after)
        .iter()
        .filter_map(Change::destruction)
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "drops column hero.team_id and its data",
            "drops table team and all its rows"
        ]
    );
}

const STOCK: &str = r#"
[table.warehouse]
primary_key = ["region", "code"]
[table.warehouse.columns]
region = "text"
code = "integer"

[table.stock]
[[table.stock.foreign_keys]]
columns = ["region", "code"]
references = "warehouse(region, code)"
on_delete = "cascade"
[table.stock.columns]
id = { type = "integer", primary_key = true }
region = "text"
code = "integer"
"#;

#[test]
fn a_multi_column_foreign_key_is_created_with_its_table_after_its_target() {
    let changes = diff(&Schema::default(), &schema(STOCK));
    assert_eq!(
        described(&changes),
        ["create table warehouse", "create table stock"]
    );
    let stock = schema(STOCK);
    let fk = &stock.table("stock").unwrap().foreign_keys[0];
    assert_eq!(fk.name, "stock_region_code_fkey");
    assert_eq!(fk.referenced_columns, ["region", "code"]);
    assert!(!fk.deferrable);
}

#[test]
fn a_deferral_change_drops_and_adds_the_foreign_key_again() {
    let deferred = STOCK.replace(
        "on_delete = \"cascade\"",
        "on_delete = \"cascade\"\ninitially_deferred = true",
    );
    assert_eq!(
        described(&diff(&schema(STOCK), &schema(&deferred))),
        [
            "drop foreign key stock_region_code_fkey on stock",
            "add foreign key stock.(region, code) -> warehouse.(region, code) deferrable initially deferred",
        ]
    );
    let deferrable = STOCK.replace(
        "on_delete = \"cascade\"",
        "on_delete = \"cascade\"\ndeferrable = true",
    );
    assert_eq!(
        described(&diff(&schema(&deferred), &schema(&deferrable))),
        [
            "drop foreign key stock_region_code_fkey on stock",
            "add foreign key stock.(region, code) -> warehouse.(region, code) deferrable",
        ]
    );
    assert!(diff(&schema(&deferrable), &schema(&deferrable)).is_empty());
}
