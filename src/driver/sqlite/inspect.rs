//! A live SQLite database → [`Schema`], in three queries for the whole database
//! (tables+columns, foreign keys, indexes), through the pragma table-valued functions.

use std::collections::HashMap;

use rusqlite::Connection;

use super::types::portable_type;
use crate::schema::names;
use crate::schema::{
    Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, PrimaryKey, Schema, Table, Type,
    UniqueConstraint,
};

/// User tables: not SQLite's own, not the migration and patch history.
const USER_TABLES: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     AND m.name NOT IN ('refinery_schema_history', '__diesel_schema_migrations', 'strata_patch_history')";

pub fn inspect(connection: &Connection) -> rusqlite::Result<Schema> {
    let mut tables: Vec<Table> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut primary_keys: HashMap<String, Vec<(i64, String)>> = HashMap::new();

    let mut statement = connection.prepare(&format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
         FROM sqlite_schema AS m, pragma_table_info(m.name) AS p \
         WHERE {USER_TABLES} ORDER BY m.rowid, p.cid"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let table_name: String = row.get(0)?;
        let column_name: String = row.get(1)?;
        let declared: String = row.get(2)?;
        let not_null: bool = row.get(3)?;
        let default: Option<String> = row.get(4)?;
        let pk_position: i64 = row.get(5)?;
        let index = *position.entry(table_name.clone()).or_insert_with(|| {
            tables.push(Table::new(&table_name));
            tables.len() - 1
        });
        let ty = portable_type(&declared);
        if pk_position > 0 {
            primary_keys
                .entry(table_name.clone())
                .or_default()
                .push((pk_position, column_name.clone()));
        }
        tables[index].columns.push(Column {
            name: column_name,
            default: default.map(|text| parse_default(&text, &ty)),
            ty,
            // Primary key columns can never hold NULL once strata declares them.
            nullable: !not_null && pk_position == 0,
            renamed_from: None,
        });
    }
    drop(rows);

    for table in &mut tables {
        if let Some(mut columns) = primary_keys.remove(&table.name) {
            columns.sort();
            table.primary_key = Some(PrimaryKey {
                name: names::primary_key(&table.name),
                columns: columns.into_iter().map(|(_, name)| name).collect(),
            });
        }
    }

    read_foreign_keys(connection, &mut tables, &position)?;
    read_indexes(connection, &mut tables, &position)?;
    Ok(Schema { tables })
}

fn read_foreign_keys(
    connection: &Connection,
    tables: &mut [Table],
    position: &HashMap<String, usize>,
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
         FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
         WHERE {USER_TABLES} ORDER BY m.rowid, f.id, f.seq"
    ))?;
    let mut rows = statement.query([])?;
    // (table, id) → foreign key under construction
    let mut found: Vec<(String, i64, ForeignKey)> = Vec::new();
    while let Some(row) = rows.next()? {
        let table: String = row.get(0)?;
        let id: i64 = row.get(1)?;
        let from: String = row.get(3)?;
        let to: Option<String> = row.get(4)?;
        match found.last_mut() {
            Some((t, i, fk)) if *t == table && *i == id => {
                fk.columns.push(from);
                fk.referenced_columns.extend(to);
            }
            _ => found.push((
                table,
                id,
                ForeignKey {
                    name: String::new(),
                    columns: vec![from],
                    referenced_table: row.get(2)?,
                    referenced_columns: to.into_iter().collect(),
                    on_update: parse_action(&row.get::<_, String>(5)?),
                    on_delete: parse_action(&row.get::<_, String>(6)?),
                },
            )),
        }
    }
    for (table, _, mut fk) in found {
        // `REFERENCES t` without columns means t's primary key.
        if fk.referenced_columns.is_empty() {
            fk.referenced_columns = position
                .get(&fk.referenced_table)
                .and_then(|&i| tables[i].primary_key.as_ref())
                .map(|pk| pk.columns.clone())
                .unwrap_or_default();
        }
        fk.name = names::foreign_key(&table, &fk.columns);
        let target = &mut tables[position[&table]];
        target.foreign_keys.push(fk);
    }
    for table in tables.iter_mut() {
        // Declaration order, which is column order in schema.toml.
        let order: HashMap<&str, usize> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let mut foreign_keys = std::mem::take(&mut table.foreign_keys);
        foreign_keys.sort_by_key(|fk| order.get(fk.columns[0].as_str()).copied());
        table.foreign_keys = foreign_keys;
    }
    Ok(())
}

fn read_indexes(
    connection: &Connection,
    tables: &mut [Table],
    position: &HashMap<String, usize>,
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, l.name, l.\"unique\", l.origin, i.name \
         FROM sqlite_schema AS m \
         JOIN pragma_index_list(m.name) AS l \
         JOIN pragma_index_info(l.name) AS i \
         LEFT JOIN sqlite_schema AS x ON x.type = 'index' AND x.name = l.name \
         WHERE {USER_TABLES} ORDER BY m.rowid, x.rowid, i.seqno"
    ))?;
    let mut rows = statement.query([])?;
    let mut current: Option<(String, String, bool, String, Vec<String>)> = None;
    let mut finish = |entry: Option<(String, String, bool, String, Vec<String>)>| {
        let Some((table, name, unique, origin, columns)) = entry else {
            return;
        };
        let table_model = &mut tables[position[&table]];
        match origin.as_str() {
            "c" => table_model.indexes.push(Index {
                name,
                columns,
                unique,
            }),
            "u" => table_model.uniques.push(UniqueConstraint {
                name: names::unique(&table, &columns),
                columns,
            }),
            _ => {} // the primary key's own index
        }
    };
    while let Some(row) = rows.next()? {
        let table: String = row.get(0)?;
        let index: String = row.get(1)?;
        // Expression indexes have no column name; they are not part of the model.
        let column: Option<String> = row.get(4)?;
        let Some(column) = column else { continue };
        match &mut current {
            Some((t, i, _, _, columns)) if *t == table && *i == index => columns.push(column),
            _ => {
                let next = Some((table, index, row.get(2)?, row.get(3)?, vec![column]));
                finish(std::mem::replace(&mut current, next));
            }
        }
    }
    finish(current);
    Ok(())
}

fn parse_action(text: &str) -> ForeignKeyAction {
    ForeignKeyAction::parse(text).unwrap_or_default()
}

/// A `dflt_value` as SQLite stores it (the text of the DEFAULT clause) → the model.
fn parse_default(text: &str, ty: &Type) -> DefaultValue {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return DefaultValue::Text(inner.replace("''", "'"));
    }
    if *ty == Type::Boolean {
        match text.to_uppercase().as_str() {
            "1" | "TRUE" => return DefaultValue::Boolean(true),
            "0" | "FALSE" => return DefaultValue::Boolean(false),
            _ => {}
        }
    }
    if let Ok(integer) = text.parse::<i64>() {
        if !ty.is_float_like() || !text.contains('.') {
            return DefaultValue::Integer(integer);
        }
    }
    if let Ok(float) = text.parse::<f64>() {
        return DefaultValue::Float(float);
    }
    let expression = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    DefaultValue::Sql(expression.to_string())
}
