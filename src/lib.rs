//! strata: declare the schema once; generate, apply and check migrations.
//!
//! Data flows one way: text → model → changes → SQL → database.
//! - [`schema`] is the model and the schema.toml parser; it knows no database.
//! - [`diff`] turns two models into an ordered list of [`schema::Change`]s.
//! - [`driver`] holds the shared traits and one folder per database.
//! - [`script`] splits and checks the SQL users wrote before it runs.
//! - [`migrate`] owns the migrations folder, `generate` and `apply`.
//! - [`cli`] is the thin clap layer on top.

pub mod cli;
pub mod diagnostics;
pub mod diff;
pub mod driver;
pub mod error;
pub mod file_text;
pub mod migrate;
mod migrator;
pub mod patch;
pub mod project;
pub mod schema;
pub mod script;
pub mod spanned_toml;
pub mod text;

pub use error::{Error, Result};
pub use migrator::{
    AppliedMigration, AppliedPatch, Checked, Finding, FindingKind, MigrationStatus, Migrated,
    Migrator, PatchStatus, Patched, State, Status,
};

/// Used by [`embed_migrations!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use include_dir;
}
