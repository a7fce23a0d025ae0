//! The schema model: what a database should contain, independent of any engine.

use std::fmt;

use super::Type;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// In declaration order; generated DDL follows it (dependencies permitting).
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    /// A hint from schema.toml: this column used to be called so. Never introspected.
    pub renamed_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    Integer(i64),
    Float(f64),
    Boolean(bool),
    Text(String),
    /// An SQL expression, written by a person (`{ sql = "CURRENT_TIMESTAMP" }`).
    Sql(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryKey {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub referenced_table: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: ForeignKeyAction,
    pub on_update: ForeignKeyAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ForeignKeyAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
/// introspection gives back exactly what was declared.
pub mod names {
    pub fn primary_key(table: &str) -> String {
        format!("{table}_pkey")
    }

    pub fn foreign_key(table: &str, columns: &[String]) -> String {
        format!("{table}_{}_fkey", columns.join("_"))
    }

    pub fn unique(table: &str, columns: &[String]) -> String {
        format!("{table}_{}_key", columns.join("_"))
    }

    pub fn index(table: &str, columns: &[String]) -> String {
        format!("ix_{table}_{}", columns.join("_"))
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
