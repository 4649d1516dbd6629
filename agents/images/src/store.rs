//! `ImageStore`: the images of one node, under `<root-dir>/images`.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::blobs::BlobStore;
use crate::digest::Digest;
use crate::index::{ImageRecord, RefIndex};
use crate::layers::unpack_layer;
use crate::oci::{self, ConfigFile, Document, Manifest, Platform};
use crate::reference::Reference;
use crate::{Image, ImageConfig, ImageError};

#[derive(Clone)]
pub struct ImageStore {
    dir: PathBuf,
    tmp: PathBuf,
    pub(crate) blobs: BlobStore,
    pub(crate) index: RefIndex,
    pub(crate) platform: Platform,
    /// One pull at a time per reference in this process: pods starting together on one
    /// image share its download.
    pub(crate) pulls: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl ImageStore {
    /// Opens (creating if needed) the store under `<root>/images`; `root` is the kubelet's
    /// `--root-dir`.
    pub fn open(root: &Path) -> Result<ImageStore, ImageError> {
        let dir = root.join("images");
        let tmp = dir.join("tmp");
        let layers = dir.join("layers").join("sha256");
        for d in [&tmp, &layers] {
            fs::create_dir_all(d).map_err(ImageError::io("create", d))?;
        }
        Ok(ImageStore {
            blobs: BlobStore::open(dir.join("blobs"), tmp.clone())?,
            index: RefIndex::new(&dir),
            tmp,
            dir,
            platform: oci::host_platform(),
            pulls: Arc::default(),
        })
    }

    /// The directory holding the store (`<root>/images`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The image a reference names, if it is here: a tag (`busybox`, normalized like
    /// Docker), `name@sha256:…` (the digest it was pulled by, or its manifest digest) or
    /// a bare manifest digest `sha256:…`.
    pub fn lookup(&self, reference: &str) -> Result<Option<Image>, ImageError> {
        let index = self.index.read()?;
        let digest = if reference.starts_with("sha256:") {
            Digest::parse(reference)?.to_string()
        } else {
            let parsed = Reference::parse(reference)?;
            match index.resolve(&parsed.to_string()) {
                Some(d) => d.to_string(),
                None => match &parsed.digest {
                    Some(d) => d.to_string(),
                    None => return Ok(None),
                },
            }
        };
        match index.images.get(&digest) {
            Some(record) => self.load(&digest, record).map(Some),
            None => Ok(None),
        }
    }

    /// Every image, newest first.
    pub fn list(&self) -> Result<Vec<Image>, ImageError> {
        let index = self.index.read()?;
        let mut images = index
            .images
            .iter()
            .map(|(digest, record)| self.load(digest, record))
            .collect::<Result<Vec<_>, _>>()?;
        images.sort_by(|a, b| {
            b.last_used_ms
                .cmp(&a.last_used_ms)
                .then(a.digest.cmp(&b.digest))
        });
        Ok(images)
    }

    /// The image's unpacked layers, bottom first (overlayfs wants them reversed as
    /// `lowerdir`). A layer missing on disk is unpacked again from its blob.
    pub fn layer_dirs(&self, image: &Image) -> Result<Vec<PathBuf>, ImageError> {
        let digest = Digest::parse(&image.digest)?;
        let (manifest, config) = self.read_manifest(&digest)?;
        let diff_ids = diff_ids(&manifest, &config, &digest)?;
        let mut dirs = Vec::with_capacity(diff_ids.len());
        for (layer, diff_id) in manifest.layers.iter().zip(&diff_ids) {
            let dir = self.layer_dir(diff_id);
            if !dir.is_dir() {
                let blob = layer.digest()?;
                if !self.blobs.contains(&blob) {
                    return Err(ImageError::MissingBlob(blob.to_string()));
                }
                unpack_layer(&self.blobs.path(&blob), diff_id, &dir, &self.tmp)?;
            }
            dirs.push(dir);
        }
        Ok(dirs)
    }

    /// Adds `reference` (normalized) as a name of `image`, moving it off any other image.
    pub fn tag(&self, image: &Image, reference: &str) -> Result<(), ImageError> {
        let reference = Reference::parse(reference)?.to_string();
        self.index
            .update(|index| index.add(&image.digest, &[reference]))
    }

    /// Records that a container uses `image` now (garbage collection removes the least
    /// recently used first).
    pub fn mark_used(&self, image: &Image) -> Result<(), ImageError> {
        let now = crate::index::now_ms();
        self.index.update(|index| {
            if let Some(record) = index.images.get_mut(&image.digest) {
                record.last_used_ms = now;
            }
        })
    }

    /// Removes the image with all its references, and the blobs and layers no other
    /// image shares.
    pub fn remove(&self, image: &Image) -> Result<(), ImageError> {
        self.remove_freeing(image).map(|_| ())
    }

    /// [`ImageStore::remove`], returning the bytes freed on disk.
    pub(crate) fn remove_freeing(&self, image: &Image) -> Result<u64, ImageError> {
        let remaining = self.index.update(|index| {
            index.images.remove(&image.digest);
            index.images.keys().cloned().collect::<Vec<_>>()
        })?;
        let digest = Digest::parse(&image.digest)?;
        let mine = self.content_of(&digest)?;
        let mut shared = Content::default();
        for other in remaining {
            if let Ok(c) = self.content_of(&Digest::parse(&other)?) {
                shared.blobs.extend(c.blobs);
                shared.layers.extend(c.layers);
            }
        }
        self.delete_unshared(&mine, &shared)
    }

    /// Deletes `content` except what `keep` holds; returns the bytes freed.
    pub(crate) fn delete_unshared(
        &self,
        content: &Content,
        keep: &Content,
    ) -> Result<u64, ImageError> {
        let mut freed = 0;
        for layer in content.layers.difference(&keep.layers) {
            let dir = self.layer_dir(layer);
            if dir.is_dir() {
                freed += crate::layers::disk_usage(&dir);
                // Renamed first so that a half-deleted layer never looks complete.
                let doomed = temp_path(&self.tmp, "deleting");
                fs::rename(&dir, &doomed).map_err(ImageError::io("rename", &dir))?;
                fs::remove_dir_all(&doomed).map_err(ImageError::io("remove", &doomed))?;
            }
        }
        for blob in content.blobs.difference(&keep.blobs) {
            freed += self.blobs.remove(blob)?;
        }
        Ok(freed)
    }

    /// The blobs and layers an image is made of (whatever of it is readable).
    pub(crate) fn content_of(&self, digest: &Digest) -> Result<Content, ImageError> {
        let mut content = Content::default();
        content.blobs.insert(digest.clone());
        let (manifest, config) = self.read_manifest(digest)?;
        content.blobs.insert(manifest.config.digest()?);
        for layer in &manifest.layers {
            content.blobs.insert(layer.digest()?);
        }
        content.layers.extend(diff_ids(&manifest, &config, digest)?);
        Ok(content)
    }

    /// Follows indexes (manifest lists) down to the manifest for this platform; every
    /// document on the way must already be stored.
    pub(crate) fn resolve_platform(&self, digest: Digest) -> Result<Digest, ImageError> {
        let mut digest = digest;
        for _ in 0..4 {
            let bytes = self.blobs.read_document(&digest)?;
            match Document::parse(&bytes, &format!("manifest {digest}"))? {
                Document::Manifest(_) => return Ok(digest),
                Document::Index(index) => {
                    let entry = oci::select_platform(&index, &self.platform).ok_or_else(|| {
                        ImageError::NoMatchingPlatform {
                            platform: format!(
                                "{}/{}",
                                self.platform.os, self.platform.architecture
                            ),
                            digest: digest.to_string(),
                        }
                    })?;
                    digest = entry.digest()?;
                }
            }
        }
        Err(ImageError::malformed(
            format!("index {digest}"),
            "indexes nested too deeply",
        ))
    }

    /// Makes a stored single-platform manifest an image: its config and layer blobs must
    /// be here; layers are unpacked (verified against the config's diff_ids), then the
    /// references are recorded.
    pub(crate) fn commit_image(
        &self,
        digest: &Digest,
        references: &[String],
    ) -> Result<Image, ImageError> {
        let (manifest, config) = self.read_manifest(digest)?;
        // A config that names no platform (some hand-made images) is taken as this one.
        if !config.architecture.is_empty()
            && (config.os != self.platform.os || config.architecture != self.platform.architecture)
        {
            return Err(ImageError::PlatformMismatch {
                digest: digest.to_string(),
                image_platform: format!("{}/{}", config.os, config.architecture),
                platform: format!("{}/{}", self.platform.os, self.platform.architecture),
            });
        }
        let diff_ids = diff_ids(&manifest, &config, digest)?;
        for (layer, diff_id) in manifest.layers.iter().zip(&diff_ids) {
            let blob = layer.digest()?;
            if !self.blobs.contains(&blob) {
                return Err(ImageError::MissingBlob(blob.to_string()));
            }
            unpack_layer(
                &self.blobs.path(&blob),
                diff_id,
                &self.layer_dir(diff_id),
                &self.tmp,
            )?;
        }
        let record = self.index.update(|index| {
            index.add(digest.as_str(), references);
            index.images[digest.as_str()].clone()
        })?;
        self.load(digest.as_str(), &record)
    }

    pub(crate) fn read_manifest(
        &self,
        digest: &Digest,
    ) -> Result<(Manifest, ConfigFile), ImageError> {
        let bytes = self.blobs.read_document(digest)?;
        let manifest = match Document::parse(&bytes, &format!("manifest {digest}"))? {
            Document::Manifest(m) => m,
            Document::Index(_) => {
                return Err(ImageError::malformed(
                    format!("manifest {digest}"),
                    "is an index, not an image manifest",
                ))
            }
        };
        let config_digest = manifest.config.digest()?;
        let config_bytes = self.blobs.read_document(&config_digest)?;
        let config: ConfigFile = serde_json::from_slice(&config_bytes)
            .map_err(|e| ImageError::malformed(format!("config {config_digest}"), e))?;
        Ok((manifest, config))
    }

    fn load(&self, digest: &str, record: &ImageRecord) -> Result<Image, ImageError> {
        let parsed = Digest::parse(digest)?;
        let (manifest, config) = self.read_manifest(&parsed)?;
        Ok(Image {
            references: record.references.clone(),
            digest: digest.to_string(),
            config_digest: manifest.config.digest.clone(),
            config: ImageConfig::from(&config),
            size: manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>(),
            last_used_ms: record.last_used_ms,
        })
    }

    fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.dir.join("layers").join("sha256").join(diff_id.hex())
    }

    pub(crate) fn layer_path(&self, diff_id: &Digest) -> PathBuf {
        self.layer_dir(diff_id)
    }

    /// Every unpacked layer on disk, by diff_id.
    pub(crate) fn all_layers(&self) -> Result<Vec<Digest>, ImageError> {
        let dir = self.dir.join("layers").join("sha256");
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir)
            .map_err(ImageError::io("read dir", &dir))?
            .flatten()
        {
            if let Some(name) = entry.file_name().to_str() {
                if let Ok(d) = Digest::parse(&format!("sha256:{name}")) {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}

/// Blobs and unpacked layers (by diff_id) of one or more images.
#[derive(Debug, Default)]
pub(crate) struct Content {
    pub blobs: HashSet<Digest>,
    pub layers: HashSet<Digest>,
}

fn diff_ids(
    manifest: &Manifest,
    config: &ConfigFile,
    digest: &Digest,
) -> Result<Vec<Digest>, ImageError> {
    if manifest.layers.len() != config.rootfs.diff_ids.len() {
        return Err(ImageError::malformed(
            format!("image {digest}"),
            format!(
                "{} layers but {} diff_ids in the config",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        ));
    }
    config
        .rootfs
        .diff_ids
        .iter()
        .map(|d| Digest::parse(d))
        .collect()
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other process or thread uses at the same time.
fn temp_path(dir: &Path, prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}-{}-{n}-{nanos}", std::process::id()))
}

pub(crate) fn temp_file(dir: &Path, prefix: &str) -> Result<(File, PathBuf), ImageError> {
    let path = temp_path(dir, prefix);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(ImageError::io("create", &path))?;
    Ok((file, path))
}

pub(crate) fn temp_dir(dir: &Path, prefix: &str) -> Result<PathBuf, ImageError> {
    let path = temp_path(dir, prefix);
    fs::create_dir(&path).map_err(ImageError::io("create", &path))?;
    Ok(path)
}
