//! A small SQL lexer and statement splitter for the two engines strata runs.
//!
//! It knows only what decides where a statement starts and ends and which words are
//! keywords rather than text: single-quoted strings (`''` doubled), PostgreSQL `E''`
//! strings (backslash escapes), double-quoted identifiers, SQLite's `[...]` and
//! `` `...` `` identifiers, PostgreSQL dollar quotes (`$$`, `$tag$`), `--` comments,
//! `/* */` comments (nested on PostgreSQL, not on SQLite, as each engine reads
//! them), parentheses, and bodies whose semicolons do not end the statement:
//! `CREATE TRIGGER … BEGIN … END` on SQLite and `CREATE FUNCTION|PROCEDURE …
//! BEGIN ATOMIC … END` on PostgreSQL (counted as psql counts them: outside
//! parentheses, BEGIN and, inside it, CASE open; END closes). Everything else is
//! an opaque token.
//!
//! It is streaming and allocation-free (one pass, byte ranges into the text), so
//! checking a 50 MB migration costs about as much as reading it; that, and compile
//! time on small machines, is why this is not `sqlparser`: its tokenizer lives in
//! the same crate as its parser and AST (a large compile), and it builds a
//! `Vec<Token>` of owned strings for the whole file. Modelled on the scanner of
//! ariga/atlas (`sql/migrate/lex.go`) and on psql's `psqlscan.l`.

use std::ops::Range;

/// The engine whose lexical rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// An unquoted word: a keyword or a plain identifier.
    Word,
    Semicolon,
    Open,
    Close,
    /// Strings, quoted identifiers, numbers, operators: nothing the splitter reads.
    Other,
}

struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
    engine: Engine,
}

fn is_word_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

impl<'a> Lexer<'a> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.text.get(self.pos + ahead).copied()
    }

    /// The next token and where it is; comments and white space are skipped.
    fn next(&mut self) -> Option<(Token, Range<usize>)> {
        loop {
            let byte = self.peek(0)?;
            let start = self.pos;
            match byte {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => self.pos += 1,
                b'-' if self.peek(1) == Some(b'-') => self.skip_line(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                b';' => return Some(self.one(Token::Semicolon)),
                b'(' => return Some(self.one(Token::Open)),
                b')' => return Some(self.one(Token::Close)),
                b'\'' => {
                    self.skip_quoted(b'\'', false);
                    return Some((Token::Other, start..self.pos));
                }
                b'"' => {
                    self.skip_quoted(b'"', false);
                    return Some((Token::Other, start..self.pos));
                }
                b'[' if self.engine == Engine::Sqlite => {
                    self.skip_until(b']');
                    return Some((Token::Other, start..self.pos));
                }
                b'`' if self.engine == Engine::Sqlite => {
                    self.skip_quoted(b'`', false);
                    return Some((Token::Other, start..self.pos));
                }
                b'$' if self.engine == Engine::Postgres => {
                    self.dollar();
                    return Some((Token::Other, start..self.pos));
                }
                b'0'..=b'9' => {
                    while self
                        .peek(0)
                        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
                    {
                        self.pos += 1;
                    }
                    return Some((Token::Other, start..self.pos));
                }
                _ if is_word_start(byte) => {
                    while self.peek(0).is_some_and(is_word_byte) {
                        self.pos += 1;
                    }
                    // E'…' is one escape-string token on PostgreSQL.
                    if self.engine == Engine::Postgres
                        && self.pos - start == 1
                        && (byte == b'E' || byte == b'e')
                        && self.peek(0) == Some(b'\'')
                    {
                        self.skip_quoted(b'\'', true);
                        return Some((Token::Other, start..self.pos));
                    }
                    return Some((Token::Word, start..self.pos));
                }
                _ => return Some(self.one(Token::Other)),
            }
        }
    }

    fn one(&mut self, token: Token) -> (Token, Range<usize>) {
        self.pos += 1;
        (token, self.pos - 1..self.pos)
    }

    fn skip_line(&mut self) {
        match memchr(b'\n', &self.text[self.pos..]) {
            Some(i) => self.pos += i + 1,
            None => self.pos = self.text.len(),
        }
    }

    /// `/* … */`; PostgreSQL nests them, SQLite ends at the first `*/`. An
    /// unterminated comment runs to the end, as both engines read it.
    fn skip_block_comment(&mut self) {
        self.pos += 2;
        let mut depth = 1;
        while let Some(byte) = self.peek(0) {
            if byte == b'*' && self.peek(1) == Some(b'/') {
                self.pos += 2;
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else if byte == b'/' && self.peek(1) == Some(b'*') && self.engine == Engine::Postgres
            {
                self.pos += 2;
                depth += 1;
            } else {
                self.pos += 1;
            }
        }
    }

    /// A quoted string or identifier starting at `pos`; a doubled quote stays
    /// inside, and with `backslash` a backslash escapes the next byte. An
    /// unterminated one runs to the end (the engine then reports the error).
    fn skip_quoted(&mut self, quote: u8, backslash: bool) {
        self.pos += 1; // the opening quote
        while let Some(byte) = self.peek(0) {
            self.pos += 1;
            if backslash && byte == b'\\' {
                self.pos += 1;
            } else if byte == quote {
                if self.peek(0) == Some(quote) {
                    self.pos += 1;
                } else {
                    return;
                }
            }
        }
        self.pos = self.pos.min(self.text.len());
    }

    fn skip_until(&mut self, close: u8) {
        self.pos = memchr(close, &self.text[self.pos + 1..])
            .map_or(self.text.len(), |i| self.pos + 1 + i + 1);
    }

    /// `$1` (a parameter), `$tag$ … $tag$` / `$$ … $$` (a string), or a lone `$`.
    fn dollar(&mut self) {
        let rest = &self.text[self.pos + 1..];
        if rest.first().is_some_and(u8::is_ascii_digit) {
            self.pos += 1 + rest.iter().take_while(|b| b.is_ascii_digit()).count();
            return;
        }
        let tag_len = if rest.first().is_some_and(|b| is_word_start(*b)) {
            rest.iter()
                .take_while(|b| is_word_byte(**b) && **b != b'$')
                .count()
        } else {
            0
        };
        if rest.get(tag_len) != Some(&b'$') {
            self.pos += 1;
            return;
        }
        let delimiter = &self.text[self.pos..self.pos + tag_len + 2];
        let body = self.pos + delimiter.len();
        self.pos = find(&self.text[body..], delimiter)
            .map_or(self.text.len(), |i| body + i + delimiter.len());
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// The first occurrence of `needle` (a dollar-quote delimiter: short) in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = needle[0];
    let mut from = 0;
    while let Some(i) = memchr(first, &haystack[from..]) {
        let at = from + i;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// How many leading words of a statement are kept for classifying it.
const LEADING_WORDS: usize = 6;

/// One statement of a script: where it is, and its first words outside parentheses.
#[derive(Debug, Clone)]
pub struct Statement {
    /// From its first token to its terminating `;` (or the end of the text).
    pub span: Range<usize>,
    words: [Range<usize>; LEADING_WORDS],
    word_count: usize,
}

impl Statement {
    /// The `n`-th leading word (0-based), as written.
    pub fn word<'t>(&self, text: &'t str, n: usize) -> Option<&'t str> {
        (n < self.word_count).then(|| &text[self.words[n].clone()])
    }

    pub fn word_span(&self, n: usize) -> Option<Range<usize>> {
        (n < self.word_count).then(|| self.words[n].clone())
    }

    /// Whether the leading words are `expected`, ignoring case.
    pub fn starts_with(&self, text: &str, expected: &[&str]) -> bool {
        expected.iter().enumerate().all(|(i, word)| {
            self.word(text, i)
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
        })
    }

    fn keyword_at(&self, text: &str, n: usize, candidates: &[&str]) -> bool {
        self.word(text, n)
            .is_some_and(|w| candidates.iter().any(|c| w.eq_ignore_ascii_case(c)))
    }

    /// `CREATE TRIGGER` (SQLite) and `CREATE FUNCTION|PROCEDURE` (PostgreSQL) have
    /// bodies whose `;` do not end the statement.
    fn has_body(&self, text: &str, engine: Engine) -> bool {
        if !self.keyword_at(text, 0, &["CREATE"]) {
            return false;
        }
        match engine {
            Engine::Sqlite => {
                let at = if self.keyword_at(text, 1, &["TEMP", "TEMPORARY"]) {
                    2
                } else {
                    1
                };
                self.keyword_at(text, at, &["TRIGGER"])
            }
            Engine::Postgres => {
                let at = if self.starts_with(text, &["CREATE", "OR", "REPLACE"]) {
                    3
                } else {
                    1
                };
                self.keyword_at(text, at, &["FUNCTION", "PROCEDURE"])
            }
        }
    }
}

/// The statements of `text`, in order, as the engine will split them.
pub fn statements(engine: Engine, text: &str) -> Statements<'_> {
    Statements {
        text,
        lexer: Lexer {
            text: text.as_bytes(),
            pos: 0,
            engine,
        },
    }
}

pub struct Statements<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
}

impl Iterator for Statements<'_> {
    type Item = Statement;

    fn next(&mut self) -> Option<Statement> {
        let mut statement = Statement {
            span: 0..0,
            words: Default::default(),
            word_count: 0,
        };
        let mut started = false;
        let mut parens = 0usize;
        let mut blocks = 0usize;
        let mut body = false;
        while let Some((token, range)) = self.lexer.next() {
            if !started {
                if token == Token::Semicolon {
                    continue; // an empty statement
                }
                started = true;
                statement.span.start = range.start;
            }
            statement.span.end = range.end;
            match token {
                Token::Semicolon if parens == 0 && blocks == 0 => return Some(statement),
                Token::Open => parens += 1,
                Token::Close => parens = parens.saturating_sub(1),
                Token::Word => {
                    if parens == 0 && statement.word_count < LEADING_WORDS {
                        statement.words[statement.word_count] = range.clone();
                        statement.word_count += 1;
                        body = statement.has_body(self.text, self.lexer.engine);
                    }
                    // As psql counts: outside parentheses only, and CASE only
                    // inside a BEGIN (elsewhere its END closes nothing we track).
                    if body && parens == 0 {
                        let word = &self.text[range];
                        if word.eq_ignore_ascii_case("BEGIN")
                            || (blocks > 0 && word.eq_ignore_ascii_case("CASE"))
                        {
                            blocks += 1;
                        } else if word.eq_ignore_ascii_case("END") {
                            blocks = blocks.saturating_sub(1);
                        }
                    }
                }
                _ => {}
            }
        }
        started.then_some(statement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(engine: Engine, text: &str) -> Vec<String> {
        statements(engine, text)
            .map(|s| text[s.span].to_string())
            .collect()
    }

    #[test]
    fn strings_comments_and_quotes_hide_semicolons() {
        let text = "SELECT 'a;b''c;' ; -- x; y\nSELECT \"q;\"\"\" /* ; */ ;;\nSELECT 1";
        assert_eq!(
            split(Engine::Postgres, text),
            [
                "SELECT 'a;b''c;' ;",
                "SELECT \"q;\"\"\" /* ; */ ;",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn postgres_dollar_quotes_escape_strings_and_nested_comments() {
        let text =
            "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN; COMMIT; $$ END $body$ LANGUAGE sql;\
                    SELECT E'it\\'s; fine', $1, a$b;\
                    /* outer /* inner; */ still; */ SELECT 2;";
        assert_eq!(split(Engine::Postgres, text).len(), 3);
    }

    #[test]
    fn sqlite_comments_do_not_nest_and_brackets_quote() {
        let text = "/* a /* b */ SELECT [x;y], `p;q` FROM t; SELECT $a;";
        assert_eq!(
            split(Engine::Sqlite, text),
            ["SELECT [x;y], `p;q` FROM t;", "SELECT $a;"]
        );
    }

    #[test]
    fn bodies_keep_their_semicolons() {
        let trigger = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN \
                       UPDATE a SET x = CASE WHEN 1 THEN 2 ELSE 3 END; DELETE FROM b; END; SELECT 1;";
        assert_eq!(split(Engine::Sqlite, trigger).len(), 2);
        let atomic = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql \
                      BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; COMMIT;";
        let parts = split(Engine::Postgres, atomic);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1], "COMMIT;");
        // An END outside a BEGIN (a CASE's) closes nothing: the `;` after it ends.
        let case = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql \
                    RETURN CASE WHEN x > 0 THEN 1 END; COMMIT;";
        assert_eq!(split(Engine::Postgres, case).len(), 2);
        let nested = "CREATE TRIGGER t AFTER INSERT ON a BEGIN \
                      SELECT (CASE WHEN 1 THEN 2 END); SELECT CASE WHEN 1 THEN (SELECT 2) END; END; END;";
        assert_eq!(split(Engine::Sqlite, nested).len(), 2);
    }

    #[test]
    fn unterminated_things_run_to_the_end() {
        for text in [
            "SELECT 'abc; COMMIT;",
            "SELECT $x$ ; COMMIT;",
            "/* ; COMMIT;",
        ] {
            assert!(split(Engine::Postgres, text).len() <= 1, "{text}");
        }
    }
}
