//! PostgreSQL's entry in the engine registry: its URLs (`postgres://…`,
//! `postgresql://…`, libpq `key=value` strings), checked when parsed so that a
//! mistake is a usage error (exit 2) naming what is wrong, and creating and
//! dropping whole databases.

use std::path::Path;

use super::{admin, config_of, PostgresDatabase};
use crate::driver::registry::Engine;
use crate::driver::url::{is_key_value, mask_password, Target};
use crate::driver::{ConnectOptions, Database, DatabaseUrl, Dialect};
use crate::{Error, Result};

pub struct PostgresEngine;

/// The registry's handle on PostgreSQL.
pub static POSTGRES: PostgresEngine = PostgresEngine;

pub(crate) const FORMS: &str =
    "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require], \
                                libpq settings (host=… dbname=…)";

/// The `sslmode` values strata can honour (the TLS it uses encrypts but does
/// not verify certificates, so `verify-ca`/`verify-full` would promise too much).
pub(crate) const SSL_MODES: &[&str] = &["disable", "prefer", "require"];

/// A PostgreSQL URL or libpq string, as given; shown masked.
#[derive(Clone)]
pub struct PostgresTarget {
    pub text: String,
}

impl Target for PostgresTarget {}

impl std::fmt::Display for PostgresTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&mask_password(&self.text))
    }
}

impl std::fmt::Debug for PostgresTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Postgres")
            .field(&mask_password(&self.text))
            .finish()
    }
}

/// The `sslmode` the text asks for, if any.
fn ssl_mode(text: &str) -> Option<String> {
    if is_key_value(text) {
        return text
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .filter(|(key, _)| key.trim() == "sslmode")
            .map(|(_, value)| value.trim_matches('\'').to_string())
            .next_back();
    }
    let query = text.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(key, _)| key == "sslmode")
        .map(|(_, value)| value.into_owned())
        .last()
}

/// Checks `text` the way connecting would, without connecting.
pub fn parse(text: &str) -> Result<PostgresTarget> {
    let masked = mask_password(text);
    if let Some(mode) = ssl_mode(text) {
        if !SSL_MODES.contains(&mode.as_str()) {
            return Err(Error::Usage(format!(
                "{masked}: unknown sslmode `{mode}`; strata accepts sslmode={} \
                 (verify-ca and verify-full are not supported: the server's certificate is not checked)",
                SSL_MODES.join(", sslmode=")
            )));
        }
    }
    let config = config_of(text)?;
    if config.get_hosts().is_empty() && config.get_dbname().is_none() && config.get_user().is_none()
    {
        return Err(Error::Usage(format!(
            "`{masked}` names no server, user or database; expected {FORMS}, \
             e.g. postgres://app@localhost:5432/app"
        )));
    }
    Ok(PostgresTarget {
        text: text.to_string(),
    })
}

impl Engine for PostgresEngine {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn builtin_type(&self, spelling: &str) -> Option<String> {
        super::types::builtin_type(spelling)
    }

    fn canonical_type(&self, spelling: &str) -> String {
        super::types::canonical_type(spelling)
    }

    fn holds_as(&self, spelling: &str, portable: &crate::schema::Type) -> bool {
        // `text` was what strata read `text` columns as before it kept them.
        *portable == crate::schema::Type::Text && spelling == "text"
    }

    fn value_type(&self, spelling: &str) -> Option<crate::schema::Type> {
        // The character types take any text (lengths are PostgreSQL's to check).
        let base = spelling.split('(').next().unwrap_or(spelling).trim();
        (!spelling.ends_with(']') && matches!(base, "text" | "character" | "character varying"))
            .then_some(crate::schema::Type::Text)
    }

    fn type_examples(&self) -> &'static str {
        "`jsonb`, `character(2)`, `text[]`, `tsvector`, `inet`, `interval`"
    }

    fn builtin_type_names(&self) -> &'static [&'static str] {
        super::types::BUILTIN_TYPES
    }

    fn has_enum_types(&self) -> bool {
        true
    }

    fn has_domains(&self) -> bool {
        true
    }

    fn url_prefixes(&self) -> &'static [&'static str] {
        &["postgres://", "postgresql://"]
    }

    fn claims(&self, text: &str) -> bool {
        is_key_value(text)
    }

    fn url_forms(&self) -> &'static str {
        "postgres://USER@HOST/DB, libpq settings (host=… dbname=…)"
    }

    fn parse_url(&'static self, text: &str, _base: &Path) -> Result<DatabaseUrl> {
        Ok(DatabaseUrl::new(self, parse(text)?))
    }

    fn dialect(&self) -> Box<dyn Dialect> {
        Box::new(super::PostgresDialect)
    }

    fn script_engine(&self) -> crate::script::Engine {
        crate::script::Engine::Postgres
    }

    fn connect(&self, url: &DatabaseUrl, options: ConnectOptions) -> Result<Box<dyn Database>> {
        let target = url.target::<PostgresTarget>()?;
        Ok(Box::new(PostgresDatabase::connect(
            &target.text,
            options.ddl_lock_timeout,
        )?))
    }

    /// A server database cannot be opened "without creating it" any other way:
    /// connecting to a missing one fails with a message saying so.
    fn open_existing(
        &self,
        url: &DatabaseUrl,
        options: ConnectOptions,
    ) -> Result<Option<Box<dyn Database>>> {
        self.connect(url, options).map(Some)
    }

    fn create_database(&self, url: &DatabaseUrl) -> Result<bool> {
        admin::create_database_if_missing(&url.target::<PostgresTarget>()?.text)
    }

    fn drop_database(&self, url: &DatabaseUrl, yes: bool) -> Result<Option<String>> {
        if !yes {
            return Err(Error::Refused(format!(
                "--fresh would drop the database {url} (forcing other connections off); add --yes to confirm"
            )));
        }
        admin::drop_database(&url.target::<PostgresTarget>()?.text)?;
        Ok(Some(format!("Dropped {url}")))
    }

    fn hosts_scratch_databases(&self) -> bool {
        true
    }

    fn templates(&self) -> Option<&dyn crate::driver::registry::Templates> {
        Some(&super::template::PostgresTemplates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_alone_is_a_usage_error_with_the_forms() {
        for text in ["postgres://", "postgresql://"] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.exit_code(), crate::error::exit::USAGE, "{text}");
            let message = error.to_string();
            assert!(
                message.contains("names no server, user or database"),
                "{message}"
            );
            assert!(
                message.contains("postgres://USER[:PASSWORD]@HOST"),
                "{message}"
            );
        }
        assert!(parse("postgres://app@localhost/app").is_ok());
        assert!(parse("host=db dbname=app").is_ok());
    }

    #[test]
    fn an_unknown_sslmode_lists_the_accepted_ones() {
        for text in [
            "postgres://app:s3cret@db/app?sslmode=verify-full",
            "host=db password=s3cret sslmode=requir",
        ] {
            let error = parse(text).unwrap_err();
            assert_eq!(error.exit_code(), crate::error::exit::USAGE);
            let message = error.to_string();
            assert!(message.contains("unknown sslmode"), "{message}");
            assert!(
                message.contains("sslmode=disable, sslmode=prefer, sslmode=require"),
                "{message}"
            );
            assert!(!message.contains("s3cret"), "{message}");
        }
        assert!(parse("postgres://app@db/app?sslmode=require").is_ok());
    }
}
