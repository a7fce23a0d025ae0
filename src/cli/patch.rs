use std::collections::HashSet;

use serde_json::{json, Value};

use super::migrate::{dialect_folder, migrate_to, MigrationsReport};
use super::output::{self, say};
use super::{plural, Context};
use crate::driver::{connect, AppliedPatch, Database, DatabaseUrl, MigrationScript, SqlValue};
use crate::error::exit;
use crate::migrate::{load_migrations, migration_status, schema_at};
use crate::patch::{
    apply_patches_with, check_pins, check_sql, failed_validation_note, load_patches, new_patch,
    stops, validate_patch, Change, PatchEvent, PatchFile, PatchOptions, RowChange, SchemaMemo,
    Stage,
};
use crate::project::Project;
use crate::schema::Schema;
use crate::text::printable;
use crate::{Error, Result};

pub fn run(context: &Context, options: PatchOptions, migrate_first: bool) -> Result<i32> {
    let url = context.url()?;
    let mut database = connect(&url, context.connect)?;
    say!(
        "Patching {url}{}",
        if options.dry_run { " (dry run)" } else { "" }
    );
    let (migrations, report) = if migrate_first {
        let (migrations, report) = migrate_and_patch(context, &url, database.as_mut(), options)?;
        (Some(migrations), report)
    } else {
        require_migrated(&context.project, &url, database.as_mut())?;
        let files = load_patches(&context.project.patches_dir())?;
        let folder = context.project.migrations_dir(dialect_folder(&url));
        let scripts = load_migrations(&folder)?;
        check_pins(&files, &scripts, &folder)?;
        let mut run = PatchRun::start(options, context);
        run.stage(database.as_mut(), &files, Stage::All, &scripts)?;
        (None, run.finish())
    };
    let mut document = json!({
        "command": "patch",
        "database": url.to_string(),
        "dry_run": options.dry_run,
    });
    if let Some(migrations) = &migrations {
        document["migrations"] = migrations.applied_json();
    }
    document["patches"] = Value::Array(report.patches);
    document["skipped"] = json!(report.skipped);
    output::json(&document);
    Ok(exit::OK)
}

/// `strata patch new NAME`.
pub fn run_new(project: &Project, name: &str) -> Result<i32> {
    let written = new_patch(project, name)?;
    say!(
        "Wrote {} (after = {}: a new database applies it right after V{}, the latest migration)",
        written.path.display(),
        written.after,
        written.after
    );
    output::json(&json!({
        "command": "patch new",
        "file": written.path,
        "after": written.after,
    }));
    Ok(exit::OK)
}

/// Patches are written against the migrated schema; refuse to run them on an older one.
fn require_migrated(
    project: &Project,
    url: &DatabaseUrl,
    database: &mut dyn Database,
) -> Result<()> {
    let scripts = load_migrations(&project.migrations_dir(dialect_folder(url)))?;
    let status = migration_status(
        &crate::migrate::applied_migrations(database, &scripts)?,
        &scripts,
    );
    let pending: Vec<String> = status.pending().iter().map(|s| s.stem()).collect();
    let mut problems = status.problems();
    if !pending.is_empty() {
        problems.push(format!(
            "{} pending ({}): run `strata migrate` first, or `strata patch --migrate`",
            plural(pending.len(), "migration"),
            pending.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Refused(format!(
            "{url}: no patch was applied:\n  {}",
            problems.join("\n  ")
        )))
    }
}

/// `setup` and `patch --migrate`: migrates and patches, stopping at every pin
/// on the way so that each pinned patch runs against the schema it was written
/// for: patches pinned at or below the version the database is at first, then
/// migrate to the next pin and apply the patches pinned there, and so on; last,
/// migrate to the latest and apply the unpinned patches.
pub(crate) fn migrate_and_patch(
    context: &Context,
    url: &DatabaseUrl,
    database: &mut dyn Database,
    options: PatchOptions,
) -> Result<(MigrationsReport, PatchesReport)> {
    let project = &context.project;
    let dialect = dialect_folder(url);
    let folder = project.migrations_dir(dialect);
    let scripts = load_migrations(&folder)?;
    let files = load_patches(&project.patches_dir())?;
    check_pins(&files, &scripts, &folder)?;
    let current = crate::migrate::applied_migrations(database, &scripts)?
        .iter()
        .map(|m| m.version)
        .max();
    let applied = database.applied_patches()?;
    let pending: Vec<&PatchFile> = files
        .iter()
        .filter(|file| !applied.iter().any(|a| a.name == file.name))
        .collect();
    let latest = scripts.last().map(|s| s.version);
    let mut migrations = MigrationsReport::new();
    let mut run = PatchRun::start(options, context);
    if options.dry_run {
        // Nothing pending is pinned below a pending migration (or this refuses),
        // so migrating first and then one dry run of every patch is faithful.
        refuse_interleaved_dry_run(&pending, current, latest)?;
        migrate_to(context, url, database, None, &mut migrations)?;
        migrations.say_if_nothing_applied();
        run.stage(database, &files, Stage::All, &scripts)?;
        return Ok((migrations, run.finish()));
    }
    validate_ahead(
        dialect,
        database.engine(),
        &scripts,
        &pending,
        current,
        latest,
    )?;
    // An edited, missing or out-of-order migration stops everything before a
    // patch runs, as it did when all migrations ran first: `migrate` checks
    // them even when it has nothing to apply. Each call below takes the lock and
    // reads the history again, so calls that could change nothing are left out:
    // on a database without migrations no patch runs before the first stop,
    // whose call checks the same; once a stop is the latest migration, a last
    // call has nothing left to apply.
    let mut reached = None;
    if let Some(current) = current {
        migrate_to(context, url, database, Some(current), &mut migrations)?;
        run.stage(database, &files, Stage::PinnedUpTo(current), &scripts)?;
        reached = Some(current);
    }
    for stop in stops(&pending, current) {
        migrate_to(context, url, database, Some(stop), &mut migrations)?;
        run.stage(database, &files, Stage::PinnedUpTo(stop), &scripts)?;
        reached = Some(stop);
    }
    if reached.is_none() || latest > reached {
        migrate_to(context, url, database, None, &mut migrations)?;
    }
    migrations.say_if_nothing_applied();
    // The last stage applies the unpinned patches; when every pending patch was
    // pinned and has had its stage, it would only read the history again.
    let left = pending.iter().any(|patch| {
        patch
            .after
            .as_ref()
            .is_none_or(|pin| Some(pin.version) > reached)
    });
    if reached.is_none() || left {
        run.stage(database, &files, Stage::All, &scripts)?;
    }
    Ok((migrations, run.finish()))
}

/// A dry run rolls its patches back, so it cannot migrate after them: a pending
/// patch pinned below a pending migration cannot be shown faithfully.
fn refuse_interleaved_dry_run(
    pending: &[&PatchFile],
    current: Option<i32>,
    latest: Option<i32>,
) -> Result<()> {
    if latest <= current {
        return Ok(());
    }
    let Some((patch, pin)) = pending.iter().find_map(|patch| {
        patch
            .after
            .as_ref()
            .filter(|pin| Some(pin.version) < latest)
            .map(|pin| (patch, pin.version))
    }) else {
        return Ok(());
    };
    Err(Error::Refused(format!(
        "patch {} is pinned to V{pin} and migrations up to V{} are pending: a dry run rolls its \
         patches back, so it cannot apply later migrations after them; nothing was applied. \
         Run `strata patch --migrate` without --dry-run (on a copy of the database to try it first)",
        patch.name,
        latest.unwrap_or(pin)
    )))
}

/// Before anything is applied, the patches that will run after migrations this
/// database does not have yet are checked against the schema those migrations
/// build, where strata can replay them here (SQLite, in memory); elsewhere each
/// is checked against the live database when its turn comes.
fn validate_ahead(
    dialect: &str,
    engine: crate::script::Engine,
    scripts: &[MigrationScript],
    pending: &[&PatchFile],
    current: Option<i32>,
    latest: Option<i32>,
) -> Result<()> {
    let mut schemas: Vec<(i32, Option<Schema>)> = Vec::new();
    for patch in pending {
        let Some(version) = patch.after.as_ref().map(|pin| pin.version).or(latest) else {
            continue;
        };
        if Some(version) <= current {
            continue;
        }
        let schema = match schemas.iter().find(|(v, _)| *v == version) {
            Some((_, schema)) => schema,
            None => {
                let schema = schema_at(dialect, scripts, version)?;
                schemas.push((version, schema));
                &schemas.last().expect("just pushed").1
            }
        };
        let Some(schema) = schema else {
            continue;
        };
        check_sql(patch, engine)?;
        if let Err(mut problems) = validate_patch(patch, schema) {
            problems.notes.push(format!(
                "checked against the schema migrations up to V{version} build (replayed on an \
                 empty database), where {} would run; nothing was applied",
                patch.name
            ));
            problems.notes.extend(failed_validation_note(patch, None));
            return Err(problems.into());
        }
    }
    Ok(())
}

/// What `PatchRun` did, for the JSON document.
pub(crate) struct PatchesReport {
    /// One object per patch run (shape in docs/json.md).
    pub patches: Vec<Value>,
    /// Patches another strata applied while this one waited.
    pub skipped: Vec<String>,
}

impl PatchesReport {
    pub fn applied(&self) -> usize {
        self.patches.len()
    }
}

/// Applies pending patches in one or more stages, printing every changed row,
/// and one summary line at the end. Shared with `setup`.
pub(crate) struct PatchRun {
    printer: Printer,
    options: PatchOptions,
    applied: usize,
    /// A fleet's inspected schemas (see [`SchemaMemo`]); none for one database.
    schemas: Option<std::sync::Arc<SchemaMemo>>,
}

impl PatchRun {
    pub fn start(options: PatchOptions, context: &Context) -> Self {
        let verbose = output::settings().verbose;
        let printer = Printer {
            // Statements: on stdout (and in JSON) when asked for with --echo or
            // --dry-run; on stderr with --verbose.
            statements_on_stdout: options.echo || options.dry_run,
            dry_run: options.dry_run,
            lock_timeout: options.lock_timeout.as_secs(),
            provisional: HashSet::new(),
            current: None,
            report: PatchesReport {
                patches: Vec::new(),
                skipped: Vec::new(),
            },
            progress: None,
        };
        PatchRun {
            printer,
            options: PatchOptions {
                echo: options.echo || verbose,
                ..options
            },
            applied: 0,
            schemas: context.schemas.clone(),
        }
    }

    /// Applies the pending patches `stage` selects; `scripts` are the
    /// project's migrations (whose history, in a fleet, names the schema).
    pub fn stage(
        &mut self,
        database: &mut dyn Database,
        files: &[PatchFile],
        stage: Stage,
        scripts: &[MigrationScript],
    ) -> Result<()> {
        let printer = &mut self.printer;
        printer.progress = Some(output::Progress::start("patching", "rows"));
        let schemas = self.schemas.clone();
        let mut schema_of = |database: &mut dyn Database, patches: &[AppliedPatch]| match &schemas {
            Some(memo) => {
                let migrations = crate::migrate::applied_migrations(database, scripts)?;
                memo.schema(database, &migrations, patches)
            }
            None => database.inspect(),
        };
        let result = apply_patches_with(
            database,
            files,
            stage,
            self.options,
            &mut |event| printer.event(event),
            &mut schema_of,
        );
        printer.progress = None;
        self.applied += result?;
        Ok(())
    }

    pub fn finish(self) -> PatchesReport {
        let applied = self.applied;
        if self.options.dry_run {
            say!(
                "Patches: dry run of {}; rolled back, nothing was changed.",
                plural(applied, "patch")
            );
        } else if applied == 0 {
            say!("Patches: nothing to apply, every patch is applied.");
        } else {
            say!("Patches: applied {}.", plural(applied, "patch"));
        }
        self.printer.report
    }
}

/// Turns patch events into lines for people and the JSON document.
struct Printer {
    statements_on_stdout: bool,
    dry_run: bool,
    lock_timeout: u64,
    /// In a dry run, (table, key) of rows whose key the database generated: the
    /// real run will not use those values on PostgreSQL (sequences are not rolled
    /// back), so they, and refs and later rows that carry them, are provisional.
    provisional: HashSet<(String, Vec<String>)>,
    /// The patch running now, as JSON.
    current: Option<Value>,
    report: PatchesReport,
    /// While a stage runs.
    progress: Option<output::Progress>,
}

impl Printer {
    fn event(&mut self, event: PatchEvent<'_>) {
        match event {
            PatchEvent::Waiting(message) => {
                say!("  {message} (giving up after {} s)", self.lock_timeout)
            }
            PatchEvent::Started(patch) => {
                match &patch.description {
                    Some(description) => say!("{}: {}", patch.name, printable(description)),
                    None => say!("{}", patch.name),
                }
                self.with_progress(|p| p.message(&patch.name));
                self.current = Some(json!({
                    "name": patch.name,
                    "description": patch.description,
                    "after": patch.after.as_ref().map(|pin| pin.version),
                    "rows_changed": 0,
                    "duration_ms": 0,
                    "rows": [],
                    "more_rows": 0,
                }));
                if self.statements_on_stdout {
                    self.current_mut()["statements"] = json!([]);
                }
            }
            PatchEvent::Statement { sql, params } => {
                let shown: Vec<String> = params.iter().map(ToString::to_string).collect();
                let line = if params.is_empty() {
                    format!("  SQL: {sql}")
                } else {
                    format!("  SQL: {sql}  [{}]", shown.join(", "))
                };
                if self.statements_on_stdout {
                    say!("{line}");
                    let params: Vec<Value> = params.iter().map(value_json).collect();
                    if let Some(list) = self.current_mut()["statements"].as_array_mut() {
                        list.push(json!({ "sql": sql, "params": params }));
                    }
                } else {
                    output::detail(format_args!("{}", line.trim_start()));
                }
            }
            PatchEvent::Row(row) => {
                self.with_progress(|p| p.advance(1, &row.identity()));
                let json = self.row(&row);
                if let Some(list) = self.current_mut()["rows"].as_array_mut() {
                    list.push(json);
                }
            }
            PatchEvent::SqlRows(count) => {
                self.with_progress(|p| p.advance(count, "sql"));
                say!("  sql: {}", plural(count as usize, "row") + " changed");
                if let Some(list) = self.current_mut()["rows"].as_array_mut() {
                    list.push(json!({ "action": "sql", "rows_changed": count }));
                }
            }
            PatchEvent::MoreRows(count) => {
                self.with_progress(|p| p.advance(count, ""));
                say!("  … and {} more", plural(count as usize, "row"));
                let current = self.current_mut();
                current["more_rows"] = json!(current["more_rows"].as_u64().unwrap_or(0) + count);
            }
            PatchEvent::Finished {
                rows_changed,
                duration,
                ..
            } => {
                say!(
                    "  {} changed ({} ms)",
                    plural(rows_changed as usize, "row"),
                    duration.as_millis()
                );
                let mut current = self.current.take().unwrap_or_else(|| json!({}));
                current["rows_changed"] = json!(rows_changed);
                current["duration_ms"] = json!(duration.as_millis() as u64);
                self.report.patches.push(current);
            }
            PatchEvent::AppliedElsewhere(patch) => {
                say!(
                    "{}: already applied by another strata run; skipped",
                    patch.name
                );
                self.report.skipped.push(patch.name.clone());
            }
        }
    }

    fn with_progress(&self, update: impl FnOnce(&output::Progress)) {
        if let Some(progress) = &self.progress {
            update(progress);
        }
    }

    fn current_mut(&mut self) -> &mut Value {
        self.current.get_or_insert_with(|| json!({}))
    }

    /// Prints one changed row and returns it as JSON.
    fn row(&mut self, row: &RowChange) -> Value {
        let key = row_key(&row.table, &row.key_values());
        if self.dry_run && !row.generated.is_empty() {
            self.provisional.insert(key.clone());
        }
        let provisional = self.dry_run && self.provisional.contains(&key);
        let is_provisional = |table: &str, value: &SqlValue| {
            self.dry_run
                && self
                    .provisional
                    .contains(&row_key(table, std::slice::from_ref(value)))
        };
        // Row lines hold table and column names from the database: one line each.
        let mut identity = printable(&row.table).into_owned();
        for (column, value) in &row.key {
            identity.push_str(&format!(
                " {}={}",
                printable(column),
                printable(value.to_string().trim_matches('"'))
            ));
        }
        if provisional {
            identity.push_str(&format!(" {}", output::remark("(provisional)")));
        }
        if let Some(label) = &row.label {
            identity.push_str(&format!(" {}", printable(&label.to_string())));
        }
        // `1 (team "Preventers")`, `1 (team "Preventers", provisional)`.
        let noted = |value: &SqlValue, reference: &Option<crate::patch::Reference>| {
            let shown = printable(&value.to_string()).into_owned();
            match reference {
                Some(r) if is_provisional(&r.table, value) => format!(
                    "{shown} ({}, {})",
                    printable(&r.description),
                    output::remark("provisional")
                ),
                Some(r) => format!("{shown} ({})", printable(&r.description)),
                None => shown,
            }
        };
        let reference_json = |value: &SqlValue, reference: &Option<crate::patch::Reference>| {
            reference.as_ref().map(|r| {
                json!({
                    "table": r.table,
                    "row": r.description,
                    "provisional": is_provisional(&r.table, value),
                })
            })
        };
        let (action, text, values) = match &row.change {
            Change::Inserted(values) => {
                let parts: Vec<String> = values
                    .iter()
                    .map(|v| {
                        let value = noted(&v.value, &v.reference);
                        format!("{} = {}", printable(&v.column), output::after(&value))
                    })
                    .collect();
                let json: Vec<Value> = values
                    .iter()
                    .map(|v| {
                        json!({
                            "column": v.column,
                            "value": value_json(&v.value),
                            "reference": reference_json(&v.value, &v.reference),
                        })
                    })
                    .collect();
                ("inserted", format!("inserted {}", parts.join(", ")), json)
            }
            Change::Updated(changes) if changes.is_empty() => {
                ("unchanged", "unchanged".to_string(), Vec::new())
            }
            Change::Updated(changes) => {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{} {} → {}",
                            printable(&c.column),
                            output::before(&printable(&c.before.to_string())),
                            output::after(&noted(&c.after, &c.reference))
                        )
                    })
                    .collect();
                let json: Vec<Value> = changes
                    .iter()
                    .map(|c| {
                        json!({
                            "column": c.column,
                            "before": value_json(&c.before),
                            "after": value_json(&c.after),
                            "reference": reference_json(&c.after, &c.reference),
                        })
                    })
                    .collect();
                ("updated", parts.join(", "), json)
            }
            Change::Deleted => ("deleted", "deleted".to_string(), Vec::new()),
        };
        say!("  {identity}: {text}");
        let key_json: serde_json::Map<String, Value> = row
            .key
            .iter()
            .map(|(column, value)| (column.clone(), value_json(value)))
            .collect();
        json!({
            "table": row.table,
            "key": key_json,
            "label": row.label.as_ref().map(value_json),
            "action": action,
            "provisional": provisional,
            "generated": row.generated,
            "columns": values,
        })
    }
}

/// A row's identity for the provisional set: table and key values as text.
fn row_key(table: &str, values: &[SqlValue]) -> (String, Vec<String>) {
    (
        table.to_string(),
        values.iter().map(ToString::to_string).collect(),
    )
}

/// A value as JSON: null, number, string, boolean; bytes as `{"base64": …}`.
pub(crate) fn value_json(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(n) => json!(n),
        SqlValue::Float(n) => serde_json::Number::from_f64(*n)
            .map(Value::Number)
            .unwrap_or_else(|| json!(n.to_string())),
        SqlValue::Text(text) => json!(text),
        SqlValue::Boolean(flag) => json!(flag),
        SqlValue::Bytes(bytes) => {
            use base64::Engine;
            json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        }
    }
}
