//! No input may make the schema.toml parser panic, and every error it returns must
//! render. Three kinds of input: arbitrary strings, arbitrary bytes (through the
//! file, so the UTF-8 check runs too) and mutations of a valid schema, which reach
//! much further into the parser than random text does.

use std::path::Path;

use proptest::prelude::*;
use strata::schema::{parse_schema_file, parse_schema_text};

const VALID: &str = r#"[project]
dialects = ["sqlite", "postgres"]
database = "sqlite:database.db"

[table.team.columns]
id           = { type = "integer", primary_key = true }
name         = { type = "text", index = true }
headquarters = "text"
code         = { type = "varchar(8)", unique = true, default = "XX" }

[table.hero.columns]
id          = { type = "integer", primary_key = true }
name        = { type = "text", index = true }
secret_name = "text"
age         = { type = "integer", nullable = true, index = true, default = 0 }
score       = { type = "numeric(10,2)", nullable = true, default = 1.5 }
team_id     = { type = "integer", nullable = true, references = "team.id", on_delete = "set null" }
team_code   = { type = "varchar(8)", nullable = true, references = { table = "team", column = "code" } }
boss_id     = { type = "integer", nullable = true, references = "hero.id" }

[table.power]
primary_key  = ["hero_id", "name"]
unique       = [["name", "level"]]
indexes      = [{ name = "ix_power_level", columns = ["level"], unique = false }]
renamed_from = "powers"

[table.power.columns]
hero_id = { type = "integer", references = "hero.id" }
name    = "text"
level   = { type = "smallint", default = { sql = "1" } }
"#;

/// Characters that matter to TOML and to the schema's own syntax.
const ALPHABET: &[char] = &[
    '[', ']', '{', '}', '"', '\'', '=', ',', '.', '#', '\n', ' ', '\t', '\\', '(', ')', 'a', 'z',
    '_', '-', '0', '1', '9', 't', 'e', 'x', 'é', '名', '\0', '\r', '+', ':',
];

/// Parses text; on error, renders it. Never panics if the parser is right.
fn check_text(text: &str) {
    if let Err(problems) = parse_schema_text(Path::new("schema.toml"), text) {
        let rendered = problems.to_string();
        assert!(rendered.contains("schema.toml"), "{rendered}");
        assert!(!problems.problems.is_empty());
        let _ = problems.first_location();
    }
}

/// Writes bytes to a temp schema.toml and parses the file; errors must render.
fn check_bytes(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.toml");
    std::fs::write(&path, bytes).unwrap();
    if let Err(error) = parse_schema_file(&path) {
        let rendered = error.to_string();
        assert!(rendered.contains("schema.toml"), "{rendered}");
        assert_eq!(error.exit_code(), strata::error::exit::INVALID_INPUT);
    }
}

/// Words that keep the TOML valid but change what the schema says, so that mutations
/// reach the checks after parsing (types, references, keys, names, defaults).
const WORDS: &[&str] = &[
    "integer",
    "text",
    "strng",
    "varchar(0)",
    "numeric(3,5)",
    "team",
    "Team",
    "hero",
    "power",
    "id",
    "idd",
    "name",
    "team.id",
    "hero.id",
    "team.name",
    "power.name",
    "true",
    "false",
    "nan",
    "-inf",
    "-1",
    "1.5",
    "99999999999999999999",
    "0x7f",
    "primary_key",
    "unique",
    "index",
    "nullable",
    "references",
    "default",
    "columns",
    "indexes",
    "on_delete",
    "cascade",
    "sqlite",
    "postgres",
    "a_name_that_is_much_longer_than_the_sixty_three_bytes_postgres_allows",
    "caf\u{e9}",
    "\"\"",
    "[]",
    "{}",
    "[[]]",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete {
        at: usize,
        length: usize,
    },
    Insert {
        at: usize,
        text: String,
    },
    Replace {
        at: usize,
        with: char,
    },
    /// Replace the `at`-th word (a run of letters, digits, `_` and `.`) by another.
    Word {
        at: usize,
        with: &'static str,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let char_of_alphabet = proptest::sample::select(ALPHABET);
    prop_oneof![
        1 => (any::<usize>(), 1usize..8).prop_map(|(at, length)| Edit::Delete { at, length }),
        1 => (
            any::<usize>(),
            proptest::collection::vec(char_of_alphabet.clone(), 1..6)
        )
            .prop_map(|(at, chars)| Edit::Insert {
                at,
                text: chars.into_iter().collect()
            }),
        1 => (any::<usize>(), char_of_alphabet).prop_map(|(at, with)| Edit::Replace { at, with }),
        3 => (any::<usize>(), proptest::sample::select(WORDS))
            .prop_map(|(at, with)| Edit::Word { at, with }),
    ]
}

/// Applies edits at character positions (so the text stays UTF-8).
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let length = chars.len();
        match edit {
            Edit::Delete { at, length: n } if length > 0 => {
                let start = at % length;
                let end = (start + n).min(length);
                chars.drain(start..end);
            }
            Edit::Insert { at, text } => {
                let at = at % (length + 1);
                chars.splice(at..at, text.chars());
            }
            Edit::Replace { at, with } if length > 0 => chars[at % length] = *with,
            Edit::Word { at, with } => {
                let in_word = |c: &char| c.is_alphanumeric() || *c == '_' || *c == '.';
                let mut words = Vec::new();
                let mut start = None;
                for (i, c) in chars.iter().enumerate() {
                    match (in_word(c), start) {
                        (true, None) => start = Some(i),
                        (false, Some(s)) => {
                            words.push(s..i);
                            start = None;
                        }
                        _ => {}
                    }
                }
                if let Some(s) = start {
                    words.push(s..length);
                }
                if !words.is_empty() {
                    let range = words[at % words.len()].clone();
                    chars.splice(range, with.chars());
                }
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

#[test]
fn the_valid_schema_is_valid() {
    parse_schema_text(Path::new("schema.toml"), VALID).unwrap_or_else(|e| panic!("{e}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        check_text(&text);
    }

    #[test]
    fn strings_from_the_toml_alphabet(
        chars in proptest::collection::vec(proptest::sample::select(ALPHABET), 0..200)
    ) {
        check_text(&chars.into_iter().collect::<String>());
    }

    #[test]
    fn arbitrary_bytes_through_the_file(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check_bytes(&bytes);
    }

    #[test]
    fn valid_schema_with_bytes_spliced_in(at in any::<usize>(), bytes in proptest::collection::vec(any::<u8>(), 1..4)) {
        let mut file = VALID.as_bytes().to_vec();
        let at = at % (file.len() + 1);
        file.splice(at..at, bytes);
        check_bytes(&file);
    }

    #[test]
    fn mutated_valid_schema(edits in proptest::collection::vec(edit(), 1..6)) {
        check_text(&mutate(VALID, &edits));
    }

    /// Only whole words replaced: mostly valid TOML, so the schema checks run.
    #[test]
    fn valid_schema_with_words_replaced(
        edits in proptest::collection::vec(
            (any::<usize>(), proptest::sample::select(WORDS))
                .prop_map(|(at, with)| Edit::Word { at, with }),
            1..4,
        )
    ) {
        check_text(&mutate(VALID, &edits));
    }
}
