//! What volumes do on the node itself: tmpfs mounts, hostPath type checks, and unmounting
//! everything below a pod's directory when the pod goes.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::VolumeError;

/// The mount points in this process's mount namespace, as /proc/self/mountinfo lists
/// them (octal escapes decoded).
pub fn mount_points() -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

fn unescape(field: &str) -> String {
    let mut out = Vec::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).ok();
            if let Some(n) = digits.and_then(|d| u8::from_str_radix(d, 8).ok()) {
                out.push(n);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mounts a tmpfs at `dir` unless one is there already.
pub fn ensure_tmpfs(dir: &Path, size_bytes: Option<u64>) -> Result<(), VolumeError> {
    std::fs::create_dir_all(dir).map_err(|e| VolumeError::io(dir, e))?;
    if mount_points().iter().any(|m| m == dir) {
        return Ok(());
    }
    let options = match size_bytes {
        Some(size) => format!("mode=0777,size={size}"),
        None => "mode=0777".to_string(),
    };
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options.as_str()),
    )
    .map_err(|e| VolumeError::Io(format!("mounting a tmpfs on {}: {e}", dir.display())))
}

/// A world-writable directory, as upstream makes emptyDir volumes.
pub fn ensure_dir(dir: &Path, mode: u32) -> Result<(), VolumeError> {
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(|e| VolumeError::io(dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
            .map_err(|e| VolumeError::io(dir, e))?;
    }
    Ok(())
}

/// Unmounts every mount at or below `dir`, deepest first (tmpfs volumes of a pod).
pub fn unmount_below(dir: &Path) {
    let mut below: Vec<PathBuf> = mount_points()
        .into_iter()
        .filter(|m| m.starts_with(dir))
        .collect();
    below.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    below.dedup();
    for m in below {
        if let Err(e) = umount2(&m, MntFlags::MNT_DETACH) {
            tracing::warn!("unmounting {}: {e}", m.display());
        }
    }
}

/// Checks (or creates) a hostPath as its `type` says, with upstream's messages.
pub fn check_host_path(path: &Path, kind: &str) -> Result<(), VolumeError> {
    let meta = std::fs::metadata(path).ok();
    let failed = |what: &str| {
        Err(VolumeError::HostPathType(format!(
            "hostPath type check failed: {} is not {what}",
            path.display()
        )))
    };
    match kind {
        "" => Ok(()),
        "DirectoryOrCreate" if meta.is_none() => {
            std::fs::create_dir_all(path).map_err(|e| VolumeError::io(path, e))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| VolumeError::io(path, e))
        }
        "DirectoryOrCreate" | "Directory" => match meta {
            Some(m) if m.is_dir() => Ok(()),
            _ => failed("a directory"),
        },
        "FileOrCreate" if meta.is_none() => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| VolumeError::io(parent, e))?;
            }
            std::fs::write(path, b"").map_err(|e| VolumeError::io(path, e))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| VolumeError::io(path, e))
        }
        "FileOrCreate" | "File" => match meta {
            Some(m) if m.is_file() => Ok(()),
            _ => failed("a file"),
        },
        "Socket" => match meta {
            Some(m) if m.file_type().is_socket() => Ok(()),
            _ => failed("a socket file"),
        },
        "CharDevice" => match meta {
            Some(m) if m.file_type().is_char_device() => Ok(()),
            _ => failed("a character device"),
        },
        "BlockDevice" => match meta {
            Some(m) if m.file_type().is_block_device() => Ok(()),
            _ => failed("a block device"),
        },
        other => Err(VolumeError::HostPathType(format!(
            "{other} is an invalid volume type"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_path_types() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("made/dir");
        check_host_path(&dir, "DirectoryOrCreate").unwrap();
        assert!(dir.is_dir());
        check_host_path(&dir, "Directory").unwrap();
        let err = check_host_path(&dir, "File").unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "hostPath type check failed: {} is not a file",
                dir.display()
            )
        );
        let file = tmp.path().join("new/file");
        check_host_path(&file, "FileOrCreate").unwrap();
        assert!(file.is_file());
        assert!(check_host_path(&tmp.path().join("absent"), "Directory").is_err());
        assert!(check_host_path(&file, "Socket").is_err());
        check_host_path(Path::new("/dev/null"), "CharDevice").unwrap();
        assert!(check_host_path(&file, "Weird").is_err());
        check_host_path(&tmp.path().join("anything"), "").unwrap();
    }

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape("/end\\"), "/end\\");
    }
}
