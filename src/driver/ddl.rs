//! Pieces of DDL that SQLite and PostgreSQL spell the same way.

use super::{quote_identifier as q, quote_literal};
use crate::schema::{Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, IndexTarget, Type};
use crate::text::printable;

/// `"a", "b"`
pub fn column_list(columns: &[String]) -> String {
    columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")
}

/// `REFERENCES "team" ("id") ON DELETE CASCADE DEFERRABLE`, actions and
/// deferral only when not the default (both engines spell them so).
pub fn references(fk: &ForeignKey) -> String {
    let mut sql = format!(
        "REFERENCES {} ({})",
        q(&fk.referenced_table),
        column_list(&fk.referenced_columns)
    );
    for (clause, action) in [("ON DELETE", fk.on_delete), ("ON UPDATE", fk.on_update)] {
        if action != ForeignKeyAction::NoAction {
            sql.push_str(&format!(" {clause} {}", action.sql()));
        }
    }
    let deferral = fk.deferral_sql();
    if !deferral.is_empty() {
        sql.push(' ');
        sql.push_str(deferral);
    }
    sql
}

/// A DEFAULT clause's value; `boolean` spells true and false for the dialect.
pub fn default_value(default: &DefaultValue, boolean: fn(bool) -> &'static str) -> String {
    match default {
        DefaultValue::Integer(value) => value.to_string(),
        DefaultValue::Float(value) => format!("{value:?}"),
        DefaultValue::Boolean(value) => boolean(*value).to_string(),
        DefaultValue::Text(text) => quote_literal(text),
        DefaultValue::Sql(expression) => format!("({expression})"),
    }
}

/// `CREATE [UNIQUE] INDEX "ix" ON "table" ("a", "b");`
pub fn create_index(table: &str, index: &Index) -> String {
    create_index_sql(table, index, "")
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] "ix" ON "table" [USING method] (keys)
/// [INCLUDE (…)] [NULLS NOT DISTINCT] [WHERE …];`: only what the index has, so a
/// plain index is spelled the way every engine accepts. `concurrently` is ""
/// or "CONCURRENTLY ".
pub fn create_index_sql(table: &str, index: &Index, concurrently: &str) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {concurrently}{} ON {}",
        if index.unique { "UNIQUE " } else { "" },
        q(&index.name),
        q(table),
    );
    if let Some(method) = &index.method {
        sql.push_str(&format!(" USING {method}"));
    }
    sql.push_str(&format!(" ({})", index_keys(index)));
    if !index.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", column_list(&index.include)));
    }
    if index.nulls_not_distinct {
        sql.push_str(" NULLS NOT DISTINCT");
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    sql.push(';');
    sql
}

/// `"a", lower("b") text_pattern_ops DESC NULLS LAST`: the key list, an
/// expression in parentheses (which every engine accepts), the sort order and
/// NULLS only when not the default.
pub fn index_keys(index: &Index) -> String {
    keys_with(index, q)
}

/// The key list for messages: `name, (lower(email)) DESC`, names unquoted.
pub fn index_keys_summary(index: &Index) -> String {
    keys_with(index, str::to_string)
}

fn keys_with(index: &Index, name: impl Fn(&str) -> String) -> String {
    index
        .keys
        .iter()
        .map(|key| {
            let mut sql = match &key.target {
                IndexTarget::Column(column) => name(column),
                IndexTarget::Expression(expression) => format!("({expression})"),
            };
            if let Some(opclass) = &key.opclass {
                sql.push(' ');
                sql.push_str(opclass);
            }
            if key.descending {
                sql.push_str(" DESC");
            }
            if key.nulls_first != key.descending {
                sql.push_str(if key.nulls_first {
                    " NULLS FIRST"
                } else {
                    " NULLS LAST"
                });
            }
            sql
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `DROP TABLE "table";`, the reverse of creating it.
pub fn drop_table(table: &str) -> String {
    format!("DROP TABLE {};", q(table))
}

/// `ALTER TABLE "table" DROP COLUMN "column";`, the reverse of adding it.
pub fn drop_column(table: &str, column: &str) -> String {
    format!("ALTER TABLE {} DROP COLUMN {};", q(table), q(column))
}

/// `DROP INDEX "ix";`
pub fn drop_index(index: &Index) -> String {
    format!("DROP INDEX {};", q(&index.name))
}

/// `"name" TYPE [NOT NULL] [DEFAULT …]`, with the dialect's spelling of the type
/// and of booleans.
pub fn column_definition(
    column: &Column,
    type_sql: &str,
    boolean: fn(bool) -> &'static str,
) -> String {
    let mut sql = format!("{} {type_sql}", q(&column.name));
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(" DEFAULT ");
        sql.push_str(&default_value(default, boolean));
    }
    sql
}

/// Why a column cannot be added to a table that may hold rows, if it cannot.
pub fn add_column_problem(table: &str, column: &Column) -> Option<String> {
    (!column.nullable && column.default.is_none()).then(|| {
        format!(
            "existing rows of {} need a value for the new NOT NULL column {}: declare a `default`, or `nullable = true`",
            printable(table),
            printable(&column.name)
        )
    })
}

/// The value a re-created NOT NULL column without a default takes in the rows
/// that exist (the down file of a dropped column: its values are gone, the
/// column comes back): the type's zero. `None` for a type strata does not know.
pub fn zero_value(ty: &Type, boolean: fn(bool) -> &'static str) -> Option<String> {
    Some(match ty {
        Type::Integer
        | Type::BigInt
        | Type::SmallInt
        | Type::Real
        | Type::Double
        | Type::Numeric(_) => "0".to_string(),
        Type::Text | Type::Varchar(_) | Type::Bytes => "''".to_string(),
        Type::Boolean => boolean(false).to_string(),
        Type::Date => "'1970-01-01'".to_string(),
        Type::Timestamp | Type::TimestampTz => "'1970-01-01 00:00:00'".to_string(),
        Type::Uuid => "'00000000-0000-0000-0000-000000000000'".to_string(),
        Type::Json => "'{}'".to_string(),
        Type::Native(_) | Type::Enum(_) | Type::Domain(_) | Type::Custom(_) => return None,
    })
}

/// Sets `fk`'s columns of `table` to NULL in the rows whose target row is gone
/// (a table or column the migration dropped comes back empty in its down file),
/// so that re-adding the foreign key succeeds: what `ON DELETE SET NULL` would
/// have done. `target` is the referenced table's name at that point of the file.
pub fn null_orphans(table: &str, fk: &ForeignKey, target: &str) -> String {
    let set: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("{} = NULL", q(c)))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.referenced_columns)
        .map(|(c, r)| format!("\"strata_target\".{} = \"strata_row\".{}", q(r), q(c)))
        .collect();
    format!(
        "UPDATE {} AS \"strata_row\" SET {} WHERE NOT EXISTS (SELECT 1 FROM {} AS \"strata_target\" WHERE {});",
        q(table),
        set.join(", "),
        q(target),
        matches.join(" AND ")
    )
}
