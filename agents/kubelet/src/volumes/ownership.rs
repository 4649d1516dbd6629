//! fsGroup: upstream's SetVolumeOwnership. Everything in a volume gets the pod's fsGroup
//! as its group (symlinks too, without following them) and group access: read, and
//! write unless the volume is read-only; directories also search and setgid, so that
//! what the containers create there inherits the group.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// Group read and write, or read only, as upstream's rwMask and roMask.
const READ_WRITE: u32 = 0o660;
pub const READ_ONLY: u32 = 0o440;
const DIR_EXTRA: u32 = 0o2110;

pub fn set_volume_ownership(dir: &Path, fs_group: u32, read_only: bool) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    std::os::unix::fs::lchown(dir, None, Some(fs_group))?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    let mut mask = if read_only { READ_ONLY } else { READ_WRITE };
    if meta.is_dir() {
        mask |= DIR_EXTRA;
    }
    let mode = meta.mode() & 0o7777;
    if mode | mask != mode {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | mask))?;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            set_volume_ownership(&entry?.path(), fs_group, read_only)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_modes_as_upstream() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("vol");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/file"), "x").unwrap();
        std::fs::set_permissions(dir.join("sub/file"), std::fs::Permissions::from_mode(0o600))
            .unwrap();
        std::os::unix::fs::symlink("sub/file", dir.join("link")).unwrap();
        let gid = nix::unistd::getgid().as_raw();
        set_volume_ownership(&dir, gid, false).unwrap();
        let mode = |p: &str| std::fs::symlink_metadata(dir.join(p)).unwrap().mode() & 0o7777;
        assert_eq!(mode("sub/file"), 0o660);
        assert_eq!(mode("sub") & 0o2070, 0o2070);
        set_volume_ownership(&dir, gid, true).unwrap();
        assert_eq!(mode("sub/file"), 0o660);
    }
}
