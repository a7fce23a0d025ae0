//! Comparing SQL expressions the way a server prints them back.
//!
//! PostgreSQL stores an index's expressions and predicate parsed, and
//! `pg_get_expr` prints them with parentheses around every operation, explicit
//! casts (`lower((name)::text)`, `'active'::text`) and its own spacing and
//! letter case. What a person writes in schema.toml (`lower(name)`, `status =
//! 'active'`) is the same index; comparing exact text would drop and re-create
//! it on every `generate`. [`same_expression`] compares the two after removing
//! what PostgreSQL adds: grouping parentheses, `::type` casts, spacing, the case
//! of unquoted words and quotes around plain lower-case names. It does not know
//! operator precedence, so `(a + b) * c` and `a + (b * c)` compare equal: a
//! change that only moves grouping parentheses needs a new index name.

/// True when `a` and `b` differ only in what PostgreSQL adds when printing.
pub fn same_expression(a: &str, b: &str) -> bool {
    a == b || normalize(a) == normalize(b)
}

/// `a`'s tokens without grouping parentheses and casts, joined by one space.
pub fn normalize(text: &str) -> String {
    let tokens = tokens(text);
    let mut out: Vec<String> = Vec::new();
    // For every open parenthesis: was it written out (a call's) or dropped?
    let mut kept: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        match token.as_str() {
            "(" => {
                let call = out.last().is_some_and(|previous| is_call_name(previous));
                kept.push(call);
                if call {
                    out.push(token.clone());
                }
            }
            ")" => {
                if kept.pop().unwrap_or(true) {
                    out.push(token.clone());
                }
            }
            "::" => {
                i = skip_type(&tokens, i + 1);
                continue;
            }
            "-" if tokens.get(i + 1).is_some_and(|next| is_number(next))
                && out
                    .last()
                    .is_none_or(|previous| !is_operand(previous) || previous == "(") =>
            {
                out.push(format!("-{}", tokens[i + 1]));
                i += 2;
                continue;
            }
            _ => out.push(token.clone()),
        }
        i += 1;
    }
    out.join(" ")
}

/// True when `text` names column `name` (a word, quoted or not): what an
/// expression index or a predicate needs to exist.
pub fn mentions(text: &str, name: &str) -> bool {
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    tokens(text).iter().any(|token| {
        token == name
            || *token == quoted
            || token.eq_ignore_ascii_case(name) && !token.starts_with(['"', '\''])
            || token.ends_with(&format!(".{}", name.to_lowercase()))
    })
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "is", "in", "any", "all", "some", "like", "ilike", "between", "case",
    "when", "then", "else", "end", "distinct", "from", "null", "true", "false", "as", "on",
];

/// Words that may follow the first word of a type name (`character varying`,
/// `timestamp with time zone`, `double precision`).
const TYPE_WORDS: &[&str] = &["varying", "precision", "with", "without", "time", "zone"];

fn is_word(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '"')
}

fn is_call_name(token: &str) -> bool {
    is_word(token) && !KEYWORDS.contains(&token)
}

fn is_number(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn is_operand(token: &str) -> bool {
    (is_word(token) && !KEYWORDS.contains(&token))
        || is_number(token)
        || token.starts_with('\'')
        || token == ")"
}

/// The position after the type name that starts at `start`.
fn skip_type(tokens: &[String], start: usize) -> usize {
    let mut i = start;
    if tokens.get(i).is_some_and(|token| is_word(token)) {
        i += 1;
        while tokens
            .get(i)
            .is_some_and(|token| TYPE_WORDS.contains(&token.as_str()))
        {
            i += 1;
        }
    }
    if tokens.get(i).is_some_and(|token| token == "(") {
        while tokens.get(i).is_some_and(|token| token != ")") {
            i += 1;
        }
        i += 1;
    }
    while tokens.get(i).is_some_and(|token| token == "[")
        && tokens.get(i + 1).is_some_and(|t| t == "]")
    {
        i += 2;
    }
    i
}

/// Words lower-cased (unless quoted), strings and quoted names kept whole, a
/// quoted plain lower-case name unquoted, a string holding a number read as the
/// number (PostgreSQL prints `-1` as `'-1'::integer`), operators grouped.
fn tokens(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let quoted: String = chars[start..i].iter().collect();
            let inner = quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or("");
            let plain_name = !inner.is_empty()
                && inner
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && inner
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            let number = !inner.is_empty()
                && inner.trim_start_matches('-').parse::<f64>().is_ok()
                && inner
                    .trim_start_matches('-')
                    .starts_with(|c: char| c.is_ascii_digit());
            let unquoted = (c == '"' && plain_name) || (c == '\'' && number);
            tokens.push(if unquoted { inner.to_string() } else { quoted });
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '$'
                    || chars[i] == '.')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            tokens.push(if c.is_ascii_digit() {
                word
            } else {
                word.to_lowercase()
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_string());
            i += 2;
        } else if "+-*/<>=~!@#%^&|?".contains(c) {
            let start = i;
            while i < chars.len() && "+*/<>=~!@#%^&|?".contains(chars[i]) || (i == start) {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::same_expression;

    #[test]
    fn what_postgresql_prints_back_is_the_same_expression() {
        for (written, printed) in [
            ("lower(name)", "lower((name)::text)"),
            ("deleted_at IS NULL", "(deleted_at IS NULL)"),
            ("status = 'active'", "((status)::text = 'active'::text)"),
            ("NOT archived", "(NOT archived)"),
            ("amount > -1", "(amount > '-1'::integer)"),
            ("lower(\"name\")", "lower(name)"),
            (
                "created_at > '2020-01-01'",
                "(created_at > '2020-01-01 00:00:00'::timestamp without time zone)",
            ),
            ("a > 0 AND (b < 5 OR c)", "((a > 0) AND ((b < 5) OR c))"),
            ("coalesce(x, 0)", "COALESCE(x, 0)"),
        ] {
            if written.contains("2020") {
                assert!(!same_expression(written, printed), "{written}");
            } else {
                assert!(same_expression(written, printed), "{written} vs {printed}");
            }
        }
    }

    #[test]
    fn columns_named_in_an_expression_are_found() {
        use super::mentions;
        assert!(mentions("lower((rating)::text)", "rating"));
        assert!(mentions("\"Rating\" IS NULL", "Rating"));
        assert!(!mentions("lower(title) = 'rating'", "rating"));
        assert!(!mentions("ratings > 0", "rating"));
    }

    #[test]
    fn different_expressions_differ() {
        assert!(!same_expression("lower(name)", "upper(name)"));
        assert!(!same_expression("status = 'active'", "status = 'Active'"));
        assert!(!same_expression("\"Name\" IS NULL", "name IS NULL"));
        assert!(!same_expression("a > 1", "a >= 1"));
    }
}
