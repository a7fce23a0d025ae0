//! What a dialect's planner returns: not bare SQL but ordered steps that each say
//! what they do, how they are undone, and whether they may run in a transaction
//! (atlas's `migrate.Plan` and `migrate.Change`). The migration writer uses the
//! comments for the file header; down migrations and statements that must run
//! outside a transaction (`CREATE INDEX CONCURRENTLY`) build on the rest.

/// The steps that carry out a list of changes, in the order they must run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether the whole plan may run inside one transaction: every step may.
    pub fn transactional(&self) -> bool {
        self.steps.iter().all(|step| step.transactional)
    }

    /// Whether some step needs foreign keys off (SQLite's table rebuild); the
    /// migration then starts with the `-- strata: foreign-keys-off` directive, and
    /// the runner turns them off around the migration's transaction and runs
    /// `PRAGMA foreign_key_check` before committing.
    pub fn foreign_keys_off(&self) -> bool {
        self.steps.iter().any(|step| step.foreign_keys_off)
    }

    /// The steps that may run in one transaction, then those that may not, each
    /// in plan order: what `generate` writes as two migrations when both are
    /// there (the second runs outside a transaction).
    pub fn split_by_transaction(&self) -> (Plan, Plan) {
        let (inside, outside) = self
            .steps
            .iter()
            .cloned()
            .partition(|step| step.transactional);
        (Plan { steps: inside }, Plan { steps: outside })
    }

    /// The forward statements, in order.
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|step| step.sql.as_str())
    }
}

/// One statement of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The statement, ending in `;` (several, one a line, for a SQLite table
    /// rebuild, which is one step: its parts are never undone one by one).
    pub sql: String,
    /// What it does, in one line for people ("create table hero"); names in it are
    /// already escaped with [`crate::text::printable`].
    pub comment: String,
    /// How to undo it, run in reverse step order.
    pub reverse: Reverse,
    /// Whether it may run inside a transaction with the other steps. A step
    /// that may not runs in a migration of its own, outside a transaction, after
    /// the transactional steps (see `migrate::generate`); its statements commit
    /// one by one, so it must be safe to run again after a failure part-way
    /// (`DROP INDEX CONCURRENTLY IF EXISTS` before `CREATE INDEX CONCURRENTLY`).
    pub transactional: bool,
    /// Whether it must run with foreign keys off (SQLite: a table rebuild drops
    /// a table other tables reference; see [`Plan::foreign_keys_off`]).
    pub foreign_keys_off: bool,
}

impl Step {
    /// A step that may run inside a transaction, as all DDL strata plans today can.
    pub fn new(sql: String, comment: impl Into<String>, reverse: Reverse) -> Self {
        Step {
            sql,
            comment: comment.into(),
            reverse,
            transactional: true,
            foreign_keys_off: false,
        }
    }

    /// A step that must run outside a transaction (see [`Step::transactional`]).
    pub fn outside_transaction(sql: String, comment: impl Into<String>, reverse: Reverse) -> Self {
        Step {
            transactional: false,
            ..Step::new(sql, comment, reverse)
        }
    }
}

/// The way back from a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reverse {
    /// The statement that undoes the step, ending in `;`.
    Sql(String),
    /// The step cannot be undone by SQL alone, and why (shown to the user).
    Irreversible(String),
    /// SQL brings back the structure but not the data, and why (shown to the
    /// user): a dropped table comes back empty, a dropped column holding NULLs
    /// (or its default, or its type's zero value when it is NOT NULL without a
    /// default), so that the rest of the down file (foreign keys to it, indexes
    /// on it) can run and the schema is the one before the migration. The down
    /// file is marked irreversible all the same.
    Lossy { sql: String, reason: String },
    /// The step changes nothing a rollback must undo (validating a constraint
    /// added `NOT VALID` by an earlier step, whose reverse drops it).
    Nothing,
}
