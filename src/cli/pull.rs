use std::path::Path;

use super::migrate::dialect_folder;
use super::output::{self, say};
use super::Context;
use crate::driver::open_existing;
use crate::error::exit;
use crate::schema::{unwritable_names, write_schema};
use crate::{Error, Result};

/// Introspects the live database into schema.toml text.
pub fn run(context: &Context, output_path: Option<&Path>, force: bool) -> Result<i32> {
    let url = context.url()?;
    if let Some(path) = output_path {
        if path.exists() && !force {
            return Err(Error::Refused(format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            )));
        }
    }
    // pull only reads: it never creates the database it was asked to read.
    let Some(mut database) = open_existing(&url, context.connect)? else {
        return Err(Error::Usage(format!(
            "{url}: the database file does not exist; pull reads an existing database"
        )));
    };
    let progress = output::Progress::spinner("reading the database");
    let schema = database.inspect()?;
    drop(progress);
    let unwritable = unwritable_names(&schema);
    if !unwritable.is_empty() {
        return Err(Error::Refused(format!(
            "{url}: schema.toml cannot hold these names, so nothing was written:\n  {}\n\
             rename them in the database (ALTER TABLE … RENAME …), then pull again",
            unwritable.join("\n  ")
        )));
    }
    let text = write_schema(&schema, &[dialect_folder(&url).to_string()]);
    match output_path {
        Some(path) => {
            std::fs::write(path, &text).map_err(|error| Error::io(path, error))?;
            say!(
                "Wrote {} ({} tables from {url})",
                path.display(),
                schema.tables.len()
            );
        }
        None if !output::json_mode() => output::document(&text),
        None => {}
    }
    output::json(&serde_json::json!({
        "command": "pull",
        "database": url.to_string(),
        "tables": schema.tables.len(),
        "output": output_path,
        "schema": text,
    }));
    Ok(exit::OK)
}
