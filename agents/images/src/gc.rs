//! Image garbage collection: when the kubelet sees disk pressure it asks for bytes back,
//! naming the images its containers use; the least recently used of the others go first,
//! after whatever no image references any more (interrupted pulls and imports).

use std::collections::HashSet;
use std::fs;
use std::time::{Duration, SystemTime};

use crate::digest::Digest;
use crate::reference::Reference;
use crate::store::{Content, ImageStore};
use crate::{Image, ImageError};

/// Work in progress younger than this may belong to a running pull or import.
const ORPHAN_MIN_AGE: Duration = Duration::from_secs(3600);

#[derive(Debug, Default)]
pub struct GcReport {
    /// Images removed, least recently used first.
    pub removed: Vec<Image>,
    /// Bytes freed on disk (blobs, unpacked layers, leftovers).
    pub bytes_freed: u64,
}

/// The store's own view of the filesystem it lives on (for the kubelet's imagefs
/// thresholds and stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilesystemUsage {
    pub capacity_bytes: u64,
    pub available_bytes: u64,
}

impl FilesystemUsage {
    /// Bytes to free to get usage down to `low_percent` once it is above `high_percent`
    /// (the kubelet's `--image-gc-high-threshold` / `--image-gc-low-threshold`); 0 below.
    pub fn bytes_to_free(&self, high_percent: u8, low_percent: u8) -> u64 {
        if self.capacity_bytes == 0 {
            return 0;
        }
        let used = self.capacity_bytes.saturating_sub(self.available_bytes);
        let percent = used as u128 * 100 / self.capacity_bytes as u128;
        if percent < high_percent as u128 {
            return 0;
        }
        let target = self.capacity_bytes as u128 * low_percent as u128 / 100;
        (used as u128).saturating_sub(target) as u64
    }
}

impl ImageStore {
    /// Frees at least `bytes_to_free` if it can: first leftovers no image references,
    /// then images not in `in_use` and not used for `min_age`, least recently used first.
    /// Stops as soon as enough is freed. `in_use` holds references (normalized here) or
    /// manifest digests; for running containers pass [`Image::digest`]: a tag may since
    /// have moved to another image.
    pub fn garbage_collect(
        &self,
        in_use: &[String],
        bytes_to_free: u64,
        min_age: Duration,
    ) -> Result<GcReport, ImageError> {
        let mut report = GcReport {
            bytes_freed: self.remove_orphans()?,
            ..Default::default()
        };
        let in_use: HashSet<String> = in_use
            .iter()
            .map(|r| match Reference::parse(r) {
                Ok(parsed) if !r.starts_with("sha256:") => parsed.to_string(),
                _ => r.clone(),
            })
            .collect();
        let now = crate::index::now_ms();
        let mut candidates: Vec<Image> = self
            .list()?
            .into_iter()
            .filter(|i| {
                !in_use.contains(&i.digest) && !i.references.iter().any(|r| in_use.contains(r))
            })
            .filter(|i| now.saturating_sub(i.last_used_ms) >= min_age.as_millis() as u64)
            .collect();
        candidates.sort_by_key(|i| i.last_used_ms);
        for image in candidates {
            if report.bytes_freed >= bytes_to_free {
                break;
            }
            report.bytes_freed += self.remove_freeing(&image)?;
            report.removed.push(image);
        }
        Ok(report)
    }

    /// Bytes used by the whole store on disk.
    pub fn disk_usage(&self) -> u64 {
        crate::layers::disk_usage(self.dir())
    }

    /// Capacity and free space of the filesystem holding the store.
    pub fn filesystem_usage(&self) -> Result<FilesystemUsage, ImageError> {
        let stat = nix::sys::statvfs::statvfs(self.dir())
            .map_err(|errno| ImageError::io("statvfs", self.dir())(errno.into()))?;
        let fragment = stat.fragment_size() as u64;
        Ok(FilesystemUsage {
            capacity_bytes: stat.blocks() as u64 * fragment,
            available_bytes: stat.blocks_available() as u64 * fragment,
        })
    }

    /// Deletes blobs and layers no recorded image references, and stale temporary files,
    /// when older than an hour (younger ones may be a pull or import in progress).
    fn remove_orphans(&self) -> Result<u64, ImageError> {
        let index = self.index.read()?;
        let mut referenced = Content::default();
        for digest in index.images.keys() {
            if let Ok(content) = self.content_of(&Digest::parse(digest)?) {
                referenced.blobs.extend(content.blobs);
                referenced.layers.extend(content.layers);
            }
        }
        let mut orphans = Content::default();
        for blob in self.blobs.all()? {
            if old_enough(&self.blobs.path(&blob)) {
                orphans.blobs.insert(blob);
            }
        }
        for layer in self.all_layers()? {
            if old_enough(&self.layer_path(&layer)) {
                orphans.layers.insert(layer);
            }
        }
        let mut freed = self.delete_unshared(&orphans, &referenced)?;
        let tmp = self.dir().join("tmp");
        for entry in fs::read_dir(&tmp)
            .map_err(ImageError::io("read dir", &tmp))?
            .flatten()
        {
            let path = entry.path();
            if old_enough(&path) {
                freed += crate::layers::disk_usage(&path);
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
        Ok(freed)
    }
}

fn old_enough(path: &std::path::Path) -> bool {
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age >= ORPHAN_MIN_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frees_down_to_the_low_threshold_only_above_the_high_one() {
        let fs = |used: u64| FilesystemUsage {
            capacity_bytes: 1000,
            available_bytes: 1000 - used,
        };
        assert_eq!(fs(840).bytes_to_free(85, 80), 0);
        assert_eq!(fs(850).bytes_to_free(85, 80), 50);
        assert_eq!(fs(990).bytes_to_free(85, 80), 190);
        let empty = FilesystemUsage {
            capacity_bytes: 0,
            available_bytes: 0,
        };
        assert_eq!(empty.bytes_to_free(85, 80), 0);
    }
}
