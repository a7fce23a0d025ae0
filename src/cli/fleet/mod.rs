//! Fleets: one command (`migrate`, `patch`, `setup`, `status`, `check`) over many
//! databases (`--targets FILE`, or `[targets]` in schema.toml), `--parallel N` at
//! a time on worker threads.
//!
//! Each target runs the very command a single database runs, in this process:
//! the same lock, the same checks, the same messages; what a process per database
//! would pay again and again (start-up, reading the project) is paid once. Each
//! target's output is captured ([`output::capture`]) and replaced by one line
//! printed when it finishes, so parallel targets never interleave; `--verbose`
//! prints each target's full output under its line. A failure stops only its own
//! target unless `--fail-fast`; the exit code is that of the first failed target
//! in the list's order (0 when all succeeded), as if it had run alone.

pub mod targets;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::output::{self, say, Captured};
use super::{plural, Context};
use crate::error::exit;
use crate::{Error, Result};
pub use targets::FleetTarget;

/// How a fleet runs.
#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// Targets at a time (at least 1).
    pub parallel: usize,
    /// Start no new target once one has failed.
    pub fail_fast: bool,
}

/// What became of one target.
struct Outcome {
    index: usize,
    /// The command's exit code (0: succeeded).
    code: i32,
    /// The error it returned, rendered without colour.
    error: Option<String>,
    captured: Captured,
    duration: Duration,
}

/// Runs `work` once per target, each with a context naming that target, and
/// reports. `command` names the command in lines and the JSON document.
pub fn run(
    context: &Context,
    command: &str,
    targets: Vec<FleetTarget>,
    options: FleetOptions,
    work: impl Fn(&Context) -> Result<i32> + Sync,
) -> Result<i32> {
    let started = Instant::now();
    let parallel = options.parallel.clamp(1, targets.len().max(1));
    // Every target of the fleet shares one memo of inspected schemas.
    let memo = std::sync::Arc::new(crate::patch::SchemaMemo::default());
    let mut context = context.clone();
    context.schemas = Some(memo.clone());
    let context = &context;
    say!(
        "{command}: {} ({parallel} at a time)",
        plural(targets.len(), "target")
    );
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut outcomes: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    let mut warnings: Vec<String> = Vec::new();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel::<Outcome>();
        for worker in 0..parallel {
            let sender = sender.clone();
            let (targets, next, stop, work) = (&targets, &next, &stop, &work);
            let spawned = std::thread::Builder::new()
                .name(format!("strata-fleet-{worker}"))
                .spawn_scoped(scope, move || loop {
                    if stop.load(Ordering::SeqCst)
                        || crate::driver::INTERRUPTED.load(Ordering::SeqCst)
                    {
                        return;
                    }
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(index) else {
                        return;
                    };
                    let outcome = run_one(context, index, target, work);
                    if outcome.code != exit::OK && options.fail_fast {
                        stop.store(true, Ordering::SeqCst);
                    }
                    if sender.send(outcome).is_err() {
                        return;
                    }
                });
            if let Err(error) = spawned {
                // Fewer workers than asked still get through the list.
                output::warning(&format!("could not start worker thread {worker}: {error}"));
            }
        }
        drop(sender);
        // Lines in the order targets finish, each printed whole.
        for outcome in receiver {
            let target = &targets[outcome.index];
            print_outcome(command, target, &outcome);
            if outcome.code == exit::OK && !output::settings().verbose {
                for block in split_messages(&outcome.captured.stderr) {
                    if !warnings.contains(&block) {
                        warnings.push(block);
                    }
                }
            }
            let index = outcome.index;
            outcomes[index] = Some(outcome);
        }
    });
    // Warnings every target repeats (a project-level one) are shown once.
    for block in &warnings {
        output::write_stderr(block);
    }
    let failed: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.as_ref().is_some_and(|o| o.code != exit::OK))
        .map(|(i, _)| i)
        .collect();
    let skipped = outcomes.iter().filter(|o| o.is_none()).count();
    let succeeded = targets.len() - failed.len() - skipped;
    let elapsed = started.elapsed();
    let mut total = format!(
        "{command}: {succeeded} of {} succeeded",
        plural(targets.len(), "target")
    );
    if !failed.is_empty() {
        let names: Vec<String> = failed.iter().map(|&i| targets[i].label()).collect();
        total.push_str(&format!(", {} failed ({})", failed.len(), names.join(", ")));
    }
    if skipped > 0 {
        total.push_str(&format!(", {skipped} not started"));
    }
    say!("{total} in {:.1} s.", elapsed.as_secs_f64());
    let mut document = document(command, &targets, &outcomes, options, parallel, elapsed);
    // How often patches were checked against a live inspection, and how often
    // against one made for a target with the same history (README, "Fleets").
    let (inspected, reused) = memo.counts();
    document["schemas"] = json!({ "inspected": inspected, "reused": reused });
    output::json(&document);
    let interrupted = crate::driver::INTERRUPTED.load(Ordering::SeqCst);
    Ok(match failed.first() {
        _ if interrupted && skipped > 0 => exit::INTERRUPTED,
        Some(&first) => outcomes[first].as_ref().map_or(exit::RUNTIME, |o| o.code),
        None => exit::OK,
    })
}

/// Runs the command on one target with its output captured.
fn run_one(
    context: &Context,
    index: usize,
    target: &FleetTarget,
    work: &(impl Fn(&Context) -> Result<i32> + Sync),
) -> Outcome {
    let mut context = context.clone();
    context.target = Some(target.url.clone());
    context.database_url = None;
    let started = Instant::now();
    // A panic in one target must not take the others (or their locks) down with it.
    let (result, captured) = output::capture(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&context)))
    });
    let (code, error) = match result {
        Ok(Ok(code)) => (code, None),
        Ok(Err(error)) => (error.exit_code(), Some(render(&error))),
        Err(_) => (
            exit::RUNTIME,
            Some("internal error: strata panicked on this target (a bug; please report it)".into()),
        ),
    };
    Outcome {
        index,
        code,
        error,
        captured,
        duration: started.elapsed(),
    }
}

fn render(error: &Error) -> String {
    match error {
        Error::Problems(problems) => problems.render(false),
        other => other.to_string(),
    }
}

/// The target's line (stdout) and, for a failure, what went wrong (stderr).
fn print_outcome(command: &str, target: &FleetTarget, outcome: &Outcome) {
    let label = target.label();
    let ms = outcome.duration.as_millis();
    let settings = output::settings();
    if outcome.code == exit::OK {
        let summary = summary(command, &outcome.captured);
        say!("  ok      {label}: {summary} ({ms} ms)");
    } else {
        say!("  FAILED  {label}: exit {} ({ms} ms)", outcome.code);
    }
    if settings.verbose {
        let mut block = String::new();
        for line in outcome.captured.stdout.lines() {
            block.push_str(&format!("    {line}\n"));
        }
        output::write_stderr(&block);
        output::write_stderr(&outcome.captured.stderr);
    }
    if outcome.code != exit::OK {
        // What the command itself reported (status's problems, check's findings)
        // and its error, under the target's name; a URL is never shown unmasked.
        let mut text = String::new();
        if !settings.verbose {
            text.push_str(&outcome.captured.stderr);
        }
        if let Some(error) = &outcome.error {
            text.push_str(error);
        }
        let text = text.trim_end();
        let text = text.strip_prefix("error: ").unwrap_or(text);
        let shown = if target.name.is_some() {
            format!("{label} ({}): {text}", target.url)
        } else {
            format!("{label}: {text}")
        };
        output::error(&shown);
    }
}

/// The stderr of a command split into its messages (a line starting a new
/// `warning:`/`error:` begins a new one), each ending with a newline.
fn split_messages(stderr: &str) -> Vec<String> {
    let mut blocks: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let starts = line.starts_with("warning:") || line.starts_with("error:");
        match blocks.last_mut() {
            Some(block) if !starts => {
                block.push_str(line);
                block.push('\n');
            }
            _ => blocks.push(format!("{line}\n")),
        }
    }
    blocks
}

/// One phrase for a target's line, from the command's JSON document.
fn summary(command: &str, captured: &Captured) -> String {
    let Some(document) = &captured.document else {
        return captured
            .stdout
            .lines()
            .rfind(|line| !line.trim().is_empty())
            .unwrap_or("done")
            .trim()
            .to_string();
    };
    let count = |key: &str| document[key].as_array().map_or(0, Vec::len);
    let version = match document["version"].as_i64() {
        Some(version) => format!("V{version}"),
        None => "no migrations".to_string(),
    };
    match command {
        "migrate" if document["dry_run"] == true => {
            format!("{} would be applied", plural(count("pending"), "migration"))
        }
        "migrate" => match count("applied") {
            0 => format!("up to date ({version})"),
            n => format!("applied {}, now at {version}", plural(n, "migration")),
        },
        "setup" => format!(
            "{}{} and {} applied, at {version}",
            if document["created"] == true {
                "created; "
            } else {
                ""
            },
            plural(count("migrations"), "migration"),
            plural(count("patches"), "patch")
        ),
        "patch" => {
            let mut text = String::new();
            if document.get("migrations").is_some() {
                text.push_str(&format!(
                    "{} and ",
                    plural(count("migrations"), "migration")
                ));
            }
            text.push_str(&plural(count("patches"), "patch"));
            text.push_str(if document["dry_run"] == true {
                " (dry run, rolled back)"
            } else {
                " applied"
            });
            text
        }
        "status" => {
            let pending = |key: &str| {
                document[key].as_array().map_or(0, |items| {
                    items
                        .iter()
                        .filter(|item| item["state"] == "pending")
                        .count()
                })
            };
            let at = document["migrations"]
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .filter(|item| item["state"] == "applied")
                        .filter_map(|item| item["version"].as_i64())
                        .max()
                })
                .map_or("no migration applied".to_string(), |v| format!("at V{v}"));
            let exists = if document["exists"] == false {
                "does not exist yet; "
            } else {
                ""
            };
            format!(
                "{exists}{at}, {} and {} pending",
                plural(pending("migrations"), "migration"),
                plural(pending("patches"), "patch")
            )
        }
        "check" => "clean: nothing pending, no drift".to_string(),
        _ => "done".to_string(),
    }
}

/// `--format json`: one record per target, in the list's order, and the totals.
fn document(
    command: &str,
    targets: &[FleetTarget],
    outcomes: &[Option<Outcome>],
    options: FleetOptions,
    parallel: usize,
    elapsed: Duration,
) -> Value {
    let records: Vec<Value> = targets
        .iter()
        .zip(outcomes)
        .map(|(target, outcome)| match outcome {
            Some(outcome) => json!({
                "name": target.name,
                "database": target.url.to_string(),
                "state": if outcome.code == exit::OK { "ok" } else { "failed" },
                "exit_code": outcome.code,
                "duration_ms": outcome.duration.as_millis(),
                "error": error_text(outcome),
                "result": outcome.captured.document,
            }),
            None => json!({
                "name": target.name,
                "database": target.url.to_string(),
                "state": "not_started",
                "exit_code": null,
                "duration_ms": null,
                "error": null,
                "result": null,
            }),
        })
        .collect();
    let state_count = |state: &str| records.iter().filter(|r| r["state"] == state).count();
    json!({
        "command": "fleet",
        "run": command,
        "parallel": parallel,
        "fail_fast": options.fail_fast,
        "ok": state_count("ok") == targets.len(),
        "succeeded": state_count("ok"),
        "failed": state_count("failed"),
        "not_started": state_count("not_started"),
        "duration_ms": elapsed.as_millis(),
        "targets": records,
    })
}

/// A failed target's messages (its stderr and error), or null when it succeeded.
fn error_text(outcome: &Outcome) -> Value {
    if outcome.code == exit::OK {
        return Value::Null;
    }
    let mut text = outcome.captured.stderr.clone();
    if let Some(error) = &outcome.error {
        text.push_str(error);
    }
    Value::String(text.trim_end().to_string())
}
