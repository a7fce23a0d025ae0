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
            Reverse::Sql(alter(&format!(
                "TYPE {old_type} USING {}::{old_type}",
                q(&to.name)
            )))
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
        steps.push(Step::new(
            alter(&format!(
                "TYPE {new_type} USING {}::{new_type}",
                q(&to.name)
            )),
            format!(
                "change type of {what} from {} to {} ({kind})",
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
        steps.push(Step::new(
            alter("DROP NOT NULL"),
            format!("make {what} nullable"),
            Reverse::Sql(alter("SET NOT NULL")),
        ));
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
}
