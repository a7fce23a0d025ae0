//! Views, materialized views, functions and procedures, triggers and extensions
//! of the current schema, one catalog query per kind. Their text is what the
//! server prints back (`pg_get_viewdef`, `pg_get_functiondef`,
//! `pg_get_triggerdef`); a `strata:` comment on the object is the fingerprint of
//! the text strata created it from (see `schema::objects`). Objects that belong to
//! an extension are the extension's.

use postgres::Client;

use crate::schema::{ObjectKind, SqlObject, Unmanaged};

/// `NOT EXISTS` an extension owning the object `oid` of catalog `catalog`.
pub(super) fn not_extension_member(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass \
         AND e.objid = {oid} AND e.deptype = 'e')"
    )
}

/// The comment, when it is a strata fingerprint.
fn fingerprint(comment: Option<String>) -> Option<String> {
    comment.filter(|text| text.starts_with("strata:"))
}

fn text_of(kind: ObjectKind, name: String, sql: &str) -> SqlObject {
    let mut object = SqlObject::new(kind, name);
    let sql = sql.trim();
    let sql = sql.strip_suffix(';').unwrap_or(sql).trim_end();
    object
        .per_dialect
        .insert("postgres".into(), sql.to_string());
    object
}

pub fn read(
    client: &mut Client,
    found: &mut Vec<Unmanaged>,
) -> Result<Vec<SqlObject>, postgres::Error> {
    let mut objects = Vec::new();

    let extensions = client.query(
        "SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY oid",
        &[],
    )?;
    for row in &extensions {
        objects.push(SqlObject::new(
            ObjectKind::Extension,
            row.get::<_, String>(0),
        ));
    }

    let functions = client.query(
        &format!(
            "SELECT p.proname::text, p.oid::regprocedure::text, pg_get_functiondef(p.oid), \
                    obj_description(p.oid, 'pg_proc') \
             FROM pg_proc p \
             JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') AND {} \
             ORDER BY p.oid",
            not_extension_member("pg_proc", "p.oid")
        ),
        &[],
    )?;
    for row in &functions {
        let name: String = row.get(0);
        let identity: String = row.get(1);
        if objects
            .iter()
            .any(|o: &SqlObject| o.kind == ObjectKind::Function && o.name == name)
        {
            found.push(Unmanaged::new(
                "function",
                identity,
                "an overload of a function schema.toml already declares by that name",
            ));
            continue;
        }
        let mut function = text_of(ObjectKind::Function, name, &row.get::<_, String>(2));
        function.identity = Some(identity);
        function.fingerprint = fingerprint(row.get(3));
        objects.push(function);
    }

    let views = client.query(
        &format!(
            "SELECT c.relname::text, c.relkind::text, pg_get_viewdef(c.oid), \
                    obj_description(c.oid, 'pg_class'), array_to_string(c.reloptions, ', ') \
             FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') AND {} \
             ORDER BY c.oid",
            not_extension_member("pg_class", "c.oid")
        ),
        &[],
    )?;
    for row in &views {
        let name: String = row.get(0);
        let kind = match row.get::<_, String>(1).as_str() {
            "m" => ObjectKind::MaterializedView,
            _ => ObjectKind::View,
        };
        let definition: String = row.get(2);
        if let Some(options) = row.get::<_, Option<String>>(4) {
            found.push(Unmanaged::new(
                &kind.to_string(),
                name,
                format!(
                    "WITH ({options}); schema.toml declares a view by its query alone: {}",
                    definition.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
            ));
            continue;
        }
        let mut view = text_of(kind, name, &definition);
        view.fingerprint = fingerprint(row.get(3));
        objects.push(view);
    }

    let triggers = client.query(
        "SELECT c.relname::text, t.tgname::text, pg_get_triggerdef(t.oid), \
                obj_description(t.oid, 'pg_trigger') \
         FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT t.tgisinternal \
         ORDER BY t.oid",
        &[],
    )?;
    for row in &triggers {
        let mut trigger = text_of(ObjectKind::Trigger, row.get(1), &row.get::<_, String>(2));
        trigger.table = Some(row.get(0));
        trigger.fingerprint = fingerprint(row.get(3));
        objects.push(trigger);
    }
    Ok(objects)
}
