use crate::error::exit;
use crate::project::Project;
use crate::{Error, Result};

const SCHEMA_TEMPLATE: &str = include_str!("init_schema.toml");

pub fn run(project: &Project) -> Result<i32> {
    let schema = project.schema_path();
    let migrations = project.root.join("migrations");
    let patches = project.patches_dir();
    let existing: Vec<String> = [&schema, &migrations, &patches]
        .iter()
        .filter(|path| path.exists())
        .map(|path| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(Error::Refused(format!(
            "{} already exist{}; strata init never overwrites anything. Remove {} or pick another --project folder",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" },
            if existing.len() == 1 { "it" } else { "them" }
        )));
    }
    let create_dir = |path: &std::path::Path| {
        std::fs::create_dir_all(path).map_err(|error| Error::io(path, error))
    };
    create_dir(&project.root)?;
    std::fs::write(&schema, SCHEMA_TEMPLATE).map_err(|error| Error::io(&schema, error))?;
    create_dir(&project.migrations_dir("sqlite"))?;
    create_dir(&patches)?;
    println!("Created {}", schema.display());
    println!("Created {}", project.migrations_dir("sqlite").display());
    println!("Created {}", patches.display());
    println!();
    println!("Next: edit schema.toml, then");
    println!("  strata generate create_tables   # write the first migration");
    println!("  strata migrate                  # apply it to sqlite:database.db");
    Ok(exit::OK)
}
