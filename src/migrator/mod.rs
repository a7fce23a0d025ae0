//! The library API for applications: a [`Migrator`] built from a project folder
//! or from migrations embedded at compile time, that migrates, patches, reports
//! and checks a database at start-up. It is the CLI's engine without the CLI:
//! the same integrity checks, the same migration lock (so any number of
//! application instances and `strata` commands can start at once), the same
//! typed [`Error`]s.

mod report;
mod source;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::driver::{self, ConnectOptions, Database, DatabaseUrl};
use crate::migrate::check::check_database_with;
use crate::migrate::{migrate_files, migration_status, StatusLine};
use crate::patch::{
    apply_patches, check_pins, patch_status, PatchEvent, PatchOptions, PatchState, Stage,
};
use crate::project::Project;
use crate::{Error, Result};

pub use report::{
    AppliedMigration, AppliedPatch, Checked, Finding, FindingKind, Migrated, MigrationStatus,
    PatchStatus, Patched, State, Status,
};
use source::Source;

/// Migrates and patches databases from a strata project: the migrations of each
/// dialect (`migrations/sqlite/`, `migrations/postgres/`, each with its
/// `strata.sum`) and the data patches (`patches/`).
///
/// Build one with [`Migrator::from_folder`] (files read at run time) or
/// [`embed_migrations!`](crate::embed_migrations) (files compiled into the
/// application), then call [`migrate`](Migrator::migrate) and
/// [`patch`](Migrator::patch) at start-up. Each call opens its own connection
/// from a URL (`sqlite:app.db`, `postgres://user@host/db`) and closes it before
/// returning; nothing is async.
#[derive(Debug, Clone)]
pub struct Migrator {
    source: Source,
    lock_timeout: Duration,
}

impl Migrator {
    /// A migrator over the project folder `root` (the folder holding
    /// schema.toml), read afresh by every call. Refuses a folder without
    /// schema.toml, so a wrong path never creates or migrates a database.
    pub fn from_folder(root: impl Into<PathBuf>) -> Result<Self> {
        let project = Project::new(root);
        project.require()?;
        Ok(Migrator::new(Source::Folder(project)))
    }

    /// A migrator over folders embedded in the program; use
    /// [`embed_migrations!`](crate::embed_migrations) rather than calling this.
    /// `migrations` holds one folder per dialect; `patches` the patch files.
    pub fn from_embedded(
        migrations: &'static include_dir::Dir<'static>,
        patches: Option<&'static include_dir::Dir<'static>>,
    ) -> Self {
        Migrator::new(Source::Embedded {
            migrations,
            patches,
        })
    }

    fn new(source: Source) -> Self {
        Migrator {
            source,
            lock_timeout: driver::DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// How long to wait for the migration lock while another process (another
    /// instance of the application, or `strata`) migrates or patches the same
    /// database; then the call fails with [`Error::LockTimeout`]. Default: 60 s.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// Applies every pending migration, each in its own transaction, under the
    /// migration lock, creating a SQLite file that does not exist yet.
    ///
    /// Refuses ([`Error::Refused`]) before anything runs when a migration file
    /// differs from its `strata.sum`, or an applied migration was edited or is
    /// missing. A failing migration is rolled back and reported as
    /// [`Error::MigrationFailed`]; the ones before it stay applied.
    pub fn migrate(&self, url: &str) -> Result<Migrated> {
        let url = parse_url(url)?;
        let mut database = driver::connect(&url, self.connect_options())?;
        self.migrate_on(&url, database.as_mut())
    }

    fn migrate_on(&self, url: &DatabaseUrl, database: &mut dyn Database) -> Result<Migrated> {
        let files = self.source.migrations(url.dialect_name())?;
        let mut applied = Vec::new();
        let status = migrate_files(
            database,
            &files,
            None,
            self.lock_timeout,
            &mut |_| {},
            |event| {
                applied.push(AppliedMigration {
                    version: event.script.version,
                    name: event.script.name.clone(),
                    duration: event.duration,
                    batch: event.batch,
                })
            },
        )?;
        let version = status
            .pending()
            .last()
            .map(|script| script.version)
            .or(status.current_version());
        Ok(Migrated { applied, version })
    }

    /// Applies every pending data patch, each once, in its own transaction
    /// with its history row. The database must have every migration first
    /// (call [`migrate`](Migrator::migrate) before): otherwise this refuses
    /// with [`Error::Refused`] and applies nothing.
    pub fn patch(&self, url: &str) -> Result<Patched> {
        let url = parse_url(url)?;
        let mut database = driver::connect(&url, self.connect_options())?;
        let database = database.as_mut();
        let files = self.source.migrations(url.dialect_name())?;
        let scripts = files.scripts()?;
        let status = migration_status(&database.applied_migrations()?, &scripts);
        let mut problems = status.problems();
        let pending: Vec<String> = status.pending().iter().map(|s| s.stem()).collect();
        if !pending.is_empty() {
            problems.push(format!(
                "{} migration(s) pending ({}): migrate first",
                pending.len(),
                pending.join(", ")
            ));
        }
        if !problems.is_empty() {
            return Err(Error::Refused(format!(
                "{url}: no patch was applied:\n  {}",
                problems.join("\n  ")
            )));
        }
        let patches = self.source.patches()?;
        check_pins(&patches, &scripts, &files.folder)?;
        let mut patched = Patched {
            applied: Vec::new(),
            applied_elsewhere: Vec::new(),
        };
        let options = PatchOptions {
            lock_timeout: self.lock_timeout,
            ..PatchOptions::default()
        };
        apply_patches(
            database,
            &patches,
            Stage::All,
            options,
            &mut |event| match event {
                PatchEvent::Finished {
                    patch,
                    rows_changed,
                    duration,
                } => patched.applied.push(AppliedPatch {
                    name: patch.name.clone(),
                    rows_changed,
                    duration,
                }),
                PatchEvent::AppliedElsewhere(patch) => {
                    patched.applied_elsewhere.push(patch.name.clone())
                }
                _ => {}
            },
        )?;
        Ok(patched)
    }

    /// Where the database stands: each migration and patch, applied or not.
    /// Only reads; a SQLite file that does not exist is not created.
    pub fn status(&self, url: &str) -> Result<Status> {
        let url = parse_url(url)?;
        let scripts = self.source.migrations(url.dialect_name())?.scripts()?;
        let patches = self.source.patches()?;
        let (exists, applied, applied_patches) =
            match driver::open_existing(&url, self.connect_options())? {
                None => (false, Vec::new(), Vec::new()),
                Some(mut database) => (
                    true,
                    database.applied_migrations()?,
                    database.applied_patches()?,
                ),
            };
        let status = migration_status(&applied, &scripts);
        let migrations = status
            .lines
            .iter()
            .map(|line| {
                let (state, version, name, applied_on) = match line {
                    StatusLine::Applied(a) => (State::Applied, a.version, &a.name, Some(a)),
                    StatusLine::Changed(a) => (State::Changed, a.version, &a.name, Some(a)),
                    StatusLine::Missing(a) => (State::Missing, a.version, &a.name, Some(a)),
                    StatusLine::Pending(s) => (State::Pending, s.version, &s.name, None),
                    StatusLine::OutOfOrder(s) => (State::OutOfOrder, s.version, &s.name, None),
                };
                MigrationStatus {
                    version,
                    name: name.clone(),
                    state,
                    applied_on: applied_on.map(|a| a.applied_on.clone()),
                }
            })
            .collect();
        let patches = patch_status(&applied_patches, &patches)
            .into_iter()
            .map(|line| PatchStatus {
                state: match line.state {
                    PatchState::Applied(_) => State::Applied,
                    PatchState::Pending => State::Pending,
                    PatchState::Changed(_) => State::Changed,
                    PatchState::Missing(_) => State::Missing,
                },
                name: line.name,
                after: line.after,
            })
            .collect();
        Ok(Status {
            exists,
            version: status.current_version(),
            migrations,
            patches,
        })
    }

    /// `strata check` for one database, reading only: the migration files
    /// against their `strata.sum`, applied migrations edited or missing, the
    /// live schema against what its applied migrations build (drift; on
    /// PostgreSQL the migrations are replayed in a scratch database on the same
    /// server, which needs the CREATEDB privilege), and pending work.
    ///
    /// Findings are returned, not raised: decide which of them stop your
    /// application (see [`Checked::of_kind`]). A SQLite file that does not
    /// exist is an [`Error::Usage`]; it is not created.
    pub fn check(&self, url: &str) -> Result<Checked> {
        let url = parse_url(url)?;
        let dialect = url.dialect_name();
        let files = self.source.migrations(dialect)?;
        let scripts = files.scripts()?;
        let patches = self.source.patches()?;
        let Some(mut database) = driver::open_existing(&url, self.connect_options())? else {
            return Err(Error::Usage(format!(
                "{url}: the database file does not exist (check never creates one)"
            )));
        };
        let mut findings: Vec<Finding> = crate::migrate::integrity::verify_files(&files, &scripts)
            .into_iter()
            .map(|problem| Finding {
                kind: FindingKind::Integrity,
                dialect: Some(dialect.to_string()),
                message: format!("{}: {problem}", files.folder.display()),
                sql: Vec::new(),
            })
            .collect();
        findings.extend(check_database_with(
            self.source.project(),
            &scripts,
            &patches,
            &url,
            database.as_mut(),
            None,
        )?);
        findings.sort_by_key(|finding| finding.kind);
        Ok(Checked { findings })
    }

    /// Where this migrator's migrations for `dialect` (`sqlite`, `postgres`)
    /// are: the folder on disk, or `migrations/<dialect>` when embedded.
    pub fn migrations_folder(&self, dialect: &str) -> PathBuf {
        self.source.migrations_label(dialect)
    }

    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            lock_timeout: self.lock_timeout,
            ..ConnectOptions::default()
        }
    }
}

/// URLs given to the library are relative to the working directory, as on the
/// command line.
fn parse_url(url: &str) -> Result<DatabaseUrl> {
    DatabaseUrl::parse(url, Path::new("."))
}

/// Embeds a project's migrations (and, optionally, its patches) in the program
/// at compile time and evaluates to a [`Migrator`] over them; no `build.rs` and
/// no extra dependency needed.
///
/// Paths are string literals; start them with `$CARGO_MANIFEST_DIR/` (the
/// folder of your `Cargo.toml`) so they do not depend on where `cargo` runs:
///
/// ```no_run
/// let migrator = strata::embed_migrations!(
///     "$CARGO_MANIFEST_DIR/migrations",
///     patches = "$CARGO_MANIFEST_DIR/patches"
/// );
/// migrator.migrate("sqlite:app.db")?;
/// migrator.patch("sqlite:app.db")?;
/// # Ok::<(), strata::Error>(())
/// ```
///
/// The migrations folder holds one folder per dialect (`sqlite/`,
/// `postgres/`), each with its `strata.sum`: embedded migrations are checked
/// against it exactly like files on disk. An edited file is picked up by the
/// next build; after *adding* a migration or patch, touch the file that calls
/// the macro (or `cargo clean -p` your crate) so it is embedded too.
#[macro_export]
macro_rules! embed_migrations {
    // `tt`, not `literal`: include_dir! wants a bare string token, and a
    // `literal` fragment reaches it wrapped in an invisible group.
    ($migrations:tt $(,)?) => {{
        use $crate::__private::include_dir;
        static MIGRATIONS: include_dir::Dir<'static> = include_dir::include_dir!($migrations);
        $crate::Migrator::from_embedded(&MIGRATIONS, ::core::option::Option::None)
    }};
    ($migrations:tt, patches = $patches:tt $(,)?) => {{
        use $crate::__private::include_dir;
        static MIGRATIONS: include_dir::Dir<'static> = include_dir::include_dir!($migrations);
        static PATCHES: include_dir::Dir<'static> = include_dir::include_dir!($patches);
        $crate::Migrator::from_embedded(&MIGRATIONS, ::core::option::Option::Some(&PATCHES))
    }};
}
