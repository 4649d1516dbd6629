//! Pod and container cgroups: the kubepods hierarchy by QoS class, with cpu shares and
//! quota, memory limit and pids limit, on cgroup v1 (one hierarchy per controller) or v2
//! (one unified hierarchy), detected at start. Cgroups are plain directories and files,
//! so the same code runs against a temporary directory in tests.

mod mounts;
mod removal;
mod usage;
mod v1;
mod v2;

use std::path::{Path, PathBuf};

pub use mounts::ensure_mounted;
pub use usage::{CgroupUsage, MemoryUsage};

#[derive(Debug, thiserror::Error)]
#[error("cgroup {path}: {source}")]
pub struct CgroupError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CgroupError + '_ {
    move |source| CgroupError {
        path: path.to_path_buf(),
        source,
    }
}

/// The limits of one cgroup; None leaves the kernel's default (unlimited).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub cpu_shares: Option<u64>,
    pub cpu_quota_us: Option<i64>,
    pub memory_bytes: Option<i64>,
    pub pids_max: Option<i64>,
}

/// The CFS period the kubelet uses for every quota.
pub const CPU_PERIOD_US: i64 = 100_000;
const MIN_SHARES: u64 = 2;
const MIN_QUOTA_US: i64 = 1000;

impl Limits {
    /// cpu.shares for a CPU request in millicores (upstream's MilliCPUToShares).
    pub fn shares_for(milli_cpu: u64) -> u64 {
        (milli_cpu * 1024 / 1000).max(MIN_SHARES)
    }

    /// A CFS quota for a CPU limit in millicores (upstream's MilliCPUToQuota).
    pub fn quota_for(milli_cpu: u64) -> i64 {
        ((milli_cpu as i64) * CPU_PERIOD_US / 1000).max(MIN_QUOTA_US)
    }
}

/// The cgroup hierarchy the kubelet manages.
#[derive(Debug, Clone)]
pub enum Hierarchy {
    /// `mount` is where the controllers' hierarchies are mounted (`<mount>/memory`, …).
    V1 { mount: PathBuf },
    /// `mount` is the unified hierarchy.
    V2 { mount: PathBuf },
}

/// The kubelet's cgroups: everything under `<hierarchy>/<cgroup-root>/`.
#[derive(Debug, Clone)]
pub struct Cgroups {
    pub hierarchy: Hierarchy,
    root: String,
}

impl Cgroups {
    pub fn new(hierarchy: Hierarchy, cgroup_root: &str) -> Cgroups {
        Cgroups {
            hierarchy,
            root: cgroup_root.trim_matches('/').to_string(),
        }
    }

    /// `rel` (e.g. `kubepods/burstable/pod<uid>`) below the cgroup root.
    fn relative(&self, rel: &str) -> PathBuf {
        Path::new(&self.root).join(rel)
    }

    /// Creates `rel` (and its parents) and sets its limits.
    pub fn create(&self, rel: &str, limits: &Limits) -> Result<(), CgroupError> {
        let rel = self.relative(rel);
        match &self.hierarchy {
            Hierarchy::V1 { mount } => v1::create(mount, &rel, limits),
            Hierarchy::V2 { mount } => v2::create(mount, &rel, limits),
        }
    }

    /// The `cgroup.procs` files a process writes to join `rel`.
    pub fn procs_files(&self, rel: &str) -> Vec<PathBuf> {
        self.dirs(rel)
            .into_iter()
            .map(|(_, d)| d.join("cgroup.procs"))
            .collect()
    }

    /// Each directory of `rel`, with the controller name (v1) or "" (v2).
    pub fn dirs(&self, rel: &str) -> Vec<(&'static str, PathBuf)> {
        let rel = self.relative(rel);
        match &self.hierarchy {
            Hierarchy::V1 { mount } => v1::CONTROLLERS
                .iter()
                .map(|c| (*c, mount.join(c).join(&rel)))
                .collect(),
            Hierarchy::V2 { mount } => vec![("", mount.join(&rel))],
        }
    }

    /// The PIDs in `rel` (and, on v2, only `rel` itself).
    pub fn pids(&self, rel: &str) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .procs_files(rel)
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// The PIDs in `rel` and every cgroup below it.
    pub fn pids_below(&self, rel: &str) -> Vec<u32> {
        let mut pids = Vec::new();
        for (_, dir) in self.dirs(rel) {
            walk(&dir, &mut |d| {
                let procs = std::fs::read_to_string(d.join("cgroup.procs")).unwrap_or_default();
                pids.extend(procs.lines().filter_map(|l| l.trim().parse::<u32>().ok()));
            });
        }
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Removes `rel` and every cgroup below it (they must hold no process), deepest first,
    /// in every hierarchy: one that refuses does not stop the others. The first error.
    pub fn remove_tree(&self, rel: &str) -> Result<(), CgroupError> {
        let mut first = None;
        for (_, dir) in self.dirs(rel) {
            let mut dirs = Vec::new();
            walk(&dir, &mut |d| dirs.push(d.to_path_buf()));
            // Deepest first.
            for d in dirs.iter().rev() {
                match std::fs::remove_dir(d) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        first.get_or_insert(io(d)(e));
                    }
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// How many times the kernel's OOM killer killed a process of `rel`.
    pub fn oom_kills(&self, rel: &str) -> u64 {
        let (file, key) = match &self.hierarchy {
            Hierarchy::V1 { .. } => ("memory.oom_control", "oom_kill "),
            Hierarchy::V2 { .. } => ("memory.events", "oom_kill "),
        };
        self.dirs(rel)
            .iter()
            .filter(|(c, _)| c.is_empty() || *c == "memory")
            .filter_map(|(_, d)| std::fs::read_to_string(d.join(file)).ok())
            .flat_map(|s| {
                s.lines()
                    .filter_map(|l| l.strip_prefix(key)?.trim().parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .sum()
    }

    /// What a container shows read-only under /sys/fs/cgroup: its own cgroup directories.
    pub fn views(&self, rel: &str) -> Vec<crate::init::Bind> {
        self.dirs(rel)
            .into_iter()
            .map(|(controller, dir)| crate::init::Bind {
                source: dir,
                target: format!("/sys/fs/cgroup/{controller}"),
                readonly: true,
            })
            .collect()
    }
}

/// Calls `visit` on `dir` and then on every directory below it (parents first).
fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    if !dir.is_dir() {
        return;
    }
    visit(dir);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&entry.path(), visit);
        }
    }
}

/// Writes `value` to `dir/file`.
fn write(dir: &Path, file: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(file);
    std::fs::write(&path, value).map_err(io(&path))
}

fn mkdir(dir: &Path) -> Result<(), CgroupError> {
    std::fs::create_dir_all(dir).map_err(io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_cpu_conversions() {
        assert_eq!(Limits::shares_for(0), 2);
        assert_eq!(Limits::shares_for(250), 256);
        assert_eq!(Limits::shares_for(1000), 1024);
        assert_eq!(Limits::quota_for(500), 50_000);
        assert_eq!(Limits::quota_for(1), 1000);
    }

    #[test]
    fn v1_writes_one_hierarchy_per_controller() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = Cgroups::new(
            Hierarchy::V1 {
                mount: dir.path().into(),
            },
            "/test-root",
        );
        let limits = Limits {
            cpu_shares: Some(256),
            cpu_quota_us: Some(50_000),
            memory_bytes: Some(64 << 20),
            pids_max: Some(100),
        };
        cgroups.create("kubepods/burstable/pod1", &limits).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        let pod = "test-root/kubepods/burstable/pod1";
        assert_eq!(
            read(&format!("memory/{pod}/memory.limit_in_bytes")),
            "67108864"
        );
        assert_eq!(read(&format!("cpu/{pod}/cpu.shares")), "256");
        assert_eq!(read(&format!("cpu/{pod}/cpu.cfs_period_us")), "100000");
        assert_eq!(read(&format!("cpu/{pod}/cpu.cfs_quota_us")), "50000");
        assert_eq!(read(&format!("pids/{pod}/pids.max")), "100");
        assert_eq!(cgroups.procs_files("kubepods/burstable/pod1").len(), 4);
        std::fs::write(
            dir.path().join(format!("memory/{pod}/memory.oom_control")),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(cgroups.oom_kills("kubepods/burstable/pod1"), 2);
        cgroups
            .create("kubepods/burstable/pod1/c1", &Limits::default())
            .unwrap();
        std::fs::write(
            dir.path().join(format!("memory/{pod}/c1/cgroup.procs")),
            "7\n",
        )
        .unwrap();
        assert_eq!(cgroups.pids_below("kubepods/burstable/pod1"), vec![7]);
        let views = cgroups.views("kubepods/burstable/pod1");
        assert_eq!(views[1].target, "/sys/fs/cgroup/memory");
    }

    #[test]
    fn v2_enables_controllers_and_converts_limits() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = Cgroups::new(
            Hierarchy::V2 {
                mount: dir.path().into(),
            },
            "",
        );
        let limits = Limits {
            cpu_shares: Some(1024),
            cpu_quota_us: Some(150_000),
            memory_bytes: Some(128 << 20),
            pids_max: None,
        };
        cgroups.create("kubepods/pod2/c1", &limits).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("cgroup.subtree_control"), "+cpu +memory +pids");
        assert_eq!(
            read("kubepods/cgroup.subtree_control"),
            "+cpu +memory +pids"
        );
        assert_eq!(
            read("kubepods/pod2/cgroup.subtree_control"),
            "+cpu +memory +pids"
        );
        assert!(!dir
            .path()
            .join("kubepods/pod2/c1/cgroup.subtree_control")
            .exists());
        assert_eq!(read("kubepods/pod2/c1/memory.max"), "134217728");
        assert_eq!(read("kubepods/pod2/c1/cpu.max"), "150000 100000");
        assert_eq!(read("kubepods/pod2/c1/cpu.weight"), "39");
        assert!(!dir.path().join("kubepods/pod2/c1/pids.max").exists());
        std::fs::write(
            dir.path().join("kubepods/pod2/c1/memory.events"),
            "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert_eq!(cgroups.oom_kills("kubepods/pod2/c1"), 1);
        assert_eq!(
            cgroups.procs_files("kubepods/pod2/c1"),
            vec![dir.path().join("kubepods/pod2/c1/cgroup.procs")]
        );
    }
}
