//! Whether a Node is still heard from. The controller times what it observes with its
//! own clock (a changed Ready heartbeat or a renewed Lease counts as a probe, whatever
//! the clocks of the kubelet's machine say); when the last probe is older than the grace
//! period, the Node's conditions become Unknown with upstream's reasons.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

/// The conditions the controller turns Unknown (NetworkUnavailable belongs to the
/// network provider).
const WATCHED: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

struct Probe {
    at: Instant,
    ready: Option<NodeCondition>,
    lease_renewed: Option<Timestamp>,
}

/// What is known of each Node between passes.
#[derive(Default)]
pub struct Health {
    probes: HashMap<String, Probe>,
}

pub fn ready_condition(node: &Node) -> Option<&NodeCondition> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready")
}

fn lease_renewed(lease: Option<&Lease>) -> Option<Timestamp> {
    lease?.spec.as_ref()?.renew_time.as_ref().map(|t| t.0)
}

/// The outcome of one look at a Node.
pub struct Observed {
    /// The Ready condition as the Node had it before this look.
    pub before: Option<NodeCondition>,
    /// The Node with its conditions turned Unknown, when they must be written.
    pub stale: Option<Node>,
}

impl Health {
    /// Look at `node` (and its Lease) at `now`; `grace` for a Node that has posted a
    /// Ready condition, `startup_grace` for one that never did.
    pub fn observe(
        &mut self,
        node: &Node,
        lease: Option<&Lease>,
        now: Instant,
        grace: Duration,
        startup_grace: Duration,
    ) -> Observed {
        let name = node.metadata.name.clone().unwrap_or_default();
        let current = ready_condition(node).cloned();
        let renewed = lease_renewed(lease);
        let probe = self.probes.entry(name).or_insert_with(|| {
            // Never posted status: the startup grace runs from the Node's creation.
            let at = match (&current, node.metadata.creation_timestamp.as_ref()) {
                (None, Some(created)) => {
                    let age = Timestamp::now().duration_since(created.0);
                    let age = Duration::try_from(age).unwrap_or(Duration::ZERO);
                    now.checked_sub(age).unwrap_or(now)
                }
                _ => now,
            };
            Probe {
                at,
                ready: current.clone(),
                lease_renewed: None,
            }
        });
        let heartbeat =
            |c: &Option<NodeCondition>| c.as_ref().map(|c| c.last_heartbeat_time.clone());
        if probe.ready.is_some() != current.is_some()
            || (current.is_some() && heartbeat(&probe.ready) != heartbeat(&current))
        {
            probe.at = now;
            probe.ready = current.clone();
        }
        if renewed.is_some() && renewed > probe.lease_renewed {
            probe.lease_renewed = renewed;
            probe.at = now;
        }
        let grace = if current.is_some() {
            grace
        } else {
            startup_grace
        };
        let stale = if now.duration_since(probe.at) > grace {
            mark_unknown(node)
        } else {
            None
        };
        Observed {
            before: current,
            stale,
        }
    }

    /// Start every Node's grace period again (after the whole cluster looked down).
    pub fn reset(&mut self, now: Instant) {
        for probe in self.probes.values_mut() {
            probe.at = now;
        }
    }

    pub fn retain(&mut self, live: impl Fn(&str) -> bool) {
        self.probes.retain(|name, _| live(name));
    }
}

/// The Node with its watched conditions Unknown, if any was not already.
fn mark_unknown(node: &Node) -> Option<Node> {
    let mut node = node.clone();
    let created = node.metadata.creation_timestamp.clone();
    let now = Time(Timestamp::now());
    let status = node.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let mut changed = false;
    for kind in WATCHED {
        match conditions.iter_mut().find(|c| c.type_ == kind) {
            Some(c) if c.status == "Unknown" => {}
            Some(c) => {
                c.status = "Unknown".into();
                c.reason = Some("NodeStatusUnknown".into());
                c.message = Some("Kubelet stopped posting node status.".into());
                c.last_transition_time = Some(now.clone());
                changed = true;
            }
            None => {
                conditions.push(NodeCondition {
                    type_: kind.into(),
                    status: "Unknown".into(),
                    reason: Some("NodeStatusNeverUpdated".into()),
                    message: Some("Kubelet never posted node status.".into()),
                    last_heartbeat_time: created.clone(),
                    last_transition_time: Some(now.clone()),
                });
                changed = true;
            }
        }
    }
    changed.then_some(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(heartbeat: &str) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n1"}, "status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady",
             "lastHeartbeatTime": heartbeat, "lastTransitionTime": "2024-01-01T00:00:00Z"},
            {"type": "MemoryPressure", "status": "False",
             "lastHeartbeatTime": heartbeat, "lastTransitionTime": "2024-01-01T00:00:00Z"}]}}),
        )
        .unwrap()
    }

    fn lease(renewed: &str) -> Lease {
        serde_json::from_value(json!({"metadata": {"name": "n1"}, "spec": {"renewTime": renewed}}))
            .unwrap()
    }

    #[test]
    fn silence_beyond_the_grace_period_turns_conditions_unknown() {
        let mut health = Health::default();
        let t0 = Instant::now();
        let grace = Duration::from_secs(40);
        let startup = Duration::from_secs(60);
        let n = node("2024-01-01T00:00:10Z");
        assert!(health.observe(&n, None, t0, grace, startup).stale.is_none());
        // The Lease keeps the node alive although its status is old.
        let t1 = t0 + Duration::from_secs(30);
        let l1 = lease("2024-01-01T00:00:40.000000Z");
        assert!(health
            .observe(&n, Some(&l1), t1, grace, startup)
            .stale
            .is_none());
        let t2 = t1 + Duration::from_secs(39);
        assert!(health
            .observe(&n, Some(&l1), t2, grace, startup)
            .stale
            .is_none());
        let t3 = t1 + Duration::from_secs(41);
        let stale = health
            .observe(&n, Some(&l1), t3, grace, startup)
            .stale
            .expect("conditions become Unknown");
        let conditions = stale.status.unwrap().conditions.unwrap();
        let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(ready.status, "Unknown");
        assert_eq!(ready.reason.as_deref(), Some("NodeStatusUnknown"));
        assert_eq!(
            ready.message.as_deref(),
            Some("Kubelet stopped posting node status.")
        );
        let disk = conditions
            .iter()
            .find(|c| c.type_ == "DiskPressure")
            .unwrap();
        assert_eq!(disk.reason.as_deref(), Some("NodeStatusNeverUpdated"));
        // A new heartbeat counts as a probe again.
        let t4 = t3 + Duration::from_secs(1);
        let n2 = node("2024-01-01T00:02:00Z");
        assert!(health
            .observe(&n2, Some(&l1), t4, grace, startup)
            .stale
            .is_none());
    }
}
