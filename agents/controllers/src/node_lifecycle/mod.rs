//! The node lifecycle controller: every `--node-monitor-period` (and on Node changes) it
//! looks at each Node; a Node neither renewing its Lease in `kube-node-lease` nor
//! posting status within `--node-monitor-grace-period` gets its conditions set to
//! Unknown. Ready=False / Unknown Nodes get the NoExecute `not-ready` / `unreachable`
//! taints that the taint-eviction controller acts on, condition-mirroring NoSchedule
//! taints for the scheduler, and their pods marked not ready when they stop being Ready.

mod health;
pub mod taints;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::json;
use tokio::sync::Notify;

use crate::node_flags::NodeFlags;
use crate::queue::{api_code, SyncError};
use health::Health;
use taints::{Limiters, ZoneState};

/// Node changes wake the monitor at most this often.
const DEBOUNCE: Duration = Duration::from_millis(100);
const MANAGER: &str = "node-lifecycle-controller";

struct Monitor {
    client: kube::Client,
    flags: NodeFlags,
    nodes: Store<Node>,
    leases: Store<Lease>,
    pods: Store<Pod>,
    health: Mutex<Health>,
    limiters: Mutex<Limiters>,
    all_disrupted: Mutex<bool>,
    /// Nodes whose pods still need marking not ready (a failed attempt).
    retry_pods: Mutex<BTreeSet<String>>,
}

pub async fn run(client: kube::Client, flags: NodeFlags) {
    let changed = Arc::new(Notify::new());
    let (nodes, node_writer) = reflector::store();
    let wake = changed.clone();
    let node_events = reflector::reflector(
        node_writer,
        watcher(Api::<Node>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .for_each(move |_| {
        wake.notify_one();
        async {}
    });
    let (leases, lease_writer) = reflector::store();
    let lease_events = reflector::reflector(
        lease_writer,
        watcher(
            Api::<Lease>::namespaced(client.clone(), "kube-node-lease"),
            Default::default(),
        ),
    )
    .default_backoff()
    .for_each(|_| async {});
    let (pods, pod_writer) = reflector::store();
    let pod_events = reflector::reflector(
        pod_writer,
        watcher(Api::<Pod>::all(client.clone()), Default::default()),
    )
    .default_backoff()
    .for_each(|_| async {});
    let monitor = Monitor {
        client,
        flags,
        nodes,
        leases,
        pods,
        health: Mutex::new(Health::default()),
        limiters: Mutex::new(Limiters::default()),
        all_disrupted: Mutex::new(false),
        retry_pods: Mutex::new(BTreeSet::new()),
    };
    tokio::select! {
        _ = node_events => {}
        _ = lease_events => {}
        _ = pod_events => {}
        _ = monitor.run(changed) => {}
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Monitor {
    async fn run(&self, changed: Arc<Notify>) {
        let ready = async {
            self.nodes.wait_until_ready().await?;
            self.leases.wait_until_ready().await?;
            self.pods.wait_until_ready().await
        };
        if ready.await.is_err() {
            return;
        }
        let period = self.flags.node_monitor_period.max(DEBOUNCE);
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = changed.notified() => tokio::time::sleep(DEBOUNCE).await,
            }
            self.pass().await;
        }
    }

    /// One look at every Node.
    async fn pass(&self) {
        let now = Instant::now();
        let nodes = self.nodes.state();
        lock(&self.health).retain(|name| nodes.iter().any(|n| n.name_any() == name));
        let mut looked = Vec::new();
        for node in &nodes {
            let name = node.name_any();
            let lease = self
                .leases
                .get(&ObjectRef::new(&name).within("kube-node-lease"));
            let observed = lock(&self.health).observe(
                node,
                lease.as_deref(),
                now,
                self.flags.node_monitor_grace_period,
                self.flags.node_startup_grace_period,
            );
            let current = match observed.stale {
                Some(stale) => match self.write_status(&stale).await {
                    Ok(written) => Arc::new(written),
                    Err(e) => {
                        tracing::warn!(node = %name, "updating the node's conditions: {e}");
                        node.clone()
                    }
                },
                None => node.clone(),
            };
            looked.push((current, observed.before));
        }
        let zones = self.zone_states(&looked);
        let all_disrupted =
            !zones.is_empty() && zones.values().all(|(s, _)| *s == ZoneState::FullDisruption);
        {
            let mut was = lock(&self.all_disrupted);
            if *was && !all_disrupted {
                // Back from a cluster-wide outage: every Node gets a fresh grace period.
                lock(&self.health).reset(now);
            }
            if all_disrupted && !*was {
                tracing::warn!("every zone looks down: no NoExecute taints until one recovers");
            }
            *was = all_disrupted;
        }
        for (node, before) in looked {
            let zone = taints::zone_of(&node);
            let (state, size) = zones.get(&zone).copied().unwrap_or((ZoneState::Normal, 0));
            let qps = self.eviction_rate(state, size);
            if let Err(e) = self.taint(&node, qps, all_disrupted, now).await {
                tracing::warn!(node = %node.name_any(), "updating the node's taints: {e}");
            }
            self.mark_pods_on_transition(&node, before.as_ref()).await;
        }
    }

    /// Per zone: its state and how many Nodes count in it.
    fn zone_states(
        &self,
        looked: &[(Arc<Node>, Option<k8s_openapi::api::core::v1::NodeCondition>)],
    ) -> BTreeMap<String, (ZoneState, usize)> {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (node, _) in looked {
            if node
                .labels()
                .contains_key("node.kubernetes.io/exclude-disruption")
            {
                continue;
            }
            let entry = counts.entry(taints::zone_of(node)).or_default();
            match health::ready_condition(node) {
                Some(c) if c.status == "True" => entry.0 += 1,
                _ => entry.1 += 1,
            }
        }
        counts
            .into_iter()
            .map(|(zone, (ready, not_ready))| {
                let state =
                    taints::zone_state(ready, not_ready, self.flags.unhealthy_zone_threshold);
                (zone, (state, ready + not_ready))
            })
            .collect()
    }

    /// NoExecute taintings per second in a zone in `state` of `size` Nodes.
    fn eviction_rate(&self, state: ZoneState, size: usize) -> f64 {
        match state {
            ZoneState::Normal | ZoneState::FullDisruption => self.flags.node_eviction_rate,
            ZoneState::PartialDisruption
                if size > self.flags.large_cluster_size_threshold as usize =>
            {
                self.flags.secondary_node_eviction_rate
            }
            ZoneState::PartialDisruption => 0.0,
        }
    }

    async fn write_status(&self, node: &Node) -> Result<Node, SyncError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let params = PostParams {
            field_manager: Some(MANAGER.into()),
            ..Default::default()
        };
        let written = api.replace_status(&node.name_any(), &params, node).await?;
        tracing::info!(node = %node.name_any(), "kubelet stopped posting node status: conditions Unknown");
        Ok(written)
    }

    /// Bring the Node's controller-owned taints in line with its conditions.
    async fn taint(
        &self,
        node: &Node,
        qps: f64,
        all_disrupted: bool,
        now: Instant,
    ) -> Result<(), SyncError> {
        use taints::{has_taint, NOT_READY, UNREACHABLE};
        let ready = health::ready_condition(node).map(|c| c.status.as_str());
        let has_not_ready = has_taint(node, NOT_READY, "NoExecute");
        let has_unreachable = has_taint(node, UNREACHABLE, "NoExecute");
        let current = if has_not_ready {
            Some(NOT_READY)
        } else if has_unreachable {
            Some(UNREACHABLE)
        } else {
            None
        };
        let zone = taints::zone_of(node);
        let start_or_swap = |key: &'static str| {
            // Swapping one eviction taint for the other is immediate; a new one waits
            // for the zone's rate.
            if current.is_some() || lock(&self.limiters).try_take(&zone, qps, now) {
                Some(key)
            } else {
                None
            }
        };
        let no_execute = match ready {
            _ if all_disrupted => None,
            Some("True") => None,
            Some("False") => start_or_swap(NOT_READY),
            Some(_) => start_or_swap(UNREACHABLE),
            None => current,
        };
        let Some(next) = taints::desired_taints(node, no_execute) else {
            return Ok(());
        };
        let api: Api<Node> = Api::all(self.client.clone());
        let patch = json!({
            "metadata": {"resourceVersion": node.resource_version()},
            "spec": {"taints": next},
        });
        let params = PatchParams {
            field_manager: Some(MANAGER.into()),
            ..Default::default()
        };
        match api
            .patch(&node.name_any(), &params, &Patch::Merge(patch))
            .await
        {
            Ok(_) => {
                tracing::info!(node = %node.name_any(), no_execute = ?no_execute, "taints updated");
                Ok(())
            }
            // Changed meanwhile: the next pass sees the new Node.
            Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// When a Node stops being Ready, its pods stop being ready too (upstream's
    /// MarkPodsNotReady), so Services stop sending them traffic.
    async fn mark_pods_on_transition(
        &self,
        node: &Node,
        before: Option<&k8s_openapi::api::core::v1::NodeCondition>,
    ) {
        let name = node.name_any();
        let now_ready = health::ready_condition(node).map(|c| c.status.as_str());
        let was_ready = before.map(|c| c.status.as_str()) == Some("True");
        let retry = lock(&self.retry_pods).contains(&name);
        if now_ready == Some("True") || now_ready.is_none() || !(was_ready || retry) {
            lock(&self.retry_pods).remove(&name);
            return;
        }
        let mut failed = false;
        for pod in self.pods.state_filter(|p| {
            p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name.as_str())
        }) {
            if let Err(e) = mark_not_ready(&self.client, &pod).await {
                tracing::warn!(pod = %pod.name_any(), "marking the pod not ready: {e}");
                failed = true;
            }
        }
        let mut retry = lock(&self.retry_pods);
        if failed {
            retry.insert(name);
        } else {
            retry.remove(&name);
        }
    }
}

async fn mark_not_ready(client: &kube::Client, pod: &Pod) -> Result<(), SyncError> {
    let ready = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"));
    if ready.is_none_or(|c| c.status == "False") {
        return Ok(());
    }
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace().unwrap_or_default());
    let now = Time(Timestamp::now());
    let patch = json!({"status": {"conditions": [
        {"type": "Ready", "status": "False", "lastTransitionTime": now}]}});
    let params = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    match api
        .patch_status(&pod.name_any(), &params, &Patch::Strategic(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if api_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
