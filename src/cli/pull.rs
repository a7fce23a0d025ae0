use std::path::Path;

use super::migrate::dialect_folder;
use super::output::{self, say};
use super::Context;
use crate::driver::open_existing;
use crate::error::exit;
use crate::schema::unmanaged::adopt;
use crate::schema::{parse_schema_text, unwritable_names, write_schema, write_tables, Unmanaged};
use crate::{Error, Result};

/// Introspects the live database into schema.toml text. Every object schema.toml
/// cannot hold is named on stderr; without `allow_unmanaged` nothing is written
/// then (exit 5).
pub fn run(
    context: &Context,
    output_path: Option<&Path>,
    force: bool,
    allow_unmanaged: bool,
) -> Result<i32> {
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
    let (mut schema, mut unmanaged) = database.inspect_with_unmanaged()?;
    drop(progress);
    adopt(&mut schema, &mut unmanaged);
    // schema.toml needs a table; an empty database is not a bug in pull.
    if schema.tables.is_empty() {
        let left_out = if unmanaged.is_empty() {
            String::new()
        } else {
            format!(
                " (it has {} object{} schema.toml cannot hold)",
                unmanaged.len(),
                if unmanaged.len() == 1 { "" } else { "s" }
            )
        };
        return Err(Error::Refused(format!(
            "{url} has no tables schema.toml can declare (history tables aside){left_out}, \
             so there is nothing to pull and nothing was written; declare the schema in \
             schema.toml and run `strata generate NAME` instead"
        )));
    }
    let unwritable = unwritable_names(&schema);
    if !unwritable.is_empty() {
        return Err(Error::Refused(format!(
            "{url}: schema.toml cannot hold these names, so nothing was written:\n  {}\n\
             rename them in the database (ALTER TABLE, TYPE, DOMAIN or VIEW … RENAME …), then pull again",
            unwritable.join("\n  ")
        )));
    }
    let existing = match output_path.filter(|path| path.exists()) {
        Some(path) => std::fs::read_to_string(path).map_err(|error| Error::io(path, error))?,
        None => String::new(),
    };
    // SQLite has no comments: those schema.toml already has are kept.
    let keeps_comments =
        crate::driver::dialect(dialect_folder(&url)).is_none_or(|d| d.keeps_comments());
    if !keeps_comments {
        if let Ok(file) =
            parse_schema_text(output_path.unwrap_or(Path::new("schema.toml")), &existing)
        {
            schema.copy_comments_from(&file.schema);
        }
    }
    let project = project_part(&existing);
    let text = if project
        .lines()
        .any(|line| line.trim_start().starts_with("[project]"))
    {
        // --force replaces the tables and keeps the project's settings.
        format!("{}\n{}", project.trim_end(), write_tables(&schema))
    } else {
        write_schema(&schema, &[dialect_folder(&url).to_string()])
    };
    // What pull writes, generate reads: a file strata itself refuses is a bug in
    // pull, reported as such rather than written.
    let checked = output_path.unwrap_or(Path::new("schema.toml"));
    if let Err(problems) = parse_schema_text(checked, &text) {
        output::error(&format!(
            "strata pull produced a schema.toml that strata refuses (a bug in pull; nothing was written):\n{}",
            problems.render(output::color_stderr())
        ));
        return Ok(exit::RUNTIME);
    }
    let written = unmanaged.is_empty() || allow_unmanaged;
    if !unmanaged.is_empty() {
        let list = list(&unmanaged);
        if allow_unmanaged {
            output::warning(&format!(
                "{url}: {} not managed by strata, left out of schema.toml or written as described (--allow-unmanaged):\n{list}",
                super::plural(unmanaged.len(), "object")
            ));
        } else {
            output::error(&format!(
                "{url}: {} not managed by strata; schema.toml would leave them out or change them, so nothing was written:\n{list}\n\
                 pass --allow-unmanaged to write schema.toml without them (they stay in the database, and strata leaves them alone)",
                super::plural(unmanaged.len(), "object")
            ));
        }
    }
    if written {
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
    }
    output::json(&serde_json::json!({
        "command": "pull",
        "database": url.to_string(),
        "tables": schema.tables.len(),
        "output": output_path,
        "written": written,
        "unmanaged": unmanaged,
        "schema": written.then_some(&text),
    }));
    Ok(if written { exit::OK } else { exit::REFUSED })
}

fn list(unmanaged: &[Unmanaged]) -> String {
    unmanaged
        .iter()
        .map(|object| format!("  {object}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The part of an existing schema.toml before its first table: the header
/// comments and the `[project]` table, which `pull --force` keeps as they are.
fn project_part(existing: &str) -> &str {
    let mut offset = 0;
    for line in existing.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') && !trimmed.starts_with("[project") {
            break;
        }
        offset += line.len();
    }
    // Comments just above the first table are that table's, and go with it.
    let mut kept = &existing[..offset];
    while let Some(last) = kept.trim_end_matches('\n').rsplit('\n').next() {
        let trimmed = last.trim();
        if !(trimmed.starts_with('#') || trimmed.is_empty()) || kept.trim().is_empty() {
            break;
        }
        kept = &kept[..kept.trim_end_matches('\n').len() - last.len()];
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_table_and_its_comments_are_kept() {
        let existing = "# mine\n[project]\ndialects = [\"sqlite\", \"postgres\"] # both\ndatabase = \"sqlite:app.db\"\n\n# heroes\n[table.hero.columns]\nid = \"integer\"\n";
        assert_eq!(
            project_part(existing).trim_end().to_string() + "\n",
            "# mine\n[project]\ndialects = [\"sqlite\", \"postgres\"] # both\ndatabase = \"sqlite:app.db\"\n"
        );
    }
}
