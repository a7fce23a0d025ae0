//! The migrations folder: reading it, generating the next migration, applying
//! pending ones and reporting status.

mod apply;
pub mod check;
mod destructive;
mod dir;
mod generate;
pub mod history;
pub mod integrity;
mod lockstep;
pub mod runner;

pub use apply::{
    integrity_problems, migrate, migration_status, pending_migrations, AppliedEvent,
    MigrationStatus, StatusLine,
};
pub use dir::{load_migrations, validate_migration_name};
pub use generate::{generate, unsynced_changes, GenerateOptions, Generated};
