//! Portable types ↔ PostgreSQL types, both directions together so a round trip
//! gives back the declared type. Text is VARCHAR, as SQLAlchemy declares `str`.

use crate::schema::Type;

pub fn declared_type(ty: &Type) -> String {
    match ty {
        Type::Integer => "INTEGER".into(),
        Type::BigInt => "BIGINT".into(),
        Type::SmallInt => "SMALLINT".into(),
        Type::Text => "VARCHAR".into(),
        Type::Varchar(length) => format!("VARCHAR({length})"),
        Type::Boolean => "BOOLEAN".into(),
        Type::Real => "REAL".into(),
        Type::Double => "DOUBLE PRECISION".into(),
        Type::Numeric(None) => "NUMERIC".into(),
        Type::Numeric(Some((precision, scale))) => format!("NUMERIC({precision}, {scale})"),
        Type::Date => "DATE".into(),
        Type::Timestamp => "TIMESTAMP WITHOUT TIME ZONE".into(),
        Type::TimestampTz => "TIMESTAMP WITH TIME ZONE".into(),
        Type::Uuid => "UUID".into(),
        Type::Json => "JSON".into(),
        Type::Bytes => "BYTEA".into(),
        Type::Custom(name) => name.clone(),
    }
}

/// The auto-numbering spelling of an integer primary key (SQLAlchemy's choice).
pub fn serial_type(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Integer => Some("SERIAL"),
        Type::BigInt => Some("BIGSERIAL"),
        Type::SmallInt => Some("SMALLSERIAL"),
        _ => None,
    }
}

/// `format_type()` output → portable type; anything else stays custom.
pub fn portable_type(formatted: &str) -> Type {
    let (name, arguments) = match formatted.split_once('(') {
        Some((name, rest)) => {
            let inside = rest.split(')').next().unwrap_or("");
            let suffix = rest.split_once(')').map(|(_, s)| s.trim()).unwrap_or("");
            let numbers = inside
                .split(',')
                .map(|n| n.trim().parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>();
            (
                format!(
                    "{}{}",
                    name.trim(),
                    if suffix.is_empty() {
                        String::new()
                    } else {
                        format!(" {suffix}")
                    }
                ),
                numbers,
            )
        }
        None => (formatted.trim().to_string(), Some(Vec::new())),
    };
    match (name.as_str(), arguments.as_deref()) {
        ("integer", Some([])) => Type::Integer,
        ("bigint", Some([])) => Type::BigInt,
        ("smallint", Some([])) => Type::SmallInt,
        ("character varying" | "text", Some([])) => Type::Text,
        ("character varying", Some([length])) => Type::Varchar(*length),
        ("boolean", Some([])) => Type::Boolean,
        ("real", Some([])) => Type::Real,
        ("double precision", Some([])) => Type::Double,
        ("numeric", Some([])) => Type::Numeric(None),
        ("numeric", Some([precision, scale])) => Type::Numeric(Some((*precision, *scale))),
        ("date", Some([])) => Type::Date,
        ("timestamp without time zone", Some([])) => Type::Timestamp,
        ("timestamp with time zone", Some([])) => Type::TimestampTz,
        ("uuid", Some([])) => Type::Uuid,
        ("json", Some([])) => Type::Json,
        ("bytea", Some([])) => Type::Bytes,
        _ => Type::Custom(formatted.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_type_spellings() {
        assert_eq!(portable_type("character varying(40)"), Type::Varchar(40));
        assert_eq!(portable_type("numeric(10,2)"), Type::Numeric(Some((10, 2))));
        assert_eq!(portable_type("timestamp with time zone"), Type::TimestampTz);
        assert_eq!(portable_type("citext"), Type::Custom("citext".into()));
    }
}
