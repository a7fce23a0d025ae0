use std::io::IsTerminal;

use super::migrate::apply_migrations;
use super::patch::apply_patches_printing;
use super::Context;
use crate::driver::postgres::{create_database_if_missing, drop_database};
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::patch::PatchOptions;
use crate::{Error, Result};

pub fn run(context: &Context, fresh: bool, yes: bool, echo: bool) -> Result<i32> {
    let url = context.url()?;
    if fresh {
        remove_database(&url, yes)?;
    }
    let created = match &url {
        DatabaseUrl::Sqlite(Some(path)) => !path.exists(),
        DatabaseUrl::Sqlite(None) => true,
        DatabaseUrl::Postgres(text) => create_database_if_missing(text)?,
    };
    let mut database = connect(&url, context.connect)?;
    println!(
        "Setting up {url}{}",
        if created { " (created)" } else { "" }
    );
    let migrations = apply_migrations(context, &url, database.as_mut())?
        .applied
        .len();
    let patches = apply_patches_printing(
        &context.project,
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
        DatabaseUrl::Postgres(text) => {
            if std::io::stdin().is_terminal() && !yes {
                return Err(Error::Refused(format!(
                    "--fresh would drop the database {url} (forcing other connections off); add --yes to confirm"
                )));
            }
            drop_database(text)?;
            println!("Dropped {url}");
            Ok(())
        }
    }
}
