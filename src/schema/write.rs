//! [`Schema`] → schema.toml text, for `strata pull`. Writes the shortest form the
//! parser reads back to the same model: column options where the name is the
//! deterministic one, table-level options otherwise.

use std::fmt::Write;

use super::model::names;
use super::{Column, DefaultValue, ForeignKeyAction, Schema, Table, Type};
use crate::text::{identifier_problem, printable};

pub fn write_schema(schema: &Schema, dialects: &[String]) -> String {
    let mut text = String::from("# Written by `strata pull` from a live database.\n\n[project]\n");
    let listed: Vec<String> = dialects.iter().map(|d| string(d)).collect();
    let _ = writeln!(text, "dialects = [{}]", listed.join(", "));
    text.push_str(&write_tables(schema));
    text
}

/// The `[table.…]` part of schema.toml alone, each table after a blank line, for
/// `pull --force` to put under the `[project]` table a file already has.
pub fn write_tables(schema: &Schema) -> String {
    let mut text = String::new();
    for table in &schema.tables {
        text.push('\n');
        write_table(&mut text, table);
    }
    text.push_str(&super::write_objects::write_objects(schema));
    text
}

/// Names in `schema` that schema.toml refuses (control characters, longer than
/// PostgreSQL allows), one line each naming the object. `pull` refuses to write a
/// file that strata would then refuse to read.
pub fn unwritable_names(schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for table in &schema.tables {
        if let Some(problem) = identifier_problem(&table.name) {
            problems.push(format!("table: {problem}"));
        }
        for column in &table.columns {
            if let Some(problem) = identifier_problem(&column.name) {
                problems.push(format!("column of `{}`: {problem}", printable(&table.name)));
            }
        }
        for index in &table.indexes {
            if let Some(problem) = identifier_problem(&index.name) {
                problems.push(format!("index on `{}`: {problem}", printable(&table.name)));
            }
        }
    }
    problems
}

/// A bare key when TOML allows one, a quoted one otherwise.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        string(name)
    }
}

fn string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

fn list(names: &[String]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| string(n))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn write_table(text: &mut String, table: &Table) {
    let one = |columns: &[String], column: &Column| columns.len() == 1 && columns[0] == column.name;
    let pk_on_column = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.columns.len() == 1 && pk.name == names::primary_key(&table.name));

    let mut table_options = Vec::new();
    if let Some(pk) = &table.primary_key {
        if pk_on_column.is_none() {
            table_options.push(format!("primary_key = {}", list(&pk.columns)));
        }
    }
    let extra_uniques: Vec<String> = table
        .uniques
        .iter()
        .filter(|u| u.columns.len() > 1 || u.name != names::unique(&table.name, &u.columns))
        .map(|u| list(&u.columns))
        .collect();
    if !extra_uniques.is_empty() {
        table_options.push(format!("unique = [{}]", extra_uniques.join(", ")));
    }
    let extra_indexes: Vec<String> = table
        .indexes
        .iter()
        .filter(|i| i.columns.len() > 1 || i.name != names::index(&table.name, &i.columns))
        .map(|i| {
            format!(
                "{{ name = {}, columns = {}{} }}",
                string(&i.name),
                list(&i.columns),
                if i.unique { ", unique = true" } else { "" }
            )
        })
        .collect();
    if !extra_indexes.is_empty() {
        table_options.push(format!("indexes = [{}]", extra_indexes.join(", ")));
    }
    if !table_options.is_empty() {
        let _ = writeln!(text, "[table.{}]", key(&table.name));
        for option in table_options {
            let _ = writeln!(text, "{option}");
        }
    }

    let _ = writeln!(text, "[table.{}.columns]", key(&table.name));
    for column in &table.columns {
        let mut options = vec![format!("type = {}", string(&type_name(&column.ty)))];
        if column.nullable {
            options.push("nullable = true".into());
        }
        if pk_on_column.is_some_and(|pk| pk.columns[0] == column.name) {
            options.push("primary_key = true".into());
        }
        let default_unique = |u: &&super::UniqueConstraint| {
            one(&u.columns, column) && u.name == names::unique(&table.name, &u.columns)
        };
        let default_index = table
            .indexes
            .iter()
            .find(|i| one(&i.columns, column) && i.name == names::index(&table.name, &i.columns));
        match default_index {
            Some(index) => {
                if index.unique {
                    options.push("unique = true".into());
                }
                options.push("index = true".into());
            }
            None if table.uniques.iter().any(|u| default_unique(&u)) => {
                options.push("unique = true".into())
            }
            None => {}
        }
        if let Some(default) = &column.default {
            options.push(format!("default = {}", default_value(default)));
        }
        if let Some(fk) = table
            .foreign_keys
            .iter()
            .find(|fk| one(&fk.columns, column))
        {
            let target = format!(
                "{}.{}",
                fk.referenced_table,
                fk.referenced_columns.join(",")
            );
            if fk.referenced_table.contains('.') || fk.referenced_columns[0].contains('.') {
                options.push(format!(
                    "references = {{ table = {}, column = {} }}",
                    string(&fk.referenced_table),
                    string(&fk.referenced_columns[0])
                ));
            } else {
                options.push(format!("references = {}", string(&target)));
            }
            for (name, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
                if action != ForeignKeyAction::NoAction {
                    options.push(format!("{name} = {}", string(&action.sql().to_lowercase())));
                }
            }
        }
        if options.len() == 1 {
            let _ = writeln!(
                text,
                "{} = {}",
                key(&column.name),
                string(&type_name(&column.ty))
            );
        } else {
            let _ = writeln!(text, "{} = {{ {} }}", key(&column.name), options.join(", "));
        }
    }
}

fn type_name(ty: &Type) -> String {
    ty.to_string()
}

fn default_value(default: &DefaultValue) -> String {
    match default {
        DefaultValue::Integer(n) => n.to_string(),
        DefaultValue::Float(n) => format!("{n:?}"),
        DefaultValue::Boolean(flag) => flag.to_string(),
        DefaultValue::Text(text) => string(text),
        DefaultValue::Sql(expression) => format!("{{ sql = {} }}", string(expression)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema_text;
    use std::path::Path;

    #[test]
    fn written_schema_parses_back_to_the_same_model() {
        let text = r#"
[table."naïve user".columns]
id = { type = "bigint", primary_key = true }
"say \"hi\"" = { type = "varchar(20)", unique = true, default = "it's" }
score = { type = "numeric(8,2)", nullable = true, index = true, default = 1.5 }
flag = { type = "boolean", default = true }
at = { type = "timestamp", default = { sql = "CURRENT_TIMESTAMP" } }

[table.link]
primary_key = ["a", "b"]
unique = [["b", "c"]]
indexes = [{ name = "ix_custom", columns = ["c"], unique = true }]
[table.link.columns]
a = { type = "bigint", references = "naïve user.id", on_delete = "cascade" }
b = "integer"
c = "text"
"#;
        let original = parse_schema_text(Path::new("schema.toml"), text)
            .unwrap()
            .schema;
        let written = write_schema(&original, &["sqlite".to_string()]);
        let reparsed = parse_schema_text(Path::new("pulled.toml"), &written)
            .unwrap_or_else(|problems| panic!("{problems}\n{written}"))
            .schema;
        assert_eq!(reparsed, original, "{written}");
    }
}
