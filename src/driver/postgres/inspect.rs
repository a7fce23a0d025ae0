//! A live PostgreSQL schema → [`Schema`], from pg_catalog in four queries for the
//! whole schema (columns, owned sequences, constraints, indexes), never per table.

use std::collections::{HashMap, HashSet};

use postgres::Client;

use super::types::portable_type;
use crate::schema::{
    names, Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, PrimaryKey, Schema, Table,
    Type, UniqueConstraint,
};

// The history tables of refinery, Diesel (Diesel projects) and strata's patches.
const INTERNAL: &str =
    "('refinery_schema_history', '__diesel_schema_migrations', 'strata_patch_history')";

pub fn inspect(client: &mut Client) -> Result<Schema, postgres::Error> {
    let mut tables: Vec<Table> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();

    let columns = client.query(
        &format!(
            "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname NOT IN {INTERNAL} \
             ORDER BY c.oid, a.attnum"
        ),
        &[],
    )?;
    for row in &columns {
        let table: String = row.get(0);
        let ty = portable_type(row.get(2));
        let default: Option<String> = row.get(4);
        let index = *position.entry(table.clone()).or_insert_with(|| {
            tables.push(Table::new(&table));
            tables.len() - 1
        });
        tables[index].columns.push(Column {
            name: row.get(1),
            default: default.as_deref().map(|text| parse_default(text, &ty)),
            ty,
            nullable: !row.get::<_, bool>(3),
            renamed_from: None,
        });
    }

    // Columns that own a sequence: their nextval() default is what SERIAL means.
    let owned = client.query(
        "SELECT c.relname::text, a.attname::text \
         FROM pg_depend d \
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
         JOIN pg_class c ON c.oid = d.refobjid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid \
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
           AND d.deptype IN ('a', 'i') AND n.nspname = current_schema()",
        &[],
    )?;
    let serial_columns: HashSet<(String, String)> =
        owned.iter().map(|row| (row.get(0), row.get(1))).collect();

    let constraints = client.query(
        &format!(
            "SELECT c.relname::text, con.conname::text, con.contype::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord), \
                    f.relname::text, \
                    ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord), \
                    con.confdeltype::text, con.confupdtype::text \
             FROM pg_constraint con \
             JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class f ON f.oid = con.confrelid \
             WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f') AND c.relname NOT IN {INTERNAL} \
             ORDER BY c.oid, con.oid"
        ),
        &[],
    )?;
    for row in &constraints {
        let table: String = row.get(0);
        let Some(&index) = position.get(&table) else {
            continue;
        };
        let name: String = row.get(1);
        let kind: String = row.get(2);
        let columns: Vec<String> = row.get(3);
        let target = &mut tables[index];
        match kind.as_str() {
            "p" => target.primary_key = Some(PrimaryKey { name, columns }),
            "u" => target.uniques.push(UniqueConstraint { name, columns }),
            _ => target.foreign_keys.push(ForeignKey {
                name,
                columns,
                referenced_table: row.get::<_, Option<String>>(4).unwrap_or_default(),
                referenced_columns: row.get(5),
                on_delete: action(&row.get::<_, String>(6)),
                on_update: action(&row.get::<_, String>(7)),
            }),
        }
    }

    let indexes = client.query(
        &format!(
            "SELECT t.relname::text, i.relname::text, ix.indisunique, \
                    ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), \
                    ix.indexprs IS NULL AND ix.indpred IS NULL \
             FROM pg_index ix \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname NOT IN {INTERNAL} \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')) \
             ORDER BY t.oid, i.oid"
        ),
        &[],
    )?;
    for row in &indexes {
        let table: String = row.get(0);
        // Expression and partial indexes are not part of the model.
        if !row.get::<_, bool>(4) {
            continue;
        }
        if let Some(&index) = position.get(&table) {
            tables[index].indexes.push(Index {
                name: row.get(1),
                columns: row.get(3),
                unique: row.get(2),
            });
        }
    }

    for table in &mut tables {
        let single_key = table
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .map(|pk| pk.columns[0].clone());
        for column in &mut table.columns {
            let owns_sequence = serial_columns.contains(&(table.name.clone(), column.name.clone()));
            let is_nextval = matches!(&column.default, Some(DefaultValue::Sql(expr)) if expr.starts_with("nextval("));
            if owns_sequence && is_nextval && single_key.as_deref() == Some(column.name.as_str()) {
                column.default = None;
            }
        }
        let order: HashMap<String, usize> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        table
            .foreign_keys
            .sort_by_key(|fk| fk.columns.first().and_then(|c| order.get(c)).copied());
        let _ = names::primary_key(&table.name);
    }
    Ok(Schema { tables })
}

fn action(code: &str) -> ForeignKeyAction {
    match code {
        "r" => ForeignKeyAction::Restrict,
        "c" => ForeignKeyAction::Cascade,
        "n" => ForeignKeyAction::SetNull,
        "d" => ForeignKeyAction::SetDefault,
        _ => ForeignKeyAction::NoAction,
    }
}

/// `pg_get_expr` of a default → the model: literals lose their `::type` casts.
fn parse_default(text: &str, ty: &Type) -> DefaultValue {
    let mut literal = text.trim();
    // '...'::character varying, 0::numeric, '-1'::integer
    while let Some(position) = literal.rfind("::") {
        let before = &literal[..position];
        if before.ends_with('\'')
            || before
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        {
            literal = before;
        } else {
            break;
        }
    }
    let literal = literal.trim_start_matches('(').trim_end_matches(')');
    if let Some(inner) = literal
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
    {
        let unquoted = inner.replace("''", "'");
        if ty.is_integer_like() || ty.is_float_like() || *ty == Type::Boolean {
            return parse_default(&unquoted, ty);
        }
        return DefaultValue::Text(unquoted);
    }
    match literal {
        "true" => return DefaultValue::Boolean(true),
        "false" => return DefaultValue::Boolean(false),
        _ => {}
    }
    if let Ok(integer) = literal.parse::<i64>() {
        return DefaultValue::Integer(integer);
    }
    if let Ok(float) = literal.parse::<f64>() {
        return DefaultValue::Float(float);
    }
    DefaultValue::Sql(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_lose_their_casts() {
        assert_eq!(
            parse_default("'rookie'::character varying", &Type::Text),
            DefaultValue::Text("rookie".into())
        );
        assert_eq!(
            parse_default("'-1'::integer", &Type::Integer),
            DefaultValue::Integer(-1)
        );
        assert_eq!(parse_default("0", &Type::Integer), DefaultValue::Integer(0));
        assert_eq!(
            parse_default("1.5", &Type::Double),
            DefaultValue::Float(1.5)
        );
        assert_eq!(
            parse_default("true", &Type::Boolean),
            DefaultValue::Boolean(true)
        );
        assert_eq!(
            parse_default("CURRENT_TIMESTAMP", &Type::Timestamp),
            DefaultValue::Sql("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            parse_default("'it''s'::text", &Type::Text),
            DefaultValue::Text("it's".into())
        );
    }
}
