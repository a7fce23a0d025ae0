use super::migrate::{apply_migrations, dialect_folder};
use super::{plural, Context};
use crate::driver::{connect, Database, DatabaseUrl};
use crate::error::exit;
use crate::migrate::{load_migrations, migration_status};
use crate::patch::{apply_patches, PatchEvent, PatchOptions};
use crate::project::Project;
use crate::text::printable;
use crate::{Error, Result};

pub fn run(context: &Context, options: PatchOptions, migrate_first: bool) -> Result<i32> {
    let url = context.url()?;
    let mut database = connect(&url, context.connect)?;
    println!(
        "Patching {url}{}",
        if options.dry_run { " (dry run)" } else { "" }
    );
    if migrate_first {
        apply_migrations(context, &url, database.as_mut())?;
    } else {
        require_migrated(&context.project, &url, database.as_mut())?;
    }
    apply_patches_printing(&context.project, database.as_mut(), options)?;
    Ok(exit::OK)
}

/// Patches are written against the migrated schema; refuse to run them on an older one.
fn require_migrated(
    project: &Project,
    url: &DatabaseUrl,
    database: &mut dyn Database,
) -> Result<()> {
    let scripts = load_migrations(&project.migrations_dir(dialect_folder(url)))?;
    let status = migration_status(&database.applied_migrations()?, &scripts);
    let pending: Vec<String> = status.pending().iter().map(|s| s.stem()).collect();
    let mut problems = status.problems();
    if !pending.is_empty() {
        problems.push(format!(
            "{} pending ({}): run `strata migrate` first, or `strata patch --migrate`",
            plural(pending.len(), "migration"),
            pending.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{url}: no patch was applied:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// Applies pending patches, printing every changed row. Shared with `setup`.
pub(crate) fn apply_patches_printing(
    project: &Project,
    database: &mut dyn Database,
    options: PatchOptions,
) -> Result<usize> {
    let mut on_event = |event: PatchEvent<'_>| match event {
        PatchEvent::Waiting(message) => println!(
            "  {message} (giving up after {} s)",
            options.lock_timeout.as_secs()
        ),
        PatchEvent::Started(patch) => match &patch.description {
            Some(description) => println!("{}: {description}", patch.name),
            None => println!("{}", patch.name),
        },
        PatchEvent::Statement { sql, params } => {
            if params.is_empty() {
                println!("  SQL: {sql}");
            } else {
                let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
                println!("  SQL: {sql}  [{}]", shown.join(", "));
            }
        }
        // Row lines hold table and column names from the database: one line each.
        PatchEvent::Row(line) => println!("  {}", printable(&line)),
        PatchEvent::MoreRows(count) => println!("  … and {} more", plural(count as usize, "row")),
        PatchEvent::Finished {
            rows_changed,
            duration,
            ..
        } => {
            println!(
                "  {} changed ({} ms)",
                plural(rows_changed as usize, "row"),
                duration.as_millis()
            )
        }
        PatchEvent::AppliedElsewhere(patch) => {
            println!(
                "{}: already applied by another strata run; skipped",
                patch.name
            )
        }
    };
    let applied = apply_patches(database, &project.patches_dir(), options, &mut on_event)?;
    if options.dry_run {
        println!(
            "Patches: dry run of {}; rolled back, nothing was changed.",
            plural(applied, "patch")
        );
    } else if applied == 0 {
        println!("Patches: nothing to apply, every patch is applied.");
    } else {
        println!("Patches: applied {}.", plural(applied, "patch"));
    }
    Ok(applied)
}
