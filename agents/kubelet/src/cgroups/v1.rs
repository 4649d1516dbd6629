//! cgroup v1: one hierarchy per controller, mounted at `<mount>/<controller>`.

use std::path::Path;

use super::{mkdir, write, CgroupError, Limits, CPU_PERIOD_US};

/// The controllers the kubelet sets limits in, and cpuacct for the CPU time /stats reports
/// (every cgroup it makes exists in each).
pub const CONTROLLERS: [&str; 4] = ["cpu", "memory", "pids", "cpuacct"];

pub fn create(mount: &Path, rel: &Path, limits: &Limits) -> Result<(), CgroupError> {
    for controller in CONTROLLERS {
        mkdir(&mount.join(controller).join(rel))?;
    }
    let cpu = mount.join("cpu").join(rel);
    if let Some(shares) = limits.cpu_shares {
        write(&cpu, "cpu.shares", &shares.to_string())?;
    }
    if let Some(quota) = limits.cpu_quota_us {
        write(&cpu, "cpu.cfs_period_us", &CPU_PERIOD_US.to_string())?;
        write(&cpu, "cpu.cfs_quota_us", &quota.to_string())?;
    }
    if let Some(bytes) = limits.memory_bytes {
        write(
            &mount.join("memory").join(rel),
            "memory.limit_in_bytes",
            &bytes.to_string(),
        )?;
    }
    if let Some(max) = limits.pids_max {
        write(&mount.join("pids").join(rel), "pids.max", &max.to_string())?;
    }
    Ok(())
}
