//! strata: declare the schema once; generate, apply, patch and check migrations
//! for SQLite and PostgreSQL.
//!
//! Most people use the `strata` command. This library is for applications that
//! bring their own database up to date when they start: a [`Migrator`] over a
//! strata project's migrations and data patches, embedded in the program with
//! [`embed_migrations!`] or read from the project folder with
//! [`Migrator::from_folder`]. It applies each migration and patch exactly once,
//! under the same lock as the command line, so any number of instances (and
//! `strata` itself) can start at once; it refuses edited migrations by their
//! `strata.sum`; and every failure is a typed [`Error`].
//!
//! ```no_run
//! fn main() -> strata::Result<()> {
//!     let migrator = strata::embed_migrations!(
//!         "$CARGO_MANIFEST_DIR/migrations",
//!         patches = "$CARGO_MANIFEST_DIR/patches"
//!     );
//!     let url = std::env::var("DATABASE_URL").unwrap_or("sqlite:app.db".into());
//!     let migrated = migrator.migrate(&url)?;
//!     migrator.patch(&url)?;
//!     println!("database at V{:?}, {} migration(s) applied", migrated.version, migrated.applied.len());
//!     Ok(())
//! }
//! ```
//!
//! Only the items documented here are the library's API. The modules below
//! (hidden from these docs) are strata's internals, public for the `strata`
//! binary and its tests; they change without notice.
//!
//! Inside, data flows one way: text → model → changes → SQL → database.
//! - `schema` is the model and the schema.toml parser; it knows no database.
//! - `diff` turns two models into an ordered list of changes.
//! - `driver` holds the shared traits and one folder per database.
//! - `script` splits and checks the SQL users wrote before it runs.
//! - `migrate` owns the migrations folder, `generate` and `apply`.
//! - `cli` is the thin clap layer on top.

#![warn(missing_docs)]

// Its doc comments are clap's --help text, written for a terminal, not rustdoc.
#[allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod diagnostics;
#[doc(hidden)]
pub mod diff;
#[doc(hidden)]
pub mod driver;
pub mod error;
#[doc(hidden)]
pub mod file_text;
#[doc(hidden)]
pub mod migrate;
mod migrator;
#[doc(hidden)]
pub mod patch;
#[doc(hidden)]
pub mod project;
#[doc(hidden)]
pub mod schema;
#[doc(hidden)]
pub mod script;
#[doc(hidden)]
pub mod spanned_toml;
#[doc(hidden)]
pub mod sql_text;
#[doc(hidden)]
pub mod text;

pub use error::{Error, Result};
pub use migrator::{
    AppliedMigration, AppliedPatch, Checked, Finding, FindingKind, Migrated, MigrationStatus,
    Migrator, PatchStatus, Patched, State, Status,
};

/// Used by [`embed_migrations!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use include_dir;
}
