//! `rkube`: one binary, many components (like k3s). Parse, dispatch, nothing else.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "rkube",
    version,
    about = "A Kubernetes-compatible cluster in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Kubernetes API server (embedded store; insecure HTTP port).
    Apiserver(rkube_apiserver::ApiserverFlags),
    /// Benchmark a component against real processes (`rkube bench apiserver`).
    Bench(rkube_bench::BenchArgs),
    /// Run the controller-manager: namespace, serviceaccount, replication, replicaset,
    /// deployment, endpoints, endpointslice, node-lifecycle, taint-eviction, node-ipam,
    /// resourcequota and garbage-collector controllers.
    ControllerManager(rkube_controllers::ControllerManagerFlags),
    /// Manage the node's image store (pull, import archives, list, inspect, remove) on the kubelet's root dir.
    Images(rkube_images::cli::ImagesArgs),
    /// Run the whole cluster in one process: the apiserver and the agents beside it
    /// (admin kubeconfig at <data-dir>/kubeconfig.yaml).
    Server(rkube_server::ServerFlags),
    /// Run the scheduler: bind pending pods to nodes (filters, scores, `pods/binding`).
    Scheduler(rkube_scheduler::SchedulerFlags),
    /// Run kube-proxy (iptables mode): Services and EndpointSlices to this node's iptables rules.
    Proxy(rkube_proxy::ProxyFlags),
    /// Run the conformance harness against a cluster (any cluster: it talks only through the API).
    Conformance(rkube_conformance::ConformanceFlags),
    /// Run the node agent: register the Node, keep its Lease, run the pods bound to it.
    Kubelet(rkube_kubelet::KubeletFlags),
    /// The kubelet's helper processes (pod namespaces, container shim and init).
    #[command(hide = true)]
    ContainerInit(rkube_kubelet::init::InitArgs),
}

/// Logs go to standard error, or to `<dir>/rkube-apiserver.log` with `--log-dir`.
fn init_logging(cli: &Cli) -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let log_dir = match &cli.command {
        Command::Apiserver(flags) => flags.log_dir.clone(),
        Command::Server(flags) => flags.apiserver.log_dir.clone(),
        _ => None,
    };
    match log_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("rkube-apiserver.log");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(file))
                .init();
        }
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(&cli)?;
    // The kubelet's helpers must stay single-threaded (namespace syscalls): no runtime.
    if let Command::ContainerInit(args) = cli.command {
        std::process::exit(rkube_kubelet::init::main(args));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Apiserver(flags) => runtime.block_on(rkube_apiserver::run(flags)),
        Command::Conformance(flags) => {
            let code = runtime.block_on(rkube_conformance::run(flags))?;
            std::process::exit(code)
        }
        Command::Bench(args) => runtime.block_on(rkube_bench::run(args)),
        Command::ControllerManager(flags) => Ok(runtime.block_on(rkube_controllers::run(flags))?),
        Command::Images(args) => Ok(runtime.block_on(rkube_images::cli::run(args))?),
        Command::Kubelet(flags) => Ok(runtime.block_on(rkube_kubelet::run(flags))?),
        Command::Server(flags) => runtime.block_on(rkube_server::run(flags)),
        Command::Scheduler(flags) => Ok(runtime.block_on(rkube_scheduler::run(flags))?),
        Command::Proxy(flags) => Ok(runtime.block_on(rkube_proxy::run(flags))?),
        Command::ContainerInit(_) => unreachable!("handled before the runtime starts"),
    }
}
