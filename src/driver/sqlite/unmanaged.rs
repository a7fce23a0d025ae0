//! The objects of a SQLite database that strata's model leaves out, named for
//! `pull` and `baseline`: what only
//! the text of a CREATE TABLE says (CHECK, AUTOINCREMENT, DEFERRABLE, COLLATE,
//! ON CONFLICT, WITHOUT ROWID, STRICT), in one query.

use rusqlite::Connection;

use crate::schema::Unmanaged;

pub fn find(connection: &Connection, found: &mut Vec<Unmanaged>) -> rusqlite::Result<()> {
    let mut statement = connection.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema \
         WHERE type = 'table' AND sql IS NOT NULL \
           AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
           AND name NOT IN ('refinery_schema_history', 'strata_patch_history') \
         ORDER BY rowid",
    )?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        // Views and triggers are schema.toml objects now (see `objects`).
        let name: String = row.get(1)?;
        let sql: String = row.get(3)?;
        table_clauses(&name, &sql, found);
    }
    Ok(())
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The clauses of `CREATE TABLE` text the model has no place for.
fn table_clauses(table: &str, sql: &str, found: &mut Vec<Unmanaged>) {
    let tokens = tokens(sql);
    let word = |i: usize| tokens.get(i).map(|t| t.text.to_uppercase());
    let mut depth = 0;
    let mut closed = false;
    for (i, token) in tokens.iter().enumerate() {
        match token.text {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                closed |= depth == 0;
            }
            _ => {}
        }
        let upper = token.text.to_uppercase();
        match upper.as_str() {
            "CHECK" if word(i + 1).as_deref() == Some("(") => {
                let end = matching(&tokens, i + 1);
                let expression = &sql[token.start..tokens[end].end];
                let named = (i >= 2 && word(i - 2).as_deref() == Some("CONSTRAINT"))
                    .then(|| unquote(tokens[i - 1].text));
                match named {
                    Some(name) => found.push(Unmanaged::new(
                        "check constraint",
                        format!("{table}.{name}"),
                        one_line(expression),
                    )),
                    None => found.push(Unmanaged::new(
                        "check constraint of table",
                        table,
                        one_line(expression),
                    )),
                }
            }
            "AUTOINCREMENT" => found.push(Unmanaged::new(
                "AUTOINCREMENT of table",
                table,
                "schema.toml declares INTEGER PRIMARY KEY, which may reuse the ids of deleted rows",
            )),
            "DEFERRABLE" if i == 0 || word(i - 1).as_deref() != Some("NOT") => {
                found.push(Unmanaged::new(
                    "deferrable foreign key of table",
                    table,
                    "schema.toml declares it not deferrable",
                ))
            }
            "COLLATE" => found.push(Unmanaged::new(
                "collation in table",
                table,
                format!(
                    "COLLATE {}; schema.toml declares the default collation",
                    tokens.get(i + 1).map_or("", |t| t.text)
                ),
            )),
            "CONFLICT" if i > 0 && word(i - 1).as_deref() == Some("ON") => {
                found.push(Unmanaged::new(
                    "conflict clause in table",
                    table,
                    format!("ON CONFLICT {}", tokens.get(i + 1).map_or("", |t| t.text)),
                ))
            }
            "ROWID" if closed && i > 0 && word(i - 1).as_deref() == Some("WITHOUT") => {
                found.push(Unmanaged::new("WITHOUT ROWID table", table, ""))
            }
            "STRICT" if closed => found.push(Unmanaged::new("STRICT table", table, "")),
            _ => {}
        }
    }
}

/// The index of the `)` that closes the `(` at `open`, or the last token.
fn matching(tokens: &[Token<'_>], open: usize) -> usize {
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token.text {
            "(" => depth += 1,
            ")" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    tokens.len() - 1
}

fn unquote(name: &str) -> String {
    let quoted = ['"', '`', '[']
        .iter()
        .any(|q| name.starts_with(*q))
        .then(|| &name[1..name.len() - 1]);
    quoted.unwrap_or(name).to_string()
}

struct Token<'a> {
    text: &'a str,
    start: usize,
    end: usize,
}

/// SQL words, quoted names and punctuation, without comments and string literals
/// (a `CHECK` inside a default's text is not a clause).
fn tokens(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n);
            continue;
        }
        if sql[i..].starts_with("/*") {
            i = sql[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |n| i + 2 + n + 2);
            continue;
        }
        let close = match c {
            b'\'' => Some(b'\''),
            b'"' => Some(b'"'),
            b'`' => Some(b'`'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            i += 1;
            while i < bytes.len() {
                if bytes[i] == close {
                    // A doubled quote is the quote itself.
                    if close != b']' && bytes.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(bytes.len());
            if c != b'\'' {
                tokens.push(Token {
                    text: &sql[start..i],
                    start,
                    end: i,
                });
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
            {
                i += 1;
            }
        } else {
            i += 1;
        }
        tokens.push(Token {
            text: &sql[start..i],
            start,
            end: i,
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clauses(sql: &str) -> Vec<String> {
        let mut found = Vec::new();
        table_clauses("t", sql, &mut found);
        found.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn clauses_are_found_outside_strings_and_comments() {
        assert_eq!(
            clauses(
                "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 note TEXT DEFAULT 'CHECK (x)' COLLATE NOCASE, -- CHECK (y)\n\
                 qty INT CONSTRAINT \"positive\" CHECK (qty > (0)), CHECK (qty < 10)) STRICT"
            ),
            [
                "AUTOINCREMENT of table `t`: schema.toml declares INTEGER PRIMARY KEY, which may reuse the ids of deleted rows",
                "collation in table `t`: COLLATE NOCASE; schema.toml declares the default collation",
                "check constraint `t.positive`: CHECK (qty > (0))",
                "check constraint of table `t`: CHECK (qty < 10)",
                "STRICT table `t`",
            ]
        );
        assert!(
            clauses("CREATE TABLE t (a INTEGER REFERENCES b DEFERRABLE INITIALLY DEFERRED)")
                .iter()
                .any(|line| line.starts_with("deferrable"))
        );
        assert!(clauses("CREATE TABLE t (a INTEGER REFERENCES b NOT DEFERRABLE)").is_empty());
    }
}
