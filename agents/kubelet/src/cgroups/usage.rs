//! What a cgroup has used: CPU time and memory, read from the kernel's accounting files
//! (cgroup v1 `cpuacct.usage` and `memory.*`, v2 `cpu.stat` and `memory.*`). Working set
//! is usage less inactive file pages, as cAdvisor and the kubelet define it.

use std::path::Path;

use super::{Cgroups, Hierarchy};

/// A cgroup's memory, in bytes (page faults are counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    pub usage_bytes: u64,
    pub working_set_bytes: u64,
    pub rss_bytes: u64,
    pub page_faults: u64,
    pub major_page_faults: u64,
}

/// One reading of a cgroup; None where the kernel has no file for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupUsage {
    /// CPU time used by every process that ever ran in it, in nanoseconds.
    pub cpu_ns: Option<u64>,
    pub memory: Option<MemoryUsage>,
}

fn read_u64(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `key value` lines (memory.stat, cpu.stat) → the value of `key`.
fn stat_value(stat: &str, key: &str) -> Option<u64> {
    stat.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

/// v1: `cpuacct.usage` in ns; memory from `memory.usage_in_bytes` and the hierarchical
/// (`total_`) counters of `memory.stat`.
fn v1(mount: &Path, rel: &Path) -> CgroupUsage {
    let memory_dir = mount.join("memory").join(rel);
    let memory = read_u64(&memory_dir.join("memory.usage_in_bytes")).map(|usage| {
        let stat = std::fs::read_to_string(memory_dir.join("memory.stat")).unwrap_or_default();
        let get = |k: &str| stat_value(&stat, k).unwrap_or(0);
        MemoryUsage {
            usage_bytes: usage,
            working_set_bytes: usage.saturating_sub(get("total_inactive_file")),
            rss_bytes: get("total_rss"),
            page_faults: get("total_pgfault"),
            major_page_faults: get("total_pgmajfault"),
        }
    });
    CgroupUsage {
        cpu_ns: read_u64(&mount.join("cpuacct").join(rel).join("cpuacct.usage")),
        memory,
    }
}

/// v2: `cpu.stat` usage_usec; memory from `memory.current` and `memory.stat`.
fn v2(dir: &Path) -> CgroupUsage {
    let cpu_ns = std::fs::read_to_string(dir.join("cpu.stat"))
        .ok()
        .and_then(|s| stat_value(&s, "usage_usec"))
        .map(|us| us * 1000);
    let memory = read_u64(&dir.join("memory.current")).map(|usage| {
        let stat = std::fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
        let get = |k: &str| stat_value(&stat, k).unwrap_or(0);
        MemoryUsage {
            usage_bytes: usage,
            working_set_bytes: usage.saturating_sub(get("inactive_file")),
            rss_bytes: get("anon"),
            page_faults: get("pgfault"),
            major_page_faults: get("pgmajfault"),
        }
    });
    CgroupUsage { cpu_ns, memory }
}

impl Cgroups {
    /// What `rel` (below the cgroup root) and everything below it has used.
    pub fn usage(&self, rel: &str) -> CgroupUsage {
        let rel = self.relative(rel);
        match &self.hierarchy {
            Hierarchy::V1 { mount } => v1(mount, &rel),
            Hierarchy::V2 { mount } => v2(&mount.join(rel)),
        }
    }

    /// The CPU time of the whole machine: the root cgroup's (v2's root has no memory
    /// files; the node's memory comes from /proc/meminfo instead).
    pub fn root_cpu_ns(&self) -> Option<u64> {
        match &self.hierarchy {
            Hierarchy::V1 { mount } => v1(mount, Path::new("")).cpu_ns,
            Hierarchy::V2 { mount } => v2(mount).cpu_ns,
        }
    }

    /// `rel` as cAdvisor names a cgroup: its path from the hierarchy's root.
    pub fn id(&self, rel: &str) -> String {
        format!("/{}", self.relative(rel).display())
    }

    /// Whether any process runs in `rel` itself (not below it).
    pub fn has_processes(&self, rel: &str) -> bool {
        !self.pids(rel).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, content: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    #[test]
    fn v1_reads_cpuacct_and_hierarchical_memory() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = Cgroups::new(
            Hierarchy::V1 {
                mount: dir.path().into(),
            },
            "root",
        );
        let m = dir.path().join("memory/root/kubepods/pod1");
        write(&m.join("memory.usage_in_bytes"), "50000000\n");
        write(
            &m.join("memory.stat"),
            "cache 9\nrss 1\ninactive_file 5\ntotal_cache 20000000\ntotal_rss 30000000\n\
             total_inactive_file 8000000\ntotal_pgfault 700\ntotal_pgmajfault 3\n",
        );
        write(
            &dir.path().join("cpuacct/root/kubepods/pod1/cpuacct.usage"),
            "123456789\n",
        );
        write(&dir.path().join("cpuacct/cpuacct.usage"), "999\n");
        let usage = cgroups.usage("kubepods/pod1");
        assert_eq!(usage.cpu_ns, Some(123_456_789));
        assert_eq!(
            usage.memory,
            Some(MemoryUsage {
                usage_bytes: 50_000_000,
                working_set_bytes: 42_000_000,
                rss_bytes: 30_000_000,
                page_faults: 700,
                major_page_faults: 3,
            })
        );
        assert_eq!(cgroups.root_cpu_ns(), Some(999));
        assert_eq!(cgroups.id("kubepods/pod1"), "/root/kubepods/pod1");
        assert_eq!(cgroups.usage("kubepods/absent"), CgroupUsage::default());
    }

    #[test]
    fn v2_reads_cpu_stat_and_memory_current() {
        let dir = tempfile::tempdir().unwrap();
        let cgroups = Cgroups::new(
            Hierarchy::V2 {
                mount: dir.path().into(),
            },
            "",
        );
        let c = dir.path().join("kubepods/burstable/pod2/c1");
        write(
            &c.join("cpu.stat"),
            "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
        );
        write(&c.join("memory.current"), "10485760\n");
        write(
            &c.join("memory.stat"),
            "anon 6291456\nfile 4194304\nactive_file 1048576\ninactive_file 3145728\n\
             pgfault 42\npgmajfault 1\n",
        );
        write(&dir.path().join("cpu.stat"), "usage_usec 7\n");
        let usage = cgroups.usage("kubepods/burstable/pod2/c1");
        assert_eq!(usage.cpu_ns, Some(2_500_000));
        let memory = usage.memory.unwrap();
        assert_eq!(memory.usage_bytes, 10_485_760);
        assert_eq!(memory.working_set_bytes, 10_485_760 - 3_145_728);
        assert_eq!(memory.rss_bytes, 6_291_456);
        assert_eq!((memory.page_faults, memory.major_page_faults), (42, 1));
        assert_eq!(cgroups.root_cpu_ns(), Some(7000));
    }
}
