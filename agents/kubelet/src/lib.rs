//! `rkube kubelet`: the node agent. Registers its Node and keeps its Lease, then runs the
//! pods bound to it as Linux processes in namespaces and cgroups and reports their status.
//!
//! The kubelet is an API client like every agent: a reflector keeps the pods bound to this
//! node in a local cache, and per-pod workers converge each pod on what the cache says.

mod cgroups;
mod client;
mod downward;
mod events;
mod flags;
mod image_gc;
pub mod init;
mod log_rotation;
mod logs;
mod metrics;
mod network;
mod node;
mod objects;
mod pods;
mod runtime;
mod server;
mod static_pods;
mod time;
mod volumes;

use std::sync::Arc;

use k8s_openapi::api::core::v1::Node;
use kube::Api;

pub use flags::KubeletFlags;

/// Why the kubelet could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Flags(String),
    #[error(transparent)]
    ApiClient(#[from] rkube_agent::ClientError),
    #[error("talking to the apiserver: {0}")]
    Client(#[from] kube::Error),
    #[error(transparent)]
    Cgroup(#[from] cgroups::CgroupError),
    #[error("opening the image store: {0}")]
    Images(#[from] rkube_images::ImageError),
    #[error("{0} stopped")]
    Stopped(&'static str),
}

/// Runs the kubelet until a part of it stops (or the process is killed).
pub async fn run(flags: KubeletFlags) -> Result<(), Error> {
    flags.validate()?;
    let client = client::build(&flags).await?;
    let identity = node::NodeIdentity {
        name: flags.node_name()?,
        ip: flags.node_ip,
        kubelet_port: flags.port,
        max_pods: flags.max_pods,
        root_dir: flags.root_dir.clone(),
    };
    std::fs::create_dir_all(&flags.root_dir)
        .map_err(|e| Error::Flags(format!("--root-dir {}: {e}", flags.root_dir.display())))?;
    let nodes: Api<Node> = Api::all(client.clone());
    if !flags.register_node {
        return Err(Error::Flags(
            "--register-node=false: running without a Node object is not implemented yet".into(),
        ));
    }
    let node = node::register(
        &nodes,
        &identity,
        flags.labels()?,
        flags.taints()?,
        flags.pod_cidr.as_deref(),
    )
    .await?;
    let node_uid = node.metadata.uid.clone().unwrap_or_default();
    let mut tasks = tokio::task::JoinSet::new();
    let (changes_tx, changes) = tokio::sync::mpsc::unbounded_channel();
    let objects = objects::ClusterObjects::start(&client, &mut tasks, changes_tx);
    let (recorder, deliver_events) = events::Recorder::new(client.clone(), identity.name.clone());
    tasks.spawn(async move {
        deliver_events.await;
        "the event recorder"
    });
    let runtime = Arc::new(build_runtime(&flags, &node, objects, recorder)?);
    let cache = pods::PodCache::new();

    let statics = flags.pod_manifest_path.clone().map(|dir| {
        // Read once before anything starts, so the first pod list never mistakes a static
        // pod an earlier run left for an orphan.
        let pods: static_pods::StaticPods = Arc::new(std::sync::RwLock::new(static_pods::scan(
            &dir,
            &identity.name,
        )));
        let (changed_tx, changed) = tokio::sync::mpsc::unbounded_channel();
        let mirrors = Arc::new(tokio::sync::Notify::new());
        let every = flags.file_check_frequency;
        let watch = static_pods::watch_manifests(
            dir,
            identity.name.clone(),
            every,
            pods.clone(),
            changed_tx,
        );
        tasks.spawn(async move {
            watch.await;
            "the static pod manifest loop"
        });
        let node_ref = static_pods::NodeRef {
            name: identity.name.clone(),
            uid: node_uid.clone(),
        };
        let (client, store, wake) = (client.clone(), cache.reader.clone(), mirrors.clone());
        let keep = static_pods::keep_mirrors(client, node_ref, pods.clone(), store, every, wake);
        tasks.spawn(async move {
            keep.await;
            "the mirror pod loop"
        });
        pods::StaticSource {
            pods,
            changed,
            mirrors,
        }
    });
    tasks.spawn({
        let (client, name) = (client.clone(), identity.name.clone());
        async move {
            node::keep_lease(client, name, node_uid).await;
            "the lease loop"
        }
    });
    tasks.spawn({
        let (nodes, identity) = (nodes.clone(), identity.clone());
        let every = flags.node_status_update_frequency;
        async move {
            node::report_status_forever(nodes, identity, every).await;
            "the node status loop"
        }
    });
    let address = flags
        .address
        .or(flags.node_ip)
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    let mut ports = vec![(flags.port, flags.enable_debugging_handlers)];
    if flags.read_only_port != 0 {
        ports.push((flags.read_only_port, false));
    }
    let cpu_rates = server::KubeletServer::cpu_rates();
    for (port, debugging_handlers) in ports {
        let server = server::KubeletServer {
            node_name: identity.name.clone(),
            pods: cache.reader.clone(),
            rt: runtime.clone(),
            debugging_handlers,
            read_only: port != flags.port,
            node_logs_dir: flags.node_logs_dir.clone(),
            cpu_rates: cpu_rates.clone(),
        };
        let listener = tokio::net::TcpListener::bind((address, port))
            .await
            .map_err(|e| Error::Flags(format!("listening on {address}:{port}: {e}")))?;
        tasks.spawn(async move {
            if let Err(e) = server::serve(server, listener).await {
                tracing::error!("the kubelet server on port {port}: {e}");
            }
            "the kubelet server"
        });
    }
    if let Some(policy) = flags.image_gc() {
        let (rt, pods) = (runtime.clone(), cache.reader.clone());
        let node_events = runtime.events.about_node();
        tasks.spawn(async move {
            image_gc::collect_forever(rt, pods, policy, node_events).await;
            "the image garbage collection loop"
        });
    }
    tasks.spawn({
        let (rt, policy) = (runtime.clone(), flags.log_rotation());
        let every = flags.container_log_monitor_interval;
        async move {
            log_rotation::rotate_forever(rt, policy, every).await;
            "the container log rotation loop"
        }
    });
    tasks.spawn({
        let (client, name) = (client.clone(), identity.name.clone());
        async move {
            pods::run(client, name, runtime, cache, changes, statics).await;
            "the pod watch"
        }
    });
    match tasks.join_next().await {
        Some(Ok(name)) => Err(Error::Stopped(name)),
        Some(Err(e)) => Err(Error::Flags(format!("a kubelet loop panicked: {e}"))),
        None => Ok(()),
    }
}

/// Kills whatever runs under `cgroup_root` and removes its cgroups in every hierarchy,
/// waiting up to `wait` for the kernel to release them: for a tool that ran a kubelet
/// under a cgroup root of its own (`rkube bench kubelet`).
pub async fn remove_cgroup_root(cgroup_root: &str, wait: std::time::Duration) -> Result<(), Error> {
    let cgroups = cgroups::Cgroups::new(cgroups::ensure_mounted()?, cgroup_root);
    cgroups.kill_and_remove("", wait).await?;
    Ok(())
}

/// The node's runtime: cgroups (mounted in this mount namespace if missing), the image
/// store, and pod addresses from the Node's podCIDR (else --pod-cidr).
fn build_runtime(
    flags: &KubeletFlags,
    node: &Node,
    objects: objects::ClusterObjects,
    events: events::Recorder,
) -> Result<runtime::Runtime, Error> {
    let hierarchy = cgroups::ensure_mounted()?;
    tracing::info!(?hierarchy, "cgroups");
    let cidr = node
        .spec
        .as_ref()
        .and_then(|s| s.pod_cidr.clone())
        .or_else(|| flags.pod_cidr.clone());
    let ipam = match cidr {
        Some(cidr) => {
            let cidr = network::ipam::Cidr::parse(&cidr)
                .map_err(|e| Error::Flags(format!("the node's podCIDR: {e}")))?;
            Some(
                network::ipam::Ipam::open(&flags.root_dir, cidr)
                    .map_err(|e| Error::Flags(e.to_string()))?,
            )
        }
        None => None,
    };
    Ok(runtime::Runtime {
        root_dir: flags.root_dir.clone(),
        logs_dir: flags.pod_logs_dir.clone(),
        cgroups: cgroups::Cgroups::new(hierarchy, &flags.cgroup_root),
        pod_max_pids: (flags.pod_max_pids >= 0).then_some(flags.pod_max_pids),
        images: rkube_images::ImageStore::open(&flags.root_dir)?,
        ipam,
        node_ip: flags.node_ip,
        cluster_dns: flags.cluster_dns.clone(),
        cluster_domain: flags.cluster_domain.clone(),
        insecure_registries: flags.insecure_registries.clone(),
        exe: std::env::current_exe()
            .map_err(|e| Error::Flags(format!("finding the rkube binary: {e}")))?,
        live_logs: Default::default(),
        metrics: Default::default(),
        bridge_ready: tokio::sync::Mutex::new(false),
        objects,
        events,
        allocatable: downward::NodeFacts::allocatable(
            &node::machine::Machine::read(&flags.root_dir).allocatable(flags.max_pods),
        ),
    })
}
