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
        // The counter keeps two threads of one process (a fleet's `check`) apart.
        static CREATED: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let serial = CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("strata_dev_{}_{nanos}_{serial}", std::process::id());
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

/// The advisory lock taken while a template database is (re)built, so parallel
/// test runs build it once ("strata_t" in ASCII; not the migration lock).
const TEMPLATE_LOCK_KEY: i64 = 0x7374_7261_7461_5f74;

/// The server's maintenance database, for template databases and their clones
/// (`strata setup --template`, `strata clone`).
pub struct ServerAdmin {
    client: Client,
    url: String,
    name: String,
}

impl ServerAdmin {
    pub fn connect(url: &str) -> Result<Self> {
        let (name, client) = maintenance(url)?;
        Ok(ServerAdmin {
            client,
            url: url.to_string(),
            name,
        })
    }

    /// The database the URL names.
    pub fn database_name(&self) -> &str {
        &self.name
    }

    /// The URL of the database `name` on the same server.
    pub fn url_of(&self, name: &str) -> String {
        with_database(&self.url, name)
    }

    /// Waits for other strata processes building a template; held until dropped.
    pub fn lock_templates(&mut self) -> Result<()> {
        self.client
            .execute("SELECT pg_advisory_lock($1)", &[&TEMPLATE_LOCK_KEY])
            .map(|_| ())
            .map_err(|e| Error::Database(one_line(&e)))
    }

    /// The comment on database `name`: `None` when it does not exist.
    pub fn comment(&mut self, name: &str) -> Result<Option<String>> {
        self.client
            .query_opt(
                "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1",
                &[&name],
            )
            .map(|row| row.map(|row| row.get(0)))
            .map_err(|e| Error::Database(one_line(&e)))
    }

    /// Drops `name` if it exists (template or not, forcing connections off) and
    /// creates it empty, in the tablespace it was in: a template moved to fast
    /// storage (`ALTER DATABASE … SET TABLESPACE`) stays there, and so do its clones.
    pub fn recreate(&mut self, name: &str) -> Result<()> {
        let tablespace: Option<String> = self
            .client
            .query_opt(
                "SELECT t.spcname::text FROM pg_database d JOIN pg_tablespace t \
                 ON t.oid = d.dattablespace WHERE d.datname = $1",
                &[&name],
            )
            .map_err(|e| Error::Database(one_line(&e)))?
            .map(|row| row.get(0));
        if tablespace.is_some() {
            self.run(&format!("ALTER DATABASE {} IS_TEMPLATE false", q(name)))?;
            self.run(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", q(name)))?;
        }
        match tablespace {
            Some(tablespace) if tablespace != "pg_default" => self.run(&format!(
                "CREATE DATABASE {} TABLESPACE {}",
                q(name),
                q(&tablespace)
            )),
            _ => self.run(&format!("CREATE DATABASE {}", q(name))),
        }
    }

    /// Marks `name` a template (any role with CREATEDB may copy it) and records
    /// `comment` on it (the key it was built for).
    pub fn mark_template(&mut self, name: &str, comment: &str) -> Result<()> {
        self.run(&format!("ALTER DATABASE {} IS_TEMPLATE true", q(name)))?;
        self.run(&format!(
            "COMMENT ON DATABASE {} IS {}",
            q(name),
            crate::driver::quote_literal(comment)
        ))
    }

    /// `CREATE DATABASE name TEMPLATE template`: a file-level copy.
    pub fn clone_from(&mut self, name: &str, template: &str) -> Result<()> {
        let sql = format!("CREATE DATABASE {} TEMPLATE {}", q(name), q(template));
        match self.client.batch_execute(&sql) {
            Ok(()) => Ok(()),
            Err(error) if error.code().is_some_and(|c| c.code() == "42P04") => {
                Err(Error::Refused(format!(
                    "the database \"{name}\" already exists on {}; clone into a new name \
                     (or drop it first)",
                    mask_password(&self.url)
                )))
            }
            Err(error) => Err(Error::Database(format!(
                "cannot copy the template \"{template}\" into \"{name}\": {}",
                one_line(&error)
            ))),
        }
    }

    fn run(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|error| Error::Database(format!("{sql}: {}", one_line(&error))))
    }
}

/// The database a URL names (its user's name when it names none).
pub fn database_name(url: &str) -> Result<String> {
    let config = parse_config(url)?;
    config
        .get_dbname()
        .or(config.get_user())
        .map(str::to_string)
        .ok_or_else(|| Error::Usage(format!("{}: the URL names no database", mask_password(url))))
}
