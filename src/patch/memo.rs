//! Schemas already inspected, shared by the targets of a fleet.
//!
//! Patches are checked and bound against the schema of the database they run
//! on. Read from the catalog, that schema costs a dozen catalog queries per
//! database, the largest part of what the server does for a tenant whose data
//! is a few rows. In a fleet the tenants are built by the same migrations and
//! patches, so the schema is read once per *history* — the engine, every applied
//! migration (version and checksum) and every applied patch (name and checksum,
//! since a SQL patch may change the schema too) — and every target with the very
//! same history is checked against it. A target whose history differs (ahead,
//! behind, another migration edited in place) is inspected on its own.
//!
//! What a history cannot show is a schema changed by hand behind strata's back;
//! such a target's patch then fails when it runs, in its transaction, leaving
//! the target as it was (`strata check --targets` reports the drift).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::driver::{AppliedMigration, AppliedPatch, Database};
use crate::schema::Schema;
use crate::Result;

/// The schemas a fleet has inspected, by history.
#[derive(Default)]
pub struct SchemaMemo {
    schemas: Mutex<HashMap<String, Arc<Schema>>>,
    inspected: AtomicUsize,
    reused: AtomicUsize,
}

impl SchemaMemo {
    /// The schema of `database`, whose migration and patch history are these:
    /// the one inspected for the same history earlier, or a fresh inspection
    /// (remembered for the targets after it).
    pub fn schema(
        &self,
        database: &mut dyn Database,
        migrations: &[AppliedMigration],
        patches: &[AppliedPatch],
    ) -> Result<Schema> {
        let key = key(database.engine(), migrations, patches);
        if let Some(schema) = self.lock().get(&key) {
            self.reused.fetch_add(1, Ordering::Relaxed);
            return Ok(Schema::clone(schema));
        }
        // Not under the lock: targets with other histories need not wait. Two
        // targets with the same new history may both inspect; both are right.
        let schema = database.inspect()?;
        self.inspected.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(key, Arc::new(schema.clone()));
        Ok(schema)
    }

    /// (inspections, reuses) so far.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.inspected.load(Ordering::Relaxed),
            self.reused.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Schema>>> {
        // A panic in one target never leaves the map half-written (one insert).
        self.schemas.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The history that proves a schema, as one string.
fn key(
    engine: crate::script::Engine,
    migrations: &[AppliedMigration],
    patches: &[AppliedPatch],
) -> String {
    let mut key = format!("{engine:?}");
    let mut migrations: Vec<&AppliedMigration> = migrations.iter().collect();
    migrations.sort_by_key(|m| m.version);
    for migration in migrations {
        let _ = write!(key, "|V{}:{}", migration.version, migration.checksum);
    }
    key.push_str("|patches");
    let mut patches: Vec<&AppliedPatch> = patches.iter().collect();
    patches.sort_by(|a, b| a.name.cmp(&b.name));
    for patch in patches {
        let _ = write!(key, "|{}:{}", patch.name, patch.checksum);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: i32, checksum: u64) -> AppliedMigration {
        AppliedMigration {
            version,
            name: format!("m{version}"),
            checksum,
            applied_on: String::new(),
        }
    }

    fn patch(name: &str, checksum: &str) -> AppliedPatch {
        AppliedPatch {
            name: name.into(),
            checksum: checksum.into(),
            rows_changed: 0,
            applied_at: String::new(),
            duration_ms: 0,
        }
    }

    /// Ahead, behind, an edited migration, another patch or another engine is
    /// another history, so another inspection.
    #[test]
    fn a_key_is_the_whole_history() {
        let pg = crate::script::Engine::Postgres;
        let base = key(pg, &[migration(1, 7)], &[patch("0001_a", "x")]);
        assert_eq!(base, key(pg, &[migration(1, 7)], &[patch("0001_a", "x")]));
        for other in [
            key(
                pg,
                &[migration(1, 7), migration(2, 8)],
                &[patch("0001_a", "x")],
            ),
            key(pg, &[], &[patch("0001_a", "x")]),
            key(pg, &[migration(1, 9)], &[patch("0001_a", "x")]),
            key(pg, &[migration(1, 7)], &[]),
            key(pg, &[migration(1, 7)], &[patch("0001_a", "y")]),
            key(
                crate::script::Engine::Sqlite,
                &[migration(1, 7)],
                &[patch("0001_a", "x")],
            ),
        ] {
            assert_ne!(base, other);
        }
    }
}
