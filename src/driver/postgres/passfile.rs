//! The password libpq would use when the connection string has none: `PGPASSWORD`,
//! then the password file (`PGPASSFILE`, else `~/.pgpass`). tokio-postgres reads
//! neither, so strata does, with libpq's rules.

use std::path::{Path, PathBuf};

use postgres::config::Host;
use postgres::Config;

/// Sets the password of `config` from the environment or the password file,
/// unless it has one already.
pub(crate) fn fill_password(config: &mut Config) {
    if config.get_password().is_some() {
        return;
    }
    if let Some(password) = std::env::var_os("PGPASSWORD").filter(|p| !p.is_empty()) {
        config.password(password.to_string_lossy().as_bytes());
        return;
    }
    let Some(path) = passfile_path() else {
        return;
    };
    if let Some(password) = read_passfile(&path, &Target::of(config)) {
        config.password(password);
    }
}

fn passfile_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(&home).join(".pgpass"))
}

/// What a password-file line is matched against.
struct Target {
    host: String,
    port: String,
    database: String,
    user: String,
}

impl Target {
    fn of(config: &Config) -> Self {
        let user = config.get_user().unwrap_or_default().to_string();
        // libpq: a Unix socket in the default directory matches `localhost`.
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(name)) => name.clone(),
            #[cfg(unix)]
            Some(Host::Unix(path)) => {
                let path = path.display().to_string();
                if path == "/tmp" || path == "/var/run/postgresql" || path == "/run/postgresql" {
                    "localhost".to_string()
                } else {
                    path
                }
            }
            _ => "localhost".to_string(),
        };
        Target {
            host,
            port: config
                .get_ports()
                .first()
                .copied()
                .unwrap_or(5432)
                .to_string(),
            database: config.get_dbname().unwrap_or(&user).to_string(),
            user,
        }
    }
}

/// The password of the first line that matches `target`, if the file is private.
fn read_passfile(path: &Path, target: &Target) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            // libpq ignores such a file with the same warning.
            eprintln!(
                "warning: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                path.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|line| matches(line, target))
}

/// `hostname:port:database:username:password`, `*` matching anything, `\` escaping
/// the next character (`\:`, `\\`); the password when the line matches.
fn matches(line: &str, target: &Target) -> Option<String> {
    if line.trim().is_empty() || line.starts_with('#') {
        return None;
    }
    let fields = split_fields(line);
    if fields.len() < 5 {
        return None;
    }
    let wanted = [&target.host, &target.port, &target.database, &target.user];
    for ((value, wildcard), want) in fields.iter().zip(wanted) {
        if !(*wildcard || value == want) {
            return None;
        }
    }
    Some(fields[4].0.clone())
}

/// The fields of a line, each with whether it is the bare wildcard `*` (an
/// escaped `\*` is a literal star).
fn split_fields(line: &str) -> Vec<(String, bool)> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut escaped = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                escaped = true;
                if let Some(next) = chars.next() {
                    field.push(next);
                }
            }
            // The password is the last field: a later `:` ends it (as in libpq).
            ':' if fields.len() == 4 => break,
            ':' => {
                let wildcard = field == "*" && !escaped;
                fields.push((std::mem::take(&mut field), wildcard));
                escaped = false;
            }
            c => field.push(c),
        }
    }
    let wildcard = field == "*" && !escaped;
    fields.push((field, wildcard));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            host: "db.example".into(),
            port: "5432".into(),
            database: "app".into(),
            user: "alice".into(),
        }
    }

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let t = target();
        assert_eq!(
            matches("db.example:5432:app:alice:pw", &t),
            Some("pw".into())
        );
        assert_eq!(matches("*:*:*:alice:p\\:w\\\\", &t), Some("p:w\\".into()));
        assert_eq!(matches("other:5432:app:alice:pw", &t), None);
        assert_eq!(matches("db.example:5433:*:*:pw", &t), None);
        assert_eq!(matches("# db.example:*:*:*:pw", &t), None);
        assert_eq!(matches("db.example:*:*", &t), None);
        assert_eq!(matches("\\*:*:*:*:pw", &t), None);
    }
}
