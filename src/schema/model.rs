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
    /// `[enum.NAME]` types, sorted by name (PostgreSQL; SQLite holds an enum
    /// column as text with a CHECK, see [`Schema::for_dialect`]).
    #[serde(default)]
    pub enums: Vec<super::EnumType>,
    /// `[domain.NAME]` types, sorted by name (PostgreSQL; SQLite holds a
    /// domain column as its base type with the domain's checks, see
    /// [`Schema::for_dialect`]).
    #[serde(default)]
    pub domains: Vec<super::DomainType>,
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
    /// CHECK constraints, sorted by name (the order PostgreSQL and SQLite report
    /// them in is not the declaration order).
    #[serde(default)]
    pub checks: Vec<Check>,
    /// `COMMENT ON TABLE` (PostgreSQL; SQLite has no comments).
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub ty: Type,
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    /// A hint from schema.toml: this column used to be called so. Never introspected.
    pub renamed_from: Option<String>,
    /// `COMMENT ON COLUMN` (PostgreSQL; SQLite has no comments).
    #[serde(default)]
    pub comment: Option<String>,
    /// How an integer column numbers the rows an insert gives no value
    /// (identity, SERIAL, or nothing). Required when read back (no serde
    /// default), so a replay cached before it was modelled is a miss.
    pub numbering: Numbering,
    /// Start and increment of the column's sequence (SERIAL or identity).
    pub sequence: SequenceOptions,
    /// A generated (computed) column's expression: `GENERATED ALWAYS AS (…)`.
    pub generated: Option<Generated>,
}

/// How a column is numbered. `Auto` is what strata always did: the table's
/// single integer primary key is SERIAL on PostgreSQL (INTEGER PRIMARY KEY, the
/// rowid alias, on SQLite), any other column is not numbered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Numbering {
    #[default]
    Auto,
    /// `autoincrement = false`: a single integer primary key with no sequence
    /// (PostgreSQL; SQLite's rowid alias numbers it all the same).
    Off,
    /// `identity = "always" | "by_default"`: `GENERATED … AS IDENTITY`.
    Identity(IdentityKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityKind {
    Always,
    ByDefault,
}

impl IdentityKind {
    /// `ALWAYS` or `BY DEFAULT`, as `GENERATED … AS IDENTITY` spells it.
    pub fn sql(self) -> &'static str {
        match self {
            IdentityKind::Always => "ALWAYS",
            IdentityKind::ByDefault => "BY DEFAULT",
        }
    }

    /// `always` or `by_default`, as schema.toml spells it.
    pub fn key(self) -> &'static str {
        match self {
            IdentityKind::Always => "always",
            IdentityKind::ByDefault => "by_default",
        }
    }
}

/// The numbering of a sequence (a SERIAL column's or an identity's): `None`
/// is PostgreSQL's default (start 1 counting up, -1 counting down; step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub start: Option<i64>,
    pub increment: Option<i64>,
}

impl SequenceOptions {
    /// The options as a sequence reports them, with the defaults left out.
    pub fn from_catalog(start: i64, increment: i64) -> Self {
        let default_start = if increment > 0 { 1 } else { -1 };
        SequenceOptions {
            start: (start != default_start).then_some(start),
            increment: (increment != 1).then_some(increment),
        }
    }

    pub fn is_default(&self) -> bool {
        self.start.is_none() && self.increment.is_none()
    }
}

/// `GENERATED ALWAYS AS (sql) STORED | VIRTUAL`. Expressions compare as index
/// expressions do: PostgreSQL prints them back with its own parentheses and casts.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct Generated {
    pub sql: String,
    /// STORED (computed on write) rather than VIRTUAL (on read; SQLite only).
    pub stored: bool,
}

impl PartialEq for Generated {
    fn eq(&self, other: &Self) -> bool {
        self.stored == other.stored && crate::sql_text::same_expression(&self.sql, &other.sql)
    }
}

impl Column {
    /// A NOT NULL column of type `ty` with nothing else declared.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            renamed_from: None,
            comment: None,
            numbering: Numbering::Auto,
            sequence: SequenceOptions::default(),
            generated: None,
        }
    }
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
    /// `DEFERRABLE`: may be checked at COMMIT instead of after each statement.
    /// Required when read back (no serde default), so a replay cached before
    /// it was modelled is a miss rather than a non-deferrable key.
    pub deferrable: bool,
    /// `INITIALLY DEFERRED` (implies `deferrable`): checked at COMMIT unless a
    /// transaction says `SET CONSTRAINTS … IMMEDIATE`.
    pub initially_deferred: bool,
}

impl ForeignKey {
    /// `DEFERRABLE [INITIALLY DEFERRED]`, or "" for a key checked at once.
    pub fn deferral_sql(&self) -> &'static str {
        match (self.deferrable, self.initially_deferred) {
            (_, true) => "DEFERRABLE INITIALLY DEFERRED",
            (true, false) => "DEFERRABLE",
            (false, false) => "",
        }
    }
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

/// A CHECK constraint: its name and its boolean SQL expression, as written.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expression: String,
}

/// Two checks are the same when their names are and their expressions are
/// alike once spelling is set aside (see [`check_expression_key`]): PostgreSQL
/// keeps no source text, and prints `price > 0` back as `(price > (0)::numeric)`.
impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && check_expression_key(&self.expression) == check_expression_key(&other.expression)
    }
}

/// A CHECK expression without what PostgreSQL adds or respells when it prints
/// one back (`pg_get_constraintdef`): whitespace, letter case outside quotes,
/// parentheses and brackets, `::type` casts, `= ANY (ARRAY[…])` for `IN (…)`,
/// `~~` for `LIKE`, `<>` for `!=`. Two expressions with the same key are taken
/// for the same check; one differing only in its parentheses is missed.
pub fn check_expression_key(expression: &str) -> String {
    let mut key = String::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                key.push(c);
                while let Some(inner) = chars.next() {
                    key.push(inner);
                    if inner == c {
                        if chars.peek() == Some(&c) {
                            key.push(chars.next().unwrap_or(c));
                            continue;
                        }
                        break;
                    }
                }
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                // The type: a (possibly quoted) name, words like `character
                // varying`, an optional `(n)` and `[]`.
                while chars.peek().is_some_and(|c| *c == ' ') {
                    chars.next();
                }
                if chars.peek() == Some(&'"') {
                    chars.next();
                    for inner in chars.by_ref() {
                        if inner == '"' {
                            break;
                        }
                    }
                }
                loop {
                    while chars
                        .peek()
                        .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                    {
                        chars.next();
                    }
                    let rest: String = chars.clone().take(12).collect();
                    let lower = rest.to_lowercase();
                    if lower.starts_with(" varying")
                        || lower.starts_with(" precision")
                        || lower.starts_with(" with")
                        || lower.starts_with(" without")
                        || lower.starts_with(" time zone")
                        || lower.starts_with(" zone")
                    {
                        chars.next();
                        continue;
                    }
                    if chars.peek() == Some(&'(') {
                        for inner in chars.by_ref() {
                            if inner == ')' {
                                break;
                            }
                        }
                        continue;
                    }
                    if rest.starts_with("[]") {
                        chars.next();
                        chars.next();
                        continue;
                    }
                    break;
                }
            }
            c if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']') => {}
            c => key.extend(c.to_lowercase()),
        }
    }
    key.replace("=anyarray", "in")
        .replace("notlike", "!~~")
        .replace("like", "~~")
        .replace("!=", "<>")
}

#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// The key, in order: columns and expressions, each with its sort order and
    /// operator class.
    pub keys: Vec<IndexKey>,
    pub unique: bool,
    /// The access method (`gin`, `gist`, `hash`, `brin`); `None` is btree, the
    /// default of every engine.
    pub method: Option<String>,
    /// INCLUDE columns (PostgreSQL): stored in the index, not part of its key.
    pub include: Vec<String>,
    /// A partial index's predicate (`WHERE …`), as written or as the server prints it.
    pub predicate: Option<String>,
    /// NULLS NOT DISTINCT (PostgreSQL 15): a unique index that takes NULLs as equal.
    pub nulls_not_distinct: bool,
}

#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct IndexKey {
    pub target: IndexTarget,
    /// A non-default operator class (`varchar_pattern_ops`).
    pub opclass: Option<String>,
    pub descending: bool,
    /// Where NULLs sort. Always resolved: PostgreSQL's default is last when
    /// ascending, first when descending, so `nulls_first == descending` is the
    /// default order and nothing is written for it.
    pub nulls_first: bool,
}

#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub enum IndexTarget {
    Column(String),
    /// SQL text, without the parentheses CREATE INDEX puts around it.
    Expression(String),
}

impl Index {
    /// A btree index on plain ascending columns: what `index = true` makes.
    pub fn on_columns(name: impl Into<String>, columns: Vec<String>, unique: bool) -> Self {
        Index {
            name: name.into(),
            keys: columns.into_iter().map(IndexKey::column).collect(),
            unique,
            method: None,
            include: Vec::new(),
            predicate: None,
            nulls_not_distinct: false,
        }
    }

    /// The columns of the key that are plain columns, in key order.
    pub fn columns(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter_map(|key| match &key.target {
                IndexTarget::Column(name) => Some(name.clone()),
                IndexTarget::Expression(_) => None,
            })
            .collect()
    }

    /// Every column the index names directly (key and INCLUDE); columns used
    /// only inside expressions or the predicate are not known here.
    pub fn named_columns(&self) -> Vec<String> {
        let mut columns = self.columns();
        columns.extend(self.include.iter().cloned());
        columns
    }

    /// True when the index uses `column`: in its key, INCLUDE, an expression or
    /// the predicate.
    pub fn uses_column(&self, column: &str) -> bool {
        self.named_columns().iter().any(|name| name == column)
            || self.keys.iter().any(|key| match &key.target {
                IndexTarget::Expression(sql) => crate::sql_text::mentions(sql, column),
                IndexTarget::Column(_) => false,
            })
            || self
                .predicate
                .as_deref()
                .is_some_and(|sql| crate::sql_text::mentions(sql, column))
    }

    /// True for a btree index on plain ascending columns with nothing else: the
    /// kind `index = true` declares, and the kind a foreign key may reference
    /// when unique.
    pub fn is_plain(&self) -> bool {
        self.method.is_none()
            && self.include.is_empty()
            && self.predicate.is_none()
            && !self.nulls_not_distinct
            && self.keys.iter().all(IndexKey::is_plain)
    }

    /// Features SQLite has no syntax for, named for messages.
    pub fn postgres_only_features(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if self.method.is_some() {
            features.push("method");
        }
        if self.keys.iter().any(|key| key.opclass.is_some()) {
            features.push("opclass");
        }
        if !self.include.is_empty() {
            features.push("include");
        }
        if self
            .keys
            .iter()
            .any(|key| key.nulls_first != key.descending)
        {
            features.push("nulls");
        }
        if self.nulls_not_distinct {
            features.push("nulls_not_distinct");
        }
        features
    }
}

impl IndexKey {
    pub fn column(name: impl Into<String>) -> Self {
        IndexKey {
            target: IndexTarget::Column(name.into()),
            opclass: None,
            descending: false,
            nulls_first: false,
        }
    }

    pub fn is_plain(&self) -> bool {
        matches!(self.target, IndexTarget::Column(_))
            && self.opclass.is_none()
            && !self.descending
            && !self.nulls_first
    }
}

/// Expressions compare by [`crate::sql_text::same_expression`]: PostgreSQL
/// prints them back with parentheses, casts and its own spacing, so what
/// schema.toml says and what the server returns are the same index when they
/// differ only so. Everything else compares exactly.
impl PartialEq for Index {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.keys == other.keys
            && self.unique == other.unique
            && self.method == other.method
            && self.include == other.include
            && match (&self.predicate, &other.predicate) {
                (Some(a), Some(b)) => crate::sql_text::same_expression(a, b),
                (a, b) => a == b,
            }
            && self.nulls_not_distinct == other.nulls_not_distinct
    }
}

impl PartialEq for IndexKey {
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
            && self.opclass == other.opclass
            && self.descending == other.descending
            && self.nulls_first == other.nulls_first
    }
}

impl PartialEq for IndexTarget {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (IndexTarget::Column(a), IndexTarget::Column(b)) => a == b,
            (IndexTarget::Expression(a), IndexTarget::Expression(b)) => {
                crate::sql_text::same_expression(a, b)
            }
            _ => false,
        }
    }
}

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|table| table.name == name)
    }

    /// This schema with a column's native type replaced by the portable type
    /// `target` declares for the same column when `same(dialect, spelling,
    /// portable)` says the database holds the one as the other: a hand-written
    /// `name TEXT` for a declared `name = "text"` is no type change.
    pub fn with_declared_types(
        &self,
        target: &Schema,
        same: impl Fn(&str, &str, &super::Type) -> bool,
    ) -> Schema {
        let mut schema = self.clone();
        for table in &mut schema.tables {
            let Some(declared) = target.table(&table.name) else {
                continue;
            };
            for column in &mut table.columns {
                let (super::Type::Native(spellings), Some(wanted)) =
                    (&column.ty, declared.column(&column.name))
                else {
                    continue;
                };
                if matches!(
                    wanted.ty,
                    super::Type::Native(_) | super::Type::Enum(_) | super::Type::Custom(_)
                ) {
                    continue;
                }
                if spellings
                    .iter()
                    .all(|(dialect, spelling)| same(dialect, spelling, &wanted.ty))
                {
                    column.ty = wanted.ty.clone();
                }
            }
        }
        schema
    }

    pub fn domain(&self, name: &str) -> Option<&super::DomainType> {
        self.domains.iter().find(|d| d.name == name)
    }

    pub fn enum_type(&self, name: &str) -> Option<&super::EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The comments of `other`'s tables and columns, on the same ones here.
    pub fn copy_comments_from(&mut self, other: &Schema) {
        for table in &mut self.tables {
            let Some(source) = other.table(&table.name) else {
                continue;
            };
            table.comment = source.comment.clone();
            for column in &mut table.columns {
                column.comment = source.column(&column.name).and_then(|c| c.comment.clone());
            }
        }
    }

    /// The numbering (identity, sequence options, `autoincrement`) of `other`'s
    /// columns, on the same ones here.
    pub fn copy_numbering_from(&mut self, other: &Schema) {
        for table in &mut self.tables {
            let Some(source) = other.table(&table.name) else {
                continue;
            };
            for column in &mut table.columns {
                if let Some(from) = source.column(&column.name) {
                    column.numbering = from.numbering.clone();
                    column.sequence = from.sequence;
                }
            }
        }
    }

    /// The schema as SQLite holds it: SQLite numbers its single INTEGER PRIMARY
    /// KEY (the rowid alias) whatever schema.toml says of identity, sequences
    /// or `autoincrement`, and never collides after a reload (it takes the
    /// largest rowid plus one); it numbers no other column.
    pub fn without_numbering(&self) -> Schema {
        let mut schema = self.clone();
        for column in schema.tables.iter_mut().flat_map(|t| t.columns.iter_mut()) {
            column.numbering = Numbering::Auto;
            column.sequence = SequenceOptions::default();
        }
        schema
    }

    /// The schema without comments, as an engine without them (SQLite) holds it.
    pub fn without_comments(&self) -> Schema {
        let mut schema = self.clone();
        for table in &mut schema.tables {
            table.comment = None;
            for column in &mut table.columns {
                column.comment = None;
            }
        }
        schema
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
            checks: Vec::new(),
            comment: None,
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
                .any(|index| index.unique && index.is_plain() && same(&index.columns()))
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

    /// A column's CHECK (`check = "…"` on the column): `<table>_<column>_check`,
    /// PostgreSQL's name for an unnamed column CHECK.
    pub fn column_check(table: &str, column: &str) -> String {
        object_name(table, Some(column), "check")
    }

    /// The `n`-th (from 0) unnamed table-level CHECK: `<table>_check`, then
    /// `<table>_check1`, `<table>_check2`… (PostgreSQL's numbering of clashes).
    pub fn table_check(table: &str, n: usize) -> String {
        let label = match n {
            0 => "check".to_string(),
            n => format!("check{n}"),
        };
        object_name(table, None, &label)
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

        #[test]
        fn check_expressions_match_postgresqls_printing_of_them() {
            use super::super::check_expression_key as key;
            for (written, printed) in [
                ("price > 0", "(price > (0)::numeric)"),
                ("status IN ('a', 'b')", "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"),
                ("name LIKE 'x%'", "((name)::text ~~ 'x%'::text)"),
                ("a != b", "(a <> b)"),
                ("at > '2020-01-01'", "(at > '2020-01-01 00:00:00'::timestamp without time zone)"),
            ] {
                if written.starts_with("at") {
                    // A literal PostgreSQL rewrites is a difference: write it as pull does.
                    assert_ne!(key(written), key(printed));
                } else {
                    assert_eq!(key(written), key(printed), "{written} vs {printed}");
                }
            }
            assert_ne!(key("price > 0"), key("price > 1"));
            assert_ne!(key("name = 'A'"), key("name = 'a'"));
        }

        #[test]
        fn check_names_follow_postgresql() {
            assert_eq!(column_check("product", "price"), "product_price_check");
            assert_eq!(table_check("product", 0), "product_check");
            assert_eq!(table_check("product", 2), "product_check2");
        }

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
