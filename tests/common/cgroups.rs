//! Removing what a test's kubelet left under its `--cgroup-root`, in every hierarchy.
//!
//! Two things make a single "kill, sleep, rmdir" pass leave empty directories behind:
//! a SIGKILLed process drops out of `cgroup.procs` as soon as its threads start exiting,
//! but the kernel lets go of its cgroup only once it has torn down its memory, files and
//! namespaces (a container's mount namespace unmounts its rootfs then), and until then
//! rmdir answers EBUSY; and a process can still join a cgroup after the kill pass (a
//! shim, outside the tree, was starting a container). So: kill until no hierarchy lists a
//! process, remove deepest first, and start again on EBUSY, within a bound.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";
/// How long the processes of a tree may take to exit and release it.
const RELEASE_WAIT: Duration = Duration::from_secs(30);

/// Every hierarchy mounted under /sys/fs/cgroup that holds `cgroup_root`, each once
/// (co-mounted controllers such as `cpu,cpuacct` appear once, whatever their symlinks).
pub fn trees(cgroup_root: &str) -> Vec<PathBuf> {
    let mut mounts: Vec<PathBuf> = std::fs::read_dir(CGROUP_MOUNT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::canonicalize(e.path()).ok())
        .collect();
    mounts.sort();
    mounts.dedup();
    mounts
        .into_iter()
        .map(|m| m.join(cgroup_root))
        .filter(|t| t.is_dir())
        .collect()
}

/// The cgroup directories below (and including) `dir`, deepest first.
fn dirs_deepest_first(dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
        }
        dirs.push(d);
    }
    // Parents were pushed before their children.
    dirs.reverse();
    dirs
}

/// The processes in any cgroup of `trees`.
pub fn pids_in(trees: &[PathBuf]) -> Vec<i32> {
    let mut pids: Vec<i32> = trees
        .iter()
        .flat_map(|t| dirs_deepest_first(t))
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Whatever a kubelet left under `--cgroup-root` (pods still running when the test
/// ended, or a failed test): its processes killed, then its cgroups removed in every
/// hierarchy. Returns the directories still there after [`RELEASE_WAIT`] (none, unless a
/// process would not die).
pub fn remove_cgroup_tree(cgroup_root: &str) -> Vec<PathBuf> {
    let deadline = Instant::now() + RELEASE_WAIT;
    loop {
        let trees = trees(cgroup_root);
        let pids = pids_in(&trees);
        for pid in &pids {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
        }
        let mut left = Vec::new();
        if pids.is_empty() {
            for tree in &trees {
                for dir in dirs_deepest_first(tree) {
                    match std::fs::remove_dir(&dir) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        // EBUSY: a process is still exiting, or one joined since.
                        Err(_) => left.push(dir),
                    }
                }
            }
            if left.is_empty() {
                return left;
            }
        }
        if Instant::now() >= deadline {
            left.extend(trees);
            eprintln!("cgroups of {cgroup_root} not released after {RELEASE_WAIT:?}: {left:?}");
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
