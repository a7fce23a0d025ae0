//! The `[project]` table (dialects and the default database) and the
//! `[targets]` table (the named databases of a fleet).

use toml::de::DeTable;

use super::{Parser, ProjectConfig};
use crate::diagnostics::Problem;
use crate::text::{backticked, did_you_mean};

const PROJECT_KEYS: &[&str] = &["dialects", "database", "layout"];

impl Parser<'_> {
    pub(super) fn project(&mut self, table: &DeTable<'_>, config: &mut ProjectConfig) {
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "dialects" => {
                    let Some(list) = self.string_list("dialects", value) else {
                        continue;
                    };
                    let mut dialects = Vec::new();
                    // The dialects accepted are the registered engines'.
                    let known = crate::driver::dialect_names();
                    for dialect in list {
                        if known.contains(&dialect.get_ref().as_str()) {
                            if !dialects.contains(dialect.get_ref()) {
                                dialects.push(dialect.get_ref().clone());
                            }
                        } else {
                            self.reader.problem(
                                Problem::new(
                                    dialect.span(),
                                    format!(
                                        "unknown dialect `{}`{}",
                                        dialect.get_ref(),
                                        did_you_mean(dialect.get_ref(), known.iter().copied())
                                    ),
                                )
                                .label(format!("expected one of {}", backticked(&known))),
                            );
                        }
                    }
                    config.dialects = dialects;
                }
                "database" => config.database = self.reader.string("database", value),
                "layout" => {
                    use crate::migrate::layout::Layout;
                    let Some(name) = self.reader.string("layout", value) else {
                        continue;
                    };
                    match Layout::from_name(&name) {
                        Some(layout) => config.layout = layout,
                        None => self.reader.problem(
                            Problem::new(
                                value.span(),
                                format!(
                                    "unknown layout `{name}`{}",
                                    did_you_mean(&name, Layout::NAMES.iter().copied())
                                ),
                            )
                            .label(format!("expected one of {}", backticked(Layout::NAMES))),
                        ),
                    }
                }
                _ => self.reader.unknown_key(key, "[project]", PROJECT_KEYS),
            }
        }
    }
}

impl Parser<'_> {
    /// `[targets]`: `name = "url"`. Each URL is checked here, where its span is
    /// known, so a typo is reported at its line rather than when a fleet runs.
    pub(super) fn targets(&mut self, table: &DeTable<'_>, config: &mut ProjectConfig) {
        for (key, value) in table.iter() {
            let name = key.get_ref().as_ref();
            if !self.identifier(name, key.span(), "target") {
                continue;
            }
            let Some(url) = self.reader.string(name, value) else {
                continue;
            };
            if let Err(error) = crate::driver::DatabaseUrl::parse(&url, std::path::Path::new(".")) {
                self.reader.problem(
                    Problem::new(value.span(), format!("target `{name}`: {error}"))
                        .label("not a database URL"),
                );
                continue;
            }
            config.targets.push((name.to_string(), url));
        }
    }
}
