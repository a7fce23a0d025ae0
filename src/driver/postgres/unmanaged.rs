//! The objects of a PostgreSQL schema that strata's model leaves out (rules,
//! aggregates, types, …), named for `pull` and `baseline`: one catalog
//! query per kind of object, for the whole schema. Objects that belong to an
//! extension are the extension's, and named once as the extension.

use postgres::Client;

use super::ahead::{self, Ahead};
use super::inspect::{ClassComments, AHEAD_RELATIONS};
use super::objects::not_extension_member;

use crate::schema::{Schema, Unmanaged};

const INTERNAL: &str = "('refinery_schema_history', 'strata_patch_history')";

/// Sequences, foreign and partitioned tables, partitions and inheriting tables
/// of the current schema, in one query.
pub fn relations_sql() -> String {
    format!(
            "SELECT c.relname::text, c.relkind::text, c.relispartition, \
                    (SELECT string_agg(p.relname::text, ', ' ORDER BY p.relname) FROM pg_inherits i \
                     JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid), \
                    CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END, \
                    owner.name, \
                    s.seqstart, s.seqincrement, \
                    (s.seqcycle \
                     OR s.seqmin <> CASE WHEN s.seqincrement > 0 THEN 1 \
                                    ELSE CASE s.seqtypid WHEN 'int2'::regtype THEN -32768 \
                                         WHEN 'int4'::regtype THEN -2147483648 ELSE -9223372036854775808 END END \
                     OR s.seqmax <> CASE WHEN s.seqincrement < 0 THEN -1 \
                                    ELSE CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 \
                                         WHEN 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END END), \
                    CASE WHEN owner.type <> s.seqtypid \
                         THEN format_type(s.seqtypid, NULL) || '|' || format_type(owner.type, NULL) END \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_sequence s ON s.seqrelid = c.oid \
             LEFT JOIN LATERAL (SELECT t.relname::text || '.' || a.attname::text AS name, a.atttypid AS type \
                                FROM pg_depend d \
                                JOIN pg_class t ON t.oid = d.refobjid \
                                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
                                WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') \
                                LIMIT 1) owner ON true \
             WHERE n.nspname = current_schema() AND c.relname NOT IN {INTERNAL} \
               AND (c.relkind IN ('S', 'f', 'p') OR c.relispartition \
                    OR c.oid IN (SELECT i.inhrelid FROM pg_inherits i)) \
               AND {} \
             ORDER BY c.relname",
            not_extension_member("pg_class", "c.oid")
        )
}

/// Adds every object of the current schema the model does not hold to `found`;
/// partitioned tables, partitions and inheriting tables are also taken out of
/// `schema` (a plain table in their place would hold other rows).
pub fn find(
    client: &mut Client,
    ahead: &mut Ahead,
    schema: &mut Schema,
    class_comments: &ClassComments,
    found: &mut Vec<Unmanaged>,
) -> Result<(), postgres::Error> {
    let relations = ahead::query(client, ahead, AHEAD_RELATIONS, &relations_sql())?;
    let mut left_out = Vec::new();
    for row in &relations {
        let name: String = row.get(0);
        let parents: Option<String> = row.get(3);
        let owner: Option<String> = row.get(5);
        let entry = match row.get::<_, String>(1).as_str() {
            "f" => Unmanaged::new("foreign table", &name, ""),
            "S" => match owner {
                None => Unmanaged::new("sequence", &name, "owned by no column"),
                // An owned sequence strata creates itself (SERIAL or identity,
                // with its start and increment), unless its range or cycling
                // differs from the default.
                Some(owner) if row.get::<_, bool>(8) => Unmanaged::new(
                    "sequence",
                    &name,
                    format!(
                        "of {owner}: a MINVALUE, MAXVALUE or CYCLE of its own; schema.toml declares the default range (start {} and increment {} are kept)",
                        row.get::<_, i64>(6),
                        row.get::<_, i64>(7)
                    ),
                ),
                // SERIAL and identity give the sequence its column's type; a
                // sequence created on its own (bigint) and then owned differs.
                Some(owner) if row.get::<_, Option<String>>(9).is_some() => Unmanaged::new(
                    "sequence",
                    &name,
                    format!(
                        "of {owner}: its type is {}, the column's {}; schema.toml gives a sequence its column's type (start {} and increment {} are kept)",
                        row.get::<_, String>(9).split_once('|').map_or("?", |t| t.0),
                        row.get::<_, String>(9).split_once('|').map_or("?", |t| t.1),
                        row.get::<_, i64>(6),
                        row.get::<_, i64>(7)
                    ),
                ),
                Some(_) => continue,
            },
            "p" => {
                left_out.push(name.clone());
                Unmanaged::new("partitioned table", &name, "left out")
            }
            _ if row.get::<_, bool>(2) => {
                left_out.push(name.clone());
                Unmanaged::new(
                    "partition",
                    &name,
                    format!("of {}; left out", parents.unwrap_or_default()),
                )
            }
            _ => {
                left_out.push(name.clone());
                Unmanaged::new(
                    "inheriting table",
                    &name,
                    format!("inherits from {}; left out", parents.unwrap_or_default()),
                )
            }
        };
        found.push(entry);
    }
    schema
        .tables
        .retain(|table| !left_out.contains(&table.name));

    let functions = client.query(
        &format!(
            "SELECT p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
                    p.prokind::text \
             FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = current_schema() AND p.prokind IN ('a', 'w') AND {} \
             ORDER BY 1",
            not_extension_member("pg_proc", "p.oid")
        ),
        &[],
    )?;
    for row in &functions {
        // Functions and procedures are schema.toml objects (see `objects`).
        let kind = match row.get::<_, String>(1).as_str() {
            "a" => "aggregate",
            _ => "window function",
        };
        found.push(Unmanaged::new(kind, row.get::<_, String>(0), ""));
    }

    let rules = client.query(
        "SELECT c.relname::text, r.rulename::text, pg_get_ruledef(r.oid) \
         FROM pg_rewrite r \
         JOIN pg_class c ON c.oid = r.ev_class \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND r.rulename <> '_RETURN' \
         ORDER BY c.relname, r.rulename",
        &[],
    )?;
    for row in &rules {
        let definition: String = row.get(2);
        found.push(Unmanaged::new(
            "rule",
            format!("{}.{}", row.get::<_, String>(0), row.get::<_, String>(1)),
            definition.split_whitespace().collect::<Vec<_>>().join(" "),
        ));
    }

    let types = client.query(
        &format!(
            "SELECT t.typname::text, t.typtype::text, \
                    CASE t.typtype \
                      WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) \
                                     FROM pg_enum e WHERE e.enumtypid = t.oid) \
                      WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) END \
             FROM pg_type t \
             JOIN pg_namespace n ON n.oid = t.typnamespace \
             LEFT JOIN pg_class r ON r.oid = t.typrelid \
             WHERE n.nspname = current_schema() \
               AND (t.typtype IN ('e', 'd', 'r') OR r.relkind = 'c') \
               AND {} \
             ORDER BY t.typname",
            not_extension_member("pg_type", "t.oid")
        ),
        &[],
    )?;
    for row in &types {
        let detail: Option<String> = row.get(2);
        let name: String = row.get(0);
        let (kind, detail) = match row.get::<_, String>(1).as_str() {
            // Enums are `[enum.NAME]`, but for one named like a portable type.
            "e" if crate::schema::Type::parse_portable(&name).is_none() => continue,
            "e" => (
                "enum type",
                format!(
                    "({}); named like the portable type, which schema.toml would take it for",
                    detail.unwrap_or_default()
                ),
            ),
            // Domains are `[domain.NAME]`, but for those the model cannot hold
            // (over a composite type, a domain, an array of one; named like a
            // portable type).
            "d" if schema.domain(&name).is_some() => continue,
            "d" => ("domain", format!("over {}", detail.unwrap_or_default())),
            "r" => ("range type", String::new()),
            _ => ("composite type", String::new()),
        };
        found.push(Unmanaged::new(kind, name, detail));
    }

    // Not the comments of the tables the schema holds (those it keeps, and those
    // of columns it read too, it can have no other): only the comments on other
    // relations, found among those `inspect` read, are looked up by name.
    // Selecting them on the server was a tenth of pull's server time on a
    // 1,000-table schema.
    let managed: std::collections::HashSet<u32> = schema
        .tables
        .iter()
        .filter_map(|table| class_comments.table_oids.get(&table.name).copied())
        .collect();
    let mut others: Vec<u32> = class_comments
        .rows
        .iter()
        .filter(|(oid, _, text)| !managed.contains(oid) && !text.starts_with("strata:"))
        .map(|(oid, _, _)| *oid)
        .collect();
    others.sort_unstable();
    others.dedup();
    let comments = if others.is_empty() {
        Vec::new()
    } else {
        client.query(
            &format!(
                "SELECT c.relname::text, a.attname::text, d.description \
                 FROM pg_description d \
                 JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 \
                 WHERE d.objoid = ANY($1) AND n.nspname = current_schema() AND c.relname NOT IN {INTERNAL} \
                   AND d.description NOT LIKE 'strata:%' \
                 ORDER BY c.relname, d.objsubid"
            ),
            &[&others],
        )?
    };
    for row in &comments {
        let table: String = row.get(0);
        // Comments of the tables and columns schema.toml holds are its own.
        let column: Option<String> = row.get(1);
        let managed = schema.table(&table).is_some_and(|t| {
            column
                .as_deref()
                .is_none_or(|column| t.column(column).is_some())
        });
        if managed {
            continue;
        }
        let entry = match column {
            Some(column) => Unmanaged::new(
                "comment",
                format!("{table}.{column}"),
                row.get::<_, String>(2),
            ),
            None => Unmanaged::new("comment", table, row.get::<_, String>(2)),
        };
        found.push(entry);
    }

    // Comments on anything else of the schema (types and domains, constraints,
    // functions, triggers, …): schema.toml holds only table and column comments,
    // and a `strata:` comment is strata's own fingerprint of an object.
    // User objects only (oid >= 16384, FirstNormalObjectId), so the catalog's
    // thousands of built-in descriptions are not looked up one by one.
    let other_comments = client.query(
        "SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description \
         FROM pg_description d \
         CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o \
         WHERE d.objoid >= 16384 AND d.classoid <> 'pg_class'::regclass \
           AND o.schema = current_schema() AND d.description NOT LIKE 'strata:%' \
           AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classoid \
                           AND e.objid = d.objoid AND e.deptype = 'e') \
         ORDER BY 1",
        &[],
    )?;
    for row in &other_comments {
        found.push(Unmanaged::new(
            "comment",
            format!("on {}", row.get::<_, String>(0)),
            row.get::<_, String>(1),
        ));
    }

    let policies = client.query(
        "SELECT c.relname::text, p.polname::text \
         FROM pg_policy p \
         JOIN pg_class c ON c.oid = p.polrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() \
         ORDER BY c.relname, p.polname",
        &[],
    )?;
    for row in &policies {
        found.push(Unmanaged::new(
            "row-level security policy",
            format!("{}.{}", row.get::<_, String>(0), row.get::<_, String>(1)),
            "",
        ));
    }

    // strata reads one schema (the connection's current_schema()).
    let schemas = client.query(
        &format!(
            "SELECT n.nspname::text FROM pg_namespace n \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
               AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
               AND n.nspname <> current_schema() AND {} \
               AND (EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid) \
                    OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid) \
                    OR EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid)) \
             ORDER BY n.nspname",
            not_extension_member("pg_namespace", "n.oid")
        ),
        &[],
    )?;
    for row in &schemas {
        found.push(Unmanaged::new(
            "schema",
            row.get::<_, String>(0),
            "strata reads only the current schema",
        ));
    }
    Ok(())
}
