use crate::error::exit;
use crate::migrate::{generate, Generated};
use crate::project::Project;
use crate::Result;

pub fn run(project: &Project, name: &str, allow_destructive: bool) -> Result<i32> {
    match generate(project, name, allow_destructive)? {
        Generated::NoChanges => {
            println!("schema and migrations agree; nothing to generate");
        }
        Generated::Written { files, changes, .. } => {
            for file in &files {
                println!("Wrote {}", file.display());
            }
            for change in &changes {
                println!("  {change}");
            }
        }
    }
    Ok(exit::OK)
}
