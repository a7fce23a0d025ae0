//! A live SQLite database → [`Schema`], in three queries for the whole database
//! (tables+columns, foreign keys, indexes), through the pragma table-valued functions.
//! For `pull` and `baseline` ([`inspect_with_unmanaged`]) every object the model
//! leaves out is named too (see `unmanaged.rs`).

use std::collections::HashMap;

use rusqlite::Connection;

use super::index_sql;
use super::types::portable_type;
use crate::schema::names;
use crate::schema::{
    Check, Column, DefaultValue, ForeignKey, ForeignKeyAction, Generated, Index, IndexKey,
    IndexTarget, PrimaryKey, Schema, Table, Type, UniqueConstraint, Unmanaged,
};

/// User tables: not SQLite's own, not the migration and patch history.
const USER_TABLES: &str = "m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
     AND m.name NOT IN ('refinery_schema_history', '__diesel_schema_migrations', 'strata_patch_history')";

pub fn inspect(connection: &Connection) -> rusqlite::Result<Schema> {
    read(connection, &mut Vec::new())
}

/// The schema, and every object of the database it leaves out.
pub fn inspect_with_unmanaged(
    connection: &Connection,
) -> rusqlite::Result<(Schema, Vec<Unmanaged>)> {
    let mut found = Vec::new();
    let schema = read(connection, &mut found)?;
    super::unmanaged::find(connection, &mut found)?;
    Ok((schema, found))
}

fn read(connection: &Connection, found: &mut Vec<Unmanaged>) -> rusqlite::Result<Schema> {
    let mut tables: Vec<Table> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut primary_keys: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    let mut declared_types: HashMap<(String, String), String> = HashMap::new();

    let mut statement = connection.prepare(&format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
         FROM sqlite_schema AS m, pragma_table_xinfo(m.name) AS p \
         WHERE {USER_TABLES} AND p.hidden <> 1 ORDER BY m.rowid, p.cid"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let table_name: String = row.get(0)?;
        let column_name: String = row.get(1)?;
        let declared: String = row.get(2)?;
        let not_null: bool = row.get(3)?;
        let default: Option<String> = row.get(4)?;
        let pk_position: i64 = row.get(5)?;
        // 2 and 3: a generated column (VIRTUAL, STORED); xinfo has no
        // expression, which `read_constraints` takes from the CREATE TABLE text.
        let hidden = row.get::<_, i64>(6)?;
        let generated = (hidden >= 2).then(|| Generated {
            sql: String::new(),
            stored: hidden == 3,
        });
        let index = *position.entry(table_name.clone()).or_insert_with(|| {
            tables.push(Table::new(&table_name));
            tables.len() - 1
        });
        let ty = adopted_type(&declared);
        declared_types.insert((table_name.clone(), column_name.clone()), declared.clone());
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
            // A key column without NOT NULL may hold NULL in a rowid table
            // (SQLite's legacy quirk), except the rowid itself: settled below.
            nullable: !not_null,
            renamed_from: None,
            comment: None,
            numbering: Default::default(),
            sequence: Default::default(),
            generated,
        });
    }
    drop(rows);

    // WITHOUT ROWID tables (pull names them), whose key columns are NOT NULL.
    let without_rowid_tables: std::collections::HashSet<String> = connection
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND wr")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in &mut tables {
        if let Some(mut columns) = primary_keys.remove(&table.name) {
            columns.sort();
            // A single integer key is the rowid (strata declares it INTEGER),
            // which is never NULL; a WITHOUT ROWID table's key is NOT NULL too.
            let rowid_key = columns.len() == 1
                && table
                    .column(&columns[0].1)
                    .is_some_and(|column| column.ty.is_integer_like());
            let without_rowid = without_rowid_tables.contains(&table.name);
            if rowid_key || without_rowid {
                for (_, name) in &columns {
                    if let Some(column) = table.columns.iter_mut().find(|c| &c.name == name) {
                        column.nullable = false;
                    }
                }
            }
            table.primary_key = Some(PrimaryKey {
                name: names::primary_key(&table.name),
                columns: columns.into_iter().map(|(_, name)| name).collect(),
            });
        }
    }

    for table in &tables {
        let Some(pk) = &table.primary_key else {
            continue;
        };
        let [key] = pk.columns.as_slice() else {
            continue;
        };
        let declared = declared_types.get(&(table.name.clone(), key.clone()));
        // Only INTEGER spelt so makes SQLite's rowid alias (and numbering).
        if table.column(key).is_some_and(|c| c.ty.is_integer_like())
            && declared.is_some_and(|d| !d.eq_ignore_ascii_case("INTEGER"))
        {
            found.push(Unmanaged::new(
                "primary key column",
                format!("{}.{key}", table.name),
                format!(
                    "declared {}, so it is not SQLite's rowid alias; schema.toml declares INTEGER, which is",
                    declared.map_or("", String::as_str)
                ),
            ));
        }
    }

    read_foreign_keys(connection, &mut tables, &position)?;
    read_indexes(connection, &mut tables, &position, found)?;
    read_constraints(connection, &mut tables, &position)?;
    let objects = super::objects::read(connection, found)?;
    Ok(Schema {
        tables,
        objects,
        enums: Vec::new(),
        domains: Vec::new(),
    })
}

/// CHECKs and constraint names, which SQLite keeps only in the CREATE TABLE
/// text (one query for every table): an unnamed CHECK takes the name the
/// parser gives it (`<table>_<column>_check` on a column, `<table>_check`,
/// `<table>_check1`… on the table), a named key its name.
fn read_constraints(
    connection: &Connection,
    tables: &mut [Table],
    position: &HashMap<String, usize>,
) -> rusqlite::Result<()> {
    use super::unmanaged::{constraints, ConstraintKind};
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, m.sql FROM sqlite_schema AS m WHERE {USER_TABLES}"
    ))?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let Some(sql) = row.get::<_, Option<String>>(1)? else {
            continue;
        };
        let Some(&index) = position.get(&name) else {
            continue;
        };
        let table = &mut tables[index];
        let mut unnamed = 0;
        let mut matched: Vec<String> = Vec::new();
        for constraint in constraints(&sql) {
            match constraint.kind {
                ConstraintKind::Check(expression) => {
                    let name = match (constraint.name, &constraint.column) {
                        (Some(name), _) => name,
                        (None, Some(column)) => names::column_check(&table.name, column),
                        (None, None) => {
                            unnamed += 1;
                            names::table_check(&table.name, unnamed - 1)
                        }
                    };
                    table.checks.push(Check { name, expression });
                }
                ConstraintKind::Generated(expression, _) => {
                    let column = constraint.column.as_deref().unwrap_or_default();
                    if let Some(generated) = table
                        .columns
                        .iter_mut()
                        .find(|c| c.name == column)
                        .and_then(|c| c.generated.as_mut())
                    {
                        generated.sql = expression;
                    }
                }
                ConstraintKind::PrimaryKey(_) => {
                    if let (Some(name), Some(pk)) = (constraint.name, &mut table.primary_key) {
                        pk.name = name;
                    }
                }
                ConstraintKind::Unique(columns) => {
                    if let Some(name) = constraint.name {
                        if let Some(unique) =
                            table.uniques.iter_mut().find(|u| u.columns == columns)
                        {
                            unique.name = name;
                        }
                    }
                }
                ConstraintKind::ForeignKey(columns, deferral) => {
                    // The first key on these columns not yet matched to a clause
                    // (two keys may share their columns).
                    let Some(fk) = table
                        .foreign_keys
                        .iter_mut()
                        .find(|f| f.columns == columns && !matched.contains(&f.name))
                    else {
                        continue;
                    };
                    if let Some(name) = constraint.name {
                        fk.name = name;
                    }
                    matched.push(fk.name.clone());
                    fk.deferrable = deferral.deferrable;
                    fk.initially_deferred = deferral.initially_deferred;
                }
            }
        }
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
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
                    deferrable: false,
                    initially_deferred: false,
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
    found: &mut Vec<Unmanaged>,
) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(&format!(
        "SELECT m.name, l.name, l.\"unique\", l.origin, i.name, i.\"desc\", \
                COALESCE(i.coll <> 'BINARY', 0), l.partial, x.sql \
         FROM sqlite_schema AS m \
         JOIN pragma_index_list(m.name) AS l \
         JOIN pragma_index_xinfo(l.name) AS i \
         LEFT JOIN sqlite_schema AS x ON x.type = 'index' AND x.name = l.name \
         WHERE {USER_TABLES} AND i.key ORDER BY m.rowid, x.rowid, i.seqno"
    ))?;
    let mut rows = statement.query([])?;
    struct Found {
        table: String,
        name: String,
        unique: bool,
        origin: String,
        /// Each key's column (None for an expression) and whether it is DESC.
        keys: Vec<(Option<String>, bool)>,
        /// A collation other than BINARY: not modelled.
        collated: bool,
        partial: bool,
        sql: Option<String>,
    }
    let mut current: Option<Found> = None;
    let mut finish = |entry: Option<Found>| {
        let Some(entry) = entry else {
            return;
        };
        let table_model = &mut tables[position[&entry.table]];
        let one_line = |sql: &Option<String>| {
            sql.as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let needs_text = entry.partial || entry.keys.iter().any(|(column, _)| column.is_none());
        // Expressions and the predicate only the statement's text says.
        let parsed = match (&entry.sql, needs_text) {
            (Some(sql), true) => index_sql::parse(sql),
            _ => Some((Vec::new(), None)),
        };
        let parsed = parsed.filter(|(texts, _)| !needs_text || texts.len() == entry.keys.len());
        let (texts, predicate) = match parsed {
            Some(parsed) if !entry.collated => parsed,
            _ => {
                found.push(Unmanaged::new(
                    "index",
                    format!("{}.{}", entry.table, entry.name),
                    one_line(&entry.sql),
                ));
                return;
            }
        };
        match entry.origin.as_str() {
            "c" => {
                let keys = entry
                    .keys
                    .into_iter()
                    .enumerate()
                    .map(|(k, (column, descending))| IndexKey {
                        target: match column {
                            Some(column) => IndexTarget::Column(column),
                            None => IndexTarget::Expression(texts[k].clone()),
                        },
                        opclass: None,
                        descending,
                        // PostgreSQL's default for the direction: the model's
                        // "nothing said" (SQLite has no NULLS in CREATE INDEX).
                        nulls_first: descending,
                    })
                    .collect();
                table_model.indexes.push(Index {
                    name: entry.name,
                    keys,
                    unique: entry.unique,
                    method: None,
                    include: Vec::new(),
                    predicate: if entry.partial { predicate } else { None },
                    nulls_not_distinct: false,
                })
            }
            "u" => {
                let columns: Vec<String> = entry.keys.into_iter().filter_map(|(c, _)| c).collect();
                table_model.uniques.push(UniqueConstraint {
                    name: names::unique(&entry.table, &columns),
                    columns,
                })
            }
            _ => {} // the primary key's own index
        }
    };
    while let Some(row) = rows.next()? {
        let table: String = row.get(0)?;
        let index: String = row.get(1)?;
        // Expression columns have no name.
        let column: Option<String> = row.get(4)?;
        let descending: bool = row.get(5)?;
        let collated: bool = row.get(6)?;
        match &mut current {
            Some(entry) if entry.table == table && entry.name == index => {
                entry.keys.push((column, descending));
                entry.collated |= collated;
            }
            _ => {
                let next = Some(Found {
                    table,
                    name: index,
                    unique: row.get(2)?,
                    origin: row.get(3)?,
                    keys: vec![(column, descending)],
                    collated,
                    partial: row.get(7)?,
                    sql: row.get(8)?,
                });
                finish(std::mem::replace(&mut current, next));
            }
        }
    }
    finish(current);
    Ok(())
}

/// The model's type for a declared SQLite type: the portable type whose
/// spelling it is exactly, else the spelling itself, kept as written (SQLite
/// keeps it, and `pragma table_info` shows it): `NVARCHAR(40)` stays
/// `NVARCHAR(40)`, `TEXT` stays `TEXT`, with its affinity for patches. No type
/// at all is `bytes` (no affinity, like BLOB); a spelling that is not a type's
/// shape (`"my type"`) stays custom, and `pull` names the column.
fn adopted_type(declared: &str) -> Type {
    let ty = portable_type(declared);
    if !matches!(ty, Type::Custom(_)) && super::types::declared_type(&ty) == declared {
        return ty;
    }
    if declared.trim().is_empty() {
        return Type::Bytes;
    }
    if crate::schema::type_spelling_problem(declared).is_none() {
        return Type::native("sqlite", declared);
    }
    Type::Custom(declared.to_string())
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
