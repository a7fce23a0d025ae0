//! Creating and dropping whole databases, through the server's maintenance
//! database, and the scratch databases `generate --dev-url` replays into.

use std::sync::{Mutex, Once};

use postgres::{Client, Config};

use super::{one_line, open, parse_config};
use crate::driver::quote_identifier as q;
use crate::driver::url::mask_password;
use crate::{Error, Result};

/// The database named in `url`, and a connection to the server's maintenance database.
fn maintenance(url: &str) -> Result<(String, Client)> {
    let config = parse_config(url)?;
    let name = config
        .get_dbname()
        .or(config.get_user())
        .ok_or_else(|| Error::Usage(format!("{}: the URL names no database", mask_password(url))))?
        .to_string();
    let mut last_error = None;
    for maintenance_db in ["postgres", "template1"] {
        let mut admin: Config = config.clone();
        admin.dbname(maintenance_db);
        match open(&admin, &mask_password(url)) {
            Ok(client) => return Ok((name, client)),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| Error::Database("no maintenance database".into())))
}

/// Creates the database `url` names unless it exists. Returns whether it created it.
pub fn create_database_if_missing(url: &str) -> Result<bool> {
    let (name, mut client) = maintenance(url)?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .map_err(|e| Error::Database(one_line(&e)))?
        .is_some();
    if exists {
        return Ok(false);
    }
    match client.batch_execute(&format!("CREATE DATABASE {}", q(&name))) {
        Ok(()) => Ok(true),
        // Another strata setup created it a moment ago: 42P04 (duplicate_database)
        // when its CREATE committed before ours began, 23505 (unique_violation on
        // pg_database_datname_index) when both ran at once.
        Err(error)
            if error
                .as_db_error()
                .is_some_and(|db| matches!(db.code().code(), "42P04" | "23505")) =>
        {
            Ok(false)
        }
        Err(error) => Err(Error::Database(format!(
            "cannot create database \"{name}\": {}",
            one_line(&error)
        ))),
    }
}

/// Drops the database `url` names, forcing other connections off.
pub fn drop_database(url: &str) -> Result<()> {
    let (name, mut client) = maintenance(url)?;
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            q(&name)
        ))
        .map_err(|error| {
            Error::Database(format!(
                "cannot drop database \"{name}\": {}",
                one_line(&error)
            ))
        })
}

/// Scratch databases still to drop if the process is interrupted.
static LIVE_SCRATCH: Mutex<Vec<String>> = Mutex::new(Vec::new());
static CTRL_C: Once = Once::new();

/// A database that exists only while strata replays migrations into it; dropped
/// afterwards, on error (Drop) and on Ctrl-C (a handler drops what is live).
pub struct ScratchDatabase {
    url: String,
    dropped: bool,
}

impl ScratchDatabase {
    pub fn create(dev_url: &str) -> Result<Self> {
        // A malformed dev URL is reported as written, before a database is named on it.
        parse_config(dev_url)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!("strata_dev_{}_{nanos}", std::process::id());
        let url = with_database(dev_url, &name);
        CTRL_C.call_once(|| {
            let _ = ctrlc::set_handler(|| {
                crate::driver::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
                let live = LIVE_SCRATCH.lock().map(|l| l.clone()).unwrap_or_default();
                for url in live {
                    let _ = drop_database(&url);
                }
                std::process::exit(130);
            });
        });
        let (_, mut client) = maintenance(&url)?;
        client
            .batch_execute(&format!("CREATE DATABASE {}", q(&name)))
            .map_err(|error| {
                Error::Database(format!(
                    "cannot create a scratch database on the dev server {}: {}",
                    mask_password(dev_url),
                    one_line(&error)
                ))
            })?;
        if let Ok(mut live) = LIVE_SCRATCH.lock() {
            live.push(url.clone());
        }
        Ok(ScratchDatabase {
            url,
            dropped: false,
        })
    }

    pub fn connect(&self) -> Result<Client> {
        open(&parse_config(&self.url)?, &mask_password(&self.url))
    }

    pub fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        self.forget();
        drop_database(&self.url)
    }

    fn forget(&self) {
        if let Ok(mut live) = LIVE_SCRATCH.lock() {
            live.retain(|url| url != &self.url);
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if !self.dropped {
            self.forget();
            let _ = drop_database(&self.url);
        }
    }
}

/// The same URL (or libpq string) naming another database.
fn with_database(url: &str, name: &str) -> String {
    if crate::driver::url::is_key_value(url) {
        // A later keyword overrides an earlier one; `name` needs no quoting.
        return format!("{url} dbname={name}");
    }
    // The url crate knows where the path is; a URL it cannot parse (several
    // hosts, `h1:5432,h2:5433`) is split at the first `/` after the authority.
    if let Ok(mut parsed) = url::Url::parse(url) {
        if parsed.has_host() {
            parsed.set_path(&format!("/{name}"));
            return parsed.to_string();
        }
    }
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map(|i| authority_start + i);
    let without_path = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(query) => format!("{without_path}/{name}?{query}"),
        None => format!("{without_path}/{name}"),
    }
}
