//! Domain changes → PostgreSQL steps: `CREATE DOMAIN`, `ALTER DOMAIN` (default,
//! NOT NULL, checks) and `DROP DOMAIN`, each with its reverse. A check added to
//! a domain that exists may have rows to check: it is added `NOT VALID` and
//! validated by a later step, like a table's.

use super::online;
use super::plan::{postgres_boolean, Busy};
use super::types::declared_type;
use crate::driver::ddl::default_value;
use crate::driver::{quote_identifier as q, Reverse, Step, Unsupported};
use crate::schema::{Change, Check, DomainType};
use crate::text::printable;

/// A domain change's steps, and those that validate its new checks (run after
/// the migration's other steps, outside its transaction).
pub type DomainSteps = (Vec<Step>, Vec<Step>);

/// The steps of one domain change; `None` for a change of another kind.
pub fn steps(change: &Change, busy: Busy) -> Option<Result<DomainSteps, Unsupported>> {
    Some(Ok(match change {
        Change::CreateDomain(domain) => (
            vec![Step::new(
                create_domain(domain),
                change.to_string(),
                Reverse::Sql(drop_domain(&domain.name)),
            )],
            Vec::new(),
        ),
        Change::DropDomain(domain) => (
            vec![Step::new(
                drop_domain(&domain.name),
                change.to_string(),
                Reverse::Sql(create_domain(domain)),
            )],
            Vec::new(),
        ),
        Change::AlterDomain { from, to } if from.base != to.base => {
            return Some(Err(Unsupported {
                change: change.to_string(),
                reason: format!(
                    "PostgreSQL cannot change the type a domain is over; write this migration by hand: CREATE DOMAIN a new domain over {}, ALTER TABLE … ALTER COLUMN … TYPE new_domain USING column::{} for each column of {}, then DROP DOMAIN {} (or keep the domain's type as it was)",
                    to.base,
                    to.base,
                    printable(&to.name),
                    printable(&to.name)
                ),
            }))
        }
        Change::AlterDomain { from, to } => alter_domain(from, to, busy),
        _ => return None,
    }))
}

/// `CREATE DOMAIN "name" AS type [DEFAULT …] [NOT NULL] [CONSTRAINT "c" CHECK (…)]…;`
pub fn create_domain(domain: &DomainType) -> String {
    let mut sql = format!(
        "CREATE DOMAIN {} AS {}",
        q(&domain.name),
        declared_type(&domain.base)
    );
    if let Some(default) = &domain.default {
        sql.push_str(&format!(
            " DEFAULT {}",
            default_value(default, postgres_boolean)
        ));
    }
    if !domain.nullable {
        sql.push_str(" NOT NULL");
    }
    for check in &domain.checks {
        sql.push_str(&format!(" {}", check_clause(check)));
    }
    sql.push(';');
    sql
}

fn drop_domain(name: &str) -> String {
    format!("DROP DOMAIN {};", q(name))
}

fn check_clause(check: &Check) -> String {
    format!("CONSTRAINT {} CHECK ({})", q(&check.name), check.expression)
}

fn alter(domain: &str, action: &str) -> String {
    format!("ALTER DOMAIN {} {action};", q(domain))
}

fn set_default(domain: &DomainType) -> String {
    match &domain.default {
        Some(default) => alter(
            &domain.name,
            &format!("SET DEFAULT {}", default_value(default, postgres_boolean)),
        ),
        None => alter(&domain.name, "DROP DEFAULT"),
    }
}

fn set_not_null(domain: &DomainType) -> String {
    alter(
        &domain.name,
        if domain.nullable {
            "DROP NOT NULL"
        } else {
            "SET NOT NULL"
        },
    )
}

/// Default, NOT NULL, then checks: dropped ones (and changed ones, dropped
/// and added again) before the added ones.
fn alter_domain(from: &DomainType, to: &DomainType, busy: Busy) -> (Vec<Step>, Vec<Step>) {
    let name = &to.name;
    let mut steps = Vec::new();
    let mut validations = Vec::new();
    if from.default != to.default {
        steps.push(Step::new(
            set_default(to),
            format!(
                "{} the default of domain {}",
                if to.default.is_some() { "set" } else { "drop" },
                printable(name)
            ),
            Reverse::Sql(set_default(from)),
        ));
    }
    if from.nullable != to.nullable {
        steps.push(Step::new(
            set_not_null(to),
            format!(
                "{} NOT NULL on domain {}",
                if to.nullable { "drop" } else { "set" },
                printable(name)
            ),
            Reverse::Sql(set_not_null(from)),
        ));
    }
    for old in &from.checks {
        if to.checks.iter().any(|new| new == old) {
            continue;
        }
        steps.push(Step::new(
            alter(name, &format!("DROP CONSTRAINT {}", q(&old.name))),
            format!(
                "drop check constraint {} of domain {}",
                printable(&old.name),
                printable(name)
            ),
            Reverse::Sql(alter(name, &format!("ADD {}", check_clause(old)))),
        ));
    }
    for new in &to.checks {
        if from.checks.iter().any(|old| old == new) {
            continue;
        }
        let comment = format!(
            "add check constraint {} to domain {}",
            printable(&new.name),
            printable(name)
        );
        let drop = Reverse::Sql(alter(name, &format!("DROP CONSTRAINT {}", q(&new.name))));
        if busy == Busy::No {
            steps.push(Step::new(
                alter(name, &format!("ADD {}", check_clause(new))),
                comment,
                drop,
            ));
            continue;
        }
        steps.push(Step::new(
            alter(name, &format!("ADD {} NOT VALID", check_clause(new))),
            format!(
                "{comment} (NOT VALID: new values are checked now, existing ones by a later step)"
            ),
            drop,
        ));
        validations.push(Step::outside_transaction(
            online::rerunnable(&alter(
                name,
                &format!("VALIDATE CONSTRAINT {}", q(&new.name)),
            )),
            format!(
                "validate check constraint {} of domain {} (checks the existing values)",
                printable(&new.name),
                printable(name)
            ),
            Reverse::Nothing,
        ));
    }
    (steps, validations)
}
