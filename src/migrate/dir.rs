//! `migrations/<dialect>/V<n>__<name>.sql` files → [`MigrationScript`]s.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::layout::{recorded_version, split_folder_name, DOWN_FILE, UP_FILE};

use crate::driver::MigrationScript;
use crate::file_text::source_text;
use crate::project::read_project_file;
use crate::{Error, Result};

/// Every migration in `folder`, ordered by version. A missing folder has none.
pub fn load_migrations(folder: &Path) -> Result<Vec<MigrationScript>> {
    MigrationFiles::read(folder)?.scripts()
}

/// One dialect's migrations folder as text: its `.sql` files (down files
/// included) and its integrity file, read from disk ([`MigrationFiles::read`])
/// or handed over in memory ([`MigrationFiles::in_memory`], for migrations
/// embedded in an application). Everything that applies or verifies
/// migrations works on this, so both kinds get the same checks.
#[derive(Debug, Clone)]
pub struct MigrationFiles {
    /// Where the files are, for messages (a relative label when embedded).
    pub folder: PathBuf,
    /// (file name, text) of every `.sql` file, up and down.
    files: Vec<(String, String)>,
    /// The integrity file's bytes, when there is one.
    sum: Option<Vec<u8>>,
}

impl MigrationFiles {
    /// The files of `folder` on disk. A missing folder has none. Names are
    /// checked before a file is opened, so a misnamed file is reported as such.
    pub fn read(folder: &Path) -> Result<Self> {
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return MigrationFiles::in_memory(folder, Vec::new(), None)
            }
            Err(error) => return Err(Error::io(folder, error)),
        };
        // `<root>/migrations/<dialect>`: links may point anywhere inside `<root>`.
        let root = folder.parent().and_then(Path::parent).unwrap_or(folder);
        let mut ups = Vec::new();
        let mut downs = Vec::new();
        let mut diesel_files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|error| Error::io(folder, error))?;
            let path = entry.path();
            // Diesel's layout: one folder per migration (`[project] layout = "diesel"`).
            if entry
                .file_type()
                .map_err(|error| Error::io(&path, error))?
                .is_dir()
            {
                diesel_files.extend(diesel_folder_files(&path)?);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("sql") {
                continue;
            }
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if file_name.ends_with(DOWN_SUFFIX) {
                downs.push(file_name);
            } else {
                parse_file_name(&file_name).map_err(|message| Error::InvalidFile {
                    path: path.clone(),
                    message,
                })?;
                ups.push(file_name);
            }
        }
        // A down file whose up file was renamed or deleted would otherwise be
        // ignored, and `rollback` would later say the migration cannot be undone.
        for down in &downs {
            let stem = &down[..down.len() - DOWN_SUFFIX.len()];
            if !ups.iter().any(|up| up.strip_suffix(".sql") == Some(stem)) {
                return Err(Error::InvalidFile {
                    path: folder.join(down),
                    message: format!(
                        "this down migration has no up migration: expected {stem}.sql beside it; \
                         rename it after its up file or delete it"
                    ),
                });
            }
        }
        let mut files = Vec::new();
        for file_name in ups.into_iter().chain(downs).chain(diesel_files) {
            let path = folder.join(&file_name);
            let bytes = read_project_file(&path, root)?;
            files.push((file_name, source_text(&path, bytes)?));
        }
        let sum_path = folder.join(super::integrity::SUM_FILE);
        let sum = match std::fs::read(&sum_path) {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(Error::io(sum_path, error)),
        };
        Ok(MigrationFiles {
            folder: folder.to_path_buf(),
            files,
            sum,
        })
    }

    /// Files already in memory: (file name, bytes) of the folder's `.sql`
    /// files, and its integrity file's bytes. `folder` names them in messages.
    /// Text is decoded as from disk: UTF-8, a byte-order mark dropped, NUL refused.
    pub fn in_memory(
        folder: &Path,
        files: Vec<(String, Vec<u8>)>,
        sum: Option<Vec<u8>>,
    ) -> Result<Self> {
        let mut texts = Vec::new();
        for (name, bytes) in files {
            if name.ends_with(".sql") {
                let text = source_text(&folder.join(&name), bytes)?;
                texts.push((name, text));
            }
        }
        Ok(MigrationFiles {
            folder: folder.to_path_buf(),
            files: texts,
            sum,
        })
    }

    /// The migrations, ordered by version; an invalid name or a version used
    /// twice is an error naming the file.
    pub fn scripts(&self) -> Result<Vec<MigrationScript>> {
        let mut scripts = Vec::new();
        let mut seen: HashMap<i32, String> = HashMap::new();
        let mut diesel = Vec::new();
        for (file_name, sql) in &self.files {
            if let Some((dir, file)) = file_name.split_once('/') {
                if file == UP_FILE {
                    diesel.push((dir.to_string(), sql.clone()));
                }
                continue;
            }
            if file_name.ends_with(DOWN_SUFFIX) {
                continue;
            }
            let path = self.folder.join(file_name);
            let (version, name) =
                parse_file_name(file_name).map_err(|message| Error::InvalidFile {
                    path: path.clone(),
                    message,
                })?;
            if let Some(other) = seen.insert(version, file_name.clone()) {
                return Err(Error::InvalidFile {
                    path,
                    message: format!("version {version} is also used by {other}; give one of them the next free number"),
                });
            }
            scripts.push(MigrationScript {
                version,
                name,
                sql: sql.clone(),
                dir: None,
            });
        }
        scripts.sort_by_key(|script| script.version);
        if diesel.is_empty() {
            return Ok(scripts);
        }
        if let Some(script) = scripts.first() {
            return Err(Error::InvalidFile {
                path: self.folder.join(script.file_name()),
                message: format!(
                    "this folder mixes refinery's layout (V<n>__<name>.sql files) with Diesel's \
                     (migration folders such as {}); keep one: `strata convert --to diesel` or \
                     `--to refinery` moves a project from one to the other",
                    diesel[0].0
                ),
            });
        }
        diesel_scripts(&self.folder, diesel)
    }

    /// The down migration of `script`: its file name and text, if it has one.
    pub fn down(&self, script: &MigrationScript) -> Option<(String, String)> {
        let file_name = down_file_name(script);
        self.files
            .iter()
            .find(|(name, _)| *name == file_name)
            .cloned()
    }

    /// The integrity file's bytes, when the folder has one.
    pub fn sum_bytes(&self) -> Option<&[u8]> {
        self.sum.as_deref()
    }
}

/// The files of one Diesel migration folder, as `<folder>/up.sql` and
/// `<folder>/down.sql` (when it has one), after checking its name.
fn diesel_folder_files(path: &Path) -> Result<Vec<String>> {
    let dir = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (_, name) = split_folder_name(&dir).map_err(|message| Error::InvalidFile {
        path: path.to_path_buf(),
        message,
    })?;
    validate_migration_name(name).map_err(|error| Error::InvalidFile {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    if !path.join(UP_FILE).exists() {
        return Err(Error::InvalidFile {
            path: path.to_path_buf(),
            message: format!(
                "a Diesel migration folder needs an {UP_FILE} (and a {DOWN_FILE}); \
                 this one has none"
            ),
        });
    }
    let mut files = vec![format!("{dir}/{UP_FILE}")];
    if path.join(DOWN_FILE).exists() {
        files.push(format!("{dir}/{DOWN_FILE}"));
    }
    Ok(files)
}

/// Diesel's layout: `<version>_<name>/up.sql` folders, numbered by position in
/// version order (Diesel's order: the version as text without its dashes).
fn diesel_scripts(folder: &Path, folders: Vec<(String, String)>) -> Result<Vec<MigrationScript>> {
    let mut found = Vec::new();
    for (dir, sql) in folders {
        let (_, name) = split_folder_name(&dir).map_err(|message| Error::InvalidFile {
            path: folder.join(&dir),
            message,
        })?;
        let name = name.to_string();
        found.push((recorded_version(&dir), name, dir, sql));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = found.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(Error::InvalidFile {
            path: folder.join(&pair[1].2),
            message: format!(
                "its version is also {}'s (Diesel compares versions without their dashes); \
                 give one of them a later version",
                pair[0].2
            ),
        });
    }
    Ok(found
        .into_iter()
        .enumerate()
        .map(|(index, (_, name, dir, sql))| MigrationScript {
            version: index as i32 + 1,
            name,
            sql,
            dir: Some(dir),
        })
        .collect())
}

/// What a down migration's file name ends with: `V3__add_power.down.sql`.
pub const DOWN_SUFFIX: &str = ".down.sql";

/// The down migration of `script` in `folder`: its file name and text, or `None`
/// when there is none (a hand-written migration without one).
pub fn load_down(folder: &Path, script: &MigrationScript) -> Result<Option<(String, String)>> {
    let file_name = down_file_name(script);
    let path = folder.join(&file_name);
    match std::fs::symlink_metadata(&path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io(&path, error)),
        Ok(_) => {}
    }
    let root = folder.parent().and_then(Path::parent).unwrap_or(folder);
    let bytes = read_project_file(&path, root)?;
    Ok(Some((file_name, source_text(&path, bytes)?)))
}

/// `V3__add_power.down.sql` for `V3__add_power.sql`; `<folder>/down.sql` in
/// Diesel's layout.
pub fn down_file_name(script: &MigrationScript) -> String {
    match &script.dir {
        Some(dir) => format!("{dir}/{DOWN_FILE}"),
        None => format!("{}{DOWN_SUFFIX}", script.stem()),
    }
}

/// `V12__add_power.sql` → (12, "add_power"), or why the name is not a migration's.
///
/// The version must be written the one way it is printed back (`V3`, not `V03`,
/// `V+3` or `V 3`), so that two files can never mean the same version, and must
/// fit refinery's 32-bit version column instead of wrapping around.
fn parse_file_name(file_name: &str) -> Result<(i32, String), String> {
    const EXPECTED: &str = "expected V<number>__<name>.sql, e.g. V2__add_hero_power.sql";
    let not_a_migration = || format!("not a migration file name: {EXPECTED}");
    let stem = file_name.strip_suffix(".sql").ok_or_else(not_a_migration)?;
    let (digits, name) = stem
        .strip_prefix('V')
        .and_then(|rest| rest.split_once("__"))
        .ok_or_else(not_a_migration)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the version `{digits}` is not a plain number: write only the digits after V, \
             without sign, space or other characters ({EXPECTED})"
        ));
    }
    let plain = digits.trim_start_matches('0');
    if plain.is_empty() {
        return Err(format!(
            "the version must be 1 or more, not {digits} ({EXPECTED})"
        ));
    }
    if plain.len() != digits.len() {
        return Err(format!(
            "the version `{digits}` has leading zeros, which make it ambiguous (V{digits} and V{plain} would be the same version): rename the file to V{plain}__{name}.sql"
        ));
    }
    let version: i32 = digits.parse().map_err(|_| {
        format!(
            "the version {digits} is larger than {}, the largest the migration history can store: \
             number migrations upwards from the newest one instead",
            i32::MAX
        )
    })?;
    validate_migration_name(name).map_err(|error| error.to_string())?;
    Ok((version, name.to_string()))
}

/// Names become part of file names and of refinery's history, so they are kept
/// to ASCII letters, digits and underscores.
pub fn validate_migration_name(name: &str) -> Result<()> {
    validate_name("migration", name)
}

/// The rule of [`validate_migration_name`], for a `what` (migration, patch).
pub fn validate_name(what: &str, name: &str) -> Result<()> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Ok(());
    }
    let suggestion: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>()
        .split('_')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let hint = if suggestion.is_empty() {
        "e.g. `add_hero_power`".to_string()
    } else {
        format!("e.g. `{suggestion}`")
    };
    Err(Error::Usage(format!(
        "invalid {what} name `{name}`: use only ASCII letters, digits and underscores, {hint}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("V2__add_power.sql"),
            Ok((2, "add_power".into()))
        );
        assert_eq!(
            parse_file_name("V2147483647__x.sql"),
            Ok((i32::MAX, "x".into()))
        );
        for bad in [
            "V0__x.sql",
            "2__x.sql",
            "V2_x.sql",
            "V+3__x.sql",
            "V03__x.sql",
            "V 3__x.sql",
            "V-3__x.sql",
            "V2147483648__x.sql",
            "V__x.sql",
        ] {
            assert!(parse_file_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_get_a_suggestion() {
        let error = validate_migration_name("Add hero power!")
            .unwrap_err()
            .to_string();
        assert!(error.contains("`add_hero_power`"), "{error}");
        assert!(validate_migration_name("").is_err());
    }
}
