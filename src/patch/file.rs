//! Patch files: `patches/*.toml` (operations) and `patches/*.sql` (an escape hatch).

use std::ops::Range;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::stream::{self, Rows};
use crate::diagnostics::{FileProblems, Problem};
use crate::file_text::source_text;
use crate::project::read_project_file;
use crate::spanned_toml::{parse_document, Reader, Value};
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct PatchFile {
    /// The file name without extension: what the history records.
    pub name: String,
    pub path: PathBuf,
    pub source: String,
    /// SHA-256 of the file's bytes, hex.
    pub checksum: String,
    pub description: Option<String>,
    /// The migration version the patch was written against (`after = N`), if pinned.
    pub after: Option<Pin>,
    pub body: PatchBody,
}

/// `after = N`: the patch runs right after migration VN on a database being
/// built, against the schema it was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub version: i32,
    /// Where the version is written, for messages about it.
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub enum PatchBody {
    Operations(Vec<Operation>),
    Sql(String),
}

#[derive(Debug, Clone)]
pub struct Operation {
    /// The whole `[[insert]]` (etc.) table, for messages about the operation.
    pub span: Range<usize>,
    pub kind: OperationKind,
}

/// `column = value`, both with their places in the file.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub column: Spanned<String>,
    pub value: PatchValue,
}

#[derive(Debug, Clone)]
pub enum OperationKind {
    Insert {
        table: Spanned<String>,
        /// Parsed, or (big ones) read chunk by chunk: see `patch::stream`.
        rows: Rows,
    },
    Update {
        table: Spanned<String>,
        filter: Vec<Assignment>,
        set: Vec<Assignment>,
        expect_rows: Option<u64>,
    },
    Delete {
        table: Spanned<String>,
        filter: Vec<Assignment>,
        expect_rows: Option<u64>,
    },
    Sql {
        statement: String,
        /// Where the statement's TOML string is in the file.
        statement_span: Range<usize>,
        params: Vec<PatchValue>,
    },
}

#[derive(Debug, Clone)]
pub struct PatchValue {
    pub span: Range<usize>,
    pub kind: ValueKind,
}

#[derive(Debug, Clone)]
pub enum ValueKind {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Boolean(bool),
    /// `{ ref = { col = value, ... } }`: the key of the row those natural-key
    /// columns identify in the table a foreign key points at.
    Ref(Vec<Assignment>),
}

impl OperationKind {
    pub fn table(&self) -> Option<&Spanned<String>> {
        match self {
            OperationKind::Insert { table, .. }
            | OperationKind::Update { table, .. }
            | OperationKind::Delete { table, .. } => Some(table),
            OperationKind::Sql { .. } => None,
        }
    }
}

const OPERATIONS: &[&str] = &["insert", "update", "delete", "sql"];
const TOP_KEYS: &[&str] = &["after", "description", "insert", "update", "delete", "sql"];

/// The directive that pins a `.sql` patch, on a leading comment line.
pub const SQL_PIN_PREFIX: &str = "-- strata: after =";

/// Every patch in `folder`, in file-name order. A missing folder has none.
pub fn load_patches(folder: &Path) -> Result<Vec<PatchFile>> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(folder, error)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("toml" | "sql")
            )
        })
        .collect();
    paths.sort();
    // `<root>/patches`: links may point anywhere inside `<root>`.
    let root = folder.parent().unwrap_or(folder);
    let mut patches = Vec::new();
    for path in paths {
        add_patch(&mut patches, load_patch_in(&path, root)?)?;
    }
    Ok(patches)
}

/// Patches already in memory (embedded in an application): (file name, bytes)
/// of the files of a patches folder that `folder` names in messages. Read and
/// checked exactly as [`load_patches`] reads a folder on disk.
pub fn patches_in_memory(folder: &Path, files: Vec<(String, Vec<u8>)>) -> Result<Vec<PatchFile>> {
    let mut files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .filter(|(name, _)| name.ends_with(".toml") || name.ends_with(".sql"))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut patches = Vec::new();
    for (name, bytes) in files {
        add_patch(&mut patches, parse_patch(&folder.join(name), bytes)?)?;
    }
    Ok(patches)
}

/// Adds `patch`, refusing a second patch of the same name (`x.toml` and `x.sql`).
fn add_patch(patches: &mut Vec<PatchFile>, patch: PatchFile) -> Result<()> {
    if let Some(other) = patches.iter().find(|p| p.name == patch.name) {
        return Err(Error::InvalidFile {
            path: patch.path.clone(),
            message: format!(
                "{} has the same name; rename one of them",
                other.path.display()
            ),
        });
    }
    patches.push(patch);
    Ok(())
}

pub fn load_patch(path: &Path) -> Result<PatchFile> {
    let folder = path.parent().unwrap_or(Path::new("."));
    load_patch_in(path, folder.parent().unwrap_or(folder))
}

/// A patch of the project at `root` (see [`read_project_file`]).
fn load_patch_in(path: &Path, root: &Path) -> Result<PatchFile> {
    parse_patch(path, read_project_file(path, root)?)
}

/// A patch from its file's bytes; `path` says which (`.sql` or `.toml`) and names it.
fn parse_patch(path: &Path, bytes: Vec<u8>) -> Result<PatchFile> {
    // Of the bytes as they are on disk, BOM included, so that patches applied
    // before the BOM was stripped keep their recorded checksum.
    let checksum: String = Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let source = source_text(path, bytes)?;
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (description, after, body) = if path.extension().and_then(|e| e.to_str()) == Some("sql") {
        let (description, after) = sql_header(path, &source)?;
        (description, after, PatchBody::Sql(source.clone()))
    } else {
        let (description, after, operations) = parse_operations(path, &source)?;
        (description, after, PatchBody::Operations(operations))
    };
    Ok(PatchFile {
        name,
        path: path.to_path_buf(),
        source,
        checksum,
        description,
        after,
        body,
    })
}

/// A `.sql` patch's leading `--` comment lines: the first one that is not a
/// directive is the description; `-- strata: after = N` pins it.
fn sql_header(path: &Path, source: &str) -> Result<(Option<String>, Option<Pin>), FileProblems> {
    let mut description = None;
    let mut after = None;
    let mut problems = Vec::new();
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(comment) = line.trim_end().strip_prefix("--") else {
            break;
        };
        if let Some(value) = line.trim_end().strip_prefix(SQL_PIN_PREFIX) {
            let value_start =
                start + SQL_PIN_PREFIX.len() + (value.len() - value.trim_start().len());
            let value = value.trim();
            let span = value_start..value_start + value.len().max(1);
            match value.parse::<i32>() {
                Ok(version) if version > 0 && after.is_none() => {
                    after = Some(Pin { version, span })
                }
                Ok(version) if version > 0 => problems.push(
                    Problem::new(span, "the patch is pinned twice")
                        .label("second `after`")
                        .help("keep one `-- strata: after = N` line"),
                ),
                _ => problems.push(not_a_version(span, &format!("`{value}`"))),
            }
        } else if description.is_none() {
            description = Some(comment.trim().to_string());
        }
    }
    if problems.is_empty() {
        Ok((description, after))
    } else {
        Err(FileProblems::new(path, source, problems))
    }
}

/// `after` must name a migration version: a whole number of 1 or more.
fn not_a_version(span: Range<usize>, found: &str) -> Problem {
    Problem::new(
        span,
        format!("`after` must be a migration version (a whole number of 1 or more), found {found}"),
    )
    .label("expected a version such as 1")
    .help("write the version of the migration the patch was written against, e.g. `after = 1` for V1__….sql")
}

type ParsedPatch = (Option<String>, Option<Pin>, Vec<Operation>);

fn parse_operations(path: &Path, source: &str) -> Result<ParsedPatch, FileProblems> {
    // Big `rows = [ … ]` arrays are blanked out of the text toml sees (same
    // offsets) and read chunk by chunk: see [`stream`].
    let streamed = stream::streamable_arrays(source);
    let blanked;
    let text = if streamed.is_empty() {
        source
    } else {
        blanked = stream::blank(source, &streamed);
        blanked.as_str()
    };
    let document = parse_document(path, text)
        .map_err(|problems| FileProblems::new(path, source, problems.problems))?;
    let context = Context {
        streamed: &streamed,
    };
    let mut reader = Reader::default();
    let mut description = None;
    let mut after = None;
    let mut operations = Vec::new();
    for (key, value) in document.get_ref().iter() {
        let name = key.get_ref().as_ref();
        match name {
            "description" => description = reader.string("description", value),
            "after" => after = pin(&mut reader, value),
            _ if OPERATIONS.contains(&name) => {
                let DeValue::Array(items) = value.get_ref() else {
                    reader.problem(
                        Problem::new(
                            key.span(),
                            format!("`{name}` must be written as [[{name}]] sections"),
                        )
                        .label(format!("write [[{name}]]")),
                    );
                    continue;
                };
                for item in items.iter() {
                    if let Some(table) = reader.table(name, item) {
                        if let Some(kind) =
                            operation(&mut reader, &context, name, table, item.span())
                        {
                            operations.push(Operation {
                                span: item.span(),
                                kind,
                            });
                        }
                    }
                }
            }
            _ => reader.unknown_key(
                key,
                "a patch (operations are [[insert]], [[update]], [[delete]] and [[sql]])",
                TOP_KEYS,
            ),
        }
    }
    if operations.is_empty() && reader.problems.is_empty() {
        reader.problem(
            Problem::new(0..source.len().min(1), "the patch has no operations")
                .label("expected [[insert]], [[update]], [[delete]] or [[sql]]"),
        );
    }
    if !reader.problems.is_empty() {
        return Err(FileProblems::new(path, source, reader.problems));
    }
    // Operations run in the order written, whatever their kind.
    operations.sort_by_key(|operation| operation.span.start);
    Ok((description, after, operations))
}

fn pin(reader: &mut Reader, value: &Value<'_>) -> Option<Pin> {
    let version = match value.get_ref() {
        DeValue::Integer(integer) => i32::from_str_radix(integer.as_str(), integer.radix())
            .ok()
            .filter(|version| *version > 0),
        _ => None,
    };
    if version.is_none() {
        let found = match value.get_ref() {
            DeValue::Integer(integer) => integer.as_str().to_string(),
            other => crate::spanned_toml::kind_of(other).to_string(),
        };
        reader.problem(not_a_version(value.span(), &found));
    }
    Some(Pin {
        version: version?,
        span: value.span(),
    })
}

/// The row arrays read from the file chunk by chunk.
struct Context<'a> {
    streamed: &'a [Range<usize>],
}

fn operation(
    reader: &mut Reader,
    context_of: &Context<'_>,
    name: &str,
    table: &DeTable<'_>,
    span: Range<usize>,
) -> Option<OperationKind> {
    let context = format!("[[{name}]]");
    let required = |reader: &mut Reader, key: &str, example: &str| {
        let value = table.get(key);
        if value.is_none() {
            reader.missing(span.clone(), key, &context, example);
        }
        value
    };
    match name {
        "insert" => {
            reader.only_keys(table, &context, &["table", "rows"]);
            let table_value = required(reader, "table", "table = \"NAME\"")?;
            let table_name = table_name(reader, table_value)?;
            let rows_value = required(reader, "rows", "rows = [{ column = value }, ...]")?;
            let DeValue::Array(items) = rows_value.get_ref() else {
                reader.wrong_type(
                    "rows",
                    rows_value,
                    "an array of rows such as [{ name = \"Preventers\" }]",
                );
                return None;
            };
            let inside = rows_value.span().start + 1;
            let rows = match context_of.streamed.iter().find(|r| r.start == inside) {
                // Read when the patch is checked against the database and again
                // when it is applied, never here: a TOML error among these rows
                // is reported by that check, before anything runs.
                Some(range) => Rows::Streamed(range.clone()),
                None => {
                    let mut rows = Vec::new();
                    for item in items.iter() {
                        if let Some(row) = reader.table("rows", item) {
                            rows.push(assignments(reader, row));
                        }
                    }
                    Rows::Parsed(rows)
                }
            };
            Some(OperationKind::Insert {
                table: table_name,
                rows,
            })
        }
        "update" => {
            reader.only_keys(table, &context, &["table", "where", "set", "expect_rows"]);
            let (table_name, filter) = table_and_filter(reader, table, span.clone(), &context)?;
            let set_value = required(reader, "set", "set = { column = value }")?;
            let set_table = reader.table("set", set_value)?;
            let set = assignments(reader, set_table);
            if set.is_empty() {
                reader.problem(
                    Problem::new(set_value.span(), "`set` changes no column")
                        .label("add column = value"),
                );
            }
            let expect_rows = table
                .get("expect_rows")
                .and_then(|v| reader.unsigned("expect_rows", v));
            Some(OperationKind::Update {
                table: table_name,
                filter,
                set,
                expect_rows,
            })
        }
        "delete" => {
            reader.only_keys(table, &context, &["table", "where", "expect_rows"]);
            let (table_name, filter) = table_and_filter(reader, table, span.clone(), &context)?;
            let expect_rows = table
                .get("expect_rows")
                .and_then(|v| reader.unsigned("expect_rows", v));
            Some(OperationKind::Delete {
                table: table_name,
                filter,
                expect_rows,
            })
        }
        _ => {
            reader.only_keys(table, &context, &["statement", "params"]);
            let statement_value = required(reader, "statement", "statement = \"SQL\"")?;
            let statement = reader.string("statement", statement_value)?;
            let params = match table.get("params") {
                None => Vec::new(),
                Some(value) => match value.get_ref() {
                    DeValue::Array(items) => items
                        .iter()
                        .filter_map(|item| patch_value(reader, item))
                        .collect(),
                    _ => {
                        reader.wrong_type("params", value, "an array of values");
                        return None;
                    }
                },
            };
            Some(OperationKind::Sql {
                statement,
                statement_span: statement_value.span(),
                params,
            })
        }
    }
}

/// `table` and `where`, which update and delete both require.
fn table_and_filter(
    reader: &mut Reader,
    table: &DeTable<'_>,
    span: Range<usize>,
    context: &str,
) -> Option<(Spanned<String>, Vec<Assignment>)> {
    let Some(table_value) = table.get("table") else {
        reader.missing(span, "table", context, "table = \"NAME\"");
        return None;
    };
    let table_name = table_name(reader, table_value)?;
    let Some(where_value) = table.get("where") else {
        reader.missing(
            span,
            "where",
            context,
            "where = { column = value } (or where = {} for every row)",
        );
        return None;
    };
    Some((table_name, filter(reader, where_value)?))
}

fn table_name(reader: &mut Reader, value: &Value<'_>) -> Option<Spanned<String>> {
    reader
        .string("table", value)
        .map(|name| Spanned::new(value.span(), name))
}

fn filter(reader: &mut Reader, value: &Value<'_>) -> Option<Vec<Assignment>> {
    let table = reader.table("where", value)?;
    Some(assignments(reader, table))
}

pub(super) fn assignments(reader: &mut Reader, table: &DeTable<'_>) -> Vec<Assignment> {
    table
        .iter()
        .filter_map(|(key, value)| {
            Some(Assignment {
                column: Spanned::new(key.span(), key.get_ref().to_string()),
                value: patch_value(reader, value)?,
            })
        })
        .collect()
}

fn patch_value(reader: &mut Reader, value: &Value<'_>) -> Option<PatchValue> {
    let kind = match value.get_ref() {
        DeValue::String(text) => ValueKind::Text(text.to_string()),
        DeValue::Integer(integer) => match i64::from_str_radix(integer.as_str(), integer.radix()) {
            Ok(number) => ValueKind::Integer(number),
            Err(_) => {
                reader.problem(
                    Problem::new(value.span(), "integer out of the 64-bit range")
                        .label("too large"),
                );
                return None;
            }
        },
        DeValue::Float(float) => ValueKind::Float(float.as_str().parse().ok()?),
        DeValue::Boolean(flag) => ValueKind::Boolean(*flag),
        DeValue::Datetime(datetime) => ValueKind::Text(datetime.to_string()),
        DeValue::Table(table) if table.len() == 1 && table.get("null").is_some() => {
            let flag = table.get("null")?;
            if reader.boolean("null", flag) != Some(true) {
                reader.problem(
                    Problem::new(flag.span(), "write `{ null = true }` for NULL")
                        .label("expected true"),
                );
                return None;
            }
            ValueKind::Null
        }
        DeValue::Table(table) if table.len() == 1 && table.get("ref").is_some() => {
            let inner = table.get("ref")?;
            let key = reader.table("ref", inner)?;
            let columns = assignments(reader, key);
            if columns.is_empty() {
                reader.problem(
                    Problem::new(inner.span(), "`ref` needs at least one column")
                        .label("e.g. { ref = { name = \"Preventers\" } }"),
                );
                return None;
            }
            if let Some(nested) = columns
                .iter()
                .find(|a| matches!(a.value.kind, ValueKind::Ref(_)))
            {
                reader.problem(
                    Problem::new(
                        nested.value.span.clone(),
                        "a `ref` cannot contain another `ref`",
                    )
                    .label("use a plain value"),
                );
                return None;
            }
            ValueKind::Ref(columns)
        }
        _ => {
            reader.wrong_type(
                "a value",
                value,
                "a string, number, boolean, { null = true } or { ref = { column = value } }",
            );
            return None;
        }
    };
    Some(PatchValue {
        span: value.span(),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sql_patch_is_pinned_by_a_leading_comment() {
        let source = "-- Tarantula joins\n-- strata: after = 2\nINSERT INTO hero (name) VALUES ('x');\n-- strata: after = 9\n";
        let (description, after) = sql_header(Path::new("p.sql"), source).unwrap();
        assert_eq!(description.as_deref(), Some("Tarantula joins"));
        // Only leading comments count; the value's place is its digits.
        let pin = after.unwrap();
        assert_eq!(pin.version, 2);
        assert_eq!(&source[pin.span], "2");
    }

    #[test]
    fn a_sql_pin_that_is_not_a_version_is_reported_at_its_place() {
        for (source, column) in [
            ("-- strata: after = 0\n", 20),
            ("-- strata: after = -1\n", 20),
            ("-- strata: after =\n", 19),
            ("-- strata: after = 1\n-- strata: after = 1\n", 20),
        ] {
            let problems = sql_header(Path::new("p.sql"), source).unwrap_err();
            let (_, found) = problems.first_location().unwrap();
            assert_eq!(found, column, "{source:?}: {}", problems.render(false));
        }
    }

    #[test]
    fn a_toml_pin_is_read_with_its_place() {
        let source = "after = 3\n[[sql]]\nstatement = \"SELECT 1\"\n";
        let (_, after, _) = parse_operations(Path::new("p.toml"), source).unwrap();
        assert_eq!(after.unwrap().version, 3);
        let too_big = "after = 2147483648\n[[sql]]\nstatement = \"SELECT 1\"\n";
        let problems = parse_operations(Path::new("p.toml"), too_big).unwrap_err();
        assert!(
            problems.problems[0].message.ends_with("found 2147483648"),
            "{}",
            problems.render(false)
        );
    }
}
