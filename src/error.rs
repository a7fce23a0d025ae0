//! The one error type every command returns, and the exit code each kind maps to.

use std::path::PathBuf;

use crate::diagnostics::FileProblems;

/// `Result` with strata's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit codes, documented in the README.
pub mod exit {
    /// Success.
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

/// Everything that can go wrong in strata, one variant per kind of failure, so an
/// application can decide what to do with each ([`Error::exit_code`] maps them
/// to the command line's exit codes). `Display` is the message `strata` prints:
/// it names the file, line or object, what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in an input file (schema.toml, a patch), each at its line and
    /// column, rendered like a compiler's diagnostics.
    #[error("{0}")]
    Problems(Box<FileProblems>),

    /// An input file is invalid as a whole (a misnamed migration, a version
    /// used twice, a symbolic link out of the project).
    #[error("{path}: {message}")]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// The request itself is wrong: an unrecognised URL, a folder that is not
    /// a project, a database that must exist and does not.
    #[error("{0}")]
    Usage(String),

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The database could not be reached, or refused the login. `database` is
    /// the URL with any password masked.
    #[error("{message}")]
    Connection {
        /// The URL, password masked.
        database: String,
        /// What went wrong, and what to check.
        message: String,
        /// The driver's error, when there is one.
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
        /// The migration file.
        file: PathBuf,
        /// What the database said.
        message: String,
        /// What state the database is in now.
        outcome: String,
        /// Whether the database (not the migration's SQL) stopped it.
        by_storage: bool,
    },

    /// A data patch failed and was rolled back; the message names the patch,
    /// the operation and what the database said.
    #[error("{0}")]
    PatchFailed(String),

    /// Another process held the migration lock for longer than `--lock-timeout`.
    #[error(
        "gave up after {waited_secs} s waiting for the migration lock{} {place}; another strata \
         is migrating or patching (raise --lock-timeout to wait longer)",
        holder.as_ref().map(|h| format!(" held by {h}")).unwrap_or_default()
    )]
    LockTimeout {
        /// How long it waited, in seconds.
        waited_secs: u64,
        /// Who holds it (`pid 123`), when the engine can tell.
        holder: Option<String>,
        /// Where the lock is (`on postgres://…`, `(app.db.strata-lock)`).
        place: String,
    },

    /// The live database differs from what its applied migrations build.
    #[error("{database} has drifted from what its applied migrations build:\n  {}", differences.join("\n  "))]
    Drift {
        /// The database's URL, password masked.
        database: String,
        /// Each difference, as the change that would bring it back.
        differences: Vec<String>,
    },

    /// strata refused before changing anything: an edited or missing migration
    /// or patch, an unsupported or destructive change, pending migrations
    /// before a patch.
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// The `strata` command's exit code for this error (see [`exit`]).
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

    /// An [`Error::Io`] for `path`.
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
