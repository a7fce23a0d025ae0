//! The declared model of a database and the changes between two models.
//! Nothing here knows about any database engine.

mod change;
mod domains;
mod model;
mod objects;
mod parse;
mod types;
pub mod unmanaged;
mod write;
mod write_objects;

pub use change::{Change, Destruction};
pub use domains::{replace_value, DomainType};
pub use model::{check_expression_key, Check, Generated, IdentityKind, Numbering, SequenceOptions};
pub use model::{
    names, Column, DefaultValue, ForeignKey, ForeignKeyAction, Index, IndexKey, IndexTarget,
    PrimaryKey, Schema, Table, UniqueConstraint,
};
pub use objects::{fingerprint, normalize, ObjectKind, SqlObject};
pub use parse::{parse_schema_file, parse_schema_text, ProjectConfig, SchemaFile};
pub use types::{type_spelling_problem, EnumType, Type, TypeChange};
pub use unmanaged::Unmanaged;
pub use write::{unwritable_names, write_schema, write_tables};
