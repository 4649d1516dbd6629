//! `rkube bench`: benchmarks of rkube components as real processes, with the upstream
//! component they replace as the baseline.
//!
//! `rkube bench apiserver` starts `rkube apiserver` (this very binary) and etcd 3.4 as
//! child processes on 127.0.0.1, drives them with a small HTTP/1.1 load generator over
//! keep-alive connections, and prints each figure with its goal. See `BENCHMARKS.md`.

mod apiserver;
mod busybox_image;
mod controllers;
pub mod etcd;
mod floor;
pub mod http;
mod kubelet;
pub mod load;
pub mod objects;
pub mod procs;
mod proxy;
pub mod report;
mod run_flags;
mod scheduler;
pub mod stats;
pub mod watch;

pub use apiserver::ApiserverBenchFlags;
pub use controllers::ControllersBenchFlags;
pub use kubelet::KubeletBenchFlags;
pub use proxy::ProxyBenchFlags;
pub use scheduler::SchedulerBenchFlags;

/// `rkube bench <target>`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchTarget {
    /// Benchmark `rkube apiserver` (GET, CREATE, LIST, WATCH, memory, start-up) against
    /// etcd 3.4's JSON gateway and the embedded store.
    Apiserver(ApiserverBenchFlags),
    /// Benchmark `rkube scheduler`: pods bound per second with 1,000 Node objects and
    /// 10,000 pending pods, against the raw rate of binding calls.
    Scheduler(SchedulerBenchFlags),
    /// Benchmark `rkube proxy`: full and one-service syncs at 1,000 and 10,000 services
    /// beside `iptables-restore` alone and the kernel's floor (one rule over netlink),
    /// and network programming latency, in a netns.
    Proxy(ProxyBenchFlags),
    /// Benchmark `rkube controller-manager` with `rkube scheduler`: a Deployment scaled
    /// from 0 to 1,000 replicas on 100 hollow Nodes until every pod is bound, against the
    /// same pods created and bound directly.
    Controllers(ControllersBenchFlags),
    /// Benchmark `rkube kubelet`: pod start latency (API create → Running via watch) over
    /// 100 pods beside `podman run --rm` of the same image, and the kubelet's idle CPU and
    /// RSS with those pods running, in a netns.
    Kubelet(KubeletBenchFlags),
}

/// Run a benchmark. On SIGINT or SIGTERM the benchmark is dropped, which kills its child
/// processes and removes its temporary directories, and an error is returned.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let bench = async {
        match args.target {
            BenchTarget::Apiserver(flags) => apiserver::run(flags).await,
            BenchTarget::Scheduler(flags) => scheduler::run(flags).await,
            BenchTarget::Proxy(flags) => proxy::run(flags).await,
            BenchTarget::Controllers(flags) => controllers::run(flags).await,
            BenchTarget::Kubelet(flags) => kubelet::run(flags).await,
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = bench => r,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted"),
        _ = term.recv() => anyhow::bail!("terminated"),
    }
}
