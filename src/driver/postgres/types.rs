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
        // Checked by the parser (`type_spelling_problem`); the dialect's
        // spelling is there for every project dialect.
        Type::Native(spellings) => spellings
            .get("postgres")
            .cloned()
            .unwrap_or_else(|| "text".into()),
        Type::Enum(name) | Type::Domain(name) => crate::driver::quote_identifier(name),
        Type::Custom(name) => name.clone(),
    }
}

/// The built-in types as `format_type` spells them (without arguments).
pub const BUILTIN_TYPES: &[&str] = &[
    "bigint",
    "bit",
    "bit varying",
    "boolean",
    "box",
    "bytea",
    "character",
    "character varying",
    "cidr",
    "circle",
    "date",
    "double precision",
    "inet",
    "integer",
    "interval",
    "json",
    "jsonb",
    "jsonpath",
    "line",
    "lseg",
    "macaddr",
    "macaddr8",
    "money",
    "numeric",
    "oid",
    "path",
    "pg_lsn",
    "pg_snapshot",
    "point",
    "polygon",
    "real",
    "regclass",
    "smallint",
    "text",
    "time without time zone",
    "time with time zone",
    "timestamp without time zone",
    "timestamp with time zone",
    "tsquery",
    "tsvector",
    "txid_snapshot",
    "uuid",
    "xml",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
];

/// Other names PostgreSQL accepts for them.
const ALIASES: &[(&str, &str)] = &[
    ("int", "integer"),
    ("int4", "integer"),
    ("int8", "bigint"),
    ("int2", "smallint"),
    ("bool", "boolean"),
    ("float4", "real"),
    ("float8", "double precision"),
    ("float", "double precision"),
    ("decimal", "numeric"),
    ("char", "character"),
    ("varchar", "character varying"),
    ("char varying", "character varying"),
    ("varbit", "bit varying"),
    ("timestamp", "timestamp without time zone"),
    ("timestamptz", "timestamp with time zone"),
    ("time", "time without time zone"),
    ("timetz", "time with time zone"),
];

/// A type spelling as `format_type` prints it: lower case, aliases resolved,
/// `(n)` after the first word of the time types and after the name otherwise,
/// one `[]` for any array (PostgreSQL keeps no dimensions). The spelling has
/// passed `type_spelling_problem`.
pub fn canonical_type(spelling: &str) -> String {
    let lower = spelling.to_lowercase();
    let array = lower.contains('[');
    let without_array = lower.split('[').next().unwrap_or("");
    let (words, arguments) = match without_array.split_once('(') {
        Some((before, rest)) => {
            let (inside, after) = rest.split_once(')').unwrap_or((rest, ""));
            let numbers: Vec<&str> = inside.split(',').map(str::trim).collect();
            (
                format!("{} {}", before.trim(), after.trim()),
                Some(numbers.join(",")),
            )
        }
        None => (without_array.to_string(), None),
    };
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == words)
        .map_or(words.as_str(), |(_, name)| name);
    let arguments = arguments.or_else(|| {
        // `character` and `bit` alone mean length 1, as format_type says.
        matches!(name, "character" | "bit").then(|| "1".to_string())
    });
    let mut text = match (arguments, name.split_once(' ')) {
        (Some(arguments), Some((first @ ("time" | "timestamp"), rest))) => {
            format!("{first}({arguments}) {rest}")
        }
        (Some(arguments), _) => format!("{name}({arguments})"),
        (None, _) => name.to_string(),
    };
    if array {
        text.push_str("[]");
    }
    text
}

/// The canonical spelling when it names a built-in type (or an array of one).
pub fn builtin_type(spelling: &str) -> Option<String> {
    let canonical = canonical_type(spelling);
    let base = canonical.trim_end_matches("[]");
    let name: String = match base.split_once('(') {
        Some((before, rest)) => {
            let after = rest.split_once(')').map_or("", |(_, after)| after);
            format!("{before}{after}")
        }
        None => base.to_string(),
    };
    BUILTIN_TYPES.contains(&name.trim()).then_some(canonical)
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
        // `text` is a type of its own in PostgreSQL (the portable `text` is
        // VARCHAR here): it is kept as spelt, so a pulled column stays `text`.
        ("character varying", Some([])) => Type::Text,
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

    #[test]
    fn spellings_become_format_types_own() {
        for (written, printed) in [
            ("char(2)", "character(2)"),
            ("CHAR", "character(1)"),
            ("jsonb", "jsonb"),
            ("Text[]", "text[]"),
            ("int[][]", "integer[]"),
            ("timestamptz(3)", "timestamp(3) with time zone"),
            ("varchar(20)[]", "character varying(20)[]"),
            ("numeric(10, 2)", "numeric(10,2)"),
            ("CITEXT", "citext"),
        ] {
            assert_eq!(canonical_type(written), printed, "{written}");
        }
        assert_eq!(builtin_type("tsvector").as_deref(), Some("tsvector"));
        assert_eq!(builtin_type("citext"), None);
        assert_eq!(builtin_type("strng"), None);
    }
}
