//! Lockstep: every dialect's folder has the same versions with the same names.
//! A dialect added to `[project] dialects` after the first migration gets
//! catch-up migrations, one per version of the existing history, that build on
//! its engine what that history builds; any other gap is refused, naming the files.

use std::path::PathBuf;

use super::check::{lockstep_findings, Finding};
use super::dir::load_migrations;
use crate::diff::diff;
use crate::driver::{self, DatabaseUrl, Dialect, MigrationScript, Plan};
use crate::project::Project;
use crate::schema::{Change, Schema};
use crate::{Error, Result};

/// One dialect's migrations folder as it is.
pub struct History {
    pub dialect: String,
    pub folder: PathBuf,
    pub scripts: Vec<MigrationScript>,
}

impl History {
    /// `(version, file name)` of each migration, as [`lockstep_findings`] takes them.
    pub fn versions(&self) -> Vec<(i32, String)> {
        self.scripts
            .iter()
            .map(|script| (script.version, script.file_name()))
            .collect()
    }
}

pub fn load(project: &Project, dialects: &[String]) -> Result<Vec<History>> {
    dialects
        .iter()
        .map(|dialect| {
            let folder = project.migrations_dir(dialect);
            let scripts = load_migrations(&folder)?;
            Ok(History {
                dialect: dialect.clone(),
                folder,
                scripts,
            })
        })
        .collect()
}

/// Whether `history` belongs to a dialect added after the project's first
/// migration: its folder has none while another dialect's has some.
pub fn is_new(history: &History, all: &[History]) -> bool {
    history.scripts.is_empty() && all.iter().any(|other| !other.scripts.is_empty())
}

/// The lockstep findings among the dialects that are not new (a new dialect's
/// missing versions are what its catch-up writes).
pub fn gaps(project: &Project, histories: &[History]) -> Vec<Finding> {
    let established: Vec<(String, Vec<(i32, String)>)> = histories
        .iter()
        .filter(|history| !is_new(history, histories))
        .map(|history| (history.dialect.clone(), history.versions()))
        .collect();
    lockstep_findings(project, &established)
}

/// Refuses (exit 5) when a version exists for one dialect and not another.
pub fn refuse_gaps(project: &Project, histories: &[History]) -> Result<()> {
    let findings = gaps(project, histories);
    if findings.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the dialects' migrations are not in lockstep, so nothing was written:\n  {}\n\
         write the missing file for each dialect (same version and name), then run `strata hash`",
        findings
            .iter()
            .map(|finding| finding.message.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    )))
}

/// A catch-up migration for a new dialect, planned but not written yet.
pub struct CatchUpFile {
    pub version: i32,
    pub name: String,
    pub changes: Vec<Change>,
    pub plan: Plan,
}

/// A new dialect's catch-up: its files, and the folder they come from.
pub struct CatchUp {
    pub dialect: Box<dyn Dialect>,
    /// The dialect whose history the files replay.
    pub reference: String,
    pub files: Vec<CatchUpFile>,
}

/// Plans the catch-up migrations of every new dialect: for each version of the
/// first dialect whose history can be replayed here, the changes from what that
/// history builds at the version before to what it builds at this one. Only the
/// schema is carried over; data a hand-written migration inserts is not.
/// Returns them with the schema the whole reference history builds.
pub fn catch_up(
    histories: &[History],
    dev_url: Option<&DatabaseUrl>,
) -> Result<(Vec<CatchUp>, Option<Schema>)> {
    let new: Vec<&History> = histories
        .iter()
        .filter(|history| is_new(history, histories))
        .collect();
    if new.is_empty() {
        return Ok((Vec::new(), None));
    }
    // Each prefix of the reference history, replayed: the schema at each version.
    let mut reference = None;
    for history in histories.iter().filter(|h| !h.scripts.is_empty()) {
        let dialect = dialect(&history.dialect)?;
        let mut states = Vec::with_capacity(history.scripts.len());
        for end in 1..=history.scripts.len() {
            match dialect.replay(&history.scripts[..end], dev_url)? {
                Some(state) => states.push(state),
                None => break,
            }
        }
        if states.len() == history.scripts.len() {
            reference = Some((history, states));
            break;
        }
    }
    let Some((reference, mut states)) = reference else {
        return Err(Error::Usage(format!(
            "catching up {} needs a PostgreSQL server to replay the existing migrations on: \
             pass --dev-url postgres://… (or set STRATA_DEV_URL)",
            new.iter()
                .map(|h| format!("migrations/{}", h.dialect))
                .collect::<Vec<_>>()
                .join(" and ")
        )));
    };

    let mut catch_ups = Vec::new();
    let mut refusals = Vec::new();
    for history in new {
        let dialect = dialect(&history.dialect)?;
        let mut files = Vec::new();
        let empty = Schema::default();
        for (index, script) in reference.scripts.iter().enumerate() {
            let before = if index == 0 {
                &empty
            } else {
                &states[index - 1]
            };
            let after = &states[index];
            // Comments, for an engine without them, are no change (SQLite).
            let (before, after) = &if dialect.keeps_comments() {
                (before.clone(), after.clone())
            } else {
                (before.without_comments(), after.without_comments())
            };
            // Numbering SQLite has no words for is no change there either.
            let (before, after) = &if dialect.name() == "sqlite" {
                (before.without_numbering(), after.without_numbering())
            } else {
                (before.clone(), after.clone())
            };
            let changes = diff(before, after);
            match dialect.plan_unused(before, after, &changes) {
                Ok(plan) => files.push(CatchUpFile {
                    version: script.version,
                    name: script.name.clone(),
                    changes,
                    plan,
                }),
                Err(unsupported) => refusals.extend(unsupported.into_iter().map(|u| {
                    format!(
                        "{} ({}, catching up {}): {}",
                        u.change,
                        history.dialect,
                        script.file_name(),
                        u.reason
                    )
                })),
            }
        }
        catch_ups.push(CatchUp {
            dialect,
            reference: reference.dialect.clone(),
            files,
        });
    }
    if !refusals.is_empty() {
        return Err(Error::Refused(format!(
            "strata cannot generate these changes yet, so nothing was written:\n  {}",
            refusals.join("\n  ")
        )));
    }
    Ok((catch_ups, states.pop()))
}

fn dialect(name: &str) -> Result<Box<dyn Dialect>> {
    driver::dialect(name).ok_or_else(|| {
        Error::Refused(format!(
            "dialect `{name}` is not supported by this version of strata yet; \
             remove it from [project] dialects"
        ))
    })
}
