//! The schema model: what a database should contain, independent of any engine.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Type;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    /// In declaration order; generated DDL follows it (dependencies permitting).
    pub tables: Vec<Table>,
    /// Views, functions, triggers, extensions (`[[view]]`, …), in declaration
    /// order within each kind. Required when read back (no serde default), so a
    /// replay cached before objects were modelled is a miss, not an empty list.
    pub objects: Vec<super::SqlObject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub primary_key: Option<PrimaryKey>,
    pub foreign_keys: Vec<ForeignKey>,
    pub uniques: Vec<UniqueConstraint>,
    pub indexes: Vec<Index>,
    /// A hint from schema.toml: this table used to be called so. Never introspected.
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    /// A hint from schema.toml: this column used to be called so. Never introspected.
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DefaultValue {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Text(String),
    /// An SQL expression, written by a person (`{ sql = "CURRENT_TIMESTAMP" }`).
    Sql(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: ForeignKeyAction,
    pub on_update: ForeignKeyAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ForeignKeyAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|table| table.name == name)
    }
}

impl Table {
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            foreign_keys: Vec::new(),
            uniques: Vec::new(),
            indexes: Vec::new(),
            renamed_from: None,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// True when `columns` (in any order) are exactly the primary key, a unique
    /// constraint or a unique index: the only things a foreign key may reference.
    pub fn has_unique_key(&self, columns: &[String]) -> bool {
        let same = |other: &[String]| {
            let mut a = other.to_vec();
            let mut b = columns.to_vec();
            a.sort();
            b.sort();
            a == b
        };
        self.primary_key
            .as_ref()
            .is_some_and(|pk| same(&pk.columns))
            || self.uniques.iter().any(|unique| same(&unique.columns))
            || self
                .indexes
                .iter()
                .any(|index| index.unique && same(&index.columns))
    }

    /// Tables this table's foreign keys point at, itself excluded.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.foreign_keys
            .iter()
            .map(|fk| fk.referenced_table.as_str())
            .filter(move |name| *name != self.name)
    }
}

/// Deterministic names, the way PostgreSQL and SQLAlchemy spell them, so that
/// introspection gives back exactly what was declared. Every name fits PostgreSQL's
/// 63 bytes and is computed the same way for every dialect (SQLite never truncates,
/// but then the dialects would disagree on what exists), never cut inside a
/// UTF-8 character.
///
/// - Constraints (`<table>_pkey`, `<table>_<columns>_fkey`, `<table>_<columns>_key`)
///   use PostgreSQL's own rule (`makeObjectName` in src/backend/commands/indexcmds.c):
///   the suffix is kept, and the longer of table and columns is shortened first.
///   That is the name PostgreSQL gives an unnamed constraint, so a database built by
///   SQLAlchemy's `create_all` has the same names.
/// - Indexes (`ix_<table>_<columns>`) use SQLAlchemy's rule for naming-convention
///   names: a name over the limit keeps its first 55 bytes, then `_` and the last
///   four hex digits of the MD5 of the whole name.
///
/// Shortened names of different objects can meet; the schema parser refuses that.
pub mod names {
    use md5::{Digest, Md5};

    use crate::text::MAX_IDENTIFIER_BYTES;

    pub fn primary_key(table: &str) -> String {
        object_name(table, None, "pkey")
    }

    pub fn foreign_key(table: &str, columns: &[String]) -> String {
        object_name(table, Some(&columns.join("_")), "fkey")
    }

    pub fn unique(table: &str, columns: &[String]) -> String {
        object_name(table, Some(&columns.join("_")), "key")
    }

    /// The sequence behind a SERIAL column, as PostgreSQL names it
    /// (`<table>_<column>_seq`, cut like a constraint name).
    pub fn sequence(table: &str, column: &str) -> String {
        object_name(table, Some(column), "seq")
    }

    /// The temporary `CHECK (column IS NOT NULL)` that lets PostgreSQL set NOT
    /// NULL on a busy table without a scan under its strongest lock.
    pub fn not_null_check(table: &str, column: &str) -> String {
        object_name(table, Some(column), "not_null")
    }

    pub fn index(table: &str, columns: &[String]) -> String {
        let name = format!("ix_{table}_{}", columns.join("_"));
        if name.len() <= MAX_IDENTIFIER_BYTES {
            return name;
        }
        let digest = Md5::digest(name.as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        format!(
            "{}_{}",
            clip(&name, MAX_IDENTIFIER_BYTES - 8),
            &hex[hex.len() - 4..]
        )
    }

    /// PostgreSQL's `makeObjectName(name1, name2, label)`: `name1_name2_label`,
    /// shortening the longer of the two names one byte at a time until it fits, then
    /// backing each off to a character boundary (`pg_mbcliplen`).
    fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
        let overhead = label.len() + 1 + usize::from(name2.is_some());
        let available = MAX_IDENTIFIER_BYTES - overhead;
        let mut length1 = name1.len();
        let mut length2 = name2.map_or(0, str::len);
        while length1 + length2 > available {
            if length1 > length2 {
                length1 -= 1;
            } else {
                length2 -= 1;
            }
        }
        let mut name = clip(name1, length1).to_string();
        if let Some(name2) = name2 {
            name.push('_');
            name.push_str(clip(name2, length2));
        }
        name.push('_');
        name.push_str(label);
        name
    }

    /// The longest prefix of `text` of at most `bytes` bytes that ends on a
    /// character boundary.
    fn clip(text: &str, bytes: usize) -> &str {
        &text[..text.floor_char_boundary(bytes.min(text.len()))]
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn strings(items: &[&str]) -> Vec<String> {
            items.iter().map(|item| item.to_string()).collect()
        }

        #[test]
        fn short_names_are_the_usual_ones() {
            assert_eq!(primary_key("hero"), "hero_pkey");
            assert_eq!(
                foreign_key("hero", &strings(&["team_id"])),
                "hero_team_id_fkey"
            );
            assert_eq!(unique("t", &strings(&["a", "b"])), "t_a_b_key");
            assert_eq!(index("hero", &strings(&["name"])), "ix_hero_name");
            assert_eq!(sequence("hero", "id"), "hero_id_seq");
        }

        #[test]
        fn constraint_names_are_cut_the_way_postgresql_cuts_them() {
            // PostgreSQL 15 names the constraints of CREATE TABLE a…a (63 bytes)
            // (id int PRIMARY KEY, b…b (40 bytes) int UNIQUE REFERENCES a…a (id))
            // exactly so.
            let table = "a".repeat(63);
            let column = "b".repeat(40);
            assert_eq!(primary_key(&table), format!("{}_pkey", "a".repeat(58)));
            assert_eq!(
                unique(&table, std::slice::from_ref(&column)),
                format!("{}_{}_key", "a".repeat(29), "b".repeat(29))
            );
            assert_eq!(
                foreign_key(&table, std::slice::from_ref(&column)),
                format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28))
            );
        }

        #[test]
        fn index_names_are_cut_the_way_sqlalchemy_cuts_them() {
            // SQLAlchemy's `_truncate_and_render_maxlen_name` with PostgreSQL's 63:
            // name[:55] + "_" + md5(name).hexdigest()[-4:], here computed by Python's
            // hashlib for 'ix_' + 'a' * 63 + '_id'.
            let table = "a".repeat(63);
            let name = index(&table, &strings(&["id"]));
            assert_eq!(name.len(), 60);
            assert_eq!(name, format!("ix_{}_b248", "a".repeat(52)));
        }

        #[test]
        fn names_are_never_cut_inside_a_character() {
            let table = "é".repeat(31); // 62 bytes
            for name in [
                primary_key(&table),
                unique(&table, &strings(&["ü".repeat(20).as_str()])),
                foreign_key(&table, &strings(&["x"])),
                index(&table, &strings(&["名前"])),
            ] {
                assert!(name.len() <= 63, "{name} is {} bytes", name.len());
            }
            // PostgreSQL 15 named the constraints of this table exactly so.
            assert_eq!(primary_key(&table), format!("{}_pkey", "é".repeat(29)));
            assert_eq!(
                foreign_key(&table, &strings(&["x"])),
                format!("{}_x_fkey", "é".repeat(28))
            );
            assert_eq!(
                unique(&table, &strings(&["ü".repeat(20).as_str()])),
                format!("{}_{}_key", "é".repeat(14), "ü".repeat(14))
            );
        }
    }
}

impl ForeignKeyAction {
    pub const NAMES: &'static [&'static str] = &[
        "no action",
        "restrict",
        "cascade",
        "set null",
        "set default",
    ];

    pub fn parse(text: &str) -> Option<Self> {
        let normalized = text.trim().to_lowercase().replace(['_', '-'], " ");
        match normalized.as_str() {
            "no action" => Some(ForeignKeyAction::NoAction),
            "restrict" => Some(ForeignKeyAction::Restrict),
            "cascade" => Some(ForeignKeyAction::Cascade),
            "set null" => Some(ForeignKeyAction::SetNull),
            "set default" => Some(ForeignKeyAction::SetDefault),
            _ => None,
        }
    }

    /// The SQL spelling, shared by every dialect strata supports.
    pub fn sql(self) -> &'static str {
        match self {
            ForeignKeyAction::NoAction => "NO ACTION",
            ForeignKeyAction::Restrict => "RESTRICT",
            ForeignKeyAction::Cascade => "CASCADE",
            ForeignKeyAction::SetNull => "SET NULL",
            ForeignKeyAction::SetDefault => "SET DEFAULT",
        }
    }
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Integer(value) => write!(f, "{value}"),
            DefaultValue::Float(value) => write!(f, "{value:?}"),
            DefaultValue::Boolean(value) => write!(f, "{value}"),
            DefaultValue::Text(value) => write!(f, "{value:?}"),
            DefaultValue::Sql(expression) => write!(f, "({expression})"),
        }
    }
}
