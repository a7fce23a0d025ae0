//! Database URLs: `sqlite:path`, `sqlite::memory:`, `postgres://…`, and libpq's
//! `key=value` connection strings. Every place that shows one goes through
//! [`mask_password`], so a password never reaches a message, whatever its form.

use std::any::Any;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::registry::{self, Engine};
use crate::{Error, Result};

/// A parsed database URL: the engine it belongs to and that engine's own
/// reading of it. Only the engine looks inside (`DatabaseUrl::target`); the
/// rest of strata asks the engine for what it needs.
#[derive(Clone)]
pub struct DatabaseUrl {
    engine: &'static dyn Engine,
    target: Arc<dyn Target>,
}

/// An engine's parsed URL. `Display` must mask any password: it is what every
/// message shows.
pub trait Target: Any + Send + Sync + fmt::Display + fmt::Debug {}

impl DatabaseUrl {
    /// Parses `text` with the engine whose scheme it starts with; a relative
    /// file path is taken relative to `base`.
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        registry::parse_url(text, base)
    }

    /// Made by an engine's `parse_url`.
    pub(crate) fn new(engine: &'static dyn Engine, target: impl Target) -> Self {
        DatabaseUrl {
            engine,
            target: Arc::new(target),
        }
    }

    /// The engine this URL belongs to.
    pub fn engine(&self) -> &'static dyn Engine {
        self.engine
    }

    /// The dialect name (and migrations folder) of this URL's engine.
    pub fn dialect_name(&self) -> &'static str {
        self.engine.name()
    }

    /// The engine's own reading of the URL; an error (never a panic) if a URL
    /// of another engine is handed over.
    pub(crate) fn target<T: Target>(&self) -> Result<&T> {
        let target: &dyn Any = &*self.target;
        target.downcast_ref::<T>().ok_or_else(|| {
            Error::Usage(format!(
                "{self} is a {} URL, not one this engine can use",
                self.engine.name()
            ))
        })
    }
}

/// Whether `text` is a libpq connection string (`host=db dbname=app …`): it starts
/// with a keyword and `=`, which no URL does.
pub(crate) fn is_key_value(text: &str) -> bool {
    let text = text.trim_start();
    let key_length = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    key_length > 0 && text[key_length..].trim_start().starts_with('=')
}

/// Whether a URL query parameter or libpq keyword holds a secret
/// (`password`, `sslpassword`, …).
fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

const MASK: &str = "***";

/// `text` with every password replaced by `***`: the `user:password@` of a URL
/// (also of a malformed one such as `postgres:/app:pw@host/db` or `app:pw@host`),
/// `?password=` query parameters, and libpq's `password=` keywords.
pub fn mask_password(text: &str) -> String {
    if is_key_value(text) {
        return mask_key_value(text);
    }
    // A well-formed URL: the url crate knows where user info and query begin.
    if let Ok(mut url) = url::Url::parse(text) {
        if url.has_host() {
            if url.password().is_some() {
                let _ = url.set_password(Some(MASK));
            }
            if url.query().is_some() {
                let pairs = masked_pairs(url.query().unwrap_or_default());
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
            return url.to_string();
        }
    }
    mask_by_hand(text)
}

/// The pairs of a query string, secrets masked.
fn masked_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| {
            let value = if is_secret_key(&key) {
                MASK.to_string()
            } else {
                value.into_owned()
            };
            (key.into_owned(), value)
        })
        .collect()
}

/// Text the url crate cannot parse as a URL with a host (several hosts,
/// `postgres:/app:pw@host`, `app:pw@host/db`): whatever stands between the first
/// `:` of the user info and the last `@` is masked, erring towards masking too much.
fn mask_by_hand(text: &str) -> String {
    let (main, query) = match text.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (text, None),
    };
    let mut out = match main.rfind('@') {
        Some(at) => {
            let start = user_info_start(main);
            match main[start..at].find(':') {
                Some(colon) => format!("{}:{MASK}{}", &main[..start + colon], &main[at..]),
                None => main.to_string(),
            }
        }
        None => main.to_string(),
    };
    if let Some(query) = query {
        let masked: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(masked_pairs(query))
            .finish();
        out.push('?');
        out.push_str(&masked);
    }
    out
}

/// Where the user info would begin: after `scheme://` or `scheme:/`, else at 0.
fn user_info_start(text: &str) -> usize {
    let scheme_length = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')))
        .unwrap_or(text.len());
    let rest = &text[scheme_length..];
    if scheme_length > 0 && rest.starts_with(":/") {
        let slashes = rest[1..].len() - rest[1..].trim_start_matches('/').len();
        scheme_length + 1 + slashes
    } else {
        0
    }
}

/// libpq's `key=value` syntax (values bare, or single-quoted with `\` escapes):
/// each secret value becomes `***`, everything else is kept as written.
fn mask_key_value(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        // Whitespace, then a keyword, then `=` with optional blanks around it.
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &text[key_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            // Not `key=value`: keep the keyword, nothing secret follows it here.
            out.push_str(&text[start..i]);
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let prefix_end = i;
        if i < bytes.len() && bytes[i] == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'\'' {
                i += escaped_length(text, i);
            }
            i = (i + 1).min(bytes.len());
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += escaped_length(text, i);
            }
            i = i.min(bytes.len());
        }
        out.push_str(&text[start..prefix_end]);
        if is_secret_key(key) {
            out.push_str(MASK);
        } else {
            out.push_str(&text[prefix_end..i]);
        }
    }
    out
}

/// Bytes from `i` to the next character to look at: a `\\` escapes the character
/// after it (whatever its UTF-8 length, so slicing stays on character boundaries).
fn escaped_length(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    let mut chars = rest.chars();
    match chars.next() {
        Some('\\') => 1 + chars.next().map_or(0, char::len_utf8),
        Some(c) => c.len_utf8(),
        None => 0,
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.target, f)
    }
}

/// Masked too: a `{:?}` in an error or a log must not show the password either.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.target, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_paths_relative_to_base() {
        let url = DatabaseUrl::parse("sqlite:data/app.db", Path::new("/proj")).unwrap();
        assert_eq!(url.to_string(), "sqlite:/proj/data/app.db");
        assert_eq!(url.dialect_name(), "sqlite");
        let memory = DatabaseUrl::parse("sqlite::memory:", Path::new(".")).unwrap();
        assert_eq!(memory.to_string(), "sqlite::memory:");
    }

    #[test]
    fn masks_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/prod", Path::new(".")).unwrap();
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/prod");
        assert!(!format!("{url:?}").contains("s3cret"));
        let error = DatabaseUrl::parse("mysql://app:s3cret@db/prod", Path::new(".")).unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn masks_every_form_of_password() {
        for (text, masked) in [
            (
                "postgres://app:s3cret@db/prod",
                "postgres://app:***@db/prod",
            ),
            ("postgres://app@db/prod", "postgres://app@db/prod"),
            (
                "postgres://db/prod?user=app&password=s3cret&sslmode=disable",
                "postgres://db/prod?user=app&password=***&sslmode=disable",
            ),
            (
                "postgres://app:s3cret@h1:5432,h2:5433/prod?sslpassword=s3cret",
                "postgres://app:***@h1:5432,h2:5433/prod?sslpassword=***",
            ),
            ("postgres:/app:s3cret@h/db", "postgres:/app:***@h/db"),
            ("postgres:app:s3cret@h/db", "postgres:***@h/db"),
            ("app:s3cret@host/db", "app:***@host/db"),
            ("postgres://app:s3/cr@et@h/db", "postgres://app:***@h/db"),
            (
                "host=db user=app password=s3cret dbname=prod",
                "host=db user=app password=*** dbname=prod",
            ),
            (
                "host=db password = 's3 c\\'ret' dbname=prod",
                "host=db password = *** dbname=prod",
            ),
            ("host=db password='s3cret", "host=db password=***"),
            ("host=db password=s3\\é\\", "host=db password=***"),
        ] {
            assert_eq!(mask_password(text), masked, "{text}");
            assert!(!mask_password(text).contains("s3"), "{text}");
        }
    }

    #[test]
    fn masks_odd_but_valid_urls() {
        for text in [
            "postgres://app:s3cret@/db?host=/var/run/postgresql",
            "postgresql://app:s3cret@[::1]:5432/db",
            "postgres://app:s3cret@db/prod?options=-c%20search_path%3Dx&password=s3cret",
        ] {
            let masked = mask_password(text);
            assert!(!masked.contains("s3cret"), "{text} → {masked}");
            assert!(masked.contains("***"), "{text} → {masked}");
        }
    }

    #[test]
    fn accepts_libpq_key_value_strings() {
        let url = DatabaseUrl::parse("host=db dbname=app password=x", Path::new(".")).unwrap();
        assert_eq!(url.to_string(), "host=db dbname=app password=***");
        assert!(DatabaseUrl::parse("app:pw@host/db", Path::new(".")).is_err());
    }
}
