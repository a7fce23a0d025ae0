//! Issue #15 item 5: a big `[[insert]]` is read, checked and applied a chunk of
//! rows at a time (bounded memory), with every row right and every error at its
//! file:line:column, on both engines. Memory itself is measured by ci/bench-patch.

#[macro_use]
mod common;

use common::*;

on_both_databases!(
    a_20000_row_patch_applies_every_row,
    a_bad_value_in_a_late_row_is_reported_at_its_place_and_nothing_is_applied,
    a_toml_error_in_a_late_row_is_reported_at_its_place_and_nothing_is_applied,
);

const ROWS: usize = 20_000;

fn set_up(kind: Kind) -> (tempfile::TempDir, Backend) {
    let dir = tempfile::tempdir().unwrap();
    copy_example_project(dir.path());
    let backend = Backend::new(kind, dir.path());
    backend.strata_ok(dir.path(), &["setup"]);
    (dir, backend)
}

/// Row `i`'s name: brackets, braces, commas, `#` and quotes inside strings must not
/// confuse the scanner that splits the rows into chunks.
fn name(i: usize) -> String {
    match i % 4 {
        0 => format!("Hero {i}, [the] {{great}} # one"),
        1 => format!("It's \"{i}\""),
        2 => format!("Multi\nline {i}"),
        _ => format!("Hero {i}"),
    }
}

/// Row `i` as written in the patch (`name` in the TOML quoting its content needs).
fn row(i: usize) -> String {
    let name = if i % 4 == 2 {
        format!("\"\"\"Multi\nline {i}\"\"\"")
    } else {
        // Rust's escapes of these names are TOML's too.
        format!("{:?}", name(i))
    };
    let team = match i % 3 {
        0 => "{ ref = { name = \"Preventers\" } }",
        1 => "{ null = true }",
        _ => "{ ref = { name = \"Z-Force\" } }",
    };
    format!(
        "  {{ name = {name}, secret_name = \"S{i}\", age = {}, team_id = {team} }},",
        i % 90
    )
}

/// The patch, with `replace(i, row)` changing the rows it wants changed.
fn patch(replace: impl Fn(usize, String) -> String) -> String {
    let mut text = String::from(
        "description = \"\"\"\nMany heroes\n[[insert]]\nrows = [\n\"\"\"\n\n[[insert]]\ntable = \"hero\"\nrows = [\n",
    );
    for i in 1..=ROWS {
        if i % 5000 == 0 {
            text.push_str("  # a comment between rows ]\n");
        }
        text.push_str(&replace(i, row(i)));
        text.push('\n');
    }
    text.push_str("]\n\n[[update]]\ntable = \"hero\"\nwhere = { name = \"Hero 3\" }\nset = { age = 33 }\nexpect_rows = 1\n");
    text
}

/// `file:line:column` of the first `needle` in `text`, plus `skip` bytes (1-based,
/// column in characters).
fn place_of(file: &str, text: &str, needle: &str, skip: usize) -> String {
    let offset = text.find(needle).unwrap() + skip;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |n| n + 1)..]
        .chars()
        .count()
        + 1;
    format!("{file}:{line}:{column}")
}

fn a_20000_row_patch_applies_every_row(kind: Kind) {
    let (dir, db) = set_up(kind);
    let first_id: usize = db.rows("SELECT max(id) FROM hero")[0].parse().unwrap();
    let text = patch(|_, row| row);
    std::fs::write(dir.path().join("patches/0003_many.toml"), &text).unwrap();
    let run = db.strata_ok(dir.path(), &["patch"]);
    assert!(
        run.stdout.contains(&format!("and {} rows more", ROWS - 20)),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.rows("SELECT rows_changed FROM strata_patch_history WHERE name = '0003_many'"),
        [(ROWS + 1).to_string()]
    );
    let expected: Vec<String> = (1..=ROWS)
        .map(|i| {
            let team = match i % 3 {
                0 => "Preventers",
                1 => "null",
                _ => "Z-Force",
            };
            let age = if i == 3 { 33 } else { i % 90 };
            format!("{}|{}|S{i}|{age}|{team}", first_id + i, name(i))
        })
        .collect();
    let rows = db.rows(&format!(
        "SELECT hero.id, hero.name, hero.secret_name, hero.age, coalesce(team.name, 'null') \
         FROM hero LEFT JOIN team ON team.id = hero.team_id WHERE hero.id > {first_id} ORDER BY hero.id"
    ));
    assert_eq!(rows.len(), ROWS);
    assert!(
        rows == expected,
        "first difference: {:?}",
        rows.iter().zip(&expected).find(|(a, b)| a != b)
    );
    // Recorded once, with the checksum of the whole file: a re-run does nothing.
    use sha2::Digest;
    let checksum: String = sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(
        db.rows("SELECT checksum FROM strata_patch_history WHERE name = '0003_many'"),
        [checksum]
    );
    let again = db.strata_ok(dir.path(), &["patch"]);
    assert!(!again.stdout.contains("0003_many"), "{}", again.stdout);
    assert_eq!(
        db.rows(&format!("SELECT count(*) FROM hero WHERE id > {first_id}")),
        [ROWS.to_string()]
    );
}

/// A small valid patch before the big one: it must not be applied either.
fn write_small_patch(dir: &std::path::Path) {
    std::fs::write(
        dir.join("patches/0003_small.toml"),
        "[[insert]]\ntable = \"team\"\nrows = [{ name = \"Small\", headquarters = \"Here\" }]\n",
    )
    .unwrap();
}

fn a_bad_value_in_a_late_row_is_reported_at_its_place_and_nothing_is_applied(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    write_small_patch(dir.path());
    let text = patch(|i, row| match i {
        19_990 => row.replace("age = ", "agee = "),
        19_995 => row.replace(&format!("age = {}", 19_995 % 90), "age = \"five\""),
        _ => row,
    });
    std::fs::write(dir.path().join("patches/0004_many.toml"), &text).unwrap();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    let file = "patches/0004_many.toml";
    for (needle, message) in [
        ("agee", "table `hero` has no column `agee`"),
        ("\"five\"", "`age`"),
    ] {
        let place = place_of(file, &text, needle, 0);
        assert!(
            run.stderr.contains(&place) && run.stderr.contains(message),
            "expected {message:?} at {place}:\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains(
            "nothing was applied: all 2 pending patches are checked before any runs, \
             and this one does not fit"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(db.snapshot(), before);
}

fn a_toml_error_in_a_late_row_is_reported_at_its_place_and_nothing_is_applied(kind: Kind) {
    let (dir, db) = set_up(kind);
    let before = db.snapshot();
    write_small_patch(dir.path());
    let text = patch(|i, row| match i {
        19_990 => row.replace("age = ", "age = = "),
        _ => row,
    });
    std::fs::write(dir.path().join("patches/0004_many.toml"), &text).unwrap();
    let run = db.strata(dir.path(), &["patch"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    // toml points at the second `=`.
    let place = place_of("patches/0004_many.toml", &text, "= = ", 2);
    assert!(
        run.stderr.contains("invalid TOML") && run.stderr.contains(&place),
        "expected invalid TOML near {place}:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was applied"), "{}", run.stderr);
    assert_eq!(db.snapshot(), before);
}
