//! Flags of the node controllers (node lifecycle, taint eviction, node IPAM), with
//! kube-controller-manager's names and defaults.

use std::time::Duration;

use clap::Args;

use crate::node_ipam::cidr::ClusterCidr;
use crate::Error;

#[derive(Debug, Clone, Args)]
pub struct NodeFlags {
    /// Amount of time which we allow running Node to be unresponsive before marking it
    /// unhealthy (no Lease renewal and no status update).
    #[arg(long, default_value = "40s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub node_monitor_grace_period: Duration,

    /// The period for syncing NodeStatus in the node lifecycle controller.
    #[arg(long, default_value = "5s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub node_monitor_period: Duration,

    /// Amount of time which we allow starting Node to be unresponsive before marking it
    /// unhealthy.
    #[arg(long, default_value = "1m0s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub node_startup_grace_period: Duration,

    /// Number of nodes per second on which pods are deleted (NoExecute-tainted) in case
    /// of node failure when a zone is healthy.
    #[arg(long, default_value_t = 0.1, value_name = "float32")]
    pub node_eviction_rate: f64,

    /// Number of nodes per second on which pods are deleted in case of node failure when
    /// a zone is unhealthy; zeroed in clusters not larger than
    /// --large-cluster-size-threshold.
    #[arg(long, default_value_t = 0.01, value_name = "float32")]
    pub secondary_node_eviction_rate: f64,

    /// Number of nodes from which the cluster is treated as large for the eviction logic.
    #[arg(long, default_value_t = 50, value_name = "int32")]
    pub large_cluster_size_threshold: u32,

    /// Fraction of Nodes in a zone which need to be not Ready (minimum 3) for the zone to
    /// be treated as unhealthy.
    #[arg(long, default_value_t = 0.55, value_name = "float32")]
    pub unhealthy_zone_threshold: f64,

    /// Should CIDRs for Pods be allocated and set on the Nodes.
    #[arg(long, default_value_t = false, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub allocate_node_cidrs: bool,

    /// CIDR Range for Pods in cluster (comma-separated, one per IP family). Requires
    /// --allocate-node-cidrs to be true.
    #[arg(long, default_value = "", value_name = "string")]
    pub cluster_cidr: String,

    /// Mask size for node cidr in cluster. Default is 24 for IPv4 and 64 for IPv6.
    #[arg(long, value_name = "int32")]
    pub node_cidr_mask_size: Option<u8>,

    /// Mask size for IPv4 node cidr in dual-stack cluster. Default is 24.
    #[arg(long, value_name = "int32")]
    pub node_cidr_mask_size_ipv4: Option<u8>,

    /// Mask size for IPv6 node cidr in dual-stack cluster. Default is 64.
    #[arg(long, value_name = "int32")]
    pub node_cidr_mask_size_ipv6: Option<u8>,
}

impl NodeFlags {
    /// The cluster CIDRs to allocate from, each with its node mask size; empty when
    /// `--allocate-node-cidrs` is off.
    pub fn cluster_cidrs(&self) -> Result<Vec<ClusterCidr>, Error> {
        if !self.allocate_node_cidrs {
            return Ok(Vec::new());
        }
        let listed: Vec<&str> = self
            .cluster_cidr
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if listed.is_empty() {
            return Err(Error::Flags(
                "--allocate-node-cidrs needs --cluster-cidr".into(),
            ));
        }
        if listed.len() > 2 {
            return Err(Error::Flags(
                "--cluster-cidr: at most one CIDR per IP family".into(),
            ));
        }
        let dual_stack = listed.len() == 2;
        let mut out = Vec::new();
        for text in listed {
            let mut cidr = ClusterCidr::parse(text, 0)
                .map_err(|e| Error::Flags(format!("--cluster-cidr {text:?}: {e}")))?;
            let family_flag = if cidr.is_ipv6() {
                self.node_cidr_mask_size_ipv6
            } else {
                self.node_cidr_mask_size_ipv4
            };
            let mask = match (dual_stack, family_flag, self.node_cidr_mask_size) {
                (true, Some(m), _) | (false, _, Some(m)) | (false, Some(m), None) => m,
                _ if cidr.is_ipv6() => 64,
                _ => 24,
            };
            cidr = ClusterCidr::parse(text, mask)
                .map_err(|e| Error::Flags(format!("--cluster-cidr {text:?}: {e}")))?;
            out.push(cidr);
        }
        if out.len() == 2 && out[0].is_ipv6() == out[1].is_ipv6() {
            return Err(Error::Flags(
                "--cluster-cidr: two CIDRs must be of different IP families".into(),
            ));
        }
        Ok(out)
    }
}
