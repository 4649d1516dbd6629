//! A pod worker taking back what an earlier kubelet run left running.

use k8s_openapi::api::core::v1::Pod;

use super::PodWorker;
use crate::pods::probe;
use crate::pods::state::Terminated;
use crate::runtime::adopt;
use crate::runtime::sandbox::Sandbox;

impl PodWorker {
    /// Takes back the containers an earlier kubelet run left in an adopted sandbox, with
    /// their restart counts, and the init containers the API status says succeeded.
    pub(super) fn adopt_containers(&mut self, pod: &Pod, sandbox: &Sandbox) {
        let status = pod.status.as_ref();
        let api_statuses = |init: bool| {
            status
                .and_then(|s| {
                    if init {
                        s.init_container_statuses.clone()
                    } else {
                        s.container_statuses.clone()
                    }
                })
                .unwrap_or_default()
        };
        let (app_statuses, init_statuses) = (api_statuses(false), api_statuses(true));
        for (dir, record) in sandbox.adoptable_containers(&self.rt) {
            let spec = pod.spec.as_ref();
            let app = spec.and_then(|s| s.containers.iter().find(|c| c.name == record.name));
            let slot = self
                .slots
                .iter_mut()
                .chain(self.init_slots.iter_mut())
                .find(|s| s.name == record.name);
            let Some(slot) = slot else { continue };
            let was_ready = app_statuses
                .iter()
                .find(|s| s.name == record.name)
                .map(|s| s.ready);
            let ready = was_ready.unwrap_or(app.is_none_or(|c| c.readiness_probe.is_none()));
            tracing::info!(
                pod = self.name,
                container = record.name,
                pid = record.pid,
                "adopted a container"
            );
            slot.adopt(record.running(&dir), record.run, ready);
            if let Some(c) = app {
                let target = probe::Target {
                    container: c.name.clone(),
                    id: record.id.clone(),
                    pod_ip: self.pod_ip,
                    pid: record.pid,
                    config: dir.join(crate::runtime::container::CONFIG_FILE),
                    rkube: self.rt.exe.clone(),
                };
                let about = self.rt.events.about(pod, Some(&c.name));
                slot.set_probes(probe::start(c, target, self.probes_tx.clone(), about));
            }
            adopt::watch_adopted(
                self.rt.clone(),
                sandbox.cgroup.clone(),
                dir,
                record,
                self.exits_tx.clone(),
            );
        }
        for slot in self.init_slots.iter_mut().filter(|s| s.running.is_none()) {
            let Some(api) = init_statuses.iter().find(|s| s.name == slot.name) else {
                continue;
            };
            let Some(done) = api.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
                continue;
            };
            if done.exit_code != 0 {
                continue;
            }
            let time = |t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>| {
                t.as_ref()
                    .map(|t| crate::time::rfc3339(t.0))
                    .unwrap_or_default()
            };
            slot.adopt_terminated(
                Terminated {
                    exit_code: 0,
                    signal: None,
                    reason: "Completed",
                    started_at: time(&done.started_at),
                    finished_at: time(&done.finished_at),
                    container_id: done
                        .container_id
                        .as_deref()
                        .unwrap_or("")
                        .trim_start_matches("rkube://")
                        .to_string(),
                    image_id: api.image_id.clone(),
                },
                api.restart_count.max(0) as u32,
            );
        }
    }
}
