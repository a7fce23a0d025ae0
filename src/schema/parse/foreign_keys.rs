//! `references`, `on_delete`/`on_update`, and the checks that need every table
//! parsed: the target exists, has the column, is a key, and has a compatible type.

use std::ops::Range;

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, ForeignKey, ForeignKeyAction, Schema, Table};
use crate::spanned_toml::Value;
use crate::text::{backticked, did_you_mean};

/// Where each declared foreign key was written, for checks that need every table.
pub(super) struct PendingReference {
    pub(super) table: String,
    /// The referencing columns (one for `references` on a column).
    pub(super) columns: Vec<String>,
    pub(super) target_table: String,
    pub(super) target_table_span: Range<usize>,
    pub(super) target_columns: Vec<String>,
    pub(super) target_column_span: Range<usize>,
    /// Per referencing column, where a type mismatch is fixed (its `type`, or
    /// its name in a table-level `columns` list).
    pub(super) type_spans: Vec<Range<usize>>,
}

impl PendingReference {
    /// `t.c` for one column, `t(a, b)` for several, as messages name a key.
    fn describe(table: &str, columns: &[String]) -> String {
        match columns {
            [column] => format!("{table}.{column}"),
            _ => format!("{table}({})", columns.join(", ")),
        }
    }

    fn source(&self) -> String {
        Self::describe(&self.table, &self.columns)
    }

    fn target(&self) -> String {
        Self::describe(&self.target_table, &self.target_columns)
    }
}

const FOREIGN_KEY_KEYS: &[&str] = &[
    "columns",
    "references",
    "name",
    "on_delete",
    "on_update",
    "deferrable",
    "initially_deferred",
];

impl Parser<'_> {
    /// `references = "table.column"` or `references = { table = "...", column = "..." }`.
    #[allow(clippy::type_complexity)]
    pub(super) fn reference(
        &mut self,
        value: &Value<'_>,
    ) -> Option<(String, String, (Range<usize>, Range<usize>), Option<String>)> {
        match value.get_ref() {
            DeValue::String(text) => {
                let parts: Vec<&str> = text.split('.').collect();
                if let [table, column] = parts.as_slice() {
                    if !table.is_empty() && !column.is_empty() {
                        return Some((
                            table.to_string(),
                            column.to_string(),
                            self.reference_spans(value.span(), text, table.len()),
                            None,
                        ));
                    }
                }
                self.reader.problem(
                    Problem::new(value.span(), format!("`references = \"{text}\"` must be written `table.column`"))
                        .label("expected \"table.column\"")
                        .help("for names that contain a dot, write references = { table = \"...\", column = \"...\" }"),
                );
                None
            }
            DeValue::Table(table) => {
                const KEYS: &[&str] = &["table", "column", "name"];
                for (key, _) in table.iter() {
                    if !KEYS.contains(&key.get_ref().as_ref()) {
                        self.reader.unknown_key(key, "references", KEYS);
                    }
                }
                let name = match table.get("name") {
                    Some(name) => Some(self.constraint_name(name)?),
                    None => None,
                };
                let (Some(target_table), Some(target_column)) =
                    (table.get("table"), table.get("column"))
                else {
                    self.reader.problem(
                        Problem::new(value.span(), "`references` needs both `table` and `column`")
                            .label("incomplete"),
                    );
                    return None;
                };
                let table_name = self.reader.string("table", target_table)?;
                let column_name = self.reader.string("column", target_column)?;
                Some((
                    table_name,
                    column_name,
                    (target_table.span(), target_column.span()),
                    name,
                ))
            }
            _ => {
                self.reader
                    .wrong_type("references", value, "a string \"table.column\"");
                None
            }
        }
    }

    /// The spans of `table` and `column` inside a `"table.column"` string, when the
    /// string is written without escapes; otherwise the whole string for both.
    pub(super) fn reference_spans(
        &self,
        span: Range<usize>,
        text: &str,
        table_length: usize,
    ) -> (Range<usize>, Range<usize>) {
        let raw = self.source.get(span.clone()).unwrap_or_default();
        let plain = raw.len() == text.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(text);
        if !plain {
            return (span.clone(), span);
        }
        let start = span.start + 1;
        (
            start..start + table_length,
            start + table_length + 1..start + text.len(),
        )
    }

    pub(super) fn action(&mut self, key: &str, value: &Value<'_>) -> Option<ForeignKeyAction> {
        let text = self.reader.string(key, value)?;
        let action = ForeignKeyAction::parse(&text);
        if action.is_none() {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!(
                        "unknown {key} action `{text}`{}",
                        did_you_mean(&text, ForeignKeyAction::NAMES.iter().copied())
                    ),
                )
                .label(format!(
                    "expected one of {}",
                    backticked(ForeignKeyAction::NAMES)
                )),
            );
        }
        action
    }

    /// `foreign_keys = [{ columns = ["a", "b"], references = "t(x, y)", … }]` on a
    /// table (`[[table.NAME.foreign_keys]]`): keys over several columns, and any
    /// key with options a column's `references` has no room for (DEFERRABLE).
    pub(super) fn table_foreign_keys(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                "foreign_keys",
                value,
                "an array of tables, e.g. [[table.NAME.foreign_keys]] with columns = [\"a\", \"b\"] and references = \"other(a, b)\"",
            );
            return;
        };
        for item in items.iter() {
            if let Some(fk) = self.table_foreign_key(table, item) {
                table.foreign_keys.push(fk);
            }
        }
    }

    fn table_foreign_key(&mut self, table: &Table, item: &Value<'_>) -> Option<ForeignKey> {
        let options = self.reader.table("foreign_keys", item)?;
        for (key, _) in options.iter() {
            if !FOREIGN_KEY_KEYS.contains(&key.get_ref().as_ref()) {
                self.reader.unknown_key(
                    key,
                    &format!("a foreign key of `{}`", table.name),
                    FOREIGN_KEY_KEYS,
                );
            }
        }
        let (Some(columns_value), Some(references)) =
            (options.get("columns"), options.get("references"))
        else {
            self.reader.problem(
                Problem::new(
                    item.span(),
                    format!(
                        "a foreign key of `{}` needs `columns` and `references`",
                        table.name
                    ),
                )
                .label("incomplete")
                .help("e.g. { columns = [\"a\", \"b\"], references = \"other(a, b)\" }"),
            );
            return None;
        };
        let names = self.string_list("columns", columns_value)?;
        let columns = self.known_columns(table, &names)?;
        let (target_table, target_columns, spans) = self.table_reference(references)?;
        if target_columns.len() != columns.len() {
            self.reader.problem(
                Problem::new(
                    references.span(),
                    format!(
                        "the foreign key on {} names {} column(s) but references {} ({})",
                        PendingReference::describe(&table.name, &columns),
                        columns.len(),
                        target_columns.len(),
                        PendingReference::describe(&target_table, &target_columns),
                    ),
                )
                .label("not as many columns as `columns`")
                .help("reference one column for each of `columns`, in the same order"),
            );
            return None;
        }
        let mut fk = ForeignKey {
            name: names::foreign_key(&table.name, &columns),
            columns,
            referenced_table: target_table,
            referenced_columns: target_columns,
            on_delete: ForeignKeyAction::NoAction,
            on_update: ForeignKeyAction::NoAction,
            deferrable: false,
            initially_deferred: false,
        };
        let mut deferrable = None;
        for (key, value) in options.iter() {
            match key.get_ref().as_ref() {
                "name" => fk.name = self.constraint_name(value)?,
                "on_delete" => fk.on_delete = self.action("on_delete", value).unwrap_or_default(),
                "on_update" => fk.on_update = self.action("on_update", value).unwrap_or_default(),
                "deferrable" => {
                    deferrable = self
                        .reader
                        .boolean("deferrable", value)
                        .map(|d| (d, value.span()))
                }
                "initially_deferred" => {
                    fk.initially_deferred =
                        self.reader.boolean("initially_deferred", value) == Some(true)
                }
                _ => {}
            }
        }
        match deferrable {
            Some((false, span)) if fk.initially_deferred => {
                self.reader.problem(
                    Problem::new(
                        span,
                        format!(
                            "the foreign key `{}` is `initially_deferred` but `deferrable = false`",
                            fk.name
                        ),
                    )
                    .label("contradicts `initially_deferred = true`")
                    .help("an initially deferred key is deferrable: remove `deferrable = false`"),
                );
                return None;
            }
            Some((flag, _)) => fk.deferrable = flag || fk.initially_deferred,
            None => fk.deferrable = fk.initially_deferred,
        }
        self.name_object(
            &fk.name,
            format!(
                "the foreign key of `{}` ({})",
                table.name,
                fk.columns.join(", ")
            ),
            item.span(),
        );
        self.references.push(PendingReference {
            table: table.name.clone(),
            columns: fk.columns.clone(),
            target_table: fk.referenced_table.clone(),
            target_table_span: spans.0,
            target_columns: fk.referenced_columns.clone(),
            target_column_span: spans.1,
            type_spans: names.iter().map(|name| name.span()).collect(),
        });
        Some(fk)
    }

    /// A table-level `references`: `"table(a, b)"` or `{ table = "…", columns = [...] }`.
    #[allow(clippy::type_complexity)]
    fn table_reference(
        &mut self,
        value: &Value<'_>,
    ) -> Option<(String, Vec<String>, (Range<usize>, Range<usize>))> {
        match value.get_ref() {
            DeValue::String(text) => {
                let parsed = text
                    .strip_suffix(')')
                    .and_then(|rest| rest.split_once('('))
                    .map(|(table, columns)| {
                        (
                            table.trim().to_string(),
                            columns
                                .split(',')
                                .map(|c| c.trim().to_string())
                                .collect::<Vec<_>>(),
                        )
                    })
                    .filter(|(table, columns)| {
                        !table.is_empty() && columns.iter().all(|c| !c.is_empty())
                    });
                match parsed {
                    Some((table, columns)) => Some((table, columns, (value.span(), value.span()))),
                    None => {
                        self.reader.problem(
                            Problem::new(value.span(), format!("`references = \"{text}\"` must be written `table(column, …)`"))
                                .label("expected \"table(a, b)\"")
                                .help("for names with parentheses or commas, write references = { table = \"...\", columns = [\"...\"] }"),
                        );
                        None
                    }
                }
            }
            DeValue::Table(options) => {
                const KEYS: &[&str] = &["table", "columns"];
                for (key, _) in options.iter() {
                    if !KEYS.contains(&key.get_ref().as_ref()) {
                        self.reader.unknown_key(key, "references", KEYS);
                    }
                }
                let (Some(target_table), Some(target_columns)) =
                    (options.get("table"), options.get("columns"))
                else {
                    self.reader.problem(
                        Problem::new(
                            value.span(),
                            "`references` needs both `table` and `columns`",
                        )
                        .label("incomplete"),
                    );
                    return None;
                };
                let table = self.reader.string("table", target_table)?;
                let columns = self.string_list("columns", target_columns)?;
                Some((
                    table,
                    columns.iter().map(|c| c.get_ref().clone()).collect(),
                    (target_table.span(), target_columns.span()),
                ))
            }
            _ => {
                self.reader
                    .wrong_type("references", value, "a string \"table(column, …)\"");
                None
            }
        }
    }

    /// Foreign keys need every table parsed: the target must exist, have the column,
    /// the column types must be compatible ([`crate::schema::Type::can_reference`]), and the target must be a primary key or unique.
    pub(super) fn check_references(&mut self, schema: &Schema) {
        let references = std::mem::take(&mut self.references);
        let declared = std::mem::take(&mut self.declared);
        let table_names: Vec<&str> = declared.iter().map(|(name, _)| name.as_str()).collect();
        let columns_of = |table: &str| {
            declared
                .iter()
                .find(|(name, _)| name == table)
                .map_or(&[][..], |(_, columns)| columns.as_slice())
        };
        for reference in references {
            let Some(target) = schema.table(&reference.target_table) else {
                // A table that failed to parse has already been reported.
                if !table_names.contains(&reference.target_table.as_str()) {
                    self.reader.problem(
                        Problem::new(
                            reference.target_table_span.clone(),
                            format!(
                                "{} references {}: there is no table `{}`{}",
                                reference.source(),
                                reference.target(),
                                reference.target_table,
                                did_you_mean(&reference.target_table, table_names.iter().copied())
                            ),
                        )
                        .label("unknown table")
                        .help(format!("declared tables are {}", backticked(&table_names))),
                    );
                }
                continue;
            };
            let mut all_found = true;
            for (i, target_name) in reference.target_columns.iter().enumerate() {
                let Some(target_column) = target.column(target_name) else {
                    all_found = false;
                    let target_columns = columns_of(&reference.target_table);
                    if target_columns.contains(target_name) {
                        // The column failed to parse and has already been reported.
                        continue;
                    }
                    self.reader.problem(
                        Problem::new(
                            reference.target_column_span.clone(),
                            format!(
                                "{} references {}: table `{}` has no column `{}`{}",
                                reference.source(),
                                reference.target(),
                                reference.target_table,
                                target_name,
                                did_you_mean(
                                    target_name,
                                    target_columns.iter().map(String::as_str)
                                )
                            ),
                        )
                        .label("unknown column")
                        .help(format!(
                            "the columns of `{}` are {}",
                            target.name,
                            backticked(target_columns)
                        )),
                    );
                    continue;
                };
                let Some(source_column) = schema
                    .table(&reference.table)
                    .and_then(|table| table.column(&reference.columns[i]))
                else {
                    continue;
                };
                // A type already reported (left custom) is not reported again here.
                let settled =
                    |ty: &crate::schema::Type| !matches!(ty, crate::schema::Type::Custom(_));
                if settled(&source_column.ty)
                    && settled(&target_column.ty)
                    && !comparable(&source_column.ty).can_reference(&comparable(&target_column.ty))
                {
                    self.reader.problem(
                        Problem::new(
                            reference.type_spans[i].clone(),
                            format!(
                                "{}.{} is `{}` but references {}.{}, which is `{}`",
                                reference.table,
                                reference.columns[i],
                                source_column.ty,
                                reference.target_table,
                                target_name,
                                target_column.ty
                            ),
                        )
                        .label(format!(
                            "not the type of {}.{}",
                            reference.target_table, target_name
                        ))
                        .help(format!(
                            "declare {}.{} as `{}`",
                            reference.table, reference.columns[i], target_column.ty
                        )),
                    );
                }
            }
            if all_found && !target.has_unique_key(&reference.target_columns) {
                let help = match reference.target_columns.as_slice() {
                    [column] => format!(
                        "reference the primary key of {}, or mark {}.{column} `unique = true`",
                        reference.target_table, reference.target_table
                    ),
                    columns => format!(
                        "reference the primary key of {}, or declare unique = [[{}]] on it",
                        reference.target_table,
                        columns
                            .iter()
                            .map(|c| format!("{c:?}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                self.reader.problem(
                    Problem::new(
                        reference.target_column_span.clone(),
                        format!(
                            "{} references {}, which is neither the primary key nor unique",
                            reference.source(),
                            reference.target()
                        ),
                    )
                    .label("not a key")
                    .help(help),
                );
            }
        }
    }
}

/// A native type as the portable type its values behave as (SQLite's
/// affinity: `INT` is integer, `NVARCHAR(40)` text), for comparing the two
/// ends of a foreign key; any other type as it is.
fn comparable(ty: &crate::schema::Type) -> crate::schema::Type {
    match ty {
        crate::schema::Type::Native(spellings) => spellings
            .iter()
            .find_map(|(dialect, spelling)| {
                crate::driver::registry::engine(dialect)?.value_type(spelling)
            })
            .unwrap_or_else(|| ty.clone()),
        _ => ty.clone(),
    }
}
