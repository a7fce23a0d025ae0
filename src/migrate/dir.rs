//! `migrations/<dialect>/V<n>__<name>.sql` files → [`MigrationScript`]s.

use std::collections::HashMap;
use std::path::Path;

use crate::driver::MigrationScript;
use crate::project::utf8_text;
use crate::{Error, Result};

/// Every migration in `folder`, ordered by version. A missing folder has none.
pub fn load_migrations(folder: &Path) -> Result<Vec<MigrationScript>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(folder, error)),
    };
    let mut scripts = Vec::new();
    let mut seen: HashMap<i32, String> = HashMap::new();
    for entry in entries {
        let path = entry.map_err(|error| Error::io(folder, error))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (version, name) = parse_file_name(&file_name).ok_or_else(|| Error::InvalidFile {
            path: path.clone(),
            message: "not a migration file name: expected V<number>__<name>.sql, e.g. V2__add_hero_power.sql".to_string(),
        })?;
        if let Some(other) = seen.insert(version, file_name.clone()) {
            return Err(Error::InvalidFile {
                path: path.clone(),
                message: format!("version {version} is also used by {other}; give one of them the next free number"),
            });
        }
        let bytes = std::fs::read(&path).map_err(|error| Error::io(&path, error))?;
        let sql = utf8_text(&path, bytes)?;
        scripts.push(MigrationScript { version, name, sql });
    }
    scripts.sort_by_key(|script| script.version);
    Ok(scripts)
}

/// `V12__add_power.sql` → (12, "add_power").
fn parse_file_name(file_name: &str) -> Option<(i32, String)> {
    let stem = file_name.strip_suffix(".sql")?;
    let (version, name) = stem.strip_prefix('V')?.split_once("__")?;
    let version: i32 = version.parse().ok().filter(|v| *v > 0)?;
    validate_migration_name(name).ok()?;
    Some((version, name.to_string()))
}

/// Names become part of file names and of refinery's history, so they are kept
/// to ASCII letters, digits and underscores.
pub fn validate_migration_name(name: &str) -> Result<()> {
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
        "invalid migration name `{name}`: use only ASCII letters, digits and underscores, {hint}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            parse_file_name("V2__add_power.sql"),
            Some((2, "add_power".into()))
        );
        assert_eq!(parse_file_name("V0__x.sql"), None);
        assert_eq!(parse_file_name("2__x.sql"), None);
        assert_eq!(parse_file_name("V2_x.sql"), None);
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
