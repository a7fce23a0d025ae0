use std::path::Path;

use crate::driver::DatabaseUrl;
use crate::error::exit;
use crate::migrate::{generate, Generated};
use crate::project::Project;
use crate::{Error, Result};

pub fn run(
    project: &Project,
    name: &str,
    allow_destructive: bool,
    dev_url: Option<&str>,
) -> Result<i32> {
    let dev_url = match dev_url {
        Some(text) => match DatabaseUrl::parse(text, Path::new("."))? {
            url @ DatabaseUrl::Postgres(_) => Some(url),
            other => {
                return Err(Error::Usage(format!(
                    "--dev-url must be a postgres:// URL, not {other}"
                )))
            }
        },
        None => None,
    };
    match generate(project, name, allow_destructive, dev_url.as_ref())? {
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
