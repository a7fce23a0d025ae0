//! `strata rollback`: undo the newest applied migration(s) with their down files.

use super::output::{self, say};
use super::{plural, Context};
use crate::driver::open_existing;
use crate::error::exit;
use crate::migrate::rollback::{rollback, RollbackOptions};
use crate::{Error, Result};

pub fn run(
    context: &Context,
    to: Option<i32>,
    allow_destructive: bool,
    dry_run: bool,
) -> Result<i32> {
    let url = context.url()?;
    // Rolling back a database that does not exist creates nothing.
    let Some(mut database) = open_existing(&url, context.connect)? else {
        return Err(Error::Usage(format!(
            "{url}: the database does not exist, so there is nothing to roll back"
        )));
    };
    let folder = context.project.migrations_dir(url.dialect_name());
    say!(
        "Rolling back {url}{}",
        if dry_run {
            " (dry run: nothing is changed)"
        } else {
            ""
        }
    );
    let timeout = context.lock_timeout;
    let mut on_wait = |message: &str| say!("  {message} (giving up after {} s)", timeout.as_secs());
    let report = rollback(
        database.as_mut(),
        &folder,
        RollbackOptions {
            to,
            allow_destructive,
            dry_run,
            lock_timeout: timeout,
        },
        &mut on_wait,
        &mut |undo, duration| {
            if dry_run {
                say!("-- {}", undo.down_file.display());
                say!("{}", undo.sql.trim_end());
                say!();
            } else {
                say!("  rolled back {} ({} ms)", undo.stem, duration.as_millis());
            }
        },
    )?;
    let at = report
        .version
        .map_or("no migration applied".to_string(), |v| format!("V{v}"));
    if dry_run {
        say!(
            "Rollback: dry run; {} would be rolled back.",
            plural(report.undone.len(), "migration")
        );
    } else {
        say!(
            "Rollback: rolled back {}; the database is at {at}.",
            plural(report.undone.len(), "migration")
        );
    }
    output::json(&serde_json::json!({
        "command": "rollback",
        "database": url.to_string(),
        "dry_run": dry_run,
        "rolled_back": report.undone.iter().map(|(undo, duration)| serde_json::json!({
            "version": undo.version,
            "name": undo.name,
            "file": undo.down_file,
            "sql": if dry_run { Some(&undo.sql) } else { None },
            "duration_ms": if dry_run { None } else { Some(duration.as_millis()) },
        })).collect::<Vec<_>>(),
        "version": report.version,
    }));
    Ok(exit::OK)
}
