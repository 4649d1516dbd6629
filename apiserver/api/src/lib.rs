//! Kubernetes API logic with no I/O: the served resources, upstream-shaped errors,
//! selectors, validation, defaulting and server-side printing.

pub mod conversion;
pub mod crd;
pub mod defaults;
pub mod object_meta;
pub mod quota;
pub mod resources;
pub mod selector;
pub mod status;
pub mod table;
pub mod validation;

pub use object_meta::OBJECT_META_FIELDS;
pub use resources::{GroupVersion, Resource, Subresource, RESOURCES};
pub use status::{ApiError, Cause, Qualified};
