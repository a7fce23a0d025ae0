//! The cached replay: the schema a dialect's migrations build, kept in
//! `<project>/.strata/cache/replay-<dialect>.json` so that `generate` and `check`
//! need not run the whole history (or reach a dev server) when no migration changed.
//!
//! The cache is keyed by the migrations' integrity hashes (the `total` that
//! `strata.sum` would record, over every file name and text in run order) and
//! strata's version, so any edit, addition, removal or rename of a migration is a
//! miss. Its first line is a SHA-256 of the rest: a truncated, corrupt or
//! old-format file is never trusted, only replaced. The folder holds a
//! `.gitignore` of `*` and may be deleted at any time.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::integrity;
use crate::driver::{DatabaseUrl, Dialect, MigrationScript};
use crate::project::Project;
use crate::schema::Schema;
use crate::Result;

/// The cache folder inside a project.
pub const CACHE_DIR: &str = ".strata/cache";

/// The first line's prefix; a new format gets a new number (old files then miss).
const HEADER: &str = "strata-replay-cache 3 sha256:";

#[derive(Serialize, Deserialize)]
struct Entry {
    strata: String,
    dialect: String,
    key: String,
    schema: Schema,
}

/// Where one dialect's replay is cached, and the key its migrations have now.
pub struct ReplayCache {
    path: PathBuf,
    dialect: String,
    key: String,
}

impl ReplayCache {
    pub fn new(project: &Project, dialect: &str, scripts: &[MigrationScript]) -> Self {
        ReplayCache {
            path: project
                .root
                .join(CACHE_DIR)
                .join(format!("replay-{dialect}.json")),
            dialect: dialect.to_string(),
            key: integrity::sum_of_scripts(scripts).total,
        }
    }

    /// The cached schema, when the file is whole and was written for exactly
    /// these migrations by this version of strata; `None` otherwise.
    pub fn load(&self) -> Option<Schema> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let (header, body) = text.split_once('\n')?;
        if header.strip_prefix(HEADER)? != digest(body) {
            return None;
        }
        let entry: Entry = serde_json::from_str(body).ok()?;
        (entry.strata == env!("CARGO_PKG_VERSION")
            && entry.dialect == self.dialect
            && entry.key == self.key)
            .then_some(entry.schema)
    }

    /// Records `schema` for these migrations. Best effort: a project folder that
    /// cannot be written (read-only checkout) only loses the speed-up.
    pub fn store(&self, schema: &Schema) {
        let entry = Entry {
            strata: env!("CARGO_PKG_VERSION").to_string(),
            dialect: self.dialect.clone(),
            key: self.key.clone(),
            schema: schema.clone(),
        };
        let Ok(body) = serde_json::to_string(&entry) else {
            return;
        };
        let _ = write_atomically(&self.path, &format!("{HEADER}{}\n{body}", digest(&body)));
    }
}

fn digest(body: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body.as_bytes()))
}

/// Creates the cache folder with a `.gitignore` that keeps all of it out of git.
pub(crate) fn prepare_cache_dir(folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let ignore = folder.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(
            &ignore,
            "# strata's cache: safe to delete, never committed.\n*\n",
        )?;
    }
    Ok(())
}

/// Writes through a temporary file and a rename, so a reader (another strata)
/// sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let folder = path.parent().unwrap_or(Path::new("."));
    prepare_cache_dir(folder)?;
    // Process and write serial: threads of one process (a fleet) write too.
    static WRITES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let temporary = folder.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// Whether a cached replay was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Replayed,
}

/// The schema `scripts` build for `dialect`: from the cache when it holds
/// exactly these migrations, else replayed (and, when `store`, cached).
pub fn replay(
    project: &Project,
    dialect: &dyn Dialect,
    scripts: &[MigrationScript],
    dev_url: Option<&DatabaseUrl>,
    store: bool,
) -> Result<(Option<Schema>, Source)> {
    let cache = ReplayCache::new(project, dialect.name(), scripts);
    if let Some(schema) = cache.load() {
        return Ok((Some(schema), Source::Cache));
    }
    let schema = dialect.replay(scripts, dev_url)?;
    if let (Some(schema), true) = (&schema, store) {
        cache.store(schema);
    }
    Ok((schema, Source::Replayed))
}
