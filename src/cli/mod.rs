//! The command line: clap parses, one file per command does the talking.

mod generate;
mod init;
mod migrate;
mod status;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::exit;
use crate::project::Project;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Declare the schema once; strata builds, changes and checks the database."
)]
pub struct Cli {
    /// The project folder (holding schema.toml, migrations/ and patches/).
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub project: PathBuf,

    /// The database: sqlite:PATH, sqlite::memory: or postgres://… (default: [project] database, then sqlite:database.db).
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a project: a commented schema.toml, migrations/ and patches/.
    Init,
    /// Write the next migration from the difference between schema.toml and the migrations.
    Generate {
        /// The migration's name, e.g. add_hero_power (letters, digits, underscores).
        name: String,
        /// Also generate changes that can lose data (dropped tables or columns, narrowed types).
        #[arg(long)]
        allow_destructive: bool,
    },
    /// Apply pending migrations to the database.
    Migrate,
    /// Show applied and pending migrations.
    Status,
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
        Err(error) => {
            match &error {
                crate::Error::Problems(problems) => eprintln!("{problems}"),
                other => eprintln!("error: {other}"),
            }
            error.exit_code()
        }
    }
}

pub fn run(cli: Cli) -> crate::Result<i32> {
    let project = Project::new(&cli.project);
    let url = cli.database_url.as_deref();
    match &cli.command {
        Command::Init => init::run(&project),
        Command::Generate {
            name,
            allow_destructive,
        } => generate::run(&project, name, *allow_destructive),
        Command::Migrate => migrate::run(&project, url),
        Command::Status => status::run(&project, url),
    }
}

/// `N thing` / `N things`.
pub(crate) fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("{count} {word}")
    } else {
        format!("{count} {word}s")
    }
}
