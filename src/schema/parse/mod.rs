//! schema.toml → [`Schema`], collecting every problem in the file with its span.
//!
//! serde stops at the first error, and the contract is to report them all, so the
//! document is parsed by `toml` into spanned values and walked here by hand.

//!
//! One module per part of the file: [`project`] the `[project]` table, [`table`]
//! a table and its table-level keys, [`column`] a column and its default,
//! [`column_type`] types, [`foreign_keys`] references and their checks,
//! [`indexes`] indexes, [`names`] names that would collide in a database.

mod checks;
mod column;
mod column_kind;
mod column_type;
mod domains;
mod enums;
mod foreign_keys;
mod indexes;
mod names;
mod objects;
mod project;
mod table;

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::Schema;
use crate::diagnostics::{FileProblems, Problem};
use crate::spanned_toml::{parse_document, Reader, Value};
use crate::text::identifier_problem;
use foreign_keys::PendingReference;
use names::NamedObject;

/// The `[project]` table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectConfig {
    /// Dialects migrations are generated for; `["sqlite"]` when not given.
    pub dialects: Vec<String>,
    /// The default database URL, relative paths meaning relative to the project.
    pub database: Option<String>,
    /// `[targets]`: named databases a fleet command (`--all-targets`, `--only`)
    /// runs against, `(name, url)` in file order; relative paths are relative to
    /// the project.
    pub targets: Vec<(String, String)>,
    /// How migration files are laid out (`layout = "diesel"`); refinery's by default.
    pub layout: crate::migrate::layout::Layout,
}

#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: PathBuf,
    pub config: ProjectConfig,
    pub schema: Schema,
}

const TOP_KEYS: &[&str] = &[
    "project",
    "table",
    "enum",
    "domain",
    "targets",
    "view",
    "materialized_view",
    "function",
    "trigger",
    "extension",
];

/// Reads and parses a schema file. A missing or non-UTF-8 file is an error too.
pub fn parse_schema_file(path: &Path) -> crate::Result<SchemaFile> {
    let bytes = std::fs::read(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => crate::Error::InvalidFile {
            path: path.to_path_buf(),
            message: "no such file; run `strata init` to start a project here, or pass \
                      `--project DIR` to use another folder"
                .to_string(),
        },
        _ => crate::Error::io(path, error),
    })?;
    let text = crate::file_text::utf8_text(path, bytes)?;
    Ok(parse_schema_text(path, &text)?)
}

/// Parses schema.toml text; `path` is only used in messages.
pub fn parse_schema_text(path: &Path, text: &str) -> Result<SchemaFile, FileProblems> {
    let document = parse_document(path, text)?;
    let mut parser = Parser::new(text);
    let (config, schema) = parser.document(document.get_ref(), text.len());
    if parser.reader.problems.is_empty() {
        Ok(SchemaFile {
            path: path.to_path_buf(),
            config,
            schema,
        })
    } else {
        Err(FileProblems::new(path, text, parser.reader.problems))
    }
}

struct Parser<'s> {
    source: &'s str,
    reader: Reader,
    references: Vec<PendingReference>,
    /// Every table, index and constraint name (declared or derived) with what it
    /// names and where, since PostgreSQL keeps them in one namespace per schema.
    namespace: Vec<NamedObject>,
    /// The table being parsed, which the objects named now belong to.
    current_table: String,
    /// Every table and column written in the file, including those that failed to
    /// parse (already reported), so a reference to them is not reported again.
    /// In file order, for suggestions and lists in messages.
    declared: Vec<(String, Vec<String>)>,
    /// (table, or "" for table names; name; span) of every table and column name,
    /// to catch names SQLite would take for the same one.
    names: Vec<(String, String, Range<usize>)>,
    /// Index options SQLite has no syntax for, refused when it is a dialect.
    postgres_only_indexes: Vec<indexes::PostgresOnly>,
    /// `stored = false` generated columns, refused when PostgreSQL is a dialect.
    virtual_columns: Vec<column_kind::VirtualColumn>,
    /// Identity columns that are not their table's single primary key,
    /// refused when SQLite is a dialect.
    unkeyed_identities: Vec<column_kind::VirtualColumn>,
    /// Primary key columns declared `nullable = true`: SQLite's legacy keys,
    /// refused when PostgreSQL is a dialect or the key is SQLite's rowid.
    nullable_keys: Vec<column_kind::NullableKey>,
    /// The numbering options of the current table's columns, checked once
    /// the table (its primary key) is parsed.
    column_kinds: Vec<(String, column_kind::KindSpans)>,
    /// `[enum.NAME]` names, read before the tables so columns can use them.
    enum_names: Vec<String>,
    /// `[domain.NAME]` names and where they are declared, read before the tables.
    domain_names: Vec<(String, Range<usize>)>,
    /// Column types settled once the dialects are known.
    pending_types: Vec<column_type::PendingType>,
}

impl<'s> Parser<'s> {
    fn new(source: &'s str) -> Self {
        Parser {
            source,
            reader: Reader::default(),
            references: Vec::new(),
            namespace: Vec::new(),
            current_table: String::new(),
            declared: Vec::new(),
            names: Vec::new(),
            postgres_only_indexes: Vec::new(),
            virtual_columns: Vec::new(),
            unkeyed_identities: Vec::new(),
            nullable_keys: Vec::new(),
            column_kinds: Vec::new(),
            enum_names: Vec::new(),
            domain_names: Vec::new(),
            pending_types: Vec::new(),
        }
    }

    fn identifier(&mut self, name: &str, span: Range<usize>, what: &str) -> bool {
        match identifier_problem(name) {
            Some(problem) => {
                let label = if name.is_empty() {
                    "give it a name"
                } else if name.chars().any(char::is_control) {
                    "remove the control character"
                } else {
                    "choose a shorter name"
                };
                self.reader.problem(
                    Problem::new(span, format!("invalid {what} name: {problem}")).label(label),
                );
                false
            }
            None => true,
        }
    }

    /// An array of strings, each with its span.
    fn string_list(&mut self, key: &str, value: &Value<'_>) -> Option<Vec<Spanned<String>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader
                .wrong_type(key, value, "an array of column names");
            return None;
        };
        let mut names = Vec::new();
        for item in items.iter() {
            let name = self.reader.string(key, item)?;
            names.push(Spanned::new(item.span(), name));
        }
        if names.is_empty() {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!("`{key}` must name at least one column"),
                )
                .label("empty list"),
            );
            return None;
        }
        Some(names)
    }

    fn document(&mut self, root: &DeTable<'_>, length: usize) -> (ProjectConfig, Schema) {
        let mut config = ProjectConfig {
            dialects: vec![crate::driver::ENGINES[0].name().to_string()],
            database: None,
            targets: Vec::new(),
            layout: Default::default(),
        };
        let mut schema = Schema::default();
        let mut saw_tables = false;
        let mut deferred_objects = Vec::new();
        // Enums first: a column of an enum may come before its `[enum.NAME]`.
        if let Some((_, value)) = root
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == "enum")
        {
            schema.enums = self.enums(value);
        }
        // Then domains, which may be over an enum.
        if let Some((_, value)) = root
            .iter()
            .find(|(key, _)| key.get_ref().as_ref() == "domain")
        {
            schema.domains = self.domains(value);
        }
        for (key, value) in root.iter() {
            match key.get_ref().as_ref() {
                "enum" | "domain" => {}
                "project" => {
                    if let Some(table) = self.reader.table("project", value) {
                        self.project(table, &mut config);
                    }
                }
                "targets" => {
                    if let Some(table) = self.reader.table("targets", value) {
                        self.targets(table, &mut config);
                    }
                }
                "table" => {
                    saw_tables = true;
                    if let Some(tables) = self.reader.table("table", value) {
                        // A bare `[table]` header declares no table.
                        saw_tables = !tables.is_empty();
                        for (name, body) in tables.iter() {
                            if let Some(table) = self.table(name, body) {
                                schema.tables.push(table);
                            }
                        }
                    }
                }
                other => match objects::kind_of_key(other) {
                    // After the tables, which triggers name.
                    Some(kind) => deferred_objects.push((kind, value)),
                    None => self
                        .reader
                        .unknown_key(key, "the top level of schema.toml", TOP_KEYS),
                },
            }
        }
        deferred_objects.sort_by_key(|(kind, _)| *kind);
        for (kind, value) in deferred_objects {
            self.objects(kind, value, &mut schema);
        }
        if !saw_tables && self.reader.problems.is_empty() {
            let span = if length == 0 { 0..0 } else { 0..1 };
            self.reader.problem(
                Problem::new(span, "schema.toml declares no tables")
                    .label("expected at least one `[table.NAME.columns]` section")
                    .help(
                        "declare a table, e.g.\n\n[table.team.columns]\nid = { type = \"integer\", primary_key = true }\nname = \"text\"",
                    ),
            );
        }
        // Names that one engine (SQLite) compares ignoring case must differ in more than case.
        let sqlite = config.dialects.iter().any(|dialect| {
            crate::driver::registry::engine(dialect).is_some_and(|engine| engine.folds_name_case())
        });
        if sqlite {
            self.check_names_differing_in_case();
        }
        self.check_namespace(sqlite);
        self.check_postgres_only_indexes(&config.dialects);
        self.check_virtual_columns(&config.dialects);
        self.check_unkeyed_identities(&config.dialects);
        self.settle_types(&config.dialects, &mut schema);
        self.check_nullable_keys(&config.dialects, &schema);
        self.check_enum_names(&schema);
        self.check_domain_names(&schema);

        self.check_references(&schema);
        (config, schema)
    }
}
