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
//! Every engine-specific call of this module is in [`build_postgres`],
//! [`clone_postgres`], [`build_sqlite`] and [`clone_sqlite`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::replay_cache::{prepare_cache_dir, CACHE_DIR};
use super::{integrity, load_migrations};
use crate::driver::postgres::{PostgresDatabase, ServerAdmin, DEFAULT_DDL_LOCK_TIMEOUT};
use crate::driver::sqlite::SqliteDatabase;
use crate::driver::{Database, DatabaseUrl, DEFAULT_LOCK_TIMEOUT};
use crate::patch::{apply_patches, load_patches, PatchOptions};
use crate::project::Project;
use crate::{Error, Result};

/// What the PostgreSQL template's comment starts with; the key follows.
const COMMENT_PREFIX: &str = "strata template ";

/// PostgreSQL's longest identifier, in bytes; longer names are cut silently.
const MAX_IDENTIFIER: usize = 63;

/// A template, and whether this call built it (it was missing or out of date).
#[derive(Debug, Clone)]
pub struct Template {
    pub url: DatabaseUrl,
    pub built: bool,
}

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
    let dialect = dialect_of(url);
    let key = template_key(project, dialect)?;
    match url {
        DatabaseUrl::Sqlite(_) => build_sqlite(project, &key),
        DatabaseUrl::Postgres(server) => {
            build_postgres(project, &mut ServerAdmin::connect(server)?, &key)
        }
    }
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
    let key = template_key(project, dialect_of(url))?;
    match url {
        DatabaseUrl::Sqlite(_) => {
            let template = build_sqlite(project, &key)?;
            let DatabaseUrl::Sqlite(Some(file)) = &template.url else {
                unreachable!("a SQLite template is a file")
            };
            Ok(Cloned {
                url: clone_sqlite(file, Path::new(name))?,
                template,
            })
        }
        DatabaseUrl::Postgres(server) => {
            // One connection to the server for the check and the copy.
            let mut admin = ServerAdmin::connect(server)?;
            let template = build_postgres(project, &mut admin, &key)?;
            Ok(Cloned {
                url: clone_postgres(&mut admin, &template, name)?,
                template,
            })
        }
    }
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

fn dialect_of(url: &DatabaseUrl) -> &'static str {
    match url {
        DatabaseUrl::Sqlite(_) => "sqlite",
        DatabaseUrl::Postgres(_) => "postgres",
    }
}

/// Migrates and patches a new template, printing nothing.
fn fill(project: &Project, database: &mut dyn Database, dialect: &str) -> Result<()> {
    super::migrate(
        database,
        &project.migrations_dir(dialect),
        DEFAULT_LOCK_TIMEOUT,
        &mut |_| {},
        |_| {},
    )?;
    apply_patches(
        database,
        &project.patches_dir(),
        PatchOptions {
            dry_run: false,
            echo: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        },
        &mut |_| {},
    )?;
    Ok(())
}

fn build_postgres(project: &Project, admin: &mut ServerAdmin, key: &str) -> Result<Template> {
    let name = format!("{}_template", admin.database_name());
    if name.len() > MAX_IDENTIFIER {
        return Err(Error::Usage(format!(
            "the template database's name {name} is longer than PostgreSQL's {MAX_IDENTIFIER} bytes; \
             use a shorter database name"
        )));
    }
    let url = admin.url_of(&name);
    let marker = format!("{COMMENT_PREFIX}{key}");
    if admin.comment(&name)?.as_deref() == Some(marker.as_str()) {
        return Ok(Template {
            url: DatabaseUrl::Postgres(url),
            built: false,
        });
    }
    // Another process may be building it: wait, then look again.
    admin.lock_templates()?;
    if admin.comment(&name)?.as_deref() == Some(marker.as_str()) {
        return Ok(Template {
            url: DatabaseUrl::Postgres(url),
            built: false,
        });
    }
    admin.recreate(&name)?;
    {
        let mut database = PostgresDatabase::connect(&url, DEFAULT_DDL_LOCK_TIMEOUT)?;
        fill(project, &mut database, "postgres")?;
        // The connection closes here: a template nobody is connected to can be copied.
    }
    // Marked last: a build that failed half-way has no key and is rebuilt.
    admin.mark_template(&name, &marker)?;
    Ok(Template {
        url: DatabaseUrl::Postgres(url),
        built: true,
    })
}

fn clone_postgres(admin: &mut ServerAdmin, template: &Template, name: &str) -> Result<DatabaseUrl> {
    let DatabaseUrl::Postgres(template_url) = &template.url else {
        unreachable!("a PostgreSQL template is a database")
    };
    if name.len() > MAX_IDENTIFIER {
        return Err(Error::Usage(format!(
            "{name} is longer than PostgreSQL's {MAX_IDENTIFIER} bytes; use a shorter name"
        )));
    }
    let template = crate::driver::postgres::database_name(template_url)?;
    admin.clone_from(name, &template)?;
    Ok(DatabaseUrl::Postgres(admin.url_of(name)))
}

fn build_sqlite(project: &Project, key: &str) -> Result<Template> {
    let folder = project.root.join(CACHE_DIR);
    let file = folder.join(format!("template-{}.db", &key[..16]));
    let template = |built| Template {
        url: DatabaseUrl::Sqlite(Some(file.clone())),
        built,
    };
    if file.is_file() {
        return Ok(template(false));
    }
    prepare_cache_dir(&folder).map_err(|error| Error::io(&folder, error))?;
    // Another process may be building it: wait, then look again.
    let lock_path = folder.join("template.lock");
    let lock = std::fs::File::create(&lock_path).map_err(|error| Error::io(&lock_path, error))?;
    lock.lock().map_err(|error| Error::io(&lock_path, error))?;
    if file.is_file() {
        return Ok(template(false));
    }
    // Built under a temporary name and renamed when whole, so a clone never
    // copies half a template.
    let building = folder.join(format!(
        ".template-{}.{}.tmp",
        &key[..16],
        std::process::id()
    ));
    let result = (|| {
        let mut database =
            SqliteDatabase::open_waiting(&Some(building.clone()), Duration::from_secs(60))?;
        fill(project, &mut database, "sqlite")
    })();
    let _ = std::fs::remove_file(format!("{}.strata-lock", building.display()));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&building);
        return Err(error);
    }
    std::fs::rename(&building, &file).map_err(|error| Error::io(&file, error))?;
    remove_old_templates(&folder, &file);
    Ok(template(true))
}

/// Templates of earlier keys are of no more use.
fn remove_old_templates(folder: &Path, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("template-") && name.ends_with(".db") && path != keep {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn clone_sqlite(template: &Path, target: &Path) -> Result<DatabaseUrl> {
    let mut source = std::fs::File::open(template).map_err(|error| Error::io(template, error))?;
    // create_new: an existing database is never overwritten.
    let mut copy = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target)
    {
        Ok(copy) => copy,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::Refused(format!(
                "{} already exists; clone into a new file (or delete it first)",
                target.display()
            )))
        }
        Err(error) => return Err(Error::io(target, error)),
    };
    // Not synced: a copy for a test run needs no durability, and fsync would
    // cost more than the copy.
    if let Err(error) = std::io::copy(&mut source, &mut copy) {
        let _ = std::fs::remove_file(target);
        return Err(Error::io(target, error));
    }
    Ok(DatabaseUrl::Sqlite(Some(PathBuf::from(target))))
}
