//! The integrity file `migrations/<dialect>/strata.sum`, strata's atlas.sum: one
//! hash per migration file plus a hash of the whole, so that an edited, deleted,
//! added-by-hand or renumbered migration is caught before it reaches a database.
//!
//! ```text
//! h1:<hash of every line below>
//! V1__create_team_and_hero.sql h1:<hash of the file>
//! V2__add_power.sql h1:<hash of the file>
//! ```
//!
//! Hashes are SHA-256 in base64 over the file's text with line endings normalised
//! (CRLF → LF), so a checkout on Windows does not look like an edit.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::dir::MigrationFiles;
use crate::driver::MigrationScript;
use crate::{Error, Result};

/// The integrity file's name inside each dialect folder.
pub const SUM_FILE: &str = "strata.sum";

/// One file the integrity file covers: its name in the folder and its text.
#[derive(Debug, Clone, Copy)]
pub struct SummedFile<'a> {
    pub file_name: &'a str,
    pub text: &'a str,
}

/// The parsed (or computed) contents of an integrity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    pub total: String,
    /// (file name, hash), in the order the files run.
    pub files: Vec<(String, String)>,
}

/// What is wrong between the migration files and the integrity file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityProblem {
    /// The folder has migrations but no integrity file.
    NoSumFile { sum_path: PathBuf },
    /// The integrity file itself was edited or is not in strata's format.
    Corrupt { sum_path: PathBuf, reason: String },
    /// A migration's text differs from the text that was hashed.
    Edited { file_name: String },
    /// A hashed migration is gone.
    Deleted { file_name: String },
    /// A migration that was never hashed (added by hand without `strata hash`).
    Added { file_name: String },
    /// A migration now runs in a different place than when it was hashed
    /// (renumbered, or its neighbours were).
    Reordered { file_name: String, was: String },
}

impl std::fmt::Display for IntegrityProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntegrityProblem::NoSumFile { sum_path } => write!(
                f,
                "{} is missing: strata cannot tell whether a migration was edited; \
                 run `strata hash` to record the migrations as they are",
                sum_path.display()
            ),
            IntegrityProblem::Corrupt { sum_path, reason } => write!(
                f,
                "{} is not a valid integrity file ({reason}); restore it from version \
                 control, or run `strata hash` to rewrite it",
                sum_path.display()
            ),
            IntegrityProblem::Edited { file_name } => write!(
                f,
                "{file_name} was edited after it was generated or hashed; if the edit is \
                 deliberate and the migration was never applied anywhere, run `strata hash`, \
                 otherwise restore it and put the change in a new migration"
            ),
            IntegrityProblem::Deleted { file_name } => write!(
                f,
                "{file_name} was deleted; restore it from version control (or run \
                 `strata hash` if it was never applied anywhere)"
            ),
            IntegrityProblem::Added { file_name } => write!(
                f,
                "{file_name} was added by hand and is not in the integrity file; \
                 check it, then run `strata hash`"
            ),
            IntegrityProblem::Reordered { file_name, was } => write!(
                f,
                "{file_name} was {was} when the migrations were hashed; migrations must \
                 keep their order: give new work the next version, or run `strata hash` \
                 if the renumbering is deliberate and nothing was applied anywhere"
            ),
        }
    }
}

/// The hash of one file's text, line endings normalised.
pub fn file_hash(text: &str) -> String {
    let mut hasher = Sha256::new();
    // Hash line by line so CRLF and LF give the same result without a copy.
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.strip_suffix('\r').unwrap_or(line).as_bytes());
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
    )
}

/// The integrity file for `files`, in the order given (the order they run).
pub fn compute(files: &[SummedFile<'_>]) -> Sum {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|file| (file.file_name.to_string(), file_hash(file.text)))
        .collect();
    Sum {
        total: total_hash(&files),
        files,
    }
}

fn total_hash(files: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (name, hash) in files {
        hasher.update(name.as_bytes());
        hasher.update(b" ");
        hasher.update(hash.as_bytes());
        hasher.update(b"\n");
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
    )
}

impl Sum {
    /// The file's text.
    pub fn render(&self) -> String {
        let mut text = format!("{}\n", self.total);
        for (name, hash) in &self.files {
            text.push_str(&format!("{name} {hash}\n"));
        }
        text
    }

    /// Reads an integrity file's text; `Err` says why it is not one.
    pub fn parse(text: &str) -> std::result::Result<Sum, NotASum> {
        let mut lines = text.lines();
        let total = lines
            .next()
            .filter(|line| line.starts_with("h1:"))
            .ok_or(NotASum(
                "its first line must be the total hash, `h1:…`".into(),
            ))?
            .trim_end_matches('\r')
            .to_string();
        let mut files = Vec::new();
        for (i, line) in lines.enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let (name, hash) = line
                .rsplit_once(' ')
                .filter(|(name, hash)| !name.is_empty() && hash.starts_with("h1:"))
                .ok_or_else(|| NotASum(format!("line {} is not `<file> h1:<hash>`", i + 2)))?;
            files.push((name.to_string(), hash.to_string()));
        }
        let sum = Sum { total, files };
        if total_hash(&sum.files) != sum.total {
            return Err(NotASum(
                "its total hash does not match its lines (was it edited by hand?)".into(),
            ));
        }
        Ok(sum)
    }
}

/// Why a file is not a valid integrity file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotASum(pub String);

/// Reads `folder`'s integrity file, `None` when there is none.
pub fn read(folder: &Path) -> Result<Option<std::result::Result<Sum, NotASum>>> {
    let path = folder.join(SUM_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(parse_bytes(&bytes))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io(path, error)),
    }
}

/// An integrity file's bytes, parsed.
pub fn parse_bytes(bytes: &[u8]) -> std::result::Result<Sum, NotASum> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Sum::parse(text),
        Err(_) => Err(NotASum("it is not UTF-8 text".to_string())),
    }
}

/// Writes `folder`'s integrity file for `files` (in run order).
pub fn write(folder: &Path, files: &[SummedFile<'_>]) -> Result<PathBuf> {
    let path = folder.join(SUM_FILE);
    std::fs::write(&path, compute(files).render()).map_err(|error| Error::io(&path, error))?;
    Ok(path)
}

/// Hashes the migrations in `folder` as they are now (`strata hash`, and
/// `generate` after it wrote a migration).
pub fn rehash(folder: &Path) -> Result<PathBuf> {
    let scripts = super::dir::load_migrations(folder)?;
    let files = with_down_files(folder, &scripts)?;
    write(folder, &as_summed(&files))
}

/// [`verify`] for migrations already loaded from `folder` (their down files are
/// read here: they are covered too).
pub fn verify_scripts(folder: &Path, scripts: &[MigrationScript]) -> Result<Vec<IntegrityProblem>> {
    let files = with_down_files(folder, scripts)?;
    verify(folder, &as_summed(&files))
}

/// Each migration's file name and text, followed by its down file's when it has one.
fn with_down_files(folder: &Path, scripts: &[MigrationScript]) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for script in scripts {
        files.push((script.file_name(), script.sql.clone()));
        if let Some(down) = super::dir::load_down(folder, script)? {
            files.push(down);
        }
    }
    Ok(files)
}

fn as_summed(files: &[(String, String)]) -> Vec<SummedFile<'_>> {
    files
        .iter()
        .map(|(file_name, text)| SummedFile { file_name, text })
        .collect()
}

/// The integrity hashes of migrations already loaded (what `strata hash` would
/// record for them); its `total` changes with any edit, addition, removal or rename.
pub fn sum_of_scripts(scripts: &[MigrationScript]) -> Sum {
    let names = file_names(scripts);
    compute(&summed(scripts, &names))
}

fn file_names(scripts: &[MigrationScript]) -> Vec<String> {
    scripts.iter().map(MigrationScript::file_name).collect()
}

fn summed<'a>(scripts: &'a [MigrationScript], names: &'a [String]) -> Vec<SummedFile<'a>> {
    scripts
        .iter()
        .zip(names)
        .map(|(script, file_name)| SummedFile {
            file_name,
            text: &script.sql,
        })
        .collect()
}

/// Every difference between the files in `folder` (in run order) and its
/// integrity file. A folder without migrations needs no integrity file.
pub fn verify(folder: &Path, files: &[SummedFile<'_>]) -> Result<Vec<IntegrityProblem>> {
    Ok(verify_recorded(
        &folder.join(SUM_FILE),
        read(folder)?,
        files,
    ))
}

/// [`verify`] against an integrity file already read (`None`: there is none);
/// `sum_path` names it in messages.
pub fn verify_recorded(
    sum_path: &Path,
    recorded: Option<std::result::Result<Sum, NotASum>>,
    files: &[SummedFile<'_>],
) -> Vec<IntegrityProblem> {
    let sum_path = sum_path.to_path_buf();
    let recorded = match recorded {
        None if files.is_empty() => return Vec::new(),
        None => return vec![IntegrityProblem::NoSumFile { sum_path }],
        Some(Err(NotASum(reason))) => return vec![IntegrityProblem::Corrupt { sum_path, reason }],
        Some(Ok(sum)) => sum,
    };
    compare(&recorded, &compute(files))
}

/// [`verify_scripts`] for a folder's files in memory (read from disk or
/// embedded in an application): its down files and integrity file come from
/// `files` too.
pub fn verify_files(files: &MigrationFiles, scripts: &[MigrationScript]) -> Vec<IntegrityProblem> {
    let mut texts = Vec::new();
    for script in scripts {
        texts.push((script.file_name(), script.sql.clone()));
        if let Some(down) = files.down(script) {
            texts.push(down);
        }
    }
    let recorded = files.sum_bytes().map(parse_bytes);
    verify_recorded(&files.folder.join(SUM_FILE), recorded, &as_summed(&texts))
}

/// What changed from `recorded` to `actual`.
pub fn compare(recorded: &Sum, actual: &Sum) -> Vec<IntegrityProblem> {
    if recorded.total == actual.total {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let position = |sum: &Sum, name: &str| sum.files.iter().position(|(n, _)| n == name);
    for (index, (name, hash)) in actual.files.iter().enumerate() {
        match position(recorded, name) {
            None => {
                // A file that was hashed under another name was renamed/renumbered.
                match recorded
                    .files
                    .iter()
                    .find(|(old, old_hash)| old_hash == hash && position(actual, old).is_none())
                {
                    Some((old, _)) => problems.push(IntegrityProblem::Reordered {
                        file_name: name.clone(),
                        was: format!("named {old}"),
                    }),
                    None => problems.push(IntegrityProblem::Added {
                        file_name: name.clone(),
                    }),
                }
            }
            Some(old_index) => {
                if recorded.files[old_index].1 != *hash {
                    problems.push(IntegrityProblem::Edited {
                        file_name: name.clone(),
                    });
                }
                if old_index != index && !renamed_into_place(recorded, actual) {
                    problems.push(IntegrityProblem::Reordered {
                        file_name: name.clone(),
                        was: format!("number {} in order", old_index + 1),
                    });
                }
            }
        }
    }
    for (name, hash) in &recorded.files {
        let renamed = actual
            .files
            .iter()
            .any(|(new, new_hash)| new_hash == hash && position(recorded, new).is_none());
        if position(actual, name).is_none() && !renamed {
            problems.push(IntegrityProblem::Deleted {
                file_name: name.clone(),
            });
        }
    }
    problems
}

/// Positions shift when a file is added or removed in the middle; that is
/// reported as the addition or deletion, not as every later file moving.
fn renamed_into_place(recorded: &Sum, actual: &Sum) -> bool {
    let common = |a: &Sum, b: &Sum| -> Vec<String> {
        a.files
            .iter()
            .filter(|(name, _)| b.files.iter().any(|(n, _)| n == name))
            .map(|(name, _)| name.clone())
            .collect()
    };
    // When the files both sides share are in the same relative order, nothing
    // was reordered.
    common(recorded, actual) == common(actual, recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(files: &[(&str, &str)]) -> Sum {
        let files: Vec<SummedFile<'_>> = files
            .iter()
            .map(|(file_name, text)| SummedFile { file_name, text })
            .collect();
        compute(&files)
    }

    /// Migrations handed over in memory (embedded in an application) are held
    /// to their integrity file like a folder on disk, down files included.
    #[test]
    fn files_in_memory_are_verified_down_files_included() {
        let up = ("V1__a.sql", "CREATE TABLE a (x INTEGER);\n");
        let down = ("V1__a.down.sql", "DROP TABLE a;\n");
        let recorded = sum(&[up, down]).render().into_bytes();
        let files = |down_text: &str| {
            MigrationFiles::in_memory(
                Path::new("migrations/sqlite"),
                vec![
                    (up.0.to_string(), format!("\u{FEFF}{}", up.1).into_bytes()),
                    (down.0.to_string(), down_text.as_bytes().to_vec()),
                ],
                Some(recorded.clone()),
            )
            .unwrap()
        };
        let intact = files(down.1);
        let scripts = intact.scripts().unwrap();
        assert_eq!(scripts[0].sql, up.1, "the byte-order mark is dropped");
        assert!(verify_files(&intact, &scripts).is_empty());
        let edited = files("DROP TABLE b;\n");
        assert_eq!(
            verify_files(&edited, &edited.scripts().unwrap()),
            vec![IntegrityProblem::Edited {
                file_name: down.0.into()
            }]
        );
    }

    #[test]
    fn line_endings_do_not_count_as_an_edit() {
        assert_eq!(file_hash("a;\nb;\n"), file_hash("a;\r\nb;\r\n"));
        assert_ne!(file_hash("a;\nb;\n"), file_hash("a;\nc;\n"));
    }

    #[test]
    fn round_trips_through_its_text() {
        let original = sum(&[("V1__a.sql", "create table a (x int);"), ("V2__b.sql", "x")]);
        assert_eq!(Sum::parse(&original.render()), Ok(original));
    }

    #[test]
    fn a_hand_edited_sum_file_is_corrupt() {
        let text = sum(&[("V1__a.sql", "x")])
            .render()
            .replace("V1__a.sql", "V1__b.sql");
        assert!(Sum::parse(&text).unwrap_err().0.contains("total hash"));
    }

    #[test]
    fn names_each_kind_of_change() {
        let recorded = sum(&[("V1__a.sql", "a"), ("V2__b.sql", "b"), ("V3__c.sql", "c")]);
        let edited = sum(&[("V1__a.sql", "a"), ("V2__b.sql", "B"), ("V3__c.sql", "c")]);
        assert_eq!(
            compare(&recorded, &edited),
            vec![IntegrityProblem::Edited {
                file_name: "V2__b.sql".into()
            }]
        );
        let deleted = sum(&[("V1__a.sql", "a"), ("V3__c.sql", "c")]);
        assert_eq!(
            compare(&recorded, &deleted),
            vec![IntegrityProblem::Deleted {
                file_name: "V2__b.sql".into()
            }]
        );
        let added = sum(&[
            ("V1__a.sql", "a"),
            ("V2__b.sql", "b"),
            ("V3__c.sql", "c"),
            ("V4__d.sql", "d"),
        ]);
        assert_eq!(
            compare(&recorded, &added),
            vec![IntegrityProblem::Added {
                file_name: "V4__d.sql".into()
            }]
        );
        let renumbered = sum(&[("V1__a.sql", "a"), ("V3__c.sql", "c"), ("V4__b.sql", "b")]);
        assert_eq!(
            compare(&recorded, &renumbered),
            vec![IntegrityProblem::Reordered {
                file_name: "V4__b.sql".into(),
                was: "named V2__b.sql".into()
            }]
        );
        assert!(compare(&recorded, &recorded.clone()).is_empty());
    }
}
