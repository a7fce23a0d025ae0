//! [`Schema`] → schema.toml text, for `strata pull`. Writes the shortest form the
//! parser reads back to the same model: column options where the name is the
//! deterministic one, table-level options otherwise.

use std::fmt::Write;

use super::model::names;
use super::{Column, DefaultValue, ForeignKeyAction, Schema, Table, Type};
use crate::text::{identifier_problem, printable};

pub fn write_schema(schema: &Schema, dialects: &[String]) -> String {
    let mut text = String::from("# Written by `strata pull` from a live database.\n\n[project]\n");
    let listed: Vec<String> = dialects.iter().map(|d| string(d)).collect();
    let _ = writeln!(text, "dialects = [{}]", listed.join(", "));
    text.push_str(&write_tables(schema));
    text
}

/// The `[table.…]` part of schema.toml alone, each table after a blank line, for
/// `pull --force` to put under the `[project]` table a file already has.
pub fn write_tables(schema: &Schema) -> String {
    let mut text = String::new();
    for declared in &schema.enums {
        let values: Vec<String> = declared.values.iter().map(|v| string(v)).collect();
        let _ = writeln!(
            text,
            "\n[enum.{}]\nvalues = [{}]",
            key(&declared.name),
            values.join(", ")
        );
    }
    for domain in &schema.domains {
        write_domain(&mut text, domain);
    }
    for table in &schema.tables {
        text.push('\n');
        write_table(&mut text, table);
    }
    text.push_str(&super::write_objects::write_objects(schema));
    text
}

/// Names in `schema` that schema.toml refuses (control characters, longer than
/// PostgreSQL allows), one line each naming the object. `pull` refuses to write a
/// file that strata would then refuse to read.
pub fn unwritable_names(schema: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for table in &schema.tables {
        if let Some(problem) = identifier_problem(&table.name) {
            problems.push(format!("table: {problem}"));
        }
        for column in &table.columns {
            if let Some(problem) = identifier_problem(&column.name) {
                problems.push(format!("column of `{}`: {problem}", printable(&table.name)));
            }
        }
        for index in &table.indexes {
            if let Some(problem) = identifier_problem(&index.name) {
                problems.push(format!("index on `{}`: {problem}", printable(&table.name)));
            }
        }
        // Constraint names schema.toml writes as `name = "…"`.
        let constraints = table
            .primary_key
            .iter()
            .map(|pk| &pk.name)
            .chain(table.uniques.iter().map(|u| &u.name))
            .chain(table.foreign_keys.iter().map(|fk| &fk.name))
            .chain(table.checks.iter().map(|check| &check.name));
        for name in constraints {
            if let Some(problem) = identifier_problem(name) {
                problems.push(format!(
                    "constraint on `{}`: {problem}",
                    printable(&table.name)
                ));
            }
        }
    }
    for enum_type in &schema.enums {
        if let Some(problem) = identifier_problem(&enum_type.name) {
            problems.push(format!("enum type: {problem}"));
        }
        for value in &enum_type.values {
            if value.chars().any(char::is_control) {
                problems.push(format!(
                    "value `{}` of enum type `{}`: holds a control character",
                    printable(value),
                    printable(&enum_type.name)
                ));
            }
        }
    }
    for domain in &schema.domains {
        if let Some(problem) = identifier_problem(&domain.name) {
            problems.push(format!("domain: {problem}"));
        }
        for check in &domain.checks {
            if let Some(problem) = identifier_problem(&check.name) {
                problems.push(format!(
                    "constraint on domain `{}`: {problem}",
                    printable(&domain.name)
                ));
            }
        }
    }
    for object in &schema.objects {
        if let Some(problem) = identifier_problem(&object.name) {
            problems.push(format!("{}: {problem}", object.kind));
        }
    }
    problems
}

/// A bare key when TOML allows one, a quoted one otherwise.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_string()
    } else {
        string(name)
    }
}

/// A TOML basic string (escapes quotes, backslashes and control characters).
pub(super) fn string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", c as u32);
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// True for what `index = true` on a column declares: a plain btree index on
/// that one column with the conventional name.
fn is_column_index(table: &Table, index: &super::Index) -> bool {
    index.is_plain()
        && index.keys.len() == 1
        && index.name == names::index(&table.name, &index.columns())
}

/// `{ name = "…", columns = ["a", { expr = "lower(b)" }], unique = true, … }`:
/// an entry of a table's `indexes`, with only the options the index has.
fn index_entry(index: &super::Index) -> String {
    use super::IndexTarget;
    let keys: Vec<String> = index
        .keys
        .iter()
        .map(|key| {
            let mut options = match &key.target {
                IndexTarget::Column(column) if key.is_plain() => return string(column),
                IndexTarget::Column(column) => vec![format!("column = {}", string(column))],
                IndexTarget::Expression(sql) => vec![format!("expr = {}", string(sql))],
            };
            if let Some(opclass) = &key.opclass {
                options.push(format!("opclass = {}", string(opclass)));
            }
            if key.descending {
                options.push("order = \"desc\"".into());
            }
            if key.nulls_first != key.descending {
                options.push(format!(
                    "nulls = \"{}\"",
                    if key.nulls_first { "first" } else { "last" }
                ));
            }
            format!("{{ {} }}", options.join(", "))
        })
        .collect();
    let mut options = vec![
        format!("name = {}", string(&index.name)),
        format!("columns = [{}]", keys.join(", ")),
    ];
    if index.unique {
        options.push("unique = true".into());
    }
    if let Some(method) = &index.method {
        options.push(format!("method = {}", string(method)));
    }
    if !index.include.is_empty() {
        options.push(format!("include = {}", list(&index.include)));
    }
    if index.nulls_not_distinct {
        options.push("nulls_not_distinct = true".into());
    }
    if let Some(predicate) = &index.predicate {
        options.push(format!("where = {}", string(predicate)));
    }
    format!("{{ {} }}", options.join(", "))
}

/// True when `fk` is written as `references` on its column: one column, not
/// deferrable, and the first such key of that column (a column's options
/// hold one `references`); every other key goes to the table's `foreign_keys`.
fn on_column(table: &Table, fk: &super::ForeignKey) -> bool {
    let simple = |fk: &super::ForeignKey| fk.columns.len() == 1 && !fk.deferrable;
    simple(fk)
        && table
            .foreign_keys
            .iter()
            .find(|other| simple(other) && other.columns == fk.columns)
            .is_some_and(|first| std::ptr::eq(first, fk))
}

/// `{ columns = ["a", "b"], references = "t(x, y)", … }`: an entry of a
/// table's `foreign_keys`, with only the options the key has.
fn foreign_key_entry(table: &Table, fk: &super::ForeignKey) -> String {
    let plain =
        |name: &str| !name.is_empty() && name.trim() == name && !name.contains(['(', ')', ',']);
    let references =
        if plain(&fk.referenced_table) && fk.referenced_columns.iter().all(|c| plain(c)) {
            string(&format!(
                "{}({})",
                fk.referenced_table,
                fk.referenced_columns.join(", ")
            ))
        } else {
            format!(
                "{{ table = {}, columns = {} }}",
                string(&fk.referenced_table),
                list(&fk.referenced_columns)
            )
        };
    let mut options = Vec::new();
    if fk.name != names::foreign_key(&table.name, &fk.columns) {
        options.push(format!("name = {}", string(&fk.name)));
    }
    options.push(format!("columns = {}", list(&fk.columns)));
    options.push(format!("references = {references}"));
    for (name, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
        if action != ForeignKeyAction::NoAction {
            options.push(format!("{name} = {}", string(&action.sql().to_lowercase())));
        }
    }
    if fk.initially_deferred {
        options.push("initially_deferred = true".into());
    } else if fk.deferrable {
        options.push("deferrable = true".into());
    }
    format!("{{ {} }}", options.join(", "))
}

fn list(names: &[String]) -> String {
    format!(
        "[{}]",
        names
            .iter()
            .map(|n| string(n))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn write_table(text: &mut String, table: &Table) {
    let one = |columns: &[String], column: &Column| columns.len() == 1 && columns[0] == column.name;
    let pk_on_column = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.columns.len() == 1 && pk.name == names::primary_key(&table.name));

    let mut table_options = Vec::new();
    // A list of columns, or `{ name = …, columns = … }` for a name other than
    // the convention's.
    let named_list = |name: &str, conventional: String, columns: &[String]| {
        if name == conventional {
            list(columns)
        } else {
            format!("{{ name = {}, columns = {} }}", string(name), list(columns))
        }
    };
    if let Some(comment) = &table.comment {
        table_options.push(format!("comment = {}", string(comment)));
    }
    if let Some(pk) = &table.primary_key {
        if pk_on_column.is_none() {
            table_options.push(format!(
                "primary_key = {}",
                named_list(&pk.name, names::primary_key(&table.name), &pk.columns)
            ));
        }
    }
    let extra_uniques: Vec<String> = table
        .uniques
        .iter()
        .filter(|u| u.columns.len() > 1 || u.name != names::unique(&table.name, &u.columns))
        .map(|u| named_list(&u.name, names::unique(&table.name, &u.columns), &u.columns))
        .collect();
    if !extra_uniques.is_empty() {
        table_options.push(format!("unique = [{}]", extra_uniques.join(", ")));
    }
    let extra_indexes: Vec<String> = table
        .indexes
        .iter()
        .filter(|i| !is_column_index(table, i))
        .map(index_entry)
        .collect();
    if !extra_indexes.is_empty() {
        table_options.push(format!("indexes = [{}]", extra_indexes.join(", ")));
    }
    // CHECKs: on their column when named after it, on the table otherwise,
    // unnamed there when the name is the one the parser would number.
    let column_check = |check: &super::Check| {
        table
            .columns
            .iter()
            .find(|c| check.name == names::column_check(&table.name, &c.name))
    };
    let table_checks = check_list(
        &table.name,
        table
            .checks
            .iter()
            .filter(|check| column_check(check).is_none()),
    );
    if !table_checks.is_empty() {
        table_options.push(format!("check = [{}]", table_checks.join(", ")));
    }
    let table_foreign_keys: Vec<String> = table
        .foreign_keys
        .iter()
        .filter(|fk| !on_column(table, fk))
        .map(|fk| foreign_key_entry(table, fk))
        .collect();
    if !table_foreign_keys.is_empty() {
        table_options.push(format!(
            "foreign_keys = [{}]",
            table_foreign_keys.join(", ")
        ));
    }
    if !table_options.is_empty() {
        let _ = writeln!(text, "[table.{}]", key(&table.name));
        for option in table_options {
            let _ = writeln!(text, "{option}");
        }
    }

    let _ = writeln!(text, "[table.{}.columns]", key(&table.name));
    for column in &table.columns {
        let mut options = vec![format!("type = {}", type_value(&column.ty))];
        if column.nullable {
            options.push("nullable = true".into());
        }
        if pk_on_column.is_some_and(|pk| pk.columns[0] == column.name) {
            options.push("primary_key = true".into());
        }
        let default_unique = |u: &&super::UniqueConstraint| {
            one(&u.columns, column) && u.name == names::unique(&table.name, &u.columns)
        };
        let default_index = table
            .indexes
            .iter()
            .find(|i| is_column_index(table, i) && one(&i.columns(), column));
        match default_index {
            Some(index) => {
                if index.unique {
                    options.push("unique = true".into());
                }
                options.push("index = true".into());
            }
            None if table.uniques.iter().any(|u| default_unique(&u)) => {
                options.push("unique = true".into())
            }
            None => {}
        }
        if let Some(default) = &column.default {
            options.push(format!("default = {}", default_value(default)));
        }
        options.extend(column_kind(column));
        if let Some(fk) = table
            .foreign_keys
            .iter()
            .find(|fk| one(&fk.columns, column) && on_column(table, fk))
        {
            let target = format!(
                "{}.{}",
                fk.referenced_table,
                fk.referenced_columns.join(",")
            );
            let conventional = fk.name == names::foreign_key(&table.name, &fk.columns);
            if !conventional {
                options.push(format!(
                    "references = {{ table = {}, column = {}, name = {} }}",
                    string(&fk.referenced_table),
                    string(&fk.referenced_columns[0]),
                    string(&fk.name)
                ));
            } else if fk.referenced_table.contains('.') || fk.referenced_columns[0].contains('.') {
                options.push(format!(
                    "references = {{ table = {}, column = {} }}",
                    string(&fk.referenced_table),
                    string(&fk.referenced_columns[0])
                ));
            } else {
                options.push(format!("references = {}", string(&target)));
            }
            for (name, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
                if action != ForeignKeyAction::NoAction {
                    options.push(format!("{name} = {}", string(&action.sql().to_lowercase())));
                }
            }
        }
        if let Some(check) = table
            .checks
            .iter()
            .find(|check| check.name == names::column_check(&table.name, &column.name))
        {
            options.push(format!("check = {}", string(&check.expression)));
        }
        if let Some(comment) = &column.comment {
            options.push(format!("comment = {}", string(comment)));
        }
        // A per-dialect type is a table itself: only `{ type = { … } }` says it.
        if options.len() == 1 && !type_value(&column.ty).starts_with('{') {
            let _ = writeln!(text, "{} = {}", key(&column.name), type_value(&column.ty));
        } else {
            let _ = writeln!(text, "{} = {{ {} }}", key(&column.name), options.join(", "));
        }
    }
}

/// `identity`, `sequence`, `autoincrement` and `generated`, as the parser reads them.
fn column_kind(column: &super::Column) -> Vec<String> {
    use super::Numbering;
    let mut options = Vec::new();
    let mut sequence = Vec::new();
    if let Some(start) = column.sequence.start {
        sequence.push(format!("start = {start}"));
    }
    if let Some(increment) = column.sequence.increment {
        sequence.push(format!("increment = {increment}"));
    }
    match column.numbering {
        Numbering::Identity(kind) if sequence.is_empty() => {
            options.push(format!("identity = {}", string(kind.key())))
        }
        Numbering::Identity(kind) => options.push(format!(
            "identity = {{ always = {}, {} }}",
            kind == super::IdentityKind::Always,
            sequence.join(", ")
        )),
        Numbering::Off => options.push("autoincrement = false".into()),
        Numbering::Auto if !sequence.is_empty() => {
            options.push(format!("sequence = {{ {} }}", sequence.join(", ")))
        }
        Numbering::Auto => {}
    }
    if let Some(generated) = &column.generated {
        options.push(format!(
            "generated = {{ sql = {}{} }}",
            string(&generated.sql),
            if generated.stored {
                ""
            } else {
                ", stored = false"
            }
        ));
    }
    options
}

/// A column's `type` as TOML: the bare name when the parser reads it back as
/// this type (a portable type, an enum, a built-in type of the dialect that
/// is not also a portable name), else `{ dialect = "spelling" }`.
fn type_value(ty: &Type) -> String {
    match ty {
        Type::Native(spellings) => {
            if let [(dialect, spelling)] = spellings.iter().collect::<Vec<_>>()[..] {
                let bare = Type::parse_portable(spelling).is_none()
                    && crate::driver::registry::engine(dialect)
                        .and_then(|engine| engine.builtin_type(spelling))
                        .as_ref()
                        == Some(spelling);
                if bare {
                    return string(spelling);
                }
            }
            let parts: Vec<String> = spellings
                .iter()
                .map(|(dialect, spelling)| format!("{} = {}", key(dialect), string(spelling)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        _ => string(&ty.to_string()),
    }
}

/// `[domain.NAME]` with its type, NOT NULL, default and checks: one check named
/// as PostgreSQL names an unnamed one is `check = "…"`, others a list.
fn write_domain(text: &mut String, domain: &super::DomainType) {
    let _ = writeln!(text, "\n[domain.{}]", key(&domain.name));
    let _ = writeln!(text, "type = {}", type_value(&domain.base));
    if !domain.nullable {
        let _ = writeln!(text, "nullable = false");
    }
    if let Some(default) = &domain.default {
        let _ = writeln!(text, "default = {}", default_value(default));
    }
    match &domain.checks[..] {
        [] => {}
        [only] if only.name == names::table_check(&domain.name, 0) => {
            let _ = writeln!(text, "check = {}", string(&only.expression));
        }
        checks => {
            let listed = check_list(&domain.name, checks.iter());
            let _ = writeln!(text, "check = [{}]", listed.join(", "));
        }
    }
}

/// A table's or domain's CHECKs as `check = [...]` items: `{ sql }` for one with
/// the name PostgreSQL gives the n-th unnamed check of `owner` (so the parser
/// gives it the same name back), `{ name, sql }` otherwise.
fn check_list<'c>(owner: &str, checks: impl Iterator<Item = &'c super::Check>) -> Vec<String> {
    let mut unnamed = 0;
    checks
        .map(|check| {
            if check.name == names::table_check(owner, unnamed) {
                unnamed += 1;
                format!("{{ sql = {} }}", string(&check.expression))
            } else {
                format!(
                    "{{ name = {}, sql = {} }}",
                    string(&check.name),
                    string(&check.expression)
                )
            }
        })
        .collect()
}

fn default_value(default: &DefaultValue) -> String {
    match default {
        DefaultValue::Integer(n) => n.to_string(),
        DefaultValue::Float(n) => format!("{n:?}"),
        DefaultValue::Boolean(flag) => flag.to_string(),
        DefaultValue::Text(text) => string(text),
        DefaultValue::Sql(expression) => format!("{{ sql = {} }}", string(expression)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema_text;
    use std::path::Path;

    #[test]
    fn written_schema_parses_back_to_the_same_model() {
        let text = r#"
[table."naïve user".columns]
id = { type = "bigint", primary_key = true }
"say \"hi\"" = { type = "varchar(20)", unique = true, default = "it's" }
score = { type = "numeric(8,2)", nullable = true, index = true, default = 1.5 }
flag = { type = "boolean", default = true }
at = { type = "timestamp", default = { sql = "CURRENT_TIMESTAMP" } }

[table.link]
primary_key = { name = "pk_link", columns = ["a", "b"] }
unique = [["b", "c"], { name = "uq_c", columns = ["c"] }]
indexes = [{ name = "ix_custom", columns = ["c"], unique = true }]
comment = "links \"users\""
[[table.link.check]]
sql = "b > 0"
[[table.link.check]]
name = "c_short"
sql = "length(c) < 10"
[[table.link.check]]
sql = "b < 100"
[table.link.columns]
a = { type = "bigint", references = { table = "naïve user", column = "id", name = "fk_link_user" }, on_delete = "cascade" }
b = { type = "integer", check = "b <> 7", comment = "the b" }
c = "text"
"#;
        let original = parse_schema_text(Path::new("schema.toml"), text)
            .unwrap()
            .schema;
        let written = write_schema(&original, &["sqlite".to_string()]);
        let reparsed = parse_schema_text(Path::new("pulled.toml"), &written)
            .unwrap_or_else(|problems| panic!("{problems}\n{written}"))
            .schema;
        assert_eq!(reparsed, original, "{written}");
    }

    #[test]
    fn table_foreign_keys_are_written_on_the_table_and_read_back() {
        let text = r#"
[table.w]
primary_key = ["r", "c"]
[table.w.columns]
r = "text"
c = "integer"

[table.s]
[[table.s.foreign_keys]]
columns = ["r", "c"]
references = "w(r, c)"
on_update = "cascade"
[[table.s.foreign_keys]]
name = "s_again"
columns = ["id"]
references = { table = "odd(name)", columns = ["id"] }
deferrable = true
[[table.s.foreign_keys]]
name = "s_later"
columns = ["r", "c"]
references = "w(r, c)"
initially_deferred = true
[table.s.columns]
id = { type = "integer", primary_key = true, references = "odd(name).id" }
r = "text"
c = "integer"

[table."odd(name)".columns]
id = { type = "integer", primary_key = true }
"#;
        let original = parse_schema_text(Path::new("schema.toml"), text)
            .unwrap_or_else(|problems| panic!("{problems}"))
            .schema;
        let written = write_schema(&original, &["postgres".to_string()]);
        assert!(
            written.contains(
                "foreign_keys = [{ columns = [\"r\", \"c\"], references = \"w(r, c)\", on_update = \"cascade\" }, \
                 { name = \"s_again\", columns = [\"id\"], references = { table = \"odd(name)\", columns = [\"id\"] }, deferrable = true }, \
                 { name = \"s_later\", columns = [\"r\", \"c\"], references = \"w(r, c)\", initially_deferred = true }]"
            ),
            "{written}"
        );
        let reparsed = parse_schema_text(Path::new("pulled.toml"), &written)
            .unwrap_or_else(|problems| panic!("{problems}\n{written}"))
            .schema;
        assert_eq!(reparsed, original, "{written}");
    }
}
