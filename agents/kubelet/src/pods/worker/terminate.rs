//! How a pod worker stops a pod: preStop hooks, SIGTERM, SIGKILL after the grace period,
//! then the sandbox goes.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use nix::sys::signal::Signal;

use super::PodWorker;
use crate::pods::probe;
use crate::pods::state::ContainerSlot;
use crate::runtime::container;

/// How long SIGKILLed containers may take to be reported gone.
const KILL_WAIT: Duration = Duration::from_secs(10);
const DEFAULT_GRACE_SECONDS: i64 = 30;

impl PodWorker {
    /// SIGTERM to every container, SIGKILL to those still running after `grace` seconds,
    /// then the sandbox goes.
    pub(super) async fn terminate(&mut self, grace: i64, pod: Option<&Pod>) {
        let running = |slots: &[ContainerSlot]| -> Vec<u32> {
            slots
                .iter()
                .filter_map(|s| s.running.as_ref().map(|r| r.pid))
                .collect()
        };
        if let Some(pod) = pod {
            self.record_stopping(pod);
        }
        let deadline = Instant::now() + Duration::from_secs(grace.max(0) as u64);
        if grace > 0 {
            self.run_pre_stop_hooks(pod, deadline).await;
        }
        let signal = if grace > 0 {
            Signal::SIGTERM
        } else {
            Signal::SIGKILL
        };
        for pid in running(&self.slots)
            .into_iter()
            .chain(running(&self.init_slots))
        {
            container::signal(pid, signal);
        }
        self.wait_for_exits(deadline).await;
        if !running(&self.slots).is_empty() || !running(&self.init_slots).is_empty() {
            for pid in running(&self.slots)
                .into_iter()
                .chain(running(&self.init_slots))
            {
                container::signal(pid, Signal::SIGKILL);
            }
            self.wait_for_exits(Instant::now() + KILL_WAIT).await;
        }
        self.volumes = None;
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.destroy(&self.rt).await;
        }
    }

    /// The running containers' preStop hooks, together, within the grace period.
    async fn run_pre_stop_hooks(&self, pod: Option<&Pod>, deadline: Instant) {
        let Some(spec) = pod.and_then(|p| p.spec.as_ref()) else {
            return;
        };
        let hooks = spec.containers.iter().filter_map(|c| {
            let hook = c.lifecycle.as_ref()?.pre_stop.as_ref()?;
            let slot = self.slots.iter().find(|s| s.name == c.name)?;
            let running = slot.running.as_ref()?;
            let target = probe::Target {
                container: c.name.clone(),
                id: running.id.clone(),
                pod_ip: self.pod_ip,
                pid: running.pid,
                config: running.config.clone(),
                rkube: self.rt.exe.clone(),
            };
            Some(async move {
                if let Err(e) = probe::run_hook(hook, c, &target).await {
                    tracing::warn!(container = c.name, "the preStop hook failed: {e}");
                }
            })
        });
        let left = deadline.saturating_duration_since(Instant::now());
        let _ = tokio::time::timeout(left, futures_util::future::join_all(hooks)).await;
    }

    async fn wait_for_exits(&mut self, deadline: Instant) {
        while self
            .slots
            .iter()
            .chain(&self.init_slots)
            .any(|s| s.running.is_some())
        {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, self.exits_rx.recv()).await {
                Ok(Some(exit)) => {
                    // Killed for deletion: never restarted.
                    let policy = "Never";
                    if let Some(slot) = self
                        .slots
                        .iter_mut()
                        .chain(self.init_slots.iter_mut())
                        .find(|s| s.name == exit.name)
                    {
                        slot.exited(&exit, policy);
                    }
                }
                _ => return,
            }
        }
    }
}

/// The grace period left for a pod being deleted (None: not being deleted).
pub(super) fn deletion_grace(pod: &Pod) -> Option<i64> {
    pod.metadata.deletion_timestamp.as_ref()?;
    Some(
        pod.metadata
            .deletion_grace_period_seconds
            .or_else(|| pod.spec.as_ref()?.termination_grace_period_seconds)
            .unwrap_or(DEFAULT_GRACE_SECONDS),
    )
}
