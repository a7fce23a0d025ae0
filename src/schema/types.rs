//! The portable column types of schema.toml.

use std::collections::BTreeMap;
use std::fmt;

/// A column type. The portable set maps to each dialect's natural type;
/// `Native` is a type spelled per dialect (PostgreSQL's `jsonb`, SQLite's
/// `NVARCHAR(40)`), `Enum` a type declared in `[enum.NAME]`, `Domain` one
/// declared in `[domain.NAME]`; `Custom` carries a type the model cannot hold
/// (a composite type), which `pull` names and leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Type {
    Integer,
    BigInt,
    SmallInt,
    Text,
    Varchar(u32),
    Boolean,
    Real,
    Double,
    Numeric(Option<(u32, u32)>),
    Date,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Bytes,
    /// Dialect name → that dialect's spelling of the type, as it lands in DDL
    /// (checked by [`type_spelling_problem`]; PostgreSQL's in `format_type`'s form).
    Native(BTreeMap<String, String>),
    /// A user-defined enum, by its `[enum.NAME]`.
    Enum(String),
    /// A domain, by its `[domain.NAME]` (see [`crate::schema::DomainType`]).
    Domain(String),
    Custom(String),
}

/// A user-defined enum type: `[enum.NAME] values = [...]`, values in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EnumType {
    pub name: String,
    pub values: Vec<String>,
}

/// How a column's values fare when its type changes (see [`Type::change_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeChange {
    Same,
    /// Every value fits the new type unchanged: safe.
    Widening,
    /// A smaller type or another kind of type: values can be cut, fail to
    /// convert, or change meaning. Destructive.
    Narrowing,
}

/// The names schema.toml accepts, for messages and suggestions.
pub const PORTABLE_TYPE_NAMES: &[&str] = &[
    "integer",
    "bigint",
    "smallint",
    "text",
    "varchar(n)",
    "boolean",
    "real",
    "double",
    "numeric(p,s)",
    "date",
    "timestamp",
    "timestamptz",
    "uuid",
    "json",
    "bytes",
];

/// Why `text` cannot be a type spelling, or `None` when it can. Type text lands
/// in SQL unquoted, so only the shape types have is accepted: words (letters,
/// digits, `_`, `$`, dotted for a schema), at most one `(n)` or `(n,m)` (before
/// further words, as in `timestamp(3) with time zone`), then any number of `[]`.
pub fn type_spelling_problem(text: &str) -> Option<String> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Some("a type name is empty".into());
    }
    let mut words = 0;
    let mut arguments = false;
    loop {
        rest = rest.trim_start();
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first.is_ascii_alphabetic() || first == '_' {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if word.ends_with('.') || word.contains("..") {
                return Some(format!("`{word}` is not a type name"));
            }
            words += 1;
            rest = &rest[end..];
        } else if first == '(' && words > 0 && !arguments {
            let Some(close) = rest.find(')') else {
                return Some("`(` without its `)`".into());
            };
            let inside = &rest[1..close];
            let numbers: Vec<&str> = inside.split(',').map(str::trim).collect();
            if numbers.len() > 2
                || numbers
                    .iter()
                    .any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()))
            {
                return Some(format!(
                    "`({inside})`: a type takes one or two whole numbers, as in `(10)` or `(10,2)`"
                ));
            }
            arguments = true;
            rest = &rest[close + 1..];
        } else if first == '[' && words > 0 {
            let after = rest[1..].trim_start();
            // `[]` or `[4]`, PostgreSQL's array bounds (which it ignores).
            let close = after.find(']');
            match close {
                Some(close) if after[..close].trim().chars().all(|c| c.is_ascii_digit()) => {
                    rest = &after[close + 1..];
                    // Only `[]` may follow an array suffix.
                    if !rest.trim().is_empty() && !rest.trim_start().starts_with('[') {
                        return Some("only `[]` may follow `[]`".into());
                    }
                }
                _ => return Some("`[` without its `]`".into()),
            }
        } else {
            return Some(format!(
                "`{first}` cannot appear in a type: a type is words, an optional (n) or (n,m), and `[]` for an array"
            ));
        }
    }
    None
}

impl Type {
    /// A type with one spelling, for one dialect.
    pub fn native(dialect: &str, spelling: &str) -> Type {
        Type::Native(BTreeMap::from([(
            dialect.to_string(),
            spelling.to_string(),
        )]))
    }

    /// This type as `dialect` has it: a native type keeps only that dialect's
    /// spelling, so that it compares equal to what the database reads back.
    pub fn for_dialect(&self, dialect: &str) -> Type {
        match self {
            Type::Native(spellings) => match spellings.get(dialect) {
                Some(spelling) => Type::native(dialect, spelling),
                None => self.clone(),
            },
            _ => self.clone(),
        }
    }

    /// Parses a portable type name as written in schema.toml (`varchar(255)`,
    /// `numeric(10,2)`). Returns `None` for anything else.
    pub fn parse_portable(text: &str) -> Option<Type> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let simple = match compact.as_str() {
            "integer" => Some(Type::Integer),
            "bigint" => Some(Type::BigInt),
            "smallint" => Some(Type::SmallInt),
            "text" => Some(Type::Text),
            "boolean" => Some(Type::Boolean),
            "real" => Some(Type::Real),
            "double" => Some(Type::Double),
            "numeric" => Some(Type::Numeric(None)),
            "date" => Some(Type::Date),
            "timestamp" => Some(Type::Timestamp),
            "timestamptz" => Some(Type::TimestampTz),
            "uuid" => Some(Type::Uuid),
            "json" => Some(Type::Json),
            "bytes" => Some(Type::Bytes),
            _ => None,
        };
        if simple.is_some() {
            return simple;
        }
        let (name, arguments) = compact.strip_suffix(')')?.split_once('(')?;
        let numbers: Vec<u32> = arguments
            .split(',')
            .map(|part| part.parse().ok().filter(|n| *n > 0))
            .collect::<Option<_>>()?;
        match (name, numbers.as_slice()) {
            ("varchar", [length]) => Some(Type::Varchar(*length)),
            ("numeric", [precision]) => Some(Type::Numeric(Some((*precision, 0)))),
            ("numeric", [precision, scale]) if scale <= precision => {
                Some(Type::Numeric(Some((*precision, *scale))))
            }
            _ => None,
        }
    }

    /// One of each portable type, for round-trip tests of every dialect.
    pub fn all_portable() -> Vec<Type> {
        vec![
            Type::Integer,
            Type::BigInt,
            Type::SmallInt,
            Type::Text,
            Type::Varchar(40),
            Type::Boolean,
            Type::Real,
            Type::Double,
            Type::Numeric(None),
            Type::Numeric(Some((10, 2))),
            Type::Date,
            Type::Timestamp,
            Type::TimestampTz,
            Type::Uuid,
            Type::Json,
            Type::Bytes,
        ]
    }

    /// What changing a column from this type to `to` does to the values it holds.
    pub fn change_to(&self, to: &Type) -> TypeChange {
        if self == to {
            TypeChange::Same
        } else if self.widens_to(to) {
            TypeChange::Widening
        } else {
            TypeChange::Narrowing
        }
    }

    /// Whether every value of this type fits `to` unchanged, so that changing a
    /// column's type to `to` can neither fail nor lose anything: smallint →
    /// integer → bigint, varchar(n) → varchar(m ≥ n) or text, real → double, and
    /// numeric(p,s) → numeric with no fewer integer digits (p − s) and no fewer
    /// decimals (s), or unconstrained numeric. Anything else (integer → real,
    /// timestamp → timestamptz, …) changes or can lose values.
    pub fn widens_to(&self, to: &Type) -> bool {
        match (self, to) {
            (Type::SmallInt, Type::Integer | Type::BigInt) | (Type::Integer, Type::BigInt) => true,
            (Type::Varchar(n), Type::Varchar(m)) => m > n,
            (Type::Varchar(_), Type::Text) => true,
            (Type::Real, Type::Double) => true,
            (Type::Numeric(Some(_)), Type::Numeric(None)) => true,
            (Type::Numeric(Some((p, s))), Type::Numeric(Some((p2, s2)))) => {
                (p2 - s2 >= p - s && s2 >= s) && (p, s) != (p2, s2)
            }
            _ => false,
        }
    }

    /// Whether a foreign key column of this type may reference a key of type
    /// `key`: the same type, or two types of one family whose values compare as
    /// equal on every engine (integer ↔ bigint, varchar ↔ text). This is what lets a
    /// referenced key be widened (integer → bigint) in one migration and the
    /// referencing column follow in the same or a later one.
    pub fn can_reference(&self, key: &Type) -> bool {
        self == key
            || (self.is_integer_like() && key.is_integer_like())
            || (matches!(self, Type::Text | Type::Varchar(_))
                && matches!(key, Type::Text | Type::Varchar(_)))
    }

    pub fn is_integer_like(&self) -> bool {
        matches!(self, Type::Integer | Type::BigInt | Type::SmallInt)
    }

    pub fn is_float_like(&self) -> bool {
        matches!(self, Type::Real | Type::Double | Type::Numeric(_))
    }

    pub fn is_text_like(&self) -> bool {
        matches!(
            self,
            Type::Text
                | Type::Varchar(_)
                | Type::Date
                | Type::Timestamp
                | Type::TimestampTz
                | Type::Uuid
                | Type::Json
        )
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Integer => f.write_str("integer"),
            Type::BigInt => f.write_str("bigint"),
            Type::SmallInt => f.write_str("smallint"),
            Type::Text => f.write_str("text"),
            Type::Varchar(length) => write!(f, "varchar({length})"),
            Type::Boolean => f.write_str("boolean"),
            Type::Real => f.write_str("real"),
            Type::Double => f.write_str("double"),
            Type::Numeric(None) => f.write_str("numeric"),
            Type::Numeric(Some((precision, scale))) => write!(f, "numeric({precision},{scale})"),
            Type::Date => f.write_str("date"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::TimestampTz => f.write_str("timestamptz"),
            Type::Uuid => f.write_str("uuid"),
            Type::Json => f.write_str("json"),
            Type::Bytes => f.write_str("bytes"),
            Type::Native(spellings) => match spellings.values().collect::<Vec<_>>()[..] {
                [only] => f.write_str(only),
                _ => {
                    let parts: Vec<String> = spellings
                        .iter()
                        .map(|(dialect, spelling)| format!("{dialect} = \"{spelling}\""))
                        .collect();
                    write!(f, "{{ {} }}", parts.join(", "))
                }
            },
            Type::Enum(name) | Type::Domain(name) => f.write_str(name),
            Type::Custom(name) => f.write_str(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parameterised_types() {
        assert_eq!(
            Type::parse_portable("varchar(255)"),
            Some(Type::Varchar(255))
        );
        assert_eq!(
            Type::parse_portable("numeric(10, 2)"),
            Some(Type::Numeric(Some((10, 2))))
        );
        assert_eq!(Type::parse_portable("numeric(2,10)"), None);
        assert_eq!(Type::parse_portable("varchar(0)"), None);
        assert_eq!(Type::parse_portable("strng"), None);
    }

    fn change(from: &str, to: &str) -> TypeChange {
        Type::parse_portable(from)
            .unwrap()
            .change_to(&Type::parse_portable(to).unwrap())
    }

    #[test]
    fn widening_keeps_every_value() {
        for (from, to) in [
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("smallint", "bigint"),
            ("varchar(10)", "varchar(11)"),
            ("varchar(10)", "text"),
            ("real", "double"),
            ("numeric(5,2)", "numeric(7,2)"),
            ("numeric(5,2)", "numeric(6,3)"),
            ("numeric(5,2)", "numeric"),
        ] {
            assert_eq!(change(from, to), TypeChange::Widening, "{from} -> {to}");
        }
    }

    #[test]
    fn narrowing_and_changes_of_kind_are_destructive() {
        for (from, to) in [
            ("bigint", "integer"),
            ("integer", "smallint"),
            ("varchar(10)", "varchar(9)"),
            ("text", "varchar(10)"),
            ("double", "real"),
            ("numeric(5,2)", "numeric(5,3)"), // one integer digit fewer
            ("numeric(5,2)", "numeric(6,1)"), // one decimal fewer
            ("numeric", "numeric(10,2)"),
            ("integer", "real"),
            ("integer", "text"),
            ("timestamp", "timestamptz"),
        ] {
            assert_eq!(change(from, to), TypeChange::Narrowing, "{from} -> {to}");
        }
        assert_eq!(change("text", "text"), TypeChange::Same);
    }

    #[test]
    fn foreign_keys_may_reference_a_key_of_the_same_family() {
        let t = |name| Type::parse_portable(name).unwrap();
        assert!(t("integer").can_reference(&t("bigint")));
        assert!(t("bigint").can_reference(&t("integer")));
        assert!(t("varchar(10)").can_reference(&t("text")));
        assert!(!t("text").can_reference(&t("integer")));
        assert!(!t("uuid").can_reference(&t("text")));
    }

    #[test]
    fn type_spellings_are_words_arguments_and_brackets() {
        for good in [
            "jsonb",
            "character(2)",
            "timestamp(3) with time zone",
            "integer[]",
            "character varying(20)[]",
            "NVARCHAR(40)",
            "DECIMAL(4, 2)",
            "public.citext",
            "interval year to month",
            "int[][]",
        ] {
            assert_eq!(type_spelling_problem(good), None, "{good}");
        }
        for bad in [
            "",
            "text; DROP TABLE x",
            "text)",
            "varchar(a)",
            "x(1,2,3)",
            "\"quoted\"",
            "text -- comment",
            "a[]b",
            "(1)",
        ] {
            assert!(type_spelling_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for name in ["integer", "varchar(12)", "numeric(8,3)", "timestamptz"] {
            assert_eq!(Type::parse_portable(name).unwrap().to_string(), name);
        }
    }
}
