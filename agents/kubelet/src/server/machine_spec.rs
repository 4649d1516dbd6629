//! `/spec/`: the machine, in cAdvisor's MachineInfo shape (num_cores, memory_capacity,
//! machine_id, filesystems, network_devices, topology, …), read from /proc and /sys.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::runtime::Runtime;

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Sockets, physical cores and the highest CPU frequency, from /proc/cpuinfo.
#[derive(Debug, Default, PartialEq, Eq)]
struct CpuTopology {
    sockets: usize,
    physical_cores: usize,
    max_khz: u64,
}

fn cpu_topology(cpuinfo: &str) -> CpuTopology {
    let mut sockets = BTreeSet::new();
    let mut cores = BTreeSet::new();
    let mut processors = 0;
    let mut max_mhz: f64 = 0.0;
    let mut socket = String::new();
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => processors += 1,
            "physical id" => {
                socket = value.to_string();
                sockets.insert(value.to_string());
            }
            "core id" => {
                cores.insert((socket.clone(), value.to_string()));
            }
            "cpu MHz" => max_mhz = max_mhz.max(value.parse().unwrap_or(0.0)),
            _ => {}
        }
    }
    CpuTopology {
        sockets: sockets.len().max(1),
        physical_cores: if cores.is_empty() {
            processors
        } else {
            cores.len()
        },
        max_khz: (max_mhz * 1000.0) as u64,
    }
}

/// The block devices' filesystems cAdvisor lists: here the one the kubelet's root dir is on.
fn filesystems(rt: &Runtime) -> Vec<Value> {
    let Ok(s) = nix::sys::statvfs::statvfs(&rt.root_dir) else {
        return Vec::new();
    };
    let mounts = read("/proc/self/mounts");
    // The mount whose point is the longest prefix of the root dir names device and type.
    let root = std::fs::canonicalize(&rt.root_dir).unwrap_or_else(|_| rt.root_dir.clone());
    let (device, fstype) = mounts
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && root.starts_with(f[1])).then(|| (f[1].len(), f[0], f[2]))
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, d, t)| (d.to_string(), t.to_string()))
        .unwrap_or_default();
    vec![json!({
        "device": device,
        "capacity": s.blocks() * s.fragment_size(),
        "type": fstype,
        "inodes": s.files(),
        "has_inodes": true,
    })]
}

fn network_devices() -> Vec<Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/sys/class/net")
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "lo" || name.starts_with("veth") {
            continue;
        }
        let dir = entry.path();
        out.push(json!({
            "name": name,
            "mac_address": read(dir.join("address")),
            "speed": read(dir.join("speed")).parse::<i64>().unwrap_or(0).max(0),
            "mtu": read(dir.join("mtu")).parse::<u64>().unwrap_or(0),
        }));
    }
    out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    out
}

pub fn machine_info(rt: &Runtime) -> Value {
    let machine = crate::node::machine::Machine::read(&rt.root_dir);
    let topology = cpu_topology(&read("/proc/cpuinfo"));
    json!({
        "timestamp": crate::time::now_rfc3339(),
        "num_cores": machine.cpus,
        "num_physical_cores": topology.physical_cores,
        "num_sockets": topology.sockets,
        "cpu_frequency_khz": topology.max_khz,
        "memory_capacity": machine.memory_bytes,
        "swap_capacity": crate::node::machine::meminfo_kib(&read("/proc/meminfo"), "SwapTotal") * 1024,
        "memory_by_type": {},
        "nvm": {"memory_mode_capacity": 0, "app direct_mode_capacity": 0, "avg_power_budget": 0},
        "hugepages": [],
        "machine_id": read("/etc/machine-id"),
        "system_uuid": read("/sys/class/dmi/id/product_uuid"),
        "boot_id": read("/proc/sys/kernel/random/boot_id"),
        "filesystems": filesystems(rt),
        "disk_map": {},
        "network_devices": network_devices(),
        "topology": [],
        "cloud_provider": "Unknown",
        "instance_type": "Unknown",
        "instance_id": "None",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_sockets_and_physical_cores() {
        let cpuinfo = "processor\t: 0\nphysical id\t: 0\ncore id\t: 0\ncpu MHz\t\t: 2400.000\n\n\
                       processor\t: 1\nphysical id\t: 0\ncore id\t: 0\ncpu MHz\t\t: 2600.500\n\n\
                       processor\t: 2\nphysical id\t: 1\ncore id\t: 0\ncpu MHz\t\t: 2400.000\n";
        assert_eq!(
            cpu_topology(cpuinfo),
            CpuTopology {
                sockets: 2,
                physical_cores: 2,
                max_khz: 2_600_500,
            }
        );
        // A VM's cpuinfo without topology: each processor is a core on one socket.
        assert_eq!(
            cpu_topology("processor : 0\nprocessor : 1\n"),
            CpuTopology {
                sockets: 1,
                physical_cores: 2,
                max_khz: 0,
            }
        );
    }
}
