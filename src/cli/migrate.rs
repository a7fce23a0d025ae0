use super::{plural, Context};
use crate::driver::{connect, Database, DatabaseUrl};
use crate::error::exit;
use crate::migrate::migrate;
use crate::Result;

pub fn run(context: &Context) -> Result<i32> {
    let url = context.url()?;
    let mut database = connect(&url, context.connect)?;
    println!("Migrating {url}");
    apply_migrations(context, &url, database.as_mut())?;
    Ok(exit::OK)
}

/// Applies pending migrations, printing each and a summary line. Returns how
/// many were applied. Shared by `migrate`, `patch --migrate` and `setup`.
pub(crate) fn apply_migrations(
    context: &Context,
    url: &DatabaseUrl,
    database: &mut dyn Database,
) -> Result<usize> {
    let folder = context.project.migrations_dir(dialect_folder(url));
    let mut applied = 0;
    let timeout = context.lock_timeout;
    let mut on_wait =
        |message: &str| println!("  {message} (giving up after {} s)", timeout.as_secs());
    let status = migrate(database, &folder, timeout, &mut on_wait, |event| {
        applied += 1;
        println!(
            "  applied {} ({} ms)",
            event.script.stem(),
            event.duration.as_millis()
        );
    })?;
    let version = status
        .pending()
        .last()
        .map(|s| s.version)
        .or(status.current_version());
    let at = version.map_or("no migrations".to_string(), |v| format!("V{v}"));
    if applied == 0 {
        println!("Migrations: nothing to apply, the database is up to date ({at}).");
    } else {
        println!(
            "Migrations: applied {}; the database is at {at}.",
            plural(applied, "migration")
        );
    }
    Ok(applied)
}

/// The migrations folder a database of this kind reads.
pub(crate) fn dialect_folder(url: &DatabaseUrl) -> &'static str {
    match url {
        DatabaseUrl::Sqlite(_) => "sqlite",
        DatabaseUrl::Postgres(_) => "postgres",
    }
}
