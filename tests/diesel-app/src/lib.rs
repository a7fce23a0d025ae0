//! A Diesel application over strata-generated migrations: the tutorial's
//! heroes and teams. It embeds `project/migrations/<dialect>` (written by
//! `strata generate` in Diesel's layout) with `embed_migrations!`, runs them
//! at start-up with Diesel's `MigrationHarness`, then works through Diesel's
//! query builder: the teams and heroes are inserted, and Spider-Boy joins the
//! Preventers. tests/diesel_layout.rs (in strata) runs it on SQLite and
//! PostgreSQL.

use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub mod schema {
    diesel::table! {
        team (id) {
            id -> Integer,
            name -> Text,
            headquarters -> Text,
        }
    }

    diesel::table! {
        hero (id) {
            id -> Integer,
            name -> Text,
            secret_name -> Text,
            age -> Nullable<Integer>,
            team_id -> Nullable<Integer>,
        }
    }

    diesel::joinable!(hero -> team (team_id));
    diesel::allow_tables_to_appear_in_same_query!(team, hero);
}

use schema::{hero, team};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("project/migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations =
    embed_migrations!("project/migrations/postgres");

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Insertable)]
#[diesel(table_name = team)]
struct NewTeam<'a> {
    name: &'a str,
    headquarters: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = hero)]
struct NewHero<'a> {
    name: &'a str,
    secret_name: &'a str,
    age: Option<i32>,
    team_id: Option<i32>,
}

/// What the application did: the migrations it applied (their versions) and
/// every hero with their team afterwards, as `name|team` sorted by name.
#[derive(Debug)]
pub struct Outcome {
    pub applied: Vec<String>,
    pub heroes: Vec<String>,
}

/// The same queries on either connection type (Diesel's query builder is
/// typed by backend, so this is a macro rather than a generic function).
macro_rules! work {
    ($connection:ident) => {{
        let connection = &mut $connection;
        diesel::insert_into(team::table)
            .values(&[
                NewTeam {
                    name: "Preventers",
                    headquarters: "Sharp Tower",
                },
                NewTeam {
                    name: "Z-Force",
                    headquarters: "Sister Margaret's Bar",
                },
            ])
            .execute(connection)?;
        let team_id = |connection: &mut _, name: &str| -> QueryResult<i32> {
            team::table
                .filter(team::name.eq(name))
                .select(team::id)
                .first(connection)
        };
        let z_force = team_id(connection, "Z-Force")?;
        let preventers = team_id(connection, "Preventers")?;
        diesel::insert_into(hero::table)
            .values(&[
                NewHero {
                    name: "Deadpond",
                    secret_name: "Dive Wilson",
                    age: None,
                    team_id: Some(z_force),
                },
                NewHero {
                    name: "Rusty-Man",
                    secret_name: "Tommy Sharp",
                    age: Some(48),
                    team_id: Some(preventers),
                },
                NewHero {
                    name: "Spider-Boy",
                    secret_name: "Pedro Parqueador",
                    age: None,
                    team_id: None,
                },
            ])
            .execute(connection)?;
        // Spider-Boy joins the Preventers.
        diesel::update(hero::table.filter(hero::name.eq("Spider-Boy")))
            .set(hero::team_id.eq(Some(preventers)))
            .execute(connection)?;
        hero::table
            .left_join(team::table)
            .select((hero::name, team::name.nullable()))
            .order(hero::name)
            .load::<(String, Option<String>)>(connection)?
            .into_iter()
            .map(|(hero, team)| format!("{hero}|{}", team.unwrap_or_default()))
            .collect::<Vec<_>>()
    }};
}

/// Runs the application on `url`: `sqlite:PATH` or a `postgres://` URL.
pub fn run(url: &str) -> Result<Outcome, Error> {
    match url.strip_prefix("sqlite:") {
        Some(path) => {
            let mut connection = SqliteConnection::establish(path)?;
            let applied = connection
                .run_pending_migrations(SQLITE_MIGRATIONS)?
                .iter()
                .map(ToString::to_string)
                .collect();
            Ok(Outcome {
                applied,
                heroes: work!(connection),
            })
        }
        None => {
            let mut connection = PgConnection::establish(url)?;
            let applied = connection
                .run_pending_migrations(POSTGRES_MIGRATIONS)?
                .iter()
                .map(ToString::to_string)
                .collect();
            Ok(Outcome {
                applied,
                heroes: work!(connection),
            })
        }
    }
}
