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
}

impl FileProblems {
    pub fn new(path: &Path, source: &str, mut problems: Vec<Problem>) -> Self {
        problems.sort_by_key(|problem| (problem.span.start, problem.span.end));
        problems.dedup();
        FileProblems {
            path: path.to_path_buf(),
            source: source.to_string(),
            problems,
        }
    }

    /// The first problem's `line:column`, for tests and one-line summaries.
    pub fn first_location(&self) -> Option<(usize, usize)> {
        self.problems
            .first()
            .map(|problem| crate::text::line_column(&self.source, problem.span.start))
    }
}

impl fmt::Display for FileProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = SimpleFile::new(self.path.display().to_string(), self.source.as_str());
        let config = term::Config::default();
        for problem in &self.problems {
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
            let rendered =
                term::emit_into_string(&config, &file, &diagnostic).map_err(|_| fmt::Error)?;
            f.write_str(&rendered)?;
        }
        let count = self.problems.len();
        write!(
            f,
            "{}: {count} error{}",
            self.path.display(),
            if count == 1 { "" } else { "s" }
        )
    }
}
