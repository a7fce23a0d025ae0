//! What a live database has that schema.toml cannot say, for `strata pull` and
//! `strata baseline`: each object named (kind, name, why), never dropped silently.
//!
//! The drivers name what only their catalogs know (CHECK constraints, views,
//! triggers, …); [`adopt`] then takes out of an inspected [`Schema`] whatever the
//! schema.toml parser would refuse (a type the model cannot hold — a domain, a
//! composite type, an enum of another schema —, a foreign key to what is not
//! a key), together with
//! everything that depended on it, so that what `pull` writes `generate` accepts.

use std::fmt;

use serde::Serialize;

use super::{Schema, Type};

/// One object of a live database that strata does not manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmanaged {
    /// `check constraint`, `view`, `column`, …
    pub kind: String,
    /// The object's name, qualified by its table where it has one (`film.rating`).
    pub name: String,
    /// What it is or what schema.toml does instead (its SQL, where known).
    pub detail: String,
}

impl Unmanaged {
    pub fn new(kind: &str, name: impl Into<String>, detail: impl Into<String>) -> Self {
        Unmanaged {
            kind: kind.to_string(),
            name: name.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Unmanaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.name)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Takes out of `schema` what schema.toml cannot hold, adding each object to
/// `found`: columns of types the parser refuses, then what used them (keys,
/// indexes, foreign keys, tables left without columns) and foreign keys to
/// something that is no longer a key. Constraint names that
/// differ from strata's convention are named and replaced by the convention's,
/// which is the name schema.toml gives them.
pub fn adopt(schema: &mut Schema, found: &mut Vec<Unmanaged>) {
    let mut removed_columns: std::collections::HashMap<String, Vec<String>> = Default::default();
    for table in &mut schema.tables {
        let name = table.name.clone();
        let mut removed = Vec::new();
        table.columns.retain(|column| match &column.ty {
            Type::Custom(ty) => {
                found.push(Unmanaged::new(
                    "column",
                    format!("{name}.{}", column.name),
                    format!("type `{ty}` is not one schema.toml declares; the column is left out"),
                ));
                removed.push(column.name.clone());
                false
            }
            _ => true,
        });
        removed_columns.insert(name.clone(), removed.clone());
        let uses_removed = |columns: &[String]| columns.iter().any(|c| removed.contains(c));
        if let Some(pk) = table.primary_key.take() {
            if uses_removed(&pk.columns) {
                found.push(Unmanaged::new(
                    "primary key",
                    format!("{name}.{}", pk.name),
                    format!("on ({}), a column left out", pk.columns.join(", ")),
                ));
            } else {
                table.primary_key = Some(pk);
            }
        }
        table.uniques.retain(|unique| {
            let keep = !uses_removed(&unique.columns);
            if !keep {
                found.push(Unmanaged::new(
                    "unique constraint",
                    format!("{name}.{}", unique.name),
                    format!("on ({}), a column left out", unique.columns.join(", ")),
                ));
            }
            keep
        });
        table.indexes.retain(|index| {
            let keep = !removed.iter().any(|column| index.uses_column(column));
            if !keep {
                found.push(Unmanaged::new(
                    "index",
                    format!("{name}.{}", index.name),
                    format!(
                        "on ({}), a column left out",
                        crate::driver::ddl::index_keys_summary(index)
                    ),
                ));
            }
            keep
        });
        table.foreign_keys.retain(|fk| {
            let keep = !uses_removed(&fk.columns);
            if !keep {
                found.push(Unmanaged::new(
                    "foreign key",
                    format!("{name}.{}", fk.name),
                    format!("on ({}), a column left out", fk.columns.join(", ")),
                ));
            }
            keep
        });
    }
    schema.tables.retain(|table| {
        let keep = !table.columns.is_empty();
        if !keep {
            found.push(Unmanaged::new(
                "table",
                &table.name,
                "no column schema.toml can declare; the table is left out",
            ));
        }
        keep
    });

    // Foreign keys last: they depend on the other tables' keys.
    let reference = schema.clone();
    for table in &mut schema.tables {
        let name = table.name.clone();
        table.foreign_keys.retain(|fk| {
            let target = reference.table(&fk.referenced_table);
            let problem = if fk.referenced_columns.is_empty() {
                Some(format!(
                    "references `{}`, which has no primary key",
                    fk.referenced_table
                ))
            } else {
                match target {
                    None => Some(format!(
                        "references `{}`, which is left out",
                        fk.referenced_table
                    )),
                    Some(target) if !target.has_unique_key(&fk.referenced_columns) => {
                        Some(format!(
                            "references {}({}), which is not a key schema.toml declares",
                            fk.referenced_table,
                            fk.referenced_columns.join(", ")
                        ))
                    }
                    Some(_) => None,
                }
            };
            if let Some(problem) = &problem {
                found.push(Unmanaged::new(
                    "foreign key",
                    format!("{name}.{}", fk.name),
                    format!(
                        "({}) → {}({}): {problem}",
                        fk.columns.join(", "),
                        fk.referenced_table,
                        fk.referenced_columns.join(", ")
                    ),
                ));
            }
            problem.is_none()
        });
    }

    // A CHECK that reads a column left out would fail: it goes too.
    for table in &mut schema.tables {
        let name = table.name.clone();
        let removed = removed_columns.remove(&name).unwrap_or_default();
        table.checks.retain(|check| {
            let words = words(&check.expression);
            let gone = removed.iter().find(|c| words.contains(&c.to_lowercase()));
            if let Some(column) = gone {
                found.push(Unmanaged::new(
                    "check constraint",
                    format!("{name}.{}", check.name),
                    format!(
                        "CHECK ({}) reads column {column}, which is left out",
                        check.expression
                    ),
                ));
            }
            gone.is_none()
        });
    }
}

/// The lower-cased words and quoted names of an SQL expression.
fn words(expression: &str) -> Vec<String> {
    expression
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '"'))
        .map(|word| word.trim_matches('"').to_lowercase())
        .filter(|word| !word.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ForeignKey, ForeignKeyAction, PrimaryKey, Table};

    fn column(name: &str, ty: Type) -> Column {
        Column::new(name, ty)
    }

    #[test]
    fn a_left_out_key_takes_the_foreign_keys_to_it_along() {
        let mut a = Table::new("a");
        a.columns = vec![column("code", Type::Custom("character(2)".into()))];
        a.primary_key = Some(PrimaryKey {
            name: "a_pkey".into(),
            columns: vec!["code".into()],
        });
        let mut b = Table::new("b");
        b.columns = vec![column("id", Type::Integer), column("a_code", Type::Text)];
        b.primary_key = Some(PrimaryKey {
            name: "pk_b".into(),
            columns: vec!["id".into()],
        });
        b.foreign_keys = vec![ForeignKey {
            name: "b_a_code_fkey".into(),
            columns: vec!["a_code".into()],
            referenced_table: "a".into(),
            referenced_columns: vec!["code".into()],
            on_delete: ForeignKeyAction::NoAction,
            on_update: ForeignKeyAction::NoAction,
            deferrable: false,
            initially_deferred: false,
        }];
        let mut schema = Schema {
            tables: vec![a, b],
            ..Schema::default()
        };
        let mut found = Vec::new();
        adopt(&mut schema, &mut found);
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "column `a.code`: type `character(2)` is not one schema.toml declares; the column is left out",
                "primary key `a.a_pkey`: on (code), a column left out",
                "table `a`: no column schema.toml can declare; the table is left out",
                "foreign key `b.b_a_code_fkey`: (a_code) → a(code): references `a`, which is left out",
            ]
        );
        assert_eq!(schema.tables.len(), 1);
        assert!(schema.tables[0].foreign_keys.is_empty());
        // A name other than the convention's is kept (schema.toml says `name`).
        assert_eq!(schema.tables[0].primary_key.as_ref().unwrap().name, "pk_b");
    }
}
