//! The container's PID 1 before it becomes the container's command.

use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use super::config::{Bind, ContainerConfig};

pub fn run(config_path: &Path) -> Result<i32, String> {
    let config = ContainerConfig::read(config_path)?;
    join_cgroups(&config)?;
    join_namespaces(&config)?;
    unshare(CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    // Nothing mounted from here on may propagate back to the node.
    mount_at(
        None,
        Path::new("/"),
        None,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None,
    )?;
    mount_rootfs(&config)?;
    if let Some(hostname) = &config.hostname {
        nix::unistd::sethostname(hostname).map_err(|e| format!("sethostname: {e}"))?;
    }
    pivot_into(&config.rootfs)?;
    let cwd = super::identity::working_dir(&config);
    if config.readonly_rootfs {
        // A missing workingDir is made while the rootfs is still writable.
        std::fs::create_dir_all(cwd).map_err(|e| format!("workingDir {cwd}: {e}"))?;
        // Only the rootfs mount itself: /proc, /dev, volumes… are mounts of their own
        // and keep their flags.
        mount_at(
            None,
            Path::new("/"),
            None,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None,
        )?;
    }
    super::identity::assume(&config)?;
    std::fs::create_dir_all(cwd).map_err(|e| format!("workingDir {cwd}: {e}"))?;
    std::env::set_current_dir(cwd).map_err(|e| format!("workingDir {cwd}: {e}"))?;
    super::identity::exec(&config, &config.args)
}

pub(super) fn join_cgroups(config: &ContainerConfig) -> Result<(), String> {
    for procs in &config.cgroup_procs {
        // 0 is "the writing process" in both cgroup versions.
        std::fs::write(procs, "0").map_err(|e| format!("joining {}: {e}", procs.display()))?;
    }
    Ok(())
}

fn join_namespaces(config: &ContainerConfig) -> Result<(), String> {
    for (kind, path) in &config.namespaces {
        let flag = match kind.as_str() {
            "net" => CloneFlags::CLONE_NEWNET,
            "uts" => CloneFlags::CLONE_NEWUTS,
            "ipc" => CloneFlags::CLONE_NEWIPC,
            other => return Err(format!("unknown namespace kind {other:?}")),
        };
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        setns(&file, flag).map_err(|e| format!("setns {}: {e}", path.display()))?;
    }
    Ok(())
}

pub(super) fn mount_at(
    source: Option<&Path>,
    target: &Path,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), String> {
    mount(source, target, fstype, flags, data).map_err(|e| {
        format!(
            "mount {} on {}: {e}",
            fstype.unwrap_or("bind"),
            target.display()
        )
    })
}

/// `path` inside the rootfs (absolute container paths are relative to it).
pub(super) fn inside(rootfs: &Path, path: &str) -> PathBuf {
    rootfs.join(path.trim_start_matches('/'))
}

fn mkdir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("mkdir {}: {e}", path.display()))
}

fn mount_rootfs(config: &ContainerConfig) -> Result<(), String> {
    let root = &config.rootfs;
    let lower: Vec<String> = config
        .layers
        .iter()
        .rev()
        .map(|l| l.display().to_string())
        .collect();
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        config.upper_dir.display(),
        config.work_dir.display()
    );
    mount_at(
        Some(Path::new("overlay")),
        root,
        Some("overlay"),
        MsFlags::empty(),
        Some(&options),
    )?;
    let nosuid_noexec_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let proc_dir = inside(root, "/proc");
    mkdir(&proc_dir)?;
    mount_at(
        Some(Path::new("proc")),
        &proc_dir,
        Some("proc"),
        nosuid_noexec_nodev,
        None,
    )?;
    let sys = inside(root, "/sys");
    mkdir(&sys)?;
    // Privileged containers may write /sys, as containerd's.
    let sys_flags = if config.privileged {
        nosuid_noexec_nodev
    } else {
        nosuid_noexec_nodev | MsFlags::MS_RDONLY
    };
    mount_at(
        Some(Path::new("sysfs")),
        &sys,
        Some("sysfs"),
        sys_flags,
        None,
    )?;
    mount_dev(root)?;
    if config.privileged {
        super::kernel_paths::host_devices(Path::new("/dev"), &inside(root, "/dev"))?;
    }
    for bind in &config.binds {
        bind_into(root, bind)?;
    }
    mount_cgroup_views(root, &config.cgroup_views)?;
    if config.privileged {
        Ok(())
    } else {
        super::kernel_paths::protect(root)
    }
}

fn mount_dev(root: &Path) -> Result<(), String> {
    let dev = inside(root, "/dev");
    mkdir(&dev)?;
    mount_at(
        Some(Path::new("tmpfs")),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )?;
    for node in ["null", "zero", "full", "random", "urandom", "tty"] {
        let target = dev.join(node);
        std::fs::write(&target, b"").map_err(|e| format!("{}: {e}", target.display()))?;
        let source = Path::new("/dev").join(node);
        mount_at(Some(&source), &target, None, MsFlags::MS_BIND, None)?;
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        std::os::unix::fs::symlink(to, dev.join(link)).map_err(|e| format!("/dev/{link}: {e}"))?;
    }
    let pts = dev.join("pts");
    mkdir(&pts)?;
    mount_at(
        Some(Path::new("devpts")),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )?;
    let shm = dev.join("shm");
    mkdir(&shm)?;
    mount_at(
        Some(Path::new("shm")),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        Some("mode=1777,size=65536k"),
    )
}

fn bind_into(root: &Path, bind: &Bind) -> Result<(), String> {
    let target = inside(root, &bind.target);
    if bind.source.is_dir() {
        mkdir(&target)?;
    } else {
        if let Some(parent) = target.parent() {
            mkdir(parent)?;
        }
        if !target.exists() {
            std::fs::write(&target, b"").map_err(|e| format!("{}: {e}", target.display()))?;
        }
    }
    mount_at(
        Some(&bind.source),
        &target,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
    )?;
    if bind.readonly {
        mount_at(
            None,
            &target,
            None,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None,
        )?;
    }
    Ok(())
}

/// The container's own cgroups under /sys/fs/cgroup (as runc shows them without a cgroup
/// namespace), read-only unless the container is privileged.
fn mount_cgroup_views(root: &Path, views: &[Bind]) -> Result<(), String> {
    if views.is_empty() {
        return Ok(());
    }
    let cgroup = inside(root, "/sys/fs/cgroup");
    mount_at(
        Some(Path::new("tmpfs")),
        &cgroup,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        Some("mode=755"),
    )?;
    for view in views {
        let target = inside(root, &view.target);
        mkdir(&target)?;
        mount_at(Some(&view.source), &target, None, MsFlags::MS_BIND, None)?;
        if view.readonly {
            mount_at(
                None,
                &target,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                None,
            )?;
        }
    }
    mount_at(
        None,
        &cgroup,
        None,
        MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NOEXEC
            | MsFlags::MS_NODEV,
        None,
    )
}

/// pivot_root into the rootfs and detach the old root, so nothing of the node stays
/// reachable.
fn pivot_into(rootfs: &Path) -> Result<(), String> {
    std::env::set_current_dir(rootfs).map_err(|e| format!("chdir {}: {e}", rootfs.display()))?;
    // pivot_root(".", "."): the old root ends up stacked under the new one, then is
    // detached, with no directory to create in the image.
    nix::unistd::pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the old root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("chdir /: {e}"))
}
