use super::output::{self, say};
use std::path::Path;

use crate::driver::{ConnectOptions, DatabaseUrl};
use crate::error::exit;
use crate::migrate::{generate, GenerateOptions, Generated};
use crate::project::Project;
use crate::{Error, Result};

pub fn run(
    project: &Project,
    name: &str,
    allow_destructive: bool,
    dev_url: Option<&str>,
    database_url: Option<&str>,
    ddl_lock_timeout: std::time::Duration,
) -> Result<i32> {
    let dev_url = match dev_url {
        Some(text) => match DatabaseUrl::parse(text, Path::new("."))? {
            url if url.engine().hosts_scratch_databases() => Some(url),
            other => {
                return Err(Error::Usage(format!(
                    "--dev-url must be a postgres:// URL, not {other}"
                )))
            }
        },
        None => None,
    };
    // Only to count the rows a NOT NULL would hit; never created, only read.
    let database_url = database_url
        .map(|text| DatabaseUrl::parse(text, Path::new(".")))
        .transpose()?;
    let progress = output::Progress::spinner("replaying the migrations");
    let generated = generate(
        project,
        name,
        GenerateOptions {
            allow_destructive,
            dev_url: dev_url.as_ref(),
            database_url: database_url.as_ref(),
            connect: ConnectOptions {
                ddl_lock_timeout,
                ..ConnectOptions::default()
            },
        },
    );
    drop(progress);
    match generated? {
        Generated::NoChanges => {
            say!("schema and migrations agree; nothing to generate");
            output::json(&serde_json::json!({
                "command": "generate",
                "written": false,
                "version": null,
                "files": [],
                "changes": [],
            }));
        }
        Generated::Written {
            version,
            files,
            changes,
        } => {
            for file in &files {
                say!("Wrote {}", file.display());
            }
            for change in &changes {
                say!("  {change}");
            }
            output::json(&serde_json::json!({
                "command": "generate",
                "written": true,
                "version": version,
                "files": files,
                "changes": changes,
            }));
        }
    }
    Ok(exit::OK)
}
