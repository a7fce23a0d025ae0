use super::output::{self, say};
use super::{plural, Context};
use crate::driver::{connect, open_existing, Database, DatabaseUrl};
use crate::error::exit;
use crate::migrate::{migrate, pending_migrations};
use crate::Result;

pub fn run(context: &Context, dry_run: bool) -> Result<i32> {
    let url = context.url()?;
    if dry_run {
        // A dry run only reads: a database that does not exist is not created,
        // and every migration is pending on it.
        let mut database = open_existing(&url, context.connect)?;
        let database = database.as_mut().map(|db| db.as_mut() as &mut dyn Database);
        return dry_run_migrations(context, &url, database);
    }
    let mut database = connect(&url, context.connect)?;
    say!("Migrating {url}");
    let report = apply_migrations(context, &url, database.as_mut())?;
    output::json(&serde_json::json!({
        "command": "migrate",
        "database": url.to_string(),
        "dry_run": false,
        "applied": report.applied_json(),
        "version": report.version,
    }));
    Ok(exit::OK)
}

/// What `apply_migrations` did.
pub(crate) struct MigrationsReport {
    /// (version, name, milliseconds, batch), in the order applied: `batch`
    /// migrations applied in one round trip share its milliseconds.
    pub applied: Vec<(i32, String, u128, usize)>,
    /// The version the database is at afterwards.
    pub version: Option<i32>,
}

impl MigrationsReport {
    pub fn applied_json(&self) -> serde_json::Value {
        self.applied
            .iter()
            .map(|(version, name, ms, batch)| {
                serde_json::json!({
                    "version": version,
                    "name": name,
                    "duration_ms": ms,
                    "batch": batch,
                })
            })
            .collect()
    }
}

/// `migrate --dry-run`: the SQL of every pending migration, in order; nothing runs.
fn dry_run_migrations(
    context: &Context,
    url: &DatabaseUrl,
    database: Option<&mut dyn Database>,
) -> Result<i32> {
    let folder = context.project.migrations_dir(dialect_folder(url));
    let timeout = context.lock_timeout;
    let mut on_wait = |message: &str| say!("  {message} (giving up after {} s)", timeout.as_secs());
    let status = pending_migrations(database, &folder, timeout, &mut on_wait)?;
    let pending = status.pending();
    say!("Migrating {url} (dry run: nothing is applied)");
    for script in &pending {
        say!("-- {}", folder.join(script.file_name()).display());
        say!("{}", script.sql.trim_end());
        say!();
    }
    say!(
        "Migrations: dry run; {} would be applied.",
        plural(pending.len(), "migration")
    );
    output::json(&serde_json::json!({
        "command": "migrate",
        "database": url.to_string(),
        "dry_run": true,
        "pending": pending.iter().map(|script| serde_json::json!({
            "version": script.version,
            "name": script.name,
            "file": folder.join(script.file_name()),
            "sql": script.sql,
        })).collect::<Vec<_>>(),
        "version": status.current_version(),
    }));
    Ok(exit::OK)
}

/// Applies pending migrations, printing each and a summary line. Shared by
/// `migrate`, `patch --migrate` and `setup`.
pub(crate) fn apply_migrations(
    context: &Context,
    url: &DatabaseUrl,
    database: &mut dyn Database,
) -> Result<MigrationsReport> {
    let mut report = MigrationsReport::new();
    migrate_to(context, url, database, None, &mut report)?;
    report.say_if_nothing_applied();
    Ok(report)
}

impl MigrationsReport {
    pub fn new() -> Self {
        MigrationsReport {
            applied: Vec::new(),
            version: None,
        }
    }

    /// The summary when no call of [`migrate_to`] applied anything (each that
    /// did said so itself).
    pub fn say_if_nothing_applied(&self) {
        if self.applied.is_empty() {
            let at = self
                .version
                .map_or("no migrations".to_string(), |v| format!("V{v}"));
            say!("Migrations: nothing to apply, the database is up to date ({at}).");
        }
    }
}

/// Applies the pending migrations up to `target` (every one with `None`),
/// printing each and, when any was applied, a summary line; adds them to `report`.
pub(crate) fn migrate_to(
    context: &Context,
    url: &DatabaseUrl,
    database: &mut dyn Database,
    target: Option<i32>,
    report: &mut MigrationsReport,
) -> Result<()> {
    let folder = context.project.migrations_dir(dialect_folder(url));
    let mut applied = Vec::new();
    let timeout = context.lock_timeout;
    let mut on_wait = |message: &str| say!("  {message} (giving up after {} s)", timeout.as_secs());
    let progress = output::Progress::start("migrating", "applied");
    // Migrations applied in one round trip (PostgreSQL) have no times of their
    // own: each is listed, then the group's time once.
    let mut group_first = None;
    let mut group_seen = 0;
    let status = migrate(database, &folder, target, timeout, &mut on_wait, |event| {
        let ms = event.duration.as_millis();
        progress.advance(1, &event.script.stem());
        if event.batch <= 1 {
            say!("  applied {} ({ms} ms)", event.script.stem());
        } else {
            say!("  applied {}", event.script.stem());
            let first = *group_first.get_or_insert(event.script.version);
            group_seen += 1;
            if group_seen == event.batch {
                say!(
                    "  (V{first}..V{}: {} migrations in one round trip, {ms} ms)",
                    event.script.version,
                    event.batch
                );
                group_first = None;
                group_seen = 0;
            }
        }
        output::detail(format_args!(
            "{}:\n{}",
            folder.join(event.script.file_name()).display(),
            event.script.sql.trim_end()
        ));
        applied.push((
            event.script.version,
            event.script.name.clone(),
            ms,
            event.batch,
        ));
    })?;
    drop(progress);
    report.version = status
        .pending()
        .iter()
        .map(|s| s.version)
        .rfind(|version| target.is_none_or(|target| *version <= target))
        .or(status.current_version());
    if !applied.is_empty() {
        let at = report.version.map_or(String::new(), |v| format!("V{v}"));
        say!(
            "Migrations: applied {}; the database is at {at}.",
            plural(applied.len(), "migration")
        );
    }
    report.applied.extend(applied);
    Ok(())
}

/// The migrations folder a database of this kind reads: its engine's name.
pub(crate) fn dialect_folder(url: &DatabaseUrl) -> &'static str {
    url.dialect_name()
}
