//! One file of an image's root filesystem, read through its unpacked layers as overlayfs
//! shows them (the kubelet reads /etc/passwd and /etc/group this way before the
//! container exists, as containerd reads them from a temporary mount).

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use crate::layers::OPAQUE_XATTR;

/// Whether `path` is an overlayfs whiteout: a 0/0 character device.
fn is_whiteout(meta: &std::fs::Metadata) -> bool {
    meta.file_type().is_char_device() && meta.rdev() == 0
}

/// The contents of the regular file at absolute `path` in the image whose unpacked
/// layers are `layers` (bottom first); None when no layer has it, a layer above removes
/// it or makes a parent directory opaque, or it is not a regular file (symlinks are not
/// followed: they would resolve on the node).
pub fn read_layered_file(layers: &[PathBuf], path: &str) -> Option<Vec<u8>> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return None;
    }
    for layer in layers.iter().rev() {
        let target = layer.join(relative);
        if let Ok(meta) = std::fs::symlink_metadata(&target) {
            if is_whiteout(&meta) || !meta.is_file() {
                return None;
            }
            return std::fs::read(&target).ok();
        }
        // A parent removed or made opaque in this layer hides every lower layer's file.
        for parent in relative.ancestors().skip(1) {
            if parent.as_os_str().is_empty() {
                break;
            }
            let dir = layer.join(parent);
            let Ok(meta) = std::fs::symlink_metadata(&dir) else {
                continue;
            };
            if is_whiteout(&meta) || !meta.is_dir() {
                return None;
            }
            if xattr::get(&dir, OPAQUE_XATTR).ok().flatten().as_deref() == Some(b"y") {
                return None;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upper_layers_win_and_whiteouts_hide() {
        let root = tempfile::tempdir().unwrap();
        let layer = |name: &str, files: &[(&str, &str)]| {
            let dir = root.path().join(name);
            for (path, text) in files {
                let file = dir.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, text).unwrap();
            }
            std::fs::create_dir_all(&dir).unwrap();
            dir
        };
        let bottom = layer("0", &[("etc/passwd", "bottom"), ("etc/group", "g")]);
        let top = layer("1", &[("etc/passwd", "top")]);
        let layers = vec![bottom.clone(), top.clone()];
        assert_eq!(read_layered_file(&layers, "/etc/passwd").unwrap(), b"top");
        assert_eq!(read_layered_file(&layers, "/etc/group").unwrap(), b"g");
        assert_eq!(read_layered_file(&layers, "/etc/shadow"), None);
        assert_eq!(read_layered_file(&layers, "/etc/../etc/group"), None);
        // An opaque /etc in a layer above hides the lower /etc/group.
        let opaque = layer("2", &[("etc/hostname", "h")]);
        xattr::set(opaque.join("etc"), OPAQUE_XATTR, b"y").unwrap();
        let layers = vec![bottom, top, opaque];
        assert_eq!(read_layered_file(&layers, "/etc/group"), None);
        assert_eq!(read_layered_file(&layers, "/etc/hostname").unwrap(), b"h");
    }
}
