//! The node side of pod networking, driven through iproute2 (`ip -batch`, one process per
//! step): bridge `cni0` holding the podCIDR's gateway address, and per pod a veth pair
//! whose pod end is `eth0` in the pod's network namespace.

use std::net::Ipv4Addr;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::ipam::Cidr;

pub const BRIDGE: &str = "cni0";

#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct LinkError {
    what: String,
    detail: String,
}

/// Runs `ip [prefix…] -batch -` with `commands` on stdin.
async fn ip_batch(prefix: &[&str], commands: &str, what: &str) -> Result<(), LinkError> {
    let fail = |detail: String| LinkError {
        what: what.to_string(),
        detail,
    };
    let mut child = tokio::process::Command::new(prefix[0])
        .args(&prefix[1..])
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("running {}: {e}", prefix[0])))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(commands.as_bytes())
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
}

/// Creates the bridge with the gateway address if it is missing.
pub async fn ensure_bridge(cidr: &Cidr) -> Result<(), LinkError> {
    let exists = tokio::process::Command::new("ip")
        .args(["link", "show", BRIDGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map(|s| s.success())
        .unwrap_or(false);
    if !exists {
        ip_batch(
            &["ip"],
            &format!("link add {BRIDGE} type bridge\n"),
            "creating the bridge",
        )
        .await?;
    }
    let addresses = tokio::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show", "dev", BRIDGE])
        .output()
        .await
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let gateway = format!("{}/{}", cidr.gateway(), cidr.prefix);
    let mut commands = String::new();
    if !addresses.contains(&format!(" {gateway} ")) {
        commands.push_str(&format!("addr add {gateway} dev {BRIDGE}\n"));
    }
    commands.push_str(&format!("link set {BRIDGE} up\n"));
    ip_batch(&["ip"], &commands, "configuring the bridge").await
}

/// Wires the network namespace of process `pid`: a veth from the bridge, `ip` on eth0,
/// loopback up, and a default route through the bridge.
pub async fn attach(pid: u32, host_veth: &str, ip: Ipv4Addr, cidr: &Cidr) -> Result<(), LinkError> {
    ip_batch(
        &["ip"],
        &format!(
            "link add {host_veth} type veth peer name eth0 netns {pid}\n\
             link set {host_veth} master {BRIDGE} up\n"
        ),
        "creating the pod's veth",
    )
    .await?;
    let netns = format!("--net=/proc/{pid}/ns/net");
    ip_batch(
        &["nsenter", &netns, "ip"],
        &format!(
            "link set lo up\n\
             addr add {ip}/{prefix} dev eth0\n\
             link set eth0 up\n\
             route add default via {gateway}\n",
            prefix = cidr.prefix,
            gateway = cidr.gateway()
        ),
        "configuring the pod's eth0",
    )
    .await
}

/// Removes a pod's veth if it is still there (it also goes with the pod's namespace).
pub async fn detach(host_veth: &str) {
    let _ = tokio::process::Command::new("ip")
        .args(["link", "del", host_veth])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// The node-side veth name for a pod: short enough for IFNAMSIZ, stable per pod UID.
pub fn veth_name(pod_uid: &str) -> String {
    let hex: String = pod_uid
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(11)
        .collect();
    format!("veth{hex}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn veth_names_fit_ifnamsiz() {
        let name = super::veth_name("6f1c2d3e-aaaa-bbbb-cccc-1234567890ab");
        assert_eq!(name, "veth6f1c2d3eaaa");
        assert!(name.len() <= 15);
    }
}
