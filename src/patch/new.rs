//! `strata patch new NAME`: the next numbered patch file, pinned to the latest
//! migration, from a commented template.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::migrate::{load_migrations, validate_name};
use crate::project::Project;
use crate::{Error, Result};

/// What `patch new` wrote.
#[derive(Debug)]
pub struct NewPatch {
    pub path: PathBuf,
    /// The latest migration's version, which the patch is pinned to.
    pub after: i32,
}

pub fn new_patch(project: &Project, name: &str) -> Result<NewPatch> {
    validate_name("patch", name)?;
    let declared = project.load_schema()?;
    // Dialects are in lockstep; the highest version any of them has is the latest.
    let mut after = None;
    for dialect in &declared.config.dialects {
        let scripts = load_migrations(&project.migrations_dir(dialect))?;
        after = after.max(scripts.last().map(|script| script.version));
    }
    let Some(after) = after else {
        return Err(Error::Refused(format!(
            "{} has no migrations yet, and a patch changes rows of tables migrations create: \
             run `strata generate NAME` first; nothing was written",
            project.root.join("migrations").display()
        )));
    };
    let folder = project.patches_dir();
    std::fs::create_dir_all(&folder).map_err(|error| Error::io(&folder, error))?;
    let number = next_number(&folder)?;
    let path = folder.join(format!("{number:04}_{name}.toml"));
    // create_new: an existing file (another run just wrote it) is never overwritten.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Refused(format!(
                "{} already exists; nothing was written",
                path.display()
            )),
            _ => Error::io(&path, error),
        })?;
    file.write_all(template(name, after).as_bytes())
        .map_err(|error| Error::io(&path, error))?;
    Ok(NewPatch { path, after })
}

/// One more than the highest number a patch file name starts with.
fn next_number(folder: &Path) -> Result<u64> {
    let entries = std::fs::read_dir(folder).map_err(|error| Error::io(folder, error))?;
    let highest = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    Ok(highest + 1)
}

fn template(name: &str, after: i32) -> String {
    let description = name.replace('_', " ");
    format!(
        r#"# A data patch: applied once to each database, in one transaction, by
# `strata patch` and `strata setup`.
description = "{description}"

# Written against migration V{after}: a new database applies it right after V{after},
# on the schema it was written for, before later migrations change that schema
# (rename a column it uses, say). Leave it as it is.
after = {after}

# Uncomment and fill in what the patch does; operations run in the order written.
#
# [[insert]]
# table = "team"
# rows = [
#     {{ name = "Preventers", headquarters = "Sharp Tower" }},
# ]
#
# [[update]]
# table = "hero"
# where = {{ name = "Spider-Boy" }}
# set = {{ team_id = {{ ref = {{ name = "Preventers" }} }} }}  # a foreign key, by the row's natural key
# expect_rows = 1
#
# [[delete]]
# table = "hero"
# where = {{ name = "Deadpond" }}
# expect_rows = 1
#
# [[sql]]
# statement = "UPDATE hero SET age = age + 1 WHERE age IS NOT NULL"
"#
    )
}
