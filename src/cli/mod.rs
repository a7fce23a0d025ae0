//! The command line: clap parses, one file per command does the talking.

mod baseline;
mod check;
mod clone;
mod convert;
mod fleet;
mod generate;
mod hash;
mod init;
mod migrate;
pub mod output;
mod patch;
mod pull;
mod rollback;
mod setup;
mod status;

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

use crate::driver::{ConnectOptions, DatabaseUrl};
use crate::error::exit;
use crate::patch::PatchOptions;
use crate::project::Project;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Declare the schema once; strata builds, changes, patches and checks the database."
)]
pub struct Cli {
    /// The project folder (holding schema.toml, migrations/ and patches/).
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub project: PathBuf,

    /// Output: `human` lines, or one `json` document on stdout (shapes in docs/json.md).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        value_name = "FORMAT"
    )]
    pub format: output::Format,

    /// Print only errors and warnings.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print every statement and timing (on stderr).
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// Colour: `auto` (terminals only, never with NO_COLOR), `always` or `never`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: output::ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The options of commands that talk to a database (only those commands list them).
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// The database: sqlite:PATH, sqlite::memory:, postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…]
    /// or libpq settings ("host=… dbname=…"). Default: STRATA_DATABASE_URL, then
    /// DATABASE_URL, then [project] database in schema.toml, then sqlite:database.db.
    /// A password here is visible in `ps`; prefer the environment or PGPASSFILE.
    #[arg(
        long,
        env = "STRATA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Seconds to wait for a lock another process holds (another strata's
    /// migration or patch, or on SQLite the database's write lock) before giving up.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub lock_timeout: u64,

    /// Seconds one DDL statement may wait for a table lock on PostgreSQL (lock_timeout).
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    pub ddl_lock_timeout: u64,
}

/// A fleet: the command runs on many databases (README, "Fleets").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// Run on every database in FILE: one URL per line, or `name = URL`; blank
    /// lines and `#` comments are ignored; relative SQLite paths are relative to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "all_targets")]
    pub targets: Option<PathBuf>,
    /// Run on every database of `[targets]` in schema.toml.
    #[arg(long)]
    pub all_targets: bool,
    /// Only these named targets (of --targets FILE, else of `[targets]`), comma-separated.
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        conflicts_with = "all_targets"
    )]
    pub only: Vec<String>,
    /// Targets run at a time (default 4). Each takes its own database's lock.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallel: Option<u16>,
    /// Start no further target once one has failed (those running finish).
    #[arg(long)]
    pub fail_fast: bool,
}

impl FleetArgs {
    /// Whether a fleet was asked for.
    fn selected(&self) -> bool {
        self.targets.is_some() || self.all_targets || !self.only.is_empty()
    }
}

/// Targets at a time when --parallel is not given: enough to hide connection
/// and round-trip latency, few enough not to crowd a small server.
const DEFAULT_PARALLEL: u16 = 4;

impl Default for DatabaseArgs {
    fn default() -> Self {
        DatabaseArgs {
            database_url: None,
            lock_timeout: 60,
            ddl_lock_timeout: 10,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a project: a commented schema.toml, migrations/ and patches/.
    Init,
    /// Write the next migration, for every dialect, from the difference between
    /// schema.toml and what the migrations build.
    Generate {
        /// The migration's name, e.g. add_hero_power (letters, digits, underscores).
        name: String,
        /// Also generate changes that can lose data (dropped tables or columns, narrowed types).
        #[arg(long)]
        allow_destructive: bool,
        /// A PostgreSQL server where a scratch database replays migrations/postgres
        /// (so hand edits count); dropped afterwards.
        #[arg(
            long,
            env = "STRATA_DEV_URL",
            value_name = "URL",
            hide_env_values = true
        )]
        dev_url: Option<String>,
        /// A database to count, read only, the rows a new NOT NULL would hit
        /// (default: the --dev-url database). Never created; never migrated.
        #[arg(long, value_name = "URL")]
        database_url: Option<String>,
        /// Seconds each statement of a generated PostgreSQL migration may wait
        /// for a table lock: written into the file as `SET lock_timeout`, so any
        /// tool that runs it gets it (the same default as migrate's).
        #[arg(long, default_value_t = 10, value_name = "SECONDS")]
        ddl_lock_timeout: u64,
    },
    /// Apply pending migrations to the database.
    Migrate {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fleet: FleetArgs,
        /// Print the SQL of every pending migration, in order, and apply nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Undo the newest applied migration (or every one above --to N) with its
    /// down file, each in one transaction with its history row.
    Rollback {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Undo every applied migration above this version.
        #[arg(long, value_name = "VERSION")]
        to: Option<i32>,
        /// Also run down files marked `-- strata: irreversible` (their migration dropped data).
        #[arg(long)]
        allow_destructive: bool,
        /// Print the down SQL that would run, in order, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Apply pending data patches from patches/, once each, one transaction each.
    Patch {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fleet: FleetArgs,
        /// Run the patches, show every change and statement, then roll back.
        #[arg(long)]
        dry_run: bool,
        /// Print every statement with its parameters as it runs.
        #[arg(long)]
        echo: bool,
        /// Apply pending migrations first instead of refusing, stopping at each
        /// pinned patch's migration (`after = N`) to apply it there.
        #[arg(long)]
        migrate: bool,
        #[command(subcommand)]
        action: Option<PatchAction>,
    },
    /// CI database setup: create the database if missing, migrate, patch.
    Setup {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fleet: FleetArgs,
        /// Remove the database first and build it from nothing.
        #[arg(long)]
        fresh: bool,
        /// Confirm that --fresh may remove the database. Required: strata never
        /// asks, on a terminal or not, and refuses --fresh without it.
        #[arg(long)]
        yes: bool,
        /// Print every patch statement with its parameters as it runs.
        #[arg(long)]
        echo: bool,
        /// Build the template for `strata clone` instead (PostgreSQL: the database
        /// <db>_template; SQLite: a file in .strata/cache), only when it is missing
        /// or the migrations or patches changed.
        #[arg(long, conflicts_with_all = ["fresh", "echo", "targets", "all_targets", "only"])]
        template: bool,
    },
    /// Create a new database NAME, migrated and patched, by copying the template
    /// (built first when missing or out of date): PostgreSQL `CREATE DATABASE NAME
    /// TEMPLATE <db>_template` on the --database-url server; SQLite a copy to the file NAME.
    Clone {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The new database: a database name (PostgreSQL) or a file path (SQLite).
        name: String,
    },
    /// Show applied and pending migrations and patches.
    Status {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// CI gate: migration files intact (strata.sum), dialects in lockstep,
    /// schema.toml and migrations agree, and with --database-url no drift and
    /// nothing pending. Exit 0 when clean; see the README for the other codes.
    Check {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        fleet: FleetArgs,
        /// A PostgreSQL server where scratch databases replay migrations/postgres
        /// (default for the drift check: the --database-url server).
        #[arg(
            long,
            env = "STRATA_DEV_URL",
            value_name = "URL",
            hide_env_values = true
        )]
        dev_url: Option<String>,
    },
    /// Print a shell completion script: `strata completions bash > /etc/bash_completion.d/strata`.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `strata man > strata.1 && man ./strata.1`.
    Man,
    /// Rewrite the integrity file (migrations/<dialect>/strata.sum) after a
    /// deliberate hand edit of a migration that was never applied anywhere.
    Hash,
    /// Move the project between migration layouts: refinery's V<n>__<name>.sql
    /// and Diesel's <version>_<name>/up.sql folders; the database's history rows
    /// move between refinery_schema_history and __diesel_schema_migrations
    /// (nothing is run).
    Convert {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The layout to move to: diesel or refinery.
        #[arg(long, value_name = "LAYOUT", value_parser = ["diesel", "refinery"])]
        to: String,
        /// Move the files only; leave every database's history as it is.
        #[arg(long)]
        files_only: bool,
    },
    /// Start managing an existing database: check that it is what the migrations
    /// up to N build (replayed on a scratch database), then record them as applied
    /// without running them, under the migration lock.
    Baseline {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The last migration to record (default: the newest).
        #[arg(long, value_name = "N")]
        version: Option<i32>,
        /// A PostgreSQL server where a scratch database replays migrations/postgres
        /// (default: the --database-url server).
        #[arg(
            long,
            env = "STRATA_DEV_URL",
            value_name = "URL",
            hide_env_values = true
        )]
        dev_url: Option<String>,
    },
    /// Introspect the live database and print it as schema.toml.
    Pull {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite --output if it exists (its `[project]` table is kept).
        #[arg(long)]
        force: bool,
        /// Write schema.toml even though the database has objects strata does
        /// not manage (CHECK constraints, views, triggers, …): they are named on
        /// stderr and left out. Without it pull writes nothing then (exit 5).
        #[arg(long)]
        allow_unmanaged: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatchAction {
    /// Write patches/<next number>_<NAME>.toml from a commented template, pinned
    /// to the latest migration (`after = N`); never overwrites a file.
    New {
        /// The patch's name, e.g. add_heroes (letters, digits, underscores).
        name: String,
    },
}

impl Command {
    /// The database options, for the commands that have them.
    fn database_args(&self) -> Option<&DatabaseArgs> {
        match self {
            Command::Migrate { db, .. }
            | Command::Rollback { db, .. }
            | Command::Patch { db, .. }
            | Command::Setup { db, .. }
            | Command::Clone { db, .. }
            | Command::Status { db, .. }
            | Command::Check { db, .. }
            | Command::Convert { db, .. }
            | Command::Baseline { db, .. }
            | Command::Pull { db, .. } => Some(db),
            Command::Init
            | Command::Generate { .. }
            | Command::Hash
            | Command::Completions { .. }
            | Command::Man => None,
        }
    }

    /// The fleet options and the command's name, for the commands that have them.
    fn fleet_args(&self) -> Option<(&FleetArgs, &'static str)> {
        match self {
            Command::Migrate { fleet, .. } => Some((fleet, "migrate")),
            Command::Patch { fleet, .. } => Some((fleet, "patch")),
            Command::Setup { fleet, .. } => Some((fleet, "setup")),
            Command::Status { fleet, .. } => Some((fleet, "status")),
            Command::Check { fleet, .. } => Some((fleet, "check")),
            _ => None,
        }
    }
}

/// What every command that touches a database needs.
#[derive(Clone)]
pub(crate) struct Context {
    pub project: Project,
    pub database_url: Option<String>,
    /// The database of one fleet target, already parsed (it wins over `database_url`).
    pub target: Option<DatabaseUrl>,
    pub lock_timeout: Duration,
    pub connect: ConnectOptions,
    /// In a fleet: the schemas inspected so far, by migration and patch
    /// history, so targets with the same history are not inspected again.
    pub schemas: Option<std::sync::Arc<crate::patch::SchemaMemo>>,
}

impl Context {
    pub fn url(&self) -> crate::Result<DatabaseUrl> {
        match &self.target {
            Some(url) => Ok(url.clone()),
            None => self.project.database_url(self.database_url.as_deref()),
        }
    }

    /// The database named for this run (a fleet target, `--database-url` or
    /// DATABASE_URL), not the project's default: `check` looks at a live
    /// database only when one is named.
    pub fn named_url(&self) -> crate::Result<Option<DatabaseUrl>> {
        match (&self.target, &self.database_url) {
            (Some(url), _) => Ok(Some(url.clone())),
            (None, Some(text)) => DatabaseUrl::parse(text, std::path::Path::new(".")).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(_) if crate::driver::INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) => {
            output::error("interrupted; scratch databases were dropped");
            exit::INTERRUPTED
        }
        Err(error) => {
            match &error {
                crate::Error::Problems(problems) => {
                    output::write_stderr(&format!("{}\n", problems.render(output::color_stderr())))
                }
                other => output::error(&other.to_string()),
            }
            error.exit_code()
        }
    }
}

pub fn run(cli: Cli) -> crate::Result<i32> {
    output::Settings::new(cli.format, cli.quiet, cli.verbose, cli.color).install();
    // STRATA_DATABASE_URL (read by clap) overrides DATABASE_URL, so an application
    // whose DATABASE_URL strata cannot read (or should not touch) can point strata
    // elsewhere. An empty variable counts as unset.
    let db = cli.command.database_args().cloned().unwrap_or_default();
    let database_url = db.database_url.filter(|url| !url.is_empty()).or_else(|| {
        std::env::var("DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
    });
    let context = Context {
        project: Project::new(&cli.project),
        database_url,
        target: None,
        lock_timeout: Duration::from_secs(db.lock_timeout),
        connect: ConnectOptions {
            ddl_lock_timeout: Duration::from_secs(db.ddl_lock_timeout),
            lock_timeout: Duration::from_secs(db.lock_timeout),
        },
        schemas: None,
    };
    let needs_project = !matches!(
        cli.command,
        Command::Init | Command::Pull { .. } | Command::Completions { .. } | Command::Man
    );
    if needs_project {
        context.project.require()?;
    }
    if let Some((fleet, name)) = cli.command.fleet_args() {
        if fleet.selected() {
            if let Command::Patch {
                action: Some(_), ..
            } = &cli.command
            {
                return Err(crate::Error::Usage(
                    "`patch new` writes a file and touches no database; drop --targets/--all-targets/--only"
                        .into(),
                ));
            }
            let targets = fleet::targets::load(
                &context.project,
                fleet.targets.as_deref(),
                fleet.all_targets,
                &fleet.only,
            )?;
            let options = fleet::FleetOptions {
                parallel: usize::from(fleet.parallel.unwrap_or(DEFAULT_PARALLEL)),
                fail_fast: fleet.fail_fast,
            };
            return fleet::run(&context, name, targets, options, |target| {
                run_on_database(&cli.command, target)
            });
        }
        if fleet.parallel.is_some() || fleet.fail_fast {
            return Err(crate::Error::Usage(
                "--parallel and --fail-fast apply to a fleet: add --targets FILE, --all-targets or --only NAME"
                    .into(),
            ));
        }
    }
    match &cli.command {
        Command::Init => init::run(&context.project),
        Command::Generate {
            name,
            allow_destructive,
            dev_url,
            database_url,
            ddl_lock_timeout,
        } => generate::run(
            &context.project,
            name,
            *allow_destructive,
            dev_url.as_deref(),
            database_url.as_deref(),
            Duration::from_secs(*ddl_lock_timeout),
        ),
        Command::Migrate { .. }
        | Command::Patch { action: None, .. }
        | Command::Setup {
            template: false, ..
        }
        | Command::Status { .. }
        | Command::Check { .. } => run_on_database(&cli.command, &context),
        Command::Rollback {
            to,
            allow_destructive,
            dry_run,
            ..
        } => rollback::run(&context, *to, *allow_destructive, *dry_run),
        Command::Patch {
            action: Some(PatchAction::New { name }),
            ..
        } => patch::run_new(&context.project, name),
        Command::Setup { template: true, .. } => clone::setup_template(&context),
        Command::Clone { name, .. } => clone::run(&context, name),
        Command::Baseline {
            version, dev_url, ..
        } => baseline::run(&context, *version, dev_url.as_deref()),
        Command::Hash => hash::run(&context.project),
        Command::Convert { to, files_only, .. } => convert::run(&context, to, *files_only),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "strata", &mut script);
            output::document(&String::from_utf8_lossy(&script));
            Ok(exit::OK)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|error| crate::Error::io("<stdout>", error))?;
            output::document(&String::from_utf8_lossy(&page));
            Ok(exit::OK)
        }
        Command::Pull {
            output,
            force,
            allow_unmanaged,
            ..
        } => pull::run(&context, output.as_deref(), *force, *allow_unmanaged),
    }
}

/// The commands that run on one database (or, in a fleet, on each target in turn).
fn run_on_database(command: &Command, context: &Context) -> crate::Result<i32> {
    match command {
        Command::Migrate { dry_run, .. } => migrate::run(context, *dry_run),
        Command::Patch {
            dry_run,
            echo,
            migrate,
            ..
        } => patch::run(
            context,
            PatchOptions {
                dry_run: *dry_run,
                echo: *echo,
                lock_timeout: context.lock_timeout,
            },
            *migrate,
        ),
        Command::Setup {
            fresh, yes, echo, ..
        } => setup::run(context, *fresh, *yes, *echo),
        Command::Status { .. } => status::run(context),
        Command::Check { dev_url, .. } => check::run(context, dev_url.as_deref()),
        other => Err(crate::Error::Usage(format!(
            "{other:?} does not run on a database"
        ))),
    }
}

pub(crate) use crate::text::plural;
