//! The admin kubeconfig `rkube server` writes for users and for its own agents.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;

/// The URL clients on this machine use: a wildcard bind is reached through loopback.
pub fn server_url(listening: SocketAddr) -> String {
    let mut addr = listening;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}")
}

/// Writes the kubeconfig atomically (temp file + rename), readable by its owner only.
pub fn write_admin(path: &Path, server: &str) -> anyhow::Result<()> {
    let text = format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: rkube\n  \
           cluster:\n    \
             server: {server}\n\
         users:\n\
         - name: admin\n  \
           user: {{}}\n\
         contexts:\n\
         - name: rkube\n  \
           context:\n    \
             cluster: rkube\n    \
             user: admin\n\
         current-context: rkube\n"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("yaml.tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_bind_is_reached_through_loopback() {
        assert_eq!(
            server_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(server_url("[::]:80".parse().unwrap()), "http://[::1]:80");
        assert_eq!(
            server_url("10.1.2.3:6443".parse().unwrap()),
            "http://10.1.2.3:6443"
        );
    }
}
