//! `[[view]]`, `[[materialized_view]]`, `[[function]]`, `[[trigger]]` and
//! `[[extension]]`: SQL objects kept as text (see `schema::objects`).
//!
//! ```toml
//! [[view]]
//! name = "hero_names"
//! sql = "SELECT name FROM hero"              # or sql.postgres = "…", sql.sqlite = "…"
//! depends_on = ["other_view"]                # optional
//! ```

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{ObjectKind, Schema, SqlObject};
use crate::spanned_toml::Value;

const OBJECT_KEYS: &[&str] = &["name", "sql", "depends_on"];
const TRIGGER_KEYS: &[&str] = &["name", "table", "sql", "depends_on"];
const EXTENSION_KEYS: &[&str] = &["name"];

/// The object kind of a top-level key, if it is one.
pub(super) fn kind_of_key(key: &str) -> Option<ObjectKind> {
    ObjectKind::ALL.into_iter().find(|kind| kind.key() == key)
}

/// What `sql` holds for each kind, for messages.
fn sql_example(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::View | ObjectKind::MaterializedView => "sql = \"SELECT …\" (the query)",
        ObjectKind::Function => "sql = \"CREATE FUNCTION … \" (the whole statement)",
        ObjectKind::Trigger => "sql = \"CREATE TRIGGER … \" (the whole statement)",
        ObjectKind::Extension => "",
    }
}

impl Parser<'_> {
    /// Every `[[kind]]` entry of `value`, added to `schema.objects`.
    pub(super) fn objects(&mut self, kind: ObjectKind, value: &Value<'_>, schema: &mut Schema) {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                kind.key(),
                value,
                &format!("an array of tables (`[[{}]]`)", kind.key()),
            );
            return;
        };
        let known = match kind {
            ObjectKind::Trigger => TRIGGER_KEYS,
            ObjectKind::Extension => EXTENSION_KEYS,
            _ => OBJECT_KEYS,
        };
        for item in items.iter() {
            let Some(entry) = self.reader.table(kind.key(), item) else {
                continue;
            };
            self.reader
                .only_keys(entry, &format!("a `[[{}]]`", kind.key()), known);
            let Some(name_value) = entry.get("name") else {
                self.reader.missing(
                    item.span(),
                    "name",
                    &format!("a `[[{}]]`", kind.key()),
                    "name = \"…\"",
                );
                continue;
            };
            let Some(name) = self.reader.string("name", name_value) else {
                continue;
            };
            if !self.identifier(&name, name_value.span(), &kind.to_string()) {
                continue;
            }
            let mut object = SqlObject::new(kind, name);
            if kind == ObjectKind::Trigger {
                match entry.get("table") {
                    Some(table) => {
                        object.table = self.reader.string("table", table);
                        self.check_trigger_table(object.table.as_deref(), table, schema);
                    }
                    None => self.reader.missing(
                        item.span(),
                        "table",
                        "a `[[trigger]]`",
                        "table = \"…\" (the table it is on)",
                    ),
                }
            }
            if kind.has_text() {
                match entry.get("sql") {
                    Some(sql) => self.object_sql(&mut object, sql),
                    None => self.reader.missing(
                        item.span(),
                        "sql",
                        &format!("a `[[{}]]`", kind.key()),
                        sql_example(kind),
                    ),
                }
            }
            if let Some(depends_on) = entry.get("depends_on") {
                if let Some(names) = self.string_list("depends_on", depends_on) {
                    object.depends_on = names.into_iter().map(|n| n.into_inner()).collect();
                }
            }
            let span = name_value.span();
            let same = schema.objects.iter().any(|other| {
                other.kind == object.kind
                    && other.name == object.name
                    && other.table == object.table
            });
            if same {
                self.reader.problem(
                    Problem::new(span, format!("{kind} `{}` is declared twice", object.name))
                        .label("a second declaration")
                        .help("give each its own name, or remove one"),
                );
                continue;
            }
            schema.objects.push(object);
        }
    }

    /// `sql = "…"` (every dialect) or `sql = { postgres = "…", sqlite = "…" }`.
    fn object_sql(&mut self, object: &mut SqlObject, value: &Value<'_>) {
        match value.get_ref() {
            DeValue::String(text) => object.sql = Some(text.to_string()),
            DeValue::Table(dialects) => {
                for (dialect, text) in dialects.iter() {
                    let dialect = dialect.get_ref().to_string();
                    if crate::driver::registry::engine(&dialect).is_none() {
                        self.reader.problem(
                            Problem::new(
                                text.span(),
                                format!("`sql.{dialect}`: strata knows no dialect `{dialect}`"),
                            )
                            .label("not a dialect")
                            .help("the dialects are `sqlite` and `postgres`"),
                        );
                        continue;
                    }
                    if let Some(text) = self.reader.string(&format!("sql.{dialect}"), text) {
                        object.per_dialect.insert(dialect, text);
                    }
                }
            }
            _ => self.reader.wrong_type(
                "sql",
                value,
                "a string, or a table of strings by dialect (`sql.postgres = \"…\"`)",
            ),
        }
    }

    /// A trigger is on a table or view schema.toml declares (else its migration
    /// would fail, or a dropped table would leave it declared).
    fn check_trigger_table(&mut self, table: Option<&str>, value: &Value<'_>, schema: &Schema) {
        let Some(table) = table else {
            return;
        };
        let declared = self.declared.iter().any(|(name, _)| name == table)
            || schema.objects.iter().any(|o| {
                matches!(o.kind, ObjectKind::View | ObjectKind::MaterializedView) && o.name == table
            });
        if !declared {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!("trigger on `{table}`, which schema.toml declares no table or view of"),
                )
                .label("no such table")
                .help("name a `[table.…]` or `[[view]]` of this file, or remove the trigger"),
            );
        }
    }
}
