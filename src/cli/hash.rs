//! `strata hash`: rewrite the integrity file of every dialect folder after a
//! deliberate hand edit.

use crate::error::exit;
use crate::migrate::integrity;
use crate::project::Project;
use crate::Result;

pub fn run(project: &Project) -> Result<i32> {
    let declared = project.load_schema()?;
    for dialect in &declared.config.dialects {
        let folder = project.migrations_dir(dialect);
        if !folder.is_dir() {
            continue;
        }
        let path = integrity::rehash(&folder)?;
        println!("Wrote {}", path.display());
    }
    Ok(exit::OK)
}
