//! Finding the cgroup hierarchies, and mounting them when the kubelet's mount namespace
//! has none (`ip netns exec` remounts /sys, which leaves /sys/fs/cgroup empty).

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use super::{io, CgroupError, Hierarchy};

const CGROUP_MOUNT: &str = "/sys/fs/cgroup";

/// The hierarchy at /sys/fs/cgroup, mounted first in this mount namespace if needed.
pub fn ensure_mounted() -> Result<Hierarchy, CgroupError> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(io(Path::new("/proc/self/mountinfo")))?;
    let mounted = cgroup_mounts(&mountinfo);
    if mounted.get(CGROUP_MOUNT).map(String::as_str) == Some("cgroup2") {
        return Ok(Hierarchy::V2 {
            mount: CGROUP_MOUNT.into(),
        });
    }
    let groups = v1_hierarchies();
    if groups.is_empty() {
        mount_fs("cgroup2", Path::new(CGROUP_MOUNT), "cgroup2", None)?;
        return Ok(Hierarchy::V2 {
            mount: CGROUP_MOUNT.into(),
        });
    }
    let root = Path::new(CGROUP_MOUNT);
    if mounted.is_empty() && !is_mount_point(&mountinfo, CGROUP_MOUNT) {
        // A tmpfs to hold the per-controller mount points, as systemd makes it.
        mount_fs("tmpfs", root, "tmpfs", Some("mode=755"))?;
    }
    for controller in super::v1::CONTROLLERS {
        if mounted.contains_key(root.join(controller).to_string_lossy().as_ref()) {
            continue;
        }
        // Controllers that share a hierarchy (cpu,cpuacct) are mounted together.
        let Some(options) = groups.iter().find(|g| g.contains(&controller.to_string())) else {
            continue;
        };
        let options = options.join(",");
        let target = root.join(&options);
        std::fs::create_dir_all(&target).map_err(io(&target))?;
        let fresh =
            cgroup_mounts(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default());
        if !fresh.contains_key(target.to_string_lossy().as_ref()) {
            mount_fs("cgroup", &target, "cgroup", Some(&options))?;
        }
        if options != controller {
            let link = root.join(controller);
            if !link.exists() {
                std::os::unix::fs::symlink(&options, &link).map_err(io(&link))?;
            }
        }
    }
    Ok(Hierarchy::V1 {
        mount: root.to_path_buf(),
    })
}

fn mount_fs(
    source: &str,
    target: &Path,
    fstype: &str,
    data: Option<&str>,
) -> Result<(), CgroupError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    mount(Some(source), target, Some(fstype), flags, data)
        .map_err(|e| io(target)(std::io::Error::from(e)))
}

/// Mount point → filesystem type, for cgroup and cgroup2 mounts under /sys/fs/cgroup.
fn cgroup_mounts(mountinfo: &str) -> BTreeMap<String, String> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let point = *fields.get(4)?;
            let separator = fields.iter().position(|f| *f == "-")?;
            let fstype = *fields.get(separator + 1)?;
            (point.starts_with(CGROUP_MOUNT) && (fstype == "cgroup" || fstype == "cgroup2"))
                .then(|| (point.to_string(), fstype.to_string()))
        })
        .collect()
}

fn is_mount_point(mountinfo: &str, point: &str) -> bool {
    mountinfo
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(point))
}

/// The enabled v1 hierarchies (from /proc/cgroups), each as its controllers.
fn v1_hierarchies() -> Vec<Vec<String>> {
    let text = std::fs::read_to_string("/proc/cgroups").unwrap_or_default();
    let mut by_id: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [name, hierarchy, _, "1"] = fields[..] {
            if let Ok(id) = hierarchy.parse::<u32>() {
                if id != 0 {
                    by_id.entry(id).or_default().push(name.to_string());
                }
            }
        }
    }
    by_id.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cgroup_mounts_from_mountinfo() {
        let info = "30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
                    31 30 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
                    32 30 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
        let mounts = cgroup_mounts(info);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts["/sys/fs/cgroup/memory"], "cgroup");
        assert!(is_mount_point(info, "/sys/fs/cgroup"));
    }
}
