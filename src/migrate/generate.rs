//! `strata generate NAME`: diff schema.toml against what the migrations build, and
//! write the next migration for every dialect, in lockstep.

use std::path::PathBuf;

use super::dir::{load_migrations, validate_migration_name};
use super::integrity::{self, IntegrityProblem};
use super::replay_cache::ReplayCache;
use crate::diff::diff;
use crate::driver::{self, DatabaseUrl, Dialect, Plan};
use crate::project::Project;
use crate::schema::{Change, Schema};
use crate::script::{self, Kind};
use crate::text::sql_comment;
use crate::{Error, Result};

#[derive(Debug)]
pub enum Generated {
    NoChanges,
    Written {
        version: i32,
        files: Vec<PathBuf>,
        changes: Vec<String>,
    },
}

struct DialectPlan {
    dialect: Box<dyn Dialect>,
    /// What this dialect's migrations build now, and what schema.toml declares.
    current: Schema,
    target: Schema,
    changes: Vec<Change>,
    /// Filled in once every dialect's changes are known to be allowed.
    plan: Plan,
}

pub fn generate(
    project: &Project,
    name: &str,
    allow_destructive: bool,
    dev_url: Option<&DatabaseUrl>,
) -> Result<Generated> {
    validate_migration_name(name)?;
    refuse_tampered_folders(project)?;
    let (mut plans, next_version) = diff_every_dialect(project, dev_url)?;
    if plans.iter().all(|plan| plan.changes.is_empty()) {
        return Ok(Generated::NoChanges);
    }

    let destructive: Vec<String> = plans
        .iter()
        .flat_map(|plan| plan.changes.iter())
        .filter(|change| change.is_destructive())
        .map(ToString::to_string)
        .collect();
    if !destructive.is_empty() && !allow_destructive {
        return Err(Error::Refused(format!(
            "these changes can lose data, so nothing was written:\n  {}\n\
             check them, then run again with --allow-destructive",
            dedup(destructive).join("\n  ")
        )));
    }

    let mut refusals = Vec::new();
    for plan in &mut plans {
        match plan
            .dialect
            .plan(&plan.current, &plan.target, &plan.changes)
        {
            Ok(steps) => plan.plan = steps,
            Err(unsupported) => refusals.extend(
                unsupported
                    .into_iter()
                    .map(|u| format!("{} ({}): {}", u.change, plan.dialect.name(), u.reason)),
            ),
        }
    }
    if !refusals.is_empty() {
        return Err(Error::Refused(format!(
            "strata cannot generate these changes yet, so nothing was written:\n  {}",
            refusals.join("\n  ")
        )));
    }

    let mut files = Vec::new();
    for plan in &plans {
        let folder = project.migrations_dir(plan.dialect.name());
        std::fs::create_dir_all(&folder).map_err(|error| Error::io(&folder, error))?;
        let path = folder.join(format!("V{next_version}__{name}.sql"));
        if path.exists() {
            return Err(Error::Refused(format!("{} already exists", path.display())));
        }
        let text = migration_text(plan, &format!("V{next_version}__{name}.sql"));
        std::fs::write(&path, text).map_err(|error| Error::io(&path, error))?;
        files.push(path);
        files.push(integrity::rehash(&folder)?);
    }
    let changes = dedup(
        plans
            .iter()
            .flat_map(|plan| plan.changes.iter().map(ToString::to_string))
            .collect(),
    );
    Ok(Generated::Written {
        version: next_version,
        files,
        changes,
    })
}

/// The changes `generate` would write, per dialect (empty when schema.toml and
/// the migrations agree). Used by `strata check`.
pub fn unsynced_changes(
    project: &Project,
    dev_url: Option<&DatabaseUrl>,
) -> Result<Vec<(String, Vec<Change>)>> {
    let (plans, _) = diff_every_dialect(project, dev_url)?;
    Ok(plans
        .into_iter()
        .map(|plan| (plan.dialect.name().to_string(), plan.changes))
        .collect())
}

/// Replays every dialect's migrations and diffs the result against schema.toml;
/// also returns the next free version.
fn diff_every_dialect(
    project: &Project,
    dev_url: Option<&DatabaseUrl>,
) -> Result<(Vec<DialectPlan>, i32)> {
    let declared = project.load_schema()?;

    let mut replayed = Vec::new();
    let mut next_version = 1;
    for dialect_name in &declared.config.dialects {
        let dialect = driver::dialect(dialect_name).ok_or_else(|| {
            Error::Refused(format!(
                "{}: dialect `{dialect_name}` is not supported by this version of strata yet; \
                 remove it from [project] dialects",
                project.schema_path().display()
            ))
        })?;
        let folder = project.migrations_dir(dialect_name);
        let scripts = load_migrations(&folder)?;
        next_version = next_version.max(scripts.last().map_or(0, |s| s.version) + 1);
        // The same files replayed before (cached under their hashes) build the
        // same schema: no replay, no dev server, no checking the files again.
        let cache = ReplayCache::new(project, dialect_name, &scripts);
        if let Some(cached) = cache.load() {
            replayed.push((dialect, Some(cached)));
            continue;
        }
        // Replaying runs the files, so they are checked as `migrate` checks them.
        if let Some(engine) = driver::registry::engine(dialect_name).map(|e| e.script_engine()) {
            for script in &scripts {
                script::check_file(
                    engine,
                    &folder.join(script.file_name()),
                    &script.sql,
                    Kind::Migration,
                )?;
            }
        }
        let current = dialect.replay(&scripts, dev_url)?;
        if let Some(schema) = &current {
            cache.store(schema);
        }
        replayed.push((dialect, current));
    }
    // Migrations are generated in lockstep, so a dialect that cannot replay its
    // history here (no dev database) starts from the state another dialect's
    // history builds. A dev database makes hand edits of its own files count.
    let stand_in = replayed.iter().find_map(|(_, state)| state.clone());
    let mut plans = Vec::new();
    for (dialect, state) in replayed {
        let current = match state.or_else(|| stand_in.clone()) {
            Some(current) => current,
            None => {
                return Err(Error::Usage(format!(
                    "generating for `{}` alone needs a PostgreSQL server to replay migrations/{} on: \
                     pass --dev-url postgres://… (or set STRATA_DEV_URL), or add \"sqlite\" to [project] dialects",
                    dialect.name(),
                    dialect.name()
                )))
            }
        };
        let changes = diff(&current, &declared.schema);
        plans.push(DialectPlan {
            dialect,
            current,
            target: declared.schema.clone(),
            changes,
            plan: Plan::default(),
        });
    }
    Ok((plans, next_version))
}

/// Generating on top of an edited or deleted migration would bless the edit in
/// the integrity file; a folder without one (hand-written migrations from before
/// strata managed it) is hashed as it is.
fn refuse_tampered_folders(project: &Project) -> Result<()> {
    let declared = project.load_schema()?;
    let mut problems = Vec::new();
    for dialect in &declared.config.dialects {
        let folder = project.migrations_dir(dialect);
        let scripts = load_migrations(&folder)?;
        problems.extend(
            integrity::verify_scripts(&folder, &scripts)?
                .into_iter()
                .filter(|problem| !matches!(problem, IntegrityProblem::NoSumFile { .. }))
                .map(|problem| format!("{}: {problem}", folder.display())),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "the migrations changed since they were generated, so nothing was written:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// Drops repeated lines (the same change listed by several dialects), keeping order.
fn dedup(items: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}

/// The file: a header of `--` comments saying what each step does (every line
/// through [`sql_comment`], so no name in a step's comment can end its comment and
/// become SQL), then the statements. Reverses are carried in the plan, not written.
fn migration_text(plan: &DialectPlan, file_name: &str) -> String {
    // The directive must be the first line: the runner reads it before the
    // migration's transaction begins.
    let mut text = String::new();
    if plan.plan.foreign_keys_off() {
        text.push_str(super::directive::FOREIGN_KEYS_OFF);
        text.push('\n');
    }
    text.push_str(&sql_comment(&format!(
        "{file_name}: generated by strata {} for {} from schema.toml.",
        env!("CARGO_PKG_VERSION"),
        plan.dialect.name()
    )));
    if plan.changes.is_empty() {
        text.push_str(&sql_comment(
            "This dialect needs no change at this version; the file keeps versions in lockstep.",
        ));
        return text;
    }
    text.push_str(&sql_comment("What it does:"));
    for step in &plan.plan.steps {
        text.push_str(&sql_comment(&format!("  {}", step.comment)));
    }
    text.push_str(&sql_comment(
        "Once applied to a database, leave it as it is: write a new migration instead.",
    ));
    for statement in plan.plan.statements() {
        text.push('\n');
        text.push_str(statement);
        text.push('\n');
    }
    text
}
