//! `rkube scheduler`: assigns pods to nodes, kube-scheduler's way. Watches keep a cache
//! of nodes and the pods on them and queue the pending pods whose `schedulerName` is
//! `default-scheduler`; each pod is filtered against the nodes, the feasible ones are
//! scored, and the pod is bound with `POST pods/{name}/binding` — or marked
//! `PodScheduled=False` (Unschedulable) with upstream's message and retried when the
//! cluster changes. Filters and scores are pure functions with unit tests.

mod cache;
mod diagnosis;
mod driver;
mod filters;
mod flags;
mod informers;
mod node_info;
mod queue;
mod resources;
mod schedule;
mod scores;
mod selectors;
mod state;
mod writes;

use std::sync::Arc;

pub use flags::SchedulerFlags;

/// The Lease that elects one scheduler among several.
const LEASE_NAME: &str = "kube-scheduler";

/// Why the scheduler could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Client(#[from] rkube_agent::ClientError),
    #[error(transparent)]
    LeaderElection(#[from] rkube_agent::LeaderElectionError),
    #[error("the {0} stopped")]
    Stopped(&'static str),
}

/// Schedule until killed; with `--leader-elect` (the default) only while leading.
pub async fn run(flags: SchedulerFlags) -> Result<(), Error> {
    let client = flags.client.build().await?;
    rkube_agent::leader::run_when_leader(
        client.clone(),
        &flags.leader_election,
        LEASE_NAME,
        schedule_pods(client),
    )
    .await?
}

async fn schedule_pods(client: kube::Client) -> Result<(), Error> {
    let shared = Arc::new(state::Shared::new(writes::SCHEDULER_NAME.into()));
    let host = hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let recorder =
        writes::Recorder::start(client.clone(), format!("{}-{host}", writes::SCHEDULER_NAME));
    let mut tasks = tokio::task::JoinSet::new();
    let (c, s) = (client.clone(), shared.clone());
    tasks.spawn(async move { (informers::watch_pods(c, s).await, "pod watch").1 });
    let (c, s) = (client.clone(), shared.clone());
    tasks.spawn(async move { (informers::watch_nodes(c, s).await, "node watch").1 });
    let (c, s) = (client.clone(), shared.clone());
    tasks.spawn(async move { (informers::watch_namespaces(c, s).await, "namespace watch").1 });
    tasks.spawn(async move {
        (
            driver::scheduling_loop(client, shared, recorder).await,
            "scheduling loop",
        )
            .1
    });
    tracing::info!("scheduling pods for {}", writes::SCHEDULER_NAME);
    match tasks.join_next().await {
        Some(Ok(name)) => Err(Error::Stopped(name)),
        Some(Err(_)) | None => Err(Error::Stopped("scheduler")),
    }
}
