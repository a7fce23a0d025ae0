//! The engine registry: every database engine strata knows registers here once,
//! and the rest of strata asks the registry (by dialect name or by URL) instead
//! of naming an engine. Adding an engine is one folder under `src/driver/` that
//! implements [`Engine`], plus one line in [`ENGINES`].

use std::path::Path;

use super::{ConnectOptions, Database, DatabaseUrl, Dialect};
use crate::{Error, Result};

/// What an engine implements, besides the [`Dialect`] (planning, replay) and
/// [`Database`] (a live connection: introspection, history, locks, patches)
/// it hands out. Shaped after sqlx's `MigrateDatabase` and atlas's drivers.
pub trait Engine: Sync {
    /// The dialect name: what `[project] dialects` lists and the folder under
    /// `migrations/` this engine's files live in.
    fn name(&self) -> &'static str;

    /// How the URLs this engine accepts begin (`sqlite:`, `postgres://`),
    /// compared ignoring case.
    fn url_prefixes(&self) -> &'static [&'static str];

    /// Whether `text`, which starts with none of the registered prefixes, is still
    /// this engine's (PostgreSQL's libpq `key=value` strings).
    fn claims(&self, _text: &str) -> bool {
        false
    }

    /// The accepted URL forms, for error messages: `sqlite:PATH, sqlite::memory:`.
    fn url_forms(&self) -> &'static str;

    /// Parses a URL this engine accepts; a relative file path is taken relative
    /// to `base`. Errors say what was wrong and the accepted forms.
    fn parse_url(&'static self, text: &str, base: &Path) -> Result<DatabaseUrl>;

    /// Planning and replay, which need no user database.
    fn dialect(&self) -> Box<dyn Dialect>;

    /// How strata's statement lexer reads this engine's SQL.
    fn script_engine(&self) -> crate::script::Engine;

    /// Double-quotes an identifier, doubling embedded quotes (standard SQL).
    fn quote_identifier(&self, name: &str) -> String {
        super::quote_identifier(name)
    }

    /// Opens the database, creating it when the engine can do so implicitly (a
    /// SQLite file).
    fn connect(&self, url: &DatabaseUrl, options: ConnectOptions) -> Result<Box<dyn Database>>;

    /// Opens the database only if it exists, never creating it: `None` when the
    /// engine can tell that it does not exist (a missing SQLite file). Used by
    /// the commands that only read (`status`, `pull`, `check`, `migrate --dry-run`).
    fn open_existing(
        &self,
        url: &DatabaseUrl,
        options: ConnectOptions,
    ) -> Result<Option<Box<dyn Database>>>;

    /// Creates the database unless it exists; returns whether it created it.
    fn create_database(&self, url: &DatabaseUrl) -> Result<bool>;

    /// Deletes the database (`setup --fresh`), or refuses with why when what the
    /// URL names does not look like a database of this engine. Returns what was
    /// done, for the user ("Removed x.db"), or `None` when there was nothing to do.
    /// Without `yes` it refuses (after those checks), saying what would go.
    fn drop_database(&self, url: &DatabaseUrl, yes: bool) -> Result<Option<String>>;

    /// Whether the engine compares names ignoring ASCII letter case and keeps
    /// tables, indexes and constraints in one namespace (schema.toml refuses
    /// names that would collide there).
    fn folds_name_case(&self) -> bool {
        false
    }

    /// This engine's own spelling of a built-in type (`char(2)` → PostgreSQL's
    /// `character(2)`), or `None` when `spelling` names none of its built-in
    /// types: what a bare `type = "..."` of a project with only this dialect may
    /// say. `spelling` has passed [`crate::schema::type_spelling_problem`].
    fn builtin_type(&self, _spelling: &str) -> Option<String> {
        None
    }

    /// `spelling` as the engine keeps it and reads it back (PostgreSQL folds
    /// unquoted names to lower case and resolves aliases; SQLite keeps the text).
    fn canonical_type(&self, spelling: &str) -> String {
        spelling.to_string()
    }

    /// The portable type whose values a native spelling's behave as, for
    /// checking patch values (SQLite: its affinity); `None` when unknown.
    fn value_type(&self, _spelling: &str) -> Option<crate::schema::Type> {
        None
    }

    /// Whether a column declared `spelling` (read back from the database) is
    /// what this engine makes of the portable type `portable` — the same type
    /// under another name (SQLite: the same affinity, lengths unenforced;
    /// PostgreSQL: `text` for `text`). Such a column of a hand-written
    /// migration is not changed to the declared spelling.
    fn holds_as(&self, _spelling: &str, _portable: &crate::schema::Type) -> bool {
        false
    }

    /// A few of its own types as schema.toml writes them, for messages.
    fn type_examples(&self) -> &'static str {
        ""
    }

    /// The names of the built-in types, for suggestions.
    fn builtin_type_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether the engine has enum types (`CREATE TYPE … AS ENUM`); without
    /// them an enum column is text with a CHECK (`Schema::for_dialect`).
    fn has_enum_types(&self) -> bool {
        false
    }

    /// Whether the engine has domains (`CREATE DOMAIN`); without them a domain
    /// column is its base type with the domain's checks (`Schema::for_dialect`).
    fn has_domains(&self) -> bool {
        false
    }

    /// Template databases (`setup --template`, `strata clone`): `None` when this
    /// engine has none.
    fn templates(&self) -> Option<&dyn Templates> {
        None
    }

    /// Whether a URL of this engine can serve as `--dev-url`: a server where
    /// scratch databases are created to replay migrations into.
    fn hosts_scratch_databases(&self) -> bool {
        false
    }
}

/// A template database, and whether this call built it (it was missing or out
/// of date).
#[derive(Debug, Clone)]
pub struct Template {
    pub url: DatabaseUrl,
    pub built: bool,
}

/// Migrates and patches a new template (supplied by `migrate/`, which owns
/// migrations and patches; engines only store and copy databases).
pub type Fill<'a> = &'a mut dyn FnMut(&mut dyn Database) -> Result<()>;

/// How an engine keeps templates and copies them.
pub trait Templates {
    /// The template for databases like `url`, holding `key`: returned as it is
    /// when one with that key exists, otherwise (re)built with `fill`. `cache`
    /// is the project's cache folder, for engines that keep templates as files.
    fn ensure(
        &self,
        url: &DatabaseUrl,
        cache: &Path,
        key: &str,
        fill: Fill<'_>,
    ) -> Result<Template>;

    /// A new database `name` (a database on `url`'s server, or a file path),
    /// copied from `template`; never overwrites an existing one.
    fn clone_into(&self, url: &DatabaseUrl, template: &Template, name: &str)
        -> Result<DatabaseUrl>;
}

/// Every engine strata knows. The first is the default for `[project] dialects`.
pub static ENGINES: &[&dyn Engine] = &[&super::sqlite::SQLITE, &super::postgres::POSTGRES];

/// The engine of a dialect name listed in `[project] dialects`.
pub fn engine(name: &str) -> Option<&'static dyn Engine> {
    ENGINES.iter().copied().find(|engine| engine.name() == name)
}

/// The dialect names, in registry order.
pub fn dialect_names() -> Vec<&'static str> {
    ENGINES.iter().map(|engine| engine.name()).collect()
}

/// The engine a URL belongs to, by how it begins (or by a syntax an engine claims).
pub(crate) fn parse_url(text: &str, base: &Path) -> Result<DatabaseUrl> {
    let text = text.trim();
    for engine in ENGINES {
        let ours = engine.url_prefixes().iter().any(|prefix| {
            text.get(..prefix.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
        });
        if ours {
            return engine.parse_url(text, base);
        }
    }
    if let Some(engine) = ENGINES.iter().find(|engine| engine.claims(text)) {
        return engine.parse_url(text, base);
    }
    Err(Error::Usage(format!(
        "unrecognised database URL `{}`: expected {}",
        super::url::mask_password(text),
        accepted_forms()
    )))
}

/// Every engine's accepted URL forms, for messages.
pub(crate) fn accepted_forms() -> String {
    ENGINES
        .iter()
        .map(|engine| engine.url_forms())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_is_found_by_name_and_by_url_scheme() {
        for each in ENGINES {
            assert_eq!(engine(each.name()).map(|e| e.name()), Some(each.name()));
            assert_eq!(each.dialect().name(), each.name());
        }
        assert!(engine("oracle").is_none());
        assert_eq!(dialect_names(), ["sqlite", "postgres"]);
    }
}
