//! Checks a patch against the live database's schema before anything runs:
//! tables and columns exist, values fit their columns, refs sit on foreign keys.

use std::ops::Range;

use crate::diagnostics::{FileProblems, Problem};
use crate::schema::{IdentityKind, Numbering, Schema, Table, Type};
use crate::script::{self, Engine, Kind};
use crate::text::{backticked, did_you_mean};

use super::file::{Assignment, OperationKind, PatchBody, PatchFile, PatchValue, ValueKind};
use super::stream::{self, Rows};

/// Refuses transaction control (and statements that cannot run in a transaction)
/// in a `.sql` patch or a `[[sql]]` statement, pointing at it in the file.
pub fn check_sql(patch: &PatchFile, engine: Engine) -> Result<(), FileProblems> {
    let problems = match &patch.body {
        PatchBody::Sql(sql) => script::check(engine, sql, Kind::Patch),
        PatchBody::Operations(operations) => operations
            .iter()
            .filter_map(|operation| match &operation.kind {
                OperationKind::Sql {
                    statement,
                    statement_span,
                    ..
                } => Some((statement, statement_span)),
                _ => None,
            })
            .flat_map(|(statement, span)| {
                let start = statement_start(&patch.source, span, statement);
                script::check(engine, statement, Kind::Patch)
                    .into_iter()
                    .map(move |mut problem| {
                        problem.span = match start {
                            Some(start) => start + problem.span.start..start + problem.span.end,
                            None => span.clone(),
                        };
                        problem
                    })
            })
            .collect(),
    };
    if problems.is_empty() {
        Ok(())
    } else {
        Err(FileProblems::new(&patch.path, &patch.source, problems))
    }
}

/// Where `statement` starts in the file when its TOML string is written without
/// escapes, so that offsets in the statement are offsets in the file; `None` when
/// escapes make them differ (messages then point at the whole string).
fn statement_start(source: &str, span: &Range<usize>, statement: &str) -> Option<usize> {
    let raw = source.get(span.clone())?;
    for quote in ["'''", "\"\"\"", "'", "\""] {
        let Some(inner) = raw
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        else {
            continue;
        };
        // A newline right after an opening triple quote is not part of the string.
        let skipped = match quote.len() {
            3 if inner.starts_with("\r\n") => 2,
            3 if inner.starts_with('\n') => 1,
            _ => 0,
        };
        let inner = &inner[skipped..];
        return (inner == statement).then_some(span.start + quote.len() + skipped);
    }
    None
}

pub fn validate_patch(patch: &PatchFile, schema: &Schema) -> Result<(), FileProblems> {
    let PatchBody::Operations(operations) = &patch.body else {
        return Ok(());
    };
    let mut checker = Checker {
        schema,
        problems: Vec::new(),
    };
    for operation in operations {
        checker.no_nul_bytes(&operation.kind);
        if let OperationKind::Insert { table, rows } = &operation.kind {
            checker.insert_rows(&patch.source, table.get_ref(), rows, &operation.span);
        }
        let Some(table_name) = operation.kind.table() else {
            continue;
        };
        let Some(table) = schema.table(table_name.get_ref()) else {
            checker.problems.push(
                Problem::new(
                    table_name.span(),
                    format!(
                        "the database has no table `{}`{}",
                        table_name.get_ref(),
                        did_you_mean(
                            table_name.get_ref(),
                            schema.tables.iter().map(|t| t.name.as_str())
                        )
                    ),
                )
                .label("unknown table")
                .help(format!(
                    "tables are {}",
                    backticked(schema.tables.iter().map(|t| &t.name))
                )),
            );
            continue;
        };
        match &operation.kind {
            // Checked by `insert_rows` above.
            OperationKind::Insert { .. } => {}
            OperationKind::Update { filter, set, .. } => {
                checker.assignments(table, filter, false);
                checker.assignments(table, set, true);
            }
            OperationKind::Delete { filter, .. } => checker.assignments(table, filter, false),
            OperationKind::Sql { .. } => {}
        }
    }
    if checker.problems.is_empty() {
        Ok(())
    } else {
        Err(FileProblems::new(
            &patch.path,
            &patch.source,
            checker.problems,
        ))
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// The rows of an insert, chunk by chunk when they are streamed (see
    /// [`super::stream`]), so that a big insert is checked in bounded memory.
    fn insert_rows(&mut self, source: &str, table: &str, rows: &Rows, span: &Range<usize>) {
        let table = self.schema.table(table);
        for chunk in stream::chunks(rows, source) {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(problems) => {
                    self.problems.extend(problems);
                    continue;
                }
            };
            for row in chunk.iter() {
                self.nul_bytes_in(row);
                if let Some(table) = table {
                    self.assignments(table, row, true);
                    self.required_columns(table, row, span.clone());
                }
            }
        }
    }

    /// PostgreSQL text cannot hold U+0000 and SQLite's C strings end there, so a
    /// `"\u0000"` is refused here, on every engine, rather than at run time on one.
    fn no_nul_bytes(&mut self, kind: &OperationKind) {
        match kind {
            // Checked row by row in `insert_rows`.
            OperationKind::Insert { .. } => {}
            OperationKind::Update { filter, set, .. } => {
                self.nul_bytes_in(filter);
                self.nul_bytes_in(set);
            }
            OperationKind::Delete { filter, .. } => self.nul_bytes_in(filter),
            OperationKind::Sql { params, .. } => params.iter().for_each(|v| self.nul_byte(v)),
        }
    }

    fn nul_bytes_in(&mut self, assignments: &[Assignment]) {
        for assignment in assignments {
            if let ValueKind::Ref(key) = &assignment.value.kind {
                key.iter().for_each(|a| self.nul_byte(&a.value));
            } else {
                self.nul_byte(&assignment.value);
            }
        }
    }

    fn nul_byte(&mut self, value: &PatchValue) {
        if matches!(&value.kind, ValueKind::Text(text) if text.contains('\0')) {
            self.problems.push(
                Problem::new(value.span.clone(), "the string contains a NUL character (\\u0000)")
                    .label("NUL character")
                    .help("remove it: PostgreSQL text cannot store it, so strata refuses it on every engine"),
            );
        }
    }

    fn assignments(&mut self, table: &Table, assignments: &[Assignment], writing: bool) {
        for assignment in assignments {
            let name = assignment.column.get_ref();
            let Some(column) = table.column(name) else {
                self.problems.push(
                    Problem::new(
                        assignment.column.span(),
                        format!(
                            "table `{}` has no column `{name}`{}",
                            table.name,
                            did_you_mean(name, table.columns.iter().map(|c| c.name.as_str()))
                        ),
                    )
                    .label("unknown column")
                    .help(format!(
                        "columns of {} are {}",
                        table.name,
                        backticked(table.columns.iter().map(|c| &c.name))
                    )),
                );
                continue;
            };
            if writing {
                if let Some(generated) = &column.generated {
                    self.problems.push(
                        Problem::new(
                            assignment.column.span(),
                            format!(
                                "{}.{name} is a generated column (GENERATED ALWAYS AS ({})): the database computes it, a patch cannot write it",
                                table.name,
                                crate::text::printable(&generated.sql)
                            ),
                        )
                        .label("computed column")
                        .help(format!("remove `{name}` here: it is computed from the other columns of the row")),
                    );
                    continue;
                }
                if column.numbering == Numbering::Identity(IdentityKind::Always) {
                    self.problems.push(
                        Problem::new(
                            assignment.column.span(),
                            format!(
                                "{}.{name} is GENERATED ALWAYS AS IDENTITY: the database numbers it, a patch cannot write it",
                                table.name
                            ),
                        )
                        .label("numbered by the database")
                        .help(format!("remove `{name}` here, or declare the column `identity = \"by_default\"` to allow explicit numbers")),
                    );
                    continue;
                }
            }
            if let ValueKind::Ref(key) = &assignment.value.kind {
                self.reference(table, name, key, &assignment.value);
                continue;
            }
            if writing && matches!(assignment.value.kind, ValueKind::Null) && !column.nullable {
                self.problems.push(
                    Problem::new(
                        assignment.value.span.clone(),
                        format!("{}.{name} is NOT NULL", table.name),
                    )
                    .label("cannot be null"),
                );
                continue;
            }
            self.fits(&table.name, name, &column.ty, &assignment.value);
        }
    }

    fn fits(&mut self, table: &str, column: &str, ty: &Type, value: &PatchValue) {
        // A domain's values are checked as its base type's (its CHECKs are
        // left to the database).
        if let Type::Domain(name) = ty {
            let base = self.schema.domain(name).map(|domain| domain.base.clone());
            if let Some(base) = base.filter(|base| !matches!(base, Type::Domain(_))) {
                self.fits(table, column, &base, value);
            }
            return;
        }
        // A native type is checked as the portable type its values behave as
        // (SQLite: its affinity); one the engine cannot say is not checked.
        let like = match ty {
            Type::Native(spellings) => spellings.iter().find_map(|(dialect, spelling)| {
                crate::driver::registry::engine(dialect)?.value_type(spelling)
            }),
            _ => None,
        };
        let checked = like.as_ref().unwrap_or(ty);
        let fits = match (&value.kind, checked) {
            (ValueKind::Null, _) | (_, Type::Custom(_) | Type::Native(_)) => true,
            (ValueKind::Text(text), Type::Enum(name)) => match self.schema.enum_type(name) {
                Some(declared) if !declared.values.contains(text) => {
                    self.problems.push(
                            Problem::new(
                                value.span.clone(),
                                format!("{table}.{column} is enum {name}, and `{text}` is not one of its values"),
                            )
                            .label("not a value of the enum")
                            .help(format!("its values are {}", backticked(&declared.values))),
                        );
                    return;
                }
                _ => true,
            },
            (_, Type::Enum(_)) => false,
            (ValueKind::Integer(_), ty) => ty.is_integer_like() || ty.is_float_like(),
            (ValueKind::Float(_), ty) => ty.is_float_like(),
            (ValueKind::Boolean(_), ty) => *ty == Type::Boolean,
            (ValueKind::Text(text), Type::Varchar(length)) => {
                text.chars().count() <= *length as usize
            }
            (ValueKind::Text(_), ty) => ty.is_text_like() || *ty == Type::Bytes,
            (ValueKind::Ref(_), _) => true,
        };
        if !fits {
            let found = match &value.kind {
                ValueKind::Integer(_) => "an integer".to_string(),
                ValueKind::Float(_) => "a float".to_string(),
                ValueKind::Boolean(_) => "a boolean".to_string(),
                ValueKind::Text(text) => format!("a string of {} characters", text.chars().count()),
                _ => "a value".to_string(),
            };
            self.problems.push(
                Problem::new(
                    value.span.clone(),
                    format!("{table}.{column} is {ty}, but the value is {found}"),
                )
                .label(format!("expected a {ty} value")),
            );
        }
    }

    fn reference(&mut self, table: &Table, column: &str, key: &[Assignment], value: &PatchValue) {
        let foreign_key = table
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.len() == 1 && fk.columns[0] == column);
        let Some(foreign_key) = foreign_key else {
            self.problems.push(
                Problem::new(
                    value.span.clone(),
                    format!(
                        "{}.{column} is not a foreign key, so it cannot take a `ref`",
                        table.name
                    ),
                )
                .label("no foreign key here")
                .help(
                    "give the value itself, or declare `references` on the column in schema.toml",
                ),
            );
            return;
        };
        let Some(target) = self.schema.table(&foreign_key.referenced_table) else {
            return;
        };
        self.assignments(target, key, false);
        if key.iter().any(|a| matches!(a.value.kind, ValueKind::Null)) {
            self.problems.push(
                Problem::new(value.span.clone(), "a `ref` key cannot be null")
                    .label("give the natural key's values"),
            );
        }
    }

    /// NOT NULL columns without a default must be given, except a single
    /// integer primary key, which the database numbers itself.
    fn required_columns(
        &mut self,
        table: &Table,
        row: &[Assignment],
        span: std::ops::Range<usize>,
    ) {
        let auto_key = table
            .primary_key
            .as_ref()
            .filter(|pk| pk.columns.len() == 1)
            .and_then(|pk| table.column(&pk.columns[0]))
            .filter(|column| column.ty.is_integer_like() && column.numbering != Numbering::Off)
            .map(|column| column.name.as_str());
        // Generated and identity columns make their own values.
        let makes_its_own = |c: &crate::schema::Column| {
            c.generated.is_some() || matches!(c.numbering, Numbering::Identity(_))
        };
        let missing: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| {
                !c.nullable
                    && c.default.is_none()
                    && Some(c.name.as_str()) != auto_key
                    && !makes_its_own(c)
            })
            .filter(|c| !row.iter().any(|a| a.column.get_ref() == &c.name))
            .map(|c| c.name.as_str())
            .collect();
        if !missing.is_empty() {
            let row_span = row
                .first()
                .map(|a| a.column.span().start..row.last().map_or(span.end, |l| l.value.span.end))
                .unwrap_or(span);
            self.problems.push(
                Problem::new(
                    row_span,
                    format!(
                        "this row of {} has no value for {}",
                        table.name,
                        backticked(&missing)
                    ),
                )
                .label("missing NOT NULL column")
                .help("give every NOT NULL column without a default a value"),
            );
        }
    }
}
