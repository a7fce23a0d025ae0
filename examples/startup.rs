//! An application that brings its database up to date when it starts: the
//! tutorial's teams and heroes (this repository's own project), with the
//! migrations and data patches compiled into the program.
//!
//! ```text
//! cargo run --example startup                      # sqlite:heroes.db
//! cargo run --example startup -- postgres://me@localhost/heroes
//! ```
//!
//! Run it as many times, and as many copies at once, as you like: each
//! migration and patch is applied exactly once.

use std::process::ExitCode;

fn main() -> ExitCode {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite:heroes.db".to_string());
    match start(&url) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            // strata's own exit codes: 3 invalid file, 4 migration failed, 5 refused…
            ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(1))
        }
    }
}

fn start(url: &str) -> strata::Result<()> {
    // Compiled in: the binary needs neither the project folder nor `strata`.
    let migrator = strata::embed_migrations!(
        "$CARGO_MANIFEST_DIR/migrations",
        patches = "$CARGO_MANIFEST_DIR/patches"
    );

    let migrated = migrator.migrate(url)?;
    for migration in &migrated.applied {
        println!(
            "applied migration V{}__{}",
            migration.version, migration.name
        );
    }
    let patched = migrator.patch(url)?;
    for patch in &patched.applied {
        println!(
            "applied patch {} ({} rows changed)",
            patch.name, patch.rows_changed
        );
    }

    let status = migrator.status(url)?;
    println!(
        "{url} is at V{}, {}",
        status.version.unwrap_or(0),
        if status.is_up_to_date() {
            "up to date"
        } else {
            "NOT up to date"
        }
    );
    Ok(())
}
