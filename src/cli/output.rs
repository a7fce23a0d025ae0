//! Everything strata prints goes through here, so that
//! - a closed stdout (`strata status | head -1`) never panics: the work goes on to
//!   its end (finished or rolled back, never half-done) and the rest of the output
//!   is dropped;
//! - `--quiet` leaves only errors, `--verbose` adds statements and timings;
//! - `--format json` keeps stdout for one JSON document;
//! - colour is used only on terminals, never with `NO_COLOR`, as `--color` says.

mod progress;

pub use progress::Progress;

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Lines for people.
    #[default]
    Human,
    /// One JSON document on stdout (shapes in docs/json.md).
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Settings {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    pub color_stdout: bool,
    pub color_stderr: bool,
    /// Progress bars on stderr: a terminal, human output, not --quiet.
    pub progress: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

impl Settings {
    pub fn new(format: Format, quiet: bool, verbose: bool, color: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let decide = |terminal: bool| match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && !no_color,
        };
        Settings {
            format,
            quiet,
            verbose,
            color_stdout: decide(std::io::stdout().is_terminal()),
            color_stderr: decide(std::io::stderr().is_terminal()),
            progress: std::io::stderr().is_terminal() && !quiet && format == Format::Human,
        }
    }

    /// Installs the settings for this process (the first call wins).
    pub fn install(self) {
        let _ = SETTINGS.set(self);
    }
}

pub fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

pub fn json_mode() -> bool {
    settings().format == Format::Json
}

/// Whether stderr gets colour (for diagnostics rendered elsewhere).
pub fn color_stderr() -> bool {
    settings().color_stderr
}

/// What one command printed while [`capture`]d: a fleet runs one command per
/// target on worker threads, and their lines must not interleave on the screen.
#[derive(Debug, Default)]
pub struct Captured {
    /// Everything bound for stdout (human lines, already filtered by --quiet).
    pub stdout: String,
    /// Everything bound for stderr: errors, warnings, --verbose details.
    pub stderr: String,
    /// The command's JSON document, kept in human mode too (fleet summaries read it).
    pub document: Option<serde_json::Value>,
}

thread_local! {
    static CAPTURE: RefCell<Option<Captured>> = const { RefCell::new(None) };
}

/// Runs `work` with this thread's output collected instead of printed.
pub fn capture<T>(work: impl FnOnce() -> T) -> (T, Captured) {
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(Captured::default()));
    let result = work();
    let captured = CAPTURE
        .with(|capture| capture.borrow_mut().take())
        .unwrap_or_default();
    (result, captured)
}

/// Whether this thread's output is being [`capture`]d (no progress bars then).
pub(crate) fn capturing() -> bool {
    CAPTURE.with(|capture| capture.borrow().is_some())
}

/// Hands `text` to the capture when one is active; false when it is not.
fn captured(write: impl FnOnce(&mut Captured)) -> bool {
    CAPTURE.with(|capture| match capture.borrow_mut().as_mut() {
        Some(captured) => {
            write(captured);
            true
        }
        None => false,
    })
}

/// Writes to stdout; a closed pipe is remembered and everything after it dropped.
pub fn write_stdout(text: &str) {
    if captured(|c| c.stdout.push_str(text)) {
        return;
    }
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let written = progress::suspended(|| {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
    });
    if written.is_err() {
        // EPIPE (or a full disk behind a redirect): nobody reads any more, but the
        // work in progress must still finish or roll back cleanly.
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// Writes to stderr, ignoring failure (there is nowhere left to report it).
pub fn write_stderr(text: &str) {
    if captured(|c| c.stderr.push_str(text)) {
        return;
    }
    progress::suspended(|| {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    });
}

/// A line of human output: progress and results. Silent with --quiet or JSON.
pub fn say_line(line: std::fmt::Arguments<'_>) {
    let settings = settings();
    if settings.quiet || settings.format == Format::Json {
        return;
    }
    write_stdout(&format!("{line}\n"));
}

/// A line shown only with --verbose (statements, timings), on stderr so that it
/// never mixes into JSON.
pub fn detail(line: std::fmt::Arguments<'_>) {
    if settings().verbose {
        write_stderr(&format!("{line}\n"));
    }
}

/// Raw document text for stdout (pull's schema, JSON), shown whatever --quiet says.
pub fn document(text: &str) {
    write_stdout(text);
}

/// A JSON document on stdout (only in JSON mode).
pub fn json(value: &serde_json::Value) {
    if captured(|c| c.document = Some(value.clone())) {
        return;
    }
    if json_mode() {
        write_stdout(&format!("{value:#}\n"));
    }
}

const RED_BOLD: &str = "\x1b[1;31m";
const YELLOW_BOLD: &str = "\x1b[1;33m";
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

fn painted(color: bool, paint: &str, text: &str) -> String {
    if color {
        format!("{paint}{text}{RESET}")
    } else {
        text.to_string()
    }
}

/// `error: …` on stderr, the prefix red on a terminal.
pub fn error(message: &str) {
    let prefix = painted(settings().color_stderr && !capturing(), RED_BOLD, "error:");
    write_stderr(&format!("{prefix} {message}\n"));
}

/// `warning: …` on stderr (shown even with --quiet: it is not progress).
pub fn warning(message: &str) {
    let prefix = painted(
        settings().color_stderr && !capturing(),
        YELLOW_BOLD,
        "warning:",
    );
    write_stderr(&format!("{prefix} {message}\n"));
}

/// The new value of a before → after line, green on a terminal.
pub fn after(text: &str) -> String {
    painted(settings().color_stdout, GREEN, text)
}

/// The old value of a before → after line, red on a terminal.
pub fn before(text: &str) -> String {
    painted(settings().color_stdout, RED, text)
}

/// A remark on stdout (`(provisional)`), yellow on a terminal.
pub fn remark(text: &str) -> String {
    painted(settings().color_stdout, YELLOW, text)
}

/// `say!("…", args)`: a line of human output (see [`say`]).
macro_rules! say {
    () => { $crate::cli::output::say_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cli::output::say_line(format_args!($($arg)*)) };
}
pub(crate) use say;
