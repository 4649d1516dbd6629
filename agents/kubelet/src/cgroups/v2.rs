//! cgroup v2: one unified hierarchy; a controller works in a cgroup only when every
//! ancestor enables it in `cgroup.subtree_control`.

use std::path::Path;

use super::{mkdir, write, CgroupError, Limits, CPU_PERIOD_US};

const CONTROLLERS: &str = "+cpu +memory +pids";

pub fn create(mount: &Path, rel: &Path, limits: &Limits) -> Result<(), CgroupError> {
    let mut dir = mount.to_path_buf();
    for part in rel.iter() {
        write(&dir, "cgroup.subtree_control", CONTROLLERS)?;
        dir.push(part);
        mkdir(&dir)?;
    }
    if let Some(shares) = limits.cpu_shares {
        write(&dir, "cpu.weight", &weight_for(shares).to_string())?;
    }
    if let Some(quota) = limits.cpu_quota_us {
        write(&dir, "cpu.max", &format!("{quota} {CPU_PERIOD_US}"))?;
    }
    if let Some(bytes) = limits.memory_bytes {
        write(&dir, "memory.max", &bytes.to_string())?;
    }
    if let Some(max) = limits.pids_max {
        write(&dir, "pids.max", &max.to_string())?;
    }
    Ok(())
}

/// cpu.weight for v1 cpu.shares, the conversion runc and the kubelet use.
fn weight_for(shares: u64) -> u64 {
    1 + (shares.saturating_sub(2) * 9999) / 262_142
}
