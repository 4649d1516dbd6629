//! Content-addressed blobs (`blobs/sha256/<hex>`): written to a temporary file while hashed,
//! renamed into place only when the digest (and size, when known) matches.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::PathBuf;

use crate::digest::{Digest, Hashing};
use crate::ImageError;

#[derive(Clone)]
pub(crate) struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

impl BlobStore {
    pub fn open(dir: PathBuf, tmp: PathBuf) -> Result<BlobStore, ImageError> {
        let sha = dir.join("sha256");
        fs::create_dir_all(&sha).map_err(ImageError::io("create", &sha))?;
        Ok(BlobStore { dir, tmp })
    }

    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("sha256").join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    pub fn size(&self, digest: &Digest) -> Result<u64, ImageError> {
        let path = self.path(digest);
        match fs::metadata(&path) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(ImageError::MissingBlob(digest.to_string()))
            }
            Err(e) => Err(ImageError::io("stat", path)(e)),
        }
    }

    /// A small document (manifest, config), read whole.
    pub fn read_document(&self, digest: &Digest) -> Result<Vec<u8>, ImageError> {
        let path = self.path(digest);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ImageError::MissingBlob(digest.to_string()))
            }
            Err(e) => return Err(ImageError::io("open", path)(e)),
        };
        let mut bytes = Vec::new();
        file.take(crate::oci::MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(ImageError::io("read", &path))?;
        if bytes.len() as u64 > crate::oci::MAX_DOCUMENT_BYTES {
            return Err(ImageError::malformed(
                digest.to_string(),
                "document larger than 8 MiB",
            ));
        }
        Ok(bytes)
    }

    pub fn write_bytes(&self, expected: &Digest, bytes: &[u8]) -> Result<(), ImageError> {
        let mut writer = self.writer()?;
        writer
            .write_all(bytes)
            .map_err(ImageError::io("write", &writer.path))?;
        writer.commit(Some(expected), Some(bytes.len() as u64))?;
        Ok(())
    }

    /// Copies `reader` into the store; with `expected` the content must hash to it.
    /// Returns the digest and size of what was stored.
    pub fn write_from(
        &self,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
        reader: &mut dyn Read,
    ) -> Result<(Digest, u64), ImageError> {
        let mut writer = self.writer()?;
        io::copy(reader, &mut writer).map_err(ImageError::io("copy into", &writer.path))?;
        writer.commit(expected, expected_size)
    }

    pub fn writer(&self) -> Result<BlobWriter, ImageError> {
        let (file, path) = crate::store::temp_file(&self.tmp, "blob")?;
        Ok(BlobWriter {
            file: Some(Hashing::new(io::BufWriter::new(file))),
            path,
            dest_dir: self.dir.join("sha256"),
        })
    }

    pub fn remove(&self, digest: &Digest) -> Result<u64, ImageError> {
        let path = self.path(digest);
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        match fs::remove_file(&path) {
            Ok(()) => Ok(size),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(ImageError::io("remove", path)(e)),
        }
    }
}

impl BlobStore {
    /// Every blob in the store.
    pub fn all(&self) -> Result<Vec<Digest>, ImageError> {
        let dir = self.dir.join("sha256");
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

/// A blob being written; unless [`BlobWriter::commit`] succeeds it leaves nothing behind.
pub(crate) struct BlobWriter {
    file: Option<Hashing<io::BufWriter<File>>>,
    path: PathBuf,
    dest_dir: PathBuf,
}

impl BlobWriter {
    pub fn commit(
        mut self,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
    ) -> Result<(Digest, u64), ImageError> {
        let hashing = self.file.take().expect("committed once");
        let (buffered, actual, len) = hashing.finish();
        let file = buffered
            .into_inner()
            .map_err(|e| ImageError::io("flush", &self.path)(e.into_error()))?;
        if let Some(expected) = expected {
            expected.verify(&actual, &format!("blob {expected}"))?;
        }
        if let Some(size) = expected_size {
            if size != len {
                return Err(ImageError::SizeMismatch {
                    digest: actual.to_string(),
                    expected: size,
                    actual: len,
                });
            }
        }
        file.sync_all()
            .map_err(ImageError::io("sync", &self.path))?;
        let dest = self.dest_dir.join(actual.hex());
        fs::rename(&self.path, &dest).map_err(ImageError::io("rename", &dest))?;
        Ok((actual, len))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("not committed").write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("not committed").flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // After a commit the file was renamed away and this finds nothing.
        let _ = fs::remove_file(&self.path);
    }
}
