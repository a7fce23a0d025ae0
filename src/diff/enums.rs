//! `[enum.NAME]` × `[enum.NAME]` → create, add values, drop. Values can only be
//! added (PostgreSQL's `ALTER TYPE … ADD VALUE`); a value removed or the order
//! changed is a `ReplaceEnum`, which the planner refuses with what to do.

use crate::schema::{Change, EnumType, Schema};

/// The enum changes that go before the table changes, and those after them.
pub fn diff_enums(current: &Schema, target: &Schema) -> (Vec<Change>, Vec<Change>) {
    let mut before = Vec::new();
    let mut after = Vec::new();
    for new in &target.enums {
        match current.enum_type(&new.name) {
            None => before.push(Change::CreateEnum(new.clone())),
            Some(old) if old.values == new.values => {}
            Some(old) => match added_values(old, new) {
                Some(added) => before.extend(added),
                None => before.push(Change::ReplaceEnum {
                    from: old.clone(),
                    to: new.clone(),
                }),
            },
        }
    }
    for old in &current.enums {
        if target.enum_type(&old.name).is_none() {
            after.push(Change::DropEnum(old.clone()));
        }
    }
    (before, after)
}

/// The values of `new` that `old` lacks, each placed before the old value that
/// follows it, when `old`'s values are all in `new` in the same order; `None`
/// when a value went or the order changed.
fn added_values(old: &EnumType, new: &EnumType) -> Option<Vec<Change>> {
    let kept: Vec<&String> = new
        .values
        .iter()
        .filter(|v| old.values.contains(v))
        .collect();
    if kept.len() != old.values.len() || kept.iter().zip(&old.values).any(|(a, b)| *a != b) {
        return None;
    }
    let mut changes = Vec::new();
    for (position, value) in new.values.iter().enumerate() {
        if old.values.contains(value) {
            continue;
        }
        let before = new.values[position + 1..]
            .iter()
            .find(|next| old.values.contains(next))
            .cloned();
        changes.push(Change::AddEnumValue {
            name: new.name.clone(),
            value: value.clone(),
            before,
        });
    }
    Some(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(values: &[&str]) -> Schema {
        Schema {
            enums: vec![EnumType {
                name: "rating".into(),
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
            ..Schema::default()
        }
    }

    #[test]
    fn values_are_added_in_place_and_removals_are_a_replacement() {
        let (before, after) = diff_enums(&schema(&["G", "R"]), &schema(&["G", "PG", "R", "NC-17"]));
        let lines: Vec<String> = before.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "add value PG to enum rating before R",
                "add value NC-17 to enum rating"
            ]
        );
        assert!(after.is_empty());
        let (before, _) = diff_enums(&schema(&["G", "R"]), &schema(&["R", "G"]));
        assert!(matches!(before[..], [Change::ReplaceEnum { .. }]));
        let (before, _) = diff_enums(&schema(&["G", "R"]), &schema(&["G"]));
        assert!(matches!(before[..], [Change::ReplaceEnum { .. }]));
        let (before, after) = diff_enums(&schema(&["G"]), &Schema::default());
        assert!(before.is_empty());
        assert_eq!(after[0].to_string(), "drop enum rating");
    }
}
