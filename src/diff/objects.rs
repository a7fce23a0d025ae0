//! The changes of views, materialized views, functions, triggers and extensions,
//! placed around the table changes:
//!
//! 1. first, the views, materialized views and triggers that go away or must be
//!    re-created (their text changed, a table they use changes, an object they
//!    use is re-created), and functions whose text changed: nothing then blocks
//!    the table changes (PostgreSQL refuses to drop or retype a column a view
//!    uses; a SQLite table rebuild drops the table's triggers);
//! 2. new extensions and functions, before the tables (column types, defaults
//!    and triggers use them);
//! 3. the table changes;
//! 4. new and re-created views, materialized views and triggers, each after the
//!    objects it uses;
//! 5. last, functions and extensions that go away (after the tables using them).
//!
//! Only objects the model holds are compared, so an object strata does not
//! manage (a rule, an aggregate) is never dropped.

use std::collections::HashSet;

use crate::schema::{Change, ObjectKind, Schema, SqlObject};

pub(super) struct ObjectChanges {
    pub early: Vec<Change>,
    pub before_tables: Vec<Change>,
    pub after_tables: Vec<Change>,
    pub late: Vec<Change>,
}

type Key<'a> = (ObjectKind, Option<&'a str>, &'a str);

fn key(object: &SqlObject) -> Key<'_> {
    (object.kind, object.table.as_deref(), object.name.as_str())
}

/// Views, materialized views and triggers depend on tables and on each other in
/// ways the database enforces (or, for SQLite triggers, loses with the table).
fn follows_tables(kind: ObjectKind) -> bool {
    matches!(
        kind,
        ObjectKind::View | ObjectKind::MaterializedView | ObjectKind::Trigger
    )
}

pub(super) fn diff_objects(
    current: &Schema,
    target: &Schema,
    table_changes: &[Change],
) -> ObjectChanges {
    // Tables whose change may break (or, on SQLite, drop) what uses them.
    let mut touched: HashSet<&str> = HashSet::new();
    for change in table_changes {
        match change {
            Change::CreateTable(_) | Change::CreateIndex { .. } | Change::DropIndex { .. } => {}
            Change::RenameTable { from, .. } => {
                touched.insert(from);
            }
            other => {
                touched.insert(other.table());
            }
        }
    }

    let find_target = |object: &SqlObject| target.objects.iter().find(|t| key(t) == key(object));
    let mut removed: HashSet<Key<'_>> = HashSet::new();
    let mut rebuilt: HashSet<Key<'_>> = HashSet::new();
    for object in &current.objects {
        match find_target(object) {
            None => {
                removed.insert(key(object));
            }
            Some(declared) if !object.same_as(declared) => {
                rebuilt.insert(key(object));
            }
            Some(_) => {
                if follows_tables(object.kind) && touched.iter().any(|table| object.uses(table)) {
                    rebuilt.insert(key(object));
                }
            }
        }
    }
    // What uses a dropped or re-created object is re-created too.
    loop {
        let gone: Vec<&SqlObject> = current
            .objects
            .iter()
            .filter(|o| removed.contains(&key(o)) || rebuilt.contains(&key(o)))
            .collect();
        let more: Vec<Key<'_>> = current
            .objects
            .iter()
            .filter(|o| follows_tables(o.kind))
            .filter(|o| !removed.contains(&key(o)) && !rebuilt.contains(&key(o)))
            .filter(|o| gone.iter().any(|g| depends(o, g)))
            .map(key)
            .collect();
        if more.is_empty() {
            break;
        }
        rebuilt.extend(more);
    }

    // Dropped in the reverse of the order they would be created in: what uses
    // an object goes before it.
    let mut early = Vec::new();
    let mut late = Vec::new();
    for kind in ObjectKind::ALL {
        for object in current.objects.iter().filter(|o| o.kind == kind) {
            let k = key(object);
            if rebuilt.contains(&k) || (removed.contains(&k) && follows_tables(kind)) {
                early.push(object);
            } else if removed.contains(&k) {
                late.push(object);
            }
        }
    }
    let drops = |objects: Vec<&SqlObject>| -> Vec<Change> {
        let mut ordered = dependency_order(objects);
        ordered.reverse();
        ordered
            .into_iter()
            .map(|o| Change::DropObject(o.clone()))
            .collect()
    };
    let early = drops(early);
    let late = drops(late);

    let current_keys: HashSet<Key<'_>> = current.objects.iter().map(key).collect();
    let wanted = |object: &&SqlObject| {
        let k = key(object);
        !current_keys.contains(&k) || rebuilt.contains(&k)
    };
    let mut before_tables = Vec::new();
    let mut after: Vec<&SqlObject> = Vec::new();
    for kind in ObjectKind::ALL {
        for object in target
            .objects
            .iter()
            .filter(|o| o.kind == kind)
            .filter(wanted)
        {
            if kind.before_tables() {
                before_tables.push(object);
            } else {
                after.push(object);
            }
        }
    }
    ObjectChanges {
        early,
        before_tables: dependency_order(before_tables)
            .into_iter()
            .map(|o| Change::CreateObject(o.clone()))
            .collect(),
        after_tables: dependency_order(after)
            .into_iter()
            .map(|o| Change::CreateObject(o.clone()))
            .collect(),
        late,
    }
}

/// Whether `object` uses `other`: names it in `depends_on`, or in its text when
/// `other` is of a kind created no later (a function's text naming a trigger of
/// the same name is not a use of it).
fn depends(object: &SqlObject, other: &SqlObject) -> bool {
    key(object) != key(other)
        && (object.depends_on.contains(&other.name)
            || (other.kind <= object.kind && object.uses(&other.name)))
}

/// `objects` in their order, except that each comes after the others in the list
/// it uses (names in its text or `depends_on`); a cycle keeps declaration order.
fn dependency_order(objects: Vec<&SqlObject>) -> Vec<&SqlObject> {
    let mut remaining = objects;
    let mut ordered: Vec<&SqlObject> = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let ready = remaining
            .iter()
            .position(|object| !remaining.iter().any(|other| depends(object, other)));
        ordered.push(remaining.remove(ready.unwrap_or(0)));
    }
    ordered
}

#[cfg(test)]
mod tests {
    use crate::diff::diff;
    use crate::schema::{parse_schema_text, Change, Schema};

    fn schema(text: &str) -> Schema {
        parse_schema_text(std::path::Path::new("schema.toml"), text)
            .unwrap_or_else(|problems| panic!("{problems}"))
            .schema
    }

    fn described(changes: &[Change]) -> Vec<String> {
        changes.iter().map(ToString::to_string).collect()
    }

    const HERO: &str = r#"
[table.hero.columns]
id = { type = "integer", primary_key = true }
name = "text"
power = { type = "text", nullable = true }
"#;

    const OBJECTS: &str = r#"
[[trigger]]
name = "hero_touch"
table = "hero"
sql = "CREATE TRIGGER hero_touch BEFORE UPDATE ON hero FOR EACH ROW EXECUTE FUNCTION touch()"

[[view]]
name = "strong_heroes"
sql = "SELECT name FROM hero_powers WHERE power IS NOT NULL"

[[view]]
name = "hero_powers"
sql = "SELECT name, power FROM hero"

[[function]]
name = "touch"
sql = "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$"

[[extension]]
name = "citext"
"#;

    #[test]
    fn objects_are_created_by_kind_around_the_tables_and_after_what_they_use() {
        let changes = diff(&Schema::default(), &schema(&format!("{HERO}{OBJECTS}")));
        assert_eq!(
            described(&changes),
            [
                "create extension citext",
                "create function touch",
                "create table hero",
                "create view hero_powers",
                "create view strong_heroes",
                "create trigger hero_touch on hero",
            ]
        );
    }

    #[test]
    fn what_uses_a_changed_table_is_dropped_before_and_created_after() {
        let before = schema(&format!("{HERO}{OBJECTS}"));
        let after = schema(&format!(
            "{}{OBJECTS}",
            HERO.replace(
                "power = { type = \"text\", nullable = true }",
                "power = { type = \"varchar(20)\", nullable = true }"
            )
        ));
        assert_eq!(
            described(&diff(&before, &after)),
            [
                "drop trigger hero_touch on hero",
                "drop view strong_heroes",
                "drop view hero_powers",
                "alter column hero.power from (power text null) to (power varchar(20) null)",
                "create view hero_powers",
                "create view strong_heroes",
                "create trigger hero_touch on hero",
            ]
        );
        // Unchanged, nothing happens to them.
        assert!(diff(&after, &after).is_empty());
    }

    #[test]
    fn a_changed_view_recreates_the_views_on_it_and_removed_functions_go_last() {
        let before = schema(&format!("{HERO}{OBJECTS}"));
        let objects = OBJECTS
            .replace("SELECT name, power FROM hero", "SELECT name, power, id FROM hero")
            .replace("[[function]]\nname = \"touch\"", "[[function]]\nname = \"touch2\"")
            .replace(
                "[[trigger]]\nname = \"hero_touch\"\ntable = \"hero\"\nsql = \"CREATE TRIGGER hero_touch BEFORE UPDATE ON hero FOR EACH ROW EXECUTE FUNCTION touch()\"\n",
                "",
            );
        let after = schema(&format!("{HERO}{objects}"));
        assert_eq!(
            described(&diff(&before, &after)),
            [
                "drop trigger hero_touch on hero",
                "drop view strong_heroes",
                "drop view hero_powers",
                "create function touch2",
                "create view hero_powers",
                "create view strong_heroes",
                "drop function touch",
            ]
        );
    }

    #[test]
    fn a_changed_function_recreates_the_trigger_that_calls_it() {
        let before = schema(&format!("{HERO}{OBJECTS}"));
        let after = schema(&format!(
            "{HERO}{}",
            OBJECTS.replace(
                "BEGIN RETURN NEW; END",
                "BEGIN NEW.name := 'x'; RETURN NEW; END"
            )
        ));
        assert_eq!(
            described(&diff(&before, &after)),
            [
                "drop trigger hero_touch on hero",
                "drop function touch",
                "create function touch",
                "create trigger hero_touch on hero",
            ]
        );
    }
}
