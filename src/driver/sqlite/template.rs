//! SQLite templates: the file `template-<key>.db` in the project's cache
//! folder; a clone is a copy of that file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::engine::SqliteTarget;
use super::SqliteDatabase;
use crate::driver::registry::{Fill, Template, Templates};
use crate::driver::DatabaseUrl;
use crate::{Error, Result};

pub struct SqliteTemplates;

impl Templates for SqliteTemplates {
    fn ensure(
        &self,
        _url: &DatabaseUrl,
        cache: &Path,
        key: &str,
        fill: Fill<'_>,
    ) -> Result<Template> {
        build_sqlite(cache, key, fill)
    }

    fn clone_into(
        &self,
        _url: &DatabaseUrl,
        template: &Template,
        name: &str,
    ) -> Result<DatabaseUrl> {
        let Some(file) = template.url.target::<SqliteTarget>()?.path.clone() else {
            return Err(Error::Usage(
                "a SQLite template is a file, not an in-memory database".into(),
            ));
        };
        clone_sqlite(&file, Path::new(name))
    }
}

fn file_url(path: &Path) -> DatabaseUrl {
    DatabaseUrl::new(
        &super::SQLITE,
        SqliteTarget {
            path: Some(path.to_path_buf()),
            parameters: Vec::new(),
        },
    )
}

fn build_sqlite(folder: &Path, key: &str, fill: Fill<'_>) -> Result<Template> {
    let folder = folder.to_path_buf();
    let file = folder.join(format!("template-{}.db", &key[..16]));
    let template = |built| Template {
        url: file_url(&file),
        built,
    };
    if file.is_file() {
        return Ok(template(false));
    }
    std::fs::create_dir_all(&folder).map_err(|error| Error::io(&folder, error))?;
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
        let mut database = SqliteDatabase::open_target(
            &SqliteTarget {
                path: Some(building.clone()),
                parameters: Vec::new(),
            },
            Duration::from_secs(60),
            true,
        )?;
        fill(&mut database)
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
    Ok(file_url(&PathBuf::from(target)))
}
