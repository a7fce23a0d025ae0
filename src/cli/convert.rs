//! `strata convert --to diesel|refinery`: move the project (and the history of
//! its database, when that exists) to the other migration layout.

use super::output::{self, say};
use super::{plural, Context};
use crate::driver::open_existing;
use crate::error::exit;
use crate::migrate::convert::convert;
use crate::migrate::layout::Layout;
use crate::{Error, Result};

pub fn run(context: &Context, to: &str, files_only: bool) -> Result<i32> {
    let to = Layout::from_name(to).ok_or_else(|| {
        Error::Usage(format!(
            "--to {to}: expected one of {}",
            crate::text::backticked(Layout::NAMES)
        ))
    })?;
    let url = context.url()?;
    // Only an existing database has a history to convert; none is created.
    let mut database = match files_only {
        true => None,
        false => open_existing(&url, context.connect)?,
    };
    let timeout = context.lock_timeout;
    let mut on_wait = |message: &str| say!("  {message} (giving up after {} s)", timeout.as_secs());
    let report = convert(
        &context.project,
        to,
        database.as_mut().map(|database| database.as_mut() as _),
        url.dialect_name(),
        timeout,
        &mut on_wait,
    )?;
    let mut moved_files = Vec::new();
    for plan in &report.folders {
        say!(
            "{}: {} moved to {to}'s layout",
            plan.folder.display(),
            plural(plan.moves.len(), "migration")
        );
        for (from, into) in &plan.moves {
            say!("  {} -> {}", from.file_name(), into.file_name());
            moved_files.push(serde_json::json!({
                "dialect": plan.dialect,
                "from": from.file_name(),
                "to": into.file_name(),
            }));
        }
    }
    match (&report.history, &database, files_only) {
        (Some((from, into, count)), _, _) => say!(
            "{url}: moved {} from {from} to {into} (nothing was run)",
            plural(*count, "history row")
        ),
        (None, Some(_), _) => say!("{url}: no history to move"),
        (None, None, true) => say!("{url}: not touched (--files-only)"),
        (None, None, false) => say!("{url}: does not exist, so no history was converted"),
    }
    if report.schema_updated {
        say!(
            "{}: [project] layout = \"{to}\"",
            context.project.schema_path().display()
        );
    }
    output::json(&serde_json::json!({
        "command": "convert",
        "to": to.name(),
        "database": url.to_string(),
        "files": moved_files,
        "history": report.history.map(|(from, into, rows)| serde_json::json!({
            "from": from, "to": into, "rows": rows,
        })),
        "schema_updated": report.schema_updated,
    }));
    Ok(exit::OK)
}
