//! `[domain.NAME] type = "…", nullable = …, default = …, check = …`: domains.
//! `check` is one expression on `VALUE` (named `<domain>_check`, as PostgreSQL
//! names it), `{ name = "…", sql = "…" }`, or a list of either (unnamed ones
//! numbered `<domain>_check`, `<domain>_check1`, …).

use toml::de::DeValue;

use super::Parser;
use crate::diagnostics::Problem;
use crate::schema::{names, Column, DomainType, Schema, Type};
use crate::spanned_toml::Value;

const DOMAIN_KEYS: &[&str] = &["type", "nullable", "default", "check"];

impl Parser<'_> {
    /// The `[domain]` table, sorted by name. Read after the enums (a domain may
    /// be over one) and before the tables (whose columns may be of one).
    pub(super) fn domains(&mut self, value: &Value<'_>) -> Vec<DomainType> {
        let Some(table) = self.reader.table("domain", value) else {
            return Vec::new();
        };
        // Known before any is checked: columns of a domain with a problem are
        // not reported as of an unknown type too.
        for (name, _) in table.iter() {
            self.domain_names
                .push((name.get_ref().to_string(), name.span()));
        }
        let mut domains = Vec::new();
        for (name, body) in table.iter() {
            let domain_name = name.get_ref().to_string();
            let mut ok = self.identifier(&domain_name, name.span(), "domain");
            let clash = if Type::parse_portable(&domain_name).is_some() {
                Some("a portable type")
            } else if self.enum_names.contains(&domain_name) {
                Some("an enum; PostgreSQL keeps enums and domains in one namespace")
            } else {
                None
            };
            if let Some(clash) = clash {
                self.reader.problem(
                    Problem::new(
                        name.span(),
                        format!("domain `{domain_name}` has the name of {clash}"),
                    )
                    .label("choose another name"),
                );
                ok = false;
            }
            let Some(options) = self.reader.table(&domain_name, body) else {
                continue;
            };
            let what = format!("domain `{domain_name}`");
            self.reader.only_keys(options, &what, DOMAIN_KEYS);
            let Some(type_value) = options.get("type") else {
                self.reader
                    .missing(body.span(), "type", &what, "type = \"integer\"");
                continue;
            };
            let base = match type_value.get_ref() {
                DeValue::String(text) if self.is_domain(text) => {
                    self.reader.problem(
                        Problem::new(
                            type_value.span(),
                            format!("domain `{domain_name}` is over domain `{text}`; strata's domains are over a portable, native or enum type"),
                        )
                        .label("a domain")
                        .help(format!("write the type `{text}` is over, and its checks here")),
                    );
                    None
                }
                // Settled with the columns' types (an empty table name marks a domain).
                _ => self.column_type_value("", &domain_name, type_value),
            };
            let Some(base) = base else {
                continue;
            };
            let mut domain = DomainType {
                name: domain_name.clone(),
                base,
                nullable: true,
                default: None,
                checks: Vec::new(),
            };
            if let Some(value) = options.get("nullable") {
                domain.nullable = self.reader.boolean("nullable", value).unwrap_or(true);
            }
            if let Some(value) = options.get("default") {
                let like = Column {
                    nullable: true,
                    ..Column::new(
                        format!("VALUE of domain {domain_name}"),
                        domain.base.clone(),
                    )
                };
                match self.default_value(&like, value) {
                    Some(default) => domain.default = Some(default),
                    None => ok = false,
                }
            }
            if let Some(value) = options.get("check") {
                ok &= self.domain_checks(&mut domain, value);
            }
            if ok {
                domain.checks.sort_by(|a, b| a.name.cmp(&b.name));
                domains.push(domain);
            }
        }
        domains.sort_by(|a, b| a.name.cmp(&b.name));
        domains
    }

    pub(super) fn is_domain(&self, name: &str) -> bool {
        self.domain_names.iter().any(|(known, _)| known == name)
    }

    /// `check = "…"`, `{ name, sql }` or a list of them; false after a problem.
    fn domain_checks(&mut self, domain: &mut DomainType, value: &Value<'_>) -> bool {
        let items: Vec<&Value<'_>> = match value.get_ref() {
            DeValue::Array(items) => items.iter().collect(),
            _ => vec![value],
        };
        let mut ok = true;
        let mut unnamed = 0;
        for item in items {
            let named = matches!(item.get_ref(), DeValue::Table(t) if t.get("name").is_some());
            let default_name = names::table_check(&domain.name, unnamed);
            if !named {
                unnamed += 1;
            }
            let Some(check) = self.check(item, default_name, true) else {
                ok = false;
                continue;
            };
            if domain.checks.iter().any(|other| other.name == check.name) {
                self.reader.problem(
                    Problem::new(
                        item.span(),
                        format!(
                            "domain `{}` has two check constraints named `{}`",
                            domain.name, check.name
                        ),
                    )
                    .label("second check of that name")
                    .help("give one of them its own `name`"),
                );
                ok = false;
                continue;
            }
            domain.checks.push(check);
        }
        ok
    }

    /// A table is a type in PostgreSQL (its row type): a domain cannot share its name.
    pub(super) fn check_domain_names(&mut self, schema: &Schema) {
        for table in &schema.tables {
            let Some((_, span)) = self
                .domain_names
                .iter()
                .find(|(name, _)| *name == table.name)
                .cloned()
            else {
                continue;
            };
            self.reader.problem(
                Problem::new(
                    span,
                    format!(
                        "domain `{}` has the name of a table; PostgreSQL keeps a table's row type and domains in one namespace",
                        table.name
                    ),
                )
                .label("rename the domain or the table"),
            );
        }
    }
}
