//! How a project lays out its migration files: refinery's `V<n>__<name>.sql`
//! (the default) or Diesel's `<version>_<name>/up.sql` + `down.sql` folders
//! (`[project] layout = "diesel"`), and Diesel's migration versions.
//!
//! Diesel versions are the timestamps `diesel migration generate` writes,
//! `YYYY-MM-DD-HHMMSS` (`2026-11-25-230000_create_heroes`): Diesel orders
//! migrations by their version as text with the dashes removed, and a fixed-width
//! timestamp sorts as text in time order. strata keeps numbering migrations by
//! position (V1 is the oldest folder), which is what its lockstep, pins and
//! messages use.

use std::fmt;

/// The two layouts a migrations folder can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `V<n>__<name>.sql` and `V<n>__<name>.down.sql`, history in
    /// `refinery_schema_history`.
    #[default]
    Refinery,
    /// `<version>_<name>/up.sql`, `down.sql` (and `metadata.toml`), history in
    /// `__diesel_schema_migrations`.
    Diesel,
}

impl Layout {
    /// The names `[project] layout` and `strata convert --to` accept.
    pub const NAMES: &'static [&'static str] = &["refinery", "diesel"];

    /// The layout `[project] layout` names, if it is one.
    pub fn from_name(name: &str) -> Option<Layout> {
        match name {
            "refinery" => Some(Layout::Refinery),
            "diesel" => Some(Layout::Diesel),
            _ => None,
        }
    }

    /// Its name in schema.toml and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Refinery => "refinery",
            Layout::Diesel => "diesel",
        }
    }

    /// The table a database records applied migrations in, in this layout.
    pub fn history_table(self) -> &'static str {
        match self {
            Layout::Refinery => crate::driver::HISTORY_TABLE,
            Layout::Diesel => DIESEL_HISTORY_TABLE,
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Diesel's history table (diesel_migrations creates it on first use).
pub const DIESEL_HISTORY_TABLE: &str = "__diesel_schema_migrations";

/// The statement diesel_migrations creates its history table with, so that a
/// table strata creates (`strata convert`) is the one Diesel would have made.
pub const DIESEL_HISTORY_DDL: &str = "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\
     version VARCHAR(50) PRIMARY KEY NOT NULL, \
     run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)";

/// A Diesel migration folder's up migration.
pub const UP_FILE: &str = "up.sql";
/// A Diesel migration folder's down migration.
pub const DOWN_FILE: &str = "down.sql";
/// A Diesel migration folder's settings (`run_in_transaction`).
pub const METADATA_FILE: &str = "metadata.toml";

/// What a `metadata.toml` holds for a migration that must not run in a
/// transaction (`-- strata: no-transaction`).
pub const NO_TRANSACTION_METADATA: &str =
    "# Written by strata: this migration starts with `-- strata: no-transaction`.\n\
     run_in_transaction = false\n";

/// `2026-11-25-230000` for a time.
pub fn timestamp_version(time: time::OffsetDateTime) -> String {
    let time = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}-{:02}{:02}{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// The version a new Diesel migration gets: now, or one second after the newest
/// existing version when that is not earlier (two migrations generated within a
/// second, or a clock that went back), so versions keep sorting in run order.
pub fn next_timestamp(existing: &[&str]) -> String {
    let now = time::OffsetDateTime::now_utc();
    let newest = existing
        .iter()
        .filter_map(|version| parse_timestamp(version))
        .max();
    match newest {
        Some(newest) if newest >= now.replace_nanosecond(0).unwrap_or(now) => {
            timestamp_version(newest + time::Duration::seconds(1))
        }
        _ => timestamp_version(now),
    }
}

/// `count` consecutive versions, one second apart, the first one now (`strata
/// convert` gives every refinery migration a Diesel version this way).
pub fn consecutive_timestamps(count: usize) -> Vec<String> {
    let now = time::OffsetDateTime::now_utc();
    (0..count)
        .map(|i| timestamp_version(now + time::Duration::seconds(i as i64)))
        .collect()
}

fn parse_timestamp(version: &str) -> Option<time::OffsetDateTime> {
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().ok();
    let month = time::Month::try_from(number(4..6)? as u8).ok()?;
    let date =
        time::Date::from_calendar_date(number(0..4)? as i32, month, number(6..8)? as u8).ok()?;
    let clock = time::Time::from_hms(
        number(8..10)? as u8,
        number(10..12)? as u8,
        number(12..14)? as u8,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, clock).assume_utc())
}

/// `2026-11-25-230000_create_heroes` → ("2026-11-25-230000", "create_heroes"),
/// or why the folder name is not a Diesel migration's.
pub fn split_folder_name(folder: &str) -> Result<(&str, &str), String> {
    const EXPECTED: &str =
        "expected <version>_<name>, e.g. 2026-11-25-230000_create_heroes (Diesel's layout)";
    let (version, name) = folder
        .split_once('_')
        .ok_or_else(|| format!("not a migration folder name: {EXPECTED}"))?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(format!(
            "the version `{version}` is not Diesel's: write digits (and dashes) only ({EXPECTED})"
        ));
    }
    if version.trim_matches('-').is_empty() {
        return Err(format!(
            "the version `{version}` has no digits ({EXPECTED})"
        ));
    }
    Ok((version, name))
}

/// The version Diesel records for a folder: its version with the dashes
/// removed (`2026-11-25-230000` → `20261125230000`), as diesel_migrations does.
pub fn recorded_version(folder: &str) -> String {
    folder
        .split('_')
        .next()
        .unwrap_or_default()
        .replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_in_time_order_and_never_repeat() {
        let first = timestamp_version(parse_timestamp("20261125230000").unwrap());
        assert_eq!(first, "2026-11-25-230000");
        assert_eq!(recorded_version(&format!("{first}_x")), "20261125230000");
        // A version in the future (or generated this second) is followed, not repeated.
        let next = next_timestamp(&["2999-01-01-000000"]);
        assert_eq!(next, "2999-01-01-000001");
        assert!(next.as_str() > "2999-01-01-000000");
        let times = consecutive_timestamps(3);
        assert!(times[0] < times[1] && times[1] < times[2], "{times:?}");
    }

    #[test]
    fn folder_names() {
        assert_eq!(
            split_folder_name("2026-11-25-230000_create_heroes"),
            Ok(("2026-11-25-230000", "create_heroes"))
        );
        assert_eq!(
            split_folder_name("20261125230000_a_b"),
            Ok(("20261125230000", "a_b"))
        );
        for bad in ["create", "V1__x", "abc_x", "-_x", "_x"] {
            assert!(split_folder_name(bad).is_err(), "{bad}");
        }
    }
}
