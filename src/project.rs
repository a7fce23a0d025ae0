//! A strata project on disk: where schema.toml, migrations and patches live, and
//! which database a command talks to.

use std::path::{Path, PathBuf};

use crate::diagnostics::{FileProblems, Problem};
use crate::driver::DatabaseUrl;
use crate::schema::{parse_schema_file, SchemaFile};
use crate::{Error, Result};

pub const SCHEMA_FILE: &str = "schema.toml";
pub const DEFAULT_DATABASE: &str = "sqlite:database.db";

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Project { root: root.into() }
    }

    pub fn schema_path(&self) -> PathBuf {
        self.root.join(SCHEMA_FILE)
    }

    pub fn migrations_dir(&self, dialect: &str) -> PathBuf {
        self.root.join("migrations").join(dialect)
    }

    pub fn patches_dir(&self) -> PathBuf {
        self.root.join("patches")
    }

    /// Refuses (exit 2) unless this is a project: the folder exists and holds
    /// schema.toml. Commands that read or change a database call this first, so a
    /// typo in `--project` or the wrong working folder never creates a database.
    pub fn require(&self) -> Result<()> {
        if !self.root.is_dir() {
            return Err(Error::Usage(format!(
                "the project folder {} does not exist; pass --project DIR with the folder that holds schema.toml",
                self.root.display()
            )));
        }
        if !self.schema_path().is_file() {
            return Err(Error::Usage(format!(
                "no strata project here: {} does not exist; run `strata init` to start one, \
                 or pass --project DIR with the folder that holds schema.toml",
                self.schema_path().display()
            )));
        }
        Ok(())
    }

    pub fn load_schema(&self) -> Result<SchemaFile> {
        parse_schema_file(&self.schema_path())
    }

    /// `--database-url` (or `DATABASE_URL`, which clap folds into it) first, then
    /// `[project] database`, then `sqlite:database.db`. URLs from schema.toml are
    /// relative to the project; URLs from the command line to the working directory.
    pub fn database_url(&self, from_command_line: Option<&str>) -> Result<DatabaseUrl> {
        if let Some(url) = from_command_line {
            return DatabaseUrl::parse(url, Path::new("."));
        }
        let configured = if self.schema_path().exists() {
            self.load_schema()?.config.database
        } else {
            None
        };
        DatabaseUrl::parse(
            configured.as_deref().unwrap_or(DEFAULT_DATABASE),
            &self.root,
        )
    }
}

/// Turns file bytes into text, or reports the first byte that is not UTF-8 like
/// any other problem: file, line, column and the offending line (shown lossily,
/// the bad byte as U+FFFD).
pub fn utf8_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|error| {
        let bytes = error.as_bytes();
        let valid = error.utf8_error().valid_up_to();
        let bad_length = error
            .utf8_error()
            .error_len()
            .unwrap_or(bytes.len() - valid);
        let shown = bytes[valid..valid + bad_length]
            .iter()
            .map(|byte| format!("0x{byte:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        // Everything before `valid` is UTF-8, so offsets up to it are the same in the
        // lossy text, where the bad bytes become one U+FFFD (3 bytes).
        let lossy = String::from_utf8_lossy(bytes).into_owned();
        let problem = Problem::new(
            valid..valid + '\u{FFFD}'.len_utf8(),
            format!("the file is not UTF-8 text: byte {shown} is not valid UTF-8"),
        )
        .label("not UTF-8")
        .help("save the file as UTF-8 (names and strings may use any Unicode letters)");
        Error::from(FileProblems::new(path, &lossy, vec![problem]))
    })
}
