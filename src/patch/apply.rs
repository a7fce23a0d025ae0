//! Applying patches: one transaction each, under the database's write lock, with
//! the history row written in the same transaction as the patch's changes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::batch;
use super::file::{Assignment, OperationKind, PatchBody, PatchFile, PatchValue, ValueKind};
use super::pins::{failed_validation_note, run_order};
use super::row::{Change, ColumnChange, ColumnValue, Reference, RowChange};
use super::stream::{self, Rows};
use super::validate::{check_sql, validate_patch};
use crate::driver::{
    ensure_and_read_patch_history, record_patch, AppliedPatch, Condition, Database, SqlValue,
    Transaction,
};
use crate::schema::{Schema, Table};
use crate::text::line_column;
use crate::{Error, Result};

/// Changed rows shown per operation; the rest are counted.
const SHOWN_ROWS: usize = 20;

#[derive(Debug, Clone, Copy)]
pub struct PatchOptions {
    /// Run everything, show it, then roll back.
    pub dry_run: bool,
    /// Show every statement with its parameters as it runs.
    pub echo: bool,
    /// How long to wait for another strata's lock before giving up (`--lock-timeout`).
    pub lock_timeout: Duration,
}

impl Default for PatchOptions {
    fn default() -> Self {
        PatchOptions {
            dry_run: false,
            echo: false,
            lock_timeout: crate::driver::DEFAULT_LOCK_TIMEOUT,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchState {
    Applied(AppliedPatch),
    Pending,
    /// Applied, but the file has changed since.
    Changed(AppliedPatch),
    /// Applied, but the file is gone.
    Missing(AppliedPatch),
}

#[derive(Debug, Clone)]
pub struct PatchStatusLine {
    pub name: String,
    pub state: PatchState,
    /// The migration the patch is pinned to (`after = N`); none for a missing file.
    pub after: Option<i32>,
}

pub enum PatchEvent<'a> {
    /// Another strata holds the lock; said once per wait (`waiting for … held by pid N`).
    Waiting(String),
    Started(&'a PatchFile),
    Statement {
        sql: String,
        params: Vec<SqlValue>,
    },
    /// A row changed (in the first `SHOWN_ROWS` of an operation).
    Row(RowChange),
    /// A `[[sql]]` statement changed this many rows.
    SqlRows(u64),
    MoreRows(u64),
    Finished {
        patch: &'a PatchFile,
        rows_changed: u64,
        duration: Duration,
    },
    /// Another strata applied it between our look at the history and our lock.
    AppliedElsewhere(&'a PatchFile),
}

pub fn patch_status(applied: &[AppliedPatch], files: &[PatchFile]) -> Vec<PatchStatusLine> {
    let mut lines: Vec<PatchStatusLine> = files
        .iter()
        .map(|file| {
            let state = match applied.iter().find(|a| a.name == file.name) {
                Some(a) if a.checksum == file.checksum => PatchState::Applied(a.clone()),
                Some(a) => PatchState::Changed(a.clone()),
                None => PatchState::Pending,
            };
            PatchStatusLine {
                name: file.name.clone(),
                state,
                after: file.after.as_ref().map(|pin| pin.version),
            }
        })
        .collect();
    for a in applied {
        if !files.iter().any(|file| file.name == a.name) {
            lines.push(PatchStatusLine {
                name: a.name.clone(),
                state: PatchState::Missing(a.clone()),
                after: None,
            });
        }
    }
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    lines
}

/// Sentences for every patch state that stops `patch`.
pub fn patch_problems(lines: &[PatchStatusLine]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| match &line.state {
            PatchState::Changed(a) => Some(format!(
                "patch {} was changed after it was applied on {}; patches are applied once, so restore it and put new changes in a new patch",
                line.name, a.applied_at
            )),
            PatchState::Missing(_) => Some(format!(
                "patch {} was applied but its file is gone from patches/; restore it",
                line.name
            )),
            _ => None,
        })
        .collect()
}

/// Which pending patches one call of [`apply_patches`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Every pending patch: the database has every migration.
    All,
    /// The pending patches pinned to this version or an earlier one: the
    /// database is at this version, on its way to the latest.
    PinnedUpTo(i32),
}

impl Stage {
    fn includes(self, patch: &PatchFile) -> bool {
        match self {
            Stage::All => true,
            Stage::PinnedUpTo(version) => {
                patch.after.as_ref().is_some_and(|p| p.version <= version)
            }
        }
    }
}

/// Applies the pending patches of `files` that `stage` selects, pinned ones
/// first by pin, then unpinned ones (see [`run_order`]). Returns how many were
/// applied.
pub fn apply_patches(
    database: &mut dyn Database,
    files: &[PatchFile],
    stage: Stage,
    options: PatchOptions,
    on_event: &mut dyn FnMut(PatchEvent<'_>),
) -> Result<usize> {
    apply_patches_with(
        database,
        files,
        stage,
        options,
        on_event,
        &mut |database, _| database.inspect(),
    )
}

/// Where [`apply_patches_with`] gets the schema of a database whose patch
/// history is the one given.
pub type SchemaOf<'a> = dyn FnMut(&mut dyn Database, &[AppliedPatch]) -> Result<Schema> + 'a;

/// [`apply_patches`], with the schema the patches are checked and bound against
/// from `schema_of` (given the database and its patch history) instead of a
/// fresh inspection: a fleet inspects once per migration and patch history
/// ([`SchemaMemo`](super::memo::SchemaMemo)), not once per target.
pub fn apply_patches_with(
    database: &mut dyn Database,
    files: &[PatchFile],
    stage: Stage,
    options: PatchOptions,
    on_event: &mut dyn FnMut(PatchEvent<'_>),
    schema_of: &mut SchemaOf<'_>,
) -> Result<usize> {
    let history = database.applied_patches()?;
    let status = patch_status(&history, files);
    let problems = patch_problems(&status);
    if !problems.is_empty() {
        return Err(Error::Refused(format!(
            "{}: no patch was applied:\n  {}",
            database.display_url(),
            problems.join("\n  ")
        )));
    }
    let mut pending: Vec<&PatchFile> = files
        .iter()
        .filter(|file| stage.includes(file))
        .filter(|file| {
            status
                .iter()
                .any(|l| l.name == file.name && l.state == PatchState::Pending)
        })
        .collect();
    pending.sort_by_key(|patch| run_order(patch));
    if pending.is_empty() {
        return Ok(0);
    }
    let schema = schema_of(database, &history)?;
    for patch in &pending {
        // Before anything runs, dry run or not: SQL that ends strata's transaction
        // would commit behind its back.
        check_sql(patch, database.engine())?;
        if let Err(mut problems) = validate_patch(patch, &schema) {
            let current = database
                .applied_migrations()?
                .iter()
                .map(|m| m.version)
                .max();
            // Said outright: a problem in the last row of a big insert is found
            // before its first row runs, not half-way through.
            problems.notes.push(format!(
                "nothing was applied: {} checked before any runs, and this one does not fit",
                match pending.len() {
                    1 => "the pending patch is".to_string(),
                    n => format!("all {n} pending patches are"),
                }
            ));
            problems
                .notes
                .extend(failed_validation_note(patch, current));
            return Err(problems.into());
        }
    }

    let mut applied = 0;
    if options.dry_run {
        // One transaction for all, so later patches see earlier ones; then rolled back.
        let mut transaction = database.begin_exclusive(options.lock_timeout, &mut |message| {
            on_event(PatchEvent::Waiting(message.to_string()))
        })?;
        for patch in &pending {
            run_patch(transaction.as_mut(), patch, &schema, options, on_event)?;
            applied += 1;
        }
        return Ok(applied);
    }
    for patch in pending {
        let mut transaction = database.begin_exclusive(options.lock_timeout, &mut |message| {
            on_event(PatchEvent::Waiting(message.to_string()))
        })?;
        if ensure_and_read_patch_history(transaction.as_mut())?
            .iter()
            .any(|a| a.name == patch.name)
        {
            on_event(PatchEvent::AppliedElsewhere(patch));
            continue;
        }
        let started = Instant::now();
        let rows_changed = run_patch(transaction.as_mut(), patch, &schema, options, on_event)?;
        let record = AppliedPatch {
            name: patch.name.clone(),
            checksum: patch.checksum.clone(),
            rows_changed: rows_changed as i64,
            applied_at: now_rfc3339(),
            duration_ms: started.elapsed().as_millis() as i64,
        };
        // A full disk often shows only here, when the changes reach the file.
        record_patch(transaction.as_mut(), &record)
            .and_then(|()| transaction.commit())
            .map_err(|error| {
                let storage = matches!(error, Error::Storage(_));
                let message = format!("recording and committing it failed: {error}");
                failed(patch, None, &message, storage)
            })?;
        applied += 1;
    }
    Ok(applied)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn run_patch(
    transaction: &mut dyn Transaction,
    patch: &PatchFile,
    schema: &Schema,
    options: PatchOptions,
    on_event: &mut dyn FnMut(PatchEvent<'_>),
) -> Result<u64> {
    on_event(PatchEvent::Started(patch));
    let started = Instant::now();
    let mut session = Session {
        transaction,
        schema,
        source: &patch.source,
        echo: options.echo || options.dry_run,
        on_event,
        refs: HashMap::new(),
        storage_failed: false,
    };
    let rows_changed = match &patch.body {
        PatchBody::Sql(sql) => {
            if session.echo {
                (session.on_event)(PatchEvent::Statement {
                    sql: sql.clone(),
                    params: Vec::new(),
                });
            }
            session
                .transaction
                .execute_script(sql)
                .map_err(|error| {
                    let storage = matches!(error, Error::Storage(_));
                    failed(patch, None, &error.to_string(), storage)
                })?
                .unwrap_or(0)
        }
        PatchBody::Operations(operations) => {
            let mut total = 0;
            for operation in operations {
                match session.operation(&operation.kind) {
                    Ok(count) => total += count,
                    Err(message) => {
                        let offset = Some(operation.span.start);
                        return Err(failed(patch, offset, &message, session.storage_failed));
                    }
                }
            }
            total
        }
    };
    (session.on_event)(PatchEvent::Finished {
        patch,
        rows_changed,
        duration: started.elapsed(),
    });
    Ok(rows_changed)
}

/// The error of a patch that failed and was rolled back: exit 4, or exit 1 when
/// the database itself failed (`storage`: read-only, disk full, I/O).
fn failed(patch: &PatchFile, offset: Option<usize>, message: &str, storage: bool) -> Error {
    let place = match offset {
        Some(offset) => {
            let (line, column) = line_column(&patch.source, offset);
            format!("{}:{line}:{column}", patch.path.display())
        }
        None => patch.path.display().to_string(),
    };
    let message = format!(
        "patch {} failed at {place}: {message}\n  it was rolled back: nothing it did was kept, and later patches were not applied",
        patch.name
    );
    if storage {
        Error::Storage(message)
    } else {
        Error::PatchFailed(message)
    }
}

/// A value resolved for binding, with where a `ref` found it (`(team "Preventers")`).
struct Resolved {
    value: SqlValue,
    reference: Option<Reference>,
}

struct Session<'a, 'e> {
    transaction: &'a mut dyn Transaction,
    schema: &'a Schema,
    /// The patch's text, which streamed rows are read from.
    source: &'a str,
    echo: bool,
    on_event: &'a mut dyn FnMut(PatchEvent<'e>),
    /// Natural key → resolved key, so a ref used on many rows is looked up once.
    refs: HashMap<String, Resolved>,
    /// A statement failed because of the database, not the patch (exit 1).
    storage_failed: bool,
}

type Outcome<T> = std::result::Result<T, String>;

impl Session<'_, '_> {
    fn query(&mut self, sql: &str, params: &[SqlValue]) -> Outcome<Vec<Vec<SqlValue>>> {
        self.echo_statement(sql, params);
        let result = self.transaction.query(sql, params);
        result.map_err(|e| self.error_text(e))
    }

    fn error_text(&mut self, error: Error) -> String {
        self.storage_failed |= matches!(error, Error::Storage(_));
        error.to_string()
    }

    fn execute(&mut self, sql: &str, params: &[SqlValue]) -> Outcome<u64> {
        self.echo_statement(sql, params);
        let result = self.transaction.execute(sql, params);
        result.map_err(|e| self.error_text(e))
    }

    fn echo_statement(&mut self, sql: &str, params: &[SqlValue]) {
        if self.echo {
            // Built by strata on one line; a line break or control character in it
            // can only come from a table or column name, so it is shown escaped.
            (self.on_event)(PatchEvent::Statement {
                sql: crate::text::printable(sql).into_owned(),
                params: params.to_vec(),
            });
        }
    }

    fn table(&self, name: &str) -> Outcome<&Table> {
        self.schema
            .table(name)
            .ok_or_else(|| format!("the database has no table `{name}`"))
    }

    fn operation(&mut self, kind: &OperationKind) -> Outcome<u64> {
        match kind {
            OperationKind::Insert { table, rows } => self.insert(table.get_ref(), rows),
            OperationKind::Update {
                table,
                filter,
                set,
                expect_rows,
            } => {
                let count = self.update(table.get_ref(), filter, set)?;
                check_expected("update", *expect_rows, count)?;
                Ok(count)
            }
            OperationKind::Delete {
                table,
                filter,
                expect_rows,
            } => {
                let count = self.delete(table.get_ref(), filter)?;
                check_expected("delete", *expect_rows, count)?;
                Ok(count)
            }
            OperationKind::Sql {
                statement, params, ..
            } => {
                let mut values = Vec::new();
                for param in params {
                    match &param.kind {
                        ValueKind::Ref(_) => {
                            return Err(
                                "a `ref` can only fill a foreign-key column, not an SQL parameter"
                                    .into(),
                            )
                        }
                        _ => values.push(plain_value(param)),
                    }
                }
                let count = self.execute(statement, &values)?;
                (self.on_event)(PatchEvent::SqlRows(count));
                Ok(count)
            }
        }
    }

    fn resolve(&mut self, table: &Table, assignment: &Assignment) -> Outcome<Resolved> {
        let ValueKind::Ref(key) = &assignment.value.kind else {
            return Ok(Resolved {
                value: plain_value(&assignment.value),
                reference: None,
            });
        };
        let column = assignment.column.get_ref();
        let fk = table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && &fk.columns[0] == column)
            .ok_or_else(|| {
                format!(
                    "{}.{column} is not a foreign key, so it cannot take a `ref`",
                    table.name
                )
            })?;
        let description = describe_key(&fk.referenced_table, key);
        let cache_key = format!(
            "{}.{}|{description}",
            fk.referenced_table, fk.referenced_columns[0]
        );
        if let Some(hit) = self.refs.get(&cache_key) {
            return Ok(Resolved {
                value: hit.value.clone(),
                reference: hit.reference.clone(),
            });
        }
        let params: Vec<SqlValue> = key.iter().map(|a| plain_value(&a.value)).collect();
        let target = self.schema.table(&fk.referenced_table);
        let conditions: Vec<Condition<'_>> = key
            .iter()
            .map(|a| Condition {
                column: a.column.get_ref(),
                ty: target
                    .and_then(|t| t.column(a.column.get_ref()))
                    .map(|c| &c.ty),
                null: false,
            })
            .collect();
        let sql = self.transaction.select_sql(
            &fk.referenced_table,
            &[fk.referenced_columns[0].as_str()],
            &conditions,
            1,
            2,
        );
        let rows = self.query(&sql, &params)?;
        let value = match rows.as_slice() {
            [row] => row[0].clone(),
            [] => return Err(format!("{description}: no such row")),
            _ => return Err(format!("{description}: more than one row matches; add columns to the ref so that it names one row")),
        };
        let reference = Some(Reference {
            table: fk.referenced_table.clone(),
            description: short_key(&fk.referenced_table, key),
        });
        self.refs.insert(
            cache_key,
            Resolved {
                value: value.clone(),
                reference: reference.clone(),
            },
        );
        Ok(Resolved { value, reference })
    }

    /// `c = value` (or `d IS NULL`) for each filter entry, and the values the
    /// conditions bind, in order.
    fn conditions<'t>(
        &mut self,
        table: &'t Table,
        filter: &'t [Assignment],
    ) -> Outcome<(Vec<Condition<'t>>, Vec<SqlValue>)> {
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        for assignment in filter {
            let resolved = self.resolve(table, assignment)?;
            let null = resolved.value == SqlValue::Null;
            if !null {
                params.push(resolved.value);
            }
            conditions.push(Condition {
                column: assignment.column.get_ref(),
                ty: column_type(table, assignment),
                null,
            });
        }
        Ok((conditions, params))
    }

    /// The first [`SHOWN_ROWS`] rows one statement each, with RETURNING, so that
    /// each is reported with its key; the rest in multi-row statements
    /// ([`batch`]), which is what makes big inserts fast on PostgreSQL.
    fn insert(&mut self, table_name: &str, rows: &Rows) -> Outcome<u64> {
        let table = self.table(table_name)?.clone();
        let identity = RowIdentity::of(&table);
        let mut seen = 0;
        let mut changed = 0;
        // Streamed rows come a chunk at a time (checked before anything ran, so
        // a problem here would mean the file changed under us).
        for chunk in stream::chunks(rows, self.source) {
            let chunk = chunk.map_err(|problems| {
                let first = problems.first().map(|p| p.message.as_str());
                format!("the rows could not be read again: {}", first.unwrap_or("?"))
            })?;
            let shown = chunk.len().min(SHOWN_ROWS.saturating_sub(seen));
            seen += chunk.len();
            for row in &chunk[..shown] {
                changed += self.insert_shown(&table, &identity, row)?;
            }
            let rest = &chunk[shown..];
            let max_parameters = self.transaction.max_parameters();
            for range in batch::chunks(rest, max_parameters) {
                let batch = &rest[range];
                let mut values = Vec::with_capacity(batch.len() * batch[0].len());
                for row in batch {
                    for assignment in row {
                        values.push(self.resolve(&table, assignment)?.value);
                    }
                }
                let statement = self.insert_statement(&table, &batch[0], batch.len());
                changed += self.execute(&statement, &values)?;
            }
        }
        if seen > SHOWN_ROWS {
            (self.on_event)(PatchEvent::MoreRows((seen - SHOWN_ROWS) as u64));
        }
        Ok(changed)
    }

    /// One of the first [`SHOWN_ROWS`] rows: inserted alone and reported with its key.
    fn insert_shown(
        &mut self,
        table: &Table,
        identity: &RowIdentity,
        row: &[Assignment],
    ) -> Outcome<u64> {
        let mut values = Vec::with_capacity(row.len());
        let mut described = Vec::new();
        for assignment in row {
            let resolved = self.resolve(table, assignment)?;
            described.push(ColumnValue {
                column: assignment.column.get_ref().clone(),
                value: resolved.value.clone(),
                reference: resolved.reference,
            });
            values.push(resolved.value);
        }
        let statement = self.insert_statement(table, row, 1);
        let (changed, returned) = if identity.columns.is_empty() {
            (self.execute(&statement, &values)?, Vec::new())
        } else {
            let returned = self.insert_returning(&statement, &values, &identity.names())?;
            (returned.len() as u64, returned)
        };
        let mut change = identity.row(&table.name, returned.first(), Change::Inserted(described));
        // Key columns the patch did not give: the database chose them.
        change.generated = identity
            .columns
            .iter()
            .filter(|column| !row.iter().any(|a| a.column.get_ref() == *column))
            .cloned()
            .collect();
        (self.on_event)(PatchEvent::Row(change));
        Ok(changed)
    }

    /// `INSERT INTO "t" ("a", "b") VALUES (?1, ?2), …` for `rows` rows naming the
    /// columns `first` names.
    fn insert_statement(&self, table: &Table, first: &[Assignment], rows: usize) -> String {
        let columns = batch::columns(table, first);
        self.transaction.insert_sql(&table.name, &columns, rows)
    }

    /// One row inserted, returning its identity columns, however the engine
    /// does that (`RETURNING` where it has it).
    fn insert_returning(
        &mut self,
        insert: &str,
        params: &[SqlValue],
        returning: &[&str],
    ) -> Outcome<Vec<Vec<SqlValue>>> {
        let echo = self.echo;
        let on_event = &mut *self.on_event;
        let result =
            self.transaction
                .insert_returning(insert, params, returning, &mut |sql, params| {
                    if echo {
                        on_event(PatchEvent::Statement {
                            sql: crate::text::printable(sql).into_owned(),
                            params: params.to_vec(),
                        });
                    }
                });
        result.map_err(|e| self.error_text(e))
    }

    fn update(
        &mut self,
        table_name: &str,
        filter: &[Assignment],
        set: &[Assignment],
    ) -> Outcome<u64> {
        let table = self.table(table_name)?.clone();
        let identity = RowIdentity::of(&table);
        let mut new_values = Vec::new();
        for assignment in set {
            new_values.push(self.resolve(&table, assignment)?);
        }
        let set_columns: Vec<(&str, Option<&crate::schema::Type>)> = set
            .iter()
            .map(|a| (a.column.get_ref().as_str(), column_type(&table, a)))
            .collect();
        let (conditions, where_params) = self.conditions(&table, filter)?;

        let mut select = identity.names();
        select.extend(set_columns.iter().map(|(column, _)| *column));
        let before_sql =
            self.transaction
                .select_sql(&table.name, &select, &conditions, 1, SHOWN_ROWS);
        let before = self.query(&before_sql, &where_params)?;

        let mut params: Vec<SqlValue> = new_values.iter().map(|r| r.value.clone()).collect();
        params.extend(where_params);
        let update_sql = self
            .transaction
            .update_sql(&table.name, &set_columns, &conditions);
        let count = self.execute(&update_sql, &params)?;

        let offset = identity.width();
        for row in &before {
            let mut changes = Vec::new();
            for (i, assignment) in set.iter().enumerate() {
                let old = &row[offset + i];
                let new = &new_values[i];
                if *old != new.value {
                    changes.push(ColumnChange {
                        column: assignment.column.get_ref().clone(),
                        before: old.clone(),
                        after: new.value.clone(),
                        reference: new.reference.clone(),
                    });
                }
            }
            (self.on_event)(PatchEvent::Row(identity.row(
                &table.name,
                Some(row),
                Change::Updated(changes),
            )));
        }
        if count > before.len() as u64 {
            (self.on_event)(PatchEvent::MoreRows(count - before.len() as u64));
        }
        Ok(count)
    }

    fn delete(&mut self, table_name: &str, filter: &[Assignment]) -> Outcome<u64> {
        let table = self.table(table_name)?.clone();
        let identity = RowIdentity::of(&table);
        let (conditions, params) = self.conditions(&table, filter)?;
        let select_sql =
            self.transaction
                .select_sql(&table.name, &identity.names(), &conditions, 1, SHOWN_ROWS);
        let before = self.query(&select_sql, &params)?;
        let delete_sql = self.transaction.delete_sql(&table.name, &conditions);
        let count = self.execute(&delete_sql, &params)?;
        for row in &before {
            (self.on_event)(PatchEvent::Row(identity.row(
                &table.name,
                Some(row),
                Change::Deleted,
            )));
        }
        if count > before.len() as u64 {
            (self.on_event)(PatchEvent::MoreRows(count - before.len() as u64));
        }
        Ok(count)
    }
}

fn column_type<'t>(table: &'t Table, assignment: &Assignment) -> Option<&'t crate::schema::Type> {
    table
        .column(assignment.column.get_ref())
        .map(|column| &column.ty)
}

fn check_expected(what: &str, expected: Option<u64>, actual: u64) -> Outcome<()> {
    match expected {
        Some(expected) if expected != actual => Err(format!(
            "expect_rows = {expected}, but the {what} changed {}",
            crate::text::plural(actual as usize, "row")
        )),
        _ => Ok(()),
    }
}

fn plain_value(value: &PatchValue) -> SqlValue {
    match &value.kind {
        ValueKind::Null | ValueKind::Ref(_) => SqlValue::Null,
        ValueKind::Integer(n) => SqlValue::Integer(*n),
        ValueKind::Float(n) => SqlValue::Float(*n),
        ValueKind::Text(text) => SqlValue::Text(text.clone()),
        ValueKind::Boolean(flag) => SqlValue::Boolean(*flag),
    }
}

/// `team with name = "Avengers"`.
fn describe_key(table: &str, key: &[Assignment]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|a| format!("{} = {}", a.column.get_ref(), plain_value(&a.value)))
        .collect();
    format!("{table} with {}", parts.join(" and "))
}

/// `team "Preventers"` for a one-column key, `team name="X", hq="Y"` otherwise.
fn short_key(table: &str, key: &[Assignment]) -> String {
    match key {
        [only] => format!("{table} {}", plain_value(&only.value)),
        _ => {
            let parts: Vec<String> = key
                .iter()
                .map(|a| format!("{}={}", a.column.get_ref(), plain_value(&a.value)))
                .collect();
            format!("{table} {}", parts.join(", "))
        }
    }
}

/// How a row is named in output: its primary key and, if the table has one, a
/// name-like column: `hero id=3 "Spider-Boy"`.
struct RowIdentity {
    columns: Vec<String>,
    label: Option<String>,
}

impl RowIdentity {
    fn of(table: &Table) -> Self {
        let columns = table
            .primary_key
            .as_ref()
            .map(|pk| pk.columns.clone())
            .unwrap_or_default();
        let label = ["name", "title", "label", "slug", "email"]
            .iter()
            .find_map(|wanted| table.column(wanted))
            .map(|c| c.name.clone())
            .filter(|name| !columns.contains(name));
        RowIdentity { columns, label }
    }

    /// The columns to read back: the key, then the label.
    fn names(&self) -> Vec<&str> {
        self.columns
            .iter()
            .chain(self.label.iter())
            .map(String::as_str)
            .collect()
    }

    fn width(&self) -> usize {
        self.columns.len() + usize::from(self.label.is_some())
    }

    /// The changed row `row` (selected by [`Self::select_items`]) names.
    fn row(&self, table: &str, row: Option<&Vec<SqlValue>>, change: Change) -> RowChange {
        let (key, label) = match row {
            Some(row) => (
                self.columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect(),
                self.label.as_ref().map(|_| row[self.columns.len()].clone()),
            ),
            None => (Vec::new(), None),
        };
        RowChange {
            table: table.to_string(),
            key,
            label,
            generated: Vec::new(),
            change,
        }
    }
}
