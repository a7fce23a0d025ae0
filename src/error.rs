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

    #[error("{0}")]
    Database(String),

    /// The database could not do what was asked of it for reasons outside the
    /// statement: read-only, disk full, I/O error, connection lost.
    #[error("{0}")]
    Storage(String),

    #[error("{0}")]
    MigrationFailed(String),

    #[error("{0}")]
    PatchFailed(String),

    #[error("{0}")]
    Refused(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Problems(_) | Error::InvalidFile { .. } => exit::INVALID_INPUT,
            Error::Usage(_) => exit::USAGE,
            Error::Io { .. } | Error::Database(_) | Error::Storage(_) => exit::RUNTIME,
            Error::MigrationFailed(_) | Error::PatchFailed(_) => exit::MIGRATION_FAILED,
            Error::Refused(_) => exit::REFUSED,
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
