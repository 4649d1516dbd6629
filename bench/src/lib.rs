//! `rkube bench`: benchmarks of rkube components as real processes, with the upstream
//! component they replace as the baseline.
//!
//! `rkube bench apiserver` starts `rkube apiserver` (this very binary) and etcd 3.4 as
//! child processes on 127.0.0.1, drives them with a small HTTP/1.1 load generator over
//! keep-alive connections, and prints each figure with its goal. See `BENCHMARKS.md`.

mod apiserver;
pub mod etcd;
pub mod http;
pub mod load;
pub mod objects;
pub mod procs;
pub mod report;
pub mod stats;
pub mod watch;

pub use apiserver::ApiserverBenchFlags;

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
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Apiserver(flags) => apiserver::run(flags).await,
    }
}
