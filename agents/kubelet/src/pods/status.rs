//! The pod status the kubelet reports, computed from what it knows (no I/O): phase,
//! conditions, IPs, QoS class and one status per container.

use std::net::IpAddr;

use serde_json::{json, Value};

use super::state::{ContainerSlot, Terminated};

/// Upstream's getPhase over the app containers.
pub fn phase(slots: &[ContainerSlot], policy: &str) -> &'static str {
    let running = slots.iter().filter(|s| s.running.is_some()).count();
    let stopped: Vec<&Terminated> = slots
        .iter()
        .filter(|s| s.running.is_none())
        .filter_map(|s| s.last.as_ref())
        .collect();
    let waiting = slots.len() - running - stopped.len();
    let succeeded = stopped.iter().filter(|t| t.exit_code == 0).count();
    if waiting > 0 {
        "Pending"
    } else if running > 0 {
        "Running"
    } else if stopped.is_empty() {
        "Pending"
    } else if policy == "Always" {
        "Running"
    } else if succeeded == stopped.len() {
        "Succeeded"
    } else if policy == "Never" {
        "Failed"
    } else {
        "Running"
    }
}

fn terminated_json(t: &Terminated) -> Value {
    let mut v = json!({
        "exitCode": t.exit_code,
        "reason": t.reason,
        "startedAt": t.started_at,
        "finishedAt": t.finished_at,
        "containerID": format!("rkube://{}", t.container_id),
    });
    if let Some(signal) = t.signal {
        v["signal"] = json!(signal);
    }
    json!({"terminated": v})
}

/// `status.containerStatuses[i]`.
pub fn container_status(slot: &ContainerSlot, spec_image: &str, policy: &str, pod: &str) -> Value {
    let mut last_state = json!({});
    let (state, container_id, image_id) = if let Some(r) = &slot.running {
        if let Some(last) = &slot.last {
            last_state = terminated_json(last);
        }
        (
            json!({"running": {"startedAt": r.started_at}}),
            Some(r.id.clone()),
            r.image_id.clone(),
        )
    } else if let (Some(last), true) = (&slot.last, slot.finished(policy)) {
        if let Some(previous) = &slot.previous {
            last_state = terminated_json(previous);
        }
        (
            terminated_json(last),
            Some(last.container_id.clone()),
            last.image_id.clone(),
        )
    } else if let Some(last) = &slot.last {
        last_state = terminated_json(last);
        let (reason, message) = match &slot.waiting {
            Some((r, m)) if r != "ContainerCreating" => (r.clone(), m.clone()),
            _ => ("CrashLoopBackOff".to_string(), slot.backoff_message(pod)),
        };
        (
            json!({"waiting": {"reason": reason, "message": message}}),
            Some(last.container_id.clone()),
            last.image_id.clone(),
        )
    } else {
        let (reason, message) = slot
            .waiting
            .clone()
            .unwrap_or_else(|| ("ContainerCreating".into(), String::new()));
        let mut waiting = json!({"reason": reason});
        if !message.is_empty() {
            waiting["message"] = json!(message);
        }
        (json!({"waiting": waiting}), None, String::new())
    };
    let mut v = json!({
        "name": slot.name,
        "state": state,
        "lastState": last_state,
        "ready": slot.is_ready(),
        "restartCount": slot.restart_count,
        "image": spec_image,
        "imageID": image_id,
        "started": slot.running.is_some(),
    });
    if let Some(id) = container_id {
        v["containerID"] = json!(format!("rkube://{id}"));
    }
    v
}

/// Everything the kubelet writes into `status`.
pub struct PodView<'a> {
    pub name: &'a str,
    pub policy: &'a str,
    pub phase: &'a str,
    pub slots: &'a [ContainerSlot],
    pub images: Vec<String>,
    pub init_slots: &'a [ContainerSlot],
    pub init_images: Vec<String>,
    pub initialized: bool,
    pub pod_ip: Option<IpAddr>,
    pub host_ip: Option<IpAddr>,
    pub start_time: &'a str,
    pub sandbox_ready: bool,
    pub qos: &'a str,
}

pub fn pod_status(view: &PodView, previous: Option<&Value>, now: &str) -> Value {
    let phase = view.phase;
    let incomplete: Vec<&str> = view
        .init_slots
        .iter()
        .filter(|s| s.running.is_some() || s.last.as_ref().is_none_or(|l| l.exit_code != 0))
        .map(|s| s.name.as_str())
        .collect();
    let init_message = (!view.initialized).then(|| {
        format!(
            "containers with incomplete status: [{}]",
            incomplete.join(" ")
        )
    });
    let init_reason = (!view.initialized).then_some("ContainersNotInitialized");
    let unready: Vec<&str> = view
        .slots
        .iter()
        .filter(|s| !s.is_ready())
        .map(|s| s.name.as_str())
        .collect();
    let ready = unready.is_empty();
    let (reason, message) = if ready {
        (None, None)
    } else if phase == "Succeeded" || phase == "Failed" {
        (Some("PodCompleted"), None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                unready.join(" ")
            )),
        )
    };
    let conditions: Vec<Value> = [
        ("PodReadyToStartContainers", view.sandbox_ready, None, None),
        ("Initialized", view.initialized, init_reason, init_message),
        ("Ready", ready, reason, message.clone()),
        ("ContainersReady", ready, reason, message),
        ("PodScheduled", true, None, None),
    ]
    .into_iter()
    .map(|(kind, on, reason, message)| {
        let status = if on { "True" } else { "False" };
        let since = previous
            .and_then(|p| p["conditions"].as_array())
            .and_then(|cs| cs.iter().find(|c| c["type"] == kind && c["status"] == status))
            .and_then(|c| c["lastTransitionTime"].as_str())
            .unwrap_or(now);
        let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": since});
        if let Some(r) = reason {
            c["reason"] = json!(r);
        }
        if let Some(m) = message {
            c["message"] = json!(m);
        }
        c
    })
    .collect();
    let statuses: Vec<Value> = view
        .slots
        .iter()
        .zip(&view.images)
        .map(|(slot, image)| container_status(slot, image, view.policy, view.name))
        .collect();
    let init_policy = if view.policy == "Never" {
        "Never"
    } else {
        "OnFailure"
    };
    let init_statuses: Vec<Value> = view
        .init_slots
        .iter()
        .zip(&view.init_images)
        .map(|(slot, image)| container_status(slot, image, init_policy, view.name))
        .collect();
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "startTime": view.start_time,
        "qosClass": view.qos,
        "containerStatuses": statuses,
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    if let Some(ip) = view.host_ip {
        status["hostIP"] = json!(ip.to_string());
        status["hostIPs"] = json!([{"ip": ip.to_string()}]);
    }
    if let Some(ip) = view.pod_ip {
        status["podIP"] = json!(ip.to_string());
        status["podIPs"] = json!([{"ip": ip.to_string()}]);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::ExitRecord;
    use crate::runtime::container::{ContainerExit, RunningContainer};

    fn run(slot: &mut ContainerSlot, id: &str) {
        slot.started(
            RunningContainer {
                id: id.into(),
                pid: 2,
                started_at: "2026-01-01T00:00:00Z".into(),
                image_id: "docker.io/library/busybox@sha256:ab".into(),
                config: Default::default(),
            },
            true,
        );
    }

    fn exit(slot: &mut ContainerSlot, id: &str, code: i32, policy: &str) {
        slot.exited(
            &ContainerExit {
                name: slot.name.clone(),
                id: id.into(),
                record: ExitRecord {
                    exit_code: code,
                    signal: None,
                    started_at: String::new(),
                    finished_at: "2026-01-01T00:00:05Z".into(),
                },
                oom_killed: false,
            },
            policy,
        );
    }

    #[test]
    fn phases() {
        let mut slots = vec![ContainerSlot::new("a"), ContainerSlot::new("b")];
        assert_eq!(phase(&slots, "Never"), "Pending");
        run(&mut slots[0], "1");
        run(&mut slots[1], "2");
        assert_eq!(phase(&slots, "Never"), "Running");
        exit(&mut slots[0], "1", 0, "Never");
        assert_eq!(phase(&slots, "Never"), "Running");
        exit(&mut slots[1], "2", 3, "Never");
        assert_eq!(phase(&slots, "Never"), "Failed");
        assert_eq!(phase(&slots[..1], "Never"), "Succeeded");
        assert_eq!(phase(&slots, "Always"), "Running");
        assert_eq!(phase(&slots, "OnFailure"), "Running");
    }

    #[test]
    fn container_statuses() {
        let mut slot = ContainerSlot::new("a");
        let waiting = container_status(&slot, "busybox", "Always", "p");
        assert_eq!(waiting["state"]["waiting"]["reason"], "ContainerCreating");
        run(&mut slot, "1");
        let running = container_status(&slot, "busybox", "Never", "p");
        assert_eq!(
            running["state"]["running"]["startedAt"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            (running["ready"].clone(), running["started"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(running["imageID"], "docker.io/library/busybox@sha256:ab");
        exit(&mut slot, "1", 3, "Never");
        let done = container_status(&slot, "busybox", "Never", "p");
        assert_eq!(done["state"]["terminated"]["exitCode"], 3);
        assert_eq!(done["state"]["terminated"]["reason"], "Error");
        assert_eq!(done["containerID"], "rkube://1");
        let mut crashing = ContainerSlot::new("a");
        run(&mut crashing, "1");
        exit(&mut crashing, "1", 1, "Always");
        run(&mut crashing, "2");
        exit(&mut crashing, "2", 1, "Always");
        let s = container_status(&crashing, "busybox", "Always", "p");
        assert_eq!(s["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(s["lastState"]["terminated"]["containerID"], "rkube://2");
        assert_eq!(s["restartCount"], 1);
    }

    #[test]
    fn conditions_keep_their_transition_time() {
        let mut slots = vec![ContainerSlot::new("a")];
        run(&mut slots[0], "1");
        let view = PodView {
            name: "p",
            policy: "Always",
            phase: "Running",
            init_slots: &[],
            init_images: vec![],
            initialized: true,
            slots: &slots,
            images: vec!["busybox".into()],
            pod_ip: Some("10.0.0.2".parse().unwrap()),
            host_ip: None,
            start_time: "t",
            sandbox_ready: true,
            qos: "BestEffort",
        };
        let first = pod_status(&view, None, "t1");
        let second = pod_status(&view, Some(&first), "t2");
        assert_eq!(second["conditions"][2]["type"], "Ready");
        assert_eq!(second["conditions"][2]["lastTransitionTime"], "t1");
        assert_eq!(second["podIPs"][0]["ip"], "10.0.0.2");
        assert_eq!(second["phase"], "Running");
    }
}
