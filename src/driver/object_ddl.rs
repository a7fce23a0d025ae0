//! CREATE and DROP statements of views, materialized views, functions, triggers
//! and extensions, for the planners. A view's text is its query; a function's and
//! a trigger's the whole CREATE statement, written as declared. On PostgreSQL the
//! object gets a `strata:` comment, the fingerprint of that text, since the
//! server prints the object back in its own form (see `schema::objects`).

use super::{quote_identifier as q, quote_literal, Reverse, Step, Unsupported};
use crate::schema::{fingerprint, Change, ObjectKind, SqlObject};

const POSTGRES: &str = "postgres";

/// `text` as one statement ending in `;`.
fn statement(text: &str) -> String {
    let text = text.trim();
    format!("{};", text.strip_suffix(';').unwrap_or(text).trim_end())
}

/// The statements that create `object` in `dialect`, from `text` (its declared
/// text, or the text inspected when a down file re-creates a dropped object),
/// followed on PostgreSQL by the comment holding `mark` (a fingerprint).
fn create(object: &SqlObject, dialect: &str, text: &str, mark: Option<&str>) -> String {
    let name = q(&object.name);
    let mut sql = match object.kind {
        ObjectKind::Extension => format!("CREATE EXTENSION IF NOT EXISTS {name};"),
        ObjectKind::View => statement(&format!("CREATE VIEW {name} AS\n{}", text.trim())),
        ObjectKind::MaterializedView => statement(&format!(
            "CREATE MATERIALIZED VIEW {name} AS\n{}",
            text.trim()
        )),
        ObjectKind::Function | ObjectKind::Trigger => statement(text),
    };
    if let (POSTGRES, Some(mark)) = (dialect, mark) {
        let target = match object.kind {
            ObjectKind::Extension => return sql,
            ObjectKind::Function => format!("ROUTINE {name}"),
            ObjectKind::View => format!("VIEW {name}"),
            ObjectKind::MaterializedView => format!("MATERIALIZED VIEW {name}"),
            ObjectKind::Trigger => format!(
                "TRIGGER {name} ON {}",
                q(object.table.as_deref().unwrap_or_default())
            ),
        };
        sql.push_str(&format!(
            "\nCOMMENT ON {target} IS {};",
            quote_literal(mark)
        ));
    }
    sql
}

/// The statement that drops `object` in `dialect`.
fn drop(object: &SqlObject, dialect: &str) -> String {
    let name = q(&object.name);
    match object.kind {
        ObjectKind::Extension => format!("DROP EXTENSION {name};"),
        ObjectKind::Function => {
            format!("DROP ROUTINE {};", object.identity.clone().unwrap_or(name))
        }
        ObjectKind::View => format!("DROP VIEW {name};"),
        ObjectKind::MaterializedView => format!("DROP MATERIALIZED VIEW {name};"),
        ObjectKind::Trigger if dialect == POSTGRES => format!(
            "DROP TRIGGER {name} ON {};",
            q(object.table.as_deref().unwrap_or_default())
        ),
        ObjectKind::Trigger => format!("DROP TRIGGER {name};"),
    }
}

/// The step of a `CreateObject` or `DropObject` change; `None` for other changes.
pub fn step(change: &Change, dialect: &str) -> Option<Result<Step, Unsupported>> {
    let (object, creating) = match change {
        Change::CreateObject(object) => (object, true),
        Change::DropObject(object) => (object, false),
        _ => return None,
    };
    let text = object.text_for(dialect);
    let step = match (creating, text) {
        (true, Some(text)) => {
            let mark = fingerprint(text);
            Step::new(
                create(object, dialect, text, Some(&mark)),
                change.to_string(),
                Reverse::Sql(drop(object, dialect)),
            )
        }
        (true, None) => {
            return Some(Err(Unsupported {
                change: change.to_string(),
                reason: format!(
                    "schema.toml gives no {dialect} text for it: add `sql.{dialect} = \"…\"`"
                ),
            }))
        }
        (false, text) => Step::new(
            drop(object, dialect),
            change.to_string(),
            match text {
                Some(text) => {
                    Reverse::Sql(create(object, dialect, text, object.fingerprint.as_deref()))
                }
                None => Reverse::Irreversible(format!(
                    "the {dialect} text of {} {} is not known here",
                    object.kind,
                    crate::text::printable(&object.name)
                )),
            },
        ),
    };
    Some(Ok(step))
}
