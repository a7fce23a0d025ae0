//! What each [`Migrator`](super::Migrator) method returns.

use std::time::Duration;

pub use crate::migrate::check::{Finding, FindingKind};

/// What [`Migrator::migrate`](super::Migrator::migrate) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The migrations this call applied, in order (empty when the database was
    /// up to date, or another process applied them first).
    pub applied: Vec<AppliedMigration>,
    /// The version the database is at now; `None` when there are no migrations.
    pub version: Option<i32>,
}

/// One migration applied by this call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Its version: the `3` of `V3__add_power.sql`.
    pub version: i32,
    /// Its name: the `add_power` of `V3__add_power.sql`.
    pub name: String,
    /// How long it took; when `batch` is more than 1, the time of the one round
    /// trip that applied it and the migrations sent with it (PostgreSQL), the
    /// same on each of them: their own times are not known.
    pub duration: Duration,
    /// How many migrations one round trip applied together with it (itself
    /// included); 1 when it was applied alone.
    pub batch: usize,
}

/// What [`Migrator::patch`](super::Migrator::patch) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patched {
    /// The patches this call applied, in the order they ran.
    pub applied: Vec<AppliedPatch>,
    /// Pending patches another process applied while this one waited for the
    /// lock (each patch still runs exactly once).
    pub applied_elsewhere: Vec<String>,
}

/// One patch applied by this call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedPatch {
    /// Its file name without the extension: `0002_spider_boy_joins_preventers`.
    pub name: String,
    /// How many rows it inserted, updated or deleted.
    pub rows_changed: u64,
    /// How long it took.
    pub duration: Duration,
}

/// Where a database stands: [`Migrator::status`](super::Migrator::status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `false` when the database does not exist yet (a missing SQLite file):
    /// everything is pending and nothing was created.
    pub exists: bool,
    /// The newest applied migration's version.
    pub version: Option<i32>,
    /// Every migration, applied or not, by version.
    pub migrations: Vec<MigrationStatus>,
    /// Every patch, applied or not, by name.
    pub patches: Vec<PatchStatus>,
}

impl Status {
    /// Whether every migration and every patch is applied, and nothing was
    /// edited or lost since.
    pub fn is_up_to_date(&self) -> bool {
        self.migrations.iter().all(|m| m.state == State::Applied)
            && self.patches.iter().all(|p| p.state == State::Applied)
    }

    /// The migrations not applied yet.
    pub fn pending_migrations(&self) -> impl Iterator<Item = &MigrationStatus> {
        self.migrations
            .iter()
            .filter(|m| matches!(m.state, State::Pending | State::OutOfOrder))
    }

    /// The patches not applied yet.
    pub fn pending_patches(&self) -> impl Iterator<Item = &PatchStatus> {
        self.patches.iter().filter(|p| p.state == State::Pending)
    }
}

/// One migration in a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Its version.
    pub version: i32,
    /// Its name.
    pub name: String,
    /// Where it stands.
    pub state: State,
    /// When it was applied, as the database recorded it; `None` if it was not.
    pub applied_on: Option<String>,
}

/// One patch in a [`Status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchStatus {
    /// Its file name without the extension.
    pub name: String,
    /// Where it stands ([`State::OutOfOrder`] does not occur for patches).
    pub state: State,
    /// The migration it is pinned to (`after = N`).
    pub after: Option<i32>,
}

/// Where one migration or patch stands on a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Applied, and the file is as it was then.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file was changed since: `migrate`/`patch` refuse.
    Changed,
    /// Applied, but the file is gone: `migrate`/`patch` refuse.
    Missing,
    /// A migration not applied yet that is older than applied ones: `migrate` refuses.
    OutOfOrder,
}

/// What [`Migrator::check`](super::Migrator::check) found; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Every finding, the most fundamental kind first.
    pub findings: Vec<Finding>,
}

impl Checked {
    /// Whether nothing at all was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings of one kind.
    pub fn of_kind(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}
