//! Removing a cgroup tree once the kernel has let go of it.
//!
//! A killed process leaves `cgroup.procs` as soon as its threads start exiting, but the
//! kernel releases its cgroups only once it has torn down its memory, files and namespaces
//! (a container's mount namespace unmounts its rootfs then); until that, rmdir answers
//! EBUSY. One rmdir after `cgroup.procs` empties therefore leaves empty directories behind
//! now and then, the more so on a loaded node: wait, and retry while the kernel says busy.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::{CgroupError, Cgroups};

/// Between two looks at a tree that is not released yet.
const POLL: Duration = Duration::from_millis(20);

impl Cgroups {
    /// Removes `rel` and everything below it in every hierarchy once no process is left
    /// there, retrying while the kernel still holds a cgroup (EBUSY), for at most `wait`.
    /// A process that never leaves: the EBUSY error.
    pub async fn remove_released(&self, rel: &str, wait: Duration) -> Result<(), CgroupError> {
        self.release(rel, wait, false).await
    }

    /// Like [`Cgroups::remove_released`], SIGKILLing whatever runs in the tree first (and
    /// again while anything does: a process may fork, or join, meanwhile).
    pub async fn kill_and_remove(&self, rel: &str, wait: Duration) -> Result<(), CgroupError> {
        self.release(rel, wait, true).await
    }

    async fn release(&self, rel: &str, wait: Duration, kill_all: bool) -> Result<(), CgroupError> {
        let deadline = Instant::now() + wait;
        loop {
            let pids = self.pids_below(rel);
            if kill_all {
                for pid in &pids {
                    let _ = kill(Pid::from_raw(*pid as i32), Signal::SIGKILL);
                }
            }
            let result = if pids.is_empty() {
                self.remove_tree(rel)
            } else {
                Err(busy(self, rel))
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) if is_busy(&e) && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn is_busy(e: &CgroupError) -> bool {
    e.source.raw_os_error() == Some(nix::libc::EBUSY)
}

/// The error a tree that still holds processes gives.
fn busy(cgroups: &Cgroups, rel: &str) -> CgroupError {
    CgroupError {
        path: cgroups
            .dirs(rel)
            .into_iter()
            .next()
            .map(|(_, d)| d)
            .unwrap_or_default(),
        source: std::io::Error::from_raw_os_error(nix::libc::EBUSY),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Hierarchy, Limits};
    use super::*;

    fn v1(dir: &std::path::Path) -> Cgroups {
        Cgroups::new(
            Hierarchy::V1 {
                mount: dir.to_path_buf(),
            },
            "root",
        )
    }

    #[tokio::test]
    async fn an_empty_tree_goes_in_every_hierarchy() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = v1(dir.path());
        cgroups
            .create("kubepods/pod1/c1", &Limits::default())
            .unwrap();
        cgroups
            .remove_released("kubepods/pod1", Duration::from_secs(1))
            .await
            .unwrap();
        for (_, d) in cgroups.dirs("kubepods/pod1") {
            assert!(!d.exists(), "{}", d.display());
            assert!(d.parent().unwrap().exists());
        }
    }

    #[tokio::test]
    async fn a_tree_that_keeps_a_process_is_busy_after_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = v1(dir.path());
        cgroups.create("kubepods/pod1", &Limits::default()).unwrap();
        // A plain directory stands in for the cgroup: the "process" never leaves.
        let procs = dir.path().join("memory/root/kubepods/pod1/cgroup.procs");
        std::fs::write(&procs, "4194304\n").unwrap();
        let started = Instant::now();
        let e = cgroups
            .remove_released("kubepods/pod1", Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(is_busy(&e), "{e}");
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Once it has gone, the tree goes too (a temp dir's files are not a cgroup's: clear it).
        std::fs::remove_file(&procs).unwrap();
        cgroups
            .remove_released("kubepods/pod1", Duration::from_secs(1))
            .await
            .unwrap();
    }
}
