//! CHECK constraints (`check = "…"` on a column, `[[table.NAME.check]]` on a
//! table), explicit constraint names (`name = "…"`) and comments.

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, Check, Table};
use crate::spanned_toml::Value;
use crate::text::identifier_problem;

const CHECK_KEYS: &[&str] = &["name", "sql"];

impl Parser<'_> {
    /// `check = "EXPRESSION"` or `check = { name = "…", sql = "EXPRESSION" }` on
    /// column `column` of `table`.
    pub(super) fn column_check(&mut self, table: &mut Table, column: &str, value: &Value<'_>) {
        let default_name = names::column_check(&table.name, column);
        if let Some(check) = self.check(value, default_name, true) {
            self.add_check(table, check, value);
        }
    }

    /// `check = [{ sql = "…" }, …]` on a table (`[[table.NAME.check]]`); unnamed
    /// ones are numbered in order (`<table>_check`, `<table>_check1`, …).
    pub(super) fn table_checks(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                "check",
                value,
                "an array of tables, e.g. [[table.NAME.check]] with sql = \"price > 0\"",
            );
            return;
        };
        let mut unnamed = 0;
        for item in items.iter() {
            let named = matches!(item.get_ref(), DeValue::Table(t) if t.get("name").is_some());
            let default_name = names::table_check(&table.name, unnamed);
            if !named {
                unnamed += 1;
            }
            if let Some(check) = self.check(item, default_name, false) {
                self.add_check(table, check, item);
            }
        }
    }

    pub(super) fn check(
        &mut self,
        value: &Value<'_>,
        default_name: String,
        short: bool,
    ) -> Option<Check> {
        let (name, sql) = match value.get_ref() {
            DeValue::String(text) if short => (default_name, text.to_string()),
            DeValue::Table(options) => {
                for (key, _) in options.iter() {
                    if !CHECK_KEYS.contains(&key.get_ref().as_ref()) {
                        self.reader
                            .unknown_key(key, "a check constraint", CHECK_KEYS);
                    }
                }
                let name = match options.get("name") {
                    Some(name) => self.constraint_name(name)?,
                    None => default_name,
                };
                let Some(sql) = options.get("sql") else {
                    self.reader.problem(
                        Problem::new(
                            value.span(),
                            "a check constraint needs `sql = \"EXPRESSION\"`",
                        )
                        .label("no `sql`")
                        .help("e.g. { sql = \"price > 0\" }"),
                    );
                    return None;
                };
                (name, self.reader.string("sql", sql)?)
            }
            _ => {
                self.reader.wrong_type(
                    "check",
                    value,
                    if short {
                        "an SQL expression such as \"price > 0\", or { name = \"…\", sql = \"…\" }"
                    } else {
                        "a table such as { sql = \"price > 0\" }"
                    },
                );
                return None;
            }
        };
        if sql.trim().is_empty() {
            self.reader.problem(
                Problem::new(value.span(), "a check constraint's `sql` is empty")
                    .label("expected a boolean SQL expression, e.g. \"price > 0\""),
            );
            return None;
        }
        Some(Check {
            name,
            expression: sql,
        })
    }

    /// Adds `check`, unless the table has one of that name (reported at its
    /// `name`, or at the whole check when it has none).
    fn add_check(&mut self, table: &mut Table, check: Check, value: &Value<'_>) {
        let span = match value.get_ref() {
            DeValue::Table(options) => options.get("name").map_or(value.span(), |n| n.span()),
            _ => value.span(),
        };
        if table.checks.iter().any(|other| other.name == check.name) {
            self.reader.problem(
                Problem::new(
                    span,
                    format!(
                        "table `{}` has two check constraints named `{}`",
                        table.name, check.name
                    ),
                )
                .label("second check of that name")
                .help("give one of them its own `name`"),
            );
            return;
        }
        table.checks.push(check);
    }

    /// An explicit constraint name: a valid identifier.
    pub(super) fn constraint_name(&mut self, value: &Value<'_>) -> Option<String> {
        let name = self.reader.string("name", value)?;
        if let Some(problem) = identifier_problem(&name) {
            self.reader.problem(
                Problem::new(value.span(), format!("invalid constraint name: {problem}"))
                    .label("this constraint name")
                    .help("choose a name of at most 63 bytes without control characters"),
            );
            return None;
        }
        Some(name)
    }

    /// `comment = "…"` on a table or a column.
    pub(super) fn comment(&mut self, value: &Value<'_>) -> Option<String> {
        self.reader.string("comment", value)
    }
}
