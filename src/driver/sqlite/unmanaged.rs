//! The objects of a SQLite database that strata's model leaves out, named for
//! `pull` and `baseline`: what only the text of a CREATE TABLE says
//! (AUTOINCREMENT, DEFERRABLE, COLLATE, ON CONFLICT, WITHOUT ROWID, STRICT), in
//! one query. [`constraints`] reads the CHECKs and constraint names of that text
//! for inspection.

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
            "AUTOINCREMENT" => found.push(Unmanaged::new(
                "AUTOINCREMENT of table",
                table,
                "schema.toml declares INTEGER PRIMARY KEY, which may reuse the ids of deleted rows",
            )),
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

/// What a constraint clause of a CREATE TABLE holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// The expression between the parentheses, as written.
    Check(String),
    PrimaryKey(Vec<String>),
    Unique(Vec<String>),
    ForeignKey(Vec<String>, Deferral),
    /// A generated column's `[GENERATED ALWAYS] AS (…) [STORED | VIRTUAL]`:
    /// the expression as written, and whether it is STORED.
    Generated(String, bool),
}

/// A foreign key's `[NOT] DEFERRABLE [INITIALLY DEFERRED|IMMEDIATE]`, which
/// SQLite keeps only in the CREATE TABLE text (`pragma_foreign_key_list` has
/// no column for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deferral {
    pub deferrable: bool,
    pub initially_deferred: bool,
}

/// A constraint clause: its `CONSTRAINT name`, if any, and the column it is
/// written on (`None` for a table constraint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    pub name: Option<String>,
    pub column: Option<String>,
    pub kind: ConstraintKind,
}

/// The CHECK, PRIMARY KEY, UNIQUE and FOREIGN KEY / REFERENCES clauses of
/// `CREATE TABLE` text, in order.
pub fn constraints(sql: &str) -> Vec<Constraint> {
    let tokens = tokens(sql);
    let upper = |i: usize| tokens.get(i).map(|t| t.text.to_uppercase());
    let Some(open) = tokens.iter().position(|t| t.text == "(") else {
        return Vec::new();
    };
    let close = matching(&tokens, open);
    let mut found = Vec::new();
    let mut i = open + 1;
    // One top-level item (a column definition or a table constraint) at a time.
    while i < close {
        let mut end = i;
        let mut depth = 0;
        while end < close {
            match tokens[end].text {
                "(" => depth += 1,
                ")" => depth -= 1,
                "," if depth == 0 => break,
                _ => {}
            }
            end += 1;
        }
        let first = upper(i).unwrap_or_default();
        let column = (!["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .contains(&first.as_str()))
        .then(|| unquote(tokens[i].text));
        let mut name = None;
        let item_start = found.len();
        let mut j = i;
        let mut depth = 0;
        while j < end {
            let word = upper(j).unwrap_or_default();
            match tokens[j].text {
                "(" => depth += 1,
                ")" => depth -= 1,
                _ => {}
            }
            if depth > 0 && tokens[j].text != "(" {
                j += 1;
                continue;
            }
            let columns_at = |k: usize| -> (Vec<String>, usize) {
                if tokens.get(k).map(|t| t.text) != Some("(") {
                    return (column.iter().cloned().collect(), k);
                }
                let close = matching(&tokens, k);
                // `a COLLATE x DESC`: the first word of each entry is the column.
                let mut columns = Vec::new();
                let mut expect = true;
                for t in &tokens[k + 1..close] {
                    if t.text == "," {
                        expect = true;
                    } else if expect {
                        columns.push(unquote(t.text));
                        expect = false;
                    }
                }
                (columns, close + 1)
            };
            let kind = match word.as_str() {
                "CONSTRAINT" => {
                    name = tokens.get(j + 1).map(|t| unquote(t.text));
                    j += 2;
                    continue;
                }
                "CHECK" if upper(j + 1).as_deref() == Some("(") => {
                    let close = matching(&tokens, j + 1);
                    let expression = sql[tokens[j + 1].end..tokens[close].start]
                        .trim()
                        .to_string();
                    j = close + 1;
                    Some(ConstraintKind::Check(expression))
                }
                "PRIMARY" if upper(j + 1).as_deref() == Some("KEY") => {
                    let (columns, next) = columns_at(j + 2);
                    j = next;
                    Some(ConstraintKind::PrimaryKey(columns))
                }
                "UNIQUE" => {
                    let (columns, next) = columns_at(j + 1);
                    j = next;
                    Some(ConstraintKind::Unique(columns))
                }
                "FOREIGN" if upper(j + 1).as_deref() == Some("KEY") => {
                    let (columns, next) = columns_at(j + 2);
                    j = next;
                    Some(ConstraintKind::ForeignKey(columns, Deferral::default()))
                }
                "DEFERRABLE" => {
                    // Belongs to the foreign key just read in this item.
                    let not = j > i && upper(j - 1).as_deref() == Some("NOT");
                    let deferred = upper(j + 1).as_deref() == Some("INITIALLY")
                        && upper(j + 2).as_deref() == Some("DEFERRED");
                    if let Some(Constraint {
                        kind: ConstraintKind::ForeignKey(_, deferral),
                        ..
                    }) = found[item_start..].last_mut()
                    {
                        deferral.deferrable = !not;
                        deferral.initially_deferred = !not && deferred;
                    }
                    j += 1;
                    None
                }
                "AS" if column.is_some() && upper(j + 1).as_deref() == Some("(") => {
                    let close = matching(&tokens, j + 1);
                    let expression = sql[tokens[j + 1].end..tokens[close].start]
                        .trim()
                        .to_string();
                    let stored = upper(close + 1).as_deref() == Some("STORED");
                    j = close + 1;
                    Some(ConstraintKind::Generated(expression, stored))
                }
                "REFERENCES" if column.is_some() => {
                    j += 1;
                    Some(ConstraintKind::ForeignKey(
                        column.iter().cloned().collect(),
                        Deferral::default(),
                    ))
                }
                _ => {
                    j += 1;
                    None
                }
            };
            if let Some(kind) = kind {
                found.push(Constraint {
                    name: name.take(),
                    column: column.clone(),
                    kind,
                });
            }
        }
        i = end + 1;
    }
    found
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

/// A name as SQLite reads it: `"it's ""ok"""` is `it's "ok"` (a doubled quote
/// inside quotes is one), `[a b]` and `` `a` `` are `a b` and `a`.
fn unquote(name: &str) -> String {
    let Some(first) = name.chars().next() else {
        return String::new();
    };
    let inner = || &name[1..name.len().saturating_sub(1).max(1)];
    match first {
        '"' => inner().replace("\"\"", "\""),
        '`' => inner().replace("``", "`"),
        '[' => inner().to_string(),
        _ => name.to_string(),
    }
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

    #[test]
    fn quoted_names_are_read_as_sqlite_reads_them() {
        assert_eq!(unquote("\"it's \"\"ok\"\"\""), "it's \"ok\"");
        assert_eq!(unquote("`a``b`"), "a`b");
        assert_eq!(unquote("[a b]"), "a b");
        assert_eq!(unquote("plain"), "plain");
    }

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
                "STRICT table `t`",
            ]
        );
        // A deferrable foreign key is modelled (read by `constraints`).
        assert!(
            clauses("CREATE TABLE t (a INTEGER REFERENCES b DEFERRABLE INITIALLY DEFERRED)")
                .is_empty()
        );
    }

    #[test]
    fn foreign_keys_carry_their_deferral() {
        let deferral = |sql: &str| -> Vec<Deferral> {
            constraints(sql)
                .into_iter()
                .filter_map(|c| match c.kind {
                    ConstraintKind::ForeignKey(_, deferral) => Some(deferral),
                    _ => None,
                })
                .collect()
        };
        let (none, deferrable, deferred) = (
            Deferral::default(),
            Deferral {
                deferrable: true,
                initially_deferred: false,
            },
            Deferral {
                deferrable: true,
                initially_deferred: true,
            },
        );
        assert_eq!(
            deferral(
                "CREATE TABLE t (a INTEGER REFERENCES b DEFERRABLE INITIALLY DEFERRED, \
                 c INT REFERENCES d NOT DEFERRABLE, e INT, f INT, \
                 FOREIGN KEY (e, f) REFERENCES g (x, y) ON DELETE CASCADE DEFERRABLE INITIALLY IMMEDIATE, \
                 CONSTRAINT h FOREIGN KEY (f) REFERENCES i (z) deferrable)"
            ),
            [deferred, none, deferrable, deferrable]
        );
    }

    #[test]
    fn constraint_clauses_with_their_names_and_columns() {
        let found = constraints(
            "CREATE TABLE t (id INTEGER CONSTRAINT pk_t PRIMARY KEY, \
             qty INT CONSTRAINT \"positive\" CHECK (qty > (0)) REFERENCES u (id), \
             note TEXT DEFAULT 'CHECK (x)', \
             CHECK (qty < 10), CONSTRAINT uq UNIQUE (qty, note), \
             CONSTRAINT fk_t FOREIGN KEY (note) REFERENCES v (code))",
        );
        let column = |c: &str| Some(c.to_string());
        let strings = |items: &[&str]| items.iter().map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(
            found,
            [
                Constraint {
                    name: column("pk_t"),
                    column: column("id"),
                    kind: ConstraintKind::PrimaryKey(strings(&["id"]))
                },
                Constraint {
                    name: column("positive"),
                    column: column("qty"),
                    kind: ConstraintKind::Check("qty > (0)".into())
                },
                Constraint {
                    name: None,
                    column: column("qty"),
                    kind: ConstraintKind::ForeignKey(strings(&["qty"]), Deferral::default())
                },
                Constraint {
                    name: None,
                    column: None,
                    kind: ConstraintKind::Check("qty < 10".into())
                },
                Constraint {
                    name: column("uq"),
                    column: None,
                    kind: ConstraintKind::Unique(strings(&["qty", "note"]))
                },
                Constraint {
                    name: column("fk_t"),
                    column: None,
                    kind: ConstraintKind::ForeignKey(strings(&["note"]), Deferral::default())
                },
            ]
        );
    }
}
