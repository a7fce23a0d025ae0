//! schema.toml → [`Schema`], collecting every problem in the file with its span.
//!
//! serde stops at the first error, and the contract is to report them all, so the
//! document is parsed by `toml` into spanned values and walked here by hand.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::model::names;
use super::{
    Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, PrimaryKey, Schema, Table, Type,
    UniqueConstraint,
};
use crate::diagnostics::{FileProblems, Problem};
use crate::spanned_toml::{parse_document, Key, Reader, Value};
use crate::text::{backticked, closest, did_you_mean, identifier_problem, MAX_IDENTIFIER_BYTES};

/// The `[project]` table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectConfig {
    /// Dialects migrations are generated for; `["sqlite"]` when not given.
    pub dialects: Vec<String>,
    /// The default database URL, relative paths meaning relative to the project.
    pub database: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SchemaFile {
    pub path: PathBuf,
    pub config: ProjectConfig,
    pub schema: Schema,
}

const TOP_KEYS: &[&str] = &["project", "table"];
const PROJECT_KEYS: &[&str] = &["dialects", "database"];
const TABLE_KEYS: &[&str] = &[
    "columns",
    "primary_key",
    "unique",
    "indexes",
    "renamed_from",
];
const COLUMN_KEYS: &[&str] = &[
    "type",
    "nullable",
    "primary_key",
    "unique",
    "index",
    "default",
    "references",
    "on_delete",
    "on_update",
    "renamed_from",
];
const INDEX_KEYS: &[&str] = &["name", "columns", "unique"];

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
    let text = crate::project::utf8_text(path, bytes)?;
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

/// Where each declared foreign key was written, for checks that need every table.
struct PendingReference {
    table: String,
    column: String,
    target_table: String,
    target_table_span: Range<usize>,
    target_column: String,
    target_column_span: Range<usize>,
    /// The referencing column's `type`, where a type mismatch is fixed.
    type_span: Range<usize>,
}

/// One entry of the schema's namespace: a table, index or constraint.
struct NamedObject {
    name: String,
    /// What it is, for messages: "table `team`", "the index on `hero` (name)".
    what: String,
    span: Range<usize>,
    /// The table it is or belongs to.
    table: String,
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
        };
        let mut schema = Schema::default();
        let mut saw_tables = false;
        for (key, value) in root.iter() {
            match key.get_ref().as_ref() {
                "project" => {
                    if let Some(table) = self.reader.table("project", value) {
                        self.project(table, &mut config);
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
                _ => self
                    .reader
                    .unknown_key(key, "the top level of schema.toml", TOP_KEYS),
            }
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
        self.check_references(&schema);
        (config, schema)
    }

    /// SQLite compares names case-insensitively (ASCII letters only), so `team` and
    /// `Team` would be one table there and the migration would fail.
    fn check_names_differing_in_case(&mut self) {
        let mut seen: HashMap<(String, String), String> = HashMap::new();
        for (table, name, span) in std::mem::take(&mut self.names) {
            let key = (table.clone(), name.to_ascii_lowercase());
            match seen.get(&key) {
                Some(first) if *first != name => {
                    let (what, first) = if table.is_empty() {
                        (format!("table `{name}`"), format!("`{first}`"))
                    } else {
                        (
                            format!("column `{table}.{name}`"),
                            format!("`{table}.{first}`"),
                        )
                    };
                    self.reader.problem(
                        Problem::new(
                            span,
                            format!(
                                "{what} differs from {first} only in letter case; \
                                 SQLite takes them for the same name"
                            ),
                        )
                        .label(format!("same name as {first} in SQLite"))
                        .help("rename one of them"),
                    );
                }
                Some(_) => {}
                None => {
                    seen.insert(key, name);
                }
            }
        }
    }

    fn project(&mut self, table: &DeTable<'_>, config: &mut ProjectConfig) {
        for (key, value) in table.iter() {
            match key.get_ref().as_ref() {
                "dialects" => {
                    let Some(list) = self.string_list("dialects", value) else {
                        continue;
                    };
                    let mut dialects = Vec::new();
                    // The dialects accepted are the registered engines'.
                    let known = crate::driver::dialect_names();
                    for dialect in list {
                        if known.contains(&dialect.get_ref().as_str()) {
                            if !dialects.contains(dialect.get_ref()) {
                                dialects.push(dialect.get_ref().clone());
                            }
                        } else {
                            self.reader.problem(
                                Problem::new(
                                    dialect.span(),
                                    format!(
                                        "unknown dialect `{}`{}",
                                        dialect.get_ref(),
                                        did_you_mean(dialect.get_ref(), known.iter().copied())
                                    ),
                                )
                                .label(format!("expected one of {}", backticked(&known))),
                            );
                        }
                    }
                    config.dialects = dialects;
                }
                "database" => config.database = self.reader.string("database", value),
                _ => self.reader.unknown_key(key, "[project]", PROJECT_KEYS),
            }
        }
    }

    fn table(&mut self, name: &Key<'_>, body: &Value<'_>) -> Option<Table> {
        let table_name = name.get_ref().to_string();
        self.declared.push((table_name.clone(), Vec::new()));
        self.names
            .push((String::new(), table_name.clone(), name.span()));
        let name_ok = self.identifier(&table_name, name.span(), "table");
        self.current_table = table_name.clone();
        if name_ok {
            self.name_object(&table_name, format!("table `{table_name}`"), name.span());
        }
        let options = self.reader.table(&format!("table.{table_name}"), body)?;
        let mut table = Table::new(&table_name);

        match options.get("columns") {
            Some(columns) => {
                if let Some(columns) = self.reader.table("columns", columns) {
                    for (column_name, column_body) in columns.iter() {
                        if let Some(column) = self.column(&mut table, column_name, column_body) {
                            table.columns.push(column);
                        }
                    }
                }
                if table.columns.is_empty() && columns.get_ref().as_table().is_some_and(|c| c.is_empty()) {
                    self.reader.problem(
                        Problem::new(name.span(), format!("table `{table_name}` has no columns"))
                            .label("declared here")
                            .help(format!(
                                "add columns under [table.{table_name}.columns], e.g. id = {{ type = \"integer\", primary_key = true }}"
                            )),
                    );
                }
            }
            None => self.reader.problem(
                Problem::new(name.span(), format!("table `{table_name}` has no columns"))
                    .label("declared here")
                    .help(format!(
                        "add a [table.{table_name}.columns] section, e.g. id = {{ type = \"integer\", primary_key = true }}"
                    )),
            ),
        }

        for (key, value) in options.iter() {
            match key.get_ref().as_ref() {
                "columns" => {}
                "primary_key" => self.table_primary_key(&mut table, key, value),
                "unique" => self.table_uniques(&mut table, value),
                "indexes" => self.table_indexes(&mut table, value),
                "renamed_from" => table.renamed_from = self.reader.string("renamed_from", value),
                _ => self
                    .reader
                    .unknown_key(key, &format!("table `{table_name}`"), TABLE_KEYS),
            }
        }
        name_ok.then_some(table)
    }

    fn column(&mut self, table: &mut Table, name: &Key<'_>, body: &Value<'_>) -> Option<Column> {
        let column_name = name.get_ref().to_string();
        if let Some((_, columns)) = self.declared.last_mut() {
            columns.push(column_name.clone());
        }
        self.names
            .push((table.name.clone(), column_name.clone(), name.span()));
        let name_ok = self.identifier(&column_name, name.span(), "column");
        let mut column = Column {
            name: column_name.clone(),
            ty: Type::Integer,
            nullable: false,
            default: None,
            renamed_from: None,
        };
        let options = match body.get_ref() {
            DeValue::String(type_name) => {
                column.ty = self.column_type(type_name, body.span())?;
                return name_ok.then_some(column);
            }
            DeValue::Table(options) => options,
            _ => {
                self.reader.wrong_type(&column_name, body, "a type name such as \"text\", or a table such as { type = \"text\", nullable = true }");
                return None;
            }
        };

        // A bad or missing type is reported, and the other options are still checked
        // so that every problem in the file is reported at once.
        let mut type_ok = true;
        let type_span;
        match options.get("type") {
            Some(type_value) => {
                type_span = type_value.span();
                match self
                    .reader
                    .string("type", type_value)
                    .and_then(|name| self.column_type(&name, type_value.span()))
                {
                    Some(ty) => column.ty = ty,
                    None => type_ok = false,
                }
            }
            None => {
                type_span = body.span();
                type_ok = false;
                self.reader.problem(
                    Problem::new(
                        body.span(),
                        format!("column `{}.{column_name}` has no `type`", table.name),
                    )
                    .label("add `type = \"...\"` here")
                    .help(format!(
                        "types are {}",
                        backticked(super::types::PORTABLE_TYPE_NAMES)
                    )),
                );
            }
        }
        if !type_ok {
            // Unknown type: accept any default rather than report a second problem.
            column.ty = Type::Custom(String::new());
        }

        let mut primary_key = false;
        let mut nullable_span = None;
        let mut references = None;
        let mut on_delete = ForeignKeyAction::NoAction;
        let mut on_update = ForeignKeyAction::NoAction;
        let mut action_spans = Vec::new();
        let mut unique = false;
        let mut index_span = None;
        for (key, value) in options.iter() {
            match key.get_ref().as_ref() {
                "type" => {}
                "nullable" => {
                    column.nullable = self.reader.boolean("nullable", value).unwrap_or(false);
                    nullable_span = Some(value.span());
                }
                "primary_key" => {
                    primary_key = self.reader.boolean("primary_key", value).unwrap_or(false)
                }
                "unique" => unique = self.reader.boolean("unique", value) == Some(true),
                "index" => {
                    if self.reader.boolean("index", value) == Some(true) {
                        index_span = Some(value.span());
                    }
                }
                "default" => column.default = self.default_value(&column, value),
                "references" => references = self.reference(value),
                "on_delete" => {
                    on_delete = self.action("on_delete", value).unwrap_or_default();
                    action_spans.push(key.span());
                }
                "on_update" => {
                    on_update = self.action("on_update", value).unwrap_or_default();
                    action_spans.push(key.span());
                }
                "renamed_from" => column.renamed_from = self.reader.string("renamed_from", value),
                _ => self.reader.unknown_key(
                    key,
                    &format!("column `{}.{column_name}`", table.name),
                    COLUMN_KEYS,
                ),
            }
        }

        let columns = vec![column_name.clone()];
        // As in SQLAlchemy: `index` alone is a plain index, `unique` alone a UNIQUE
        // constraint, and both together one unique index.
        match index_span {
            Some(span) => {
                let index_name = names::index(&table.name, &columns);
                self.name_object(
                    &index_name,
                    format!("the index on `{}` ({column_name})", table.name),
                    span,
                );
                table.indexes.push(Index {
                    name: index_name,
                    columns: columns.clone(),
                    unique,
                });
            }
            None if unique => {
                let unique_name = names::unique(&table.name, &columns);
                self.name_object(
                    &unique_name,
                    format!("the unique constraint on `{}` ({column_name})", table.name),
                    name.span(),
                );
                table.uniques.push(UniqueConstraint {
                    name: unique_name,
                    columns: columns.clone(),
                })
            }
            None => {}
        }
        if primary_key {
            if let Some(span) = nullable_span.filter(|_| column.nullable) {
                self.reader.problem(
                    Problem::new(
                        span,
                        format!(
                            "primary key column `{}.{column_name}` cannot be nullable",
                            table.name
                        ),
                    )
                    .label("remove `nullable = true`"),
                );
            }
            if table.primary_key.is_none() {
                let pk_name = names::primary_key(&table.name);
                self.name_object(
                    &pk_name,
                    format!("the primary key of `{}`", table.name),
                    name.span(),
                );
                table.primary_key = Some(PrimaryKey {
                    name: pk_name,
                    columns: Vec::new(),
                });
            }
            if let Some(pk) = &mut table.primary_key {
                pk.columns.push(column_name.clone());
            }
        }
        match references {
            Some((target_table, target_column, spans)) => {
                self.references.push(PendingReference {
                    table: table.name.clone(),
                    column: column_name.clone(),
                    target_table: target_table.clone(),
                    target_table_span: spans.0,
                    target_column: target_column.clone(),
                    target_column_span: spans.1,
                    type_span,
                });
                let columns = vec![column_name.clone()];
                let fk_name = names::foreign_key(&table.name, &columns);
                self.name_object(
                    &fk_name,
                    format!("the foreign key of `{}` ({column_name})", table.name),
                    name.span(),
                );
                table.foreign_keys.push(ForeignKey {
                    name: fk_name,
                    columns,
                    referenced_table: target_table,
                    referenced_columns: vec![target_column],
                    on_delete,
                    on_update,
                });
            }
            None => {
                for span in action_spans {
                    self.reader.problem(
                        Problem::new(
                            span,
                            format!(
                                "`{}` needs `references` on column `{}.{column_name}`",
                                "on_delete/on_update", table.name
                            ),
                        )
                        .label("only a foreign key has actions")
                        .help("add `references = \"table.column\"`, or remove this key"),
                    );
                }
            }
        }
        (name_ok && type_ok).then_some(column)
    }

    fn column_type(&mut self, name: &str, span: Range<usize>) -> Option<Type> {
        match Type::parse_portable(name) {
            Some(ty) => Some(ty),
            None => {
                let bare = name.split('(').next().unwrap_or(name).trim();
                // Other databases' and languages' names for the portable types, so
                // that a typo of either (`strng`, `integr`) gets a suggestion.
                const SYNONYMS: &[(&str, &str)] = &[
                    ("int", "integer"),
                    ("int4", "integer"),
                    ("serial", "integer"),
                    ("int8", "bigint"),
                    ("bigserial", "bigint"),
                    ("int2", "smallint"),
                    ("string", "text"),
                    ("str", "text"),
                    ("bool", "boolean"),
                    ("float", "double"),
                    ("float8", "double"),
                    ("double precision", "double"),
                    ("decimal", "numeric"),
                    ("datetime", "timestamp"),
                    ("blob", "bytes"),
                    ("bytea", "bytes"),
                    ("jsonb", "json"),
                ];
                let known = super::types::PORTABLE_TYPE_NAMES
                    .iter()
                    .map(|known| known.split('(').next().unwrap_or(known));
                let lowered = bare.to_lowercase();
                let hit = SYNONYMS
                    .iter()
                    .find(|(synonym, _)| *synonym == lowered)
                    .map(|(_, portable)| *portable)
                    .or_else(|| {
                        let word = closest(bare, known.chain(SYNONYMS.iter().map(|s| s.0)))?;
                        Some(
                            SYNONYMS
                                .iter()
                                .find(|(synonym, _)| *synonym == word)
                                .map_or(word, |(_, portable)| *portable),
                        )
                    });
                let hint = hit
                    .map(|hit| format!("; did you mean `{hit}`?"))
                    .unwrap_or_default();
                self.reader.problem(
                    Problem::new(span, format!("unknown column type `{name}`{hint}"))
                        .label("not a portable type")
                        .help(format!(
                            "types are {}",
                            backticked(super::types::PORTABLE_TYPE_NAMES)
                        )),
                );
                None
            }
        }
    }

    fn default_value(&mut self, column: &Column, value: &Value<'_>) -> Option<DefaultValue> {
        let default = match value.get_ref() {
            DeValue::Integer(integer) => {
                match i64::from_str_radix(integer.as_str(), integer.radix()) {
                    Ok(number) => DefaultValue::Integer(number),
                    Err(_) => {
                        self.reader.problem(
                            Problem::new(
                                value.span(),
                                "default is out of the 64-bit integer range",
                            )
                            .label("too large"),
                        );
                        return None;
                    }
                }
            }
            DeValue::Float(float) => match float.as_str().parse::<f64>() {
                Ok(number) if number.is_finite() => DefaultValue::Float(number),
                _ => {
                    // `nan` and `inf` have no portable SQL literal: PostgreSQL rejects
                    // `DEFAULT NaN` and SQLite would store the string 'NaN'.
                    self.reader.problem(
                        Problem::new(value.span(), "default must be a finite number")
                            .label("not a finite number")
                            .help("for NaN or infinity write the dialect's expression, e.g. default = { sql = \"'NaN'\" }"),
                    );
                    return None;
                }
            },
            DeValue::Boolean(flag) => DefaultValue::Boolean(*flag),
            DeValue::String(text) => DefaultValue::Text(text.to_string()),
            DeValue::Table(table) if table.len() == 1 && table.get("sql").is_some() => {
                let expression = table.get("sql")?;
                return self.reader.string("sql", expression).map(DefaultValue::Sql);
            }
            _ => {
                self.reader.wrong_type(
                    "default",
                    value,
                    "a number, a string, a boolean or { sql = \"EXPRESSION\" }",
                );
                return None;
            }
        };
        let fits = match (&default, &column.ty) {
            (DefaultValue::Integer(_), ty) => ty.is_integer_like() || ty.is_float_like(),
            (DefaultValue::Float(_), ty) => ty.is_float_like(),
            (DefaultValue::Boolean(_), ty) => *ty == Type::Boolean,
            (DefaultValue::Text(_), ty) => ty.is_text_like(),
            _ => true,
        };
        if fits || matches!(column.ty, Type::Custom(_)) {
            Some(default)
        } else {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!("default {default} does not fit column `{}` of type {}", column.name, column.ty),
                )
                .label(format!("not a {} value", column.ty))
                .help("give a default of the column's type, or { sql = \"EXPRESSION\" } for an SQL expression"),
            );
            None
        }
    }

    /// `references = "table.column"` or `references = { table = "...", column = "..." }`.
    #[allow(clippy::type_complexity)]
    fn reference(
        &mut self,
        value: &Value<'_>,
    ) -> Option<(String, String, (Range<usize>, Range<usize>))> {
        match value.get_ref() {
            DeValue::String(text) => {
                let parts: Vec<&str> = text.split('.').collect();
                if let [table, column] = parts.as_slice() {
                    if !table.is_empty() && !column.is_empty() {
                        return Some((
                            table.to_string(),
                            column.to_string(),
                            self.reference_spans(value.span(), text, table.len()),
                        ));
                    }
                }
                self.reader.problem(
                    Problem::new(value.span(), format!("`references = \"{text}\"` must be written `table.column`"))
                        .label("expected \"table.column\"")
                        .help("for names that contain a dot, write references = { table = \"...\", column = \"...\" }"),
                );
                None
            }
            DeValue::Table(table) => {
                for (key, _) in table.iter() {
                    if !["table", "column"].contains(&key.get_ref().as_ref()) {
                        self.reader
                            .unknown_key(key, "references", &["table", "column"]);
                    }
                }
                let (Some(target_table), Some(target_column)) =
                    (table.get("table"), table.get("column"))
                else {
                    self.reader.problem(
                        Problem::new(value.span(), "`references` needs both `table` and `column`")
                            .label("incomplete"),
                    );
                    return None;
                };
                let table_name = self.reader.string("table", target_table)?;
                let column_name = self.reader.string("column", target_column)?;
                Some((
                    table_name,
                    column_name,
                    (target_table.span(), target_column.span()),
                ))
            }
            _ => {
                self.reader
                    .wrong_type("references", value, "a string \"table.column\"");
                None
            }
        }
    }

    /// The spans of `table` and `column` inside a `"table.column"` string, when the
    /// string is written without escapes; otherwise the whole string for both.
    fn reference_spans(
        &self,
        span: Range<usize>,
        text: &str,
        table_length: usize,
    ) -> (Range<usize>, Range<usize>) {
        let raw = self.source.get(span.clone()).unwrap_or_default();
        let plain = raw.len() == text.len() + 2
            && (raw.starts_with('"') || raw.starts_with('\''))
            && raw.get(1..raw.len() - 1) == Some(text);
        if !plain {
            return (span.clone(), span);
        }
        let start = span.start + 1;
        (
            start..start + table_length,
            start + table_length + 1..start + text.len(),
        )
    }

    fn action(&mut self, key: &str, value: &Value<'_>) -> Option<ForeignKeyAction> {
        let text = self.reader.string(key, value)?;
        let action = ForeignKeyAction::parse(&text);
        if action.is_none() {
            self.reader.problem(
                Problem::new(
                    value.span(),
                    format!(
                        "unknown {key} action `{text}`{}",
                        did_you_mean(&text, ForeignKeyAction::NAMES.iter().copied())
                    ),
                )
                .label(format!(
                    "expected one of {}",
                    backticked(ForeignKeyAction::NAMES)
                )),
            );
        }
        action
    }

    /// Records a table, index or constraint name for [`Self::check_namespace`].
    fn name_object(&mut self, name: &str, what: String, span: Range<usize>) {
        self.namespace.push(NamedObject {
            name: name.to_string(),
            what,
            span,
            table: self.current_table.clone(),
        });
    }

    /// Two objects with one name: PostgreSQL refuses the second (`relation … already
    /// exists`), and SQLite too for tables and indexes. Derived names are cut to 63
    /// bytes, so long table and column names can meet even when no one wrote the
    /// name. With SQLite among the dialects, names differing only in ASCII case meet
    /// too. Two tables are left to [`Self::check_names_differing_in_case`].
    fn check_namespace(&mut self, fold_case: bool) {
        let mut seen: HashMap<String, usize> = HashMap::new();
        let objects = std::mem::take(&mut self.namespace);
        for (position, object) in objects.iter().enumerate() {
            let key = if fold_case {
                object.name.to_ascii_lowercase()
            } else {
                object.name.clone()
            };
            let Some(&first) = seen.get(&key) else {
                seen.insert(key, position);
                continue;
            };
            let first = &objects[first];
            let only_case = first.name != object.name;
            // Tables differing only in case are reported on their own, and then
            // every name derived from them meets too.
            if (first.what.starts_with("table ") && object.what.starts_with("table "))
                || (only_case && first.table != object.table)
            {
                continue;
            }
            let namespace = if only_case {
                "SQLite ignores letter case in names, and keeps tables, indexes and \
                 constraints in one namespace"
            } else {
                "tables, indexes and constraints share one namespace in PostgreSQL"
            };
            let (line, column) = crate::text::line_column(self.source, first.span.start);
            self.reader.problem(
                Problem::new(
                    object.span.clone(),
                    format!(
                        "{} and {} would both be named `{}`; {namespace}",
                        first.what, object.what, object.name
                    ),
                )
                .label(format!("same name as {}", first.what))
                .help(format!(
                    "the first is declared at line {line}, column {column}; rename one of them{}{}",
                    if first.what.starts_with("the index") || object.what.starts_with("the index") {
                        ", or give the index its own `name` under `indexes`"
                    } else {
                        ""
                    },
                    // A derived name this long was most likely shortened to fit.
                    if object.name.len() > MAX_IDENTIFIER_BYTES - 8 {
                        " (derived names over 63 bytes are shortened, so long names can meet)"
                    } else {
                        ""
                    }
                )),
            );
        }
    }

    /// Column names in a table-level option must exist in that table.
    fn known_columns(&mut self, table: &Table, names: &[Spanned<String>]) -> Option<Vec<String>> {
        let mut all_known = true;
        for name in names {
            if table.column(name.get_ref()).is_none() {
                all_known = false;
                self.reader.problem(
                    Problem::new(
                        name.span(),
                        format!(
                            "table `{}` has no column `{}`{}",
                            table.name,
                            name.get_ref(),
                            did_you_mean(
                                name.get_ref(),
                                table.columns.iter().map(|c| c.name.as_str())
                            )
                        ),
                    )
                    .label("unknown column"),
                );
            }
        }
        all_known.then(|| names.iter().map(|name| name.get_ref().clone()).collect())
    }

    fn table_primary_key(&mut self, table: &mut Table, key: &Key<'_>, value: &Value<'_>) {
        let Some(names) = self.string_list("primary_key", value) else {
            return;
        };
        if table.primary_key.is_some() {
            self.reader.problem(
                Problem::new(key.span(), format!("table `{}` declares its primary key twice", table.name))
                    .label("table-level primary key")
                    .help("use either `primary_key = true` on columns or `primary_key = [...]` on the table, not both"),
            );
            return;
        }
        if let Some(columns) = self.known_columns(table, &names) {
            for column in table
                .columns
                .iter_mut()
                .filter(|c| columns.contains(&c.name))
            {
                column.nullable = false;
            }
            let pk_name = names::primary_key(&table.name);
            self.name_object(
                &pk_name,
                format!("the primary key of `{}`", table.name),
                key.span(),
            );
            table.primary_key = Some(PrimaryKey {
                name: pk_name,
                columns,
            });
        }
    }

    fn table_uniques(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(groups) = value.get_ref() else {
            self.reader.wrong_type(
                "unique",
                value,
                "an array of column lists, e.g. [[\"a\", \"b\"]]",
            );
            return;
        };
        for group in groups.iter() {
            let Some(names) = self.string_list("unique", group) else {
                continue;
            };
            if let Some(columns) = self.known_columns(table, &names) {
                let unique_name = names::unique(&table.name, &columns);
                self.name_object(
                    &unique_name,
                    format!(
                        "the unique constraint on `{}` ({})",
                        table.name,
                        columns.join(", ")
                    ),
                    group.span(),
                );
                table.uniques.push(UniqueConstraint {
                    name: unique_name,
                    columns,
                });
            }
        }
    }

    fn table_indexes(&mut self, table: &mut Table, value: &Value<'_>) {
        let DeValue::Array(items) = value.get_ref() else {
            self.reader.wrong_type(
                "indexes",
                value,
                "an array of tables, e.g. [{ columns = [\"a\", \"b\"] }]",
            );
            return;
        };
        for item in items.iter() {
            let Some(options) = self.reader.table("indexes", item) else {
                continue;
            };
            for (key, _) in options.iter() {
                if !INDEX_KEYS.contains(&key.get_ref().as_ref()) {
                    self.reader.unknown_key(key, "an index", INDEX_KEYS);
                }
            }
            let Some(columns_value) = options.get("columns") else {
                self.reader.problem(
                    Problem::new(item.span(), "an index needs `columns = [...]`")
                        .label("no columns"),
                );
                continue;
            };
            let Some(names) = self.string_list("columns", columns_value) else {
                continue;
            };
            let unique = match options.get("unique") {
                Some(flag) => self.reader.boolean("unique", flag).unwrap_or(false),
                None => false,
            };
            let Some(columns) = self.known_columns(table, &names) else {
                continue;
            };
            let name = match options.get("name") {
                Some(name) => match self.reader.string("name", name) {
                    Some(text) => text,
                    None => continue,
                },
                None => names::index(&table.name, &columns),
            };
            let span = options.get("name").map_or(item.span(), |name| name.span());
            if options.get("name").is_some() {
                if let Some(problem) = identifier_problem(&name) {
                    self.reader.problem(
                        Problem::new(span.clone(), format!("invalid index name: {problem}"))
                            .label("this index name")
                            .help("choose a name of at most 63 bytes without control characters"),
                    );
                }
            }
            self.name_object(
                &name,
                format!("the index on `{}` ({})", table.name, columns.join(", ")),
                span,
            );
            table.indexes.push(Index {
                name,
                columns,
                unique,
            });
        }
    }

    /// Foreign keys need every table parsed: the target must exist, have the column,
    /// the column types must match, and the target must be a primary key or unique.
    fn check_references(&mut self, schema: &Schema) {
        let references = std::mem::take(&mut self.references);
        let declared = std::mem::take(&mut self.declared);
        let table_names: Vec<&str> = declared.iter().map(|(name, _)| name.as_str()).collect();
        let columns_of = |table: &str| {
            declared
                .iter()
                .find(|(name, _)| name == table)
                .map_or(&[][..], |(_, columns)| columns.as_slice())
        };
        for reference in references {
            let Some(target) = schema.table(&reference.target_table) else {
                // A table that failed to parse has already been reported.
                if !table_names.contains(&reference.target_table.as_str()) {
                    self.reader.problem(
                        Problem::new(
                            reference.target_table_span.clone(),
                            format!(
                                "{}.{} references {}.{}: there is no table `{}`{}",
                                reference.table,
                                reference.column,
                                reference.target_table,
                                reference.target_column,
                                reference.target_table,
                                did_you_mean(&reference.target_table, table_names.iter().copied())
                            ),
                        )
                        .label("unknown table")
                        .help(format!("declared tables are {}", backticked(&table_names))),
                    );
                }
                continue;
            };
            let Some(target_column) = target.column(&reference.target_column) else {
                let target_columns = columns_of(&reference.target_table);
                if target_columns.contains(&reference.target_column) {
                    // The column failed to parse and has already been reported.
                    continue;
                }
                self.reader.problem(
                    Problem::new(
                        reference.target_column_span.clone(),
                        format!(
                            "{}.{} references {}.{}: table `{}` has no column `{}`{}",
                            reference.table,
                            reference.column,
                            reference.target_table,
                            reference.target_column,
                            reference.target_table,
                            reference.target_column,
                            did_you_mean(
                                &reference.target_column,
                                target_columns.iter().map(String::as_str)
                            )
                        ),
                    )
                    .label("unknown column")
                    .help(format!(
                        "the columns of `{}` are {}",
                        target.name,
                        backticked(target_columns)
                    )),
                );
                continue;
            };
            let Some(source_column) = schema
                .table(&reference.table)
                .and_then(|table| table.column(&reference.column))
            else {
                continue;
            };
            if source_column.ty != target_column.ty {
                self.reader.problem(
                    Problem::new(
                        reference.type_span.clone(),
                        format!(
                            "{}.{} is `{}` but references {}.{}, which is `{}`",
                            reference.table,
                            reference.column,
                            source_column.ty,
                            reference.target_table,
                            reference.target_column,
                            target_column.ty
                        ),
                    )
                    .label(format!(
                        "not the type of {}.{}",
                        reference.target_table, reference.target_column
                    ))
                    .help(format!(
                        "declare {}.{} as `{}`",
                        reference.table, reference.column, target_column.ty
                    )),
                );
            }
            if !target.has_unique_key(std::slice::from_ref(&reference.target_column)) {
                self.reader.problem(
                    Problem::new(
                        reference.target_column_span.clone(),
                        format!(
                            "{}.{} references {}.{}, which is neither the primary key nor unique",
                            reference.table,
                            reference.column,
                            reference.target_table,
                            reference.target_column
                        ),
                    )
                    .label("not a key")
                    .help(format!(
                        "reference the primary key of {}, or mark {}.{} `unique = true`",
                        reference.target_table, reference.target_table, reference.target_column
                    )),
                );
            }
        }
    }
}
