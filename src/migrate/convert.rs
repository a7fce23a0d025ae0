//! `strata convert --to diesel|refinery`: moves a project between refinery's
//! layout (`V<n>__<name>.sql`) and Diesel's (`<version>_<name>/up.sql`), and a
//! database's history between `refinery_schema_history` and
//! `__diesel_schema_migrations`, without running any migration.
//!
//! Everything is checked first (every folder intact per strata.sum, the
//! database's history matching the files); then the history rows move in one
//! transaction under the migration lock; then the files move and strata.sum is
//! rewritten.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::apply::{applied_migrations, checksum, integrity_problems, migration_status};
use super::dir::{down_file_name, load_down, load_migrations};
use super::layout::{
    consecutive_timestamps, Layout, DIESEL_HISTORY_DDL, DIESEL_HISTORY_TABLE, DOWN_FILE,
    METADATA_FILE, NO_TRANSACTION_METADATA, UP_FILE,
};
use crate::driver::{quote_literal, Database, LockGuard, MigrationScript, HISTORY_TABLE};
use crate::project::Project;
use crate::{Error, Result};

/// refinery's history table, as refinery creates it.
const REFINERY_HISTORY_DDL: &str = "CREATE TABLE IF NOT EXISTS refinery_schema_history (\
     version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))";

/// One dialect folder's conversion: each migration and its new name.
pub struct FolderPlan {
    /// `migrations/<dialect>`.
    pub folder: PathBuf,
    /// The dialect whose folder it is.
    pub dialect: String,
    /// (migration as it is now, its file stem in the target layout).
    pub moves: Vec<(MigrationScript, MigrationScript)>,
}

/// What `convert` did.
pub struct ConvertReport {
    /// The layout the project is in now.
    pub to: Layout,
    /// Every dialect folder, with the migrations moved in it.
    pub folders: Vec<FolderPlan>,
    /// The history rows moved (from table, to table, count), when a database
    /// was given and had a history to move.
    pub history: Option<(&'static str, &'static str, usize)>,
    /// Whether schema.toml's `[project] layout` was rewritten.
    pub schema_updated: bool,
}

/// Converts the project (every dialect folder of schema.toml) to `to`, and the
/// history of `database` when one is given.
pub fn convert(
    project: &Project,
    to: Layout,
    database: Option<&mut dyn Database>,
    dialect_of_database: &str,
    lock_timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
) -> Result<ConvertReport> {
    let declared = project.load_schema()?;
    let mut folders = Vec::new();
    let versions: Vec<i32> = {
        let mut all = Vec::new();
        for dialect in &declared.config.dialects {
            all.extend(
                load_migrations(&project.migrations_dir(dialect))?
                    .iter()
                    .map(|s| s.version),
            );
        }
        all.sort_unstable();
        all.dedup();
        all
    };
    // Every dialect's migration of one version gets the same Diesel version.
    let stamps = consecutive_timestamps(versions.len());
    for dialect in &declared.config.dialects {
        let folder = project.migrations_dir(dialect);
        let scripts = load_migrations(&folder)?;
        let problems = integrity_problems(&folder, &scripts)?;
        if !problems.is_empty() {
            return Err(Error::Refused(format!(
                "{}: nothing was converted:\n  {}",
                folder.display(),
                problems.join("\n  ")
            )));
        }
        let moves = scripts
            .into_iter()
            .filter(|script| (script.dir.is_some()) != (to == Layout::Diesel))
            .map(|script| {
                let target = MigrationScript {
                    dir: match to {
                        Layout::Diesel => {
                            let index = versions.binary_search(&script.version).unwrap_or(0);
                            Some(format!("{}_{}", stamps[index], script.name))
                        }
                        Layout::Refinery => None,
                    },
                    ..script.clone()
                };
                (script, target)
            })
            .collect();
        folders.push(FolderPlan {
            folder,
            dialect: dialect.clone(),
            moves,
        });
    }
    let history = match database {
        Some(database) => {
            let plan = folders
                .iter()
                .find(|plan| plan.dialect == dialect_of_database)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: schema.toml has no `{dialect_of_database}` dialect, so this \
                         database's history has no migrations folder to follow",
                        database.display_url()
                    ))
                })?;
            let mut locked = LockGuard::take(database, lock_timeout, on_wait)?;
            let moved = convert_history(&mut *locked, plan, to)?;
            locked.release()?;
            moved
        }
        None => None,
    };
    for plan in &folders {
        move_files(plan)?;
        if !plan.moves.is_empty() {
            super::integrity::rehash(&plan.folder)?;
        }
    }
    let schema_updated = set_layout(&project.schema_path(), to)?;
    Ok(ConvertReport {
        to,
        folders,
        history,
        schema_updated,
    })
}

/// Moves the history rows of `database` to the other layout's table, in one
/// transaction, and drops the emptied table. `None` when there was nothing to move.
fn convert_history(
    database: &mut dyn Database,
    plan: &FolderPlan,
    to: Layout,
) -> Result<Option<(&'static str, &'static str, usize)>> {
    // (migration in the layout the history is in, in the target layout).
    let pairs: Vec<(MigrationScript, MigrationScript)> = if !plan.moves.is_empty() {
        plan.moves.clone()
    } else {
        let current = load_migrations(&plan.folder)?;
        match to {
            // The files were converted without this database: its refinery
            // history is read against the same migrations under refinery's names.
            Layout::Diesel => current
                .into_iter()
                .map(|script| {
                    let source = MigrationScript {
                        dir: None,
                        ..script.clone()
                    };
                    (source, script)
                })
                .collect(),
            Layout::Refinery => {
                let display = database.display_url();
                let mut read = database.begin_read()?;
                if read.table_exists(DIESEL_HISTORY_TABLE)? {
                    return Err(Error::Refused(format!(
                        "{}: its history is in {DIESEL_HISTORY_TABLE}, but {} is in \
                         refinery's layout already, so strata cannot tell which Diesel version \
                         was which migration; restore the Diesel folders (from version control) \
                         and run `strata convert --to refinery` with this database",
                        display,
                        plan.folder.display()
                    )));
                }
                return Ok(None);
            }
        }
    };
    let current: Vec<MigrationScript> = pairs.iter().map(|(source, _)| source.clone()).collect();
    let applied = applied_migrations(database, &current)?;
    let status = migration_status(&applied, &current);
    let problems = status.problems();
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: its history does not match {}, so nothing was converted:\n  {}",
            database.display_url(),
            plan.folder.display(),
            problems.join("\n  ")
        )));
    }
    let (from_table, into_table) = match to {
        Layout::Diesel => (HISTORY_TABLE, DIESEL_HISTORY_TABLE),
        Layout::Refinery => (DIESEL_HISTORY_TABLE, HISTORY_TABLE),
    };
    let source_exists = {
        let mut read = database.begin_read()?;
        read.table_exists(from_table)?
    };
    if !source_exists {
        return Ok(None);
    }
    let mut script = String::new();
    script.push_str(match to {
        Layout::Diesel => DIESEL_HISTORY_DDL,
        Layout::Refinery => REFINERY_HISTORY_DDL,
    });
    script.push_str(";\n");
    let mut count = 0;
    for row in &applied {
        // The files are converted after the history: look the migration up by
        // number, and name it as it will be named.
        let Some((_, target)) = pairs
            .iter()
            .find(|(script, _)| script.version == row.version)
        else {
            continue;
        };
        count += 1;
        script.push_str(&match to {
            Layout::Diesel => format!(
                "INSERT INTO {DIESEL_HISTORY_TABLE} (version, run_on) VALUES ({}, {});\n",
                quote_literal(&target.diesel_version().unwrap_or_default()),
                quote_literal(&sql_timestamp(&row.applied_on)),
            ),
            Layout::Refinery => format!(
                "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) \
                 VALUES ({}, {}, {}, {});\n",
                target.version,
                quote_literal(&target.name),
                quote_literal(&rfc3339(&row.applied_on)),
                quote_literal(&checksum(target).to_string()),
            ),
        });
    }
    script.push_str(&format!("DROP TABLE {from_table};\n"));
    database.run_in_write_transaction(&[&script])?;
    Ok(Some((from_table, into_table, count)))
}

/// refinery's `applied_on` (RFC 3339) as a TIMESTAMP literal Diesel's `run_on`
/// takes on both engines; the time now when it cannot be read.
fn sql_timestamp(applied_on: &str) -> String {
    let format = time::format_description::well_known::Rfc3339;
    let time = time::OffsetDateTime::parse(applied_on, &format)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// Diesel's `run_on` (`2026-11-25 23:00:00[.fraction]`) as refinery's RFC 3339 text.
fn rfc3339(run_on: &str) -> String {
    let trimmed = run_on.split('.').next().unwrap_or(run_on);
    match trimmed.split_once(' ') {
        Some((date, clock)) => format!("{date}T{clock}Z"),
        None => run_on.to_string(),
    }
}

/// Renames every file of `plan` into its new layout.
fn move_files(plan: &FolderPlan) -> Result<()> {
    for (script, target) in &plan.moves {
        let down = load_down(&plan.folder, script)?;
        let up_to = plan.folder.join(target.file_name());
        if let Some(parent) = up_to.parent() {
            std::fs::create_dir_all(parent).map_err(|error| Error::io(parent, error))?;
        }
        rename(&plan.folder.join(script.file_name()), &up_to)?;
        if down.is_some() {
            rename(
                &plan.folder.join(down_file_name(script)),
                &plan.folder.join(down_file_name(target)),
            )?;
        }
        match (&script.dir, &target.dir) {
            // Diesel reads `run_in_transaction = false` from metadata.toml.
            (None, Some(dir)) if super::directive::no_transaction(&script.sql) => {
                let path = plan.folder.join(dir).join(METADATA_FILE);
                std::fs::write(&path, NO_TRANSACTION_METADATA)
                    .map_err(|error| Error::io(&path, error))?;
            }
            // refinery's layout keeps only the directive in the file itself.
            (Some(dir), None) => {
                let old = plan.folder.join(dir);
                let metadata = old.join(METADATA_FILE);
                if metadata.exists() {
                    std::fs::remove_file(&metadata).map_err(|error| Error::io(&metadata, error))?;
                }
                std::fs::remove_dir(&old).map_err(|error| {
                    Error::io(
                        &old,
                        std::io::Error::new(
                            error.kind(),
                            format!("{error} (files other than {UP_FILE}, {DOWN_FILE} and {METADATA_FILE} are left in it)"),
                        ),
                    )
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    if to.exists() {
        return Err(Error::Refused(format!(
            "{} already exists; {} was not moved onto it",
            to.display(),
            from.display()
        )));
    }
    std::fs::rename(from, to).map_err(|error| Error::io(from, error))
}

/// Sets `[project] layout` in schema.toml (a focused text edit that keeps the
/// file's comments); returns whether the file changed.
fn set_layout(schema: &Path, to: Layout) -> Result<bool> {
    let text = std::fs::read_to_string(schema).map_err(|error| Error::io(schema, error))?;
    let line = format!("layout = \"{to}\"");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut in_project = false;
    let mut project_header = None;
    let mut replaced = false;
    for (index, current) in lines.iter_mut().enumerate() {
        let trimmed = current.trim();
        if trimmed.starts_with('[') {
            in_project = trimmed == "[project]";
            if in_project {
                project_header = Some(index);
            }
            continue;
        }
        if in_project && trimmed.starts_with("layout") && trimmed[6..].trim_start().starts_with('=')
        {
            if current.trim() == line {
                return Ok(false);
            }
            *current = line.clone();
            replaced = true;
        }
    }
    if !replaced {
        match project_header {
            Some(index) => lines.insert(index + 1, line),
            None => {
                lines.insert(0, String::new());
                lines.insert(0, line);
                lines.insert(0, "[project]".to_string());
            }
        }
    }
    let mut new_text = lines.join("\n");
    if text.ends_with('\n') {
        new_text.push('\n');
    }
    std::fs::write(schema, new_text).map_err(|error| Error::io(schema, error))?;
    Ok(true)
}
