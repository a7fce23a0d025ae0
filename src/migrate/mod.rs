//! The migrations folder: reading it, generating the next migration, applying
//! pending ones and reporting status.

mod apply;
pub mod check;
pub mod convert;
mod destructive;
pub mod diesel;
mod dir;
pub mod directive;
mod generate;
pub mod history;
pub mod integrity;
pub mod layout;
mod lockstep;
mod replay;
pub mod replay_cache;
pub mod rollback;
pub mod runner;
pub mod template;

pub use apply::{
    applied_migrations, checksum, integrity_problems, integrity_problems_of, migrate,
    migrate_files, migration_status, pending_migrations, AppliedEvent, MigrationStatus, StatusLine,
};
pub use dir::{load_migrations, validate_migration_name, validate_name, MigrationFiles};
pub use generate::{generate, unsynced_changes, GenerateOptions, Generated};
pub use replay::schema_at;
