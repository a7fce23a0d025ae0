//! Values that cross the driver boundary as bound parameters and results.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Boolean(bool),
    Bytes(Vec<u8>),
}

impl SqlValue {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Integer(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// How values appear in messages and before → after lines: text quoted, null bare.
impl fmt::Display for SqlValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlValue::Null => f.write_str("null"),
            SqlValue::Integer(n) => write!(f, "{n}"),
            SqlValue::Float(n) => write!(f, "{n:?}"),
            SqlValue::Text(text) => write!(f, "{text:?}"),
            SqlValue::Boolean(flag) => write!(f, "{flag}"),
            SqlValue::Bytes(bytes) => write!(f, "<{} bytes>", bytes.len()),
        }
    }
}
