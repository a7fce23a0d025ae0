//! Big inserts in bounded memory. The toml crate holds a whole document's tokens
//! and values at once (about 25 times the text for a 100,000-row insert), so an
//! `[[insert]]`'s inline `rows = [ … ]` array past [`STREAM_ABOVE_BYTES`] is not
//! handed to it with the rest of the file. A small scanner finds such arrays
//! (outside strings and comments); the rest of the file is parsed with the
//! array's text blanked to spaces (same offsets, so every span stays a file
//! offset), and the rows are parsed [`ROWS_PER_CHUNK`] at a time when they are
//! checked and applied, their spans shifted back to offsets in the file.
//!
//! Other shapes (`[[insert.rows]]` tables, quoted or dotted keys) are parsed
//! whole, as before: correct, just not bounded.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::file::{assignments, Assignment, PatchValue, ValueKind};
use crate::diagnostics::Problem;
use crate::spanned_toml::Reader;

/// Arrays of rows whose text is at least this long are streamed; smaller ones are
/// parsed with the file (their memory does not matter).
pub const STREAM_ABOVE_BYTES: usize = 64 * 1024;

/// Rows parsed at once: enough that parsing costs no more than whole-file
/// parsing, few enough that a chunk's tokens are a few hundred kilobytes.
pub const ROWS_PER_CHUNK: usize = 1000;

/// The rows of an `[[insert]]`.
#[derive(Debug, Clone)]
pub enum Rows {
    /// Parsed with the rest of the file.
    Parsed(Vec<Vec<Assignment>>),
    /// The text between the brackets of a big `rows = [ … ]`, as offsets in the
    /// patch's source: parsed chunk by chunk by `chunks`.
    Streamed(Range<usize>),
}

/// The `rows = [ … ]` arrays of `[[insert]]` sections in `source` worth streaming:
/// the ranges between their brackets. Empty when the scanner meets anything it
/// does not follow (an unterminated string, unbalanced brackets): the whole-file
/// parse then reports it as before.
pub fn streamable_arrays(source: &str) -> Vec<Range<usize>> {
    let bytes = source.as_bytes();
    let mut found = Vec::new();
    let mut in_insert = false;
    let mut i = 0;
    while i < bytes.len() {
        // At the start of a line, outside any value.
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let line_end = memchr(bytes, i, b'\n');
        if bytes[i] == b'#' {
            i = line_end;
            continue;
        }
        if bytes[i] == b'[' {
            // A table header: one line (keys in headers hold no newline).
            let header = source[i..line_end].split('#').next().unwrap_or_default();
            let header: String = header.chars().filter(|c| !c.is_whitespace()).collect();
            in_insert = header == "[[insert]]";
            i = line_end;
            continue;
        }
        if in_insert {
            if let Some(open) = rows_array_start(bytes, i) {
                let Some(close) = skip_nested(bytes, open, b']') else {
                    return Vec::new();
                };
                // `close` is just past the `]`.
                if close - 1 - open >= STREAM_ABOVE_BYTES {
                    found.push(open..close - 1);
                }
                i = close;
                continue;
            }
        }
        // Any other `key = value`: skip the value, which may span lines.
        match skip_statement(bytes, i) {
            Some(end) => i = end,
            None => return Vec::new(),
        }
    }
    found
}

/// `rows = [` starting at `i`: the offset just past the `[`.
fn rows_array_start(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = bytes.get(i..)?.strip_prefix(b"rows")?;
    let mut j = i + 4;
    let skip_blank = |mut j: usize| {
        while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
            j += 1;
        }
        j
    };
    if !matches!(rest.first(), Some(b' ' | b'\t' | b'=')) {
        return None;
    }
    j = skip_blank(j);
    (bytes.get(j) == Some(&b'=')).then_some(())?;
    j = skip_blank(j + 1);
    (bytes.get(j) == Some(&b'[')).then_some(j + 1)
}

fn memchr(bytes: &[u8], from: usize, byte: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|b| *b == byte)
        .map_or(bytes.len(), |p| from + p)
}

/// Past the string or comment starting at `i`, or `None` when `i` starts neither;
/// `Some(None)` for an unterminated one.
fn skip_string_or_comment(bytes: &[u8], i: usize) -> Option<Option<usize>> {
    let rest = &bytes[i..];
    if rest[0] == b'#' {
        return Some(Some(memchr(bytes, i, b'\n')));
    }
    for (quote, escapes) in [(b"\"\"\"", true), (b"'''", false)] {
        if rest.starts_with(quote) {
            let mut j = i + 3;
            while j < bytes.len() {
                if escapes && bytes[j] == b'\\' {
                    j += 2;
                } else if bytes[j..].starts_with(quote) {
                    // Up to two more quotes belong to the string (`""""` ends in `"`).
                    let mut end = j + 3;
                    while end < bytes.len() && end < j + 5 && bytes[end] == quote[0] {
                        end += 1;
                    }
                    return Some(Some(end));
                } else {
                    j += 1;
                }
            }
            return Some(None);
        }
    }
    let quote = rest[0];
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let mut j = i + 1;
    while j < bytes.len() && bytes[j] != b'\n' {
        if quote == b'"' && bytes[j] == b'\\' {
            j += 2;
        } else if bytes[j] == quote {
            return Some(Some(j + 1));
        } else {
            j += 1;
        }
    }
    Some(None)
}

/// From just inside an opening bracket at `i`, past its matching `close`.
fn skip_nested(bytes: &[u8], mut i: usize, close: u8) -> Option<usize> {
    let mut depth = 1usize;
    while i < bytes.len() {
        if let Some(end) = skip_string_or_comment(bytes, i) {
            i = end?;
            continue;
        }
        match bytes[i] {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return (bytes[i] == close).then_some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Past the `key = value` line starting at `i` (its value may span lines).
fn skip_statement(bytes: &[u8], mut i: usize) -> Option<usize> {
    while i < bytes.len() && bytes[i] != b'\n' {
        if let Some(end) = skip_string_or_comment(bytes, i) {
            i = end?;
            continue;
        }
        match bytes[i] {
            b'[' => i = skip_nested(bytes, i + 1, b']')?,
            b'{' => i = skip_nested(bytes, i + 1, b'}')?,
            _ => i += 1,
        }
    }
    Some(i)
}

/// `source` with the text of each of `arrays` turned into spaces: the rest of the
/// file, at the same offsets, for the whole-file parse.
pub fn blank(source: &str, arrays: &[Range<usize>]) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for range in arrays {
        bytes[range.clone()].fill(b' ');
    }
    // Only whole UTF-8 sequences were replaced, by ASCII, so this cannot fail.
    String::from_utf8(bytes).unwrap_or_default()
}

/// The rows of `rows`, chunk by chunk: a parsed array as one chunk; a streamed one
/// [`ROWS_PER_CHUNK`] rows at a time, parsed from `source` with their spans
/// (and those of any problems) as offsets in `source`.
pub fn chunks<'a>(rows: &'a Rows, source: &'a str) -> Box<dyn Iterator<Item = Chunk<'a>> + 'a> {
    match rows {
        Rows::Parsed(rows) => Box::new(std::iter::once(Ok(Cow::Borrowed(rows.as_slice())))),
        Rows::Streamed(range) => Box::new(Chunks {
            source,
            next: range.start,
            end: range.end,
        }),
    }
}

/// Some rows (borrowed when they were parsed with the file), or the problems of
/// the text they were read from.
pub type Chunk<'a> = Result<Cow<'a, [Vec<Assignment>]>, Vec<Problem>>;

struct Chunks<'a> {
    source: &'a str,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let start = self.next;
        self.next = after_elements(self.source.as_bytes(), start, self.end, ROWS_PER_CHUNK);
        Some(parse_chunk(self.source, start..self.next).map(Cow::Owned))
    }
}

/// Past the `count`-th top-level comma of the array text from `i` to `end` (or `end`).
fn after_elements(bytes: &[u8], mut i: usize, end: usize, count: usize) -> usize {
    let mut seen = 0;
    while i < end {
        if let Some(after) = skip_string_or_comment(bytes, i) {
            i = after.unwrap_or(end);
            continue;
        }
        match bytes[i] {
            b'[' => i = skip_nested(bytes, i + 1, b']').unwrap_or(end),
            b'{' => i = skip_nested(bytes, i + 1, b'}').unwrap_or(end),
            b',' => {
                i += 1;
                seen += 1;
                if seen == count {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    end
}

const PREFIX: &str = "rows = [";

/// The rows written in `range` of `source` (whole elements, each followed by its
/// comma but perhaps the last).
fn parse_chunk(source: &str, range: Range<usize>) -> Result<Vec<Vec<Assignment>>, Vec<Problem>> {
    // The closing bracket on a line of its own, so that a trailing comment cannot
    // swallow it.
    let text = format!("{PREFIX}{}\n]", &source[range.clone()]);
    let shift = |span: Range<usize>| {
        let at = |offset: usize| {
            (offset.saturating_sub(PREFIX.len()) + range.start).clamp(range.start, range.end)
        };
        at(span.start)..at(span.end)
    };
    let (document, syntax_errors) = DeTable::parse_recoverable(&text);
    let mut reader = Reader::default();
    for error in &syntax_errors {
        reader.problem(crate::spanned_toml::syntax_problem(&text, error));
    }
    let mut rows = Vec::new();
    if let Some(DeValue::Array(items)) = document.get_ref().get("rows").map(|v| v.get_ref()) {
        for item in items.iter() {
            if let Some(row) = reader.table("rows", item) {
                let mut row = assignments(&mut reader, row);
                for assignment in &mut row {
                    shift_assignment(assignment, &shift);
                }
                rows.push(row);
            }
        }
    }
    if reader.problems.is_empty() {
        return Ok(rows);
    }
    let mut problems = reader.problems;
    for problem in &mut problems {
        problem.span = shift(problem.span.clone());
    }
    Err(problems)
}

fn shift_assignment(assignment: &mut Assignment, shift: &dyn Fn(Range<usize>) -> Range<usize>) {
    let column = std::mem::replace(&mut assignment.column, Spanned::new(0..0, String::new()));
    let span = shift(column.span());
    assignment.column = Spanned::new(span, column.into_inner());
    shift_value(&mut assignment.value, shift);
}

fn shift_value(value: &mut PatchValue, shift: &dyn Fn(Range<usize>) -> Range<usize>) {
    value.span = shift(value.span.clone());
    if let ValueKind::Ref(key) = &mut value.kind {
        for assignment in key {
            shift_assignment(assignment, shift);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big_insert(rows: usize) -> String {
        let mut text = String::from(
            "description = \"\"\"\n[[insert]]\nrows = [\n\"\"\"\n[[sql]]\nstatement = 'SELECT 1' # [[insert]]\n\n[[ insert ]]\ntable = \"hero\"\nrows = [\n",
        );
        for i in 0..rows {
            text.push_str(&format!(
                "  {{ name = \"Hero {i}, ]\", age = {i} }}, # a comment ]\n"
            ));
        }
        text.push_str("]\n[[delete]]\ntable = \"hero\"\nwhere = {}\n");
        text
    }

    #[test]
    fn finds_big_row_arrays_outside_strings_and_comments() {
        let text = big_insert(2000);
        let arrays = streamable_arrays(&text);
        assert_eq!(arrays.len(), 1);
        let inside = &text[arrays[0].clone()];
        assert!(
            inside.starts_with("\n  { name = \"Hero 0, ]\""),
            "{inside:.40}"
        );
        assert!(inside.ends_with("# a comment ]\n"));
        // A small array is left to the whole-file parse.
        assert!(streamable_arrays(&big_insert(10)).is_empty());
    }

    #[test]
    fn chunks_hold_every_row_with_file_offsets() {
        let text = big_insert(2500);
        let arrays = streamable_arrays(&text);
        let rows = Rows::Streamed(arrays[0].clone());
        let chunks: Vec<_> = chunks(&rows, &text).map(|c| c.unwrap().len()).collect();
        assert_eq!(chunks, [1000, 1000, 500]);
        let last = chunks_last_row(&rows, &text);
        assert_eq!(&text[last.column.span()], "age");
        assert_eq!(&text[last.value.span.clone()], "2499");
    }

    fn chunks_last_row(rows: &Rows, text: &str) -> Assignment {
        let chunk = chunks(rows, text).last().unwrap().unwrap();
        chunk.last().unwrap()[1].clone()
    }

    #[test]
    fn a_problem_in_a_chunk_points_into_the_file() {
        let text = big_insert(1500).replace("age = 1234 ", "age = [1] ");
        let arrays = streamable_arrays(&text);
        let rows = Rows::Streamed(arrays[0].clone());
        let problems = chunks(&rows, &text).find_map(|c| c.err()).unwrap();
        assert_eq!(&text[problems[0].span.clone()], "[1]");
    }

    /// Cut or damaged files (the scanner is not a validator) never panic, and the
    /// chunks stay inside the array.
    #[test]
    fn damaged_files_do_not_panic() {
        let text = big_insert(2000).replace("Hero 7", "H\u{e9}\\\"ro 7 \u{1F600}");
        let mut cuts: Vec<String> = (0..text.len())
            .step_by(997)
            .filter(|cut| text.is_char_boundary(*cut))
            .map(|cut| text[..cut].to_string())
            .collect();
        for damage in ["\"", "'", "[", "]", "{", "}", "#", "\"\"\"", "'''", "\\"] {
            cuts.push(text.replacen("age = 5", damage, 1));
            cuts.push(text.replacen(", ", damage, 3));
        }
        assert_eq!(streamable_arrays(&text).len(), 1);
        for text in &cuts {
            for range in streamable_arrays(text) {
                assert!(range.end <= text.len());
                let rows = Rows::Streamed(range);
                for chunk in chunks(&rows, text) {
                    let _ = chunk;
                }
            }
        }
    }
}
