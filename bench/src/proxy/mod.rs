//! `rkube bench proxy`: kube-proxy's sync cost and network programming latency, inside
//! network namespaces the benchmark creates (the host's iptables are never touched).
//!
//! 1. Full sync of N services × M endpoints through rkube-proxy's syncer (render, one
//!    `iptables-restore --noflush` per table), beside `iptables-restore` alone on the same
//!    input in a fresh namespace (the kernel's floor); on the nft backend also the same
//!    rules as one transaction per table, as upstream sends them (`sync.rs`).
//! 2. A one-service change at the largest N (a partial sync), beside the raw restore of
//!    the same partial input and, in the same namespace, the kernel's floor: one new rule
//!    sent through our own netlink client, no tool in the way (`kernel_floor.rs`,
//!    `netlink.rs`), or on iptables-legacy one `iptables-legacy -A`.
//! 3. The same for `--proxy-mode nftables`, beside `nft -f` alone on the same
//!    transaction (`nft.rs`).
//! 4. Network programming latency through a real apiserver and proxy, in each mode of
//!    `--modes` (`latency.rs`).
//!
//! Every step is bounded by `--timeout`, so the benchmark ends by itself.

mod kernel_floor;
mod latency;
pub(crate) mod netlink;
pub(crate) mod netns;
mod nft;
mod sync;

use std::time::Duration;

use anyhow::bail;
use rkube_proxy::iptables::Backend;

#[derive(Debug, Clone, clap::Args)]
pub struct ProxyBenchFlags {
    /// Service counts for the full-sync figures (the largest is used for the change).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub services: Vec<usize>,
    /// Endpoints per service.
    #[arg(long, default_value_t = 5)]
    pub endpoints: usize,
    /// Repetitions of each full-sync measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// One-service changes measured at the largest count.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Services in the cluster for the network programming latency run.
    #[arg(long, default_value_t = 1000)]
    pub latency_services: usize,
    /// EndpointSlice writes per second during the latency run.
    #[arg(long, default_value_t = 10.0)]
    pub change_rate: f64,
    /// Length of the latency run, in seconds.
    #[arg(long, default_value_t = 30)]
    pub latency_seconds: u64,
    /// Proxy modes whose sync and latency figures are measured: iptables, nftables.
    #[arg(long, value_delimiter = ',', default_value = "iptables,nftables")]
    pub modes: Vec<String>,
    /// iptables backend for the sync figures: auto (upstream's detection), nft or legacy.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Bound, in seconds, on each raw restore and on waiting for the proxy.
    #[arg(long, default_value_t = 180)]
    pub timeout: u64,
}

pub async fn run(flags: ProxyBenchFlags) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(&flags)).await?
}

fn run_blocking(flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let backend = match flags.backend.as_str() {
        // What rkube proxy would choose in a fresh namespace: no rules in either
        // backend, so the system's `iptables`.
        "auto" => netns::BenchNetns::new("detect")?.run(|| Ok(Backend::detect()))?,
        "nft" => Backend::Nft,
        "legacy" => Backend::Legacy,
        other => bail!("--backend {other:?}: auto, nft or legacy"),
    };
    println!(
        "rkube bench proxy: iptables backend {}, {} endpoints per service, median of {} runs, load average {}",
        backend.name(),
        flags.endpoints,
        flags.repeat,
        netns::load_average()
    );
    for mode in &flags.modes {
        match mode.as_str() {
            "iptables" => {
                for &n in &flags.services {
                    sync::full_sync_figures(backend, n, flags)?;
                }
                if let Some(&largest) = flags.services.iter().max() {
                    sync::change_figures(backend, largest, flags)?;
                }
            }
            "nftables" => {
                for &n in &flags.services {
                    nft::full_sync_figures(n, flags)?;
                }
                if let Some(&largest) = flags.services.iter().max() {
                    nft::change_figures(largest, flags)?;
                }
            }
            other => bail!("--modes {other:?}: iptables or nftables"),
        }
    }
    if flags.latency_services > 0 {
        latency::latency_figures(flags)?;
    }
    Ok(())
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}
