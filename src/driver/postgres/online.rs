//! Online-safe steps for tables that already exist (and so may be busy): the
//! forms that never hold a lock which blocks writers for longer than a catalog
//! update. Tables created in the same migration are empty and unused, so they
//! keep plain DDL (see [`super::plan`]).
//!
//! - An index is built with `CREATE INDEX CONCURRENTLY` (a SHARE UPDATE
//!   EXCLUSIVE lock, which writers do not conflict with) outside a transaction.
//!   A failed concurrent build leaves an INVALID index behind, so the step drops
//!   any index of that name first: it cannot have existed before this
//!   migration, and the step is then safe to run again.
//! - A foreign key is added `NOT VALID` (a brief lock, no scan) in the
//!   migration's transaction, then validated outside it (`VALIDATE CONSTRAINT`
//!   scans under SHARE UPDATE EXCLUSIVE, which does not block writes).
//! - NOT NULL goes through a `CHECK (column IS NOT NULL) NOT VALID`, validated
//!   the same way; PostgreSQL 12 and later then `SET NOT NULL` without scanning
//!   the table, and the check is dropped.
//!
//! Steps outside the transaction are written to a migration of their own (see
//! `migrate::generate`), whose statements each commit on their own: every one
//! here is safe to run again after a failure part-way.

use crate::driver::ddl::column_list;
use crate::driver::{quote_identifier as q, quote_literal, Reverse, Step};
use crate::schema::{names, Check, ForeignKey, Index};
use crate::text::printable;

/// `CREATE INDEX CONCURRENTLY IF NOT EXISTS`: the steps before it drop an
/// INVALID index a failed build left, so `IF NOT EXISTS` only makes a run
/// after a complete build a no-op (squawk's prefer-robust-stmts asks for it).
fn create_concurrently(table: &str, index: &Index) -> String {
    crate::driver::ddl::create_index_sql(table, index, "CONCURRENTLY IF NOT EXISTS ")
}

fn drop_concurrently(index: &Index) -> String {
    drop_concurrently_named(&index.name)
}

fn drop_concurrently_named(name: &str) -> String {
    format!("DROP INDEX CONCURRENTLY IF EXISTS {};", q(name))
}

/// `CREATE INDEX CONCURRENTLY`, after dropping an INVALID index a failed build
/// of this same step may have left (two steps, one statement each).
pub fn create_index(table: &str, index: &Index, comment: String) -> [Step; 2] {
    [
        Step::outside_transaction(
            drop_concurrently(index),
            format!(
                "drop index {} if a failed concurrent build left it INVALID (it cannot exist otherwise)",
                printable(&index.name)
            ),
            Reverse::Nothing,
        ),
        Step::outside_transaction(
            create_concurrently(table, index),
            format!("{comment}, concurrently"),
            Reverse::Sql(drop_concurrently(index)),
        ),
    ]
}

/// `DROP INDEX CONCURRENTLY IF EXISTS`: no lock that blocks writers, and a
/// no-op when run again. Its reverse rebuilds the index concurrently.
pub fn drop_index(table: &str, index: &Index, comment: String) -> Step {
    Step::outside_transaction(
        drop_concurrently(index),
        format!("{comment}, concurrently"),
        // A failed concurrent build in the down file leaves an INVALID index,
        // dropped before building it again (as the up file does).
        Reverse::Sql(format!(
            "{}\n{}",
            drop_concurrently(index),
            create_concurrently(table, index)
        )),
    )
}

/// `statement`, which runs outside a transaction and is a no-op when run
/// again (`VALIDATE CONSTRAINT`, `SET NOT NULL`, `DROP NOT NULL`), with the
/// inline comment that tells squawk so: its prefer-robust-stmts rule asks for
/// a transaction or `IF [NOT] EXISTS`, which these statements have no form of.
pub fn rerunnable(statement: &str) -> String {
    format!(
        "-- Outside a transaction, and a no-op when run again.\n\
         -- squawk-ignore prefer-robust-stmts\n{statement}"
    )
}

/// The step that validates constraint `name` of `table`, added `NOT VALID` by
/// an earlier step (whose reverse drops it). Validating twice is a no-op.
fn validate(table: &str, name: &str, comment: String) -> Step {
    Step::outside_transaction(validate_sql(table, name), comment, Reverse::Nothing)
}

/// `VALIDATE CONSTRAINT` (a SHARE UPDATE EXCLUSIVE lock: writers go on).
fn validate_sql(table: &str, name: &str) -> String {
    rerunnable(&format!(
        "ALTER TABLE {} VALIDATE CONSTRAINT {};",
        q(table),
        q(name)
    ))
}

/// `DO` block running `statement` only when `condition` (a SQL boolean) holds:
/// PostgreSQL has no `IF NOT EXISTS` for constraints, and a step outside the
/// transaction must be safe to run again.
fn only_if(condition: &str, statement: &str) -> String {
    let body = format!("BEGIN\n    IF {condition} THEN\n        {statement}\n    END IF;\nEND");
    // A dollar-quote tag that no name in the body can end early.
    let tag = (0..)
        .map(|n: u32| match n {
            0 => "$strata$".to_string(),
            n => format!("$strata{n}$"),
        })
        .find(|tag| !body.contains(tag.as_str()))
        .unwrap_or_default();
    format!("DO {tag}\n{body}\n{tag};")
}

/// `EXISTS (…)`: constraint `name` is on `table`.
fn constraint_exists(table: &str, name: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {}::regclass AND conname = {})",
        quote_literal(&q(table)),
        quote_literal(name)
    )
}

/// Outside the transaction, the NOT NULL check is validated, then dropped once
/// NOT NULL holds. Run again after that drop (a later statement failed), the
/// validation would find no check; so this step first adds the check back,
/// `NOT VALID`, when it is missing. The validation itself stays a plain
/// statement, so linters see the check validated before `SET NOT NULL`.
fn restore_check(table: &str, check: &str, add_check: &str, comment: String) -> Step {
    Step::outside_transaction(
        only_if(
            &format!("NOT {}", constraint_exists(table, check)),
            add_check,
        ),
        comment,
        Reverse::Nothing,
    )
}

/// What an index built concurrently becomes once attached (see [`attached`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    Unique,
    PrimaryKey,
}

impl Attach {
    fn clause(self) -> &'static str {
        match self {
            Attach::Unique => "UNIQUE",
            Attach::PrimaryKey => "PRIMARY KEY",
        }
    }
}

/// A unique constraint or primary key `name` on (existing) `table`: the three
/// statements that build its index concurrently and attach it (`ADD
/// CONSTRAINT … UNIQUE | PRIMARY KEY USING INDEX`, a catalog change; a primary
/// key's columns are already NOT NULL, so it scans nothing). Safe to run
/// again: an INVALID index a failed build left is dropped first (plainly:
/// `DROP INDEX CONCURRENTLY` cannot run in the `DO` block that checks it is
/// invalid; the drop takes the table's lock only briefly, and only after a
/// failure), and the constraint is added only while it is missing.
fn attached(table: &str, name: &str, columns: &[String], kind: Attach) -> [String; 3] {
    let drop_invalid = only_if(
        &format!(
            "EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass({}) AND NOT indisvalid)",
            quote_literal(&q(name))
        ),
        &format!("DROP INDEX {};", q(name)),
    );
    let build = format!(
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({});",
        q(name),
        q(table),
        column_list(columns)
    );
    let attach = only_if(
        &format!("NOT {}", constraint_exists(table, name)),
        &format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {};",
            q(table),
            q(name),
            kind.clause(),
            q(name)
        ),
    );
    [drop_invalid, build, attach]
}

fn drop_constraint_if_exists(table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};",
        q(table),
        q(name)
    )
}

/// A unique constraint or primary key on an existing table, as three steps
/// (see [`attached`]).
pub fn add_unique(
    table: &str,
    name: &str,
    columns: &[String],
    kind: Attach,
    comment: String,
) -> [Step; 3] {
    let [drop_invalid, build, attach] = attached(table, name, columns, kind);
    let shown = printable(name);
    [
        Step::outside_transaction(
            drop_invalid,
            format!("drop index {shown} if a failed concurrent build left it INVALID"),
            Reverse::Nothing,
        ),
        Step::outside_transaction(
            build,
            format!("build the unique index {shown} concurrently"),
            Reverse::Sql(drop_concurrently_named(name)),
        ),
        Step::outside_transaction(
            attach,
            format!("{comment}, using that index"),
            Reverse::Sql(drop_constraint_if_exists(table, name)),
        ),
    ]
}

/// Dropping unique constraint `name` of an existing table, outside the
/// transaction, for the same reason as [`drop_primary_key`]: its reverse
/// builds the index concurrently and attaches it, in a down file outside a
/// transaction, instead of `ADD CONSTRAINT … UNIQUE` under ACCESS EXCLUSIVE.
pub fn drop_unique(table: &str, name: &str, columns: &[String], comment: String) -> Step {
    Step::outside_transaction(
        drop_constraint_if_exists(table, name),
        comment,
        Reverse::Sql(attached(table, name, columns, Attach::Unique).join("\n\n")),
    )
}

/// Dropping the primary key `name` of an existing table, outside the
/// transaction (a catalog change, a no-op when run again): not for itself but
/// for its reverse, which then lands in a down file that runs outside a
/// transaction too and so builds the key's index concurrently and attaches it
/// (see [`attached`]) instead of `ADD PRIMARY KEY`, which builds it under
/// ACCESS EXCLUSIVE. `columns` are the key's columns by the names they have
/// after the migration.
pub fn drop_primary_key(table: &str, name: &str, columns: &[String], comment: String) -> Step {
    Step::outside_transaction(
        drop_constraint_if_exists(table, name),
        comment,
        Reverse::Sql(attached(table, name, columns, Attach::PrimaryKey).join("\n\n")),
    )
}

/// A foreign key on an existing table: `(added NOT VALID, validated)`.
/// `add` is the `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY …;` statement.
pub fn foreign_key(table: &str, fk: &ForeignKey, add: Step) -> (Step, Step) {
    let sql = format!("{} NOT VALID;", add.sql.trim_end_matches(';'));
    let validated = validate(
        table,
        &fk.name,
        format!(
            "validate foreign key {} on {} (checks the existing rows without blocking writes)",
            printable(&fk.name),
            printable(table)
        ),
    );
    let comment = format!(
        "{} (NOT VALID: new rows are checked now, existing ones by a later step)",
        add.comment
    );
    (
        Step {
            sql,
            comment,
            ..add
        },
        validated,
    )
}

/// A CHECK on an existing table: `(added NOT VALID, validated)`, as a foreign
/// key. `add` is the `ALTER TABLE … ADD CONSTRAINT … CHECK (…);` statement.
pub fn check(table: &str, check: &Check, add: String, comment: String) -> (Step, Step) {
    let sql = format!("{} NOT VALID;", add.trim_end_matches(';'));
    let validated = validate(
        table,
        &check.name,
        format!(
            "validate check constraint {} on {} (checks the existing rows without blocking writes)",
            printable(&check.name),
            printable(table)
        ),
    );
    (
        Step::new(
            sql,
            format!(
                "{comment} (NOT VALID: new rows are checked now, existing ones by a later step)"
            ),
            Reverse::Sql(format!(
                "ALTER TABLE {} DROP CONSTRAINT {};",
                q(table),
                q(&check.name)
            )),
        ),
        validated,
    )
}

/// The statements of NOT NULL on an existing column (see [`set_not_null`]).
struct NotNull {
    /// `ADD CONSTRAINT <check> CHECK (column IS NOT NULL) NOT VALID`.
    add_check: String,
    /// The same, only when the check is missing (safe to run again).
    add_check_if_missing: String,
    validate: String,
    set_not_null: String,
    drop_not_null: String,
    drop_check: String,
    check: String,
}

impl NotNull {
    fn of(table: &str, column: &str) -> NotNull {
        let check = names::not_null_check(table, column);
        let add_check = format!(
            "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID;",
            q(table),
            q(&check),
            q(column)
        );
        let alter = |clause: &str| {
            rerunnable(&format!(
                "ALTER TABLE {} ALTER COLUMN {} {clause};",
                q(table),
                q(column)
            ))
        };
        NotNull {
            add_check_if_missing: only_if(
                &format!("NOT {}", constraint_exists(table, &check)),
                &add_check,
            ),
            add_check,
            validate: validate_sql(table, &check),
            set_not_null: alter("SET NOT NULL"),
            drop_not_null: alter("DROP NOT NULL"),
            drop_check: format!(
                "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {};",
                q(table),
                q(&check)
            ),
            check,
        }
    }
}

/// NOT NULL on an existing column: a check added `NOT VALID` (in the
/// transaction), then outside it: validate the check, `SET NOT NULL` (which
/// uses the validated check instead of scanning), drop the check.
pub fn set_not_null(table: &str, column: &str, comment: String) -> Vec<Step> {
    let not_null = NotNull::of(table, column);
    let what = format!("{}.{}", printable(table), printable(column));
    let check_shown = printable(&not_null.check);
    vec![
        Step::new(
            not_null.add_check.clone(),
            format!("check that {what} is not NULL, for new rows (NOT VALID: {check_shown})"),
            Reverse::Sql(not_null.drop_check.clone()),
        ),
        restore_check(
            table,
            &not_null.check,
            &not_null.add_check,
            format!("add {check_shown} back if a failed earlier run of this file dropped it"),
        ),
        validate(
            table,
            &not_null.check,
            format!(
                "validate {check_shown}: check the existing rows of {what} without blocking writes"
            ),
        ),
        Step::outside_transaction(
            not_null.set_not_null,
            format!("{comment} (PostgreSQL 12+ uses the validated check: no scan)"),
            // In a down file that runs outside a transaction.
            Reverse::Sql(not_null.drop_not_null),
        ),
        Step::outside_transaction(
            not_null.drop_check,
            format!("drop {check_shown}, which NOT NULL now enforces"),
            // In a down file that runs outside a transaction: safe to run again.
            Reverse::Sql(not_null.add_check_if_missing),
        ),
    ]
}

/// `DROP NOT NULL` on an existing column, outside the transaction: not for
/// itself (a catalog change, and a no-op when run again) but for its reverse,
/// NOT NULL again, which then lands in a down file that runs outside a
/// transaction too and so takes the online form of [`set_not_null`] (check
/// added `NOT VALID` when missing, validated, `SET NOT NULL`, check dropped).
/// A plain `SET NOT NULL` would scan the table under ACCESS EXCLUSIVE.
pub fn drop_not_null(table: &str, column: &str, comment: String) -> Step {
    let not_null = NotNull::of(table, column);
    Step::outside_transaction(
        not_null.drop_not_null,
        comment,
        Reverse::Sql(
            [
                not_null.add_check_if_missing,
                not_null.validate,
                not_null.set_not_null,
                not_null.drop_check,
            ]
            .join("\n\n"),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name holding the dollar-quote tag or a quote cannot end the `DO` body
    /// or its string literals early.
    #[test]
    fn do_blocks_quote_every_name() {
        let steps = set_not_null("a$strata$b'c", "x", "make it NOT NULL".into());
        let restore = &steps[1].sql;
        assert!(restore.starts_with("DO $strata1$\n"), "{restore}");
        assert!(restore.ends_with("\n$strata1$;"), "{restore}");
        assert!(
            restore.contains("conrelid = '\"a$strata$b''c\"'::regclass"),
            "{restore}"
        );
    }
}
