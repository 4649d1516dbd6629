//! The JSON documents of OCI and Docker schema 2 images: manifests, indexes (manifest
//! lists), image configs; and which manifest of an index runs here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::ImageError;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Manifest types a registry may answer with, for the `Accept` header.
pub const ACCEPTED_MANIFESTS: [&str; 4] = [
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST,
];

/// Manifests and configs are small; a bigger document is refused rather than buffered.
pub const MAX_DOCUMENT_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn digest(&self) -> Result<Digest, ImageError> {
        Digest::parse(&self.digest)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

/// The image config blob (only what the kubelet needs).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ConfigFile {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub config: Option<RunConfig>,
    pub rootfs: RootFs,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// A manifest-ish document, told apart by its shape (media types are optional in OCI).
pub enum Document {
    Manifest(Manifest),
    Index(Index),
}

impl Document {
    pub fn parse(bytes: &[u8], what: &str) -> Result<Document, ImageError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ImageError::malformed(what, e))?;
        if value.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
            return Err(ImageError::Unsupported {
                what: "manifest schema",
                value: "Docker schema 1".to_string(),
            });
        }
        if value.get("manifests").is_some() {
            Ok(Document::Index(
                serde_json::from_value(value).map_err(|e| ImageError::malformed(what, e))?,
            ))
        } else {
            Ok(Document::Manifest(
                serde_json::from_value(value).map_err(|e| ImageError::malformed(what, e))?,
            ))
        }
    }
}

/// The platform this binary runs on, in OCI terms (`linux/amd64`).
pub fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform {
        architecture: architecture.to_string(),
        os: std::env::consts::OS.to_string(),
        variant: (architecture == "arm64").then(|| "v8".to_string()),
    }
}

/// The entry of `index` for `platform`. An exact variant match wins; a missing variant on
/// either side matches too (arm64 images often omit `v8`). Attestation manifests
/// (`unknown/unknown`) never match.
pub fn select_platform<'a>(index: &'a Index, platform: &Platform) -> Option<&'a Descriptor> {
    let candidates = index.manifests.iter().filter(|d| match &d.platform {
        Some(p) => p.os == platform.os && p.architecture == platform.architecture,
        None => false,
    });
    let mut fallback = None;
    for d in candidates {
        let p = d.platform.as_ref().expect("filtered on platform");
        if p.variant == platform.variant {
            return Some(d);
        }
        if p.variant.is_none() || platform.variant.is_none() {
            fallback = fallback.or(Some(d));
        }
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(arch: &str, variant: Option<&str>, digit: char) -> Descriptor {
        Descriptor {
            media_type: OCI_MANIFEST.to_string(),
            digest: format!("sha256:{}", digit.to_string().repeat(64)),
            size: 1,
            platform: Some(Platform {
                architecture: arch.to_string(),
                os: "linux".to_string(),
                variant: variant.map(str::to_string),
            }),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn picks_this_platform_from_an_index() {
        let index = Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: vec![
                entry("arm", Some("v7"), '1'),
                entry("unknown", None, '2'),
                entry("amd64", None, '3'),
                entry("arm64", Some("v8"), '4'),
            ],
        };
        let amd64 = Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
        };
        assert!(select_platform(&index, &amd64)
            .unwrap()
            .digest
            .ends_with('3'));
        let arm64 = Platform {
            architecture: "arm64".into(),
            os: "linux".into(),
            variant: Some("v8".into()),
        };
        assert!(select_platform(&index, &arm64)
            .unwrap()
            .digest
            .ends_with('4'));
        let s390 = Platform {
            architecture: "s390x".into(),
            os: "linux".into(),
            variant: None,
        };
        assert!(select_platform(&index, &s390).is_none());
    }

    #[test]
    fn schema1_is_refused() {
        assert!(matches!(
            Document::parse(br#"{"schemaVersion":1,"name":"x"}"#, "m"),
            Err(ImageError::Unsupported { .. })
        ));
    }
}
