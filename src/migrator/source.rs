//! Where a [`Migrator`](super::Migrator)'s files come from: a project folder
//! read at run time, or folders embedded in the application at compile time.
//! Both hand the same in-memory sets to the library, so every check applies
//! alike.

use std::path::{Path, PathBuf};

use include_dir::Dir;

use crate::migrate::MigrationFiles;
use crate::patch::{load_patches, patches_in_memory, PatchFile};
use crate::project::Project;
use crate::Result;

/// A project's files, on disk or compiled in.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A project folder (schema.toml, `migrations/<dialect>/`, `patches/`).
    Folder(Project),
    /// `migrations/` (one folder per dialect) and `patches/` from [`embed_migrations!`](crate::embed_migrations).
    Embedded {
        migrations: &'static Dir<'static>,
        patches: Option<&'static Dir<'static>>,
    },
}

impl Source {
    /// The migrations of one dialect.
    pub fn migrations(&self, dialect: &str) -> Result<MigrationFiles> {
        match self {
            Source::Folder(project) => MigrationFiles::read(&project.migrations_dir(dialect)),
            Source::Embedded { migrations, .. } => {
                let label = Path::new("migrations").join(dialect);
                let Some(folder) = migrations.get_dir(dialect) else {
                    return MigrationFiles::in_memory(&label, Vec::new(), None);
                };
                let sum = folder
                    .files()
                    .find(|file| file_name(file.path()) == crate::migrate::integrity::SUM_FILE)
                    .map(|file| file.contents().to_vec());
                MigrationFiles::in_memory(&label, files_of(folder), sum)
            }
        }
    }

    /// Every patch.
    pub fn patches(&self) -> Result<Vec<PatchFile>> {
        match self {
            Source::Folder(project) => load_patches(&project.patches_dir()),
            Source::Embedded { patches: None, .. } => Ok(Vec::new()),
            Source::Embedded {
                patches: Some(folder),
                ..
            } => patches_in_memory(Path::new("patches"), files_of(folder)),
        }
    }

    /// The project folder, for the replay cache; none when embedded.
    pub fn project(&self) -> Option<&Project> {
        match self {
            Source::Folder(project) => Some(project),
            Source::Embedded { .. } => None,
        }
    }

    /// Where the migrations of `dialect` are, for messages.
    pub fn migrations_label(&self, dialect: &str) -> PathBuf {
        match self {
            Source::Folder(project) => project.migrations_dir(dialect),
            Source::Embedded { .. } => Path::new("migrations").join(dialect),
        }
    }
}

/// (file name, bytes) of the files directly inside `folder`.
fn files_of(folder: &Dir<'_>) -> Vec<(String, Vec<u8>)> {
    folder
        .files()
        .map(|file| (file_name(file.path()), file.contents().to_vec()))
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
