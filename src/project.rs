//! A strata project on disk: where schema.toml, migrations and patches live, and
//! which database a command talks to.

use std::path::{Path, PathBuf};

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

/// Reads a migration or patch file, refusing anything that is not a regular file
/// inside the project before opening it: a symbolic link leading out of the project
/// (its content could end up in an error message), a FIFO (reading blocks
/// forever), a device (`/dev/zero` never ends), a folder or a socket.
///
/// A symbolic link whose target is a regular file inside `root` is allowed (one
/// migration shared by two dialect folders, say): the project's own files are
/// what strata reads anyway.
pub fn read_project_file(path: &Path, root: &Path) -> Result<Vec<u8>> {
    let refuse = |what: &str, fix: &str| {
        Error::InvalidFile {
        path: path.to_path_buf(),
        message: format!(
            "{what}; strata reads only regular files inside the project, so it was not opened: {fix}"
        ),
    }
    };
    let metadata = std::fs::symlink_metadata(path).map_err(|error| Error::io(path, error))?;
    let file_type = metadata.file_type();
    if file_type.is_symlink() {
        let target = std::fs::canonicalize(path)
            .map_err(|_| refuse("is a symbolic link to nothing", "remove it"))?;
        let inside = std::fs::canonicalize(root)
            .map(|root| target.starts_with(root))
            .unwrap_or(false);
        if !inside {
            return Err(refuse(
                "is a symbolic link to a file outside the project",
                "copy the file into the project instead of linking to it",
            ));
        }
        let target_type = std::fs::metadata(&target)
            .map_err(|error| Error::io(path, error))?
            .file_type();
        if !target_type.is_file() {
            return Err(refuse(
                &format!("is a symbolic link to {}", describe_file_type(&target_type)),
                "replace it with the file itself",
            ));
        }
    } else if !file_type.is_file() {
        return Err(refuse(
            &format!("is {}", describe_file_type(&file_type)),
            "remove it, or replace it with a regular file",
        ));
    }
    let mut file = std::fs::File::open(path).map_err(|error| Error::io(path, error))?;
    // Checked again on the open file, in case it was swapped since.
    let opened = file.metadata().map_err(|error| Error::io(path, error))?;
    if !opened.is_file() {
        return Err(refuse(
            &format!("is {}", describe_file_type(&opened.file_type())),
            "remove it, or replace it with a regular file",
        ));
    }
    let mut bytes = Vec::with_capacity(opened.len() as usize);
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|error| Error::io(path, error))?;
    Ok(bytes)
}

fn describe_file_type(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_fifo() {
        "a named pipe (FIFO)"
    } else if file_type.is_char_device() || file_type.is_block_device() {
        "a device"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}
