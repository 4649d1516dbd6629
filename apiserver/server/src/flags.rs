//! `rkube apiserver` flags: kube-apiserver's names and defaults.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

/// Flags of `rkube apiserver` (and the apiserver part of `rkube server`).
#[derive(Debug, Clone, Args)]
pub struct ApiserverFlags {
    /// The IP address on which to serve the insecure (HTTP, no authentication) port.
    #[arg(long, default_value = "127.0.0.1", value_name = "ip")]
    pub insecure_bind_address: IpAddr,

    /// The port on which to serve unsecured, unauthenticated access. 0 turns it off.
    #[arg(long, default_value_t = 8080, value_name = "int")]
    pub insecure_port: u16,

    /// The port on which to serve HTTPS with authentication and authorization. 0 turns it
    /// off. Until the secure-port issue lands, only 0 is accepted.
    #[arg(long, default_value_t = 0, value_name = "int")]
    pub secure_port: u16,

    /// The IP address on which to listen for the --secure-port port.
    #[arg(long, default_value = "0.0.0.0", value_name = "ip")]
    pub bind_address: IpAddr,

    /// The IP address on which to advertise the apiserver to members of the cluster
    /// (the `kubernetes` Service's endpoint and discovery's serverAddressByClientCIDRs).
    /// If blank or unspecified, the address served on is used (--insecure-bind-address
    /// while the secure port is off); if that is unspecified too, the address of the
    /// host's default-route interface, and the server does not start without one.
    #[arg(long, value_name = "ip")]
    pub advertise_address: Option<IpAddr>,

    /// List of etcd servers to connect with (scheme://ip:port), comma separated. Not
    /// supported yet: the embedded store under --data-dir is used.
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub etcd_servers: Vec<String>,

    /// The prefix to prepend to all resource paths in storage.
    #[arg(long, default_value = "/registry", value_name = "string")]
    pub etcd_prefix: String,

    /// A CIDR notation IP range from which to assign service cluster IPs.
    #[arg(long, default_value = "10.0.0.0/24", value_name = "string")]
    pub service_cluster_ip_range: String,

    /// A port range to reserve for services with NodePort visibility.
    #[arg(long, default_value = "30000-32767", value_name = "portRange")]
    pub service_node_port_range: String,

    /// Ordered list of plug-ins to do authorization on the secure port.
    #[arg(
        long,
        default_value = "AlwaysAllow",
        value_delimiter = ',',
        value_name = "strings"
    )]
    pub authorization_mode: Vec<String>,

    /// Deprecated: use --enable-admission-plugins or --disable-admission-plugins. When
    /// given, exactly these plug-ins run: AlwaysAdmit alone (the default of the
    /// documents' era) turns admission off. Implemented: AlwaysAdmit,
    /// NamespaceLifecycle, LimitRanger, DefaultTolerationSeconds, RuntimeClass,
    /// MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota.
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub admission_control: Vec<String>,

    /// Admission plugins to enable in addition to the default ones (NamespaceLifecycle,
    /// LimitRanger, DefaultTolerationSeconds, RuntimeClass, MutatingAdmissionWebhook,
    /// ValidatingAdmissionWebhook, ResourceQuota).
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub enable_admission_plugins: Vec<String>,

    /// Admission plugins to disable although they are in the default plugins list.
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub disable_admission_plugins: Vec<String>,

    /// If true, allow privileged containers.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub allow_privileged: bool,

    /// The directory where the TLS certs are located.
    #[arg(long, default_value = "/var/run/kubernetes", value_name = "string")]
    pub cert_dir: PathBuf,

    /// If non-empty, write the log to rkube-apiserver.log in this directory instead of
    /// standard error.
    #[arg(long, value_name = "string")]
    pub log_dir: Option<PathBuf>,

    /// Directory of the embedded store.
    #[arg(long, default_value = "/var/lib/rkube", value_name = "string")]
    pub data_dir: PathBuf,

    /// Skip fsync on writes (benchmarks of the non-durable path only; loses data on crash).
    #[arg(long, hide = true, default_value_t = false)]
    pub unsafe_no_fsync: bool,
}

/// A validated IPv4 CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (ip, len) = s
            .split_once('/')
            .ok_or_else(|| format!("invalid CIDR {s:?}"))?;
        let ip: std::net::Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("invalid CIDR {s:?}: only IPv4 is supported"))?;
        let prefix: u8 = len.parse().map_err(|_| format!("invalid CIDR {s:?}"))?;
        if !(8..=30).contains(&prefix) {
            return Err(format!(
                "invalid CIDR {s:?}: prefix length must be between 8 and 30"
            ));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Cidr {
            base: u32::from(ip) & mask,
            prefix,
        })
    }

    pub fn size(&self) -> u32 {
        1u32 << (32 - self.prefix)
    }
}

/// Parse `30000-32767` (also `30000+2767`, as upstream accepts).
pub fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    let bad = || format!("invalid port range {s:?}");
    if let Some((a, b)) = s.split_once('-') {
        let (a, b): (u16, u16) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a == 0 || a > b {
            return Err(bad());
        }
        Ok((a, b))
    } else if let Some((a, n)) = s.split_once('+') {
        let a: u16 = a.trim().parse().map_err(|_| bad())?;
        let n: u16 = n.trim().parse().map_err(|_| bad())?;
        Ok((a, a.checked_add(n).ok_or_else(bad)?))
    } else {
        let p: u16 = s.trim().parse().map_err(|_| bad())?;
        Ok((p, p))
    }
}

impl ApiserverFlags {
    /// Refuse what is asked for but not implemented, rather than ignoring it.
    pub fn check(&self) -> Result<(), String> {
        if self.secure_port != 0 {
            return Err(format!(
                "--secure-port={}: the secure (TLS) port is not implemented yet; use --secure-port=0 and the insecure port",
                self.secure_port
            ));
        }
        if !self.etcd_servers.is_empty() {
            return Err("--etcd-servers: the etcd backend is not implemented yet; omit it to use the embedded store under --data-dir".into());
        }
        if self.insecure_port == 0 && self.secure_port == 0 {
            return Err("both --insecure-port and --secure-port are 0: nothing to serve".into());
        }
        for mode in &self.authorization_mode {
            if mode != "AlwaysAllow" {
                return Err(format!(
                    "--authorization-mode={mode}: only AlwaysAllow is implemented yet"
                ));
            }
        }
        Cidr::parse(&self.service_cluster_ip_range)
            .map_err(|e| format!("--service-cluster-ip-range: {e}"))?;
        parse_port_range(&self.service_node_port_range)
            .map_err(|e| format!("--service-node-port-range: {e}"))?;
        if !self.etcd_prefix.starts_with('/') {
            return Err("--etcd-prefix must start with /".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_ranges() {
        let c = Cidr::parse("10.0.0.5/24").unwrap();
        assert_eq!(c.base, u32::from(std::net::Ipv4Addr::new(10, 0, 0, 0)));
        assert_eq!(c.size(), 256);
        assert!(Cidr::parse("10.0.0.0").is_err());
        assert_eq!(parse_port_range("30000-32767").unwrap(), (30000, 32767));
        assert_eq!(parse_port_range("30000+10").unwrap(), (30000, 30010));
        assert!(parse_port_range("5-1").is_err());
    }
}
