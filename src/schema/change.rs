//! The changes that take a database from one schema to another. The diff produces
//! them in an order that is safe to apply; each driver's planner turns them into SQL.

use std::borrow::Cow;
use std::fmt;

use crate::text::printable;

use super::{
    Check, Column, DomainType, EnumType, ForeignKey, Index, PrimaryKey, SqlObject, Table,
    TypeChange, UniqueConstraint,
};

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A new table with its primary key, foreign keys and unique constraints.
    /// Its indexes follow as separate `CreateIndex` changes.
    CreateTable(Table),
    DropTable {
        table: String,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// Type, nullability or default changed.
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    SetPrimaryKey {
        table: String,
        from: Option<PrimaryKey>,
        to: Option<PrimaryKey>,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    DropForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    AddUnique {
        table: String,
        unique: UniqueConstraint,
    },
    DropUnique {
        table: String,
        unique: UniqueConstraint,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    AddCheck {
        table: String,
        check: Check,
    },
    DropCheck {
        table: String,
        check: Check,
    },
    /// The comment of a table (`column: None`) or of one of its columns.
    SetComment {
        table: String,
        column: Option<String>,
        from: Option<String>,
        to: Option<String>,
    },
    /// A view, materialized view, function, trigger or extension, created from
    /// its declared text (the planner picks its dialect's). A changed text is a
    /// `DropObject` of the old and a `CreateObject` of the new.
    CreateObject(SqlObject),
    /// Dropped as inspected (its reverse re-creates it from that text).
    DropObject(SqlObject),
    /// A new `[enum.NAME]`, before the tables that use it.
    CreateEnum(EnumType),
    /// A value added to an enum: `before` the value it precedes, `None` at the end.
    AddEnumValue {
        name: String,
        value: String,
        before: Option<String>,
    },
    /// An enum no longer declared, after the tables and columns that used it.
    DropEnum(EnumType),
    /// Values removed or reordered: PostgreSQL cannot do either in place, so
    /// the planner refuses it with what to do instead.
    ReplaceEnum {
        from: EnumType,
        to: EnumType,
    },
    /// A new `[domain.NAME]`, after the enums and before the tables.
    CreateDomain(DomainType),
    /// A domain's default, NOT NULL or checks changed (the planner refuses a
    /// base type change).
    AlterDomain {
        from: DomainType,
        to: DomainType,
    },
    /// A domain no longer declared, after the tables that used it.
    DropDomain(DomainType),
}

impl Change {
    /// A change of an enum or domain type rather than of a table: engines
    /// without such types (SQLite) see it in the tables' columns instead.
    pub fn is_type_change(&self) -> bool {
        matches!(
            self,
            Change::CreateEnum(_)
                | Change::AddEnumValue { .. }
                | Change::DropEnum(_)
                | Change::ReplaceEnum { .. }
                | Change::CreateDomain(_)
                | Change::AlterDomain { .. }
                | Change::DropDomain(_)
        )
    }

    /// Changes that can lose data or fail on the data there is: drops of tables
    /// and columns, narrowing type changes (and changes of kind), and NOT NULL
    /// without a default to fill the existing NULLs with. Widening a type and
    /// NOT NULL with a default (the planners backfill NULLs with it) are safe.
    pub fn is_destructive(&self) -> bool {
        self.destruction().is_some()
    }

    /// What a destructive change does and what it would lose; `None` for a safe one.
    pub fn destruction(&self) -> Option<Destruction> {
        let (summary, loss) = match self {
            Change::DropTable { table } => {
                (format!("drops table {}", n(table)), "and all its rows")
            }
            Change::DropColumn { table, column } => (
                format!("drops column {}.{}", n(table), n(column)),
                "and its data",
            ),
            Change::AlterColumn { table, from, to } => {
                if from.ty.change_to(&to.ty) == TypeChange::Narrowing {
                    (
                        format!(
                            "changes column {}.{} from {} to {}",
                            n(table),
                            n(&to.name),
                            from.ty,
                            to.ty
                        ),
                        "(narrowing: values that do not fit or convert are cut or stop the migration)",
                    )
                } else if self.not_null_without_default().is_some() {
                    (
                        format!(
                            "makes column {}.{} NOT NULL without a default",
                            n(table),
                            n(&to.name)
                        ),
                        "(rows where it is NULL stop the migration)",
                    )
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        Some(Destruction {
            summary,
            loss: loss.to_string(),
        })
    }

    /// For a column that becomes NOT NULL with no default to backfill existing
    /// NULLs: the table and the column's name before this change.
    pub fn not_null_without_default(&self) -> Option<(&str, &str)> {
        match self {
            Change::AlterColumn { table, from, to }
                if from.nullable && !to.nullable && to.default.is_none() =>
            {
                Some((table, &from.name))
            }
            _ => None,
        }
    }

    /// The table the change belongs to.
    pub fn table(&self) -> &str {
        match self {
            Change::CreateTable(table) => &table.name,
            Change::RenameTable { to, .. } => to,
            Change::DropTable { table }
            | Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::CreateIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::SetComment { table, .. } => table,
            // A trigger belongs to its table; other objects to no table, and the
            // planners never fold their changes into a table's.
            Change::CreateObject(object) | Change::DropObject(object) => {
                object.table.as_deref().unwrap_or(&object.name)
            }
            // Types belong to no table.
            Change::CreateEnum(declared) | Change::DropEnum(declared) => &declared.name,
            Change::AddEnumValue { name, .. } => name,
            Change::ReplaceEnum { to, .. } => &to.name,
            Change::CreateDomain(domain) | Change::DropDomain(domain) => &domain.name,
            Change::AlterDomain { to, .. } => &to.name,
        }
    }
}

/// What a destructive change does (`drops column hero.power`, the line in the
/// migration header) and what it would lose (`and its data`, added in refusals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destruction {
    pub summary: String,
    pub loss: String,
}

impl fmt::Display for Destruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.summary, self.loss)
    }
}

fn column_summary(column: &Column) -> String {
    let mut text = format!("{} {}", n(&column.name), column.ty);
    text.push_str(if column.nullable {
        " null"
    } else {
        " not null"
    });
    if let Some(default) = &column.default {
        text.push_str(&printable(&format!(" default {default}")));
    }
    // What else tells two versions of a column apart in a summary line.
    match column.numbering {
        crate::schema::Numbering::Identity(crate::schema::IdentityKind::Always) => {
            text.push_str(" identity always")
        }
        crate::schema::Numbering::Identity(crate::schema::IdentityKind::ByDefault) => {
            text.push_str(" identity by default")
        }
        crate::schema::Numbering::Off => text.push_str(" not numbered"),
        crate::schema::Numbering::Auto => {}
    }
    if let Some(generated) = &column.generated {
        text.push_str(&printable(&format!(
            " generated as ({}){}",
            generated.sql,
            if generated.stored { "" } else { " virtual" }
        )));
    }
    text
}

/// A name or list of names as the summary shows it: line breaks and other control
/// characters escaped, since these lines go into migration comments and messages.
fn n(name: &str) -> Cow<'_, str> {
    printable(name)
}

fn object_summary(object: &SqlObject) -> String {
    match &object.table {
        Some(table) => format!("{} {} on {}", object.kind, n(&object.name), n(table)),
        None => format!("{} {}", object.kind, n(&object.name)),
    }
}

fn list(names: &[String]) -> String {
    printable(&names.join(", ")).into_owned()
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateTable(table) => write!(f, "create table {}", n(&table.name)),
            Change::DropTable { table } => write!(f, "drop table {}", n(table)),
            Change::RenameTable { from, to } => {
                write!(f, "rename table {} to {}", n(from), n(to))
            }
            Change::AddColumn { table, column } => {
                write!(f, "add column {}.{}", n(table), column_summary(column))
            }
            Change::DropColumn { table, column } => {
                write!(f, "drop column {}.{}", n(table), n(column))
            }
            Change::RenameColumn { table, from, to } => {
                write!(f, "rename column {}.{} to {}", n(table), n(from), n(to))
            }
            Change::AlterColumn { table, from, to } => write!(
                f,
                "alter column {}.{} from ({}) to ({})",
                n(table),
                n(&to.name),
                column_summary(from),
                column_summary(to)
            ),
            Change::SetPrimaryKey { table, to, .. } => match to {
                Some(pk) => write!(
                    f,
                    "set primary key of {} to ({})",
                    n(table),
                    list(&pk.columns)
                ),
                None => write!(f, "drop primary key of {}", n(table)),
            },
            Change::AddForeignKey { table, foreign_key } => write!(
                f,
                "add foreign key {}.({}) -> {}.({}){}",
                n(table),
                list(&foreign_key.columns),
                n(&foreign_key.referenced_table),
                list(&foreign_key.referenced_columns),
                match foreign_key.deferral_sql() {
                    "" => String::new(),
                    deferral => format!(" {}", deferral.to_lowercase()),
                }
            ),
            Change::DropForeignKey { table, foreign_key } => write!(
                f,
                "drop foreign key {} on {}",
                n(&foreign_key.name),
                n(table)
            ),
            Change::AddUnique { table, unique } => write!(
                f,
                "add unique constraint {} on {} ({})",
                n(&unique.name),
                n(table),
                list(&unique.columns)
            ),
            Change::DropUnique { table, unique } => write!(
                f,
                "drop unique constraint {} on {}",
                n(&unique.name),
                n(table)
            ),
            Change::CreateIndex { table, index } => write!(
                f,
                "create {}index {} on {} ({}){}",
                if index.unique { "unique " } else { "" },
                n(&index.name),
                n(table),
                n(&crate::driver::ddl::index_keys_summary(index)),
                if index.predicate.is_some() {
                    " where …"
                } else {
                    ""
                }
            ),
            Change::DropIndex { table, index } => {
                write!(f, "drop index {} on {}", n(&index.name), n(table))
            }
            Change::AddCheck { table, check } => write!(
                f,
                "add check constraint {} on {} ({})",
                n(&check.name),
                n(table),
                n(&check.expression)
            ),
            Change::DropCheck { table, check } => write!(
                f,
                "drop check constraint {} on {}",
                n(&check.name),
                n(table)
            ),
            Change::SetComment {
                table, column, to, ..
            } => {
                let what = match column {
                    Some(column) => format!("column {}.{}", n(table), n(column)),
                    None => format!("table {}", n(table)),
                };
                match to {
                    Some(text) => write!(f, "set comment of {what} to {}", n(&format!("{text:?}"))),
                    None => write!(f, "drop comment of {what}"),
                }
            }
            Change::CreateObject(object) => write!(f, "create {}", object_summary(object)),
            Change::DropObject(object) => write!(f, "drop {}", object_summary(object)),
            Change::CreateEnum(declared) => write!(
                f,
                "create enum {} ({})",
                n(&declared.name),
                list(&declared.values)
            ),
            Change::AddEnumValue {
                name,
                value,
                before,
            } => match before {
                Some(before) => write!(
                    f,
                    "add value {} to enum {} before {}",
                    n(value),
                    n(name),
                    n(before)
                ),
                None => write!(f, "add value {} to enum {}", n(value), n(name)),
            },
            Change::DropEnum(declared) => write!(f, "drop enum {}", n(&declared.name)),
            Change::ReplaceEnum { from, to } => write!(
                f,
                "change the values of enum {} from ({}) to ({})",
                n(&to.name),
                list(&from.values),
                list(&to.values)
            ),
            Change::CreateDomain(domain) => {
                write!(f, "create domain {} over {}", n(&domain.name), domain.base)
            }
            Change::AlterDomain { from, to } if from.base != to.base => write!(
                f,
                "change the type of domain {} from {} to {}",
                n(&to.name),
                from.base,
                to.base
            ),
            Change::AlterDomain { to, .. } => write!(f, "alter domain {}", n(&to.name)),
            Change::DropDomain(domain) => write!(f, "drop domain {}", n(&domain.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_never_spans_two_lines() {
        let change = Change::DropIndex {
            table: "hero".into(),
            index: Index::on_columns("ix\nDROP TABLE hero;\n--", vec!["name\r".into()], false),
        };
        assert_eq!(
            change.to_string(),
            "drop index ix\\nDROP TABLE hero;\\n-- on hero"
        );
    }
}
