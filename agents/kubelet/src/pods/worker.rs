//! One pod's worker: converges the pod's processes on its spec, level-triggered (every
//! wake-up re-reads the pod from the cache and decides from scratch), and reports status.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::reflector::{ObjectRef, Store};
use nix::sys::signal::Signal;
use rkube_images::RegistryAuth;
use serde_json::Value;
use tokio::sync::{mpsc, Notify};

mod adopt;
mod events;
mod report;
mod setup;
mod terminate;

use setup::pull_secrets;
use terminate::deletion_grace;

use super::probe::{self, ProbeEvent, ProbeKind};
use super::state::ContainerSlot;
use super::status;
use crate::runtime::container::{self, ContainerExit, Prepared};
use crate::runtime::sandbox::Sandbox;
use crate::runtime::{spec, Runtime};
use crate::static_pods::{self, StaticPods};
use crate::volumes::PodVolumes;

/// Retry delay after a sandbox or API failure.
const RETRY: Duration = Duration::from_secs(2);

enum Next {
    /// Nothing left to do for this pod: the worker ends.
    Done,
    /// Sleep until woken, or at most this long.
    Wait(Option<Duration>),
}

pub struct PodWorker {
    namespace: String,
    name: String,
    uid: String,
    rt: Arc<Runtime>,
    api: Api<Pod>,
    secrets: Api<Secret>,
    no_auth: RegistryAuth,
    store: Store<Pod>,
    sandbox: Option<Sandbox>,
    /// Set up once the sandbox is; None until then and after the sandbox is gone.
    volumes: Option<PodVolumes>,
    slots: Vec<ContainerSlot>,
    /// The init containers', run one at a time, in order, each to success.
    init_slots: Vec<ContainerSlot>,
    exits_tx: mpsc::Sender<ContainerExit>,
    exits_rx: mpsc::Receiver<ContainerExit>,
    probes_tx: mpsc::Sender<ProbeEvent>,
    probes_rx: mpsc::Receiver<ProbeEvent>,
    start_time: String,
    pod_ip: Option<IpAddr>,
    qos: &'static str,
    /// Succeeded or Failed: its processes are gone and stay gone.
    terminal: bool,
    last_status: Option<Value>,
    /// Whether the sandbox of an earlier kubelet run was looked for (on the first sync).
    adoption_tried: bool,
    /// Set for a static pod: its manifest's pod, read from here rather than the API.
    statics: Option<StaticPods>,
    /// The pod as last seen, for the grace period of a static pod whose manifest went.
    last_seen: Option<Arc<Pod>>,
    /// The last warning event recorded, so a retried failure is recorded once.
    last_warning: Option<(String, String)>,
    /// The mirror pod the status was last reported to (static pods).
    mirror_uid: Option<String>,
    /// When this kubelet first saw the pod, until it first runs (kubelet_pod_start_duration_seconds).
    seen_at: Option<Instant>,
}

impl PodWorker {
    pub fn new(
        pod: &Pod,
        rt: Arc<Runtime>,
        client: kube::Client,
        store: Store<Pod>,
        statics: Option<StaticPods>,
    ) -> PodWorker {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let (exits_tx, exits_rx) = mpsc::channel(16);
        let (probes_tx, probes_rx) = mpsc::channel(16);
        let status = pod.status.as_ref();
        let terminal = status
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|p| p == "Succeeded" || p == "Failed");
        PodWorker {
            api: Api::namespaced(client.clone(), &namespace),
            secrets: Api::namespaced(client, &namespace),
            no_auth: RegistryAuth::anonymous(),
            namespace,
            name: pod.metadata.name.clone().unwrap_or_default(),
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            rt,
            store,
            sandbox: None,
            volumes: None,
            init_slots: pod
                .spec
                .iter()
                .flat_map(|s| s.init_containers.iter().flatten())
                .map(|c| ContainerSlot::new(&c.name))
                .collect(),
            slots: pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .map(|c| ContainerSlot::new(&c.name))
                .collect(),
            exits_tx,
            exits_rx,
            probes_tx,
            probes_rx,
            start_time: status
                .and_then(|s| s.start_time.as_ref())
                .map(|t| crate::time::rfc3339(t.0))
                .unwrap_or_else(crate::time::now_rfc3339),
            pod_ip: None,
            qos: spec::qos_class(pod).as_str(),
            terminal,
            last_status: None,
            statics,
            adoption_tried: false,
            last_warning: None,
            last_seen: None,
            mirror_uid: None,
            // A pod already running (re-adopted after a restart) did not start now.
            seen_at: status
                .and_then(|s| s.phase.as_deref())
                .is_none_or(|p| p == "Pending")
                .then(Instant::now),
        }
    }

    /// The pod as the cache has it now, if it is still this pod.
    fn current(&self) -> Option<Arc<Pod>> {
        if let Some(statics) = &self.statics {
            return static_pods::read(statics).get(&self.uid).cloned();
        }
        let key = ObjectRef::new(&self.name).within(&self.namespace);
        self.store
            .get(&key)
            .filter(|p| p.metadata.uid.as_deref() == Some(self.uid.as_str()))
    }

    pub async fn run(mut self, wake: Arc<Notify>) {
        loop {
            let next = match self.current() {
                None => {
                    // An API pod is gone once deleted for good; a static pod's manifest
                    // went, and it stops within its grace period.
                    let last = self.last_seen.take().filter(|_| self.statics.is_some());
                    let grace = last
                        .as_ref()
                        .and_then(|p| p.spec.as_ref()?.termination_grace_period_seconds)
                        .map_or(0, |g| g.max(0));
                    self.terminate(grace, last.as_deref()).await;
                    Next::Done
                }
                Some(pod) => {
                    self.last_seen = Some(pod.clone());
                    self.sync(&pod).await
                }
            };
            let timeout = match next {
                Next::Done => return,
                Next::Wait(t) => t.unwrap_or(Duration::from_secs(3600)),
            };
            tokio::select! {
                _ = wake.notified() => {}
                Some(exit) = self.exits_rx.recv() => self.on_exit(exit),
                Some(event) = self.probes_rx.recv() => self.on_probe(event),
                _ = tokio::time::sleep(timeout) => {}
            }
        }
    }

    fn policy(pod: &Pod) -> String {
        pod.spec
            .as_ref()
            .and_then(|s| s.restart_policy.clone())
            .unwrap_or_else(|| "Always".into())
    }

    fn on_exit(&mut self, exit: ContainerExit) {
        let policy = self
            .current()
            .map(|p| Self::policy(&p))
            .unwrap_or_else(|| "Never".into());
        let init = self.init_slots.iter().any(|s| s.name == exit.name);
        let policy = if init {
            init_policy(&policy)
        } else {
            policy.as_str()
        };
        if let Some(slot) = self
            .slots
            .iter_mut()
            .chain(self.init_slots.iter_mut())
            .find(|s| s.name == exit.name)
        {
            if slot.exited(&exit, policy) {
                tracing::info!(
                    pod = self.name,
                    container = exit.name,
                    code = exit.record.exit_code,
                    "container exited"
                );
            }
        }
    }

    fn on_probe(&mut self, event: ProbeEvent) {
        let Some(slot) = self
            .slots
            .iter_mut()
            .chain(self.init_slots.iter_mut())
            .find(|s| s.name == event.container)
        else {
            return;
        };
        let Some(running) = slot.running.as_ref().filter(|r| r.id == event.id) else {
            return;
        };
        match (event.kind, event.healthy) {
            (ProbeKind::Readiness, ready) => slot.ready = ready,
            (ProbeKind::Liveness | ProbeKind::Startup, false) => {
                tracing::info!(pod = self.name, container = event.container, probe = ?event.kind, "probe failed: killing the container");
                let pid = running.pid;
                if let Some(pod) = self.current() {
                    self.record_probe_kill(&pod, &event.container, event.kind);
                }
                container::signal(pid, Signal::SIGKILL);
            }
            _ => {}
        }
    }

    async fn sync(&mut self, pod: &Pod) -> Next {
        if let Some(grace) = deletion_grace(pod) {
            self.terminate(grace, Some(pod)).await;
            self.report(pod).await;
            let params = DeleteParams {
                grace_period_seconds: Some(0),
                preconditions: Some(Preconditions {
                    uid: Some(self.uid.clone()),
                    resource_version: None,
                }),
                ..Default::default()
            };
            return match self.api.delete(&self.name, &params).await {
                Ok(_) => Next::Done,
                Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Next::Done,
                Err(e) => {
                    tracing::warn!(pod = self.name, "deleting the terminated pod: {e}");
                    Next::Wait(Some(RETRY))
                }
            };
        }
        if self.terminal {
            return Next::Wait(None);
        }
        if self.sandbox.is_none() && !self.adoption_tried {
            self.adoption_tried = true;
            if let Some(sandbox) = Sandbox::adopt(&self.rt, pod) {
                self.pod_ip = sandbox.ip;
                self.adopt_containers(pod, &sandbox);
                self.sandbox = Some(sandbox);
            }
        }
        if self.sandbox.is_none() {
            match Sandbox::create(&self.rt, pod).await {
                Ok(sandbox) => {
                    self.pod_ip = sandbox.ip;
                    self.sandbox = Some(sandbox);
                }
                Err(e) => {
                    tracing::warn!(pod = self.name, "creating the pod sandbox: {e}");
                    self.report(pod).await;
                    return Next::Wait(Some(RETRY));
                }
            }
        }
        if let Err(next) = self.sync_volumes(pod).await {
            return next;
        }
        let policy = Self::policy(pod);
        let containers = pod
            .spec
            .as_ref()
            .map(|s| s.containers.clone())
            .unwrap_or_default();
        let init_containers = pod
            .spec
            .as_ref()
            .and_then(|s| s.init_containers.clone())
            .unwrap_or_default();
        let mut auth = None;
        let mut initialized = true;
        // Indices, not iterators: starting a container borrows the worker mutably.
        for (i, c) in init_containers
            .iter()
            .enumerate()
            .take(self.init_slots.len())
        {
            let slot = &self.init_slots[i];
            if slot.running.is_none() && slot.last.as_ref().is_some_and(|l| l.exit_code == 0) {
                continue;
            }
            initialized = false;
            if slot.wants_start(init_policy(&policy), Instant::now()) {
                self.start_one(pod, c, true, i, &mut auth).await;
            }
            break;
        }
        if initialized {
            for (i, c) in containers.iter().enumerate().take(self.slots.len()) {
                if self.slots[i].wants_start(&policy, Instant::now()) {
                    self.start_one(pod, c, false, i, &mut auth).await;
                }
            }
        }
        self.record_backoffs(pod, &policy);
        let phase = self.phase(&policy);
        if phase == "Succeeded" || phase == "Failed" {
            self.terminal = true;
            self.volumes = None;
            if let Some(sandbox) = self.sandbox.take() {
                sandbox.destroy(&self.rt).await;
            }
        }
        self.report(pod).await;
        let wake = self
            .slots
            .iter()
            .chain(&self.init_slots)
            .filter(|s| s.running.is_none())
            .filter_map(|s| s.not_before)
            .min()
            .map(|t| t.saturating_duration_since(Instant::now()) + Duration::from_millis(10));
        Next::Wait(wake)
    }

    /// Starts one container (init or app, by index) and records the outcome in its slot.
    async fn start_one(
        &mut self,
        pod: &Pod,
        c: &k8s_openapi::api::core::v1::Container,
        init: bool,
        index: usize,
        auth: &mut Option<RegistryAuth>,
    ) {
        if self.sandbox.is_none() {
            return;
        }
        let prepared = self.prepare(pod, c);
        if let Err(message) = &prepared {
            self.warn_once(pod, Some(&c.name), "Failed", format!("Error: {message}"));
        }
        let Some(sandbox) = &self.sandbox else {
            return;
        };
        if auth.is_none() {
            *auth = Some(pull_secrets(&self.secrets, pod).await);
        }
        let auth = auth.as_ref().unwrap_or(&self.no_auth);
        let slot = if init {
            &mut self.init_slots[index]
        } else {
            &mut self.slots[index]
        };
        let prepared = match prepared {
            Ok(prepared) => Prepared {
                run: slot.starts,
                ..prepared
            },
            Err(message) => {
                tracing::warn!(
                    pod = self.name,
                    container = c.name,
                    "CreateContainerConfigError: {message}"
                );
                slot.config_failed(message);
                return;
            }
        };
        match container::start(
            &self.rt,
            pod,
            c,
            sandbox,
            auth,
            self.exits_tx.clone(),
            &prepared,
        )
        .await
        {
            Ok(running) => {
                tracing::info!(
                    pod = self.name,
                    container = c.name,
                    pid = running.pid,
                    "container started"
                );
                let target = probe::Target {
                    container: c.name.clone(),
                    id: running.id.clone(),
                    pod_ip: self.pod_ip,
                    pid: running.pid,
                    config: running.config.clone(),
                    rkube: self.rt.exe.clone(),
                };
                // postStart runs before the container counts as started; a failure kills
                // it, and its exit then takes the restart policy's course.
                if let Some(hook) = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) {
                    if let Err(e) = probe::run_hook(hook, c, &target).await {
                        let message = probe::hook_failure(hook, c, pod, &e);
                        tracing::warn!(pod = self.name, container = c.name, "{message}");
                        self.rt
                            .events
                            .warn(pod, Some(&c.name), "FailedPostStartHook", &message);
                        container::signal(running.pid, Signal::SIGKILL);
                    }
                }
                self.rt.metrics.container_started();
                slot.started(running, init || c.readiness_probe.is_none());
                if !init {
                    let about = self.rt.events.about(pod, Some(&c.name));
                    slot.set_probes(probe::start(c, target, self.probes_tx.clone(), about));
                }
                self.record_started(pod, c);
            }
            Err(e) => {
                tracing::warn!(
                    pod = self.name,
                    container = c.name,
                    "{}: {}",
                    e.reason,
                    e.message
                );
                slot.start_failed(e.reason, e.message.clone());
                let waiting = slot.waiting.as_ref().map(|(r, _)| r.clone());
                self.record_start_failure(pod, c, e.reason, &e.message, waiting.as_deref());
            }
        }
    }

    /// Whether every init container has succeeded.
    fn initialized(&self) -> bool {
        self.init_slots
            .iter()
            .all(|s| s.running.is_none() && s.last.as_ref().is_some_and(|l| l.exit_code == 0))
    }

    /// The pod's phase: Pending while initializing (Failed if an init container failed
    /// for good), then upstream's rules over the app containers.
    fn phase(&self, policy: &str) -> &'static str {
        if self.initialized() {
            return status::phase(&self.slots, policy);
        }
        if self.init_slots.iter().any(|s| {
            s.finished(init_policy(policy)) && s.last.as_ref().is_some_and(|l| l.exit_code != 0)
        }) {
            "Failed"
        } else {
            "Pending"
        }
    }
}

/// Init containers run again only when they fail (Never: not at all).
fn init_policy(policy: &str) -> &'static str {
    if policy == "Never" {
        "Never"
    } else {
        "OnFailure"
    }
}
