//! Template databases: migrated and patched once, copied per test in
//! milliseconds (`strata setup --template`, `strata clone NAME`, and
//! [`clone_database`] for test suites).
//!
//! - PostgreSQL: the database `<db>_template` beside the configured `<db>`,
//!   marked as a template; a clone is `CREATE DATABASE NAME TEMPLATE <db>_template`.
//! - SQLite: the file `.strata/cache/template-<key>.db` in the project; a clone
//!   is a copy of that file.
//!
//! A template is keyed by the hashes of the migrations (of its dialect) and of the
//! patches, and by strata's version: when any of them changes, the next
//! `setup --template` or clone rebuilds it. The key is the PostgreSQL template's
//! comment, and part of the SQLite template's file name.
//!
//! How an engine stores and copies a template is the engine's
//! ([`crate::driver::registry::Templates`]); this module keys templates and
//! fills them with migrations and patches.

use sha2::{Digest, Sha256};

use super::replay_cache::{prepare_cache_dir, CACHE_DIR};
use super::{integrity, load_migrations};
pub use crate::driver::registry::Template;
use crate::driver::{Database, DatabaseUrl, DEFAULT_LOCK_TIMEOUT};
use crate::patch::{apply_patches, load_patches, PatchOptions, Stage};
use crate::project::Project;
use crate::{Error, Result};

/// A copy made by [`clone_database`].
#[derive(Debug, Clone)]
pub struct Cloned {
    /// The new database.
    pub url: DatabaseUrl,
    pub template: Template,
}

/// The template for the database at `url` (which names the engine and, for
/// PostgreSQL, the server and the name `<db>_template` derives from), built
/// when it is missing or its migrations or patches changed.
pub fn ensure_template(project: &Project, url: &DatabaseUrl) -> Result<Template> {
    let dialect = url.dialect_name();
    let key = template_key(project, dialect)?;
    let templates = url
        .engine()
        .templates()
        .ok_or_else(|| Error::Usage(format!("{dialect} databases have no templates in strata")))?;
    let cache = project.root.join(CACHE_DIR);
    prepare_cache_dir(&cache).map_err(|error| Error::io(&cache, error))?;
    templates.ensure(url, &cache, &key, &mut |database| {
        fill(project, database, dialect)
    })
}

/// A fresh, migrated and patched database named `name` (PostgreSQL: a database
/// on the server `url` names; SQLite: a file path, which must not exist yet),
/// copied from the template, which is built or rebuilt first when needed.
///
/// For test suites: one call per test gives each test a database of its own.
///
/// ```no_run
/// use strata::driver::DatabaseUrl;
/// use strata::migrate::template::clone_database;
/// use strata::project::Project;
///
/// let project = Project::new(".");
/// let server = DatabaseUrl::parse("postgres://app@localhost/app", std::path::Path::new("."))?;
/// let cloned = clone_database(&project, &server, "app_test_1")?;
/// // cloned.url is postgres://app@localhost/app_test_1, at the newest migration and patch.
/// # Ok::<(), strata::Error>(())
/// ```
pub fn clone_database(project: &Project, url: &DatabaseUrl, name: &str) -> Result<Cloned> {
    let template = ensure_template(project, url)?;
    let templates = url.engine().templates().ok_or_else(|| {
        Error::Usage(format!(
            "{} databases have no templates",
            url.dialect_name()
        ))
    })?;
    Ok(Cloned {
        url: templates.clone_into(url, &template, name)?,
        template,
    })
}

/// The hash of everything a template holds: its dialect's migrations (their
/// integrity hashes), every patch (its checksum) and strata's version.
pub fn template_key(project: &Project, dialect: &str) -> Result<String> {
    let scripts = load_migrations(&project.migrations_dir(dialect))?;
    let patches = load_patches(&project.patches_dir())?;
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "strata {}\n{dialect}\nmigrations {}\n",
        env!("CARGO_PKG_VERSION"),
        integrity::sum_of_scripts(&scripts).total
    ));
    for patch in &patches {
        hasher.update(format!("patch {} {}\n", patch.name, patch.checksum));
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// Migrates and patches a new template, printing nothing: each pinned patch
/// right after its migration, as `strata setup` does.
fn fill(project: &Project, database: &mut dyn Database, dialect: &str) -> Result<()> {
    let folder = project.migrations_dir(dialect);
    let files = load_patches(&project.patches_dir())?;
    let options = PatchOptions {
        dry_run: false,
        echo: false,
        lock_timeout: DEFAULT_LOCK_TIMEOUT,
    };
    let pending: Vec<&crate::patch::PatchFile> = files.iter().collect();
    let mut targets: Vec<(Option<i32>, Stage)> = crate::patch::stops(&pending, None)
        .into_iter()
        .map(|version| (Some(version), Stage::PinnedUpTo(version)))
        .collect();
    targets.push((None, Stage::All));
    for (target, stage) in targets {
        super::migrate(
            database,
            &folder,
            target,
            DEFAULT_LOCK_TIMEOUT,
            &mut |_| {},
            |_| {},
        )?;
        apply_patches(database, &files, stage, options, &mut |_| {})?;
    }
    Ok(())
}
