//! Readings of the node itself from /proc and statvfs, for `/stats/summary`, `/spec/` and
//! the metrics: network interfaces, memory, filesystems, the kubelet process. Every reader
//! tolerates a missing file (an empty answer, never a panic).

use std::path::Path;

use serde_json::{json, Value};

/// One interface's counters from `/proc/<pid>/net/dev`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_errors: u64,
    pub tx_bytes: u64,
    pub tx_errors: u64,
}

impl Interface {
    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "rxBytes": self.rx_bytes, "rxErrors": self.rx_errors,
               "txBytes": self.tx_bytes, "txErrors": self.tx_errors})
    }
}

/// The interfaces of a `net/dev` file, loopback and the pods' veths left out.
pub fn interfaces(net_dev: &str) -> Vec<Interface> {
    net_dev
        .lines()
        .skip(2)
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let name = name.trim();
            if name == "lo" || name.starts_with("veth") {
                return None;
            }
            let f: Vec<u64> = counters
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            (f.len() >= 16).then(|| Interface {
                name: name.to_string(),
                rx_bytes: f[0],
                rx_errors: f[2],
                tx_bytes: f[8],
                tx_errors: f[10],
            })
        })
        .collect()
}

/// The interface of the default route in a `net/route` file.
pub fn default_interface(net_route: &str) -> Option<String> {
    net_route.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 1 && f[1] == "00000000").then(|| f[0].to_string())
    })
}

/// NetworkStats of the network namespace `/proc/<pid>` is in (`self` for the node's).
pub fn network_stats(proc_dir: &Path, time: &str) -> Option<Value> {
    let dev = std::fs::read_to_string(proc_dir.join("net/dev")).ok()?;
    let all = interfaces(&dev);
    let route = std::fs::read_to_string(proc_dir.join("net/route")).unwrap_or_default();
    let default = default_interface(&route);
    let main = all
        .iter()
        .find(|i| Some(&i.name) == default.as_ref())
        .or_else(|| all.iter().find(|i| i.name == "eth0"))
        .or_else(|| all.first())?;
    let mut v = main.to_json();
    v["time"] = json!(time);
    v["interfaces"] = Value::Array(all.iter().map(Interface::to_json).collect());
    Some(v)
}

/// `Key: value kB` lines of /proc/meminfo, in bytes.
pub fn meminfo_bytes(meminfo: &str, key: &str) -> u64 {
    crate::node::machine::meminfo_kib(meminfo, key) * 1024
}

/// `key value` lines (/proc/vmstat).
pub fn keyed(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// FsStats of the filesystem holding `path`; `used` replaces the filesystem's own used
/// bytes when the stat is about what one consumer wrote (a container's rootfs, its logs).
pub fn fs_stats(path: &Path, time: &str, used: Option<(u64, u64)>) -> Value {
    let Ok(s) = nix::sys::statvfs::statvfs(path) else {
        return json!({"time": time});
    };
    let frag = s.fragment_size();
    let (used_bytes, inodes_used) = used.unwrap_or((
        (s.blocks() - s.blocks_free()) * frag,
        s.files() - s.files_free(),
    ));
    json!({
        "time": time,
        "availableBytes": s.blocks_available() * frag,
        "capacityBytes": s.blocks() * frag,
        "usedBytes": used_bytes,
        "inodesFree": s.files_free(),
        "inodes": s.files(),
        "inodesUsed": inodes_used,
    })
}

/// Bytes and inodes used below `dir` (not following symlinks; at most `limit` entries,
/// so a huge tree cannot stall a stats request).
pub fn disk_usage(dir: &Path, limit: usize) -> (u64, u64) {
    let (mut bytes, mut inodes) = (0u64, 0u64);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            inodes += 1;
            if inodes as usize > limit {
                return (bytes, inodes);
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                bytes += meta.len();
            }
        }
    }
    (bytes, inodes)
}

/// The kubelet process: CPU time (ns), resident memory (bytes) and start (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_ns: u64,
    pub rss_bytes: u64,
    pub start_unix: f64,
}

/// The kernel's USER_HZ, which /proc/<pid>/stat counts in (100 on every Linux platform).
const CLOCK_TICKS: u64 = 100;

/// The kubelet's own process (`/proc/self`).
pub fn this_process() -> ProcessStats {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let btime = keyed(
        &std::fs::read_to_string("/proc/stat").unwrap_or_default(),
        "btime",
    );
    process_stats(&stat, &status, btime)
}

fn process_stats(stat: &str, status: &str, btime: u64) -> ProcessStats {
    // Fields after the command name (which may hold spaces), counted from field 3.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
    let ticks = field(14) + field(15);
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    ProcessStats {
        cpu_ns: ticks * (1_000_000_000 / CLOCK_TICKS),
        rss_bytes: rss_kib * 1024,
        start_unix: btime as f64 + field(22) as f64 / CLOCK_TICKS as f64,
    }
}

/// When the machine booted, as metav1.Time.
pub fn boot_time() -> String {
    let btime = keyed(
        &std::fs::read_to_string("/proc/stat").unwrap_or_default(),
        "btime",
    );
    rfc3339_unix(btime as f64)
}

pub fn rfc3339_unix(seconds: f64) -> String {
    jiff::Timestamp::from_second(seconds as i64)
        .map(crate::time::rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_DEV: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:  123456     300    2    0    0     0          0         0    65432     200    1    0    0     0       0          0
vethab12:     5       1    0    0    0     0          0         0        5       1    0    0    0     0       0          0
  cni0:      10       1    0    0    0     0          0         0       20       1    0    0    0     0       0          0
";

    #[test]
    fn reads_interfaces_and_the_default_route() {
        let all = interfaces(NET_DEV);
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0],
            Interface {
                name: "eth0".into(),
                rx_bytes: 123_456,
                rx_errors: 2,
                tx_bytes: 65_432,
                tx_errors: 1,
            }
        );
        let route = "Iface\tDestination\tGateway \tFlags\n\
                     cni0\t00014DA0\t00000000\t0001\n\
                     eth0\t00000000\t01004D0A\t0003\n";
        assert_eq!(default_interface(route).as_deref(), Some("eth0"));
        assert_eq!(default_interface(""), None);
    }

    #[test]
    fn reads_a_process() {
        let stat = "42 (rkube (kube)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1000 \
                    12345 300 0 0 0";
        let status = "Name:\trkube\nVmRSS:\t   20480 kB\n";
        let p = process_stats(stat, status, 1_700_000_000);
        assert_eq!(p.cpu_ns, 3_000_000_000);
        assert_eq!(p.rss_bytes, 20 << 20);
        assert_eq!(p.start_unix, 1_700_000_010.0);
        let me = this_process();
        assert!(me.rss_bytes > 0 && me.start_unix > 0.0);
    }

    #[test]
    fn disk_usage_counts_files_and_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/f"), vec![0u8; 1000]).unwrap();
        std::fs::write(dir.path().join("g"), vec![0u8; 24]).unwrap();
        assert_eq!(disk_usage(dir.path(), 100), (1024, 3));
        assert!(disk_usage(dir.path(), 1).1 <= 2);
        assert_eq!(keyed("pgfault 12\npgmajfault 3\n", "pgmajfault"), 3);
    }
}
