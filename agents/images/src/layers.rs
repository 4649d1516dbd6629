//! Unpacking a layer blob once into its own directory, in the form overlayfs reads as a
//! lower layer: OCI whiteouts `.wh.<name>` become 0/0 character devices, opaque markers
//! `.wh..wh..opq` become the `trusted.overlay.opaque=y` xattr on their directory.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use crate::digest::{Digest, Hashing};
use crate::ImageError;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Unpacks `blob` (tar, tar+gzip or tar+zstd, told apart by magic bytes) into `dest`
/// unless `dest` exists. The uncompressed stream must hash to `diff_id`. Work happens
/// in a fresh directory under `tmp` renamed to `dest` at the end, so a crash never
/// leaves a half layer in place and concurrent unpackers of one layer agree.
pub(crate) fn unpack_layer(
    blob: &Path,
    diff_id: &Digest,
    dest: &Path,
    tmp: &Path,
) -> Result<(), ImageError> {
    if dest.is_dir() {
        return Ok(());
    }
    let work = crate::store::temp_dir(tmp, "layer")?;
    let result = unpack_into(blob, diff_id, &work);
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&work);
        return Err(e);
    }
    match fs::rename(&work, dest) {
        Ok(()) => Ok(()),
        // Another unpacker finished first: same content, keep theirs.
        Err(_) if dest.is_dir() => {
            let _ = fs::remove_dir_all(&work);
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&work);
            Err(ImageError::io("rename", dest)(e))
        }
    }
}

fn unpack_into(blob: &Path, diff_id: &Digest, root: &Path) -> Result<(), ImageError> {
    let file = File::open(blob).map_err(ImageError::io("open", blob))?;
    let mut buffered = BufReader::with_capacity(1 << 16, file);
    let magic = buffered
        .fill_buf()
        .map_err(ImageError::io("read", blob))?
        .to_vec();
    let decompressed: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(
            ruzstd::decoding::StreamingDecoder::new(buffered)
                .map_err(|e| ImageError::malformed(format!("zstd layer {}", blob.display()), e))?,
        )
    } else {
        Box::new(buffered)
    };
    let mut archive = tar::Archive::new(Hashing::new(decompressed));
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    let layer = format!("layer {diff_id}");
    let entries = archive
        .entries()
        .map_err(|e| ImageError::malformed(&layer, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| ImageError::malformed(&layer, e))?;
        let path = entry
            .path()
            .map_err(|e| ImageError::malformed(&layer, e))?
            .into_owned();
        let relative = relative_path(&path)?;
        let name = relative.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == OPAQUE_MARKER {
            let dir = inside(root, relative.parent().unwrap_or(Path::new("")))?;
            xattr::set(&dir, OPAQUE_XATTR, b"y")
                .map_err(ImageError::io("set opaque xattr on", &dir))?;
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            let dir = inside(root, relative.parent().unwrap_or(Path::new("")))?;
            write_whiteout(&dir.join(hidden))?;
        } else if relative.as_os_str().is_empty() {
            // The layer's own root ("./"): nothing to create.
        } else {
            let unpacked = entry.unpack_in(root).map_err(|e| {
                ImageError::malformed(format!("{layer} entry {}", path.display()), e)
            })?;
            if !unpacked {
                return Err(ImageError::PathEscape {
                    path: path.display().to_string(),
                });
            }
        }
    }
    // The tar end marker may be followed by padding: it is part of the hashed stream.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| ImageError::malformed(&layer, e))?;
    let (_, actual, _) = rest.finish();
    diff_id.verify(&actual, &layer)
}

/// The entry's path relative to the layer root; `..` anywhere is refused.
fn relative_path(path: &Path) -> Result<PathBuf, ImageError> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(ImageError::PathEscape {
                    path: path.display().to_string(),
                })
            }
        }
    }
    Ok(out)
}

/// `root/relative` as an existing directory, created if needed, never reached through a
/// symlink (which could point out of the layer).
fn inside(root: &Path, relative: &Path) -> Result<PathBuf, ImageError> {
    let mut dir = root.to_path_buf();
    for part in relative.components() {
        dir.push(part);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ImageError::PathEscape {
                    path: relative.display().to_string(),
                })
            }
            Err(_) => fs::create_dir(&dir).map_err(ImageError::io("create", &dir))?,
        }
    }
    Ok(dir)
}

/// overlayfs hides a lower file behind a 0/0 character device of the same name.
fn write_whiteout(path: &Path) -> Result<(), ImageError> {
    if fs::symlink_metadata(path).is_ok() {
        let _ = fs::remove_dir_all(path).or_else(|_| fs::remove_file(path));
    }
    mknod(path, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
        .map_err(|errno| ImageError::io("mknod whiteout", path)(errno.into()))
}

/// Bytes used on disk under `path` (allocated blocks, not apparent sizes; hard links once).
pub(crate) fn disk_usage(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.nlink() > 1 && !meta.is_dir() && !seen.insert((meta.dev(), meta.ino())) {
            continue;
        }
        total += meta.blocks() * 512;
        if meta.is_dir() {
            if let Ok(entries) = fs::read_dir(&p) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}
