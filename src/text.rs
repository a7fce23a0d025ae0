//! Small text helpers shared by every layer: suggestions and identifier checks.

/// PostgreSQL's limit on identifier length, in bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The closest candidate to `word`, if it is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lowered = word.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            (
                strsim::levenshtein(&lowered, &candidate.to_lowercase()),
                candidate,
            )
        })
        .filter(|(distance, candidate)| {
            *distance <= (candidate.chars().count().max(word.chars().count()) / 3).max(1)
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// ", did you mean `x`?" or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|hit| format!("; did you mean `{hit}`?"))
        .unwrap_or_default()
}

/// `1 thing` / `2 things` (`patches`: words ending in "ch" take "es").
pub fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        let ending = if word.ends_with("ch") { "es" } else { "s" };
        format!("{count} {word}{ending}")
    }
}

/// A list of names for a message: `a`, `b`, `c`.
pub fn backticked(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// 1-based line and column of a byte offset, columns counted in characters.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Characters that end a line or steer a terminal: every Unicode control character
/// (Cc: NUL, tab, line feed, carriage return, escape, NEL, …) and the Unicode line
/// and paragraph separators.
fn is_unprintable(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// `text` with every unprintable character written as an escape (`\n`, `\r`, `\t`,
/// `\0`, `\u{1b}`), so that a name can go into a `--` comment, a message or a log
/// line without ending the line or the comment: a line break in a name is what turns
/// a migration header into SQL. Other characters, backslash included, are kept as
/// they are, so applying it twice changes nothing.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => shown.push_str("\\n"),
            '\r' => shown.push_str("\\r"),
            '\t' => shown.push_str("\\t"),
            '\0' => shown.push_str("\\0"),
            c if is_unprintable(c) => shown.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => shown.push(c),
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// One line of an SQL `--` comment, ending in a line break. Every comment strata
/// writes into SQL goes through here, so no text in it can end the comment early.
pub fn sql_comment(text: &str) -> String {
    format!("-- {}\n", printable(text))
}

/// What is wrong with a name used as a SQL identifier, if anything.
pub fn identifier_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("a name cannot be empty".to_string())
    } else if let Some(c) = name.chars().find(|c| c.is_control()) {
        Some(format!(
            "`{}` contains the control character {}; names cannot contain line breaks, \
             tabs, NUL or other control characters",
            printable(name),
            printable(&c.to_string())
        ))
    } else if name.len() > MAX_IDENTIFIER_BYTES {
        Some(format!(
            "`{name}` is {} bytes long; PostgreSQL allows at most {MAX_IDENTIFIER_BYTES} bytes in a name",
            name.len()
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("idd", ["id", "name"]), Some("id"));
        assert_eq!(closest("strng", ["text", "string"]), Some("string"));
        assert_eq!(closest("zzzz", ["id", "name"]), None);
    }

    #[test]
    fn plural_counts_and_spells() {
        assert_eq!(plural(1, "migration"), "1 migration");
        assert_eq!(plural(0, "row"), "0 rows");
        assert_eq!(plural(2, "patch"), "2 patches");
    }

    #[test]
    fn printable_escapes_every_line_break_and_control_character() {
        assert_eq!(
            printable("audit\nDROP TABLE hero;\r\n--\t\0\u{1b}[2J\u{85}\u{2028}"),
            "audit\\nDROP TABLE hero;\\r\\n--\\t\\0\\u{1b}[2J\\u{85}\\u{2028}"
        );
        assert_eq!(printable("naïve \\n café"), "naïve \\n café");
        assert_eq!(printable(&printable("a\nb")), "a\\nb");
    }

    #[test]
    fn a_comment_is_one_line_whatever_it_is_given() {
        let comment = sql_comment("drop index ix\nDROP TABLE hero;\n-- on hero");
        assert_eq!(
            comment,
            "-- drop index ix\\nDROP TABLE hero;\\n-- on hero\n"
        );
        assert_eq!(comment.lines().count(), 1);
    }

    #[test]
    fn names_with_control_characters_are_refused() {
        let problem = identifier_problem("audit\nDROP TABLE hero;\n--").unwrap();
        assert!(
            problem.contains("`audit\\nDROP TABLE hero;\\n--` contains the control character \\n"),
            "{problem}"
        );
        assert!(identifier_problem("a\0b").unwrap().contains("\\0"));
        assert!(identifier_problem("tab\there").is_some());
        assert_eq!(identifier_problem("naïve café"), None);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}
