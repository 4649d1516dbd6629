//! What the node reports about its machine: capacity, system info, pressure signals.
//! Read from /proc, /etc and statvfs; every reader tolerates a missing file.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

/// The kubelet version this kubelet reports (the API version rkube emulates).
pub const KUBELET_VERSION: &str = "v1.33.0";

/// Upstream's default hard eviction thresholds, subtracted from capacity for allocatable
/// and used as the pressure conditions' triggers.
const EVICTION_MEMORY_AVAILABLE: u64 = 100 * 1024 * 1024;
const EVICTION_NODEFS_AVAILABLE_PERCENT: u64 = 10;

/// One reading of the machine's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub cpus: u64,
    pub memory_bytes: u64,
    pub memory_available_bytes: u64,
    pub disk_bytes: u64,
    pub disk_available_bytes: u64,
    pub pids_max: u64,
    pub pids_in_use: u64,
}

impl Machine {
    /// Reads the machine now; `root_dir` is the filesystem ephemeral storage lives on.
    pub fn read(root_dir: &Path) -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let (disk_bytes, disk_available_bytes) = nix::sys::statvfs::statvfs(root_dir)
            .map(|s| {
                let frag = s.fragment_size();
                (s.blocks() * frag, s.blocks_available() * frag)
            })
            .unwrap_or((0, 0));
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            memory_bytes: meminfo_kib(&meminfo, "MemTotal") * 1024,
            memory_available_bytes: meminfo_kib(&meminfo, "MemAvailable") * 1024,
            disk_bytes,
            disk_available_bytes,
            pids_max: read_number("/proc/sys/kernel/pid_max").unwrap_or(32768),
            pids_in_use: std::fs::read_dir("/proc")
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
                        .count() as u64
                })
                .unwrap_or(0),
        }
    }

    /// Node capacity: cpu, memory, pods, ephemeral-storage.
    pub fn capacity(&self, max_pods: u32) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("cpu", self.cpus.to_string()),
            ("memory", format!("{}Ki", self.memory_bytes / 1024)),
            ("pods", max_pods.to_string()),
            ("ephemeral-storage", format!("{}Ki", self.disk_bytes / 1024)),
        ])
    }

    /// Capacity less the hard eviction thresholds, as upstream computes it with no
    /// system or kube reservations.
    pub fn allocatable(&self, max_pods: u32) -> BTreeMap<&'static str, String> {
        let memory = self.memory_bytes.saturating_sub(EVICTION_MEMORY_AVAILABLE);
        let disk = self.disk_bytes - self.disk_bytes * EVICTION_NODEFS_AVAILABLE_PERCENT / 100;
        BTreeMap::from([
            ("cpu", self.cpus.to_string()),
            ("memory", format!("{}Ki", memory / 1024)),
            ("pods", max_pods.to_string()),
            ("ephemeral-storage", disk.to_string()),
        ])
    }

    pub fn memory_pressure(&self) -> bool {
        self.memory_available_bytes < EVICTION_MEMORY_AVAILABLE
    }

    pub fn disk_pressure(&self) -> bool {
        self.disk_available_bytes * 100 < self.disk_bytes * EVICTION_NODEFS_AVAILABLE_PERCENT
    }

    /// Upstream's pid.available signal: fewer than 10% of the PIDs left.
    pub fn pid_pressure(&self) -> bool {
        self.pids_in_use * 10 > self.pids_max * 9
    }
}

/// `status.nodeInfo`.
pub fn node_info() -> Value {
    let uname = nix::sys::utsname::uname().ok();
    let kernel = uname
        .as_ref()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os_image = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".into());
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    json!({
        "machineID": read("/etc/machine-id"),
        "systemUUID": read("/sys/class/dmi/id/product_uuid"),
        "bootID": read("/proc/sys/kernel/random/boot_id"),
        "kernelVersion": kernel,
        "osImage": os_image,
        "containerRuntimeVersion": concat!("rkube://", env!("CARGO_PKG_VERSION")),
        "kubeletVersion": KUBELET_VERSION,
        "kubeProxyVersion": "",
        "operatingSystem": "linux",
        "architecture": go_arch(std::env::consts::ARCH),
    })
}

/// Go's GOARCH names, which nodeInfo and image platforms use.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

pub fn meminfo_kib(meminfo: &str, key: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> Machine {
        Machine {
            cpus: 2,
            memory_bytes: 4 << 30,
            memory_available_bytes: 2 << 30,
            disk_bytes: 1000 << 20,
            disk_available_bytes: 500 << 20,
            pids_max: 1000,
            pids_in_use: 10,
        }
    }

    #[test]
    fn allocatable_is_capacity_less_eviction_thresholds() {
        let m = machine();
        assert_eq!(m.capacity(110)["memory"], "4194304Ki");
        assert_eq!(m.allocatable(110)["memory"], "4091904Ki");
        assert_eq!(
            m.allocatable(110)["ephemeral-storage"],
            (900u64 << 20).to_string()
        );
        assert_eq!(m.capacity(7)["pods"], "7");
    }

    #[test]
    fn pressure_signals() {
        let mut m = machine();
        assert!(!m.memory_pressure() && !m.disk_pressure() && !m.pid_pressure());
        m.memory_available_bytes = 50 << 20;
        m.disk_available_bytes = 50 << 20;
        m.pids_in_use = 950;
        assert!(m.memory_pressure() && m.disk_pressure() && m.pid_pressure());
    }

    #[test]
    fn reads_this_machine() {
        let m = Machine::read(Path::new("/"));
        assert!(m.cpus >= 1 && m.memory_bytes > 0 && m.disk_bytes > 0);
        assert_eq!(meminfo_kib("MemTotal:  2048 kB\n", "MemTotal"), 2048);
        assert_eq!(node_info()["operatingSystem"], "linux");
    }
}
