//! SqlValue ↔ PostgreSQL wire values.

use std::error::Error as StdError;

use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type as PgType};

use crate::driver::SqlValue;

type BoxError = Box<dyn StdError + Sync + Send>;

fn is_text(ty: &PgType) -> bool {
    matches!(
        *ty,
        PgType::TEXT | PgType::VARCHAR | PgType::BPCHAR | PgType::NAME | PgType::UNKNOWN
    )
}

/// Binds a value to whatever type the server inferred for the parameter: typed
/// placeholders make that text; `[[sql]]` parameters get the common conversions.
impl ToSql for SqlValue {
    fn to_sql(&self, ty: &PgType, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        if is_text(ty) {
            let text = match self {
                SqlValue::Null => return Ok(IsNull::Yes),
                SqlValue::Integer(n) => n.to_string(),
                SqlValue::Float(n) => n.to_string(),
                SqlValue::Text(text) => text.clone(),
                SqlValue::Boolean(flag) => flag.to_string(),
                SqlValue::Bytes(bytes) => {
                    format!(
                        "\\x{}",
                        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
                    )
                }
            };
            return text.as_str().to_sql(&PgType::TEXT, out);
        }
        match (self, ty) {
            (SqlValue::Null, _) => Ok(IsNull::Yes),
            (SqlValue::Integer(n), &PgType::INT2) => i16::try_from(*n)?.to_sql(ty, out),
            (SqlValue::Integer(n), &PgType::INT4) => i32::try_from(*n)?.to_sql(ty, out),
            (SqlValue::Integer(n), &PgType::INT8) => n.to_sql(ty, out),
            (SqlValue::Integer(n), &PgType::FLOAT4) => (*n as f32).to_sql(ty, out),
            (SqlValue::Integer(n), &PgType::FLOAT8) => (*n as f64).to_sql(ty, out),
            (SqlValue::Float(n), &PgType::FLOAT4) => (*n as f32).to_sql(ty, out),
            (SqlValue::Float(n), &PgType::FLOAT8) => n.to_sql(ty, out),
            (SqlValue::Boolean(flag), &PgType::BOOL) => flag.to_sql(ty, out),
            (SqlValue::Bytes(bytes), &PgType::BYTEA) => bytes.as_slice().to_sql(ty, out),
            (value, ty) => Err(format!(
                "cannot send {value} as {}; cast the parameter in the statement, e.g. $1::text::{}",
                ty.name(),
                ty.name()
            )
            .into()),
        }
    }

    fn accepts(_: &PgType) -> bool {
        true
    }

    to_sql_checked!();
}

/// Reads any column into a SqlValue; types without a portable reading come back
/// as their type name, which is only ever shown to people.
pub struct AnyValue(pub SqlValue);

impl<'a> FromSql<'a> for AnyValue {
    fn from_sql(ty: &PgType, raw: &'a [u8]) -> Result<Self, BoxError> {
        let value = match *ty {
            PgType::BOOL => SqlValue::Boolean(bool::from_sql(ty, raw)?),
            PgType::INT2 => SqlValue::Integer(i16::from_sql(ty, raw)?.into()),
            PgType::INT4 => SqlValue::Integer(i32::from_sql(ty, raw)?.into()),
            PgType::INT8 => SqlValue::Integer(i64::from_sql(ty, raw)?),
            PgType::OID => SqlValue::Integer(u32::from_sql(ty, raw)?.into()),
            PgType::FLOAT4 => SqlValue::Float(f32::from_sql(ty, raw)?.into()),
            PgType::FLOAT8 => SqlValue::Float(f64::from_sql(ty, raw)?),
            PgType::BYTEA => SqlValue::Bytes(raw.to_vec()),
            PgType::JSON => SqlValue::Text(String::from_utf8_lossy(raw).into_owned()),
            PgType::JSONB => SqlValue::Text(
                String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned(),
            ),
            PgType::UUID if raw.len() == 16 => {
                let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                SqlValue::Text(format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                ))
            }
            _ if is_text(ty) => SqlValue::Text(String::from_utf8_lossy(raw).into_owned()),
            _ => SqlValue::Text(format!("<{}>", ty.name())),
        };
        Ok(AnyValue(value))
    }

    fn from_sql_null(_: &PgType) -> Result<Self, BoxError> {
        Ok(AnyValue(SqlValue::Null))
    }

    fn accepts(_: &PgType) -> bool {
        true
    }
}
