//! What the store tells its callers about an image.

use crate::oci::ConfigFile;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Normalized references naming it (`docker.io/library/busybox:1.36`); may be empty.
    pub references: Vec<String>,
    /// The manifest digest: the image's identity, reported as the container's imageID.
    pub digest: String,
    /// The config blob's digest (what `docker images` calls IMAGE ID).
    pub config_digest: String,
    pub config: ImageConfig,
    /// Bytes of content: config plus (compressed) layers, as a registry counts them.
    pub size: u64,
    /// Milliseconds since the epoch when the store last recorded a use of it (pull,
    /// import, [`crate::ImageStore::mark_used`]).
    pub last_used_ms: u64,
}

/// The parts of the image config that decide how a container runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

impl From<&ConfigFile> for ImageConfig {
    fn from(file: &ConfigFile) -> ImageConfig {
        let run = file.config.clone().unwrap_or_default();
        ImageConfig {
            entrypoint: run.entrypoint.unwrap_or_default(),
            cmd: run.cmd.unwrap_or_default(),
            env: run.env.unwrap_or_default(),
            working_dir: run.working_dir.unwrap_or_default(),
            user: run.user.unwrap_or_default(),
        }
    }
}
