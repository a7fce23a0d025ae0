use std::io::IsTerminal;

use super::migrate::apply_migrations;
use super::patch::apply_patches_printing;
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::patch::PatchOptions;
use crate::project::Project;
use crate::{Error, Result};

pub fn run(
    project: &Project,
    url: Option<&str>,
    fresh: bool,
    yes: bool,
    echo: bool,
) -> Result<i32> {
    let url = project.database_url(url)?;
    if fresh {
        remove_database(&url, yes)?;
    }
    let created = matches!(&url, DatabaseUrl::Sqlite(Some(path)) if !path.exists());
    let mut database = connect(&url)?;
    println!(
        "Setting up {url}{}",
        if created { " (created)" } else { "" }
    );
    let migrations = apply_migrations(project, &url, database.as_mut())?;
    let patches = apply_patches_printing(
        project,
        database.as_mut(),
        PatchOptions {
            dry_run: false,
            echo,
        },
    )?;
    println!(
        "Ready: {url} ({migrations} migration{} and {patches} patch{} applied now).",
        if migrations == 1 { "" } else { "s" },
        if patches == 1 { "" } else { "es" }
    );
    Ok(exit::OK)
}

/// `--fresh`: the database goes, after a confirmation a person cannot give by accident.
fn remove_database(url: &DatabaseUrl, yes: bool) -> Result<()> {
    match url {
        DatabaseUrl::Sqlite(None) => Ok(()),
        DatabaseUrl::Sqlite(Some(path)) => {
            if !path.exists() {
                return Ok(());
            }
            if std::io::stdin().is_terminal() && !yes {
                return Err(Error::Refused(format!(
                    "--fresh would delete {}; add --yes to confirm",
                    path.display()
                )));
            }
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
                if file.exists() {
                    std::fs::remove_file(&file).map_err(|error| Error::io(&file, error))?;
                }
            }
            println!("Removed {}", path.display());
            Ok(())
        }
        DatabaseUrl::Postgres(_) => Err(Error::Usage(format!(
            "{url}: PostgreSQL is not supported by this build yet"
        ))),
    }
}
