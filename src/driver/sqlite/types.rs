//! Portable types ↔ SQLite declared types. Both directions live together so a
//! round trip (declare → create → introspect) gives back the declared type.
//!
//! Text is `VARCHAR` because that is what SQLAlchemy/SQLModel declare for `str`,
//! and strata's databases must look the same to such applications.

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
        Type::Double => "DOUBLE".into(),
        Type::Numeric(None) => "NUMERIC".into(),
        Type::Numeric(Some((precision, scale))) => format!("NUMERIC({precision}, {scale})"),
        Type::Date => "DATE".into(),
        Type::Timestamp => "DATETIME".into(),
        Type::TimestampTz => "TIMESTAMPTZ".into(),
        Type::Uuid => "UUID".into(),
        Type::Json => "JSON".into(),
        Type::Bytes => "BLOB".into(),
        Type::Native(spellings) => spellings.get("sqlite").cloned().unwrap_or_default(),
        // An enum is lowered to text with a CHECK before SQLite sees it
        // (`Schema::for_dialect`); text is what it would be anyway.
        Type::Enum(_) => "VARCHAR".into(),
        // Lowered to its base type before SQLite sees it (`Schema::for_dialect`).
        Type::Domain(_) => String::new(),
        Type::Custom(name) => name.clone(),
    }
}

/// The portable type a declared type stands for where SQLite treats the two
/// exactly alike (same affinity; SQLite enforces neither lengths nor
/// precisions): `TEXT` is `text`, `INT` `integer`, `NVARCHAR(40)` and
/// `CHAR(1)` `varchar(n)`, `DECIMAL(4,2)` `numeric(4,2)`.
pub fn alike_portable(declared: &str) -> Option<Type> {
    let exact = portable_type(declared);
    if !matches!(exact, Type::Custom(_)) {
        return Some(exact);
    }
    let (name, Some(arguments)) = name_and_numbers(declared) else {
        return None;
    };
    Some(match (name.as_str(), arguments.as_slice()) {
        // MySQL's display widths (INT(11)) mean nothing to SQLite either.
        ("INT" | "INT4" | "MEDIUMINT" | "INTEGER", [] | [_]) => Type::Integer,
        ("TINYINT" | "INT2" | "SMALLINT", [] | [_]) => Type::SmallInt,
        ("INT8" | "BIGINT" | "UNSIGNED BIG INT", [] | [_]) => Type::BigInt,
        (
            "CHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR" | "VARCHAR" | "VARYING CHARACTER"
            | "NATIVE CHARACTER",
            [length],
        ) if *length > 0 => Type::Varchar(*length),
        ("CHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR" | "CLOB", []) => Type::Text,
        ("DECIMAL" | "NUMERIC", []) => Type::Numeric(None),
        ("DECIMAL" | "NUMERIC", [precision]) if *precision > 0 => {
            Type::Numeric(Some((*precision, 0)))
        }
        ("DECIMAL", [precision, scale]) if *precision > 0 && scale <= precision => {
            Type::Numeric(Some((*precision, *scale)))
        }
        ("FLOAT" | "DOUBLE", []) => Type::Double,
        ("BOOL", []) => Type::Boolean,
        ("TIMESTAMP", []) => Type::Timestamp,
        _ => return None,
    })
}

/// The type names SQLite's documentation lists (datatype3.html §3.1.1) and
/// the common others whose affinity is what they say: any of them, with its
/// arguments, is a bare `type = "..."` of a SQLite-only project, kept as written.
/// (`STRING` is left out on purpose: its affinity is NUMERIC.)
pub const BUILTIN_TYPES: &[&str] = &[
    "INT",
    "INTEGER",
    "TINYINT",
    "SMALLINT",
    "MEDIUMINT",
    "BIGINT",
    "UNSIGNED BIG INT",
    "INT2",
    "INT8",
    "CHARACTER",
    "CHAR",
    "VARCHAR",
    "VARYING CHARACTER",
    "NCHAR",
    "NATIVE CHARACTER",
    "NVARCHAR",
    "TEXT",
    "CLOB",
    "BLOB",
    "REAL",
    "DOUBLE",
    "DOUBLE PRECISION",
    "FLOAT",
    "NUMERIC",
    "DECIMAL",
    "BOOLEAN",
    "BOOL",
    "DATE",
    "DATETIME",
    "TIMESTAMP",
    "TIME",
    "JSON",
    "UUID",
];

/// SQLite's affinity of a declared type (datatype3.html §3.1), as the portable
/// type that behaves alike: what a native spelling's values are checked as.
pub fn affinity(declared: &str) -> Type {
    let upper = declared.to_uppercase();
    if upper.contains("INT") {
        Type::Integer
    } else if upper.contains("CHAR") || upper.contains("CLOB") || upper.contains("TEXT") {
        Type::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Type::Bytes
    } else if upper.contains("REAL") || upper.contains("FLOA") || upper.contains("DOUB") {
        Type::Double
    } else {
        Type::Numeric(None)
    }
}

/// A declared type's name, upper-cased with single spaces, and its numeric
/// arguments (`NVARCHAR(40)` → `("NVARCHAR", Some([40]))`); `None` when the
/// arguments are not plain numbers.
pub fn name_and_numbers(declared: &str) -> (String, Option<Vec<u32>>) {
    let normalized: String = declared
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    match normalized.split_once('(') {
        Some((name, rest)) => (
            name.trim().to_string(),
            rest.strip_suffix(')').and_then(|inside| {
                inside
                    .split(',')
                    .map(|n| n.trim().parse::<u32>().ok())
                    .collect::<Option<Vec<u32>>>()
            }),
        ),
        None => (normalized, Some(Vec::new())),
    }
}

/// The portable type a declared type stands for; unknown spellings stay custom.
pub fn portable_type(declared: &str) -> Type {
    let (name, arguments) = name_and_numbers(declared);
    match (name.as_str(), arguments.as_deref()) {
        ("INTEGER", Some([])) => Type::Integer,
        ("BIGINT", Some([])) => Type::BigInt,
        ("SMALLINT", Some([])) => Type::SmallInt,
        ("VARCHAR" | "TEXT", Some([])) => Type::Text,
        ("VARCHAR", Some([length])) => Type::Varchar(*length),
        ("BOOLEAN", Some([])) => Type::Boolean,
        ("REAL", Some([])) => Type::Real,
        ("DOUBLE" | "DOUBLE PRECISION", Some([])) => Type::Double,
        ("NUMERIC", Some([])) => Type::Numeric(None),
        ("NUMERIC", Some([precision, scale])) => Type::Numeric(Some((*precision, *scale))),
        ("DATE", Some([])) => Type::Date,
        ("DATETIME", Some([])) => Type::Timestamp,
        ("TIMESTAMPTZ", Some([])) => Type::TimestampTz,
        ("UUID", Some([])) => Type::Uuid,
        ("JSON", Some([])) => Type::Json,
        ("BLOB", Some([])) => Type::Bytes,
        _ => Type::Custom(declared.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_portable_type_round_trips() {
        for ty in Type::all_portable() {
            assert_eq!(portable_type(&declared_type(&ty)), ty, "{ty}");
        }
    }
}
