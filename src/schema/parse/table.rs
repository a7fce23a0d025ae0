//! A `[table.NAME]` section and its table-level options: the primary key and
//! unique constraints over several columns.

use toml::de::DeValue;
use toml::Spanned;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, PrimaryKey, Table, UniqueConstraint};
use crate::spanned_toml::{Key, Value};
use crate::text::did_you_mean;

const TABLE_KEYS: &[&str] = &[
    "columns",
    "primary_key",
    "unique",
    "indexes",
    "renamed_from",
    "check",
    "comment",
    "foreign_keys",
];

impl Parser<'_> {
    pub(super) fn table(&mut self, name: &Key<'_>, body: &Value<'_>) -> Option<Table> {
        let table_name = name.get_ref().to_string();
        self.declared.push((table_name.clone(), Vec::new()));
        self.names
            .push((String::new(), table_name.clone(), name.span()));
        let name_ok = self.identifier(&table_name, name.span(), "table");
        self.current_table = table_name.clone();
        if name_ok {
            self.name_object(&table_name, format!("table `{table_name}`"), name.span());
        }
        let options = self.reader.table(&format!("table.{table_name}"), body)?;
        let mut table = Table::new(&table_name);

        match options.get("columns") {
            Some(columns) => {
                if let Some(columns) = self.reader.table("columns", columns) {
                    for (column_name, column_body) in columns.iter() {
                        if let Some(column) = self.column(&mut table, column_name, column_body) {
                            table.columns.push(column);
                        }
                    }
                }
                if table.columns.is_empty() && columns.get_ref().as_table().is_some_and(|c| c.is_empty()) {
                    self.reader.problem(
                        Problem::new(name.span(), format!("table `{table_name}` has no columns"))
                            .label("declared here")
                            .help(format!(
                                "add columns under [table.{table_name}.columns], e.g. id = {{ type = \"integer\", primary_key = true }}"
                            )),
                    );
                }
            }
            None => self.reader.problem(
                Problem::new(name.span(), format!("table `{table_name}` has no columns"))
                    .label("declared here")
                    .help(format!(
                        "add a [table.{table_name}.columns] section, e.g. id = {{ type = \"integer\", primary_key = true }}"
                    )),
            ),
        }

        for (key, value) in options.iter() {
            match key.get_ref().as_ref() {
                "columns" => {}
                "primary_key" => self.table_primary_key(&mut table, key, value),
                "unique" => self.table_uniques(&mut table, value),
                "indexes" => self.table_indexes(&mut table, value),
                "renamed_from" => table.renamed_from = self.reader.string("renamed_from", value),
                "check" => self.table_checks(&mut table, value),
                "comment" => table.comment = self.comment(value),
                "foreign_keys" => self.table_foreign_keys(&mut table, value),
                _ => self
                    .reader
                    .unknown_key(key, &format!("table `{table_name}`"), TABLE_KEYS),
            }
        }
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        for (column, spans) in std::mem::take(&mut self.column_kinds) {
            if let Some(column) = table.column(&column).cloned() {
                self.check_column_kind(&table, &column, &spans);
            }
        }
        name_ok.then_some(table)
    }

    /// Column names in a table-level option must exist in that table.
    pub(super) fn known_columns(
        &mut self,
        table: &Table,
        names: &[Spanned<String>],
    ) -> Option<Vec<String>> {
        let mut all_known = true;
        for name in names {
            if table.column(name.get_ref()).is_none() {
                all_known = false;
                self.reader.problem(
                    Problem::new(
                        name.span(),
                        format!(
                            "table `{}` has no column `{}`{}",
                            table.name,
                            name.get_ref(),
                            did_you_mean(
                                name.get_ref(),
                                table.columns.iter().map(|c| c.name.as_str())
                            )
                        ),
                    )
                    .label("unknown column"),
                );
            }
        }
        all_known.then(|| names.iter().map(|name| name.get_ref().clone()).collect())
    }

    pub(super) fn table_primary_key(
        &mut self,
        table: &mut Table,
        key: &Key<'_>,
        value: &Value<'_>,
    ) {
        // `{ name = "pk_x", columns = [...] }` names the constraint.
        let (value, explicit_name) = match self.named_columns("primary_key", value) {
            Some(found) => found,
            None => return,
        };
        let Some(names) = self.string_list("primary_key", value) else {
            return;
        };
        if table.primary_key.is_some() {
            self.reader.problem(
                Problem::new(key.span(), format!("table `{}` declares its primary key twice", table.name))
                    .label("table-level primary key")
                    .help("use either `primary_key = true` on columns or `primary_key = [...]` on the table, not both"),
            );
            return;
        }
        if let Some(columns) = self.known_columns(table, &names) {
            // A key column declared `nullable = true` stays so (SQLite's
            // legacy nullable keys); settled once the dialects are known.
            for column in table
                .columns
                .iter()
                .filter(|c| c.nullable && columns.contains(&c.name))
            {
                self.nullable_keys.push(super::column_kind::NullableKey {
                    span: key.span(),
                    table: table.name.clone(),
                    column: column.name.clone(),
                });
            }
            let pk_name = explicit_name.unwrap_or_else(|| names::primary_key(&table.name));
            self.name_object(
                &pk_name,
                format!("the primary key of `{}`", table.name),
                key.span(),
            );
            table.primary_key = Some(PrimaryKey {
                name: pk_name,
                columns,
            });
        }
    }

    /// A column list, or `{ name = "…", columns = [...] }`: the list and the name.
    fn named_columns<'v, 'i>(
        &mut self,
        key: &str,
        value: &'v Value<'i>,
    ) -> Option<(&'v Value<'i>, Option<String>)> {
        let DeValue::Table(options) = value.get_ref() else {
            return Some((value, None));
        };
        const KEYS: &[&str] = &["name", "columns"];
        for (option, _) in options.iter() {
            if !KEYS.contains(&option.get_ref().as_ref()) {
                self.reader.unknown_key(option, key, KEYS);
            }
        }
        let Some(columns) = options.get("columns") else {
            self.reader.problem(
                Problem::new(value.span(), format!("`{key}` needs `columns = [...]`"))
                    .label("no columns"),
            );
            return None;
        };
        let name = match options.get("name") {
            Some(name) => Some(self.constraint_name(name)?),
            None => None,
        };
        Some((columns, name))
    }

    pub(super) fn table_uniques(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(groups) = value.get_ref() else {
            self.reader.wrong_type(
                "unique",
                value,
                "an array of column lists, e.g. [[\"a\", \"b\"]]",
            );
            return;
        };
        for group in groups.iter() {
            let Some((group, explicit_name)) = self.named_columns("unique", group) else {
                continue;
            };
            let Some(names) = self.string_list("unique", group) else {
                continue;
            };
            if let Some(columns) = self.known_columns(table, &names) {
                let unique_name =
                    explicit_name.unwrap_or_else(|| names::unique(&table.name, &columns));
                self.name_object(
                    &unique_name,
                    format!(
                        "the unique constraint on `{}` ({})",
                        table.name,
                        columns.join(", ")
                    ),
                    group.span(),
                );
                table.uniques.push(UniqueConstraint {
                    name: unique_name,
                    columns,
                });
            }
        }
    }
}
