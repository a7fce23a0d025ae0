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
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(folder, error)),
    };
    // `<root>/migrations/<dialect>`: links may point anywhere inside `<root>`.
    let root = folder.parent().and_then(Path::parent).unwrap_or(folder);
    let mut scripts = Vec::new();
    let mut seen: HashMap<i32, String> = HashMap::new();
    let mut diesel_folders = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| Error::io(folder, error))?;
        let path = entry.path();
        // Diesel's layout: one folder per migration (`[project] layout = "diesel"`).
        if entry
            .file_type()
            .map_err(|error| Error::io(&path, error))?
            .is_dir()
        {
            diesel_folders.push(path);
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `V<n>__<name>.down.sql` undoes `V<n>__<name>.sql` ([`load_down`]).
        if file_name.ends_with(DOWN_SUFFIX) {
            continue;
        }
        let (version, name) =
            parse_file_name(&file_name).map_err(|message| Error::InvalidFile {
                path: path.clone(),
                message,
            })?;
        if let Some(other) = seen.insert(version, file_name.clone()) {
            return Err(Error::InvalidFile {
                path: path.clone(),
                message: format!("version {version} is also used by {other}; give one of them the next free number"),
            });
        }
        let bytes = read_project_file(&path, root)?;
        let sql = source_text(&path, bytes)?;
        scripts.push(MigrationScript {
            version,
            name,
            sql,
            dir: None,
        });
    }
    scripts.sort_by_key(|script| script.version);
    if diesel_folders.is_empty() {
        return Ok(scripts);
    }
    if let Some(script) = scripts.first() {
        return Err(Error::InvalidFile {
            path: folder.join(script.file_name()),
            message: format!(
                "this folder mixes refinery's layout (V<n>__<name>.sql files) with Diesel's \
                 (migration folders such as {}); keep one: `strata convert --to diesel` or \
                 `--to refinery` moves a project from one to the other",
                diesel_folders[0].display()
            ),
        });
    }
    load_diesel_migrations(folder, root, diesel_folders)
}

/// Diesel's layout: `<version>_<name>/up.sql` folders, numbered by position in
/// version order (Diesel's order: the version as text without its dashes).
fn load_diesel_migrations(
    folder: &Path,
    root: &Path,
    folders: Vec<PathBuf>,
) -> Result<Vec<MigrationScript>> {
    let mut found = Vec::new();
    for path in folders {
        let dir = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (_, name) = split_folder_name(&dir).map_err(|message| Error::InvalidFile {
            path: path.clone(),
            message,
        })?;
        validate_migration_name(name).map_err(|error| Error::InvalidFile {
            path: path.clone(),
            message: error.to_string(),
        })?;
        let up = path.join(UP_FILE);
        if !up.exists() {
            return Err(Error::InvalidFile {
                path: path.clone(),
                message: format!(
                    "a Diesel migration folder needs an {UP_FILE} (and a {DOWN_FILE}); \
                     this one has none"
                ),
            });
        }
        let bytes = read_project_file(&up, root)?;
        let sql = source_text(&up, bytes)?;
        found.push((recorded_version(&dir), name.to_string(), dir, sql));
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
