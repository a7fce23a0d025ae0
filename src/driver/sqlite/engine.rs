//! SQLite's entry in the engine registry: its URLs (`sqlite:PATH` with SQLite's
//! URI parameters, `sqlite::memory:`), and creating and deleting database files.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::SqliteDatabase;
use crate::driver::registry::Engine;
use crate::driver::url::Target;
use crate::driver::{ConnectOptions, Database, DatabaseUrl, Dialect};
use crate::{Error, Result};

pub struct SqliteEngine;

/// The registry's handle on SQLite.
pub static SQLITE: SqliteEngine = SqliteEngine;

const FORMS: &str = "sqlite:PATH (relative to the project or working directory), \
                     sqlite:/ABSOLUTE/PATH, sqlite::memory:, each optionally with SQLite URI \
                     parameters (sqlite:app.db?mode=ro)";

/// The URI parameters SQLite itself understands (<https://sqlite.org/uri.html>).
const PARAMETERS: &[&str] = &["mode", "cache", "vfs", "immutable", "nolock", "psow"];
const MODES: &[&str] = &["ro", "rw", "rwc", "memory"];
const CACHES: &[&str] = &["shared", "private"];
const BOOLEANS: &[&str] = &["0", "1", "true", "false", "yes", "no", "on", "off"];

/// A SQLite URL as the engine reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteTarget {
    /// The database file, or `None` for an in-memory database.
    pub path: Option<PathBuf>,
    /// SQLite URI parameters (`mode=ro`), in the order given.
    pub parameters: Vec<(String, String)>,
}

impl Target for SqliteTarget {}

impl std::fmt::Display for SqliteTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            None => f.write_str("sqlite::memory:")?,
            Some(path) => write!(f, "sqlite:{}", path.display())?,
        }
        if !self.parameters.is_empty() {
            let query: Vec<String> = self
                .parameters
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl SqliteTarget {
    /// Whether SQLite's URI syntax is needed to open it (parameters were given).
    pub fn uri(&self) -> Option<String> {
        if self.parameters.is_empty() {
            return None;
        }
        let file = match &self.path {
            // Percent-escaping what would end the path part of a URI.
            Some(path) => path
                .display()
                .to_string()
                .replace('%', "%25")
                .replace('?', "%3f")
                .replace('#', "%23"),
            None => ":memory:".to_string(),
        };
        let query: Vec<String> = self
            .parameters
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        Some(format!("file:{file}?{}", query.join("&")))
    }

    /// `mode=ro`: the database is only read.
    pub fn read_only(&self) -> bool {
        self.parameters
            .iter()
            .any(|(key, value)| key == "mode" && value == "ro")
    }

    fn in_memory(&self) -> bool {
        self.path.is_none()
            || self
                .parameters
                .iter()
                .any(|(key, value)| key == "mode" && value == "memory")
    }
}

/// `sqlite:PATH[?params]` → the target, or what is wrong with it and what to write.
pub fn parse(text: &str, base: &Path) -> Result<SqliteTarget> {
    let rest = &text[text.find(':').map_or(0, |i| i + 1)..];
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let parameters = match query {
        Some(query) => parameters(text, query)?,
        None => Vec::new(),
    };
    // `sqlite:///x` means a relative path to SQLAlchemy and an absolute one to
    // other tools; guessing would put the database somewhere unexpected.
    if location.starts_with("///") && !location.starts_with("////") {
        let path = location.trim_start_matches('/');
        return Err(Error::Usage(format!(
            "`{text}`: three slashes are read differently by different tools (SQLAlchemy: a \
             relative path; others: an absolute one); write sqlite:{path} for a path relative \
             to the project or working directory, or sqlite:/{path} for an absolute path"
        )));
    }
    let path = if location.starts_with("////") {
        // SQLAlchemy's absolute form: `sqlite:////srv/app.db` is /srv/app.db.
        &location[3..]
    } else {
        location.strip_prefix("//").unwrap_or(location)
    };
    if path == ":memory:" {
        return Ok(SqliteTarget {
            path: None,
            parameters,
        });
    }
    if path.is_empty() {
        return Err(Error::Usage(format!(
            "`{text}` names no database file: expected {FORMS}, e.g. sqlite:database.db"
        )));
    }
    let path = Path::new(path);
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    Ok(SqliteTarget {
        path: Some(full),
        parameters,
    })
}

/// `mode=ro&cache=shared` → pairs, each key and value checked.
fn parameters(text: &str, query: &str) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let allowed: Option<&[&str]> = match key.as_ref() {
            "mode" => Some(MODES),
            "cache" => Some(CACHES),
            "immutable" | "nolock" | "psow" => Some(BOOLEANS),
            "vfs" => None,
            other => {
                return Err(Error::Usage(format!(
                    "`{text}`: unknown SQLite URI parameter `{other}`; SQLite accepts {}",
                    PARAMETERS.join(", ")
                )))
            }
        };
        if let Some(allowed) = allowed {
            if !allowed.contains(&value.as_ref()) {
                return Err(Error::Usage(format!(
                    "`{text}`: `{key}={value}` is not a value SQLite accepts; `{key}` takes one of {}",
                    allowed.join(", ")
                )));
            }
        }
        pairs.push((key.into_owned(), value.into_owned()));
    }
    Ok(pairs)
}

impl Engine for SqliteEngine {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn builtin_type(&self, spelling: &str) -> Option<String> {
        let (name, _) = super::types::name_and_numbers(spelling);
        super::types::BUILTIN_TYPES
            .iter()
            .any(|known| known.eq_ignore_ascii_case(&name))
            .then(|| spelling.to_string())
    }

    fn holds_as(&self, spelling: &str, portable: &crate::schema::Type) -> bool {
        super::types::alike_portable(spelling).as_ref() == Some(portable)
    }

    fn value_type(&self, spelling: &str) -> Option<crate::schema::Type> {
        Some(super::types::affinity(spelling))
    }

    fn type_examples(&self) -> &'static str {
        "`INT`, `NVARCHAR(40)`, `DECIMAL(4,2)`, `CHAR(1)`"
    }

    fn builtin_type_names(&self) -> &'static [&'static str] {
        super::types::BUILTIN_TYPES
    }

    fn url_prefixes(&self) -> &'static [&'static str] {
        &["sqlite:"]
    }

    fn url_forms(&self) -> &'static str {
        "sqlite:PATH, sqlite::memory:"
    }

    fn parse_url(&'static self, text: &str, base: &Path) -> Result<DatabaseUrl> {
        Ok(DatabaseUrl::new(self, parse(text, base)?))
    }

    fn dialect(&self) -> Box<dyn Dialect> {
        Box::new(super::SqliteDialect)
    }

    fn script_engine(&self) -> crate::script::Engine {
        crate::script::Engine::Sqlite
    }

    fn folds_name_case(&self) -> bool {
        true
    }

    fn templates(&self) -> Option<&dyn crate::driver::registry::Templates> {
        Some(&super::template::SqliteTemplates)
    }

    fn connect(&self, url: &DatabaseUrl, options: ConnectOptions) -> Result<Box<dyn Database>> {
        Ok(Box::new(SqliteDatabase::open_target(
            url.target::<SqliteTarget>()?,
            options.lock_timeout,
            true,
        )?))
    }

    fn open_existing(
        &self,
        url: &DatabaseUrl,
        options: ConnectOptions,
    ) -> Result<Option<Box<dyn Database>>> {
        let target = url.target::<SqliteTarget>()?;
        if let Some(path) = &target.path {
            if !target.in_memory() && !path.exists() {
                return Ok(None);
            }
        }
        Ok(Some(Box::new(SqliteDatabase::open_target(
            target,
            options.lock_timeout,
            false,
        )?)))
    }

    fn create_database(&self, url: &DatabaseUrl) -> Result<bool> {
        // The file itself is created when first opened.
        let target = url.target::<SqliteTarget>()?;
        Ok(match &target.path {
            Some(path) => !target.in_memory() && !path.exists(),
            None => true,
        })
    }

    fn drop_database(&self, url: &DatabaseUrl, yes: bool) -> Result<Option<String>> {
        let target = url.target::<SqliteTarget>()?;
        let Some(path) = target.path.as_ref().filter(|_| !target.in_memory()) else {
            return Ok(None);
        };
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(Error::io(path, error)),
        };
        // Through a symlink, the file it points to is the database, and SQLite
        // keeps its -wal/-journal files beside that file.
        let canonical = std::fs::canonicalize(path).map_err(|error| Error::io(path, error))?;
        if let Some(reason) = not_a_sqlite_database(&canonical, &metadata)? {
            return Err(Error::Refused(format!(
                "--fresh refuses to delete {}: {reason}, so it is not a SQLite database; \
                 check --database-url (or remove the file yourself if it really is the database)",
                path.display()
            )));
        }
        if !yes {
            return Err(Error::Refused(format!(
                "--fresh would delete {}; add --yes to confirm",
                path.display()
            )));
        }
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = PathBuf::from(format!("{}{suffix}", canonical.display()));
            if file.exists() {
                std::fs::remove_file(&file).map_err(|error| Error::io(&file, error))?;
            }
        }
        Ok(Some(format!("Removed {}", path.display())))
    }
}

/// Why the file at `path` is not a SQLite database, or `None` when it is one:
/// it starts with SQLite's 16-byte header, or it is empty (SQLite opens an empty
/// file as an empty database, and removing it loses nothing).
fn not_a_sqlite_database(path: &Path, metadata: &std::fs::Metadata) -> Result<Option<String>> {
    const HEADER: &[u8; 16] = b"SQLite format 3\0";
    if !metadata.is_file() {
        return Ok(Some("it is not a regular file".to_string()));
    }
    if metadata.len() == 0 {
        return Ok(None);
    }
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    match file.read_exact(&mut header) {
        Ok(()) if &header == HEADER => Ok(None),
        Ok(()) => Ok(Some(
            "it does not start with the header \"SQLite format 3\"".to_string(),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Some(format!(
            "it is {} bytes long, shorter than a SQLite header",
            metadata.len()
        ))),
        Err(error) => Err(Error::io(path, error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> Result<SqliteTarget> {
        parse(text, Path::new("/proj"))
    }

    #[test]
    fn paths_are_relative_to_the_base() {
        assert_eq!(
            path("sqlite:data/app.db").unwrap().path,
            Some(PathBuf::from("/proj/data/app.db"))
        );
        assert_eq!(
            path("sqlite://app.db").unwrap().path,
            Some(PathBuf::from("/proj/app.db"))
        );
        assert_eq!(
            path("sqlite:/srv/app.db").unwrap().path,
            Some(PathBuf::from("/srv/app.db"))
        );
        assert_eq!(
            path("sqlite:////srv/app.db").unwrap().path,
            Some(PathBuf::from("/srv/app.db"))
        );
        assert_eq!(path("sqlite::memory:").unwrap().path, None);
    }

    #[test]
    fn three_slashes_are_refused_with_both_spellings() {
        let error = path("sqlite:///srv/app.db").unwrap_err();
        assert_eq!(error.exit_code(), crate::error::exit::USAGE);
        let message = error.to_string();
        assert!(message.contains("write sqlite:srv/app.db"), "{message}");
        assert!(message.contains("or sqlite:/srv/app.db"), "{message}");
    }

    #[test]
    fn uri_parameters_are_kept_apart_from_the_path() {
        let target = path("sqlite:app.db?mode=ro&cache=shared").unwrap();
        assert_eq!(target.path, Some(PathBuf::from("/proj/app.db")));
        assert!(target.read_only());
        assert_eq!(
            target.uri().as_deref(),
            Some("file:/proj/app.db?mode=ro&cache=shared")
        );
        assert_eq!(
            target.to_string(),
            "sqlite:/proj/app.db?mode=ro&cache=shared"
        );
        assert_eq!(path("sqlite:app.db").unwrap().uri(), None);
    }

    #[test]
    fn unknown_parameters_and_values_list_what_is_accepted() {
        let message = path("sqlite:app.db?mdoe=ro").unwrap_err().to_string();
        assert!(
            message.contains("unknown SQLite URI parameter `mdoe`"),
            "{message}"
        );
        assert!(
            message.contains("mode, cache, vfs, immutable, nolock, psow"),
            "{message}"
        );
        let message = path("sqlite:app.db?mode=readonly").unwrap_err().to_string();
        assert!(
            message.contains("takes one of ro, rw, rwc, memory"),
            "{message}"
        );
    }
}
