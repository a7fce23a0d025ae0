//! `indexes = [{ columns = [...], unique = ..., name = ... }]` on a table.
//!
//! A key is a column name or `{ column = "a" | expr = "lower(a)", order =
//! "asc" | "desc", nulls = "first" | "last", opclass = "…" }`; the index may
//! have `method`, `include`, `where` and `nulls_not_distinct`. What SQLite has
//! no syntax for is remembered here and refused once the dialects are known
//! ([`Parser::check_postgres_only_indexes`]).

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, Index, IndexKey, IndexTarget, Table};
use crate::spanned_toml::Value;
use crate::text::identifier_problem;

const INDEX_KEYS: &[&str] = &[
    "name",
    "columns",
    "unique",
    "method",
    "include",
    "where",
    "nulls_not_distinct",
];
const KEY_KEYS: &[&str] = &["column", "expr", "order", "nulls", "opclass"];
/// PostgreSQL's built-in index access methods.
const METHODS: &[&str] = &["btree", "hash", "gist", "spgist", "gin", "brin"];

/// An index option SQLite has no syntax for, where it was written.
pub(super) struct PostgresOnly {
    pub span: Range<usize>,
    pub index: String,
    pub option: &'static str,
}

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
            if let Some(index) = self.index(table, item, options) {
                table.indexes.push(index);
            }
        }
    }

    fn index(&mut self, table: &Table, item: &Value<'_>, options: &DeTable<'_>) -> Option<Index> {
        for (key, _) in options.iter() {
            if !INDEX_KEYS.contains(&key.get_ref().as_ref()) {
                self.reader.unknown_key(key, "an index", INDEX_KEYS);
            }
        }
        let Some(columns_value) = options.get("columns") else {
            self.reader.problem(
                Problem::new(item.span(), "an index needs `columns = [...]`").label("no columns"),
            );
            return None;
        };
        let mut postgres_only = Vec::new();
        let keys = self.index_keys(table, columns_value, &mut postgres_only)?;
        let unique = match options.get("unique") {
            Some(flag) => self.reader.boolean("unique", flag).unwrap_or(false),
            None => false,
        };
        let method = match options.get("method") {
            Some(value) => {
                let text = self.reader.string("method", value)?.to_lowercase();
                if !METHODS.contains(&text.as_str()) {
                    self.reader.problem(
                        Problem::new(value.span(), format!("unknown index method `{text}`"))
                            .label("not an index method")
                            .help(format!("the methods are {}", quoted(METHODS))),
                    );
                    return None;
                }
                (text != "btree").then(|| {
                    postgres_only.push((value.span(), "method"));
                    text
                })
            }
            None => None,
        };
        let include = match options.get("include") {
            Some(value) => {
                let names = self.string_list("include", value)?;
                postgres_only.push((value.span(), "include"));
                self.known_columns(table, &names)?
            }
            None => Vec::new(),
        };
        let predicate = match options.get("where") {
            Some(value) => Some(self.sql_text("where", value)?),
            None => None,
        };
        let nulls_not_distinct = match options.get("nulls_not_distinct") {
            Some(value) => {
                let flag = self.reader.boolean("nulls_not_distinct", value)?;
                if flag {
                    postgres_only.push((value.span(), "nulls_not_distinct"));
                    if !unique {
                        self.reader.problem(
                            Problem::new(
                                value.span(),
                                "`nulls_not_distinct` is for unique indexes",
                            )
                            .label("this index is not unique")
                            .help("add `unique = true`, or remove `nulls_not_distinct`"),
                        );
                        return None;
                    }
                }
                flag
            }
            None => false,
        };

        let name_value = options.get("name");
        let name = match name_value {
            Some(value) => self.reader.string("name", value)?,
            None => {
                let columns: Vec<String> = keys
                    .iter()
                    .map(|key| match &key.target {
                        IndexTarget::Column(column) => Some(column.clone()),
                        IndexTarget::Expression(_) => None,
                    })
                    .collect::<Option<_>>()
                    .or_else(|| {
                        self.reader.problem(
                            Problem::new(
                                columns_value.span(),
                                "an index on an expression needs a `name`",
                            )
                            .label("an expression has no name to derive one from")
                            .help("add e.g. `name = \"ix_user_lower_email\"`"),
                        );
                        None
                    })?;
                names::index(&table.name, &columns)
            }
        };
        let span = name_value.map_or(item.span(), |name| name.span());
        if name_value.is_some() {
            if let Some(problem) = identifier_problem(&name) {
                self.reader.problem(
                    Problem::new(span.clone(), format!("invalid index name: {problem}"))
                        .label("this index name")
                        .help("choose a name of at most 63 bytes without control characters"),
                );
            }
        }
        let index = Index {
            name,
            keys,
            unique,
            method,
            include,
            predicate,
            nulls_not_distinct,
        };
        self.name_object(
            &index.name,
            format!(
                "the index on `{}` ({})",
                table.name,
                crate::driver::ddl::index_keys_summary(&index)
            ),
            span,
        );
        self.postgres_only_indexes
            .extend(
                postgres_only
                    .into_iter()
                    .map(|(span, option)| PostgresOnly {
                        span,
                        index: index.name.clone(),
                        option,
                    }),
            );
        Some(index)
    }

    /// `columns = ["a", { expr = "lower(b)", order = "desc" }]`.
    fn index_keys(
        &mut self,
        table: &Table,
        value: &Value<'_>,
        postgres_only: &mut Vec<(Range<usize>, &'static str)>,
    ) -> Option<Vec<IndexKey>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                "columns",
                value,
                "an array of column names or keys, e.g. [\"a\", { expr = \"lower(b)\" }]",
            );
            return None;
        };
        if items.is_empty() {
            self.reader.problem(
                Problem::new(value.span(), "`columns` must name at least one column")
                    .label("empty list"),
            );
            return None;
        }
        let mut keys = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match self.index_key(table, item, postgres_only) {
                Some(key) => keys.push(key),
                None => ok = false,
            }
        }
        ok.then_some(keys)
    }

    fn index_key(
        &mut self,
        table: &Table,
        item: &Value<'_>,
        postgres_only: &mut Vec<(Range<usize>, &'static str)>,
    ) -> Option<IndexKey> {
        let options = match item.get_ref() {
            DeValue::String(name) => {
                let name = Spanned::new(item.span(), name.to_string());
                let column = self.known_columns(table, std::slice::from_ref(&name))?;
                return Some(IndexKey::column(column[0].clone()));
            }
            DeValue::Table(options) => options,
            _ => {
                self.reader.wrong_type(
                    "columns",
                    item,
                    "a column name or a key like { column = \"a\", order = \"desc\" } or { expr = \"lower(a)\" }",
                );
                return None;
            }
        };
        for (key, _) in options.iter() {
            if !KEY_KEYS.contains(&key.get_ref().as_ref()) {
                self.reader.unknown_key(key, "an index key", KEY_KEYS);
            }
        }
        let target = match (options.get("column"), options.get("expr")) {
            (Some(column), None) => {
                let name = self.reader.string("column", column)?;
                let name = Spanned::new(column.span(), name);
                let column = self.known_columns(table, std::slice::from_ref(&name))?;
                IndexTarget::Column(column[0].clone())
            }
            (None, Some(expression)) => IndexTarget::Expression(self.sql_text("expr", expression)?),
            _ => {
                self.reader.problem(
                    Problem::new(item.span(), "an index key needs one of `column` or `expr`")
                        .label("give either a column or an expression")
                        .help("e.g. { column = \"created_at\", order = \"desc\" } or { expr = \"lower(email)\" }"),
                );
                return None;
            }
        };
        let descending = match options.get("order") {
            Some(value) => match self.reader.string("order", value)?.to_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                other => {
                    self.reader.problem(
                        Problem::new(value.span(), format!("unknown order `{other}`"))
                            .label("expected \"asc\" or \"desc\""),
                    );
                    return None;
                }
            },
            None => false,
        };
        let nulls_first = match options.get("nulls") {
            Some(value) => {
                let first = match self.reader.string("nulls", value)?.to_lowercase().as_str() {
                    "first" => true,
                    "last" => false,
                    other => {
                        self.reader.problem(
                            Problem::new(value.span(), format!("unknown nulls order `{other}`"))
                                .label("expected \"first\" or \"last\""),
                        );
                        return None;
                    }
                };
                // The default order says nothing SQLite could not build.
                if first != descending {
                    postgres_only.push((value.span(), "nulls"));
                }
                first
            }
            None => descending,
        };
        let opclass = match options.get("opclass") {
            Some(value) => {
                let name = self.reader.string("opclass", value)?;
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
                if !valid {
                    self.reader.problem(
                        Problem::new(value.span(), format!("invalid operator class `{name}`"))
                            .label("an operator class is a name such as varchar_pattern_ops")
                            .help("use letters, digits, `_` and `.` (schema.opclass)"),
                    );
                    return None;
                }
                postgres_only.push((value.span(), "opclass"));
                Some(name)
            }
            None => None,
        };
        Some(IndexKey {
            target,
            opclass,
            descending,
            nulls_first,
        })
    }

    /// An SQL expression (`expr`, `where`), used as written.
    fn sql_text(&mut self, key: &str, value: &Value<'_>) -> Option<String> {
        let text = self.reader.string(key, value)?;
        if text.trim().is_empty() {
            self.reader.problem(
                Problem::new(value.span(), format!("`{key}` is empty"))
                    .label("expected an SQL expression"),
            );
            return None;
        }
        if text.contains(';') && !text.contains('\'') {
            self.reader.problem(
                Problem::new(value.span(), format!("`{key}` must be one SQL expression"))
                    .label("`;` ends a statement")
                    .help("remove the `;`"),
            );
            return None;
        }
        Some(text.trim().to_string())
    }

    /// With SQLite among the dialects, every index option SQLite cannot build
    /// is an error at the option.
    pub(super) fn check_postgres_only_indexes(&mut self, dialects: &[String]) {
        let Some(dialect) = dialects.iter().find(|dialect| *dialect == "sqlite") else {
            return;
        };
        for found in std::mem::take(&mut self.postgres_only_indexes) {
            self.reader.problem(
                Problem::new(
                    found.span,
                    format!(
                        "index `{}` uses `{}`, which the {dialect} dialect does not have",
                        found.index, found.option
                    ),
                )
                .label(format!("not available on {dialect}"))
                .help(format!(
                    "SQLite indexes have columns, expressions, `order` and `where` only; remove `{}`, or remove \"{dialect}\" from `dialects`",
                    found.option
                )),
            );
        }
    }
}

fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
