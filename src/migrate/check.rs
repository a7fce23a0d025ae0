//! `strata check`: the CI gate. Every finding is collected (a gate that stops at
//! the first problem makes people push once per problem), each with its kind, so
//! the command line can map kinds to exit codes and JSON.

use std::path::PathBuf;

use super::dir::load_migrations;
use super::generate::unsynced_changes;
use super::integrity;
use super::{migration_status, StatusLine};
use crate::diff::diff;
use crate::driver::{self, Database, DatabaseUrl, MigrationScript};
use crate::patch::{load_patches, patch_status, PatchState};
use crate::project::Project;
use crate::Result;

/// The kinds of finding, most fundamental first; the exit code of `check` is the
/// code of the first kind found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FindingKind {
    /// A migration file was edited, deleted, added without `strata hash`, or
    /// renumbered; or the integrity file is missing or damaged.
    Integrity,
    /// A version exists for one dialect and not another.
    Lockstep,
    /// schema.toml declares something the migrations do not build.
    SchemaOutOfSync,
    /// The live database differs from what its applied migrations build.
    Drift,
    /// Migrations or patches not yet applied to the database.
    Pending,
}

impl FindingKind {
    /// Documented in the README's exit-code table.
    pub fn exit_code(self) -> i32 {
        match self {
            FindingKind::Integrity => 10,
            FindingKind::Lockstep => 11,
            FindingKind::SchemaOutOfSync => 12,
            FindingKind::Drift => 13,
            FindingKind::Pending => 14,
        }
    }

    /// The name used in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Integrity => "integrity",
            FindingKind::Lockstep => "lockstep",
            FindingKind::SchemaOutOfSync => "schema_out_of_sync",
            FindingKind::Drift => "drift",
            FindingKind::Pending => "pending",
        }
    }
}

/// One thing `check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem it is.
    pub kind: FindingKind,
    /// The dialect (migrations folder) it concerns, when it concerns one.
    pub dialect: Option<String>,
    /// What was found, naming the database, file or object.
    pub message: String,
    /// SQL that would reconcile a drifted database with its migrations.
    pub sql: Vec<String>,
}

impl Finding {
    fn new(kind: FindingKind, dialect: Option<&str>, message: String) -> Self {
        Finding {
            kind,
            dialect: dialect.map(str::to_string),
            message,
            sql: Vec::new(),
        }
    }
}

/// Integrity of one dialect folder.
pub fn integrity_findings(
    folder: &std::path::Path,
    dialect: &str,
    scripts: &[MigrationScript],
) -> Result<Vec<Finding>> {
    Ok(integrity::verify_scripts(folder, scripts)?
        .into_iter()
        .map(|problem| {
            Finding::new(
                FindingKind::Integrity,
                Some(dialect),
                format!("{}: {problem}", folder.display()),
            )
        })
        .collect())
}

/// Findings about the project's files alone: integrity, lockstep, and whether
/// schema.toml and the migrations agree.
pub fn check_files(project: &Project, dev_url: Option<&DatabaseUrl>) -> Result<Vec<Finding>> {
    let declared = project.load_schema()?;
    let mut findings = Vec::new();
    let mut versions: Vec<(String, Vec<(i32, String)>)> = Vec::new();
    for dialect in &declared.config.dialects {
        let folder = project.migrations_dir(dialect);
        let scripts = load_migrations(&folder)?;
        findings.extend(integrity_findings(&folder, dialect, &scripts)?);
        versions.push((
            dialect.clone(),
            scripts.iter().map(|s| (s.version, s.file_name())).collect(),
        ));
    }
    findings.extend(lockstep_findings(project, &versions));
    for (dialect, changes) in unsynced_changes(project, dev_url)? {
        if changes.is_empty() {
            continue;
        }
        let list: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
        findings.push(Finding::new(
            FindingKind::SchemaOutOfSync,
            Some(&dialect),
            format!(
                "schema.toml and migrations/{dialect} disagree; `strata generate NAME` would write:\n{}",
                list.join("\n")
            ),
        ));
    }
    Ok(findings)
}

/// The lockstep findings of the project's folders alone (for `status`).
pub fn lockstep_problems(project: &Project) -> Result<Vec<Finding>> {
    let declared = project.load_schema()?;
    let mut versions = Vec::new();
    for dialect in &declared.config.dialects {
        let scripts = load_migrations(&project.migrations_dir(dialect))?;
        versions.push((
            dialect.clone(),
            scripts.iter().map(|s| (s.version, s.file_name())).collect(),
        ));
    }
    Ok(lockstep_findings(project, &versions))
}

pub(crate) fn lockstep_findings(
    project: &Project,
    versions: &[(String, Vec<(i32, String)>)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (dialect, files) in versions {
        for (other, other_files) in versions {
            if other == dialect {
                continue;
            }
            for (version, file) in files {
                match other_files.iter().find(|(v, _)| v == version) {
                    None => findings.push(Finding::new(
                        FindingKind::Lockstep,
                        Some(other),
                        format!(
                            "{} has version {version} but {} has none: every dialect needs the same versions \
                             (write {} by hand; for a dialect newly added to [project] dialects, \
                             `strata generate NAME` writes its catch-up migrations)",
                            project.migrations_dir(dialect).join(file).display(),
                            project.migrations_dir(other).display(),
                            project.migrations_dir(other).join(file).display(),
                        ),
                    )),
                    // Each pair is reported once, from the dialect listed first.
                    Some((_, other_file)) if other_file != file && dialect < other => {
                        findings.push(Finding::new(
                            FindingKind::Lockstep,
                            Some(other),
                            format!(
                                "version {version} is {} in migrations/{dialect} but {} in migrations/{other}: \
                                 the names must match",
                                file, other_file
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    findings
}

/// Findings about a live database: drift from what its applied migrations build,
/// and pending migrations and patches. Reads only; nothing is changed.
/// `dev_url` is where a scratch database may replay PostgreSQL migrations.
pub fn check_database(
    project: &Project,
    url: &DatabaseUrl,
    database: &mut dyn Database,
    dev_url: Option<&DatabaseUrl>,
) -> Result<Vec<Finding>> {
    let scripts = load_migrations(&project.migrations_dir(dialect_of(url)))?;
    let patches = load_patches(&project.patches_dir())?;
    check_database_with(Some(project), &scripts, &patches, url, database, dev_url)
}

/// [`check_database`] for migrations and patches already loaded (from disk, or
/// embedded in an application). `project`, when there is one, holds the replay
/// cache.
pub fn check_database_with(
    project: Option<&Project>,
    scripts: &[MigrationScript],
    patches: &[crate::patch::PatchFile],
    url: &DatabaseUrl,
    database: &mut dyn Database,
    dev_url: Option<&DatabaseUrl>,
) -> Result<Vec<Finding>> {
    let dialect_name = dialect_of(url);
    let dialect = driver::dialect(dialect_name)
        .ok_or_else(|| crate::Error::Usage(format!("no dialect `{dialect_name}` in this build")))?;
    let applied = crate::migrate::applied_migrations(database, scripts)?;
    let status = migration_status(&applied, scripts);
    let mut findings = Vec::new();

    for line in &status.lines {
        let message = match line {
            StatusLine::Pending(script) => format!("{url}: migration {} is pending", script.stem()),
            StatusLine::OutOfOrder(script) => format!(
                "{url}: migration {} is not applied but is older than applied ones",
                script.stem()
            ),
            StatusLine::Changed(a) => format!(
                "{url}: V{}__{}.sql was changed after it was applied",
                a.version, a.name
            ),
            StatusLine::Missing(a) => format!(
                "{url}: V{}__{}.sql was applied but the file is gone",
                a.version, a.name
            ),
            StatusLine::Applied(_) => continue,
        };
        let kind = match line {
            StatusLine::Pending(_) => FindingKind::Pending,
            _ => FindingKind::Integrity,
        };
        findings.push(Finding::new(kind, Some(dialect_name), message));
    }

    let applied_scripts: Vec<MigrationScript> = scripts
        .iter()
        .filter(|s| applied.iter().any(|a| a.version == s.version))
        .cloned()
        .collect();
    // PostgreSQL replays on a scratch database; without --dev-url the target's
    // own server is used (which needs the CREATEDB privilege).
    let replay_server = dev_url.unwrap_or(url);
    // When every migration is applied this is the replay `generate` cached; a
    // database behind is replayed as it is, without replacing that cache.
    let expected = match project {
        Some(project) => {
            super::replay_cache::replay(
                project,
                dialect.as_ref(),
                &applied_scripts,
                Some(replay_server),
                false,
            )?
            .0
        }
        None => dialect.replay(&applied_scripts, Some(replay_server))?,
    };
    if let Some(mut expected) = expected {
        // What strata does not manage (a CHECK, a view, a column of a type
        // schema.toml cannot declare, in a database adopted with `baseline`) is
        // not drift: no migration made it, and none may drop it.
        let (mut live, _) = database.inspect_with_unmanaged()?;
        crate::schema::unmanaged::adopt(&mut live, &mut Vec::new());
        crate::schema::unmanaged::adopt(&mut expected, &mut Vec::new());
        let changes = diff(&live, &expected);
        if !changes.is_empty() {
            let mut finding = Finding::new(
                FindingKind::Drift,
                Some(dialect_name),
                format!(
                    "{url} has drifted from what its applied migrations build; these changes would bring it back:\n{}",
                    changes
                        .iter()
                        .map(|c| format!("  {c}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            );
            finding.sql = match dialect.plan(&live, &expected, &changes) {
                Ok(plan) => plan
                    .foreign_keys_off()
                    .then(|| super::directive::FOREIGN_KEYS_OFF.to_string())
                    .into_iter()
                    .chain(plan.statements().map(str::to_string))
                    .collect(),
                Err(unsupported) => unsupported
                    .iter()
                    .map(|u| format!("-- cannot reconcile {}: {}", u.change, u.reason))
                    .collect(),
            };
            findings.push(finding);
        }
    }

    for line in patch_status(&database.applied_patches()?, patches) {
        let (kind, message) = match &line.state {
            PatchState::Pending => (
                FindingKind::Pending,
                format!("{url}: patch {} is pending", line.name),
            ),
            PatchState::Changed(_) => (
                FindingKind::Integrity,
                format!(
                    "{url}: patch {} was changed after it was applied",
                    line.name
                ),
            ),
            PatchState::Missing(_) => (
                FindingKind::Integrity,
                format!(
                    "{url}: patch {} was applied but the file is gone",
                    line.name
                ),
            ),
            PatchState::Applied(_) => continue,
        };
        findings.push(Finding::new(kind, None, message));
    }
    Ok(findings)
}

/// Where a dialect's integrity file lives, for messages.
pub fn sum_path(project: &Project, dialect: &str) -> PathBuf {
    project.migrations_dir(dialect).join(integrity::SUM_FILE)
}

fn dialect_of(url: &DatabaseUrl) -> &'static str {
    url.dialect_name()
}

/// For applications and scripts: `Err(Error::Drift)` when the live database
/// differs from what its applied migrations build (each difference is a change
/// that would bring it back), `Ok(())` otherwise. Pending work is not drift.
pub fn ensure_no_drift(
    project: &Project,
    url: &DatabaseUrl,
    database: &mut dyn Database,
    dev_url: Option<&DatabaseUrl>,
) -> Result<()> {
    let differences: Vec<String> = check_database(project, url, database, dev_url)?
        .into_iter()
        .filter(|finding| finding.kind == FindingKind::Drift)
        .flat_map(|finding| {
            // The first line says what the finding is; the changes follow, indented.
            finding
                .message
                .lines()
                .skip(1)
                .map(|line| line.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    if differences.is_empty() {
        Ok(())
    } else {
        Err(crate::Error::Drift {
            database: url.to_string(),
            differences,
        })
    }
}
