//! The schema at a point in the history, for checking patches pinned there.

use crate::driver::{self, MigrationScript};
use crate::schema::Schema;
use crate::Result;

/// The schema migrations up to `version` build, replayed on an empty database
/// of `dialect` where strata can do that on its own (SQLite, in memory); `None`
/// where it would need a server (PostgreSQL).
pub fn schema_at(
    dialect: &str,
    scripts: &[MigrationScript],
    version: i32,
) -> Result<Option<Schema>> {
    let Some(dialect) = driver::dialect(dialect) else {
        return Ok(None);
    };
    let upto: Vec<MigrationScript> = scripts
        .iter()
        .filter(|script| script.version <= version)
        .cloned()
        .collect();
    dialect.replay(&upto, None)
}
