//! `rkube proxy` flags: kube-proxy's names and defaults.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use rkube_agent::ClientFlags;

use crate::cidr::Ipv4Cidr;

/// Flags of `rkube proxy`.
#[derive(Debug, Clone, Args)]
pub struct ProxyFlags {
    /// `--kubeconfig` and `--master`.
    #[command(flatten)]
    pub client: ClientFlags,

    /// If non-empty, use this string as the node's name instead of the hostname.
    #[arg(long, value_name = "string")]
    pub hostname_override: Option<String>,

    /// Which proxy mode to use: 'iptables' or 'nftables' ('' means iptables).
    #[arg(long, default_value = "iptables", value_name = "ProxyMode")]
    pub proxy_mode: String,

    /// The CIDR range of the pods in the cluster. Traffic to a service cluster IP from
    /// outside this range is masqueraded.
    #[arg(long, value_name = "string", value_parser = parse_cidr)]
    pub cluster_cidr: Option<Ipv4Cidr>,

    /// A list of CIDR ranges that contain valid node IPs, or 'primary' for the node's
    /// primary IP. Node ports are served on the node's addresses in these ranges
    /// (including 127.0.0.1 when it is in one). Empty: every local address.
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub nodeport_addresses: Vec<String>,

    /// SNAT all traffic sent via Service cluster IPs.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub masquerade_all: bool,

    /// The maximum interval of how often iptables rules are fully resynced (e.g. '5s', '1m', '2h22m').
    #[arg(long, default_value = "30s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub iptables_sync_period: Duration,

    /// The minimum period between iptables rule resyncs (e.g. '5s', '1m', '2h22m'). A
    /// value of 0 means every Service or EndpointSlice change results in an immediate
    /// iptables resync.
    #[arg(long, default_value = "1s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub iptables_min_sync_period: Duration,

    /// The bit of the fwmark space to mark packets requiring SNAT with. Must be within [0, 31].
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u8).range(0..=31), value_name = "int32")]
    pub iptables_masquerade_bit: u8,

    /// If false, node ports are not served on 127.0.0.1 (and route_localnet is left alone).
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub iptables_localhost_nodeports: bool,

    /// The IP address and port for the metrics server to serve on; empty to disable.
    #[arg(long, default_value = "127.0.0.1:10249", value_name = "ipport")]
    pub metrics_bind_address: String,

    /// The IP address and port for the health check server to serve on; empty to disable.
    #[arg(long, default_value = "0.0.0.0:10256", value_name = "ipport")]
    pub healthz_bind_address: String,

    /// If true cleanup iptables rules and exit.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub cleanup: bool,
}

impl ProxyFlags {
    /// `host:port` of an optional server flag (`""` disables it; a bare port binds all).
    pub fn bind_address(value: &str) -> Result<Option<SocketAddr>, String> {
        if value.is_empty() {
            return Ok(None);
        }
        value
            .parse()
            .map(Some)
            .map_err(|e| format!("invalid address {value:?}: {e}"))
    }
}

fn parse_cidr(s: &str) -> Result<Ipv4Cidr, String> {
    s.parse().map_err(|e: crate::cidr::CidrError| e.to_string())
}
