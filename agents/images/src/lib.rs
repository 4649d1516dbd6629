//! rkube's image store: OCI and Docker images, content-addressed under
//! `<kubelet root-dir>/images`, with layers unpacked once for overlayfs.
//!
//! Layout (all names are digests, validated before use):
//! - `blobs/sha256/<hex>`: manifests, configs and layer blobs exactly as distributed;
//! - `layers/sha256/<diff-id hex>/`: each layer unpacked, whiteouts in overlayfs form;
//! - `index.json`: manifest digest → references (replaced atomically, writers locked);
//! - `tmp/`: work in progress, renamed into place when verified.

mod blobs;
pub mod cli;
pub mod digest;
mod error;
mod gc;
mod image;
mod import;
mod index;
mod layered_file;
mod layers;
pub mod oci;
mod policy;
pub mod reference;
mod registry;
mod store;

pub use error::ImageError;
pub use gc::{FilesystemUsage, GcReport};
pub use image::{Image, ImageConfig};
pub use layered_file::read_layered_file;
pub use policy::{EnsuredImage, PullPolicy};
pub use registry::auth::{Credential, RegistryAuth};
pub use store::ImageStore;
