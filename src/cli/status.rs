use super::migrate::dialect_folder;
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::migrate::{load_migrations, migration_status, StatusLine};
use crate::project::Project;
use crate::Result;

pub fn run(project: &Project, url: Option<&str>) -> Result<i32> {
    let url = project.database_url(url)?;
    let folder = project.migrations_dir(dialect_folder(&url));
    let scripts = load_migrations(&folder)?;
    // Status only looks: a database file that does not exist yet is not created.
    let missing = matches!(&url, DatabaseUrl::Sqlite(Some(path)) if !path.exists());
    let applied = if missing {
        Vec::new()
    } else {
        connect(&url)?.applied_migrations()?
    };
    let status = migration_status(&applied, &scripts);

    println!(
        "Database: {url}{}",
        if missing { " (does not exist yet)" } else { "" }
    );
    println!("Migrations: {}", folder.display());
    for line in &status.lines {
        match line {
            StatusLine::Applied(a) => {
                println!("  applied   V{}__{}  {}", a.version, a.name, a.applied_on)
            }
            StatusLine::Pending(s) => println!("  pending   {}", s.stem()),
            StatusLine::Changed(a) => println!(
                "  CHANGED   V{}__{}  file differs from what was applied",
                a.version, a.name
            ),
            StatusLine::Missing(a) => println!(
                "  MISSING   V{}__{}  applied, but the file is gone",
                a.version, a.name
            ),
            StatusLine::OutOfOrder(s) => println!(
                "  OUT OF ORDER  {}  older than applied migrations",
                s.stem()
            ),
        }
    }
    println!(
        "{} applied, {} pending.",
        status.applied_count(),
        status.pending().len()
    );
    let problems = status.problems();
    if problems.is_empty() {
        Ok(exit::OK)
    } else {
        for problem in problems {
            eprintln!("error: {problem}");
        }
        Ok(exit::REFUSED)
    }
}
