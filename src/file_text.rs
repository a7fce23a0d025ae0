//! A file's bytes → text strata can parse or run: UTF-8 checked with a located
//! diagnostic, and for SQL files the BOM dropped and NUL refused. Both the schema
//! parser and the migration and patch readers use it, so it sits below them all.

use std::path::Path;

use crate::diagnostics::{FileProblems, Problem};
use crate::{Error, Result};

/// Turns file bytes into text, or reports the first byte that is not UTF-8 like
/// any other problem: file, line, column and the offending line (shown lossily,
/// the bad byte as U+FFFD).
pub fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let valid = error.utf8_error().valid_up_to();
        let bad_length = error
            .utf8_error()
            .error_len()
            .unwrap_or(bytes.len() - valid);
        let shown = bytes[valid..valid + bad_length]
            .iter()
            .map(|byte| format!("0x{byte:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        // Everything before `valid` is UTF-8, so offsets up to it are the same in the
        // lossy text, where the bad bytes become one U+FFFD (3 bytes).
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        let problem = Problem::new(
            valid..valid + '\u{FFFD}'.len_utf8(),
            format!("the file is not UTF-8 text: byte {shown} is not valid UTF-8"),
        )
        .label("not UTF-8")
        .help("save the file as UTF-8 (names and strings may use any Unicode letters)");
        Error::from(FileProblems::new(path, &lossy, vec![problem]))
    })
}

/// A migration's or patch's text: UTF-8 (reported like any other problem when
/// not), without a leading byte-order mark, and without NUL bytes. Editors on
/// Windows write the BOM; SQLite skips it but PostgreSQL reads it as part of the
/// first word, so it is dropped here for every engine alike. NUL cannot reach
/// either engine (C strings end there; PostgreSQL text cannot hold it).
pub fn source_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    let mut text = utf8_text(path, bytes)?;
    if text.starts_with(BOM) {
        text.drain(..BOM.len_utf8());
    }
    if let Some(offset) = text.find('\0') {
        let problem = Problem::new(offset..offset + 1, "the file contains a NUL byte")
            .label("NUL byte")
            .help("remove it: neither SQLite nor PostgreSQL can run text with NUL bytes");
        return Err(FileProblems::new(path, &text, vec![problem]).into());
    }
    Ok(text)
}

/// U+FEFF, the byte-order mark some editors put at the start of UTF-8 files.
pub const BOM: char = '\u{FEFF}';
