//! `strata hash`: rewrite the integrity file of every dialect folder after a
//! deliberate hand edit.

use super::output::{self, say};
use crate::error::exit;
use crate::migrate::integrity;
use crate::project::Project;
use crate::Result;

pub fn run(project: &Project) -> Result<i32> {
    let declared = project.load_schema()?;
    let mut written = Vec::new();
    for dialect in &declared.config.dialects {
        let folder = project.migrations_dir(dialect);
        if !folder.is_dir() {
            continue;
        }
        let path = integrity::rehash(&folder)?;
        say!("Wrote {}", path.display());
        written.push(path);
    }
    output::json(&serde_json::json!({ "command": "hash", "written": written }));
    Ok(exit::OK)
}
