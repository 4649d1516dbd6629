//! `rkube controller-manager`: control loops that turn desired state into objects.
//!
//! Every controller is an API client: reflectors keep local caches, kube-runtime's
//! applier is the work queue (one reconcile per object at a time, retries with
//! per-object exponential backoff; the namespace controller and the garbage collector
//! use [`workqueue`], first in, first out like client-go's), and each reconcile is
//! level-triggered: it reads the caches and converges, so a restart at any moment loses
//! nothing.

mod cache_lag;
mod deployment;
mod endpoints;
mod endpointslice;
mod flags;
mod garbagecollector;
mod horizontalpodautoscaler;
mod namespace;
mod node_flags;
mod node_ipam;
mod node_lifecycle;
mod queue;
mod replicas;
mod replicaset;
mod replication;
mod resourcequota;
mod service_index;
mod service_pods;
mod serviceaccount;
mod taint_eviction;
mod trigger_time;
mod workqueue;

use futures_util::future::{BoxFuture, FutureExt};

pub use flags::{ControllerManagerFlags, ControllerName};

/// Why the controller-manager could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Flags(String),
    #[error(transparent)]
    Client(#[from] rkube_agent::ClientError),
    #[error(transparent)]
    LeaderElection(#[from] rkube_agent::LeaderElectionError),
    #[error("controller {0} stopped")]
    Stopped(&'static str),
}

/// The Lease that elects one controller-manager among several.
const LEASE_NAME: &str = "kube-controller-manager";

/// Run the selected controllers until one of them stops (or the process is killed);
/// with `--leader-elect` (the default), only while this process holds the Lease.
pub async fn run(flags: ControllerManagerFlags) -> Result<(), Error> {
    let controllers = flags.selected_controllers()?;
    // Refuse bad node flags before waiting for leadership.
    flags.node.cluster_cidrs()?;
    let client = flags.client.build().await?;
    rkube_agent::leader::run_when_leader(
        client.clone(),
        &flags.leader_election,
        LEASE_NAME,
        run_controllers(client, controllers, &flags),
    )
    .await?
}

async fn run_controllers(
    client: kube::Client,
    controllers: Vec<ControllerName>,
    flags: &ControllerManagerFlags,
) -> Result<(), Error> {
    let cluster_cidrs = flags.node.cluster_cidrs()?;
    let mut tasks = tokio::task::JoinSet::new();
    for controller in controllers {
        let client = client.clone();
        let name = controller.names()[0];
        tracing::info!(controller = name, "starting");
        let control_loop: BoxFuture<'static, ()> = match controller {
            ControllerName::Namespace => {
                namespace::run(client, flags.concurrent_namespace_syncs).boxed()
            }
            ControllerName::ServiceAccount => serviceaccount::run(client).boxed(),
            ControllerName::Replication => {
                replication::run(client, flags.concurrent_rc_syncs).boxed()
            }
            ControllerName::ReplicaSet => {
                replicaset::run(client, flags.concurrent_replicaset_syncs).boxed()
            }
            ControllerName::Deployment => {
                deployment::run(client, flags.concurrent_deployment_syncs).boxed()
            }
            ControllerName::Endpoints => {
                endpoints::run(client, flags.concurrent_endpoint_syncs).boxed()
            }
            ControllerName::EndpointSlice => endpointslice::run(
                client,
                flags.concurrent_service_endpoint_syncs,
                flags.max_endpoints_per_slice,
            )
            .boxed(),
            ControllerName::NodeLifecycle => {
                node_lifecycle::run(client, flags.node.clone()).boxed()
            }
            ControllerName::TaintEviction => taint_eviction::run(client, 8).boxed(),
            ControllerName::NodeIpam => node_ipam::run(client, cluster_cidrs.clone()).boxed(),
            ControllerName::ResourceQuota => resourcequota::run(
                client,
                flags.concurrent_resource_quota_syncs,
                flags.resource_quota_sync_period,
            )
            .boxed(),
            ControllerName::GarbageCollector => {
                garbagecollector::run(client, flags.concurrent_gc_syncs).boxed()
            }
            ControllerName::HorizontalPodAutoscaling => {
                horizontalpodautoscaler::run(client).boxed()
            }
        };
        tasks.spawn(async move {
            control_loop.await;
            name
        });
    }
    match tasks.join_next().await {
        Some(Ok(name)) => Err(Error::Stopped(name)),
        Some(Err(e)) => Err(Error::Flags(format!("a controller panicked: {e}"))),
        None => Ok(()),
    }
}
