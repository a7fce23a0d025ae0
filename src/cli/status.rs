use super::migrate::dialect_folder;
use super::Context;
use crate::driver::{connect, DatabaseUrl};
use crate::error::exit;
use crate::migrate::{load_migrations, migration_status, StatusLine};
use crate::patch::{load_patches, patch_problems, patch_status, PatchState};
use crate::Result;

pub fn run(context: &Context) -> Result<i32> {
    let project = &context.project;
    let url = context.url()?;
    let folder = project.migrations_dir(dialect_folder(&url));
    let scripts = load_migrations(&folder)?;
    let patches = load_patches(&project.patches_dir())?;
    // Status only looks: a database file that does not exist yet is not created.
    let missing = matches!(&url, DatabaseUrl::Sqlite(Some(path)) if !path.exists());
    let (applied, applied_patches) = if missing {
        (Vec::new(), Vec::new())
    } else {
        let mut database = connect(&url, context.connect)?;
        (database.applied_migrations()?, database.applied_patches()?)
    };
    let status = migration_status(&applied, &scripts);
    let patch_lines = patch_status(&applied_patches, &patches);

    println!(
        "Database: {url}{}",
        if missing { " (does not exist yet)" } else { "" }
    );
    println!("Migrations ({}):", folder.display());
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
    if status.lines.is_empty() {
        println!("  (none)");
    }
    println!("Patches ({}):", project.patches_dir().display());
    if patch_lines.is_empty() {
        println!("  (none)");
    }
    for line in &patch_lines {
        match &line.state {
            PatchState::Applied(a) => println!(
                "  applied   {}  {}  {}",
                line.name,
                a.applied_at,
                super::plural(a.rows_changed as usize, "row")
            ),
            PatchState::Pending => println!("  pending   {}", line.name),
            PatchState::Changed(_) => println!(
                "  CHANGED   {}  file differs from what was applied",
                line.name
            ),
            PatchState::Missing(_) => {
                println!("  MISSING   {}  applied, but the file is gone", line.name)
            }
        }
    }
    let pending_patches = patch_lines
        .iter()
        .filter(|l| l.state == PatchState::Pending)
        .count();
    let applied_patch_count = patch_lines
        .iter()
        .filter(|l| matches!(l.state, PatchState::Applied(_)))
        .count();
    println!(
        "Migrations: {} applied, {} pending. Patches: {applied_patch_count} applied, {pending_patches} pending.",
        status.applied_count(),
        status.pending().len()
    );
    let mut problems = crate::migrate::integrity_problems(&folder, &scripts)?;
    problems.extend(status.problems());
    problems.extend(patch_problems(&patch_lines));
    if problems.is_empty() {
        Ok(exit::OK)
    } else {
        for problem in problems {
            eprintln!("error: {problem}");
        }
        Ok(exit::REFUSED)
    }
}
