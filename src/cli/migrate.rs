use super::plural;
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::migrate::migrate;
use crate::project::Project;
use crate::Result;

pub fn run(project: &Project, url: Option<&str>) -> Result<i32> {
    let url = project.database_url(url)?;
    let folder = project.migrations_dir(dialect_folder(&url));
    let mut database = connect(&url)?;
    println!("Migrating {} with {}", url, folder.display());
    let mut applied = 0;
    let status = migrate(database.as_mut(), &folder, |event| {
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
        println!("Nothing to apply: the database is up to date ({at}).");
    } else {
        println!(
            "Applied {}; the database is at {at}.",
            plural(applied, "migration")
        );
    }
    Ok(exit::OK)
}

/// The migrations folder a database of this kind reads.
pub(crate) fn dialect_folder(url: &DatabaseUrl) -> &'static str {
    match url {
        DatabaseUrl::Sqlite(_) => "sqlite",
        DatabaseUrl::Postgres(_) => "postgres",
    }
}
