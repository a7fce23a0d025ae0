//! Schema evolution end to end, on SQLite and PostgreSQL together (a project with
//! both dialects, the PostgreSQL side generated from a replay on the dev server):
//! - a property test: a random schema A, a random schema B made from A by random
//!   edits (tables and columns added, dropped and renamed with `renamed_from`,
//!   widened types, nullability toggled, indexes and foreign keys added and
//!   dropped); after `generate a`, `migrate`, some rows, `generate b
//!   --allow-destructive` and `migrate`, each database reads back exactly as B,
//!   `generate` finds nothing, and every surviving column keeps its values; then
//!   `strata rollback` takes each back to A (exactly A when nothing was dropped)
//!   with A's values in every column that is there again;
//! - the tutorial scenario, step by step, with Spider-Boy on the Preventers.

mod common;

use std::path::Path;

use common::*;
use proptest::prelude::*;
use strata::driver::DatabaseUrl;
use strata::schema::Schema;

/// splitmix64: proptest picks the seed (and reports it when a case fails); the
/// schemas are built from it so a failing case replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn range(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Smallint,
    Integer,
    Bigint,
    Varchar(u32),
    Text,
}

impl Ty {
    fn random(rng: &mut Rng) -> Ty {
        match rng.below(5) {
            0 => Ty::Smallint,
            1 => Ty::Integer,
            2 => Ty::Bigint,
            3 => Ty::Varchar(rng.range(4, 12) as u32),
            _ => Ty::Text,
        }
    }

    fn toml(&self) -> String {
        match self {
            Ty::Smallint => "smallint".into(),
            Ty::Integer => "integer".into(),
            Ty::Bigint => "bigint".into(),
            Ty::Varchar(n) => format!("varchar({n})"),
            Ty::Text => "text".into(),
        }
    }

    fn is_integer(&self) -> bool {
        matches!(self, Ty::Smallint | Ty::Integer | Ty::Bigint)
    }

    /// May reference an `integer` primary key (same family, never `smallint`).
    fn can_reference(&self) -> bool {
        matches!(self, Ty::Integer | Ty::Bigint)
    }

    /// A widening every value fits, or `None` at the top of the family.
    fn widened(&self, rng: &mut Rng) -> Option<Ty> {
        match self {
            Ty::Smallint if rng.chance(50) => Some(Ty::Integer),
            Ty::Smallint => Some(Ty::Bigint),
            Ty::Integer => Some(Ty::Bigint),
            Ty::Varchar(_) if rng.chance(50) => Some(Ty::Text),
            Ty::Varchar(n) => Some(Ty::Varchar(n + rng.range(1, 20) as u32)),
            Ty::Bigint | Ty::Text => None,
        }
    }

    /// A default as written in schema.toml, and as a row reads it back.
    fn default(&self, rng: &mut Rng) -> (String, String) {
        if self.is_integer() {
            let n = rng.range(1, 3).to_string();
            (n.clone(), n)
        } else {
            let text = ["dflt", "none", "zed"][rng.below(3)].to_string();
            (format!("\"{text}\""), text)
        }
    }

    /// A value for a row, as SQL; integers are row ids 1..=3 so any integer column
    /// can later reference a table that was there before.
    fn value(&self, rng: &mut Rng) -> String {
        match self {
            Ty::Smallint | Ty::Integer | Ty::Bigint => rng.range(1, 3).to_string(),
            Ty::Varchar(n) => quoted_word(rng, (*n as usize).min(6)),
            Ty::Text => quoted_word(rng, 8),
        }
    }
}

fn quoted_word(rng: &mut Rng, max: usize) -> String {
    let word: String = (0..rng.range(1, max))
        .map(|_| (b'a' + rng.below(26) as u8) as char)
        .collect();
    format!("'{word}'")
}

#[derive(Clone, Debug)]
struct Col {
    name: String,
    ty: Ty,
    nullable: bool,
    /// (as in schema.toml, as read back)
    default: Option<(String, String)>,
    index: bool,
    references: Option<String>,
    renamed_from: Option<String>,
    /// Its name in A; `None` for a column B adds.
    origin: Option<String>,
    /// The value its NULLs become (made NOT NULL with a default).
    fill: Option<String>,
}

#[derive(Clone, Debug)]
struct Tab {
    name: String,
    renamed_from: Option<String>,
    origin: Option<String>,
    cols: Vec<Col>,
}

/// Fresh names: each kind of name has its own prefix, so none ever meet.
struct Names(usize);

impl Names {
    fn next(&mut self, prefix: &str) -> String {
        self.0 += 1;
        format!("{prefix}{}", self.0)
    }
}

fn random_column(rng: &mut Rng, names: &mut Names, prefix: &str, targets: &[String]) -> Col {
    let ty = Ty::random(rng);
    let references = (ty.can_reference() && !targets.is_empty() && rng.chance(30))
        .then(|| targets[rng.below(targets.len())].clone());
    // Foreign key columns are nullable: rows get their links after every row exists.
    let nullable = references.is_some() || rng.chance(50);
    let default = (references.is_none() && rng.chance(20)).then(|| ty.default(rng));
    let name = names.next(prefix);
    Col {
        origin: Some(name.clone()),
        name,
        ty,
        nullable,
        default,
        index: rng.chance(25),
        references,
        renamed_from: None,
        fill: None,
    }
}

fn schema_a(rng: &mut Rng, names: &mut Names) -> Vec<Tab> {
    let tables: Vec<String> = (0..rng.range(1, 4)).map(|_| names.next("t")).collect();
    tables
        .iter()
        .map(|table| Tab {
            name: table.clone(),
            renamed_from: None,
            origin: Some(table.clone()),
            cols: (0..rng.range(1, 4))
                .map(|_| random_column(rng, names, "c", &tables))
                .collect(),
        })
        .collect()
}

/// B: A with random edits. New columns go last, where `ADD COLUMN` puts them.
fn schema_b(rng: &mut Rng, names: &mut Names, a: &[Tab]) -> Vec<Tab> {
    let mut b: Vec<Tab> = Vec::new();
    // Tables of A: dropped, renamed or kept; `renames` maps A's names to B's.
    let mut renames: Vec<(String, String)> = Vec::new();
    for table in a {
        if rng.chance(15) {
            continue;
        }
        let mut table = table.clone();
        if rng.chance(25) {
            let new = names.next("r");
            table.renamed_from = Some(table.name.clone());
            table.name = new;
        }
        renames.push((table.origin.clone().unwrap(), table.name.clone()));
        b.push(table);
    }
    let surviving: Vec<String> = renames.iter().map(|(_, new)| new.clone()).collect();
    let renamed = |old: &str| {
        renames
            .iter()
            .find(|(from, _)| from == old)
            .map(|(_, to)| to.clone())
    };
    for table in &mut b {
        let mut cols = Vec::new();
        for col in &table.cols {
            if rng.chance(12) {
                continue;
            }
            let mut col = col.clone();
            col.references = col.references.as_deref().and_then(renamed);
            if rng.chance(20) {
                col.renamed_from = Some(col.name.clone());
                col.name = names.next("k");
            }
            if rng.chance(25) {
                if let Some(wider) = col.ty.widened(rng) {
                    col.ty = wider;
                }
            }
            let mut toggled = false;
            if col.references.is_none() && rng.chance(25) {
                toggled = true;
                if col.nullable {
                    let (written, read) = col.ty.default(rng);
                    col.default = Some((written, read.clone()));
                    col.fill = Some(read);
                    col.nullable = false;
                } else {
                    col.nullable = true;
                }
            }
            if rng.chance(20) {
                col.index = !col.index;
            }
            if col.references.is_some() && rng.chance(25) {
                col.references = None;
            } else if col.references.is_none()
                && !toggled
                && col.ty.can_reference()
                && col.default.is_none()
                && rng.chance(20)
            {
                // Only tables of A: they have rows 1..=3, every integer value's target.
                col.references = Some(surviving[rng.below(surviving.len())].clone());
            }
            cols.push(col);
        }
        if rng.chance(30) {
            let mut col = random_column(rng, names, "a", &surviving);
            col.origin = None;
            if col.default.is_none() {
                col.nullable = true;
            }
            cols.push(col);
        }
        table.cols = cols;
    }
    for _ in 0..rng.range(0, 2) {
        // schema.toml must declare a table: B never drops them all.
        if rng.chance(50) && !b.is_empty() {
            continue;
        }
        let name = names.next("n");
        let mut targets: Vec<String> = b.iter().map(|table| table.name.clone()).collect();
        targets.push(name.clone());
        let cols = (0..rng.range(1, 3))
            .map(|_| {
                let mut col = random_column(rng, names, "a", &targets);
                col.origin = None;
                col
            })
            .collect();
        b.push(Tab {
            name,
            renamed_from: None,
            origin: None,
            cols,
        });
    }
    if b.is_empty() {
        let name = names.next("n");
        b.push(Tab {
            name,
            renamed_from: None,
            origin: None,
            cols: Vec::new(),
        });
    }
    b
}

fn to_toml(tables: &[Tab]) -> String {
    let mut text = String::from("[project]\ndialects = [\"sqlite\", \"postgres\"]\n");
    for table in tables {
        if let Some(from) = &table.renamed_from {
            text.push_str(&format!(
                "\n[table.{}]\nrenamed_from = \"{from}\"\n",
                table.name
            ));
        }
        text.push_str(&format!(
            "\n[table.{}.columns]\nid = {{ type = \"integer\", primary_key = true }}\n",
            table.name
        ));
        for col in &table.cols {
            let mut options = vec![format!("type = \"{}\"", col.ty.toml())];
            if col.nullable {
                options.push("nullable = true".into());
            }
            if let Some((written, _)) = &col.default {
                options.push(format!("default = {written}"));
            }
            if col.index {
                options.push("index = true".into());
            }
            if let Some(target) = &col.references {
                options.push(format!("references = \"{target}.id\""));
            }
            if let Some(from) = &col.renamed_from {
                options.push(format!("renamed_from = \"{from}\""));
            }
            text.push_str(&format!("{} = {{ {} }}\n", col.name, options.join(", ")));
        }
    }
    text
}

/// Three rows per table (ids 1..=3), then the links, so cycles need no ordering.
fn rows_sql(rng: &mut Rng, tables: &[Tab]) -> String {
    let mut inserts = String::new();
    let mut links = String::new();
    for table in tables {
        for id in 1..=3 {
            let mut columns = vec!["id".to_string()];
            let mut values = vec![id.to_string()];
            for col in &table.cols {
                let value = if col.nullable && rng.chance(30) {
                    None
                } else {
                    Some(col.ty.value(rng))
                };
                match (&col.references, value) {
                    (Some(_), Some(value)) => links.push_str(&format!(
                        "UPDATE {} SET {} = {value} WHERE id = {id};\n",
                        table.name, col.name
                    )),
                    (_, value) => {
                        columns.push(col.name.clone());
                        values.push(value.unwrap_or_else(|| "NULL".into()));
                    }
                }
            }
            inserts.push_str(&format!(
                "INSERT INTO {} ({}) VALUES ({});\n",
                table.name,
                columns.join(", "),
                values.join(", ")
            ));
        }
    }
    inserts + &links
}

/// Each table's rows, `id|a|b` in id order, NULL as `null`.
fn select(backend: &Backend, table: &str, columns: &[String]) -> Vec<String> {
    let mut list = vec!["id".to_string()];
    list.extend(columns.iter().cloned());
    backend.rows(&format!(
        "SELECT {} FROM {table} ORDER BY id",
        list.join(", ")
    ))
}

/// Tables, and each table's indexes and foreign keys, in name order: a SQLite
/// rebuild moves a table to the end and re-creates its indexes after the others.
fn in_name_order(mut schema: Schema) -> Schema {
    schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
    for table in &mut schema.tables {
        table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

/// The schema with each table's columns in name order too.
fn columns_in_name_order(mut schema: Schema) -> Schema {
    for table in &mut schema.tables {
        table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

/// The schema as declared, without its hints.
fn declared(text: &str) -> Schema {
    let mut schema = strata::schema::parse_schema_text(Path::new("schema.toml"), text)
        .unwrap_or_else(|_| panic!("the generated schema parses:\n{text}"))
        .schema;
    for table in &mut schema.tables {
        table.renamed_from = None;
        for column in &mut table.columns {
            column.renamed_from = None;
        }
    }
    in_name_order(schema)
}

fn inspected(backend: &Backend, project: &Path) -> Schema {
    let url = DatabaseUrl::parse(&backend.url(), project).unwrap();
    let schema = strata::driver::connect(&url, Default::default())
        .unwrap()
        .inspect()
        .unwrap();
    in_name_order(schema)
}

/// One case: A, rows, B, on both engines; every assertion says which seed.
fn evolve_a_to_b(seed: u64) {
    let mut rng = Rng(seed);
    let mut names = Names(0);
    let a = schema_a(&mut rng, &mut names);
    let b = schema_b(&mut rng, &mut names, &a);
    let (a_text, b_text) = (to_toml(&a), to_toml(&b));
    let context = format!("seed {seed}\n--- A ---\n{a_text}\n--- B ---\n{b_text}");

    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let server = pg_server_url();
    let backends = [
        Backend::new(Kind::Sqlite, project),
        Backend::new(Kind::Postgres, project),
    ];
    std::fs::write(project.join("schema.toml"), &a_text).unwrap();
    strata_ok(project, &["generate", "a", "--dev-url", &server]);
    let rows = rows_sql(&mut rng, &a);
    let mut before = Vec::new();
    for backend in &backends {
        backend.strata_ok(project, &["migrate"]);
        backend.execute(&rows);
        before.push(
            a.iter()
                .map(|table| {
                    let columns: Vec<String> = table.cols.iter().map(|c| c.name.clone()).collect();
                    select(backend, &table.name, &columns)
                })
                .collect::<Vec<_>>(),
        );
    }

    std::fs::write(project.join("schema.toml"), &b_text).unwrap();
    let run = strata(
        project,
        &["generate", "b", "--allow-destructive", "--dev-url", &server],
    );
    assert_eq!(run.code, 0, "{context}\n{}\n{}", run.stdout, run.stderr);
    keep_generated(project);
    let migration = |dialect: &str| {
        std::fs::read_to_string(project.join(format!("migrations/{dialect}/V2__b.sql")))
            .unwrap_or_default()
    };
    let context = format!(
        "{context}\n--- sqlite V2 ---\n{}\n--- postgres V2 ---\n{}",
        migration("sqlite"),
        migration("postgres")
    );
    let expected = declared(&b_text);
    for (backend, before) in backends.iter().zip(&before) {
        let run = backend.strata(project, &["migrate"]);
        assert_eq!(
            run.code,
            0,
            "{} {context}\n{}\n{}",
            backend.url(),
            run.stdout,
            run.stderr
        );
        assert_eq!(
            inspected(backend, project),
            expected,
            "{} reads back as B, {context}",
            backend.url()
        );
        let check = backend.strata(project, &["check", "--dev-url", &server]);
        assert_eq!(
            check.code,
            0,
            "{} {context}\n{}\n{}",
            backend.url(),
            check.stdout,
            check.stderr
        );
        // Every column that survived keeps its values (NULLs filled as declared).
        for table in &b {
            let Some(origin) = &table.origin else {
                continue;
            };
            let position = a.iter().position(|t| &t.name == origin).unwrap();
            let old_columns: Vec<&str> = a[position].cols.iter().map(|c| c.name.as_str()).collect();
            let kept: Vec<&Col> = table.cols.iter().filter(|c| c.origin.is_some()).collect();
            let want: Vec<String> = before[position]
                .iter()
                .map(|row| {
                    let values: Vec<&str> = row.split('|').collect();
                    let mut out = vec![values[0].to_string()];
                    for col in &kept {
                        let at = old_columns
                            .iter()
                            .position(|c| Some(*c) == col.origin.as_deref())
                            .unwrap();
                        let value = values[at + 1];
                        out.push(match (&col.fill, value) {
                            (Some(fill), "null") => fill.clone(),
                            _ => value.to_string(),
                        });
                    }
                    out.join("|")
                })
                .collect();
            let columns: Vec<String> = kept.iter().map(|c| c.name.clone()).collect();
            assert_eq!(
                select(backend, &table.name, &columns),
                want,
                "{} rows of {}, {context}",
                backend.url(),
                table.name
            );
        }
    }
    let again = strata_ok(project, &["generate", "c", "--dev-url", &server]);
    assert!(
        again.stdout.contains("schema and migrations agree"),
        "{context}\n{}",
        again.stdout
    );
    for (backend, before) in backends.iter().zip(&before) {
        roll_back_to_a(backend, project, &a, &b, before, &a_text, &context);
    }
}

/// `strata rollback` from B to A on one database. When the down file can undo
/// every step, the database reads back exactly as A, every column of A keeps the
/// values it had (NULLs B filled stay filled: which rows were NULL is not
/// recorded), and `migrate` brings B back. When it cannot (B dropped something,
/// or a SQLite rebuild lost what a rebuild back would need), rollback refuses
/// without `--allow-destructive`, changing nothing; with it, the history is at V1
/// and every column of A that is there again holds its old values.
fn roll_back_to_a(
    backend: &Backend,
    project: &Path,
    a: &[Tab],
    b: &[Tab],
    before: &[Vec<String>],
    a_text: &str,
    context: &str,
) {
    let dialect = match backend {
        Backend::Sqlite(_) => "sqlite",
        Backend::Postgres(_) => "postgres",
    };
    let migrations = project.join("migrations").join(dialect);
    if !migrations.join("V2__b.sql").exists() {
        // B is A: generate wrote nothing, there is nothing to roll back.
        return;
    }
    // B's migrations: V2, and V3 (`_online`) when generate split the plan.
    let mut downs = String::new();
    let mut irreversible = false;
    for name in ["V2__b.down.sql", "V3__b_online.down.sql"] {
        let Ok(down) = std::fs::read_to_string(migrations.join(name)) else {
            continue;
        };
        irreversible |= down.starts_with("-- strata: irreversible");
        downs.push_str(&format!("--- {dialect} {name} ---\n{down}"));
    }
    assert!(
        !downs.is_empty(),
        "{dialect}: no down file for B, {context}"
    );
    let context = format!("{} {context}\n{downs}", backend.url());
    let history = || backend.rows("SELECT version FROM refinery_schema_history ORDER BY version");
    let applied = history();
    let b_schema = inspected(backend, project);
    let mut args = vec!["rollback", "--to", "1"];
    if irreversible {
        let refused = backend.strata(project, &args);
        assert_eq!(
            refused.code, 5,
            "{context}\n{}\n{}",
            refused.stdout, refused.stderr
        );
        assert!(
            refused
                .stderr
                .contains("run again with --allow-destructive"),
            "{context}\n{}",
            refused.stderr
        );
        assert_eq!(inspected(backend, project), b_schema, "{context}");
        assert_eq!(history(), applied, "{context}");
        args.push("--allow-destructive");
    }
    let run = backend.strata(project, &args);
    assert_eq!(run.code, 0, "{context}\n{}\n{}", run.stdout, run.stderr);
    assert_eq!(history(), ["1"], "{context}");
    let schema = inspected(backend, project);
    if irreversible {
        // A dropped column comes back at the end of its table (PostgreSQL's
        // ADD COLUMN), empty; everything else is A's.
        assert_eq!(
            columns_in_name_order(schema.clone()),
            columns_in_name_order(declared(a_text)),
            "reads back as A (but for column order) after rollback, {context}"
        );
    } else {
        assert_eq!(
            schema,
            declared(a_text),
            "reads back as A after rollback, {context}"
        );
    }
    // What B dropped comes back empty: a table without rows, a column without
    // its values, and a link to a row that is gone is NULL.
    let dropped_table = |name: &str| !b.iter().any(|t| t.origin.as_deref() == Some(name));
    let survived = |table: &Tab, col: &Col| {
        let Some(now) = b.iter().find(|t| t.origin.as_ref() == Some(&table.name)) else {
            return false;
        };
        now.cols
            .iter()
            .any(|c| c.origin.as_ref() == Some(&col.name))
            && !col.references.as_deref().is_some_and(dropped_table)
    };
    for (table, rows) in a.iter().zip(before) {
        let now = schema.tables.iter().find(|t| t.name == table.name).unwrap();
        if dropped_table(&table.name) {
            assert_eq!(
                select(backend, &table.name, &[]),
                Vec::<String>::new(),
                "{} comes back empty, {context}",
                table.name
            );
            continue;
        }
        // The A column each B column came from, and the value B filled its NULLs with.
        let fill = |name: &str| {
            b.iter()
                .filter(|t| t.origin.as_deref() == Some(&table.name))
                .flat_map(|t| &t.cols)
                .find(|c| c.origin.as_deref() == Some(name))
                .and_then(|c| c.fill.clone())
        };
        let (columns, positions): (Vec<String>, Vec<usize>) = table
            .cols
            .iter()
            .enumerate()
            .filter(|(_, col)| now.column(&col.name).is_some() && survived(table, col))
            .map(|(at, col)| (col.name.clone(), at))
            .unzip();
        assert!(
            irreversible || columns.len() == table.cols.len(),
            "{}: columns are missing after rollback, {context}",
            table.name
        );
        let want: Vec<String> = rows
            .iter()
            .map(|row| {
                let values: Vec<&str> = row.split('|').collect();
                let mut out = vec![values[0].to_string()];
                for &at in &positions {
                    let value = values[at + 1];
                    out.push(match (fill(&table.cols[at].name), value) {
                        (Some(fill), "null") => fill,
                        _ => value.to_string(),
                    });
                }
                out.join("|")
            })
            .collect();
        assert_eq!(
            select(backend, &table.name, &columns),
            want,
            "rows of {} after rollback, {context}",
            table.name
        );
    }
    if !irreversible {
        // Forward again: the same B.
        let run = backend.strata(project, &["migrate"]);
        assert_eq!(run.code, 0, "{context}\n{}\n{}", run.stdout, run.stderr);
        assert_eq!(history(), applied, "{context}");
    }
}

proptest! {
    // Each case runs both engines (a PostgreSQL database of its own), forward to
    // B and back to A: 10 cases take about a minute on a loaded 2-core machine;
    // PROPTEST_CASES=200 explores further.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(10),
        failure_persistence: None,
        max_shrink_iters: 0,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_random_schema_evolves_into_another_keeping_its_data(seed in any::<u64>()) {
        evolve_a_to_b(seed);
    }
}

/// Found by the property test: dropping a column of a self-referencing SQLite
/// table; the down file's rebuild back ran with foreign keys on, and dropping
/// the old table broke the copy's references to it (FOREIGN KEY constraint failed).
#[test]
fn a_dropped_column_of_a_self_referencing_table_rolls_back() {
    evolve_a_to_b(4698920434131714666);
}

/// Found by the property test (in CI): a migration drops the table a nullable
/// foreign key column points to and makes that column NOT NULL; on SQLite the
/// down file nulled the links to the lost rows before the rebuild back made the
/// column nullable again (NOT NULL constraint failed).
#[test]
fn links_to_a_dropped_table_are_nulled_after_the_column_is_nullable_again() {
    evolve_a_to_b(6660247305977614821);
}

/// Found by the property test: the diff lists a column's change before a later
/// column's rename, and the SQLite rebuild (which copies by the new names) ran
/// before that rename: `no such column: "alias"`.
#[test]
fn a_sqlite_rebuild_runs_after_the_renames_of_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let base = "[project]\ndialects = [\"sqlite\"]\ndatabase = \"sqlite:database.db\"\n\n\
                [table.hero.columns]\nid = { type = \"integer\", primary_key = true }\n\
                name = \"text\"\nsecret_name = \"text\"\n";
    std::fs::write(project.join("schema.toml"), base).unwrap();
    strata_ok(project, &["generate", "a"]);
    strata_ok(project, &["migrate"]);
    let db = project.join("database.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("INSERT INTO hero VALUES (1, 'Spider-Boy', 'Pedro Parqueador');")
        .unwrap();
    let schema = base
        .replace(
            "\nname = \"text\"",
            "\nname = { type = \"text\", nullable = true }",
        )
        .replace(
            "secret_name = \"text\"",
            "alias = { type = \"text\", renamed_from = \"secret_name\" }",
        );
    std::fs::write(project.join("schema.toml"), schema).unwrap();
    strata_ok(project, &["generate", "b"]);
    strata_ok(project, &["migrate"]);
    assert_eq!(
        sqlite_strings(&db, "SELECT id, name, alias FROM hero"),
        ["1|Spider-Boy|Pedro Parqueador"]
    );
    let again = strata_ok(project, &["generate", "c"]);
    assert!(
        again.stdout.contains("schema and migrations agree"),
        "{}",
        again.stdout
    );
}

/// The example project on both engines, with the tutorial's patches applied.
struct Tutorial {
    dir: tempfile::TempDir,
    backends: [Backend; 2],
    server: String,
    schema: String,
    version: u32,
}

/// What the tutorial generated is kept for ci/check-squawk (see `keep_generated`).
impl Drop for Tutorial {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            keep_generated(self.dir.path());
        }
    }
}

impl Tutorial {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_example_project(dir.path());
        let backends = [
            Backend::new(Kind::Sqlite, dir.path()),
            Backend::new(Kind::Postgres, dir.path()),
        ];
        for backend in &backends {
            backend.strata_ok(dir.path(), &["migrate"]);
            backend.strata_ok(dir.path(), &["patch"]);
        }
        let schema = std::fs::read_to_string(dir.path().join("schema.toml")).unwrap();
        Tutorial {
            dir,
            backends,
            server: pg_server_url(),
            schema,
            version: 1,
        }
    }

    /// Edits schema.toml, generates the next migration for both dialects (the
    /// PostgreSQL one from a replay on the dev server), migrates both databases,
    /// and checks nothing is left to generate and neither database drifted.
    fn step(&mut self, name: &str, edits: &[(&str, &str)], flags: &[&str]) {
        for (from, to) in edits {
            assert!(
                self.schema.contains(from),
                "{from} is not in\n{}",
                self.schema
            );
            self.schema = self.schema.replacen(from, to, 1);
        }
        let project = self.dir.path();
        std::fs::write(project.join("schema.toml"), &self.schema).unwrap();
        let mut args = vec!["generate", name, "--dev-url", &self.server];
        args.extend_from_slice(flags);
        strata_ok(project, &args);
        self.version += 1;
        for backend in &self.backends {
            backend.strata_ok(project, &["migrate"]);
            let check = backend.strata(project, &["check", "--dev-url", &self.server]);
            assert_eq!(
                check.code,
                0,
                "after {name} on {}:\n{}\n{}",
                backend.url(),
                check.stdout,
                check.stderr
            );
        }
        let again = strata_ok(project, &["generate", "again", "--dev-url", &self.server]);
        assert!(
            again.stdout.contains("schema and migrations agree"),
            "after {name}: {}",
            again.stdout
        );
    }

    /// The same rows on both engines.
    fn rows(&self, sql: &str) -> Vec<String> {
        let sqlite = self.backends[0].rows(sql);
        assert_eq!(
            self.backends[1].rows(sql),
            sqlite,
            "PostgreSQL and SQLite differ on {sql}"
        );
        sqlite
    }
}

const HEROES: &str = "SELECT h.name, h.{alias}, h.age, t.name, t.headquarters \
                      FROM hero h LEFT JOIN team t ON t.id = h.team_id ORDER BY h.name";

#[test]
fn the_tutorial_evolves_step_by_step_and_spider_boy_stays_on_the_preventers() {
    let mut tutorial = Tutorial::new();
    let heroes = |alias: &str| HEROES.replace("{alias}", alias);
    let before = [
        "Deadpond|Dive Wilson|null|Z-Force|Sister Margaret's Bar",
        "Rusty-Man|Tommy Sharp|48|Preventers|Sharp Tower",
        "Spider-Boy|Pedro Parqueador|null|Preventers|Sharp Tower",
    ];
    assert_eq!(tutorial.rows(&heroes("secret_name")), before);

    tutorial.step(
        "rename_secret_name",
        &[(
            "secret_name = \"text\"",
            "alias       = { type = \"text\", renamed_from = \"secret_name\" }",
        )],
        &[],
    );
    assert_eq!(tutorial.rows(&heroes("alias")), before);

    tutorial.step(
        "widen_age",
        &[(
            "age         = { type = \"integer\"",
            "age         = { type = \"bigint\"",
        )],
        &[],
    );
    assert_eq!(tutorial.rows(&heroes("alias")), before);
    tutorial.backends[0].execute("UPDATE hero SET age = 5000000000 WHERE name = 'Rusty-Man'");
    tutorial.backends[1].execute("UPDATE hero SET age = 5000000000 WHERE name = 'Rusty-Man'");
    assert_eq!(
        tutorial.rows("SELECT age FROM hero WHERE name = 'Rusty-Man'"),
        ["5000000000"]
    );

    tutorial.step(
        "headquarters_optional",
        &[(
            "headquarters = \"text\"",
            "headquarters = { type = \"text\", nullable = true }",
        )],
        &[],
    );
    for backend in &tutorial.backends {
        backend.execute("INSERT INTO team (name) VALUES ('Nomads')");
    }
    assert_eq!(
        tutorial.rows("SELECT name, headquarters FROM team ORDER BY id"),
        [
            "Preventers|Sharp Tower",
            "Z-Force|Sister Margaret's Bar",
            "Nomads|null"
        ]
    );

    // A column added, then dropped: refused without the flag, with what it loses.
    tutorial.step(
        "add_power",
        &[(
            "team_id     = { type = \"integer\"",
            "power       = { type = \"text\", nullable = true }\nteam_id     = { type = \"integer\"",
        )],
        &[],
    );
    for backend in &tutorial.backends {
        backend.execute("UPDATE hero SET power = 'webs' WHERE name = 'Spider-Boy'");
    }
    let project = tutorial.dir.path().to_path_buf();
    let project = project.as_path();
    std::fs::write(
        project.join("schema.toml"),
        tutorial
            .schema
            .replace("power       = { type = \"text\", nullable = true }\n", ""),
    )
    .unwrap();
    let refused = strata(
        project,
        &["generate", "drop_power", "--dev-url", &tutorial.server],
    );
    assert_eq!(refused.code, 5, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains(
            "error: these changes can lose data, so nothing was written:\n  drops column hero.power and its data\n"
        ),
        "{}",
        refused.stderr
    );
    tutorial.step(
        "drop_power",
        &[("power       = { type = \"text\", nullable = true }\n", "")],
        &["--allow-destructive"],
    );
    assert_eq!(tutorial.rows(&heroes("alias")).len(), 3);

    // A new table and a foreign key to it.
    tutorial.step(
        "powers",
        &[
            (
                "team_id     = { type = \"integer\"",
                "power_id    = { type = \"integer\", nullable = true, references = \"power.id\" }\nteam_id     = { type = \"integer\"",
            ),
            (
                "[table.hero.columns]",
                "[table.power.columns]\nid   = { type = \"integer\", primary_key = true }\nname = \"text\"\n\n[table.hero.columns]",
            ),
        ],
        &[],
    );
    for backend in &tutorial.backends {
        backend.execute(
            "INSERT INTO power (name) VALUES ('webs'); \
             UPDATE hero SET power_id = 1 WHERE name = 'Spider-Boy';",
        );
    }
    assert_eq!(
        tutorial.rows(
            "SELECT h.name, h.alias, t.name, p.name FROM hero h \
             JOIN team t ON t.id = h.team_id JOIN power p ON p.id = h.power_id"
        ),
        ["Spider-Boy|Pedro Parqueador|Preventers|webs"]
    );
    assert_eq!(
        tutorial.rows(&heroes("alias")),
        [
            "Deadpond|Dive Wilson|null|Z-Force|Sister Margaret's Bar",
            "Rusty-Man|Tommy Sharp|5000000000|Preventers|Sharp Tower",
            "Spider-Boy|Pedro Parqueador|null|Preventers|Sharp Tower",
        ]
    );
    // The new foreign key enforces on both engines.
    let sqlite = rusqlite::Connection::open(project.join("database.db")).unwrap();
    sqlite.pragma_update(None, "foreign_keys", true).unwrap();
    let error = sqlite
        .execute("UPDATE hero SET power_id = 42 WHERE name = 'Deadpond'", [])
        .unwrap_err();
    assert!(
        error.to_string().contains("FOREIGN KEY constraint failed"),
        "{error}"
    );
    let Backend::Postgres(pg) = &tutorial.backends[1] else {
        unreachable!()
    };
    let error = pg
        .client()
        .batch_execute("UPDATE hero SET power_id = 42 WHERE name = 'Deadpond'")
        .unwrap_err();
    assert!(
        format!("{error:?}").contains("hero_power_id_fkey"),
        "{error:?}"
    );
    sqlmodel_reads(&tutorial);
}

/// With STRATA_SQLMODEL_PYTHON (a Python with SQLModel; ci/check-sqlmodel-evolved
/// sets it), the application's evolved models read both databases and write to them.
fn sqlmodel_reads(tutorial: &Tutorial) {
    let Ok(python) = std::env::var("STRATA_SQLMODEL_PYTHON") else {
        return;
    };
    let urls = [
        format!(
            "sqlite:///{}",
            tutorial.dir.path().join("database.db").display()
        ),
        // SQLAlchemy knows the scheme as postgresql://.
        tutorial.backends[1]
            .url()
            .replacen("postgres://", "postgresql://", 1),
    ];
    for url in urls {
        let output = std::process::Command::new(&python)
            .arg(repo_root().join("ci/sqlmodel_read_evolved.py"))
            .arg(&url)
            .output()
            .expect("the SQLModel Python runs");
        assert!(
            output.status.success(),
            "{url}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
