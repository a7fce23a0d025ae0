//! A column, short (`name = "text"`) or as a table of options, and its default.

use toml::de::DeValue;

use super::column_kind::KindSpans;
use super::foreign_keys::PendingReference;
use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{
    names, Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, Numbering, PrimaryKey, Table,
    Type, UniqueConstraint,
};
use crate::spanned_toml::{Key, Value};
use crate::text::backticked;

const COLUMN_KEYS: &[&str] = &[
    "type",
    "nullable",
    "primary_key",
    "unique",
    "index",
    "default",
    "references",
    "on_delete",
    "on_update",
    "renamed_from",
    "check",
    "comment",
    "identity",
    "sequence",
    "autoincrement",
    "generated",
];

impl Parser<'_> {
    pub(super) fn column(
        &mut self,
        table: &mut Table,
        name: &Key<'_>,
        body: &Value<'_>,
    ) -> Option<Column> {
        let column_name = name.get_ref().to_string();
        if let Some((_, columns)) = self.declared.last_mut() {
            columns.push(column_name.clone());
        }
        self.names
            .push((table.name.clone(), column_name.clone(), name.span()));
        let name_ok = self.identifier(&column_name, name.span(), "column");
        let mut column = Column::new(column_name.clone(), Type::Integer);
        let options = match body.get_ref() {
            DeValue::String(_) => {
                // A bad type is reported once; the column is still declared, so
                // nothing else reports it missing.
                column.ty = self
                    .column_type_value(&table.name, &column_name, body)
                    .unwrap_or(Type::Custom(String::new()));
                return name_ok.then_some(column);
            }
            DeValue::Table(options) => options,
            _ => {
                self.reader.wrong_type(&column_name, body, "a type name such as \"text\", or a table such as { type = \"text\", nullable = true }");
                return None;
            }
        };

        // A bad or missing type is reported, and the other options are still checked
        // so that every problem in the file is reported at once.
        let mut type_ok = true;
        let type_span;
        match options.get("type") {
            Some(type_value) => {
                type_span = type_value.span();
                match self.column_type_value(&table.name, &column_name, type_value) {
                    Some(ty) => column.ty = ty,
                    None => type_ok = false,
                }
            }
            None => {
                type_span = body.span();
                type_ok = false;
                self.reader.problem(
                    Problem::new(
                        body.span(),
                        format!("column `{}.{column_name}` has no `type`", table.name),
                    )
                    .label("add `type = \"...\"` here")
                    .help(format!(
                        "types are {}",
                        backticked(crate::schema::types::PORTABLE_TYPE_NAMES)
                    )),
                );
            }
        }
        if !type_ok {
            // Unknown type: accept any default rather than report a second problem.
            column.ty = Type::Custom(String::new());
        }

        let mut primary_key = false;
        let mut nullable_span = None;
        let mut references = None;
        let mut on_delete = ForeignKeyAction::NoAction;
        let mut on_update = ForeignKeyAction::NoAction;
        let mut action_spans = Vec::new();
        let mut unique = false;
        let mut index_span = None;
        let mut kind_spans = KindSpans::default();
        for (key, value) in options.iter() {
            match key.get_ref().as_ref() {
                "type" => {}
                "nullable" => {
                    column.nullable = self.reader.boolean("nullable", value).unwrap_or(false);
                    nullable_span = Some(value.span());
                }
                "primary_key" => {
                    primary_key = self.reader.boolean("primary_key", value).unwrap_or(false)
                }
                "unique" => unique = self.reader.boolean("unique", value) == Some(true),
                "index" => {
                    if self.reader.boolean("index", value) == Some(true) {
                        index_span = Some(value.span());
                    }
                }
                "default" => {
                    kind_spans.default = Some(value.span());
                    column.default = self.default_value(&column, value)
                }
                "references" => references = self.reference(value),
                "on_delete" => {
                    on_delete = self.action("on_delete", value).unwrap_or_default();
                    action_spans.push(key.span());
                }
                "on_update" => {
                    on_update = self.action("on_update", value).unwrap_or_default();
                    action_spans.push(key.span());
                }
                "renamed_from" => column.renamed_from = self.reader.string("renamed_from", value),
                "check" => self.column_check(table, &column_name, value),
                "comment" => column.comment = self.comment(value),
                "identity" => {
                    kind_spans.identity = Some(value.span());
                    self.identity(&mut column, value);
                }
                "sequence" => {
                    kind_spans.sequence = Some(value.span());
                    self.sequence(&mut column, value);
                }
                "autoincrement" => {
                    kind_spans.autoincrement = Some(value.span());
                    if self.reader.boolean("autoincrement", value) == Some(false) {
                        column.numbering = Numbering::Off;
                    }
                }
                "generated" => {
                    kind_spans.generated = Some(value.span());
                    self.generated(&mut column, value);
                }
                _ => self.reader.unknown_key(
                    key,
                    &format!("column `{}.{column_name}`", table.name),
                    COLUMN_KEYS,
                ),
            }
        }

        self.column_kinds.push((column_name.clone(), kind_spans));
        let columns = vec![column_name.clone()];
        // As in SQLAlchemy: `index` alone is a plain index, `unique` alone a UNIQUE
        // constraint, and both together one unique index.
        match index_span {
            Some(span) => {
                let index_name = names::index(&table.name, &columns);
                self.name_object(
                    &index_name,
                    format!("the index on `{}` ({column_name})", table.name),
                    span,
                );
                table
                    .indexes
                    .push(Index::on_columns(index_name, columns.clone(), unique));
            }
            None if unique => {
                let unique_name = names::unique(&table.name, &columns);
                self.name_object(
                    &unique_name,
                    format!("the unique constraint on `{}` ({column_name})", table.name),
                    name.span(),
                );
                table.uniques.push(UniqueConstraint {
                    name: unique_name,
                    columns: columns.clone(),
                })
            }
            None => {}
        }
        if primary_key {
            if let Some(span) = nullable_span.filter(|_| column.nullable) {
                // Settled once the dialects and the whole key are known.
                self.nullable_keys.push(super::column_kind::NullableKey {
                    span,
                    table: table.name.clone(),
                    column: column_name.clone(),
                });
            }
            if table.primary_key.is_none() {
                let pk_name = names::primary_key(&table.name);
                self.name_object(
                    &pk_name,
                    format!("the primary key of `{}`", table.name),
                    name.span(),
                );
                table.primary_key = Some(PrimaryKey {
                    name: pk_name,
                    columns: Vec::new(),
                });
            }
            if let Some(pk) = &mut table.primary_key {
                pk.columns.push(column_name.clone());
            }
        }
        match references {
            Some((target_table, target_column, spans, explicit_name)) => {
                self.references.push(PendingReference {
                    table: table.name.clone(),
                    columns: vec![column_name.clone()],
                    target_table: target_table.clone(),
                    target_table_span: spans.0,
                    target_columns: vec![target_column.clone()],
                    target_column_span: spans.1,
                    type_spans: vec![type_span],
                });
                let columns = vec![column_name.clone()];
                let fk_name =
                    explicit_name.unwrap_or_else(|| names::foreign_key(&table.name, &columns));
                self.name_object(
                    &fk_name,
                    format!("the foreign key of `{}` ({column_name})", table.name),
                    name.span(),
                );
                table.foreign_keys.push(ForeignKey {
                    name: fk_name,
                    columns,
                    referenced_table: target_table,
                    referenced_columns: vec![target_column],
                    on_delete,
                    on_update,
                    deferrable: false,
                    initially_deferred: false,
                });
            }
            None => {
                for span in action_spans {
                    self.reader.problem(
                        Problem::new(
                            span,
                            format!(
                                "`{}` needs `references` on column `{}.{column_name}`",
                                "on_delete/on_update", table.name
                            ),
                        )
                        .label("only a foreign key has actions")
                        .help("add `references = \"table.column\"`, or remove this key"),
                    );
                }
            }
        }
        (name_ok && type_ok).then_some(column)
    }

    pub(super) fn default_value(
        &mut self,
        column: &Column,
        value: &Value<'_>,
    ) -> Option<DefaultValue> {
        let default = match value.get_ref() {
            DeValue::Integer(integer) => {
                match i64::from_str_radix(integer.as_str(), integer.radix()) {
                    Ok(number) => DefaultValue::Integer(number),
                    Err(_) => {
                        self.reader.problem(
                            Problem::new(
                                value.span(),
                                "default is out of the 64-bit integer range",
                            )
                            .label("too large"),
                        );
                        return None;
                    }
                }
            }
            DeValue::Float(float) => match float.as_str().parse::<f64>() {
                Ok(number) if number.is_finite() => DefaultValue::Float(number),
                _ => {
                    // `nan` and `inf` have no portable SQL literal: PostgreSQL rejects
                    // `DEFAULT NaN` and SQLite would store the string 'NaN'.
                    self.reader.problem(
                        Problem::new(value.span(), "default must be a finite number")
                            .label("not a finite number")
                            .help("for NaN or infinity write the dialect's expression, e.g. default = { sql = \"'NaN'\" }"),
                    );
                    return None;
                }
            },
            DeValue::Boolean(flag) => DefaultValue::Boolean(*flag),
            DeValue::String(text) => DefaultValue::Text(text.to_string()),
            DeValue::Table(table) if table.len() == 1 && table.get("sql").is_some() => {
                let expression = table.get("sql")?;
                return self.reader.string("sql", expression).map(DefaultValue::Sql);
            }
            _ => {
                self.reader.wrong_type(
                    "default",
                    value,
                    "a number, a string, a boolean or { sql = \"EXPRESSION\" }",
                );
                return None;
            }
        };
        let fits = match (&default, &column.ty) {
            (DefaultValue::Integer(_), ty) => ty.is_integer_like() || ty.is_float_like(),
            (DefaultValue::Float(_), ty) => ty.is_float_like(),
            (DefaultValue::Boolean(_), ty) => *ty == Type::Boolean,
            (DefaultValue::Text(_), ty) => ty.is_text_like(),
            _ => true,
        };
        if fits
            || matches!(
                column.ty,
                Type::Custom(_) | Type::Native(_) | Type::Enum(_) | Type::Domain(_)
            )
        {
            Some(default)
        } else {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!("default {default} does not fit column `{}` of type {}", column.name, column.ty),
                )
                .label(format!("not a {} value", column.ty))
                .help("give a default of the column's type, or { sql = \"EXPRESSION\" } for an SQL expression"),
            );
            None
        }
    }
}
