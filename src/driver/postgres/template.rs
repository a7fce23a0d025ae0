//! PostgreSQL templates: the database `<db>_template` beside `<db>`, marked as a
//! template with its key as its comment; a clone is `CREATE DATABASE … TEMPLATE`.

use std::path::Path;

use super::admin::{database_name, ServerAdmin};
use super::engine::PostgresTarget;
use super::{PostgresDatabase, DEFAULT_DDL_LOCK_TIMEOUT};
use crate::driver::registry::{Fill, Template, Templates};
use crate::driver::DatabaseUrl;
use crate::{Error, Result};

/// What the template's comment starts with; the key follows.
const COMMENT_PREFIX: &str = "strata template ";

/// PostgreSQL's longest identifier, in bytes; longer names are cut silently.
const MAX_IDENTIFIER: usize = 63;

pub struct PostgresTemplates;

impl Templates for PostgresTemplates {
    fn ensure(
        &self,
        url: &DatabaseUrl,
        _cache: &Path,
        key: &str,
        fill: Fill<'_>,
    ) -> Result<Template> {
        let server = &url.target::<PostgresTarget>()?.text;
        build_postgres(&mut ServerAdmin::connect(server)?, key, fill)
    }

    fn clone_into(
        &self,
        url: &DatabaseUrl,
        template: &Template,
        name: &str,
    ) -> Result<DatabaseUrl> {
        let server = &url.target::<PostgresTarget>()?.text;
        clone_postgres(&mut ServerAdmin::connect(server)?, template, name)
    }
}

fn postgres_url(text: String) -> Result<DatabaseUrl> {
    DatabaseUrl::parse(&text, Path::new("."))
}

fn build_postgres(admin: &mut ServerAdmin, key: &str, fill: Fill<'_>) -> Result<Template> {
    let name = format!("{}_template", admin.database_name());
    if name.len() > MAX_IDENTIFIER {
        return Err(Error::Usage(format!(
            "the template database's name {name} is longer than PostgreSQL's {MAX_IDENTIFIER} bytes; \
             use a shorter database name"
        )));
    }
    let url = admin.url_of(&name);
    let marker = format!("{COMMENT_PREFIX}{key}");
    if admin.comment(&name)?.as_deref() == Some(marker.as_str()) {
        return Ok(Template {
            url: postgres_url(url.clone())?,
            built: false,
        });
    }
    // Another process may be building it: wait, then look again.
    admin.lock_templates()?;
    if admin.comment(&name)?.as_deref() == Some(marker.as_str()) {
        return Ok(Template {
            url: postgres_url(url.clone())?,
            built: false,
        });
    }
    admin.recreate(&name)?;
    {
        let mut database = PostgresDatabase::connect(&url, DEFAULT_DDL_LOCK_TIMEOUT)?;
        fill(&mut database)?;
        // The connection closes here: a template nobody is connected to can be copied.
    }
    // Marked last: a build that failed half-way has no key and is rebuilt.
    admin.mark_template(&name, &marker)?;
    Ok(Template {
        url: postgres_url(url.clone())?,
        built: true,
    })
}

fn clone_postgres(admin: &mut ServerAdmin, template: &Template, name: &str) -> Result<DatabaseUrl> {
    let template_url = &template.url.target::<PostgresTarget>()?.text;
    if name.len() > MAX_IDENTIFIER {
        return Err(Error::Usage(format!(
            "{name} is longer than PostgreSQL's {MAX_IDENTIFIER} bytes; use a shorter name"
        )));
    }
    let template = database_name(template_url)?;
    admin.clone_from(name, &template)?;
    postgres_url(admin.url_of(name))
}
