//! `indexes = [{ columns = [...], unique = ..., name = ... }]` on a table.

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, Index, Table};
use crate::spanned_toml::Value;
use crate::text::identifier_problem;

const INDEX_KEYS: &[&str] = &["name", "columns", "unique"];

impl Parser<'_> {
    pub(super) fn table_indexes(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                "indexes",
                value,
                "an array of tables, e.g. [{ columns = [\"a\", \"b\"] }]",
            );
            return;
        };
        for item in items.iter() {
            let Some(options) = self.reader.table("indexes", item) else {
                continue;
            };
            for (key, _) in options.iter() {
                if !INDEX_KEYS.contains(&key.get_ref().as_ref()) {
                    self.reader.unknown_key(key, "an index", INDEX_KEYS);
                }
            }
            let Some(columns_value) = options.get("columns") else {
                self.reader.problem(
                    Problem::new(item.span(), "an index needs `columns = [...]`")
                        .label("no columns"),
                );
                continue;
            };
            let Some(names) = self.string_list("columns", columns_value) else {
                continue;
            };
            let unique = match options.get("unique") {
                Some(flag) => self.reader.boolean("unique", flag).unwrap_or(false),
                None => false,
            };
            let Some(columns) = self.known_columns(table, &names) else {
                continue;
            };
            let name = match options.get("name") {
                Some(name) => match self.reader.string("name", name) {
                    Some(text) => text,
                    None => continue,
                },
                None => names::index(&table.name, &columns),
            };
            let span = options.get("name").map_or(item.span(), |name| name.span());
            if options.get("name").is_some() {
                if let Some(problem) = identifier_problem(&name) {
                    self.reader.problem(
                        Problem::new(span.clone(), format!("invalid index name: {problem}"))
                            .label("this index name")
                            .help("choose a name of at most 63 bytes without control characters"),
                    );
                }
            }
            self.name_object(
                &name,
                format!("the index on `{}` ({})", table.name, columns.join(", ")),
                span,
            );
            table.indexes.push(Index {
                name,
                columns,
                unique,
            });
        }
    }
}
