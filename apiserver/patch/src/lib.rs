//! Patch logic of the apiserver with no I/O: JSON patch (RFC 6902), JSON merge
//! patch (RFC 7386), strategic merge patch and server-side apply with
//! managedFields, all pure functions over `serde_json::Value`.

pub mod apply;
mod error;
pub mod go_format;
mod json_patch;
mod merge_patch;
pub mod schema;
mod strategic;

pub use apply::{apply, apply_to, track_update, track_update_in_place, ApplyError, Conflict};
pub use error::PatchError;
pub use json_patch::{json_patch, MAX_JSON_PATCH_OPERATIONS};
pub use merge_patch::merge_patch;
pub use strategic::strategic_merge_patch;
