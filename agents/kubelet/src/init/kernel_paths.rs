//! What a container sees of the kernel's files, privileged or not, as containerd and runc
//! set it up: an unprivileged container has containerd's masked paths (empty) and
//! read-only paths; a privileged one sees them all, and gets the node's device nodes in
//! its /dev.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::start::{inside, mount_at};

/// containerd's default masked paths: files become /dev/null, directories an empty
/// read-only tmpfs.
const MASKED_PATHS: [&str; 11] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/scsi",
];

/// containerd's default read-only paths.
const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Masks and write-protects the kernel paths below `root` (before pivot_root). Paths this
/// kernel does not have are skipped, as runc skips them.
pub fn protect(root: &Path) -> Result<(), String> {
    for path in MASKED_PATHS {
        let target = inside(root, path);
        match std::fs::metadata(&target) {
            Ok(m) if m.is_dir() => mount_at(
                Some(Path::new("tmpfs")),
                &target,
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                None,
            )?,
            Ok(_) => mount_at(
                Some(Path::new("/dev/null")),
                &target,
                None,
                MsFlags::MS_BIND,
                None,
            )?,
            Err(_) => continue,
        }
    }
    for path in READONLY_PATHS {
        let target = inside(root, path);
        if !target.exists() {
            continue;
        }
        mount_at(
            Some(&target),
            &target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None,
        )?;
        mount_at(
            None,
            &target,
            None,
            MsFlags::MS_BIND
                | MsFlags::MS_REMOUNT
                | MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV
                | MsFlags::MS_NOEXEC,
            None,
        )?;
    }
    Ok(())
}

/// Directories of the node's /dev that are not devices (runc's list), and the console,
/// which a container without a terminal does not get.
const NOT_DEVICES: [&str; 8] = [
    "pts",
    "shm",
    "fd",
    "mqueue",
    ".lxc",
    ".lxd-mounts",
    ".udev",
    "console",
];

/// Recreates every device node of the node's /dev (recursively) in the container's
/// `dev`, with its owner and mode, as containerd gives a privileged container the host's
/// devices. Nodes already there (null, zero, tty…) are kept.
pub fn host_devices(host: &Path, dev: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(host).map_err(|e| format!("{}: {e}", host.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if NOT_DEVICES.iter().any(|n| name == *n) {
            continue;
        }
        let (source, target) = (entry.path(), dev.join(&name));
        let Ok(meta) = std::fs::symlink_metadata(&source) else {
            continue;
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
            host_devices(&source, &target)?;
            continue;
        }
        let flag = if kind.is_char_device() {
            SFlag::S_IFCHR
        } else if kind.is_block_device() {
            SFlag::S_IFBLK
        } else {
            continue;
        };
        if target.exists() {
            continue;
        }
        let rdev = meta.rdev();
        let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
        let mode = meta.mode() & 0o7777;
        mknod(
            &target,
            flag,
            Mode::from_bits_truncate(mode),
            makedev(major, minor),
        )
        .map_err(|e| format!("mknod {}: {e}", target.display()))?;
        // mknod's mode went through the umask; the owner is root until set.
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .and_then(|()| std::os::unix::fs::chown(&target, Some(meta.uid()), Some(meta.gid())))
            .map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}
