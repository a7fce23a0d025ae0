//! `strata baseline`: start managing a database strata did not build. Checks
//! that the live schema is what the migrations up to N build (replayed on a
//! scratch database), then records them as applied without running them, under
//! the migration lock. Flyway's `baseline` and Atlas's `--baseline` do the same.

use std::path::Path;

use super::migrate::dialect_folder;
use super::output::{self, say};
use super::Context;
use crate::diff::diff;
use crate::driver::{
    dialect, open_existing, quote_literal, DatabaseUrl, LockGuard, MigrationScript, HISTORY_TABLE,
};
use crate::error::exit;
use crate::migrate::{checksum, integrity_problems, load_migrations, replay_cache};
use crate::schema::unmanaged::adopt;
use crate::{Error, Result};

pub fn run(context: &Context, version: Option<i32>, dev_url: Option<&str>) -> Result<i32> {
    let url = context.url()?;
    let dev_url = dev_url
        .map(|text| DatabaseUrl::parse(text, Path::new(".")))
        .transpose()?;
    let dialect_name = dialect_folder(&url);
    let dialect = dialect(dialect_name)
        .ok_or_else(|| Error::Usage(format!("no dialect `{dialect_name}` in this build")))?;
    let folder = context.project.migrations_dir(dialect_name);
    let scripts = load_migrations(&folder)?;
    let problems = integrity_problems(&folder, &scripts)?;
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: nothing was recorded:\n  {}",
            folder.display(),
            problems.join("\n  ")
        )));
    }
    let Some(last) = scripts.last() else {
        return Err(Error::Refused(format!(
            "{}: there is no migration to record; run `strata pull --output schema.toml` and `strata generate initial` first",
            folder.display()
        )));
    };
    let target = version.unwrap_or(last.version);
    if !scripts.iter().any(|script| script.version == target) {
        return Err(Error::Usage(format!(
            "--version {target}: {} has no migration V{target}__*.sql",
            folder.display()
        )));
    }
    let baseline: Vec<MigrationScript> = scripts
        .iter()
        .filter(|script| script.version <= target)
        .cloned()
        .collect();

    // baseline adopts an existing database; it never creates one.
    let Some(mut database) = open_existing(&url, context.connect)? else {
        return Err(Error::Usage(format!(
            "{url}: the database file does not exist; baseline records migrations in an existing database"
        )));
    };
    let timeout = context.lock_timeout;
    let mut on_wait = |message: &str| say!("  {message} (giving up after {} s)", timeout.as_secs());
    let mut locked = LockGuard::take(database.as_mut(), timeout, &mut on_wait)?;
    let applied = locked.applied_migrations()?;
    if let Some(newest) = applied.last() {
        return Err(Error::Refused(format!(
            "{url} already has a migration history (V{}__{} applied); baseline only starts one: \
             use `strata migrate` to apply later migrations",
            newest.version, newest.name
        )));
    }

    let progress = output::Progress::spinner("replaying the migrations");
    // PostgreSQL replays on a scratch database; without --dev-url on the target's
    // own server (which needs the CREATEDB privilege), as `check` does.
    let (expected, _) = replay_cache::replay(
        &context.project,
        dialect.as_ref(),
        &baseline,
        Some(dev_url.as_ref().unwrap_or(&url)),
        false,
    )?;
    let Some(mut expected) = expected else {
        return Err(Error::Usage(format!(
            "{url}: the migrations cannot be replayed here; pass --dev-url with a server where strata may create a scratch database"
        )));
    };
    let (mut live, mut unmanaged) = locked.inspect_with_unmanaged()?;
    drop(progress);
    // Both sides as schema.toml can hold them: what the model leaves out is
    // compared by neither.
    adopt(&mut live, &mut unmanaged);
    adopt(&mut expected, &mut Vec::new());
    let changes = diff(&live, &expected);
    if !changes.is_empty() {
        return Err(Error::Refused(format!(
            "{url} is not what the migrations up to V{target} build, so nothing was recorded; \
             they would change it so:\n{}\n\
             make the migrations describe the database (`strata pull`, then `strata generate`), \
             or baseline at the version that does (--version N)",
            changes
                .iter()
                .map(|change| format!("  {change}"))
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    if !unmanaged.is_empty() {
        output::warning(&format!(
            "{url}: {} not managed by strata; they stay as they are and migrations leave them alone:\n{}",
            super::plural(unmanaged.len(), "object"),
            unmanaged
                .iter()
                .map(|object| format!("  {object}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }

    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| Error::Database(format!("formatting the time: {error}")))?;
    // refinery's own history table and rows, so that `migrate` (refinery) reads
    // them as applied migrations.
    let mut statements = vec![format!(
        "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (version INT4 PRIMARY KEY, \
         name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));"
    )];
    for script in &baseline {
        statements.push(format!(
            "INSERT INTO {HISTORY_TABLE} (version, name, applied_on, checksum) VALUES ({}, {}, {}, {});",
            script.version,
            quote_literal(&script.name),
            quote_literal(&now),
            quote_literal(&checksum(script).to_string())
        ));
    }
    let statements: Vec<&str> = statements.iter().map(String::as_str).collect();
    locked.run_in_write_transaction(&statements)?;
    locked.release()?;

    say!(
        "Baselined {url}: {} recorded as applied without running {} (up to V{target}__{})",
        super::plural(baseline.len(), "migration"),
        if baseline.len() == 1 { "it" } else { "them" },
        baseline.last().map_or("", |script| script.name.as_str())
    );
    output::json(&serde_json::json!({
        "command": "baseline",
        "database": url.to_string(),
        "version": target,
        "recorded": baseline.iter().map(|script| serde_json::json!({
            "version": script.version,
            "name": script.name,
        })).collect::<Vec<_>>(),
        "unmanaged": unmanaged,
    }));
    Ok(exit::OK)
}
