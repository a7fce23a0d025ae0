//! `strata check`: the CI gate. Prints every finding, exits with the code of the
//! most fundamental one (see the README's exit codes), or 0 when all is well.

use std::path::Path;

use super::output::{self, say};
use super::Context;
use crate::driver::{open_existing, DatabaseUrl};
use crate::error::exit;
use crate::migrate::check::{check_database, check_files, Finding};
use crate::{Error, Result};

pub fn run(context: &Context, dev_url: Option<&str>) -> Result<i32> {
    let project = &context.project;
    let dev_url = match dev_url {
        Some(text) => Some(DatabaseUrl::parse(text, Path::new("."))?),
        None => None,
    };
    let progress = output::Progress::spinner("checking");
    let mut findings = check_files(project, dev_url.as_ref())?;
    // The live database is checked only when one is named on the command line
    // (or DATABASE_URL): a CI job without a database still gets the file checks.
    let database_url = context.named_url()?;
    if let Some(url) = &database_url {
        let Some(mut database) = open_existing(url, context.connect)? else {
            return Err(Error::Usage(format!(
                "{url}: the database file does not exist (check never creates one)"
            )));
        };
        findings.extend(check_database(
            project,
            url,
            database.as_mut(),
            dev_url.as_ref(),
        )?);
    }
    drop(progress);
    findings.sort_by_key(|finding| finding.kind);
    if output::json_mode() {
        print_json(&findings, database_url.as_ref());
    } else {
        print_human(&findings, database_url.as_ref());
    }
    Ok(findings
        .first()
        .map_or(exit::OK, |finding| finding.kind.exit_code()))
}

fn print_human(findings: &[Finding], database: Option<&DatabaseUrl>) {
    for finding in findings {
        let mut text = format!("{}: {}\n", finding.kind.name(), finding.message);
        if !finding.sql.is_empty() {
            text.push_str("  SQL that would reconcile it:\n");
            for statement in &finding.sql {
                for line in statement.lines() {
                    text.push_str(&format!("    {line}\n"));
                }
            }
        }
        output::write_stderr(&text);
    }
    let scope = match database {
        Some(url) => format!("schema.toml, the migrations and {url}"),
        None => "schema.toml and the migrations".to_string(),
    };
    if findings.is_empty() {
        say!("check: {scope} agree; nothing pending.");
    } else {
        say!(
            "check: {} in {scope}.",
            super::plural(findings.len(), "finding")
        );
    }
}

fn print_json(findings: &[Finding], database: Option<&DatabaseUrl>) {
    let findings: Vec<serde_json::Value> = findings
        .iter()
        .map(|finding| {
            serde_json::json!({
                "kind": finding.kind.name(),
                "exit_code": finding.kind.exit_code(),
                "dialect": finding.dialect,
                "message": finding.message,
                "sql": finding.sql,
            })
        })
        .collect();
    let document = serde_json::json!({
        "command": "check",
        "database": database.map(ToString::to_string),
        "ok": findings.is_empty(),
        "findings": findings,
    });
    output::json(&document);
}
