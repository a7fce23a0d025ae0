//! The portable column types of schema.toml.

use std::fmt;

/// A column type. The portable set maps to each dialect's natural type; `Custom`
/// carries a type name strata does not know, written as the database spells it.
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
    Custom(String),
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

impl Type {
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

    #[test]
    fn display_round_trips() {
        for name in ["integer", "varchar(12)", "numeric(8,3)", "timestamptz"] {
            assert_eq!(Type::parse_portable(name).unwrap().to_string(), name);
        }
    }
}
