//! `AlterColumn` → PostgreSQL steps: type (with an explicit cast), default and
//! nullability, in the order that lets each succeed: the old default goes before a
//! type change it may not survive, the new default comes before the NULLs it
//! backfills, and NOT NULL comes last.

use super::plan::Busy;
use super::types::declared_type;
use crate::driver::ddl::default_value;
use crate::driver::{quote_identifier as q, Reverse, Step};
use crate::schema::{Column, DefaultValue, Type};
use crate::text::printable;

/// The steps that turn column `from` of `table` into `to` (same name: renames are
/// their own change). `sequence` is the column's SERIAL sequence, if it has one.
pub fn alter_column(
    table: &str,
    from: &Column,
    to: &Column,
    sequence: Option<&str>,
    busy: Busy,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let what = format!("{}.{}", printable(table), printable(&to.name));
    let alter = |clause: &str| {
        format!(
            "ALTER TABLE {} ALTER COLUMN {} {clause};",
            q(table),
            q(&to.name)
        )
    };
    let set_default = |default: &DefaultValue| {
        alter(&format!(
            "SET DEFAULT {}",
            default_value(default, super::plan::postgres_boolean)
        ))
    };
    let restore_default = |default: &Option<DefaultValue>| match default {
        Some(default) => set_default(default),
        None => alter("DROP DEFAULT"),
    };

    let type_changes = from.ty != to.ty;
    let widening = type_changes && widens(&from.ty, &to.ty);
    // A default of the old type may not cast to the new one ('none' to integer):
    // it is dropped first and the declared one set after the type change.
    let default_moves =
        from.default != to.default || (type_changes && !widening && from.default.is_some());

    if type_changes {
        if default_moves && from.default.is_some() {
            steps.push(Step::new(
                alter("DROP DEFAULT"),
                format!("drop default of {what} (before its type changes)"),
                Reverse::Sql(restore_default(&from.default)),
            ));
        }
        let new_type = declared_type(&to.ty);
        let old_type = declared_type(&from.ty);
        let reverse = if widening {
            Reverse::Sql(type_change_note(
                &to.ty,
                &from.ty,
                &alter(&format!(
                    "TYPE {old_type} USING {}::{old_type}",
                    q(&to.name)
                )),
            ))
        } else {
            Reverse::Irreversible(format!(
                "the cast from {} to {} may have changed values ({})",
                from.ty,
                to.ty,
                cast_risk(&from.ty, &to.ty)
            ))
        };
        let kind = if widening {
            "widening: every value fits".to_string()
        } else {
            format!(
                "cast that may fail or lose data: {}",
                cast_risk(&from.ty, &to.ty)
            )
        };
        let lock = if rewrites(&from.ty, &to.ty) {
            "; rewrites the table under an ACCESS EXCLUSIVE lock"
        } else {
            "; catalog only, no rewrite"
        };
        steps.push(Step::new(
            type_change_note(
                &from.ty,
                &to.ty,
                &alter(&format!(
                    "TYPE {new_type} USING {}::{new_type}",
                    q(&to.name)
                )),
            ),
            format!(
                "change type of {what} from {} to {} ({kind}{lock})",
                from.ty, to.ty
            ),
            reverse,
        ));
        // A SERIAL column's sequence has the column's type as its range.
        if let Some(sequence) = sequence.filter(|_| to.ty.is_integer_like()) {
            let alter_sequence = |ty: &Type| {
                format!(
                    "ALTER SEQUENCE IF EXISTS {} AS {};",
                    q(sequence),
                    declared_type(ty)
                )
            };
            steps.push(Step::new(
                alter_sequence(&to.ty),
                format!(
                    "number {what} with the range of {} (its sequence {})",
                    to.ty,
                    printable(sequence)
                ),
                Reverse::Sql(alter_sequence(&from.ty)),
            ));
        }
    }

    if default_moves {
        match &to.default {
            Some(default) => steps.push(Step::new(
                set_default(default),
                format!(
                    "set default of {what} to {}",
                    printable(&default.to_string())
                ),
                // After a type change the reverse of the type step restores the
                // old default; before it, the old default must go.
                Reverse::Sql(if type_changes {
                    alter("DROP DEFAULT")
                } else {
                    restore_default(&from.default)
                }),
            )),
            None if !type_changes => steps.push(Step::new(
                alter("DROP DEFAULT"),
                format!("drop default of {what}"),
                Reverse::Sql(restore_default(&from.default)),
            )),
            None => {} // already dropped before the type change
        }
    }

    if from.nullable && !to.nullable {
        if to.default.is_some() {
            steps.push(Step::new(
                format!(
                    "UPDATE {} SET {} = DEFAULT WHERE {} IS NULL;",
                    q(table),
                    q(&to.name),
                    q(&to.name)
                ),
                format!("fill NULLs of {what} with its default"),
                Reverse::Irreversible(format!(
                    "which rows of {what} were NULL before they got the default is not recorded"
                )),
            ));
        }
        let comment = if to.default.is_some() {
            format!("make {what} NOT NULL")
        } else {
            format!("make {what} NOT NULL (fails if a row holds NULL)")
        };
        if busy == Busy::Maybe {
            // The table exists, and may be in use: see `online::set_not_null`.
            steps.extend(super::online::set_not_null(table, &to.name, comment));
        } else {
            steps.push(Step::new(
                alter("SET NOT NULL"),
                comment,
                Reverse::Sql(alter("DROP NOT NULL")),
            ));
        }
    } else if !from.nullable && to.nullable {
        let comment = format!("make {what} nullable");
        if busy == Busy::Maybe {
            // Its reverse, NOT NULL again, must not scan a busy table.
            steps.push(super::online::drop_not_null(table, &to.name, comment));
        } else {
            steps.push(Step::new(
                alter("DROP NOT NULL"),
                comment,
                Reverse::Sql(alter("SET NOT NULL")),
            ));
        }
    }
    steps
}

/// Whether every value of `from` fits `to` unchanged. The diff decides which
/// changes need `--allow-destructive`; this only words the step and its reverse.
fn widens(from: &Type, to: &Type) -> bool {
    use Type::*;
    match (from, to) {
        (SmallInt, Integer | BigInt) | (Integer, BigInt) => true,
        (SmallInt | Integer | BigInt, Numeric(None)) => true,
        (Varchar(n), Varchar(m)) => m >= n,
        (Varchar(_), Text) => true,
        (Real, Double) => true,
        (Numeric(Some(_)), Numeric(None)) => true,
        (Numeric(Some((p, s))), Numeric(Some((p2, s2)))) => {
            // As many digits before the point and as many after.
            s2 >= s && i64::from(*p2) - i64::from(*s2) >= i64::from(*p) - i64::from(*s)
        }
        _ => false,
    }
}

/// Whether PostgreSQL rewrites the table (and every index on the column) to
/// change a column from `from` to `to`. It does not when the new type is
/// binary compatible and accepts every old value unchanged: a longer or
/// unbounded `varchar`, `text`, a `numeric` with the same scale and at least
/// the precision, or unconstrained (checked on PostgreSQL 15: the table's
/// relfilenode stays the same, even with the `USING` cast strata writes).
fn rewrites(from: &Type, to: &Type) -> bool {
    use Type::*;
    !match (from, to) {
        (Varchar(n), Varchar(m)) => m >= n,
        (Varchar(_), Text) => true,
        (Numeric(_), Numeric(None)) => true,
        (Numeric(Some((p, s))), Numeric(Some((p2, s2)))) => s2 == s && p2 >= p,
        _ => false,
    }
}

/// The type change `statement` (from `from` to `to`) with comments above it
/// saying what it locks, and the inline ignore of squawk's changing-column-type
/// rule that this acknowledges. A rewrite holds ACCESS EXCLUSIVE for as long as
/// it takes: strata writes no online form of it (a new column filled in
/// batches, a trigger, a swap), which would change the table under the
/// application's feet; the header and this comment name the lock instead.
fn type_change_note(from: &Type, to: &Type, statement: &str) -> String {
    // A custom type's name is the user's text: no line break may end the comment.
    let (from_shown, to_shown) = (
        printable(&from.to_string()).into_owned(),
        printable(&to.to_string()).into_owned(),
    );
    let note = if rewrites(from, to) {
        format!(
            "-- {from_shown} to {to_shown} rewrites the table: ACCESS EXCLUSIVE lock (reads and writes wait) until it is done.\n"
        )
    } else {
        format!(
            "-- {from_shown} to {to_shown} is binary compatible: a catalog change, no table rewrite (a brief ACCESS EXCLUSIVE lock).\n"
        )
    };
    format!("{note}-- squawk-ignore changing-column-type\n{statement}")
}

/// What an explicit cast from `from` to `to` can do to the values.
fn cast_risk(from: &Type, to: &Type) -> String {
    use Type::*;
    match (from, to) {
        (_, Varchar(n)) => format!("text longer than {n} characters is cut"),
        (Real | Double | Numeric(_), SmallInt | Integer | BigInt) => {
            "fractions are rounded; values out of range fail".into()
        }
        (SmallInt | Integer | BigInt, SmallInt | Integer | BigInt) => {
            "values out of range fail".into()
        }
        (Double, Real) => "values lose precision".into(),
        (_, Numeric(Some((_, scale)))) => {
            format!("values are rounded to {scale} decimals; values too large fail")
        }
        _ => "values that do not convert fail".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widenings_are_the_safe_ones() {
        assert!(widens(&Type::Integer, &Type::BigInt));
        assert!(widens(&Type::Varchar(10), &Type::Varchar(20)));
        assert!(widens(&Type::Varchar(10), &Type::Text));
        assert!(widens(&Type::Real, &Type::Double));
        assert!(widens(
            &Type::Numeric(Some((10, 2))),
            &Type::Numeric(Some((12, 3)))
        ));
        assert!(!widens(
            &Type::Numeric(Some((10, 2))),
            &Type::Numeric(Some((10, 3)))
        ));
        assert!(!widens(&Type::BigInt, &Type::Integer));
        assert!(!widens(&Type::Text, &Type::Varchar(10)));
        assert!(!widens(&Type::Text, &Type::Integer));
    }

    /// Checked against PostgreSQL 15 (relfilenode before and after).
    #[test]
    fn only_binary_compatible_changes_skip_the_rewrite() {
        assert!(!rewrites(&Type::Varchar(5), &Type::Varchar(10)));
        assert!(!rewrites(&Type::Varchar(5), &Type::Text));
        assert!(!rewrites(
            &Type::Numeric(Some((10, 2))),
            &Type::Numeric(Some((12, 2)))
        ));
        assert!(!rewrites(
            &Type::Numeric(Some((10, 2))),
            &Type::Numeric(None)
        ));
        assert!(rewrites(
            &Type::Numeric(Some((10, 2))),
            &Type::Numeric(Some((12, 3)))
        ));
        assert!(rewrites(&Type::Integer, &Type::BigInt));
        assert!(rewrites(&Type::Varchar(10), &Type::Varchar(5)));
        assert!(rewrites(&Type::Text, &Type::Varchar(5)));
    }
}
