use std::io::Read;
use std::path::{Path, PathBuf};

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
            lock_timeout: context.lock_timeout,
        },
    )?;
    println!(
        "Ready: {url} ({} and {} applied now).",
        crate::text::plural(migrations, "migration"),
        crate::text::plural(patches, "patch")
    );
    Ok(exit::OK)
}

/// `--fresh`: the database goes, but only with `--yes`, whether or not a person is
/// at a terminal: a script or CI job that names the wrong database must not lose it
/// because nobody could be asked.
fn remove_database(url: &DatabaseUrl, yes: bool) -> Result<()> {
    match url {
        DatabaseUrl::Sqlite(None) => Ok(()),
        DatabaseUrl::Sqlite(Some(path)) => {
            let metadata = match std::fs::metadata(path) {
                Ok(metadata) => metadata,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(error) => return Err(Error::io(path, error)),
            };
            // Through a symlink, the file it points to is the database, and SQLite
            // keeps its -wal/-journal files beside that file.
            let target = std::fs::canonicalize(path).map_err(|error| Error::io(path, error))?;
            if let Some(reason) = not_a_sqlite_database(&target, &metadata)? {
                return Err(Error::Refused(format!(
                    "--fresh refuses to delete {}: {reason}, so it is not a SQLite database; \
                     check --database-url (or remove the file yourself if it really is the database)",
                    path.display()
                )));
            }
            if !yes {
                return Err(Error::Refused(format!(
                    "--fresh would delete {}; add --yes to confirm",
                    path.display()
                )));
            }
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let file = PathBuf::from(format!("{}{suffix}", target.display()));
                if file.exists() {
                    std::fs::remove_file(&file).map_err(|error| Error::io(&file, error))?;
                }
            }
            println!("Removed {}", path.display());
            Ok(())
        }
        DatabaseUrl::Postgres(text) => {
            if !yes {
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

/// Why the file at `path` is not a SQLite database, or `None` when it is one:
/// it starts with SQLite's 16-byte header, or it is empty (SQLite opens an empty
/// file as an empty database, and removing it loses nothing).
fn not_a_sqlite_database(path: &Path, metadata: &std::fs::Metadata) -> Result<Option<String>> {
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    if !metadata.is_file() {
        return Ok(Some("it is not a regular file".to_string()));
    }
    if metadata.len() == 0 {
        return Ok(None);
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    match file.read_exact(&mut header) {
        Ok(()) if &header == HEADER => Ok(None),
        Ok(()) => Ok(Some(
            "it does not start with the header \"SQLite format 3\"".to_string(),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Some(format!(
            "it is {} bytes long, shorter than a SQLite header",
            metadata.len()
        ))),
        Err(error) => Err(Error::io(path, error)),
    }
}
