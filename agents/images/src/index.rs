//! The persisted list of images: manifest digest → references and times. Shared by the
//! kubelet and `rkube images` processes: readers take the file as it is (it is replaced
//! atomically by write + rename), writers serialize on a lock file.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::ImageError;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct IndexFile {
    /// Keyed by manifest digest.
    #[serde(default)]
    pub images: BTreeMap<String, ImageRecord>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ImageRecord {
    /// Normalized references (`docker.io/library/busybox:1.36`), possibly none.
    #[serde(default)]
    pub references: Vec<String>,
    /// Milliseconds since the epoch: when it was stored, and last used by a container.
    #[serde(default)]
    pub created_ms: u64,
    #[serde(default)]
    pub last_used_ms: u64,
}

impl IndexFile {
    /// The manifest digest a reference points to.
    pub fn resolve(&self, reference: &str) -> Option<&str> {
        self.images
            .iter()
            .find(|(_, r)| r.references.iter().any(|x| x == reference))
            .map(|(d, _)| d.as_str())
    }

    /// Records `digest` under `references`, moving each reference off any other image
    /// (a tag names one image at a time).
    pub fn add(&mut self, digest: &str, references: &[String]) {
        for record in self.images.values_mut() {
            record.references.retain(|r| !references.contains(r));
        }
        let now = now_ms();
        let record = self
            .images
            .entry(digest.to_string())
            .or_insert_with(|| ImageRecord {
                created_ms: now,
                ..Default::default()
            });
        // Pulled or imported again: as good as used.
        record.last_used_ms = now;
        for r in references {
            if !record.references.contains(r) {
                record.references.push(r.clone());
            }
        }
        record.references.sort();
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub(crate) struct RefIndex {
    path: PathBuf,
    lock_path: PathBuf,
}

impl RefIndex {
    pub fn new(dir: &std::path::Path) -> RefIndex {
        RefIndex {
            path: dir.join("index.json"),
            lock_path: dir.join("index.lock"),
        }
    }

    pub fn read(&self) -> Result<IndexFile, ImageError> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ImageError::malformed(self.path.display().to_string(), e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(IndexFile::default()),
            Err(e) => Err(ImageError::io("read", &self.path)(e)),
        }
    }

    /// Read-modify-write under the lock; the closure's result is returned.
    pub fn update<T>(&self, change: impl FnOnce(&mut IndexFile) -> T) -> Result<T, ImageError> {
        let _lock = self.lock()?;
        let mut index = self.read()?;
        let out = change(&mut index);
        self.write(&index)?;
        Ok(out)
    }

    fn lock(&self) -> Result<Flock<File>, ImageError> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_path)
            .map_err(ImageError::io("open", &self.lock_path))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| ImageError::io("lock", &self.lock_path)(errno.into()))
    }

    fn write(&self, index: &IndexFile) -> Result<(), ImageError> {
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(index).expect("index serializes");
        let mut file = File::create(&tmp).map_err(ImageError::io("create", &tmp))?;
        file.write_all(&bytes)
            .map_err(ImageError::io("write", &tmp))?;
        file.sync_all().map_err(ImageError::io("sync", &tmp))?;
        fs::rename(&tmp, &self.path).map_err(ImageError::io("rename", &self.path))
    }
}
