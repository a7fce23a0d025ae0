//! Helpers shared by the integration tests: run the real binary in a project folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `strata ARGS` with the project folder as working directory.
pub fn strata(project: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("strata")
        .expect("the strata binary is built")
        .current_dir(project)
        .env_remove("DATABASE_URL")
        .args(args)
        .output()
        .expect("strata runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "strata panicked: {}",
        run.stderr
    );
    run
}

/// Like [`strata`], but the command must succeed.
pub fn strata_ok(project: &Path, args: &[&str]) -> Run {
    let run = strata(project, args);
    assert_eq!(
        run.code, 0,
        "strata {args:?} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    run
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the example project (schema.toml, migrations, patches) into `to`.
pub fn copy_example_project(to: &Path) {
    let root = repo_root();
    std::fs::copy(root.join("schema.toml"), to.join("schema.toml")).unwrap();
    for folder in ["migrations", "patches"] {
        copy_dir(&root.join(folder), &to.join(folder));
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every table's rows as text, for "nothing changed" comparisons.
pub fn sqlite_snapshot(path: &Path) -> Vec<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut lines = Vec::new();
    for table in tables {
        let sql: String = connection
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = ?1",
                [&table],
                |row| row.get(0),
            )
            .unwrap();
        lines.push(sql);
        let mut statement = connection
            .prepare(&format!(
                "SELECT * FROM \"{}\" ORDER BY 1",
                table.replace('"', "\"\"")
            ))
            .unwrap();
        let width = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let values: Vec<String> = (0..width)
                    .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                    .collect();
                Ok(values.join("|"))
            })
            .unwrap();
        for row in rows {
            lines.push(format!("{table}: {}", row.unwrap()));
        }
    }
    lines
}

pub fn sqlite_strings(path: &Path, sql: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut statement = connection.prepare(sql).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |row| {
            Ok((0..width)
                .map(|i| match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "null".to_string(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(n) => n.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "<blob>".to_string(),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
