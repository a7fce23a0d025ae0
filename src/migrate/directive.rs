//! First-line directives of a migration file. A generated SQLite migration that
//! rebuilds a table starts with `-- strata: foreign-keys-off`: foreign keys must
//! be off while a table other tables reference is dropped and re-created, and
//! `PRAGMA foreign_keys` does nothing inside a transaction, so the runner, not
//! the file, turns them off (see the SQLite engine's migration runner).
//!
//! A file may start with several directive lines (a down file that is both
//! `-- strata: irreversible` and `-- strata: foreign-keys-off`); a directive
//! counts while every line before it is one.

/// The directive line `generate` writes.
pub const FOREIGN_KEYS_OFF: &str = "-- strata: foreign-keys-off";

/// The directive line of a hand-written migration whose statements cannot run
/// in a transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`…): the runner then
/// sends its statements one at a time, each committed on its own, and records
/// the history row after the last one.
pub const NO_TRANSACTION: &str = "-- strata: no-transaction";

/// Whether the file's leading directives include `-- strata: no-transaction`.
pub fn no_transaction(sql: &str) -> bool {
    leading_directives(sql).any(|name| name.eq_ignore_ascii_case("no-transaction"))
}

/// Whether the file's leading directives include `-- strata: foreign-keys-off`
/// (spaces around the words and letter case do not matter).
pub fn foreign_keys_off(sql: &str) -> bool {
    leading_directives(sql).any(|name| name.eq_ignore_ascii_case("foreign-keys-off"))
}

/// The `name` of each `-- strata: name` line the file starts with.
pub fn leading_directives(sql: &str) -> impl Iterator<Item = &str> {
    sql.trim_start_matches('\u{FEFF}')
        .lines()
        .map_while(directive)
}

/// `name` of a line `-- strata: name`.
pub fn directive(line: &str) -> Option<&str> {
    let rest = line.trim().strip_prefix("--")?.trim_start();
    let name = rest
        .get(..7)
        .filter(|word| word.eq_ignore_ascii_case("strata:"))
        .map(|_| &rest[7..])?;
    Some(name.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_line_counts() {
        assert!(foreign_keys_off(
            "-- strata: foreign-keys-off\nDROP TABLE t;"
        ));
        assert!(foreign_keys_off("--strata:Foreign-Keys-Off  \r\n"));
        assert!(foreign_keys_off(FOREIGN_KEYS_OFF));
        assert!(!foreign_keys_off(
            "-- V2: generated\n-- strata: foreign-keys-off\n"
        ));
        assert!(!foreign_keys_off("-- strata: foreign-keys-offish\n"));
        assert!(!foreign_keys_off("SELECT 1; -- strata: foreign-keys-off\n"));
        assert!(!foreign_keys_off(""));
        assert!(foreign_keys_off(
            "-- strata: irreversible\n-- strata: foreign-keys-off\n-- why\n"
        ));
        assert!(!foreign_keys_off(
            "-- strata: irreversible\n-- why\n-- strata: foreign-keys-off\n"
        ));
    }

    #[test]
    fn no_transaction_is_a_leading_directive() {
        assert!(no_transaction(NO_TRANSACTION));
        assert!(no_transaction(
            "-- strata: irreversible\n--strata: No-Transaction\nVACUUM;"
        ));
        assert!(!no_transaction("VACUUM; -- strata: no-transaction\n"));
        assert!(!no_transaction("-- strata: foreign-keys-off\n"));
    }
}
