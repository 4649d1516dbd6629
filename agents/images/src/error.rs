//! The one error type of the image store: every failure a caller can act on has its own
//! variant (the kubelet maps them to `ErrImagePull`, `InvalidImageName`, …).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },
    #[error("invalid digest {0:?}: only sha256:<64 lowercase hex> is supported")]
    InvalidDigest(String),
    #[error("digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: String,
        expected: u64,
        actual: u64,
    },
    #[error("blob {0} is not in the store")]
    MissingBlob(String),
    #[error("unsupported {what}: {value}")]
    Unsupported { what: &'static str, value: String },
    #[error("image {digest} is for {image_platform}, this node runs {platform}")]
    PlatformMismatch {
        digest: String,
        image_platform: String,
        platform: String,
    },
    #[error("no manifest for platform {platform} in index {digest}")]
    NoMatchingPlatform { platform: String, digest: String },
    #[error("malformed {what}: {reason}")]
    Malformed { what: String, reason: String },
    #[error("layer entry {path:?} escapes the layer directory")]
    PathEscape { path: String },
    #[error("image {0:?} is not present on the node and its pull policy is Never")]
    NeverPull(String),
    #[error("image {0} not found")]
    NotFound(String),
    #[error("registry {registry}: {reason}")]
    Registry { registry: String, reason: String },
    #[error("registry {registry} refused access to {repository} (HTTP {status})")]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
    },
    #[error("invalid registry credentials: {0}")]
    InvalidCredentials(String),
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ImageError {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io { op, path, source }
    }

    pub(crate) fn malformed(what: impl Into<String>, reason: impl std::fmt::Display) -> ImageError {
        ImageError::Malformed {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}
