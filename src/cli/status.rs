use super::migrate::dialect_folder;
use super::output::{self, say};
use super::Context;
use crate::driver::open_existing;
use crate::error::exit;
use crate::migrate::{load_migrations, migration_status, StatusLine};
use crate::patch::{
    check_pins, load_patches, patch_problems, patch_status, PatchState, PatchStatusLine,
};
use crate::Result;

pub fn run(context: &Context) -> Result<i32> {
    let project = &context.project;
    let url = context.url()?;
    let folder = project.migrations_dir(dialect_folder(&url));
    let scripts = load_migrations(&folder)?;
    let patches = load_patches(&project.patches_dir())?;
    // Status only looks: a database that does not exist yet is not created.
    let (missing, applied, applied_patches) = match open_existing(&url, context.connect)? {
        None => (true, Vec::new(), Vec::new()),
        Some(mut database) => (
            false,
            crate::migrate::applied_migrations(database.as_mut(), &scripts)?,
            database.applied_patches()?,
        ),
    };
    let status = migration_status(&applied, &scripts);
    let patch_lines = patch_status(&applied_patches, &patches);

    say!(
        "Database: {url}{}",
        if missing { " (does not exist yet)" } else { "" }
    );
    say!("Migrations ({}):", folder.display());
    // An applied migration is shown by its file's stem: `V2__add_power`, or a
    // Diesel project's folder name.
    let stem = |version: i32, name: &str| {
        scripts
            .iter()
            .find(|script| script.version == version && script.name == name)
            .map_or_else(|| format!("V{version}__{name}"), |script| script.stem())
    };
    for line in &status.lines {
        match line {
            StatusLine::Applied(a) => {
                say!("  applied   {}  {}", stem(a.version, &a.name), a.applied_on)
            }
            StatusLine::Pending(s) => say!("  pending   {}", s.stem()),
            StatusLine::Changed(a) => say!(
                "  CHANGED   {}  file differs from what was applied",
                stem(a.version, &a.name)
            ),
            StatusLine::Missing(a) => say!(
                "  MISSING   V{}__{}  applied, but the file is gone",
                a.version,
                a.name
            ),
            StatusLine::OutOfOrder(s) => say!(
                "  OUT OF ORDER  {}  older than applied migrations",
                s.stem()
            ),
        }
    }
    if status.lines.is_empty() {
        say!("  (none)");
    }
    say!("Patches ({}):", project.patches_dir().display());
    if patch_lines.is_empty() {
        say!("  (none)");
    }
    for line in &patch_lines {
        // `0001_heroes_and_teams  after V1`: the migration a pinned patch runs after.
        let name = match line.after {
            Some(version) => format!("{}  after V{version}", line.name),
            None => line.name.clone(),
        };
        match &line.state {
            PatchState::Applied(a) => say!(
                "  applied   {name}  {}  {}",
                a.applied_at,
                super::plural(a.rows_changed as usize, "row")
            ),
            PatchState::Pending => say!("  pending   {name}"),
            PatchState::Changed(_) => {
                say!("  CHANGED   {name}  file differs from what was applied")
            }
            PatchState::Missing(_) => {
                say!("  MISSING   {}  applied, but the file is gone", line.name)
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
    say!(
        "Migrations: {} applied, {} pending. Patches: {applied_patch_count} applied, {pending_patches} pending.",
        status.applied_count(),
        status.pending().len()
    );
    let mut problems = crate::migrate::integrity_problems(&folder, &scripts)?;

    problems.extend(status.problems());
    problems.extend(patch_problems(&patch_lines));
    if let Err(pins) = check_pins(&patches, &scripts, &folder) {
        let (line, column) = pins.first_location().unwrap_or((1, 1));
        problems.extend(pins.problems.iter().map(|problem| {
            format!(
                "{}:{line}:{column}: {}",
                pins.path.display(),
                problem.message
            )
        }));
    }
    // A version missing from one dialect's folder concerns the project, not this
    // database: shown as a warning (`check` fails on it with exit 11, `generate`
    // refuses to build on it), so status still answers about the database.
    let lockstep: Vec<String> = crate::migrate::check::lockstep_problems(project)?
        .into_iter()
        .map(|finding| finding.message)
        .collect();
    for message in &lockstep {
        output::warning(message);
    }
    output::json(&serde_json::json!({
        "command": "status",
        "database": url.to_string(),
        "exists": !missing,
        "migrations": status.lines.iter().map(migration_json).collect::<Vec<_>>(),
        "patches": patch_lines.iter().map(patch_json).collect::<Vec<_>>(),
        "problems": problems,
        "lockstep": lockstep,
    }));
    if problems.is_empty() {
        Ok(exit::OK)
    } else {
        for problem in problems {
            output::error(&problem);
        }
        Ok(exit::REFUSED)
    }
}

fn migration_json(line: &StatusLine) -> serde_json::Value {
    let (state, version, name, applied_on) = match line {
        StatusLine::Applied(a) => ("applied", a.version, &a.name, Some(&a.applied_on)),
        StatusLine::Changed(a) => ("changed", a.version, &a.name, Some(&a.applied_on)),
        StatusLine::Missing(a) => ("missing", a.version, &a.name, Some(&a.applied_on)),
        StatusLine::Pending(s) => ("pending", s.version, &s.name, None),
        StatusLine::OutOfOrder(s) => ("out_of_order", s.version, &s.name, None),
    };
    serde_json::json!({
        "version": version,
        "name": name,
        "state": state,
        "applied_on": applied_on,
    })
}

fn patch_json(line: &PatchStatusLine) -> serde_json::Value {
    let (state, applied) = match &line.state {
        PatchState::Applied(a) => ("applied", Some(a)),
        PatchState::Pending => ("pending", None),
        PatchState::Changed(a) => ("changed", Some(a)),
        PatchState::Missing(a) => ("missing", Some(a)),
    };
    serde_json::json!({
        "name": line.name,
        "state": state,
        "after": line.after,
        "applied_at": applied.map(|a| a.applied_at.clone()),
        "rows_changed": applied.map(|a| a.rows_changed),
    })
}
