//! Patches pinned to a migration (`after = N`): the versions a pin may name,
//! the order patches run in, and the notes that explain a pin when a patch no
//! longer fits the schema it is checked against.

use std::path::Path;

use super::file::PatchFile;
use crate::diagnostics::{FileProblems, Problem};
use crate::driver::MigrationScript;

/// Every pin names a migration of `folder`; the first file that does not is
/// reported at its `after` value, listing the versions there are.
pub fn check_pins(
    patches: &[PatchFile],
    scripts: &[MigrationScript],
    folder: &Path,
) -> Result<(), FileProblems> {
    for patch in patches {
        let Some(pin) = &patch.after else {
            continue;
        };
        if scripts.iter().any(|script| script.version == pin.version) {
            continue;
        }
        let existing = if scripts.is_empty() {
            format!("{} has no migrations yet", folder.display())
        } else {
            let versions: Vec<String> = scripts.iter().map(|s| format!("V{}", s.version)).collect();
            format!(
                "the migrations in {} are {}",
                folder.display(),
                versions.join(", ")
            )
        };
        let problem = Problem::new(
            pin.span.clone(),
            format!("no migration has version {}; {existing}", pin.version),
        )
        .label("no such migration")
        .help("`after` is the version of the migration the patch was written against");
        return Err(FileProblems::new(&patch.path, &patch.source, vec![problem]));
    }
    Ok(())
}

/// The order patches run in: pinned ones by their pin (each right after its
/// migration), then unpinned ones, which run against the latest schema; by file
/// name within each.
pub fn run_order(patch: &PatchFile) -> (i64, String) {
    let pin = patch
        .after
        .as_ref()
        .map_or(i64::MAX, |pin| i64::from(pin.version));
    (pin, patch.name.clone())
}

/// The pins above `current` (the version the database is at) that pending
/// patches name, lowest first: the versions to stop at while migrating.
pub fn stops(pending: &[&PatchFile], current: Option<i32>) -> Vec<i32> {
    let mut versions: Vec<i32> = pending
        .iter()
        .filter_map(|patch| patch.after.as_ref().map(|pin| pin.version))
        .filter(|version| Some(*version) > current)
        .collect();
    versions.sort_unstable();
    versions.dedup();
    versions
}

/// Why a patch that failed validation may still be right, and what to do.
/// `current`: the version the schema it was checked against is at.
pub fn failed_validation_note(patch: &PatchFile, current: Option<i32>) -> Option<String> {
    match (&patch.after, current) {
        (Some(pin), Some(current)) if current > pin.version => Some(format!(
            "{} is pinned to V{pin} (`after = {pin}`) and was written for the schema at V{pin}, \
             but this database is already at V{current}, where a later migration changed what it \
             uses (a renamed or dropped column, say). A new database applies it right after V{pin}, \
             where it fits (`strata setup`, or `strata setup --fresh --yes` to rebuild this one); \
             to apply it here instead, and only if no database has applied it yet, rewrite it for \
             the current schema and change it to `after = {current}`",
            patch.name,
            pin = pin.version
        )),
        (Some(_), _) => None,
        (None, _) => Some(format!(
            "{} has no pin, so it is checked against the latest schema. If it was written for an \
             earlier one (a later migration renamed or dropped what it uses), pin it: add \
             `after = N` at the top, N being the migration it was written against; new databases \
             then apply it right after VN, where it fits",
            patch.name
        )),
    }
}
