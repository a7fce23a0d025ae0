//! Views and triggers of a SQLite database, read from sqlite_schema in one
//! query. SQLite keeps the text of each CREATE statement as it was written, so a
//! view's query and a trigger's statement come back as strata wrote them.

use rusqlite::Connection;

use crate::schema::{ObjectKind, SqlObject, Unmanaged};

pub fn read(
    connection: &Connection,
    found: &mut Vec<Unmanaged>,
) -> rusqlite::Result<Vec<SqlObject>> {
    let mut statement = connection.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema \
         WHERE type IN ('view', 'trigger') AND sql IS NOT NULL \
         ORDER BY CASE type WHEN 'view' THEN 0 ELSE 1 END, rowid",
    )?;
    let mut rows = statement.query([])?;
    let mut objects = Vec::new();
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let name: String = row.get(1)?;
        let table: String = row.get(2)?;
        let sql: String = row.get(3)?;
        if kind == "view" {
            match view_query(&sql) {
                Some(query) => {
                    let mut view = SqlObject::new(ObjectKind::View, name);
                    view.per_dialect.insert("sqlite".into(), query.to_string());
                    objects.push(view);
                }
                None => found.push(Unmanaged::new(
                    "view",
                    name,
                    format!(
                        "{}; schema.toml declares a view by its query alone (no column list)",
                        sql.split_whitespace().collect::<Vec<_>>().join(" ")
                    ),
                )),
            }
        } else {
            let mut trigger = SqlObject::new(ObjectKind::Trigger, name);
            trigger.table = Some(table);
            trigger.per_dialect.insert("sqlite".into(), sql);
            objects.push(trigger);
        }
    }
    Ok(objects)
}

/// The query of `CREATE [TEMP] VIEW [IF NOT EXISTS] name AS query`; `None` when
/// the view has a column list (`name (a, b) AS …`) or the text is not that shape.
pub fn view_query(sql: &str) -> Option<&str> {
    let mut rest = sql.trim_start();
    rest = keyword(rest, "CREATE")?;
    for optional in ["TEMPORARY", "TEMP"] {
        if let Some(after) = keyword(rest, optional) {
            rest = after;
        }
    }
    rest = keyword(rest, "VIEW")?;
    if let Some(after) = keyword(rest, "IF") {
        rest = keyword(keyword(after, "NOT")?, "EXISTS")?;
    }
    rest = identifier(rest)?;
    if let Some(after) = rest.trim_start().strip_prefix('.') {
        rest = identifier(after)?;
    }
    let query = keyword(rest, "AS")?;
    Some(query.trim())
}

/// `text` after the keyword `word` (letter case ignored) and the spaces before it.
fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..word.len())?;
    let after = &text[word.len()..];
    let boundary = after
        .chars()
        .next()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (head.eq_ignore_ascii_case(word) && boundary).then_some(after)
}

/// `text` after one identifier: `"quoted"`, `` `quoted` ``, `[quoted]` or bare.
fn identifier(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let mut chars = text.char_indices();
    let (_, first) = chars.next()?;
    let close = match first {
        '"' => '"',
        '`' => '`',
        '[' => ']',
        _ => {
            let end = text
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .unwrap_or(text.len());
            return (end > 0).then(|| &text[end..]);
        }
    };
    let mut index = 1;
    let bytes = text.as_bytes();
    while index < text.len() {
        if bytes[index] == close as u8 {
            // A doubled closing quote is a quote inside the name.
            if close != ']' && bytes.get(index + 1) == Some(&(close as u8)) {
                index += 2;
                continue;
            }
            return Some(&text[index + 1..]);
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::view_query;

    #[test]
    fn the_query_of_a_view_is_what_follows_as() {
        assert_eq!(
            view_query("CREATE VIEW \"hero names\" AS SELECT 1"),
            Some("SELECT 1")
        );
        assert_eq!(
            view_query("CREATE VIEW main.v AS\n  SELECT a AS b FROM t"),
            Some("SELECT a AS b FROM t")
        );
        assert_eq!(view_query("CREATE VIEW v(a) AS SELECT 1"), None);
    }
}
