//! Data patches: files in `patches/` → validated, parameterised statements →
//! applied once each, in one transaction each, with a history and a record of
//! every row changed.

mod apply;
mod batch;
pub(crate) mod file;
mod memo;
mod new;
pub(crate) mod pins;
pub(crate) mod row;
mod stream;
mod validate;

pub use apply::{
    apply_patches, apply_patches_with, patch_problems, patch_status, PatchEvent, PatchOptions,
    PatchState, PatchStatusLine, Stage,
};
pub use file::{
    load_patch, load_patches, patches_in_memory, Assignment, Operation, OperationKind, PatchBody,
    PatchFile, PatchValue, Pin, ValueKind,
};
pub use memo::SchemaMemo;
pub use new::{new_patch, NewPatch};
pub use pins::{check_pins, failed_validation_note, run_order, stops};
pub use row::{Change, ColumnChange, ColumnValue, Reference, RowChange};
pub use stream::Rows;
pub use validate::{check_sql, validate_patch};
