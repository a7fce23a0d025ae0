use super::output::{self, say};
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
    // The default dialect: the registry's first engine, as schema.toml's default.
    let migrations = project.migrations_dir(crate::driver::ENGINES[0].name());
    create_dir(&migrations)?;
    create_dir(&patches)?;
    let created = [schema, migrations, patches];
    for path in &created {
        say!("Created {}", path.display());
    }
    // The next commands must find this project from where the person stands.
    let in_project = if project.root == std::path::Path::new(".") {
        String::new()
    } else {
        format!(
            " --project {}",
            shell_word(&project.root.display().to_string())
        )
    };
    say!();
    say!("Next: edit schema.toml, then");
    say!("  strata generate create_tables{in_project}   # write the first migration");
    say!("  strata migrate{in_project}                  # apply it to sqlite:database.db");
    output::json(&serde_json::json!({ "command": "init", "created": created }));
    Ok(exit::OK)
}

/// `path` as one shell word (quoted when it holds anything but safe characters).
fn shell_word(path: &str) -> String {
    if path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c))
    {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', "'\\''"))
    }
}
