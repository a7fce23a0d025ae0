//! Domains: `[domain.NAME] type = "…"` with NOT NULL, a default and named
//! CHECKs on `VALUE`. PostgreSQL has them (`CREATE DOMAIN`); on an engine
//! without them a domain column becomes its base type with the domain's checks,
//! `VALUE` replaced by the column (see [`Schema::lower_domains`]).

use serde::{Deserialize, Serialize};

use super::{Check, DefaultValue, Schema, Type};

/// A domain type: a base type with constraints every column of it obeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainType {
    pub name: String,
    /// A portable, native or enum type (never another domain).
    pub base: Type,
    /// `false` is the domain's `NOT NULL`.
    pub nullable: bool,
    pub default: Option<DefaultValue>,
    /// Sorted by name; `VALUE` stands for the value checked.
    pub checks: Vec<Check>,
}

impl Schema {
    /// Each domain column as its base type, with the domain's checks as table
    /// checks named `<table>_<column>_<check>` (`VALUE` → the column), the
    /// domain's NOT NULL and default where the column sets none of its own;
    /// the domains themselves go. For an engine without domains (SQLite).
    pub fn lower_domains(&mut self) {
        let domains = std::mem::take(&mut self.domains);
        for table in &mut self.tables {
            let mut added = false;
            for column in &mut table.columns {
                let Type::Domain(name) = &column.ty else {
                    continue;
                };
                let Some(domain) = domains.iter().find(|d| &d.name == name) else {
                    continue;
                };
                let quoted = format!("\"{}\"", column.name.replace('"', "\"\""));
                for check in &domain.checks {
                    table.checks.push(Check {
                        name: format!("{}_{}_{}", table.name, column.name, check.name),
                        expression: replace_value(&check.expression, &quoted),
                    });
                    added = true;
                }
                column.nullable = column.nullable && domain.nullable;
                if column.default.is_none() {
                    column.default = domain.default.clone();
                }
                column.ty = domain.base.clone();
            }
            if added {
                table.checks.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
    }
}

/// `expression` with each word `VALUE` (any case, not part of a longer word,
/// not inside a string literal or a quoted identifier) replaced by `with`.
pub fn replace_value(expression: &str, with: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let chars: Vec<char> = expression.chars().collect();
    let word_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' || c == '`' || c == '[' {
            // A literal or quoted identifier, doubled quotes inside, copied as is.
            let close = if c == '[' { ']' } else { c };
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == close {
                    if chars.get(i + 1) == Some(&close) && close != ']' {
                        out.push(close);
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            continue;
        }
        if word_char(c) {
            let start = i;
            while i < chars.len() && word_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.eq_ignore_ascii_case("value") {
                out.push_str(with);
            } else {
                out.push_str(&word);
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_is_replaced_as_a_word_outside_quotes() {
        assert_eq!(replace_value("VALUE > 0", "\"n\""), "\"n\" > 0");
        assert_eq!(
            replace_value(
                "value <> 'VALUE' AND \"value\" IS NULL OR values_x = Value",
                "\"c\""
            ),
            "\"c\" <> 'VALUE' AND \"value\" IS NULL OR values_x = \"c\""
        );
        assert_eq!(
            replace_value("length(VALUE) < 5 AND VALUE ~ 'it''s value'", "x"),
            "length(x) < 5 AND x ~ 'it''s value'"
        );
        assert_eq!(replace_value("price > 0", "x"), "price > 0");
    }
}
