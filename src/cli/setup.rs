use super::migrate::apply_migrations;
use super::patch::apply_patches_printing;
use super::Context;
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::patch::PatchOptions;
use crate::Result;

pub fn run(context: &Context, fresh: bool, yes: bool, echo: bool) -> Result<i32> {
    let url = context.url()?;
    if fresh {
        remove_database(&url, yes)?;
    }
    let created = url.engine().create_database(&url)?;
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
        "Ready: {url} ({migrations} migration{} and {patches} patch{} applied now).",
        if migrations == 1 { "" } else { "s" },
        if patches == 1 { "" } else { "es" }
    );
    Ok(exit::OK)
}

/// `--fresh`: the database goes, but only with `--yes`, whether or not a person is
/// at a terminal: a script or CI job that names the wrong database must not lose it
/// because nobody could be asked. The engine refuses what is not its database.
fn remove_database(url: &DatabaseUrl, yes: bool) -> Result<()> {
    if let Some(done) = url.engine().drop_database(url, yes)? {
        println!("{done}");
    }
    Ok(())
}
