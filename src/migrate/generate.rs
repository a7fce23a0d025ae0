//! `strata generate NAME`: diff schema.toml against what the migrations build, and
//! write the next migration for every dialect, in lockstep.

use std::path::{Path, PathBuf};

use super::destructive::{self, DialectChanges, NullCounter};
use super::dir::{validate_migration_name, DOWN_SUFFIX};
use super::integrity::{self, IntegrityProblem};
use super::layout::{
    next_timestamp, Layout, DOWN_FILE, METADATA_FILE, NO_TRANSACTION_METADATA, UP_FILE,
};
use super::lockstep::{self, CatchUp, History};
use super::replay_cache::ReplayCache;
use crate::diff::diff;
use crate::driver::{self, ConnectOptions, DatabaseUrl, Dialect, MigrationScript, Plan, Reverse};
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

/// What `generate` may do beyond writing safe changes, and where it may look.
#[derive(Debug, Clone, Copy, Default)]
pub struct GenerateOptions<'a> {
    /// Write destructive changes (drops, narrowing, NOT NULL without a default).
    pub allow_destructive: bool,
    /// A PostgreSQL server for scratch databases that replay migrations/postgres.
    pub dev_url: Option<&'a DatabaseUrl>,
    /// A database to count the rows a NOT NULL would hit on (else the dev URL's).
    pub database_url: Option<&'a DatabaseUrl>,
    pub connect: ConnectOptions,
}

pub fn generate(project: &Project, name: &str, options: GenerateOptions<'_>) -> Result<Generated> {
    validate_migration_name(name)?;
    let declared = project.load_schema()?;
    let histories = lockstep::load(project, &declared.config.dialects)?;
    let layout = declared.config.layout;
    refuse_other_layout(&histories, layout)?;
    refuse_tampered_folders(&histories)?;
    let cached = check_scripts(project, &histories)?;
    lockstep::refuse_gaps(project, &histories)?;
    let (catch_ups, caught_up_to) = lockstep::catch_up(&histories, options.dev_url)?;
    let (mut plans, next_version) = diff_every_dialect(
        project,
        &declared.schema,
        &histories,
        cached,
        caught_up_to,
        options.dev_url,
    )?;
    if plans.iter().all(|plan| plan.changes.is_empty()) {
        if catch_ups.is_empty() {
            return Ok(Generated::NoChanges);
        }
        let (files, changes, version) =
            write_catch_ups(project, &catch_ups, &histories, layout, options.connect)?;
        return Ok(Generated::Written {
            version,
            files,
            changes,
        });
    }

    let dialect_changes: Vec<DialectChanges<'_>> = plans
        .iter()
        .map(|plan| DialectChanges {
            current: &plan.current,
            changes: &plan.changes,
        })
        .collect();
    destructive::check(
        &dialect_changes,
        options.allow_destructive,
        &NullCounter {
            url: options.database_url.or(options.dev_url),
            options: options.connect,
        },
    )?;

    let mut refusals = Vec::new();
    for plan in &mut plans {
        // Diesel sends a migration file as one simple query, which PostgreSQL
        // wraps in an implicit transaction block whatever `metadata.toml` says,
        // so a file of several statements can never run CONCURRENTLY or VALIDATE
        // on its own: a Diesel project gets plain DDL (README, Diesel projects).
        let planned = if layout == Layout::Diesel {
            plan.dialect
                .plan_unused(&plan.current, &plan.target, &plan.changes)
        } else {
            plan.dialect
                .plan(&plan.current, &plan.target, &plan.changes)
        };
        match planned {
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

    let parts = split_into_migrations(&plans, next_version, name);
    // Every dialect's folder gets the same Diesel version for a migration, as it
    // gets the same number; a second (online) part gets the next timestamp.
    let mut diesel_dirs: Vec<(i32, String)> = Vec::new();
    if layout == Layout::Diesel {
        let mut existing: Vec<String> = histories
            .iter()
            .flat_map(|history| history.scripts.iter())
            .filter_map(|script| script.dir.clone())
            .collect();
        let mut versions: Vec<(i32, &str)> = parts
            .iter()
            .flatten()
            .map(|part| (part.version, part.name.as_str()))
            .collect();
        versions.sort();
        versions.dedup_by_key(|(version, _)| *version);
        for (version, part_name) in versions {
            let refs: Vec<&str> = existing.iter().map(String::as_str).collect();
            let dir = format!("{}_{part_name}", next_timestamp(&refs));
            existing.push(dir.clone());
            diesel_dirs.push((version, dir));
        }
    }
    let diesel_dir = |version: i32| {
        diesel_dirs
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, dir)| dir.as_str())
    };
    // Every file's text first: each dialect's new migrations are test-applied
    // (where a scratch database is at hand) before anything is written.
    let mut texts: Vec<Vec<PartFiles>> = Vec::new();
    for (plan, parts) in plans.iter().zip(&parts) {
        let dialect = plan.dialect.name();
        let preamble = plan.dialect.file_preamble(options.connect.ddl_lock_timeout);
        let mut dialect_texts = Vec::new();
        for part in parts {
            let dir = diesel_dir(part.version);
            let (file_name, down_name) = file_names(part.version, &part.name, dir);
            let text = migration_text(
                dialect,
                part.changes,
                &part.plan,
                &file_name,
                None,
                preamble.as_deref(),
            );
            let down = down_text(
                dialect,
                &part.plan,
                &file_name,
                &down_name,
                preamble.as_deref(),
            );
            dialect_texts.push(PartFiles {
                script: MigrationScript {
                    version: part.version,
                    name: part.name.clone(),
                    sql: text,
                    dir: dir.map(str::to_string),
                },
                file_name,
                empty: part.plan.steps.is_empty(),
                down_name,
                down,
            });
        }
        texts.push(dialect_texts);
    }
    test_apply(
        &plans,
        &parts_histories(&plans, &histories),
        &catch_ups,
        &texts,
        options.dev_url,
    )?;

    let (mut files, mut changes, _) =
        write_catch_ups(project, &catch_ups, &histories, layout, options.connect)?;
    for (plan, dialect_texts) in plans.iter().zip(&texts) {
        let folder = project.migrations_dir(plan.dialect.name());
        for part in dialect_texts {
            files.extend(write_migration(&folder, &part.file_name, &part.script.sql)?);
            files.push(write_file(&folder, &part.down_name, &part.down)?);
        }
        files.push(integrity::rehash(&folder)?);
    }
    let last_version = parts
        .iter()
        .flatten()
        .map(|part| part.version)
        .max()
        .unwrap_or(next_version);
    changes.extend(dedup(
        plans
            .iter()
            .flat_map(|plan| plan.changes.iter().map(ToString::to_string))
            .collect(),
    ));
    Ok(Generated::Written {
        version: last_version,
        files,
        changes,
    })
}

/// One migration file `generate` writes for one dialect.
struct Part<'a> {
    version: i32,
    name: String,
    /// The changes whose `-- destructive:` lines go in this file's header.
    changes: &'a [Change],
    plan: Plan,
}

/// One migration's files, composed before any is written.
struct PartFiles {
    /// The up file as `migrate` will read it.
    script: MigrationScript,
    file_name: String,
    /// Nothing to run for this dialect at this version (a lockstep file).
    empty: bool,
    down_name: String,
    down: String,
}

/// Each plan's dialect's history (the migrations already written), in plan order.
fn parts_histories<'a>(
    plans: &[DialectPlan],
    histories: &'a [History],
) -> Vec<Option<&'a History>> {
    plans
        .iter()
        .map(|plan| {
            histories
                .iter()
                .find(|history| history.dialect == plan.dialect.name())
        })
        .collect()
}

/// Runs each dialect's new migrations on top of its history in a scratch
/// database (PostgreSQL with a dev database, see [`Dialect::test_apply`]), so a
/// migration the server rejects fails `generate` with the server's message and
/// nothing is written. The history is replayed again for this even when the
/// diff came from the replay cache: the cache holds a schema, not a database.
/// A dialect whose catch-up migrations are written in the same run, or with
/// nothing to run, is not test-applied.
fn test_apply(
    plans: &[DialectPlan],
    histories: &[Option<&History>],
    catch_ups: &[CatchUp],
    texts: &[Vec<PartFiles>],
    dev_url: Option<&DatabaseUrl>,
) -> Result<()> {
    let Some(dev_url) = dev_url else {
        return Ok(());
    };
    for ((plan, history), parts) in plans.iter().zip(histories).zip(texts) {
        let caught_up = catch_ups
            .iter()
            .any(|catch_up| catch_up.dialect.name() == plan.dialect.name());
        if caught_up || parts.iter().all(|part| part.empty) {
            continue;
        }
        let new: Vec<MigrationScript> = parts.iter().map(|part| part.script.clone()).collect();
        let history = history.map_or(&[][..], |history| &history.scripts[..]);
        plan.dialect.test_apply(history, &new, Some(dev_url))?;
    }
    Ok(())
}

/// The suffix of the second migration, which runs outside a transaction.
const ONLINE_SUFFIX: &str = "_online";

/// Each dialect's migrations for this `generate`. A plan whose steps may all run
/// in one transaction, or none may, is one migration (the latter marked
/// `-- strata: no-transaction`). When a plan has both (PostgreSQL: changes to a
/// busy table, see `driver::postgres::online`), the transactional steps are
/// migration `version` and the others `version + 1`, named `<name>_online`,
/// which runs outside a transaction. Versions stay in lockstep: a dialect with
/// nothing to do at `version + 1` gets a file of comments there, as for any
/// version it needs no change at. The destructive changes are all transactional
/// steps, so their header lines go in the first file.
fn split_into_migrations<'a>(
    plans: &'a [DialectPlan],
    version: i32,
    name: &str,
) -> Vec<Vec<Part<'a>>> {
    let splits: Vec<(Plan, Plan)> = plans
        .iter()
        .map(|plan| plan.plan.split_by_transaction())
        .collect();
    let two = splits
        .iter()
        .any(|(inside, outside)| !inside.steps.is_empty() && !outside.steps.is_empty());
    plans
        .iter()
        .zip(splits)
        .map(|(plan, (inside, outside))| {
            if !two {
                return vec![Part {
                    version,
                    name: name.to_string(),
                    changes: &plan.changes,
                    plan: plan.plan.clone(),
                }];
            }
            vec![
                Part {
                    version,
                    name: name.to_string(),
                    changes: &plan.changes,
                    plan: inside,
                },
                Part {
                    version: version + 1,
                    name: format!("{name}{ONLINE_SUFFIX}"),
                    changes: &[],
                    plan: outside,
                },
            ]
        })
        .collect()
}

/// Writes the catch-up migrations of new dialects (see [`lockstep::catch_up`]):
/// the files written, each change prefixed by its file, and the last version.
fn write_catch_ups(
    project: &Project,
    catch_ups: &[CatchUp],
    histories: &[History],
    layout: Layout,
    connect: ConnectOptions,
) -> Result<(Vec<PathBuf>, Vec<String>, i32)> {
    let mut files = Vec::new();
    let mut changes = Vec::new();
    let mut version = 0;
    for catch_up in catch_ups {
        let dialect = catch_up.dialect.name();
        let folder = project.migrations_dir(dialect);
        let preamble = catch_up.dialect.file_preamble(connect.ddl_lock_timeout);
        for file in &catch_up.files {
            // A Diesel catch-up takes the folder name of the migration it replays.
            let diesel_dir = match layout {
                Layout::Refinery => None,
                Layout::Diesel => histories
                    .iter()
                    .find(|history| history.dialect == catch_up.reference)
                    .and_then(|history| {
                        history
                            .scripts
                            .iter()
                            .find(|script| script.version == file.version)
                    })
                    .and_then(|script| script.dir.clone()),
            };
            let (file_name, down_name) =
                file_names(file.version, &file.name, diesel_dir.as_deref());
            let note = format!(
                "Catch-up: {dialect} was added to [project] dialects after this version; \
                 this file builds the schema migrations/{} has at V{} (schema only: \
                 rows a migration there inserts are not carried over).",
                catch_up.reference, file.version
            );
            let text = migration_text(
                dialect,
                &file.changes,
                &file.plan,
                &file_name,
                Some(&note),
                preamble.as_deref(),
            );
            files.extend(write_migration(&folder, &file_name, &text)?);
            let down = down_text(
                dialect,
                &file.plan,
                &file_name,
                &down_name,
                preamble.as_deref(),
            );
            files.push(write_file(&folder, &down_name, &down)?);
            changes.extend(
                file.changes
                    .iter()
                    .map(|change| format!("{dialect}/{file_name}: {change}")),
            );
            version = version.max(file.version);
        }
        if !catch_up.files.is_empty() {
            files.push(integrity::rehash(&folder)?);
        }
    }
    Ok((files, changes, version))
}

/// The up and down file names of a migration: `V3__add_power.sql` and
/// `V3__add_power.down.sql`, or in Diesel's layout (`diesel_dir`)
/// `<diesel_dir>/up.sql` and `<diesel_dir>/down.sql`.
fn file_names(version: i32, name: &str, diesel_dir: Option<&str>) -> (String, String) {
    match diesel_dir {
        Some(dir) => (format!("{dir}/{UP_FILE}"), format!("{dir}/{DOWN_FILE}")),
        None => (
            format!("V{version}__{name}.sql"),
            format!("V{version}__{name}{DOWN_SUFFIX}"),
        ),
    }
}

/// Writes a migration's up file and, for a Diesel migration that must not run
/// in a transaction (`-- strata: no-transaction`), the `metadata.toml` that
/// tells Diesel so (`run_in_transaction = false`).
fn write_migration(folder: &Path, file_name: &str, text: &str) -> Result<Vec<PathBuf>> {
    let mut written = vec![write_file(folder, file_name, text)?];
    if let Some((dir, _)) = file_name.split_once('/') {
        if super::directive::no_transaction(text) {
            let metadata = format!("{dir}/{METADATA_FILE}");
            written.push(write_file(folder, &metadata, NO_TRANSACTION_METADATA)?);
        }
    }
    Ok(written)
}

/// Refuses to add a migration in one layout to a folder in the other.
fn refuse_other_layout(histories: &[History], layout: Layout) -> Result<()> {
    for history in histories {
        let Some(script) = history.scripts.first() else {
            continue;
        };
        let found = if script.dir.is_some() {
            Layout::Diesel
        } else {
            Layout::Refinery
        };
        if found != layout {
            return Err(Error::Refused(format!(
                "{}: its migrations are in {found}'s layout but schema.toml says \
                 `[project] layout = \"{layout}\"`, so nothing was written; run \
                 `strata convert --to {layout}` to move the project to {layout}'s layout, \
                 or set `layout = \"{found}\"`",
                history.folder.display()
            )));
        }
    }
    Ok(())
}

/// Writes a new migration file (and its Diesel folder); never overwrites one.
fn write_file(folder: &Path, file_name: &str, text: &str) -> Result<PathBuf> {
    let path = folder.join(file_name);
    let parent = path.parent().unwrap_or(folder);
    std::fs::create_dir_all(parent).map_err(|error| Error::io(parent, error))?;
    if path.exists() {
        return Err(Error::Refused(format!("{} already exists", path.display())));
    }
    std::fs::write(&path, text).map_err(|error| Error::io(&path, error))?;
    Ok(path)
}

/// The changes `generate` would write, per dialect (empty when schema.toml and
/// the migrations agree). Used by `strata check`.
pub fn unsynced_changes(
    project: &Project,
    dev_url: Option<&DatabaseUrl>,
) -> Result<Vec<(String, Vec<Change>)>> {
    let declared = project.load_schema()?;
    let histories = lockstep::load(project, &declared.config.dialects)?;
    let cached = check_scripts(project, &histories)?;
    let (plans, _) =
        diff_every_dialect(project, &declared.schema, &histories, cached, None, dev_url)?;
    Ok(plans
        .into_iter()
        .map(|plan| (plan.dialect.name().to_string(), plan.changes))
        .collect())
}

/// Replays every dialect's migrations and diffs the result against schema.toml;
/// also returns the next free version. A new dialect (see [`lockstep::is_new`])
/// starts from `caught_up_to`, what its catch-up migrations build, when given.
fn diff_every_dialect(
    project: &Project,
    declared: &Schema,
    histories: &[History],
    cached: Vec<Option<Schema>>,
    caught_up_to: Option<Schema>,
    dev_url: Option<&DatabaseUrl>,
) -> Result<(Vec<DialectPlan>, i32)> {
    let mut replayed = Vec::new();
    let mut next_version = 1;
    for (history, cached) in histories.iter().zip(cached) {
        let dialect_name = &history.dialect;
        let dialect = driver::dialect(dialect_name).ok_or_else(|| {
            Error::Refused(format!(
                "{}: dialect `{dialect_name}` is not supported by this version of strata yet; \
                 remove it from [project] dialects",
                project.schema_path().display()
            ))
        })?;
        let scripts = &history.scripts;
        next_version = next_version.max(scripts.last().map_or(0, |s| s.version) + 1);
        let current = match &caught_up_to {
            Some(state) if lockstep::is_new(history, histories) => Some(state.clone()),
            _ => {
                // The same files replayed before (cached under their hashes)
                // build the same schema: no replay, no dev server.
                match cached {
                    Some(cached) => Some(cached),
                    None => {
                        let cache = ReplayCache::new(project, dialect_name, scripts);
                        let current = dialect.replay(scripts, dev_url)?;
                        if let Some(schema) = &current {
                            cache.store(schema);
                        }
                        current
                    }
                }
            }
        };
        replayed.push((dialect, current));
    }
    // Migrations are generated in lockstep, so a dialect that cannot replay its
    // history here (no dev database) starts from the state another dialect's
    // history builds. A dev database makes hand edits of its own files count.
    let stand_in = replayed.iter().find_map(|(dialect, state)| {
        let mut state = state.clone()?;
        // A history without comments (SQLite's) cannot say which comments the
        // other one made: they are taken as made (only a replay of the other
        // history, with a dev database, sees comment changes).
        // Nor can SQLite's say which numbering (identity, sequence options,
        // `autoincrement = false`) the other made: taken as made too.
        if dialect.name() == "sqlite" {
            state.copy_numbering_from(declared);
        }
        if !dialect.keeps_comments() {
            state.copy_comments_from(declared);
        }
        Some((dialect.name(), state))
    });
    let stand_in_name = stand_in.as_ref().map(|(name, _)| name.to_string());
    let stand_in = stand_in.map(|(_, state)| state);
    let mut plans = Vec::new();
    for (dialect, state) in replayed {
        let replayed_here = state.is_some();
        let current = match state.or_else(|| stand_in.clone()) {
            Some(current) => {
                // Another dialect's history stands in for this one's, which is
                // blind to what only this dialect has.
                if let (false, Some(other)) = (replayed_here, &stand_in_name) {
                    let own = declared.objects_only_in(dialect.name(), other);
                    if !own.is_empty() {
                        return Err(Error::Usage(format!(
                            "schema.toml declares {} objects {other} does not share ({}): generating \
                             them needs a PostgreSQL server to replay migrations/{} on: pass \
                             --dev-url postgres://… (or set STRATA_DEV_URL)",
                            dialect.name(),
                            own.join(", "),
                            dialect.name()
                        )));
                    }
                }
                current
            }
            None => {
                return Err(Error::Usage(format!(
                    "generating for `{}` alone needs a PostgreSQL server to replay migrations/{} on: \
                     pass --dev-url postgres://… (or set STRATA_DEV_URL), or add \"sqlite\" to [project] dialects",
                    dialect.name(),
                    dialect.name()
                )))
            }
        };
        let target = declared.for_dialect(dialect.name());
        // A type written by hand in a migration that the database holds as the
        // declared portable type (SQLite's `TEXT` for `text`) is no change.
        let current = current.with_declared_types(&target, |dialect, spelling, portable| {
            crate::driver::registry::engine(dialect)
                .is_some_and(|engine| engine.holds_as(spelling, portable))
        });
        // An engine without comments (SQLite) is compared without them.
        let (current, target) = if dialect.keeps_comments() {
            (current, target)
        } else {
            (current.without_comments(), target.without_comments())
        };
        let changes = diff(&current, &target);
        plans.push(DialectPlan {
            dialect,
            current,
            target,
            changes,
            plan: Plan::default(),
        });
    }
    Ok((plans, next_version))
}

/// Replaying runs the files, so they are checked as `migrate` checks them (an
/// invalid file is exit 3, before any lockstep question). A history whose replay
/// is cached (under the hashes of exactly these files) was checked when it was
/// cached: its schema is returned instead, for [`diff_every_dialect`].
fn check_scripts(project: &Project, histories: &[History]) -> Result<Vec<Option<Schema>>> {
    let mut cached = Vec::new();
    for history in histories {
        let hit = ReplayCache::new(project, &history.dialect, &history.scripts).load();
        let checked = hit.is_some();
        cached.push(hit);
        if checked {
            continue;
        }
        let Some(engine) = driver::registry::engine(&history.dialect).map(|e| e.script_engine())
        else {
            continue;
        };
        for script in &history.scripts {
            script::check_file(
                engine,
                &history.folder.join(script.file_name()),
                &script.sql,
                Kind::Migration,
            )?;
        }
    }
    Ok(cached)
}

/// Generating on top of an edited or deleted migration would bless the edit in
/// the integrity file; a folder without one (hand-written migrations from before
/// strata managed it) is hashed as it is.
fn refuse_tampered_folders(histories: &[History]) -> Result<()> {
    let mut problems = Vec::new();
    for History {
        folder, scripts, ..
    } in histories
    {
        problems.extend(
            integrity::verify_scripts(folder, scripts)?
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

/// The file: a header of `--` comments (every line through [`sql_comment`], so
/// no name in a step's comment can end its comment and become SQL) marking each
/// destructive change (`-- destructive: drops column hero.power`) and saying what
/// each step does, then the statements. Reverses go to the down file
/// ([`down_text`]). `note` is a catch-up's explanation; `preamble` the
/// dialect's [`Dialect::file_preamble`], the first statement. A plan that may
/// not run in a transaction makes a `-- strata: no-transaction` file that says
/// so in its header.
fn migration_text(
    dialect: &str,
    changes: &[Change],
    plan: &Plan,
    file_name: &str,
    note: Option<&str>,
    preamble: Option<&str>,
) -> String {
    // The directive must be the first line: the runner reads it before the
    // migration's transaction begins.
    let mut text = String::new();
    if plan.foreign_keys_off() {
        text.push_str(super::directive::FOREIGN_KEYS_OFF);
        text.push('\n');
    }
    let no_transaction = !plan.transactional();
    if no_transaction {
        text.push_str(super::directive::NO_TRANSACTION);
        text.push('\n');
    }
    text.push_str(&sql_comment(&format!(
        "{file_name}: generated by strata {} for {dialect} from schema.toml.",
        env!("CARGO_PKG_VERSION"),
    )));
    if no_transaction {
        text.push_str(&sql_comment(OUTSIDE_TRANSACTION_NOTE));
    }
    if let Some(note) = note {
        text.push_str(&sql_comment(note));
    }
    for destruction in changes.iter().filter_map(Change::destruction) {
        text.push_str(&sql_comment(&format!(
            "destructive: {}",
            destruction.summary
        )));
    }
    if changes.is_empty() && plan.steps.is_empty() {
        text.push_str(&sql_comment(
            "This dialect needs no change at this version; the file keeps versions in lockstep.",
        ));
        return text;
    }
    text.push_str(&sql_comment("What it does:"));
    for step in &plan.steps {
        text.push_str(&sql_comment(&format!("  {}", step.comment)));
    }
    text.push_str(&sql_comment(
        "Once applied to a database, leave it as it is: write a new migration instead.",
    ));
    if let Some(preamble) = preamble {
        text.push('\n');
        text.push_str(preamble);
        text.push('\n');
    }
    for statement in plan.statements() {
        text.push('\n');
        text.push_str(statement);
        text.push('\n');
    }
    text
}

/// The header line of a migration (or down file) that runs outside a transaction.
const OUTSIDE_TRANSACTION_NOTE: &str = "Runs outside a transaction (-- strata: no-transaction): \
     each statement commits on its own, so no lock is held longer than one statement needs. \
     If one fails, those before it stay applied; every statement here is safe to run again \
     (a failed CREATE INDEX CONCURRENTLY leaves an INVALID index, which the file drops before \
     building it again), so fix the cause and run `strata migrate` again.";

/// The same for a down file.
const DOWN_OUTSIDE_TRANSACTION_NOTE: &str = "Runs outside a transaction \
     (-- strata: no-transaction): each statement commits on its own. If one fails, those \
     before it stay undone; every statement here is safe to run again.";

/// The down file of `up_name`: the reverses of its steps, last step first.
///
/// When a step has no faithful reverse (dropped data), the file starts with
/// `-- strata: irreversible` and a comment line giving each reason, which
/// `rollback` shows when it refuses the file; a blank line ends them. When a
/// reverse is a SQLite table rebuild (the reverse of a rebuild is one), the
/// file carries `-- strata: foreign-keys-off` among its leading directives, and
/// `rollback` runs it as `migrate` runs such an up file.
///
/// The down file of a migration that runs outside a transaction runs outside
/// one too (`-- strata: no-transaction`: its reverses, `DROP INDEX
/// CONCURRENTLY`, cannot run in one either). `preamble` is the dialect's
/// [`Dialect::file_preamble`], as in the up file.
fn down_text(
    dialect: &str,
    plan: &Plan,
    up_name: &str,
    down_name: &str,
    preamble: Option<&str>,
) -> String {
    let reasons: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|step| match &step.reverse {
            Reverse::Irreversible(reason) | Reverse::Lossy { reason, .. } => Some(reason.as_str()),
            Reverse::Sql(_) | Reverse::Nothing => None,
        })
        .collect();
    let foreign_keys_off = plan.steps.iter().any(|step| {
        step.foreign_keys_off && matches!(step.reverse, Reverse::Sql(_) | Reverse::Lossy { .. })
    });
    let mut text = String::new();
    if !reasons.is_empty() {
        text.push_str(super::rollback::IRREVERSIBLE_MARK);
        text.push('\n');
    }
    if foreign_keys_off {
        text.push_str(super::directive::FOREIGN_KEYS_OFF);
        text.push('\n');
    }
    let no_transaction = !plan.transactional();
    if no_transaction {
        text.push_str(super::directive::NO_TRANSACTION);
        text.push('\n');
    }
    for reason in &reasons {
        text.push_str(&sql_comment(reason));
    }
    if !reasons.is_empty() {
        text.push('\n');
    }
    text.push_str(&sql_comment(&format!(
        "{down_name}: generated by strata {} for {dialect} from schema.toml; \
         `strata rollback` runs it to undo {up_name}.",
        env!("CARGO_PKG_VERSION"),
    )));
    if plan.steps.is_empty() {
        text.push_str(&sql_comment(
            "There is nothing to undo: the migration changes nothing for this dialect.",
        ));
        return text;
    }
    if no_transaction {
        text.push_str(&sql_comment(DOWN_OUTSIDE_TRANSACTION_NOTE));
    }
    text.push_str(&sql_comment("What it undoes, last step first:"));
    for step in plan.steps.iter().rev() {
        match &step.reverse {
            Reverse::Sql(_) => text.push_str(&sql_comment(&format!("  {}", step.comment))),
            Reverse::Irreversible(reason) => text.push_str(&sql_comment(&format!(
                "  not undone: {} ({reason})",
                step.comment
            ))),
            Reverse::Lossy { reason, .. } => text.push_str(&sql_comment(&format!(
                "  undone without its data: {} ({reason})",
                step.comment
            ))),
            Reverse::Nothing => {}
        }
    }
    if let Some(preamble) = preamble {
        text.push('\n');
        text.push_str(preamble);
        text.push('\n');
    }
    for step in plan.steps.iter().rev() {
        if let Reverse::Sql(sql) | Reverse::Lossy { sql, .. } = &step.reverse {
            text.push('\n');
            text.push_str(sql);
            text.push('\n');
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Step;

    /// The planners on this branch do not plan drops yet, so the header is
    /// checked on a plan made by hand: each destructive change is marked before
    /// the steps, every line a comment.
    #[test]
    fn destructive_changes_are_marked_in_the_header() {
        let changes = [
            Change::DropColumn {
                table: "hero".into(),
                column: "power".into(),
            },
            Change::DropTable {
                table: "team\nDROP TABLE x;".into(),
            },
        ];
        let plan = Plan {
            steps: vec![Step::new(
                "ALTER TABLE \"hero\" DROP COLUMN \"power\";".into(),
                "drop column hero.power",
                Reverse::Irreversible("its data is gone".into()),
            )],
        };
        let text = migration_text("sqlite", &changes, &plan, "V2__x.sql", None, None);
        let header: Vec<&str> = text.lines().take(4).collect();
        assert_eq!(
            header,
            [
                &format!(
                    "-- V2__x.sql: generated by strata {} for sqlite from schema.toml.",
                    env!("CARGO_PKG_VERSION")
                ) as &str,
                "-- destructive: drops column hero.power",
                "-- destructive: drops table team\\nDROP TABLE x;",
                "-- What it does:",
            ]
        );
    }

    /// A version where the dialect needs no change (lockstep) has a down file
    /// with nothing to run.
    #[test]
    fn an_empty_plan_has_a_down_file_of_comments_only() {
        let text = down_text(
            "sqlite",
            &Plan::default(),
            "V2__x.sql",
            "V2__x.down.sql",
            None,
        );
        assert!(text.lines().all(|line| line.starts_with("-- ")), "{text}");
        assert!(text.contains("nothing to undo"), "{text}");
    }

    /// Irreversible and foreign-keys-off together: both directives lead, then
    /// the reasons, a blank line, and the reverses of the reversible steps.
    #[test]
    fn an_irreversible_down_file_lists_its_reasons_after_the_directives() {
        let mut rebuild = Step::new(
            "CREATE TABLE \"t_new\" (x);".into(),
            "rebuild table t",
            Reverse::Sql("CREATE TABLE \"t_old\" (x);".into()),
        );
        rebuild.foreign_keys_off = true;
        let plan = Plan {
            steps: vec![
                rebuild,
                Step::new(
                    "ALTER TABLE \"u\" DROP COLUMN \"y\";".into(),
                    "drop column u.y",
                    Reverse::Irreversible("drops column u.y\nand its data".into()),
                ),
            ],
        };
        let text = down_text("sqlite", &plan, "V2__x.sql", "V2__x.down.sql", None);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..4],
            [
                "-- strata: irreversible",
                "-- strata: foreign-keys-off",
                "-- drops column u.y\\nand its data",
                "",
            ]
        );
        assert!(crate::migrate::directive::foreign_keys_off(&text));
        assert!(text.contains("--   not undone: drop column u.y"), "{text}");
        assert!(text.ends_with("\nCREATE TABLE \"t_old\" (x);\n"), "{text}");
        assert!(!text.contains("DROP COLUMN"), "{text}");
    }
}
