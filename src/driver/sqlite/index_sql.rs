//! The parts of a `CREATE INDEX` text that SQLite's pragmas do not give back:
//! the text of each key (an expression's SQL) and the `WHERE` predicate.
//! sqlite_schema keeps the statement as it was written, so what strata wrote
//! comes back exactly.

/// The key texts (in order, without `ASC`/`DESC`/`COLLATE …` or the parentheses
/// around an expression) and the predicate of `sql`; `None` when the text is
/// not a CREATE INDEX this can read.
pub fn parse(sql: &str) -> Option<(Vec<String>, Option<String>)> {
    let open = top_level(sql, 0, |c| c == '(')?;
    let close = closing(sql, open)?;
    let inner = &sql[open + 1..close];
    let mut keys = Vec::new();
    let mut start = 0;
    while let Some(comma) = top_level(inner, start, |c| c == ',') {
        keys.push(key_text(&inner[start..comma]));
        start = comma + 1;
    }
    keys.push(key_text(&inner[start..]));
    let rest = &sql[close + 1..];
    let predicate = find_where(rest).map(|at| {
        rest[at + 5..]
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string()
    });
    Some((keys, predicate))
}

/// A key without its trailing sort order and collation, and an expression
/// without the parentheses around it.
fn key_text(key: &str) -> String {
    let mut text = key.trim();
    loop {
        let upper = text.to_uppercase();
        if upper.ends_with(" ASC") || upper.ends_with(" DESC") {
            text = text[..text.rfind(' ').unwrap_or(0)].trim_end();
            continue;
        }
        // `… COLLATE name`: a word after the last top-level COLLATE.
        if let Some(at) = upper.rfind(" COLLATE ") {
            let after = text[at + 9..].trim();
            if !after.contains([' ', '(', ')']) {
                text = text[..at].trim_end();
                continue;
            }
        }
        break;
    }
    if text.starts_with('(') && closing(text, 0) == Some(text.len() - 1) {
        text = text[1..text.len() - 1].trim();
    }
    text.to_string()
}

/// The first position at or after `from` where `wanted` holds outside quotes
/// and parentheses (or, for `(`, outside quotes at depth 0).
fn top_level(text: &str, from: usize, wanted: impl Fn(char) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < from) {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => {
                if depth == 0 && wanted(c) {
                    return Some(i);
                }
                match c {
                    '\'' | '"' | '`' => quote = Some(c),
                    '[' => quote = Some(']'),
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
    None
}

/// The `)` closing the `(` at `open`.
fn closing(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '[' => quote = Some(']'),
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

/// Where the `WHERE` keyword starts in `text`, outside quotes.
fn find_where(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = top_level(text, from, |c| c == 'w' || c == 'W') {
        let word_end = at + 5;
        let is_where = text
            .get(at..word_end)
            .is_some_and(|word| word.eq_ignore_ascii_case("where"))
            && text[..at]
                .chars()
                .last()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_')
            && text[word_end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        if is_where {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn keys_and_predicate_come_back_as_written() {
        let (keys, predicate) = parse(
            "CREATE UNIQUE INDEX \"ix (a, b)\" ON \"user\" ((lower(\"name\")), \"age\" DESC, (a + b) COLLATE NOCASE ASC) WHERE deleted_at IS NULL AND note <> 'where'",
        )
        .unwrap();
        assert_eq!(keys, ["lower(\"name\")", "\"age\"", "a + b"]);
        assert_eq!(
            predicate.as_deref(),
            Some("deleted_at IS NULL AND note <> 'where'")
        );
        let (keys, predicate) = parse("create index i on t(a)").unwrap();
        assert_eq!(keys, ["a"]);
        assert_eq!(predicate, None);
    }
}
