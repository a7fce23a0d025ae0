//! PostgreSQL DDL for a column's numbering (SERIAL, identity, none), its
//! sequence's start and increment, and generated (computed) columns: in a
//! column definition, after a CREATE TABLE, and as changes of an existing column.

use super::types::declared_type;
use crate::driver::{quote_identifier as q, quote_literal, Reverse, Step};
use crate::schema::{names, Column, IdentityKind, Numbering, SequenceOptions, Table};
use crate::text::printable;

/// The squawk rules a numbering change trips, acknowledged inline: the change
/// is what schema.toml declares (inserts that relied on the old numbering are
/// the point of it), not how strata makes it.
const NUMBERING_RULES: &str = "-- squawk-ignore ban-alter-identity, ban-drop-sequence\n";

/// What follows `"name" TYPE [NOT NULL]` in a column definition: the
/// `GENERATED …` clause of an identity or generated column, or nothing.
pub fn definition_clause(column: &Column) -> String {
    if let Some(generated) = &column.generated {
        // PostgreSQL 15 has STORED only; the parser refuses VIRTUAL for it.
        return format!(" GENERATED ALWAYS AS ({}) STORED", generated.sql);
    }
    match column.numbering {
        Numbering::Identity(kind) => identity_clause(kind, &column.sequence),
        _ => String::new(),
    }
}

/// ` GENERATED ALWAYS AS IDENTITY (START WITH 1000 INCREMENT BY 10)`
fn identity_clause(kind: IdentityKind, sequence: &SequenceOptions) -> String {
    let options = sequence_options(sequence, false);
    let options = if options.is_empty() {
        String::new()
    } else {
        format!(" ({options})")
    };
    format!(" GENERATED {} AS IDENTITY{options}", kind.sql())
}

/// `START WITH n INCREMENT BY m`, the parts that are not the defaults, or both
/// (with the defaults spelled) when `all`.
fn sequence_options(sequence: &SequenceOptions, all: bool) -> String {
    let increment = sequence.increment.unwrap_or(1);
    let start = sequence.start.unwrap_or(if increment > 0 { 1 } else { -1 });
    let mut parts = Vec::new();
    if all || sequence.start.is_some() {
        parts.push(format!("START WITH {start}"));
    }
    if all || sequence.increment.is_some() {
        parts.push(format!("INCREMENT BY {increment}"));
    }
    parts.join(" ")
}

/// After `CREATE TABLE`: the start and increment of its SERIAL column's
/// sequence when not the defaults (SERIAL has no syntax for them). RESTART
/// makes the first number the start, as for a sequence created so.
pub fn serial_sequence_setup(table: &Table) -> Option<String> {
    let column = table
        .columns
        .iter()
        .find(|column| super::plan::is_serial(table, column))?;
    if column.sequence.is_default() {
        return None;
    }
    Some(format!(
        "ALTER SEQUENCE {} {} RESTART;",
        q(&names::sequence(&table.name, &column.name)),
        sequence_options(&column.sequence, false)
    ))
}

/// How a column is numbered, in the terms the steps below need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Serial,
    Identity(IdentityKind),
    None,
}

fn kind(table: &Table, column: &Column) -> Kind {
    match column.numbering {
        Numbering::Identity(kind) if column.generated.is_none() => Kind::Identity(kind),
        _ if super::plan::is_serial(table, column) => Kind::Serial,
        _ => Kind::None,
    }
}

/// The steps that change the numbering or sequence options of column `from`
/// (of `old`) of `table` into `to` (of `new`). A changed generated expression
/// is [`regenerate`]'s.
pub fn renumber(table: &str, old: &Table, new: &Table, from: &Column, to: &Column) -> Vec<Step> {
    let (before, after) = (kind(old, from), kind(new, to));
    let what = format!("{}.{}", printable(table), printable(&to.name));
    let column = &to.name;
    let alter = |clause: &str| {
        format!(
            "ALTER TABLE {} ALTER COLUMN {} {clause};",
            q(table),
            q(column)
        )
    };
    let sequence = names::sequence(table, column);
    if before == after {
        if from.sequence == to.sequence {
            return Vec::new();
        }
        let set = |options: &SequenceOptions| match after {
            Kind::Identity(_) => {
                NUMBERING_RULES.to_string()
                    + &alter(&format!(
                        "SET START WITH {} SET INCREMENT BY {}",
                        options
                            .start
                            .unwrap_or(if options.increment.unwrap_or(1) > 0 {
                                1
                            } else {
                                -1
                            }),
                        options.increment.unwrap_or(1)
                    ))
            }
            _ => format!(
                "ALTER SEQUENCE {} {};",
                q(&sequence),
                sequence_options(options, true)
            ),
        };
        return vec![Step::new(
            set(&to.sequence),
            format!(
                "number {what} {} (the numbers already given stay; the next one is not reset)",
                sequence_options(&to.sequence, true)
            ),
            Reverse::Sql(set(&from.sequence)),
        )];
    }
    if let (Kind::Identity(_), Kind::Identity(kind)) = (before, after) {
        let mut steps = vec![Step::new(
            format!(
                "{NUMBERING_RULES}{}",
                alter(&format!("SET GENERATED {}", kind.sql()))
            ),
            format!("number {what} GENERATED {} AS IDENTITY", kind.sql()),
            Reverse::Sql(
                NUMBERING_RULES.to_string()
                    + &alter(&format!(
                        "SET GENERATED {}",
                        match kind {
                            IdentityKind::Always => IdentityKind::ByDefault.sql(),
                            IdentityKind::ByDefault => IdentityKind::Always.sql(),
                        }
                    )),
            ),
        )];
        if from.sequence != to.sequence {
            let mut same_kind = from.clone();
            same_kind.numbering = to.numbering.clone();
            steps.extend(renumber(table, new, new, &same_kind, to));
        }
        return steps;
    }
    let unmake = |kind: Kind| match kind {
        Kind::Serial => format!(
            "{}\n{NUMBERING_RULES}DROP SEQUENCE IF EXISTS {};",
            alter("DROP DEFAULT"),
            q(&sequence)
        ),
        Kind::Identity(_) => format!("{NUMBERING_RULES}{}", alter("DROP IDENTITY IF EXISTS")),
        Kind::None => String::new(),
    };
    // Rows that exist keep their numbers: the sequence goes on after the largest.
    let catch_up = |sequence_sql: &str| {
        format!(
            "SELECT setval({sequence_sql}, MAX({})) FROM {} HAVING MAX({}) IS NOT NULL;",
            q(column),
            q(table),
            q(column)
        )
    };
    let make = |kind: Kind, column_now: &Column| match kind {
        Kind::Serial => make_serial(table, column_now),
        Kind::Identity(identity) => format!(
            "{}\n{}",
            NUMBERING_RULES.to_string()
                + &alter(&format!(
                    "ADD{}",
                    identity_clause(identity, &column_now.sequence)
                )),
            catch_up(&format!(
                "pg_get_serial_sequence({}, {})",
                quote_literal(&q(table)),
                quote_literal(column)
            ))
        ),
        Kind::None => String::new(),
    };
    let join = |a: String, b: String| {
        [a, b]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let describe = |kind: Kind| match kind {
        Kind::Serial => "SERIAL (a sequence of its own)".to_string(),
        Kind::Identity(identity) => format!("GENERATED {} AS IDENTITY", identity.sql()),
        Kind::None => "not numbered (autoincrement = false)".to_string(),
    };
    vec![Step::new(
        join(unmake(before), make(after, to)),
        format!(
            "number {what} {} instead of {}",
            describe(after),
            describe(before)
        ),
        Reverse::Sql(join(unmake(after), make(before, from))),
    )]
}

/// A generated column whose expression (or generation) changed: dropped and
/// added back, as PostgreSQL cannot change the expression in place; the values
/// are computed again; `indexes` (the CREATE INDEX of those on it that both
/// versions have, as `from` and as `to` has them) are built again. `definition` spells a column.
pub fn regenerate(
    table: &str,
    from: &Column,
    to: &Column,
    definition: impl Fn(&Column) -> String,
    indexes: (&[String], &[String]),
) -> Step {
    let what = format!("{}.{}", printable(table), printable(&to.name));
    let replace = |column: &Column, indexes: &[String]| {
        let mut sql = format!(
            "ALTER TABLE {} DROP COLUMN {};\n-- Computes every row's value: rewrites the table under an ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n-- squawk-ignore adding-field-with-default\nALTER TABLE {} ADD COLUMN {};",
            q(table),
            q(&column.name),
            q(table),
            definition(column)
        );
        if let Some(comment) = &column.comment {
            sql.push_str(&format!(
                "\nCOMMENT ON COLUMN {}.{} IS {};",
                q(table),
                q(&column.name),
                quote_literal(comment)
            ));
        }
        for index in indexes {
            // The table is rewritten under ACCESS EXCLUSIVE until the commit
            // anyway: CONCURRENTLY would spare no writer.
            sql.push_str("\n-- Built inside the transaction that rewrote the table (writes already wait until it commits)\n-- squawk-ignore require-concurrent-index-creation\n");
            sql.push_str(index);
        }
        sql
    };
    let comment = match (&from.generated, &to.generated) {
        (Some(_), Some(_)) => format!("drop and re-add generated column {what}: its expression changed, which PostgreSQL cannot change in place (every row is computed again under an ACCESS EXCLUSIVE lock; the column moves to the end of the table, its indexes are built again)"),
        _ => format!("drop and re-add {what} as a generated column: its values are replaced by the computed ones (under an ACCESS EXCLUSIVE lock; the column moves to the end of the table, its indexes are built again)"),
    };
    let reverse = if from.generated.is_some() {
        Reverse::Sql(replace(from, indexes.0))
    } else {
        // Back to a plain column that keeps the computed values (its own are
        // gone): DROP EXPRESSION keeps the column, its indexes and its rows
        // valid, where a drop and re-add would leave a NOT NULL column empty.
        let mut sql = format!(
            "{DROP_EXPRESSION_NOTE}ALTER TABLE {} ALTER COLUMN {} DROP EXPRESSION;",
            q(table),
            q(&to.name)
        );
        if from.name != to.name {
            sql.push_str(&format!(
                "\nALTER TABLE {} RENAME COLUMN {} TO {};",
                q(table),
                q(&to.name),
                q(&from.name)
            ));
        }
        if let Some(default) = &from.default {
            sql.push_str(&format!(
                "\nALTER TABLE {} ALTER COLUMN {} SET DEFAULT {};",
                q(table),
                q(&from.name),
                crate::driver::ddl::default_value(default, super::plan::postgres_boolean)
            ));
        }
        Reverse::Lossy {
            sql,
            reason: format!("the values of {what} before it was generated are not kept"),
        }
    };
    Step::new(replace(to, indexes.1), comment, reverse)
}

/// Said above every DROP EXPRESSION, which squawk flags as a change clients may
/// notice: here schema.toml asks for it, and no lock or rewrite is involved.
const DROP_EXPRESSION_NOTE: &str = "-- The column keeps its values and accepts writes from now on (a catalog change: no rewrite).\n-- squawk-ignore ban-drop-generated-expression\n";

/// A generated column that becomes a plain one keeps its values:
/// `DROP EXPRESSION`. Its reverse computes them again (drop and re-add, with
/// `indexes`, the CREATE INDEX of those on it as `from` has them, built again).
pub fn stop_generating(
    table: &str,
    from: &Column,
    definition: impl Fn(&Column) -> String,
    indexes: &[String],
) -> Step {
    let what = format!("{}.{}", printable(table), printable(&from.name));
    let back = regenerate(table, from, from, definition, (indexes, indexes));
    Step::new(
        format!(
            "{DROP_EXPRESSION_NOTE}ALTER TABLE {} ALTER COLUMN {} DROP EXPRESSION;",
            q(table),
            q(&from.name)
        ),
        format!("make {what} a plain column that keeps its computed values"),
        Reverse::Sql(back.sql),
    )
}

/// `column` of existing table `table` numbered as SERIAL numbers it: a
/// sequence of its own, going on after the largest number the rows have.
fn make_serial(table: &str, column: &Column) -> String {
    let sequence = names::sequence(table, &column.name);
    let name = q(&column.name);
    format!(
        "CREATE SEQUENCE {seq} AS {} {} OWNED BY {}.{name};\n\
         SELECT setval({literal}, MAX({name})) FROM {} HAVING MAX({name}) IS NOT NULL;\n\
         ALTER TABLE {} ALTER COLUMN {name} SET DEFAULT nextval({literal});",
        declared_type(&column.ty),
        sequence_options(&column.sequence, true),
        q(table),
        q(table),
        q(table),
        seq = q(&sequence),
        literal = quote_literal(&q(&sequence)),
    )
}

/// A column of an existing table that becomes its single integer primary key
/// (and so SERIAL) gets its sequence, as a new table's would: the mirror of
/// dropping the `nextval` default of one that stops being it. `old_name` gives
/// a column's name in `old`.
pub fn serial_started(
    table: &str,
    old: &Table,
    new: &Table,
    old_name: impl Fn(&str) -> Option<String>,
) -> Vec<Step> {
    new.columns
        .iter()
        .filter(|column| super::plan::is_serial(new, column))
        .filter(|column| {
            old_name(&column.name)
                .and_then(|name| old.column(&name).cloned())
                .is_none_or(|before| !super::plan::is_serial(old, &before))
        })
        .map(|column| {
            let sequence = names::sequence(table, &column.name);
            Step::new(
                make_serial(table, column),
                format!(
                    "number {}.{} from a sequence of its own (now the single integer primary key)",
                    printable(table),
                    printable(&column.name)
                ),
                Reverse::Sql(format!(
                    "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;\n{NUMBERING_RULES}DROP SEQUENCE IF EXISTS {};",
                    q(table),
                    q(&column.name),
                    q(&sequence)
                )),
            )
        })
        .collect()
}
