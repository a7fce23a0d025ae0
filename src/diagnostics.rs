//! Errors that point into a text file: file, line, column, a caret under the
//! offending text, what is wrong and what would be right.
//!
//! Rendering is codespan-reporting's; this module only collects the problems so that
//! a whole file can be checked and every problem reported at once.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

/// One problem at one place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Range<usize>,
    /// What is wrong, as a sentence without a trailing period.
    pub message: String,
    /// A short note under the caret.
    pub label: String,
    /// What would be right, when that is more than the label says.
    pub help: Option<String>,
}

impl Problem {
    pub fn new(span: Range<usize>, message: impl Into<String>) -> Self {
        Problem {
            span,
            message: message.into(),
            label: String::new(),
            help: None,
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Every problem found in one file, with the text needed to show them.
#[derive(Debug, Clone)]
pub struct FileProblems {
    pub path: PathBuf,
    pub source: String,
    pub problems: Vec<Problem>,
    /// Sentences about the file as a whole, shown after its problems.
    pub notes: Vec<String>,
}

impl FileProblems {
    pub fn new(path: &Path, source: &str, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|problem| (problem.span.start, problem.span.end));
        problems.dedup();
        FileProblems {
            path: path.to_path_buf(),
            source: source.to_string(),
            problems,
            notes: Vec::new(),
        }
    }

    /// The first problem's `line:column`, for tests and one-line summaries.
    pub fn first_location(&self) -> Option<(usize, usize)> {
        self.problems
            .first()
            .map(|problem| crate::text::line_column(&self.source, problem.span.start))
    }
}

impl FileProblems {
    /// Every problem as codespan renders it, with ANSI colour when `color`.
    pub fn render(&self, color: bool) -> String {
        let mut buffer = if color {
            termcolor::Buffer::ansi()
        } else {
            termcolor::Buffer::no_color()
        };
        let file = SimpleFile::new(self.path.display().to_string(), self.source.as_str());
        let config = term::Config::default();
        for diagnostic in self.diagnostics() {
            // Writing into memory cannot fail for any reason but a bug in the renderer.
            let _ = term::emit_to_write_style(&mut buffer, &config, &file, &diagnostic);
        }
        let mut text = String::from_utf8_lossy(buffer.as_slice()).into_owned();
        for note in &self.notes {
            text.push_str(&format!("note: {note}\n"));
        }
        text.push_str(&self.summary());
        text
    }

    fn summary(&self) -> String {
        let count = self.problems.len();
        format!(
            "{}: {}",
            self.path.display(),
            crate::text::plural(count, "error")
        )
    }

    fn diagnostics(&self) -> Vec<Diagnostic<()>> {
        self.problems
            .iter()
            .map(|problem| {
                let end = problem.span.end.min(self.source.len());
                let start = problem.span.start.min(end);
                let mut diagnostic = Diagnostic::error()
                    .with_message(&problem.message)
                    .with_labels(vec![
                        Label::primary((), start..end).with_message(&problem.label)
                    ]);
                if let Some(help) = &problem.help {
                    diagnostic = diagnostic.with_notes(vec![format!("help: {help}")]);
                }
                diagnostic
            })
            .collect()
    }
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}
