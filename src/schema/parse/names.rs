//! Names that would collide in a database: tables, indexes and constraints in
//! one namespace (PostgreSQL), and names differing only in case (SQLite).

use std::collections::HashMap;
use std::ops::Range;

use super::Parser;
use crate::diagnostics::Problem;
use crate::text::MAX_IDENTIFIER_BYTES;

/// One entry of the schema's namespace: a table, index or constraint.
pub(super) struct NamedObject {
    pub(super) name: String,
    /// What it is, for messages: "table `team`", "the index on `hero` (name)".
    pub(super) what: String,
    pub(super) span: Range<usize>,
    /// The table it is or belongs to.
    pub(super) table: String,
}

impl Parser<'_> {
    /// SQLite compares names case-insensitively (ASCII letters only), so `team` and
    /// `Team` would be one table there and the migration would fail.
    pub(super) fn check_names_differing_in_case(&mut self) {
        let mut seen: HashMap<(String, String), String> = HashMap::new();
        for (table, name, span) in std::mem::take(&mut self.names) {
            let key = (table.clone(), name.to_ascii_lowercase());
            match seen.get(&key) {
                Some(first) if *first != name => {
                    let (what, first) = if table.is_empty() {
                        (format!("table `{name}`"), format!("`{first}`"))
                    } else {
                        (
                            format!("column `{table}.{name}`"),
                            format!("`{table}.{first}`"),
                        )
                    };
                    self.reader.problem(
                        Problem::new(
                            span,
                            format!(
                                "{what} differs from {first} only in letter case; \
                                 SQLite takes them for the same name"
                            ),
                        )
                        .label(format!("same name as {first} in SQLite"))
                        .help("rename one of them"),
                    );
                }
                Some(_) => {}
                None => {
                    seen.insert(key, name);
                }
            }
        }
    }

    /// Records a table, index or constraint name for [`Self::check_namespace`].
    pub(super) fn name_object(&mut self, name: &str, what: String, span: Range<usize>) {
        self.namespace.push(NamedObject {
            name: name.to_string(),
            what,
            span,
            table: self.current_table.clone(),
        });
    }

    /// Two objects with one name: PostgreSQL refuses the second (`relation … already
    /// exists`), and SQLite too for tables and indexes. Derived names are cut to 63
    /// bytes, so long table and column names can meet even when no one wrote the
    /// name. With SQLite among the dialects, names differing only in ASCII case meet
    /// too. Two tables are left to [`Self::check_names_differing_in_case`].
    pub(super) fn check_namespace(&mut self, fold_case: bool) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let objects = std::mem::take(&mut self.namespace);
        for (position, object) in objects.iter().enumerate() {
            let key = if fold_case {
                object.name.to_ascii_lowercase()
            } else {
                object.name.clone()
            };
            let Some(&first) = seen.get(&key) else {
                seen.insert(key, position);
                continue;
            };
            let first = &objects[first];
            let only_case = first.name != object.name;
            // Tables differing only in case are reported on their own, and then
            // every name derived from them meets too.
            if (first.what.starts_with("table ") && object.what.starts_with("table "))
                || (only_case && first.table != object.table)
            {
                continue;
            }
            let namespace = if only_case {
                "SQLite ignores letter case in names, and keeps tables, indexes and \
                 constraints in one namespace"
            } else {
                "tables, indexes and constraints share one namespace in PostgreSQL"
            };
            let (line, column) = crate::text::line_column(self.source, first.span.start);
            self.reader.problem(
                Problem::new(
                    object.span.clone(),
                    format!(
                        "{} and {} would both be named `{}`; {namespace}",
                        first.what, object.what, object.name
                    ),
                )
                .label(format!("same name as {}", first.what))
                .help(format!(
                    "the first is declared at line {line}, column {column}; rename one of them{}{}",
                    if first.what.starts_with("the index") || object.what.starts_with("the index") {
                        ", or give the index its own `name` under `indexes`"
                    } else {
                        ""
                    },
                    // A derived name this long was most likely shortened to fit.
                    if object.name.len() > MAX_IDENTIFIER_BYTES - 8 {
                        " (derived names over 63 bytes are shortened, so long names can meet)"
                    } else {
                        ""
                    }
                )),
            );
        }
    }
}
