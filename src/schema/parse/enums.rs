//! `[enum.NAME] values = ["G", "PG", …]`: user-defined enum types.

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{EnumType, Schema, Type};
use crate::spanned_toml::Value;

/// PostgreSQL's longest enum label, in bytes (NAMEDATALEN - 1).
const MAX_LABEL_BYTES: usize = 63;

impl Parser<'_> {
    /// The `[enum]` table, sorted by name (the order diffs and pulls use).
    pub(super) fn enums(&mut self, value: &Value<'_>) -> Vec<EnumType> {
        let Some(table) = self.reader.table("enum", value) else {
            return Vec::new();
        };
        let mut enums = Vec::new();
        for (name, body) in table.iter() {
            let enum_name = name.get_ref().to_string();
            // Known before its values are checked: columns of it are not
            // reported as of an unknown type when only a value is wrong.
            self.enum_names.push(enum_name.clone());
            let mut ok = self.identifier(&enum_name, name.span(), "enum");
            if Type::parse_portable(&enum_name).is_some() {
                self.reader.problem(
                    Problem::new(
                        name.span(),
                        format!("enum `{enum_name}` has the name of a portable type"),
                    )
                    .label("choose another name"),
                );
                ok = false;
            }
            let Some(options) = self.reader.table(&enum_name, body) else {
                continue;
            };
            self.reader
                .only_keys(options, &format!("enum `{enum_name}`"), &["values"]);
            let Some(values) = options.get("values") else {
                self.reader.missing(
                    body.span(),
                    "values",
                    &format!("enum `{enum_name}`"),
                    "values = [\"a\", \"b\"]",
                );
                continue;
            };
            let DeValue::Array(items) = values.get_ref() else {
                self.reader
                    .wrong_type("values", values, "an array of strings");
                continue;
            };
            let mut labels: Vec<String> = Vec::new();
            for item in items.iter() {
                let Some(label) = self.reader.string("values", item) else {
                    ok = false;
                    continue;
                };
                let problem = if labels.contains(&label) {
                    Some(format!("`{label}` is listed twice"))
                } else if label.is_empty() {
                    Some("an enum value cannot be empty".to_string())
                } else if label.len() > MAX_LABEL_BYTES {
                    Some(format!(
                        "`{label}` is {} bytes long; PostgreSQL keeps at most {MAX_LABEL_BYTES}",
                        label.len()
                    ))
                } else if label.chars().any(char::is_control) {
                    Some("an enum value cannot hold a control character".to_string())
                } else {
                    None
                };
                match problem {
                    Some(problem) => {
                        self.reader.problem(
                            Problem::new(item.span(), format!("enum `{enum_name}`: {problem}"))
                                .label("not a valid value"),
                        );
                        ok = false;
                    }
                    None => labels.push(label),
                }
            }
            if labels.is_empty() && ok {
                self.reader.problem(
                    Problem::new(values.span(), format!("enum `{enum_name}` has no values"))
                        .label("list at least one value"),
                );
                ok = false;
            }
            if ok {
                enums.push(EnumType {
                    name: enum_name,
                    values: labels,
                });
            }
        }
        enums.sort_by(|a, b| a.name.cmp(&b.name));
        enums
    }

    /// A table is a type in PostgreSQL (its row type): an enum cannot share its name.
    pub(super) fn check_enum_names(&mut self, schema: &Schema) {
        for table in &schema.tables {
            if self.enum_names.contains(&table.name) {
                let span = self
                    .names
                    .iter()
                    .find(|(owner, name, _)| owner.is_empty() && *name == table.name)
                    .map_or(0..0, |(_, _, span)| span.clone());
                self.reader.problem(
                    Problem::new(
                        span,
                        format!(
                            "table `{}` has the name of an enum; PostgreSQL keeps a table's row type and enums in one namespace",
                            table.name
                        ),
                    )
                    .label("rename the table or the enum"),
                );
            }
        }
    }
}
