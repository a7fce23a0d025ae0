//! The README's tour, replayed word for word in a fresh folder: every `$ strata …`
//! line in a `text` block between `<!-- tour:start -->` and `<!-- tour:end -->` is
//! run with the built binary and its output compared with the lines under it
//! (timings and timestamps masked); a `toml` block whose first line is
//! `# patches/NAME.toml` is written to that file first, as the reader would.
//! When this fails, fix the README (or the program, if the README is right).

mod common;

use std::path::Path;

enum Step {
    Write { path: String, text: String },
    Run { args: Vec<String>, expected: String },
}

fn tour() -> Vec<Step> {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- tour:start -->")
        .expect("README has <!-- tour:start -->");
    let end = readme
        .find("<!-- tour:end -->")
        .expect("README has <!-- tour:end -->");
    let mut steps = Vec::new();
    let mut lines = readme[start..end].lines();
    while let Some(line) = lines.next() {
        let Some(language) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        match language {
            "toml" => {
                if let Some(path) = body.first().and_then(|l| l.strip_prefix("# ")) {
                    steps.push(Step::Write {
                        path: path.to_string(),
                        text: body.join("\n") + "\n",
                    });
                }
            }
            "text" => {
                let mut current: Option<(Vec<String>, Vec<&str>)> = None;
                for line in body {
                    if let Some(command) = line.strip_prefix("$ ") {
                        if let Some((args, output)) = current.take() {
                            steps.push(run_step(args, &output));
                        }
                        let words: Vec<String> =
                            command.split_whitespace().map(String::from).collect();
                        assert_eq!(words[0], "strata", "the tour only runs strata: {line}");
                        current = Some((words[1..].to_vec(), Vec::new()));
                    } else if let Some((_, output)) = current.as_mut() {
                        output.push(line);
                    }
                }
                if let Some((args, output)) = current.take() {
                    steps.push(run_step(args, &output));
                }
            }
            _ => {}
        }
    }
    steps
}

fn run_step(args: Vec<String>, output: &[&str]) -> Step {
    Step::Run {
        args,
        expected: output.join("\n").trim_end().to_string(),
    }
}

/// `(384 ms)` → `(N ms)`, `2026-11-25T13:05:12.681720826Z` → `<time>`.
fn masked(text: &str) -> String {
    text.lines()
        .map(|line| {
            let words: Vec<String> = line
                .split(' ')
                .map(|word| {
                    let is_timestamp = word.len() > 19
                        && word.ends_with('Z')
                        && word.as_bytes()[4] == b'-'
                        && word.as_bytes()[10] == b'T';
                    let is_ms = word.len() > 1
                        && word.starts_with('(')
                        && word[1..].chars().all(|c| c.is_ascii_digit());
                    if is_timestamp {
                        "<time>".to_string()
                    } else if is_ms {
                        "(N".to_string()
                    } else {
                        word.to_string()
                    }
                })
                .collect();
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(folder: &Path, args: &[String]) -> (String, i32) {
    let output = assert_cmd::Command::cargo_bin("strata")
        .unwrap()
        .current_dir(folder)
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DATABASE_URL")
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (text, output.status.code().unwrap_or(-1))
}

#[test]
fn the_readme_tour_matches_the_program() {
    let steps = tour();
    assert!(
        steps
            .iter()
            .filter(|s| matches!(s, Step::Run { .. }))
            .count()
            >= 10,
        "the tour should have its commands"
    );
    let folder = tempfile::tempdir().unwrap();
    for step in steps {
        match step {
            Step::Write { path, text } => {
                std::fs::write(folder.path().join(path), text).unwrap();
            }
            Step::Run { args, expected } => {
                let (expected, expected_code) = match expected.rsplit_once("\n(exit ") {
                    Some((text, code)) => (
                        text.to_string(),
                        code.trim_end_matches(')').parse().unwrap(),
                    ),
                    None => (expected, 0),
                };
                let (actual, code) = run(folder.path(), &args);
                assert_eq!(
                    masked(actual.trim_end()),
                    masked(&expected),
                    "README tour: `strata {}` printed something else",
                    args.join(" ")
                );
                assert_eq!(code, expected_code, "strata {}", args.join(" "));
            }
        }
    }
}
