//! `[domain.NAME]` × `[domain.NAME]` → create, alter, drop. Created after the
//! enums (a domain may be over one) and before the tables, dropped after them.

use crate::schema::{Change, Schema};

/// The domain changes that go before the table changes, and those after them.
pub fn diff_domains(current: &Schema, target: &Schema) -> (Vec<Change>, Vec<Change>) {
    let mut before = Vec::new();
    let mut after = Vec::new();
    for new in &target.domains {
        match current.domain(&new.name) {
            None => before.push(Change::CreateDomain(new.clone())),
            Some(old) if old == new => {}
            Some(old) => before.push(Change::AlterDomain {
                from: old.clone(),
                to: new.clone(),
            }),
        }
    }
    for old in &current.domains {
        if target.domain(&old.name).is_none() {
            after.push(Change::DropDomain(old.clone()));
        }
    }
    (before, after)
}
