use super::output::{self, say};
use super::patch::migrate_and_patch;
use super::{plural, Context};
use crate::driver::{connect, open_existing, DatabaseUrl};
use crate::error::exit;
use crate::patch::PatchOptions;
use crate::{Error, Result};

pub fn run(context: &Context, fresh: bool, yes: bool, echo: bool) -> Result<i32> {
    let url = context.url()?;
    let removed = fresh && remove_database(&url, yes)?;
    // The database usually exists: opening it first spares the server's
    // maintenance connection that `create_database` needs to look (a fleet of
    // tenants pays one connection per target, not two). Only when it cannot be
    // opened does setup ask the engine to create it.
    let (created, mut database) = match open_existing(&url, context.connect) {
        Ok(Some(database)) => (false, database),
        // Not there, or not reachable: create it (another setup may have just
        // done so, which is fine) and connect, which reports the real problem
        // if there is one.
        Ok(None) | Err(_) => {
            let created = url.engine().create_database(&url)?;
            (created, connect(&url, context.connect)?)
        }
    };
    say!(
        "Setting up {url}{}",
        if created { " (created)" } else { "" }
    );
    let result = migrate_and_patch(
        context,
        &url,
        database.as_mut(),
        PatchOptions {
            dry_run: false,
            echo,
            lock_timeout: context.lock_timeout,
        },
    );
    let (migrations, patches) = match result {
        Ok(done) => done,
        // A database this run created is removed again: a failed setup leaves
        // nothing half-built behind (pinned patches commit between migrations,
        // so one transaction cannot cover it all).
        Err(error) if created => {
            drop(database);
            return Err(remove_after_failure(&url, error));
        }
        Err(error) => return Err(error),
    };
    say!(
        "Ready: {url} ({} and {} applied now).",
        plural(migrations.applied.len(), "migration"),
        plural(patches.applied(), "patch")
    );
    output::json(&serde_json::json!({
        "command": "setup",
        "database": url.to_string(),
        "removed": removed,
        "created": created,
        "migrations": migrations.applied_json(),
        "version": migrations.version,
        "patches": patches.patches,
        "skipped": patches.skipped,
    }));
    Ok(exit::OK)
}

/// Removes the database this setup created, and says so in the error.
fn remove_after_failure(url: &DatabaseUrl, error: Error) -> Error {
    let removed = match url.engine().drop_database(url, true) {
        Ok(_) => format!("setup created {url} in this run, so it was removed: nothing is left"),
        Err(drop_error) => {
            format!("setup created {url} in this run but could not remove it: {drop_error}")
        }
    };
    match error {
        Error::MigrationFailed {
            file,
            message,
            by_storage,
            ..
        } => Error::MigrationFailed {
            file,
            message,
            outcome: removed,
            by_storage,
        },
        Error::PatchFailed(message) => Error::PatchFailed(format!("{message}\n  {removed}")),
        other => {
            output::warning(&removed);
            other
        }
    }
}

/// `--fresh`: the database goes, but only with `--yes`, whether or not a person is
/// at a terminal: a script or CI job that names the wrong database must not lose it
/// because nobody could be asked. The engine refuses what is not its database.
/// Returns whether there was a database to remove.
fn remove_database(url: &DatabaseUrl, yes: bool) -> Result<bool> {
    match url.engine().drop_database(url, yes)? {
        Some(done) => {
            say!("{done}");
            Ok(true)
        }
        None => Ok(false),
    }
}
