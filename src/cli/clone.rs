//! `strata setup --template` and `strata clone NAME`: a migrated and patched
//! template, built once, copied per test (see `migrate::template`).

use super::output::{self, say};
use super::Context;
use crate::error::exit;
use crate::migrate::template::{clone_database, ensure_template, Template};
use crate::Result;

/// `strata setup --template`: builds the template when it is missing or its
/// migrations or patches changed; otherwise leaves it as it is.
pub fn setup_template(context: &Context) -> Result<i32> {
    let url = context.url()?;
    let template = ensure_template(&context.project, &url)?;
    say_template(&template);
    output::json(&serde_json::json!({
        "command": "setup",
        "template": template.url.to_string(),
        "built": template.built,
    }));
    Ok(exit::OK)
}

/// `strata clone NAME`: a new database NAME (PostgreSQL: on the server of the
/// database URL; SQLite: a file path) copied from the template.
pub fn run(context: &Context, name: &str) -> Result<i32> {
    let url = context.url()?;
    let cloned = clone_database(&context.project, &url, name)?;
    if cloned.template.built {
        say_template(&cloned.template);
    }
    say!("Cloned {} into {}", cloned.template.url, cloned.url);
    output::json(&serde_json::json!({
        "command": "clone",
        "database": cloned.url.to_string(),
        "template": cloned.template.url.to_string(),
        "template_built": cloned.template.built,
    }));
    Ok(exit::OK)
}

fn say_template(template: &Template) {
    if template.built {
        say!(
            "Built the template {}: every migration and patch applied",
            template.url
        );
    } else {
        say!(
            "The template {} is up to date (no migration or patch changed)",
            template.url
        );
    }
}
