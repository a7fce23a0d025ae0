//! SQL objects strata keeps as verbatim text: views, materialized views,
//! functions (and procedures), triggers and extensions. The model does not look
//! inside them; it knows their kind, name, text (per dialect), the table a
//! trigger is on and the objects they are declared to depend on, which is all the
//! diff needs to create them after the tables they use, replace them when their
//! text changes and drop them before what they depend on changes.
//!
//! Text comparison: whitespace is normalised ([`normalize`]). PostgreSQL prints
//! views, functions and triggers back in its own form (`pg_get_viewdef`,
//! `pg_get_functiondef`, `pg_get_triggerdef`), not as written, so strata records
//! the fingerprint of the text it created an object from in the object's comment
//! (`strata:<hash>`); an inspected object equals a declared one when either its
//! printed text or its fingerprint matches. SQLite keeps the text as written.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The kinds, in the order new objects are created (drops go the other way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Extension,
    Function,
    View,
    MaterializedView,
    Trigger,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::Extension,
        ObjectKind::Function,
        ObjectKind::View,
        ObjectKind::MaterializedView,
        ObjectKind::Trigger,
    ];

    /// The array-of-tables key in schema.toml (`[[view]]`).
    pub fn key(self) -> &'static str {
        match self {
            ObjectKind::Extension => "extension",
            ObjectKind::Function => "function",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized_view",
            ObjectKind::Trigger => "trigger",
        }
    }

    /// Whether new objects of this kind are created before the tables (they may
    /// be used by column types, defaults and triggers) or after them.
    pub fn before_tables(self) -> bool {
        matches!(self, ObjectKind::Extension | ObjectKind::Function)
    }

    /// Whether SQLite has objects of this kind (views and triggers); the others
    /// exist on PostgreSQL only, whatever schema.toml's `sql` says.
    pub fn in_sqlite(self) -> bool {
        matches!(self, ObjectKind::View | ObjectKind::Trigger)
    }

    /// What `text` holds for this kind: the query of a view, the whole CREATE
    /// statement of a function or trigger; an extension has no text.
    pub fn has_text(self) -> bool {
        self != ObjectKind::Extension
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::MaterializedView => "materialized view",
            kind => kind.key(),
        })
    }
}

/// One view, materialized view, function, trigger or extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SqlObject {
    pub kind: ObjectKind,
    pub name: String,
    /// The table a trigger is on.
    pub table: Option<String>,
    /// The text for every dialect (`sql = "…"` in schema.toml), unless
    /// `per_dialect` has that dialect's own.
    pub sql: Option<String>,
    /// `sql.postgres = "…"`, `sql.sqlite = "…"`; an inspected object has the text
    /// of the dialect it was read from here.
    pub per_dialect: BTreeMap<String, String>,
    /// Other objects (or tables) this one uses that its text does not name plainly.
    pub depends_on: Vec<String>,
    /// Inspected only: the fingerprint strata recorded when it created the object
    /// (PostgreSQL, see the module comment).
    pub fingerprint: Option<String>,
    /// Inspected only: how the database identifies it for DROP (a PostgreSQL
    /// function with its argument types, `f(integer)`), already quoted.
    pub identity: Option<String>,
}

impl SqlObject {
    pub fn new(kind: ObjectKind, name: impl Into<String>) -> Self {
        SqlObject {
            kind,
            name: name.into(),
            table: None,
            sql: None,
            per_dialect: BTreeMap::new(),
            depends_on: Vec::new(),
            fingerprint: None,
            identity: None,
        }
    }

    /// The text for `dialect`; `Some("")` for an extension on PostgreSQL (it has
    /// no text). SQLite has no extensions, functions or materialized views.
    pub fn text_for(&self, dialect: &str) -> Option<&str> {
        if dialect == "sqlite" && !self.kind.in_sqlite() {
            return None;
        }
        if !self.kind.has_text() {
            return (dialect == "postgres").then_some("");
        }
        self.per_dialect
            .get(dialect)
            .map(String::as_str)
            .or(self.sql.as_deref())
    }

    /// Whether the object exists in `dialect` (it has text for it).
    pub fn in_dialect(&self, dialect: &str) -> bool {
        self.text_for(dialect).is_some()
    }

    /// Whether an inspected object (`self`) is what `declared` declares: for each
    /// dialect the inspected one has text for, the declared text is the same up to
    /// whitespace, or is the one its fingerprint was taken of.
    pub fn same_as(&self, declared: &SqlObject) -> bool {
        if self.kind != declared.kind || self.table != declared.table {
            return false;
        }
        if !self.kind.has_text() {
            return true;
        }
        if self.per_dialect.is_empty() {
            // Both declared (two schema.toml files): the texts as written.
            let same = |a: Option<&String>, b: Option<&String>| {
                a.map(|t| normalize(t)) == b.map(|t| normalize(t))
            };
            return same(self.sql.as_ref(), declared.sql.as_ref())
                && declared.per_dialect.is_empty();
        }
        self.per_dialect.iter().all(|(dialect, text)| {
            let Some(wanted) = declared.text_for(dialect) else {
                return true;
            };
            normalize(text) == normalize(wanted)
                || self.fingerprint.as_deref() == Some(fingerprint(wanted).as_str())
        })
    }

    /// Whether this object's text (any dialect), table or `depends_on` names
    /// `name` (a table or another object), compared as SQL compares identifiers.
    pub fn uses(&self, name: &str) -> bool {
        if self.table.as_deref() == Some(name) || self.depends_on.iter().any(|d| d == name) {
            return true;
        }
        self.sql
            .iter()
            .chain(self.per_dialect.values())
            .any(|text| names_identifier(text, name))
    }
}

impl super::Schema {
    /// The schema as `dialect` has it: without the objects that have no text
    /// for it (an extension, or a `sql.postgres` view, on SQLite).
    ///
    /// A native type keeps only this dialect's spelling. On an engine without
    /// enum types (SQLite) an enum column is text with a CHECK that it holds
    /// one of the values, named `<table>_<column>_enum`.
    pub fn for_dialect(&self, dialect: &str) -> super::Schema {
        let mut schema = self.clone();
        schema.objects.retain(|object| object.in_dialect(dialect));
        if dialect == "sqlite" {
            schema = schema.without_numbering();
        }
        let has_enums =
            crate::driver::registry::engine(dialect).is_none_or(|engine| engine.has_enum_types());
        // Domains first: a domain over an enum leaves an enum column behind.
        if !crate::driver::registry::engine(dialect).is_none_or(|engine| engine.has_domains()) {
            schema.lower_domains();
        }
        for domain in &mut schema.domains {
            domain.base = domain.base.for_dialect(dialect);
        }
        let enums = std::mem::take(&mut schema.enums);
        for table in &mut schema.tables {
            let mut added = false;
            for column in &mut table.columns {
                column.ty = column.ty.for_dialect(dialect);
                let super::Type::Enum(name) = &column.ty else {
                    continue;
                };
                if has_enums {
                    continue;
                }
                let values = enums
                    .iter()
                    .find(|e| &e.name == name)
                    .map(|e| e.values.clone())
                    .unwrap_or_default();
                table.checks.push(super::Check {
                    name: enum_check_name(&table.name, &column.name),
                    expression: enum_check(&column.name, &values),
                });
                column.ty = super::Type::Text;
                added = true;
            }
            if added {
                table.checks.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        if has_enums {
            schema.enums = enums;
        }
        schema
    }

    /// The objects `dialect` has that `other` has not, or whose text for
    /// `dialect` is its own (`sql.postgres`): what `other`'s migrations cannot
    /// stand in for when `dialect`'s cannot be replayed. `kind name` each.
    pub fn objects_only_in(&self, dialect: &str, other: &str) -> Vec<String> {
        self.objects
            .iter()
            .filter(|o| {
                o.in_dialect(dialect)
                    && (!o.in_dialect(other) || o.per_dialect.contains_key(dialect))
            })
            .map(|o| format!("{} {}", o.kind, crate::text::printable(&o.name)))
            .collect()
    }
}

/// The name of the CHECK that stands for an enum type where there is none.
pub fn enum_check_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_enum")
}

/// `"rating" IN ('G', 'PG')`.
pub fn enum_check(column: &str, values: &[String]) -> String {
    let listed: Vec<String> = values
        .iter()
        .map(|value| format!("'{}'", value.replace('\'', "''")))
        .collect();
    format!(
        "\"{}\" IN ({})",
        column.replace('"', "\"\""),
        listed.join(", ")
    )
}

/// Whitespace collapsed to single spaces, trimmed, a final `;` dropped: the form
/// texts are compared (and fingerprinted) in.
pub fn normalize(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches(';').trim_end().to_string()
}

/// `strata:` and the first 16 hex digits of the SHA-256 of the normalised text.
pub fn fingerprint(text: &str) -> String {
    let digest = Sha256::digest(normalize(text).as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("strata:{hex}")
}

/// Whether `text` has `name` as a whole identifier (bare, letter case ignored, or
/// double-quoted exactly). A conservative test: a name inside a string literal
/// counts too, which only makes strata re-create an object it need not.
fn names_identifier(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    if text.contains(&format!("\"{}\"", name.replace('"', "\"\""))) {
        return true;
    }
    let lower = text.to_lowercase();
    let wanted = name.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    lower.match_indices(&wanted).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + wanted.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_a_final_semicolon_do_not_count() {
        assert_eq!(normalize("  SELECT 1\n  FROM t ;\n"), "SELECT 1 FROM t");
        assert_eq!(fingerprint("SELECT 1"), fingerprint("SELECT\n1;"));
    }

    #[test]
    fn uses_finds_whole_identifiers_only() {
        let mut view = SqlObject::new(ObjectKind::View, "v");
        view.sql = Some("SELECT h.name FROM hero h JOIN \"Team\" t ON true".into());
        assert!(view.uses("hero"));
        assert!(view.uses("HERO"));
        assert!(view.uses("Team"));
        assert!(!view.uses("her"));
        assert!(!view.uses("heroes"));
    }
}
