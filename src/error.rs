//! The one error type every command returns, and the exit code each kind maps to.

use std::path::PathBuf;

use crate::diagnostics::FileProblems;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    /// A database or file could not be read, written or reached, including a
    /// migration or patch stopped by the database itself (read-only, disk full,
    /// I/O error, connection lost): rolled back too, but not the file's fault.
    pub const RUNTIME: i32 = 1;
    /// The command line itself is wrong (clap uses 2 as well).
    pub const USAGE: i32 = 2;
    /// An input file (schema.toml, a migration's name, a patch) is invalid.
    pub const INVALID_INPUT: i32 = 3;
    /// A migration or patch failed; it was rolled back and the database is as it was before it.
    pub const MIGRATION_FAILED: i32 = 4;
    /// strata refused: an unsupported or destructive change, or an applied file was edited.
    pub const REFUSED: i32 = 5;
    /// Interrupted by Ctrl-C (128 + SIGINT), after cleaning up.
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Problems(Box<FileProblems>),

    #[error("{path}: {message}")]
    InvalidFile { path: PathBuf, message: String },

    #[error("{0}")]
    Usage(String),

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The database could not be reached, or refused the login. `database` is
    /// the URL with any password masked.
    #[error("{message}")]
    Connection {
        database: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A statement strata itself sent failed.
    #[error("{0}")]
    Database(String),

    /// The database could not do what was asked of it for reasons outside the
    /// statement: read-only, disk full, I/O error, connection lost.
    #[error("{0}")]
    Storage(String),

    /// A migration failed and was rolled back: `file` is the migration,
    /// `message` what the database said, `outcome` what state the database is in
    /// now. `by_storage`: the database itself (read-only, disk full, lost
    /// connection) stopped it, not its SQL.
    #[error("migration {} failed: {message}\n  {outcome}", file.display())]
    MigrationFailed {
        file: PathBuf,
        message: String,
        outcome: String,
        by_storage: bool,
    },

    #[error("{0}")]
    PatchFailed(String),

    /// Another process held the migration lock for longer than `--lock-timeout`.
    #[error(
        "gave up after {waited_secs} s waiting for the migration lock{} {place}; another strata \
         is migrating or patching (raise --lock-timeout to wait longer)",
        holder.as_ref().map(|h| format!(" held by {h}")).unwrap_or_default()
    )]
    LockTimeout {
        waited_secs: u64,
        /// Who holds it (`pid 123`), when the engine can tell.
        holder: Option<String>,
        /// Where the lock is (`on postgres://…`, `(app.db.strata-lock)`).
        place: String,
    },

    /// The live database differs from what its applied migrations build.
    #[error("{database} has drifted from what its applied migrations build:\n  {}", differences.join("\n  "))]
    Drift {
        database: String,
        differences: Vec<String>,
    },

    #[error("{0}")]
    Refused(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Problems(_) | Error::InvalidFile { .. } => exit::INVALID_INPUT,
            Error::Usage(_) => exit::USAGE,
            Error::Io { .. }
            | Error::Connection { .. }
            | Error::Database(_)
            | Error::Storage(_) => exit::RUNTIME,
            Error::MigrationFailed { by_storage, .. } => {
                if *by_storage {
                    exit::RUNTIME
                } else {
                    exit::MIGRATION_FAILED
                }
            }
            Error::PatchFailed(_) => exit::MIGRATION_FAILED,
            Error::Refused(_) | Error::LockTimeout { .. } => exit::REFUSED,
            Error::Drift { .. } => crate::migrate::check::FindingKind::Drift.exit_code(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<FileProblems> for Error {
    fn from(problems: FileProblems) -> Self {
        Error::Problems(Box::new(problems))
    }
}
