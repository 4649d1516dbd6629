//! `rkube proxy`: kube-proxy's iptables and nftables modes.
//!
//! Services and EndpointSlices are watched into local caches; every sync brings the
//! node's desired ruleset in memory up to date (rendering only the service ports that
//! changed, [`render_cache`]; no I/O) and applies it with one `iptables-restore
//! --noflush` per table, or one `nft -f` transaction ([`nft`]) — after the first full
//! sync, only what changed.

pub mod chains;
pub mod cidr;
mod cleanup;
pub mod conntrack;
pub mod convert;
#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod fixtures;
mod flags;
pub mod iptables;
mod limiter;
pub mod model;
pub mod nft;
pub mod node;
mod observe;
mod proxier;
pub mod render;
pub mod render_cache;
pub mod restore;
pub mod ruleset;
mod serve;
pub mod slice_index;
pub mod syncer;
pub mod transactions;

#[cfg(test)]
mod render_tests;

use std::sync::Arc;

pub use cleanup::{cleanup, cleanup_input};
pub use flags::ProxyFlags;
pub use rkube_agent::duration::parse_duration;

use crate::iptables::{Backend, SystemIptables};
use crate::observe::{Health, Metrics, Observer};
use crate::render::RenderConfig;

/// Why the proxy could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Flags(String),
    #[error(transparent)]
    ApiClient(#[from] rkube_agent::ClientError),
    #[error("building the API client: {0}")]
    Client(#[from] kube::Error),
    #[error(transparent)]
    NodePortAddresses(#[from] node::NodePortAddressError),
    #[error("cleanup: {0}")]
    Cleanup(#[from] iptables::IptablesError),
    #[error("cleanup: {0}")]
    NftCleanup(nft::NftError),
    #[error("serving {what} on {addr}: {source}")]
    Serve {
        what: &'static str,
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// Run the proxy until the process is killed (or, with `--cleanup`, clean up and return).
pub async fn run(flags: ProxyFlags) -> Result<(), Error> {
    let nftables = match flags.proxy_mode.as_str() {
        "" | "iptables" => false,
        "nftables" => true,
        other => {
            return Err(Error::Flags(format!(
                "--proxy-mode {other:?} is not implemented: iptables or nftables"
            )))
        }
    };
    let healthz_addr =
        ProxyFlags::bind_address(&flags.healthz_bind_address).map_err(Error::Flags)?;
    let metrics_addr =
        ProxyFlags::bind_address(&flags.metrics_bind_address).map_err(Error::Flags)?;
    if flags.cleanup {
        return run_cleanup();
    }
    let client = flags.client.build().await?;
    let node_name = node::node_name(flags.hostname_override.as_deref());
    let addresses = node::local_addresses();
    let nodeport_addresses = node::nodeport_addresses(&flags.nodeport_addresses, &addresses)?;
    let localhost_nodeports =
        flags.iptables_localhost_nodeports && node::includes_loopback(&flags.nodeport_addresses);
    if localhost_nodeports {
        if let Err(e) = node::enable_route_localnet() {
            tracing::warn!(error = %e, "cannot set route_localnet: node ports on 127.0.0.1 will not answer");
        }
    }
    let config = RenderConfig {
        masquerade_all: flags.masquerade_all,
        masquerade_bit: flags.iptables_masquerade_bit,
        cluster_cidr: flags.cluster_cidr,
        node_ip: node::primary_ip(&addresses),
        nodeport_addresses,
        localhost_nodeports,
        conntrack_tcp_liberal: node::conntrack_tcp_be_liberal(),
        random_fully: true,
    };

    let health = Arc::new(Health::new(flags.iptables_sync_period * 2));
    let metrics = Arc::new(Metrics::new());
    let mut servers = tokio::task::JoinSet::new();
    for (what, addr, with_metrics) in [
        ("healthz", healthz_addr, false),
        ("metrics", metrics_addr, true),
    ] {
        let Some(addr) = addr else { continue };
        let endpoints = serve::Endpoints {
            health: health.clone(),
            metrics: with_metrics.then(|| metrics.clone()),
        };
        servers.spawn(async move {
            serve::serve(addr, endpoints)
                .await
                .map_err(|source| Error::Serve { what, addr, source })
        });
    }
    let observer = Observer::new(health, metrics).with_events(client.clone(), &node_name);
    let periods = proxier::Periods {
        full: flags.iptables_sync_period,
        min: flags.iptables_min_sync_period,
    };
    let sync_loop = async move {
        if nftables {
            tracing::info!(node = %node_name, "starting kube-proxy (nftables mode)");
            let syncer =
                nft::syncer::NftSyncer::new(nft::SystemNft, conntrack::SystemConntrack, config);
            proxier::run(client, syncer, node_name, periods, observer).await
        } else {
            let backend = Backend::detect();
            tracing::info!(node = %node_name, backend = backend.name(), "starting kube-proxy (iptables mode)");
            let syncer = syncer::Syncer::new(
                SystemIptables { backend },
                conntrack::SystemConntrack,
                config,
            );
            proxier::run(client, syncer, node_name, periods, observer).await
        }
    };
    tokio::select! {
        _ = sync_loop => Err(Error::Flags("the sync loop stopped".into())),
        Some(Ok(Err(e))) = servers.join_next() => Err(e),
    }
}

/// `--cleanup`: both iptables backends, whichever holds our rules, and the nftables
/// table (upstream cleans up every mode's leftovers too).
fn run_cleanup() -> Result<(), Error> {
    match nft::cleanup(&nft::SystemNft) {
        Ok(true) => tracing::info!("removed the nftables table ip kube-proxy"),
        Ok(false) => {}
        // No nft binary, or no nf_tables in the kernel: nothing of ours there.
        Err(nft::NftError::Spawn(_)) => {}
        Err(e) => return Err(Error::NftCleanup(e)),
    }
    for backend in [Backend::Nft, Backend::Legacy] {
        let ipt = SystemIptables { backend };
        match cleanup(&ipt) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                backend = backend.name(),
                tables = n,
                "removed kube-proxy rules"
            ),
            // A backend whose tools or kernel modules are missing holds nothing of ours.
            Err(iptables::IptablesError::Spawn { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
