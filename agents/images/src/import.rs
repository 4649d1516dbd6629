//! `ImageStore::import`: images from an archive on disk, no registry needed — an OCI image
//! layout in a tar (`skopeo copy … oci-archive:`, `docker save` since 25) or a classic
//! `docker save` tar (`manifest.json` + layer tars), plain or gzip-compressed.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::Digest;
use crate::oci::{self, Descriptor, Index, Manifest};
use crate::reference::Reference;
use crate::store::ImageStore;
use crate::{Image, ImageError};

/// The small files that describe an archive, kept in memory; everything else is a blob.
const METADATA_FILES: [&str; 4] = ["index.json", "oci-layout", "manifest.json", "repositories"];

/// One entry of a `docker save` `manifest.json`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerSaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// What an archive held: its metadata files, and where each other file went in the store.
#[derive(Default)]
struct Unpacked {
    metadata: HashMap<String, Vec<u8>>,
    blobs: HashMap<PathBuf, Digest>,
    symlinks: HashMap<PathBuf, PathBuf>,
}

impl Unpacked {
    /// The stored blob for a path of the archive (following its symlinks).
    fn blob(&self, path: &str) -> Result<&Digest, ImageError> {
        let mut p = normalize(Path::new(path));
        for _ in 0..8 {
            if let Some(d) = self.blobs.get(&p) {
                return Ok(d);
            }
            match self.symlinks.get(&p) {
                Some(target) => p = target.clone(),
                None => break,
            }
        }
        Err(ImageError::malformed(
            "archive",
            format!("{path} is referenced but not in the archive"),
        ))
    }
}

impl ImageStore {
    /// Loads every image of `archive` (an OCI layout tar or a `docker save` tar) and
    /// returns them, layers unpacked and references recorded.
    pub fn import(&self, archive: &Path) -> Result<Vec<Image>, ImageError> {
        let file = File::open(archive).map_err(ImageError::io("open", archive))?;
        self.import_from(file, &archive.display().to_string())
    }

    /// [`ImageStore::import`] from a stream (`docker save busybox | rkube images import -`);
    /// `name` names it in errors.
    pub fn import_from(&self, archive: impl Read, name: &str) -> Result<Vec<Image>, ImageError> {
        let unpacked = self.read_archive(archive, name)?;
        if let Some(index) = unpacked.metadata.get("index.json") {
            self.import_oci_layout(index)
        } else if let Some(manifest) = unpacked.metadata.get("manifest.json") {
            self.import_docker_save(manifest, &unpacked)
        } else {
            Err(ImageError::malformed(
                name,
                "neither an OCI layout (index.json) nor a docker save archive (manifest.json)",
            ))
        }
    }

    fn read_archive(&self, archive: impl Read, what: &str) -> Result<Unpacked, ImageError> {
        let mut buffered = BufReader::new(archive);
        let gzip = buffered
            .fill_buf()
            .map_err(ImageError::io("read", what))?
            .starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn Read> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        let mut archive = tar::Archive::new(reader);
        let mut out = Unpacked::default();
        for entry in archive
            .entries()
            .map_err(|e| ImageError::malformed(what, e))?
        {
            let mut entry = entry.map_err(|e| ImageError::malformed(what, e))?;
            let name = normalize(&entry.path().map_err(|e| ImageError::malformed(what, e))?);
            let kind = entry.header().entry_type();
            if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name()
                    .map_err(|e| ImageError::malformed(what, e))?
                    .ok_or_else(|| ImageError::malformed(what, "link without a target"))?;
                let target = if kind.is_symlink() {
                    normalize(&name.parent().unwrap_or(Path::new("")).join(target))
                } else {
                    normalize(&target)
                };
                out.symlinks.insert(name, target);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let key = name.to_string_lossy().into_owned();
            if METADATA_FILES.contains(&key.as_str()) {
                let mut bytes = Vec::new();
                (&mut entry)
                    .take(oci::MAX_DOCUMENT_BYTES + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| ImageError::malformed(what, e))?;
                if bytes.len() as u64 > oci::MAX_DOCUMENT_BYTES {
                    return Err(ImageError::malformed(
                        what,
                        format!("{key} is larger than 8 MiB"),
                    ));
                }
                out.metadata.insert(key, bytes);
                continue;
            }
            // `blobs/sha256/<hex>` must hash to its name; other files are named by their hash.
            let expected = key
                .strip_prefix("blobs/sha256/")
                .map(|hex| Digest::parse(&format!("sha256:{hex}")))
                .transpose()?;
            let size = entry.header().size().ok();
            let (digest, _) = self.blobs.write_from(expected.as_ref(), size, &mut entry)?;
            out.blobs.insert(name, digest);
        }
        Ok(out)
    }

    fn import_oci_layout(&self, index_bytes: &[u8]) -> Result<Vec<Image>, ImageError> {
        let index: Index = serde_json::from_slice(index_bytes)
            .map_err(|e| ImageError::malformed("index.json", e))?;
        let mut images = Vec::new();
        for entry in &index.manifests {
            if let Some(p) = &entry.platform {
                if p.os != self.platform.os || p.architecture != self.platform.architecture {
                    continue;
                }
            }
            let manifest = self.resolve_platform(entry.digest()?)?;
            let references = layout_references(entry);
            images.push(self.commit_image(&manifest, &references)?);
        }
        if images.is_empty() {
            return Err(ImageError::NoMatchingPlatform {
                platform: format!("{}/{}", self.platform.os, self.platform.architecture),
                digest: "index.json".to_string(),
            });
        }
        Ok(images)
    }

    /// Classic `docker save` has no manifests: write the Docker schema 2 manifest the
    /// image would have had, so that it gets a manifest digest like any pulled image.
    fn import_docker_save(
        &self,
        manifest_bytes: &[u8],
        archive: &Unpacked,
    ) -> Result<Vec<Image>, ImageError> {
        let entries: Vec<DockerSaveEntry> = serde_json::from_slice(manifest_bytes)
            .map_err(|e| ImageError::malformed("manifest.json", e))?;
        let mut images = Vec::new();
        for entry in entries {
            let config = archive.blob(&entry.config)?;
            let mut layers = Vec::new();
            for layer in &entry.layers {
                let digest = archive.blob(layer)?;
                layers.push(Descriptor {
                    media_type: self.sniff_layer_type(digest)?.to_string(),
                    digest: digest.to_string(),
                    size: self.blobs.size(digest)?,
                    platform: None,
                    annotations: Default::default(),
                });
            }
            let manifest = Manifest {
                schema_version: 2,
                media_type: Some(oci::DOCKER_MANIFEST.to_string()),
                config: Descriptor {
                    media_type: oci::DOCKER_CONFIG.to_string(),
                    digest: config.to_string(),
                    size: self.blobs.size(config)?,
                    platform: None,
                    annotations: Default::default(),
                },
                layers,
            };
            let bytes = serde_json::to_vec(&manifest).expect("manifest serializes");
            let digest = Digest::of(&bytes);
            self.blobs.write_bytes(&digest, &bytes)?;
            let references = entry
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| Reference::parse(t).map(|r| r.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            images.push(self.commit_image(&digest, &references)?);
        }
        Ok(images)
    }

    fn sniff_layer_type(&self, digest: &Digest) -> Result<&'static str, ImageError> {
        let path = self.blobs.path(digest);
        let mut magic = [0u8; 4];
        let n = File::open(&path)
            .and_then(|mut f| f.read(&mut magic))
            .map_err(ImageError::io("read", &path))?;
        Ok(match &magic[..n] {
            [0x1f, 0x8b, ..] => oci::DOCKER_LAYER_GZIP,
            [0x28, 0xb5, 0x2f, 0xfd] => "application/vnd.oci.image.layer.v1.tar+zstd",
            _ => oci::DOCKER_LAYER_TAR,
        })
    }
}

/// The names an OCI layout gives an image: containerd's full name annotation, else
/// `org.opencontainers.image.ref.name` when it is a whole reference (`busybox:1.36`,
/// `localhost/x`); a bare tag like `latest` names nothing by itself.
fn layout_references(entry: &Descriptor) -> Vec<String> {
    let full = entry.annotations.get("io.containerd.image.name");
    let ref_name = entry
        .annotations
        .get("org.opencontainers.image.ref.name")
        .filter(|n| n.contains([':', '/', '@']));
    full.or(ref_name)
        .and_then(|n| Reference::parse(n).ok())
        .map(|r| vec![r.to_string()])
        .unwrap_or_default()
}

/// A path inside the archive with `.` and `..` resolved lexically (never above the root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::Normal(p) => out.push(p),
            std::path::Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}
