//! A live PostgreSQL schema → [`Schema`], from pg_catalog in four queries for the
//! whole schema (columns, owned sequences, constraints, indexes), never per table.
//! For `pull` and `baseline` ([`inspect_with_unmanaged`]) every object the model
//! leaves out is named too, from one more query per kind of object.

use std::collections::{HashMap, HashSet};

use postgres::Client;

use super::ahead::{self, Ahead};

use super::types::portable_type;
use crate::schema::{
    names, Check, Column, DefaultValue, ForeignKey, ForeignKeyAction, Generated, IdentityKind,
    Index, IndexKey, IndexTarget, Numbering, PrimaryKey, Schema, SequenceOptions, Table, Type,
    UniqueConstraint, Unmanaged,
};

// The history tables of refinery, Diesel (Diesel projects) and strata's patches.
const INTERNAL: &str =
    "('refinery_schema_history', '__diesel_schema_migrations', 'strata_patch_history')";

pub fn inspect(client: &mut Client) -> Result<Schema, postgres::Error> {
    Ok(read(client, &mut Ahead::none(), &mut Vec::new())?.0)
}

/// The comments on relations (`pg_class` objects) of the database, with the
/// oids of the tables [`read`] put in the schema: what the search for unmanaged
/// objects needs to name the comments on anything else without reading them
/// all again.
pub struct ClassComments {
    /// (relation oid, column number or 0, text), user objects only.
    pub rows: Vec<(u32, i32, String)>,
    pub table_oids: HashMap<String, u32>,
}

/// The schema, and every object of the database it leaves out.
pub fn inspect_with_unmanaged(
    client: &mut Client,
    ahead: &mut Ahead,
) -> Result<(Schema, Vec<Unmanaged>), postgres::Error> {
    let mut found = Vec::new();
    let (mut schema, comments) = read(client, ahead, &mut found)?;
    super::unmanaged::find(client, ahead, &mut schema, &comments, &mut found)?;
    Ok((schema, found))
}

/// The queries [`inspect_with_unmanaged`] can have a second session run ahead
/// (see `ahead`), in the order of their ids.
pub fn queries_ahead() -> Vec<String> {
    vec![constraints_sql(), super::unmanaged::relations_sql()]
}
const AHEAD_CONSTRAINTS: ahead::QueryId = 0;
pub const AHEAD_RELATIONS: ahead::QueryId = 1;

fn read(
    client: &mut Client,
    ahead: &mut Ahead,
    found: &mut Vec<Unmanaged>,
) -> Result<(Schema, ClassComments), postgres::Error> {
    let mut tables: Vec<Table> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();

    // Before the columns, which name the domains the model holds.
    let domains = read_domains(client)?;
    let columns = client.query(
        &format!(
            "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    NULL::text, a.attgenerated::text, a.attidentity::text, \
                    CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
                         THEN (SELECT collname::text FROM pg_collation WHERE oid = a.attcollation) END, \
                    t.typtype::text, t.typname::text, t.typnamespace = n.oid, \
                    COALESCE((SELECT e.typtype::text FROM pg_type e WHERE e.oid = t.typelem AND t.typcategory = 'A'), ''), \
                    c.oid, a.attnum, a.attcollation \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             JOIN pg_type t ON t.oid = a.atttypid \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname NOT IN {INTERNAL} \
             ORDER BY c.oid, a.attnum"
        ),
        &[],
    )?;
    // Defaults (and generated columns' expressions) by (table oid, attnum), in a
    // query of their own: `pg_get_expr` in the column query's join cost about
    // six times as much as the same calls here (ci/bench-postgres). Given a
    // table, pg_get_expr opens it to name its columns (a relcache entry and a
    // lock per table, most of this query's time); only an expression that
    // reads a column (a Var node: generated columns) needs that, the text of
    // any other is the same without it.
    let mut defaults: HashMap<(u32, i16), String> = client
        .query(
            "SELECT d.adrelid, d.adnum, \
                    CASE WHEN d.adbin::text LIKE '%{VAR %' THEN pg_get_expr(d.adbin, d.adrelid) \
                         ELSE pg_get_expr(d.adbin, 0) END \
             FROM pg_attrdef d \
             JOIN pg_class c ON c.oid = d.adrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
            &[],
        )?
        .iter()
        .map(|row| ((row.get(0), row.get(1)), row.get(2)))
        .collect();
    // Column names and collations by (table oid, attnum): the constraint and
    // index queries return raw attnum arrays, resolved here rather than by a
    // subquery per row on the server (the costly part of those queries).
    let mut attributes: HashMap<(u32, i16), (String, u32)> = HashMap::new();
    for row in &columns {
        let table: String = row.get(0);
        attributes.insert(
            (row.get(12), row.get(13)),
            (row.get::<_, String>(1), row.get(14)),
        );
        let ty = match (row.get::<_, String>(8).as_str(), row.get::<_, String>(9)) {
            ("d", name) if row.get::<_, bool>(10) && domains.iter().any(|d| d.name == name) => {
                Type::Domain(name)
            }
            _ => match modelled_array(row.get(2), row.get(10), row.get(11), &domains) {
                Some(ty) => ty,
                None => column_type(row.get(2), row.get(8), row.get(9), row.get(10), row.get(11)),
            },
        };
        let mut default: Option<String> = defaults.remove(&(row.get(12), row.get(13)));
        let column_name: String = row.get(1);
        let qualified = format!("{table}.{column_name}");
        let generated: String = row.get(5);
        // The expression is in pg_attrdef, but it is no DEFAULT: a DEFAULT
        // cannot read other columns, and the column is read-only.
        let generated = (!generated.is_empty()).then(|| Generated {
            sql: without_outer_parentheses(&default.take().unwrap_or_default()),
            stored: true,
        });
        let numbering = match row.get::<_, String>(6).as_str() {
            "a" => Numbering::Identity(IdentityKind::Always),
            "d" => Numbering::Identity(IdentityKind::ByDefault),
            _ => Numbering::Auto,
        };
        if let Some(collation) = row.get::<_, Option<String>>(7) {
            found.push(Unmanaged::new(
                "column collation",
                &qualified,
                format!("COLLATE \"{collation}\"; schema.toml declares the default collation"),
            ));
        }
        let index = *position.entry(table.clone()).or_insert_with(|| {
            tables.push(Table::new(&table));
            tables.len() - 1
        });
        tables[index].columns.push(Column {
            name: column_name,
            default: default.as_deref().map(|text| parse_default(text, &ty)),
            ty,
            nullable: !row.get::<_, bool>(3),
            renamed_from: None,
            comment: None,
            numbering,
            sequence: Default::default(),
            generated,
        });
    }

    // Columns that own a sequence (SERIAL's, or an identity's), with its start
    // and increment: their nextval() default is what SERIAL means.
    let owned = client.query(
        "SELECT c.relname::text, a.attname::text, ps.seqstart, ps.seqincrement \
         FROM pg_depend d \
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' \
         JOIN pg_sequence ps ON ps.seqrelid = s.oid \
         JOIN pg_class c ON c.oid = d.refobjid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid \
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass \
           AND d.deptype IN ('a', 'i') AND n.nspname = current_schema()",
        &[],
    )?;
    let serial_columns: HashMap<(String, String), SequenceOptions> = owned
        .iter()
        .map(|row| {
            (
                (row.get(0), row.get(1)),
                SequenceOptions::from_catalog(row.get(2), row.get(3)),
            )
        })
        .collect();

    // One row per index with its raw catalog arrays (key attnums, operator
    // classes, collations, sort options), resolved here: a subquery or a
    // pg_get_indexdef per key on the server was most of pull's time. The
    // expressions come in one pg_get_expr of the whole list, split here;
    // pg_get_indexdef only where that split is not sure, and in full for an
    // index the model leaves out.
    let indexes = client.query(
        &format!(
            "SELECT t.relname::text, i.relname::text, ix.indisunique, am.amname::text, ix.indnkeyatts::int, \
                    ix.indrelid, ix.indkey::int2[], ix.indclass::oid[], ix.indcollation::oid[], \
                    ix.indoption::int2[], \
                    pg_get_expr(ix.indpred, ix.indrelid, true), \
                    ix.indnullsnotdistinct, \
                    am.amname IN ('btree', 'hash', 'gist', 'spgist', 'gin', 'brin'), \
                    pg_get_expr(ix.indexprs, ix.indrelid, true), ix.indexrelid \
             FROM pg_index ix \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_am am ON am.oid = i.relam \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = current_schema() AND t.relname NOT IN {INTERNAL} \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid AND con.contype IN ('p', 'u', 'x')) \
             ORDER BY t.oid, i.oid"
        ),
        &[],
    )?;
    // The operator classes that are not their type's default, by oid (the
    // model names only those).
    let opclass_names: HashMap<u32, String> = client
        .query(
            "SELECT oid, opcname::text FROM pg_opclass WHERE NOT opcdefault",
            &[],
        )?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    // Asked for after the queries above, which leave the second session (see
    // `ahead`) time to connect and run it meanwhile.
    let constraints = ahead::query(client, ahead, AHEAD_CONSTRAINTS, &constraints_sql())?;
    // A foreign key to a table of another schema: its columns are not among
    // those read above.
    let known: HashSet<u32> = attributes.keys().map(|&(relid, _)| relid).collect();
    let elsewhere: Vec<u32> = constraints
        .iter()
        .map(|row| row.get::<_, u32>(13))
        .filter(|oid| *oid != 0 && !known.contains(oid))
        .collect::<HashSet<u32>>()
        .into_iter()
        .collect();
    if !elsewhere.is_empty() {
        for row in client.query(
            "SELECT attrelid, attnum, attname::text, attcollation FROM pg_attribute \
             WHERE attrelid = ANY($1) AND attnum > 0",
            &[&elsewhere],
        )? {
            attributes.insert((row.get(0), row.get(1)), (row.get(2), row.get(3)));
        }
    }
    let names_of = |relid: u32, keys: Option<Vec<i16>>| -> Vec<String> {
        keys.unwrap_or_default()
            .iter()
            .map(|attnum| {
                attributes
                    .get(&(relid, *attnum))
                    .map(|(name, _)| name.clone())
                    .unwrap_or_default()
            })
            .collect()
    };
    for row in &constraints {
        let table: String = row.get(0);
        let Some(&index) = position.get(&table) else {
            continue;
        };
        let name: String = row.get(1);
        let kind: String = row.get(2);
        let columns = names_of(row.get(12), row.get(3));
        let definition: String = row.get(8);
        let qualified = format!("{table}.{name}");
        let unmanaged = |kind: &str| Unmanaged::new(kind, &qualified, &definition);
        match kind.as_str() {
            "x" => found.push(unmanaged("exclusion constraint")),
            "t" => found.push(unmanaged("constraint trigger")),
            // A deferrable foreign key is modelled; a deferrable key is not.
            "p" | "u" if row.get::<_, bool>(9) => found.push(Unmanaged::new(
                "deferrable constraint",
                &qualified,
                format!("{definition}; schema.toml declares it not deferrable"),
            )),
            "f" if row.get::<_, String>(10) == "f" => found.push(Unmanaged::new(
                "foreign key match",
                &qualified,
                format!("{definition}; schema.toml declares MATCH SIMPLE"),
            )),
            _ => {}
        }
        let target = &mut tables[index];
        match kind.as_str() {
            "p" => target.primary_key = Some(PrimaryKey { name, columns }),
            "u" => target.uniques.push(UniqueConstraint { name, columns }),
            "c" => target.checks.push(Check {
                name,
                expression: check_expression(&definition),
            }),
            "x" | "t" => {}
            _ => target.foreign_keys.push(ForeignKey {
                name,
                columns,
                referenced_table: row.get::<_, Option<String>>(4).unwrap_or_default(),
                referenced_columns: names_of(row.get(13), row.get(5)),
                on_delete: action(&row.get::<_, String>(6)),
                on_update: action(&row.get::<_, String>(7)),
                deferrable: row.get(9),
                initially_deferred: row.get(11),
            }),
        }
    }

    // Per index: whether the model holds it (a method it names and no key
    // collation other than its column's, or the default for an expression),
    // and the expressions of its keys when the split of pg_get_expr's list
    // matches their count.
    let mut left_out_indexes: Vec<u32> = Vec::new();
    let mut unsure_expressions: Vec<u32> = Vec::new();
    let mut split_expressions: HashMap<u32, Vec<String>> = HashMap::new();
    for row in &indexes {
        let relid: u32 = row.get(5);
        let oid: u32 = row.get(14);
        let keys: Vec<i16> = row.get(6);
        let collations: Vec<u32> = row.get(8);
        let collation_ok = keys.iter().zip(&collations).all(|(attnum, &coll)| {
            let column = match *attnum {
                0 => 0,
                attnum => attributes.get(&(relid, attnum)).map_or(0, |(_, c)| *c),
            };
            coll == 0 || coll == if column == 0 { 100 } else { column }
        });
        if !row.get::<_, bool>(12) || !collation_ok {
            left_out_indexes.push(oid);
            continue;
        }
        let expression_count = keys.iter().filter(|&&k| k == 0).count();
        if expression_count == 0 {
            continue;
        }
        let list: String = row.get::<_, Option<String>>(13).unwrap_or_default();
        let parts = split_top_level(&list);
        if parts.len() == expression_count {
            split_expressions.insert(oid, parts);
        } else {
            unsure_expressions.push(oid);
        }
    }
    let mut index_definitions: HashMap<u32, String> = HashMap::new();
    if !left_out_indexes.is_empty() {
        for row in client.query(
            "SELECT indexrelid, pg_get_indexdef(indexrelid) FROM pg_index WHERE indexrelid = ANY($1)",
            &[&left_out_indexes],
        )? {
            index_definitions.insert(row.get(0), row.get(1));
        }
    }
    if !unsure_expressions.is_empty() {
        for row in client.query(
            "SELECT ix.indexrelid, \
                    ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) \
                          FROM generate_series(1, ix.indnatts::int) k WHERE ix.indkey[k - 1] = 0) \
             FROM pg_index ix WHERE ix.indexrelid = ANY($1)",
            &[&unsure_expressions],
        )? {
            split_expressions.insert(row.get(0), row.get(1));
        }
    }
    for row in &indexes {
        let table: String = row.get(0);
        let Some(&position) = position.get(&table) else {
            continue;
        };
        let oid: u32 = row.get(14);
        // Other methods (an extension's) and key collations are not part of the model.
        if let Some(definition) = index_definitions.remove(&oid) {
            let name: String = row.get(1);
            found.push(Unmanaged::new(
                "index",
                format!("{table}.{name}"),
                definition,
            ));
            continue;
        }
        let relid: u32 = row.get(5);
        let key_count = row.get::<_, i32>(4) as usize;
        let attnums: Vec<i16> = row.get(6);
        let columns: Vec<Option<String>> = attnums
            .iter()
            .map(|attnum| {
                attributes
                    .get(&(relid, *attnum))
                    .map(|(name, _)| name.clone())
            })
            .collect();
        let mut expressions = split_expressions
            .remove(&oid)
            .unwrap_or_default()
            .into_iter();
        let opclasses: Vec<u32> = row.get(7);
        let options: Vec<i16> = row.get(9);
        let method: String = row.get(3);
        let keys = (0..key_count)
            .map(|k| {
                let option = options.get(k).copied().unwrap_or(0);
                let descending = option & 1 != 0;
                IndexKey {
                    target: match columns.get(k).cloned().flatten() {
                        Some(column) if attnums.get(k) != Some(&0) => IndexTarget::Column(column),
                        _ => IndexTarget::Expression(without_outer_parentheses(
                            &expressions.next().unwrap_or_default(),
                        )),
                    },
                    opclass: opclasses
                        .get(k)
                        .and_then(|oid| opclass_names.get(oid))
                        .cloned(),
                    descending,
                    nulls_first: option & 2 != 0,
                }
            })
            .collect();
        tables[position].indexes.push(Index {
            name: row.get(1),
            keys,
            unique: row.get(2),
            method: (method != "btree").then_some(method),
            include: columns
                .iter()
                .skip(key_count)
                .map(|column| column.clone().unwrap_or_default())
                .collect(),
            predicate: row
                .get::<_, Option<String>>(10)
                .map(|predicate| varchar_in_lists_as_parsed(&predicate)),
            nulls_not_distinct: row.get(11),
        });
    }

    // Comments of tables (objsubid 0) and of their columns, by oid and attnum,
    // resolved here with the names read above: joined on the server, the
    // catalog's stale row estimates made this a nested loop per comment.
    let table_of_oid: HashMap<u32, usize> = columns
        .iter()
        .filter_map(|row| Some((row.get::<_, u32>(12), *position.get(row.get::<_, &str>(0))?)))
        .collect();
    let comments = client.query(
        "SELECT d.objoid, d.objsubid, d.description FROM pg_description d \
         WHERE d.classoid = 'pg_class'::regclass AND d.objoid >= 16384",
        &[],
    )?;
    let mut class_comments = ClassComments {
        rows: Vec::with_capacity(comments.len()),
        table_oids: table_of_oid
            .iter()
            .map(|(&oid, &index)| (tables[index].name.clone(), oid))
            .collect(),
    };
    for row in &comments {
        let relid: u32 = row.get(0);
        let text: String = row.get(2);
        class_comments.rows.push((relid, row.get(1), text.clone()));
        let Some(&index) = table_of_oid.get(&relid) else {
            continue;
        };
        let table = &mut tables[index];
        match row.get::<_, i32>(1) {
            0 => table.comment = Some(text),
            attnum => {
                let Ok(attnum) = i16::try_from(attnum) else {
                    continue;
                };
                let Some((name, _)) = attributes.get(&(relid, attnum)) else {
                    continue;
                };
                if let Some(column) = table.columns.iter_mut().find(|c| &c.name == name) {
                    column.comment = Some(text);
                }
            }
        }
    }

    for table in &mut tables {
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        let single_key = table
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .map(|pk| pk.columns[0].clone());
        for column in &mut table.columns {
            let qualified = format!("{}.{}", table.name, column.name);
            let sequence = serial_columns
                .get(&(table.name.clone(), column.name.clone()))
                .copied();
            let owns_sequence = sequence.is_some();
            if matches!(column.numbering, Numbering::Identity(_)) {
                column.sequence = sequence.unwrap_or_default();
                continue;
            }
            let nextval = match &column.default {
                Some(DefaultValue::Sql(expr)) if expr.starts_with("nextval(") => Some(expr.clone()),
                _ => None,
            };
            let is_key = single_key.as_deref() == Some(column.name.as_str());
            match nextval {
                // What SERIAL means: the model says it by having no default.
                Some(_) if owns_sequence && is_key => {
                    column.default = None;
                    column.sequence = sequence.unwrap_or_default();
                }
                // migrate would fail on it: the sequence is not created by any migration.
                Some(expr) if !owns_sequence => {
                    column.default = None;
                    found.push(Unmanaged::new(
                        "column default",
                        &qualified,
                        if is_key {
                            format!("{expr} uses a sequence no column owns; its migrations declare the column SERIAL (a sequence of its own) instead")
                        } else {
                            format!("{expr} uses a sequence no column owns; schema.toml declares no default")
                        },
                    ));
                }
                Some(expr) => {
                    column.default = None;
                    found.push(Unmanaged::new(
                        "serial column",
                        &qualified,
                        format!("{expr} numbers a column that is not the single primary key; schema.toml declares no default"),
                    ));
                }
                // No sequence numbers it: `autoincrement = false`, so that a
                // reload of its rows is not followed by colliding numbers.
                None if is_key
                    && column.default.is_none()
                    && column.generated.is_none()
                    && super::types::serial_type(&column.ty).is_some() =>
                {
                    column.numbering = Numbering::Off;
                }
                None => {}
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
    let objects = super::objects::read(client, found)?;
    let enums = read_enums(client)?;
    Ok((
        Schema {
            tables,
            objects,
            enums,
            domains,
        },
        class_comments,
    ))
}

/// `CHECK ((price > (0)::numeric)) [NOT VALID]` (`pg_get_constraintdef`) → the
/// expression inside, without the outer parentheses PostgreSQL adds.
/// Every key, foreign key and CHECK of the current schema's tables, in one query.
fn constraints_sql() -> String {
    format!(
            "SELECT c.relname::text, con.conname::text, con.contype::text, \
                    con.conkey, f.relname::text, con.confkey, con.confdeltype::text, con.confupdtype::text, \
                    CASE WHEN con.contype IN ('c', 'x', 't') OR con.condeferrable OR con.confmatchtype = 'f' \
                         THEN pg_get_constraintdef(con.oid) ELSE '' END, \
                    con.condeferrable, con.confmatchtype::text, con.condeferred, \
                    con.conrelid, con.confrelid \
             FROM pg_constraint con \
             JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class f ON f.oid = con.confrelid \
             WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c', 'x', 't') AND c.relname NOT IN {INTERNAL} \
             ORDER BY c.oid, con.oid"
        )
}

fn check_expression(definition: &str) -> String {
    let text = definition.trim();
    let text = text.strip_suffix(" NOT VALID").unwrap_or(text);
    let inner = text
        .strip_prefix("CHECK (")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text)
        .trim();
    let expression = match inner.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        // Only when those two parentheses match each other.
        Some(stripped) if balanced(stripped) => stripped,
        _ => inner,
    };
    varchar_in_lists_as_parsed(expression)
}

/// `col IN ('a', 'b')` on a varchar column is printed
/// `(col)::text = ANY ((ARRAY['a'::character varying, …])::text[])`; written
/// back like that, the explicit `::text[]` is pushed into each element and the
/// server prints `ARRAY[('a'::character varying)::text, …]`, the same check in
/// another text. Without the explicit cast the server coerces the array itself,
/// as it did for the IN list, so a pulled CHECK or predicate prints back exactly.
/// Only string literals cast to varchar are touched: their array coerces to
/// text[] implicitly, so the meaning is the same.
fn varchar_in_lists_as_parsed(expression: &str) -> String {
    // As `pg_get_constraintdef` prints it, and as `pg_get_expr(…, true)` does.
    let once = without_array_cast(expression, "ANY ((ARRAY[", "])::text[])");
    without_array_cast(&once, "ANY (ARRAY[", "]::text[])")
}

/// `expression` with every `<OPEN>varchar literals<CLOSE>` written
/// `ANY (ARRAY[varchar literals])`.
fn without_array_cast(expression: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = expression;
    while let Some(at) = rest.find(open) {
        let elements_start = at + open.len();
        let Some(elements_len) = varchar_literals(&rest[elements_start..]) else {
            out.push_str(&rest[..elements_start]);
            rest = &rest[elements_start..];
            continue;
        };
        let after = elements_start + elements_len;
        if !rest[after..].starts_with(close) {
            out.push_str(&rest[..elements_start]);
            rest = &rest[elements_start..];
            continue;
        }
        out.push_str(&rest[..at]);
        out.push_str("ANY (ARRAY[");
        out.push_str(&rest[elements_start..after]);
        out.push_str("])");
        rest = &rest[after + close.len()..];
    }
    out.push_str(rest);
    out
}

/// The length of a list `'…'::character varying, '…'::character varying` at the
/// start of `text`, up to (not including) the `]` after it; `None` when `text`
/// does not start with such a list.
fn varchar_literals(text: &str) -> Option<usize> {
    const CAST: &str = "::character varying";
    let mut position = 0;
    loop {
        let rest = &text[position..];
        if !rest.starts_with('\'') {
            return None;
        }
        // The literal's end: a quote not followed by another ('' is a quote).
        let mut end = 1;
        loop {
            let quote = rest[end..].find('\'')? + end;
            if rest[quote + 1..].starts_with('\'') {
                end = quote + 2;
            } else {
                end = quote + 1;
                break;
            }
        }
        if !rest[end..].starts_with(CAST) {
            return None;
        }
        position += end + CAST.len();
        if text[position..].starts_with(']') {
            return Some(position);
        }
        if !text[position..].starts_with(", ") {
            return None;
        }
        position += 2;
    }
}

/// Whether every `)` in `text` closes a `(` before it (quotes aside).
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
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
/// The model's type for a column: a portable type when `format_type` spells
/// one, an enum of this schema by name, any other type (built-in, extension,
/// arrays of those) as PostgreSQL spells it; a domain `read_domains` holds is
/// `Type::Domain` (settled by the caller); any other domain, a composite type,
/// an enum of another schema or an array of one of those stays custom (named
/// by `pull` and left out).
fn column_type(
    formatted: &str,
    typtype: String,
    typname: String,
    same_schema: bool,
    element_typtype: String,
) -> Type {
    // An enum named like a portable type (`json`) cannot be told from it in
    // schema.toml: left custom, so `pull` names it.
    if typtype == "e" && same_schema && Type::parse_portable(&typname).is_none() {
        return Type::Enum(typname);
    }
    if matches!(typtype.as_str(), "d" | "c" | "e")
        || matches!(element_typtype.as_str(), "d" | "c" | "e")
    {
        return Type::Custom(formatted.to_string());
    }
    match portable_type(formatted) {
        Type::Custom(spelling) if crate::schema::type_spelling_problem(&spelling).is_none() => {
            Type::native("postgres", &spelling)
        }
        ty => ty,
    }
}

/// An array of one of the schema's enums or domains that schema.toml holds
/// (`mood[]`): PostgreSQL's own spelling, `type = { postgres = "mood[]" }`,
/// when the element's name needs no quotes. The enum or domain is created
/// before the tables, so the spelling is all the column needs.
fn modelled_array(
    formatted: &str,
    same_schema: bool,
    element_typtype: String,
    domains: &[crate::schema::DomainType],
) -> Option<Type> {
    let element = formatted.trim_end_matches("[]");
    let plain = element
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && element.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
    let modelled = match element_typtype.as_str() {
        // Enums named like a portable type are left to `pull` to name.
        "e" => Type::parse_portable(element).is_none(),
        "d" => domains.iter().any(|domain| domain.name == element),
        _ => false,
    };
    (same_schema && element != formatted && plain && modelled)
        .then(|| Type::native("postgres", formatted))
}

/// Every enum type of the current schema with its values in order, in one query.
fn read_enums(client: &mut Client) -> Result<Vec<crate::schema::EnumType>, postgres::Error> {
    let rows = client.query(
        &format!(
            "SELECT t.typname::text, l.enumlabel::text \
             FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             JOIN pg_enum l ON l.enumtypid = t.oid \
             WHERE n.nspname = current_schema() AND {} \
             ORDER BY t.typname, l.enumsortorder",
            super::objects::not_extension_member("pg_type", "t.oid")
        ),
        &[],
    )?;
    let mut enums: Vec<crate::schema::EnumType> = Vec::new();
    for row in &rows {
        let name: String = row.get(0);
        if Type::parse_portable(&name).is_some() {
            continue;
        }
        match enums.last_mut() {
            Some(last) if last.name == name => last.values.push(row.get(1)),
            _ => enums.push(crate::schema::EnumType {
                name,
                values: vec![row.get(1)],
            }),
        }
    }
    Ok(enums)
}

/// Every domain of the current schema the model can hold (over a portable,
/// built-in or extension type, or an enum of this schema; not named like a
/// portable type; no collation of its own), with its NOT NULL, default and checks, in one query.
fn read_domains(client: &mut Client) -> Result<Vec<crate::schema::DomainType>, postgres::Error> {
    let rows = client.query(
        &format!("SELECT t.typname::text, format_type(t.typbasetype, t.typtypmod), t.typnotnull, t.typdefault, \
                b.typtype::text, b.typname::text, b.typnamespace = t.typnamespace, \
                COALESCE((SELECT e.typtype::text FROM pg_type e WHERE e.oid = b.typelem AND b.typcategory = 'A'), ''), \
                c.conname::text, pg_get_constraintdef(c.oid), t.typcollation <> b.typcollation \
         FROM pg_type t \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_type b ON b.oid = t.typbasetype \
         LEFT JOIN pg_constraint c ON c.contypid = t.oid AND c.contype = 'c' \
         WHERE n.nspname = current_schema() AND t.typtype = 'd' AND {} \
         ORDER BY t.typname, c.conname",
            super::objects::not_extension_member("pg_type", "t.oid")
        ),
        &[],
    )?;
    let mut domains: Vec<crate::schema::DomainType> = Vec::new();
    for row in &rows {
        let name: String = row.get(0);
        if domains.last().is_none_or(|last| last.name != name) {
            let base_typtype: String = row.get(4);
            let base_name: String = row.get(5);
            let base = column_type(row.get(1), base_typtype, base_name, row.get(6), row.get(7));
            // A domain with its own collation is left out (and named): the
            // model has no place for it.
            if matches!(base, Type::Custom(_))
                || Type::parse_portable(&name).is_some()
                || row.get::<_, bool>(10)
            {
                continue;
            }
            let default = row
                .get::<_, Option<String>>(3)
                .map(|text| parse_default(&text, &base));
            domains.push(crate::schema::DomainType {
                name: name.clone(),
                base,
                nullable: !row.get::<_, bool>(2),
                default,
                checks: Vec::new(),
            });
        }
        let (Some(domain), Some(check_name)) =
            (domains.last_mut(), row.get::<_, Option<String>>(8))
        else {
            continue;
        };
        if domain.name == name {
            domain.checks.push(Check {
                name: check_name,
                expression: check_expression(&row.get::<_, String>(9)),
            });
        }
    }
    Ok(domains)
}

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

/// `lower(code), (a + b)` (`pg_get_expr` of an index's expression list) → its
/// expressions: split at the commas outside parentheses, brackets and quotes.
fn split_top_level(list: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in list.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(list[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !list.trim().is_empty() {
        parts.push(list[start..].trim().to_string());
    }
    parts
}

/// `(amount + 1)` → `amount + 1`: `pg_get_indexdef` puts an expression that is
/// not a function call in parentheses, which CREATE INDEX adds back.
fn without_outer_parentheses(definition: &str) -> String {
    let text = definition.trim();
    if text.starts_with('(') && text.ends_with(')') {
        let mut depth = 0;
        let mut quote: Option<char> = None;
        for (i, c) in text.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 && i + 1 < text.len() {
                        return text.to_string();
                    }
                }
                _ => {}
            }
        }
        return text[1..text.len() - 1].to_string();
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varchar_in_lists_lose_only_their_explicit_array_cast() {
        assert_eq!(
            check_expression("CHECK (((status)::text = ANY ((ARRAY['new'::character varying, 'it''s'::character varying])::text[])))"),
            "(status)::text = ANY (ARRAY['new'::character varying, 'it''s'::character varying])"
        );
        assert_eq!(
            varchar_in_lists_as_parsed(
                "status::text = ANY (ARRAY['new'::character varying, 'sent'::character varying]::text[])"
            ),
            "status::text = ANY (ARRAY['new'::character varying, 'sent'::character varying])"
        );
        // Anything else keeps its cast: integers, a mixed list, another type.
        for kept in [
            "a = ANY ((ARRAY[1, 2])::text[])",
            "(s)::text = ANY ((ARRAY['a'::character varying, 'b'::text])::text[])",
            "(s)::text = ANY ((ARRAY['a'::character varying])::name[])",
            "x = ANY ((ARRAY['unterminated::character varying",
        ] {
            assert_eq!(varchar_in_lists_as_parsed(kept), kept);
        }
    }

    #[test]
    fn check_expressions_lose_the_outer_parentheses_only() {
        assert_eq!(
            check_expression("CHECK ((price > (0)::numeric))"),
            "price > (0)::numeric"
        );
        assert_eq!(
            check_expression("CHECK ((a > 0) AND (b > 0))"),
            "(a > 0) AND (b > 0)"
        );
        assert_eq!(check_expression("CHECK ((a > 0)) NOT VALID"), "a > 0");
    }

    #[test]
    fn index_expression_lists_split_at_top_level_commas_only() {
        assert_eq!(
            split_top_level(
                "lower((label)::text), COALESCE(note, 'a, b'::character varying), (value + 1)"
            ),
            [
                "lower((label)::text)",
                "COALESCE(note, 'a, b'::character varying)",
                "(value + 1)"
            ]
        );
        assert_eq!(
            split_top_level("ARRAY[value, 1], replace(label, ''',', ','), \"a,b\""),
            ["ARRAY[value, 1]", "replace(label, ''',', ',')", "\"a,b\""]
        );
        assert!(split_top_level("").is_empty());
    }

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
