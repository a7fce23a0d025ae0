//! Progress bars (indicatif) on stderr, for work that takes more than a second:
//! many migrations, a large patch, a pull or replay of many tables.
//!
//! Shown only when stderr is a terminal, never with --quiet or --format json
//! (`Settings::progress`), and only once the work has taken [`DELAY`]: quick
//! commands print exactly what they print in a pipe. While a bar is up, every
//! line strata prints goes through [`suspended`], so lines and bar never mix.
//! The library knows nothing of this: the commands drive a bar from the
//! callbacks they already get (migrate's on_applied, patch events).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its bar appears.
const DELAY: Duration = Duration::from_secs(1);

/// How long work runs before its bar appears: [`DELAY`], or
/// `STRATA_PROGRESS_AFTER_MS` (documented; tests use 0 to see a bar without
/// depending on how fast the machine is).
fn delay() -> Duration {
    std::env::var("STRATA_PROGRESS_AFTER_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(DELAY, Duration::from_millis)
}

/// The bar on screen (at most one at a time), for [`suspended`].
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `write` with the bar on screen (if any) cleared, then redraws it.
pub(super) fn suspended<T>(write: impl FnOnce() -> T) -> T {
    let shown = SHOWN.lock().ok().and_then(|shown| shown.clone());
    match shown {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// A spinner with a count and a message; a no-op where bars are not shown.
/// Dropping it clears it from the screen.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Set when the work ended, so a bar that was about to appear does not.
    done: Arc<Mutex<bool>>,
}

impl Progress {
    /// `{spinner} {what}: {count} {unit} [{elapsed}] {message}`.
    pub fn start(what: &str, unit: &str) -> Progress {
        Self::with_template(format!(
            "{{spinner}} {what}: {{pos}} {unit} [{{elapsed}}] {{msg}}"
        ))
    }

    /// `{spinner} {what} [{elapsed}]`, for one long step (introspection, replay).
    pub fn spinner(what: &str) -> Progress {
        Self::with_template(format!("{{spinner}} {what} [{{elapsed}}]"))
    }

    fn with_template(template: String) -> Progress {
        let done = Arc::new(Mutex::new(false));
        if !super::settings().progress || super::capturing() {
            return Progress { bar: None, done };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        let (later, flag) = (bar.clone(), Arc::clone(&done));
        // A thread rather than a check in `advance`: a single long step (one big
        // INSERT, one introspection) sends no events while it runs.
        let _ = std::thread::Builder::new()
            .name("strata-progress".into())
            .spawn(move || {
                std::thread::sleep(delay());
                let Ok(done) = flag.lock() else { return };
                if !*done {
                    later.set_draw_target(ProgressDrawTarget::stderr());
                    later.enable_steady_tick(Duration::from_millis(120));
                    if let Ok(mut shown) = SHOWN.lock() {
                        *shown = Some(later.clone());
                    }
                }
            });
        Progress {
            bar: Some(bar),
            done,
        }
    }

    /// One more unit done; `message` says which (`V12__add_power`).
    pub fn advance(&self, count: u64, message: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(count);
            bar.set_message(crate::text::printable(message).into_owned());
        }
    }

    /// The message alone (what is running now).
    pub fn message(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(crate::text::printable(message).into_owned());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let Some(bar) = &self.bar else { return };
        if let Ok(mut done) = self.done.lock() {
            *done = true;
        }
        if let Ok(mut shown) = SHOWN.lock() {
            *shown = None;
        }
        bar.finish_and_clear();
    }
}
