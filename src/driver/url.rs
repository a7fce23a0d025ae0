//! Database URLs: `sqlite:path`, `sqlite::memory:`, `postgres://…`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path, or `None` for an in-memory database.
    Sqlite(Option<PathBuf>),
    /// The URL as given; shown only through `Display`, which masks the password.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `text`; a relative SQLite path is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path == ":memory:" {
                return Ok(DatabaseUrl::Sqlite(None));
            }
            if path.is_empty() {
                return Err(Error::Usage(
                    "`sqlite:` needs a file path, e.g. sqlite:database.db".to_string(),
                ));
            }
            let path = Path::new(path);
            let full = if path.is_absolute() {
                path.to_path_buf()
            } else {
                base.join(path)
            };
            return Ok(DatabaseUrl::Sqlite(Some(full)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(text.to_string()));
        }
        Err(Error::Usage(format!(
            "unrecognised database URL `{}`: expected sqlite:PATH, sqlite::memory: or postgres://USER@HOST/DB",
            mask_password(text)
        )))
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(None) => f.write_str("sqlite::memory:"),
            DatabaseUrl::Sqlite(Some(path)) => write!(f, "sqlite:{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&mask_password(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_paths_relative_to_base() {
        let url = DatabaseUrl::parse("sqlite:data/app.db", Path::new("/proj")).unwrap();
        assert_eq!(
            url,
            DatabaseUrl::Sqlite(Some(PathBuf::from("/proj/data/app.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite::memory:", Path::new(".")).unwrap(),
            DatabaseUrl::Sqlite(None)
        );
    }

    #[test]
    fn masks_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/prod", Path::new(".")).unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/prod");
        let error = DatabaseUrl::parse("mysql://app:s3cret@db/prod", Path::new(".")).unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
