//! `references`, `on_delete`/`on_update`, and the checks that need every table
//! parsed: the target exists, has the column, is a key, and has a compatible type.

use std::ops::Range;

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{ForeignKeyAction, Schema};
use crate::spanned_toml::Value;
use crate::text::{backticked, did_you_mean};

/// Where each declared foreign key was written, for checks that need every table.
pub(super) struct PendingReference {
    pub(super) table: String,
    pub(super) column: String,
    pub(super) target_table: String,
    pub(super) target_table_span: Range<usize>,
    pub(super) target_column: String,
    pub(super) target_column_span: Range<usize>,
    /// The referencing column's `type`, where a type mismatch is fixed.
    pub(super) type_span: Range<usize>,
}

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
                                "{}.{} references {}.{}: there is no table `{}`{}",
                                reference.table,
                                reference.column,
                                reference.target_table,
                                reference.target_column,
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
            let Some(target_column) = target.column(&reference.target_column) else {
                let target_columns = columns_of(&reference.target_table);
                if target_columns.contains(&reference.target_column) {
                    // The column failed to parse and has already been reported.
                    continue;
                }
                self.reader.problem(
                    Problem::new(
                        reference.target_column_span.clone(),
                        format!(
                            "{}.{} references {}.{}: table `{}` has no column `{}`{}",
                            reference.table,
                            reference.column,
                            reference.target_table,
                            reference.target_column,
                            reference.target_table,
                            reference.target_column,
                            did_you_mean(
                                &reference.target_column,
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
                .and_then(|table| table.column(&reference.column))
            else {
                continue;
            };
            // A type already reported (left custom) is not reported again here.
            let settled = |ty: &crate::schema::Type| !matches!(ty, crate::schema::Type::Custom(_));
            if settled(&source_column.ty)
                && settled(&target_column.ty)
                && !comparable(&source_column.ty).can_reference(&comparable(&target_column.ty))
            {
                self.reader.problem(
                    Problem::new(
                        reference.type_span.clone(),
                        format!(
                            "{}.{} is `{}` but references {}.{}, which is `{}`",
                            reference.table,
                            reference.column,
                            source_column.ty,
                            reference.target_table,
                            reference.target_column,
                            target_column.ty
                        ),
                    )
                    .label(format!(
                        "not the type of {}.{}",
                        reference.target_table, reference.target_column
                    ))
                    .help(format!(
                        "declare {}.{} as `{}`",
                        reference.table, reference.column, target_column.ty
                    )),
                );
            }
            if !target.has_unique_key(std::slice::from_ref(&reference.target_column)) {
                self.reader.problem(
                    Problem::new(
                        reference.target_column_span.clone(),
                        format!(
                            "{}.{} references {}.{}, which is neither the primary key nor unique",
                            reference.table,
                            reference.column,
                            reference.target_table,
                            reference.target_column
                        ),
                    )
                    .label("not a key")
                    .help(format!(
                        "reference the primary key of {}, or mark {}.{} `unique = true`",
                        reference.target_table, reference.target_table, reference.target_column
                    )),
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
