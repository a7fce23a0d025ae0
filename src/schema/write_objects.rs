//! The `[[view]]`, `[[function]]`, … entries of schema.toml, for `strata pull`:
//! each object's text as the database prints it back, in a multi-line literal
//! string where the text allows one.

use std::fmt::Write;

use super::write::string;
use super::{ObjectKind, Schema, SqlObject};

/// Every object of `schema`, kind by kind in creation order, each after a blank line.
pub fn write_objects(schema: &Schema) -> String {
    let mut text = String::new();
    for kind in ObjectKind::ALL {
        for object in schema.objects.iter().filter(|o| o.kind == kind) {
            text.push('\n');
            write_object(&mut text, object);
        }
    }
    text
}

fn write_object(text: &mut String, object: &SqlObject) {
    let _ = writeln!(text, "[[{}]]", object.kind.key());
    let _ = writeln!(text, "name = {}", string(&object.name));
    if let Some(table) = &object.table {
        let _ = writeln!(text, "table = {}", string(table));
    }
    if !object.depends_on.is_empty() {
        let names: Vec<String> = object.depends_on.iter().map(|n| string(n)).collect();
        let _ = writeln!(text, "depends_on = [{}]", names.join(", "));
    }
    if !object.kind.has_text() {
        return;
    }
    // An inspected object has the text of the one dialect it was read from,
    // written as the text for every dialect.
    let texts: Vec<(Option<&str>, &str)> = match (&object.sql, object.per_dialect.len()) {
        (Some(sql), _) => std::iter::once((None, sql.as_str()))
            .chain(
                object
                    .per_dialect
                    .iter()
                    .map(|(d, t)| (Some(d.as_str()), t.as_str())),
            )
            .collect(),
        (None, 1) => object
            .per_dialect
            .values()
            .map(|t| (None, t.as_str()))
            .collect(),
        (None, _) => object
            .per_dialect
            .iter()
            .map(|(d, t)| (Some(d.as_str()), t.as_str()))
            .collect(),
    };
    for (dialect, sql) in texts {
        let key = match dialect {
            Some(dialect) => format!("sql.{dialect}"),
            None => "sql".to_string(),
        };
        let _ = writeln!(text, "{key} = {}", literal(sql));
    }
}

/// `'''` + newline + the text + `'''` when TOML can hold it so (read back
/// unchanged: the first newline is dropped), a basic string otherwise.
fn literal(text: &str) -> String {
    let fits = !text.contains("'''")
        && !text.ends_with('\'')
        && !text.contains('\r')
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t');
    if fits && text.contains('\n') {
        format!("'''\n{text}'''")
    } else {
        string(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema_text;

    #[test]
    fn written_objects_read_back_the_same() {
        let mut view = SqlObject::new(ObjectKind::View, "hero names");
        view.per_dialect
            .insert("postgres".into(), " SELECT 'a''b'\n   FROM hero".into());
        let mut trigger = SqlObject::new(ObjectKind::Trigger, "t");
        trigger.table = Some("hero".into());
        trigger
            .per_dialect
            .insert("postgres".into(), "CREATE TRIGGER t …".into());
        let schema = Schema {
            tables: Vec::new(),
            objects: vec![
                SqlObject::new(ObjectKind::Extension, "citext"),
                view,
                trigger,
            ],
            enums: Vec::new(),
            domains: Vec::new(),
        };
        let text = format!(
            "[table.hero.columns]\nid = {{ type = \"integer\", primary_key = true }}\n{}",
            write_objects(&schema)
        );
        let parsed = parse_schema_text(std::path::Path::new("schema.toml"), &text).unwrap();
        let texts: Vec<(String, Option<String>)> = parsed
            .schema
            .objects
            .iter()
            .map(|o| (o.name.clone(), o.sql.clone()))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("citext".to_string(), None),
                (
                    "hero names".to_string(),
                    Some(" SELECT 'a''b'\n   FROM hero".to_string())
                ),
                ("t".to_string(), Some("CREATE TRIGGER t …".to_string())),
            ]
        );
    }
}
