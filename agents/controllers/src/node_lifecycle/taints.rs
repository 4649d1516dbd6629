//! The taints the node lifecycle controller owns: NoSchedule taints that mirror a
//! Node's conditions (and `spec.unschedulable`), and the NoExecute `not-ready` /
//! `unreachable` taints that start taint-based eviction, added at a rate limited per
//! zone and withheld when every zone looks down (then the control plane is the likelier
//! culprit).

use std::collections::BTreeMap;
use std::time::Instant;

use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// (condition, status) → the NoSchedule taint key it implies (upstream's
/// nodeConditionToTaintKeyStatusMap).
const CONDITION_TAINTS: [(&str, &str, &str); 6] = [
    ("Ready", "False", NOT_READY),
    ("Ready", "Unknown", UNREACHABLE),
    (
        "MemoryPressure",
        "True",
        "node.kubernetes.io/memory-pressure",
    ),
    ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
    (
        "NetworkUnavailable",
        "True",
        "node.kubernetes.io/network-unavailable",
    ),
    ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
];

fn owned_no_schedule(key: &str) -> bool {
    key == UNSCHEDULABLE || CONDITION_TAINTS.iter().any(|(_, _, k)| *k == key)
}

/// The NoSchedule taint keys the Node's conditions and `spec.unschedulable` call for.
fn no_schedule_keys(node: &Node) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
    for c in conditions.into_iter().flatten() {
        if let Some((_, _, key)) = CONDITION_TAINTS
            .iter()
            .find(|(t, s, _)| *t == c.type_ && *s == c.status)
        {
            keys.push(*key);
        }
    }
    if node.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        keys.push(UNSCHEDULABLE);
    }
    keys
}

/// The NoExecute taint the controller wants on a Node: `Some(key)` or none.
pub type NoExecute = Option<&'static str>;

/// The Node's taints with the controller's own replaced by `no_execute` and the
/// condition taints; `None` when nothing changes. Kept taints keep their timeAdded.
pub fn desired_taints(node: &Node, no_execute: NoExecute) -> Option<Vec<Taint>> {
    let current: Vec<Taint> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default();
    let owned = |t: &Taint| {
        (t.effect == "NoSchedule" && owned_no_schedule(&t.key))
            || (t.effect == "NoExecute" && (t.key == NOT_READY || t.key == UNREACHABLE))
    };
    let mut wanted: Vec<(&str, &str)> = no_schedule_keys(node)
        .into_iter()
        .map(|k| (k, "NoSchedule"))
        .collect();
    wanted.extend(no_execute.map(|k| (k, "NoExecute")));
    let now = Time(Timestamp::now());
    let mut next: Vec<Taint> = current.iter().filter(|t| !owned(t)).cloned().collect();
    for (key, effect) in wanted {
        let kept = current
            .iter()
            .find(|t| t.key == key && t.effect == effect)
            .cloned();
        next.push(kept.unwrap_or_else(|| Taint {
            key: key.into(),
            effect: effect.into(),
            time_added: Some(now.clone()),
            value: None,
        }));
    }
    let same = next.len() == current.len()
        && next.iter().all(|t| {
            current
                .iter()
                .any(|c| c.key == t.key && c.effect == t.effect)
        });
    (!same).then_some(next)
}

pub fn has_taint(node: &Node, key: &str, effect: &str) -> bool {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .is_some_and(|ts| ts.iter().any(|t| t.key == key && t.effect == effect))
}

/// A zone's health from its Nodes' Ready conditions (upstream's ComputeZoneState).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneState {
    Normal,
    PartialDisruption,
    FullDisruption,
}

pub fn zone_state(ready: usize, not_ready: usize, unhealthy_threshold: f64) -> ZoneState {
    if ready == 0 && not_ready > 0 {
        ZoneState::FullDisruption
    } else if not_ready > 2 && not_ready as f64 / (not_ready + ready) as f64 >= unhealthy_threshold
    {
        ZoneState::PartialDisruption
    } else {
        ZoneState::Normal
    }
}

/// The zone a Node belongs to for disruption accounting: region and zone labels.
pub fn zone_of(node: &Node) -> String {
    let labels = node.metadata.labels.clone().unwrap_or_default();
    let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
    format!(
        "{}:\u{0}:{}",
        get("topology.kubernetes.io/region"),
        get("topology.kubernetes.io/zone")
    )
}

/// A token bucket of one token: `qps` NoExecute taintings per second per zone.
pub struct Limiter {
    tokens: f64,
    at: Instant,
}

impl Limiter {
    pub fn new(now: Instant) -> Limiter {
        Limiter {
            tokens: 1.0,
            at: now,
        }
    }

    pub fn try_take(&mut self, qps: f64, now: Instant) -> bool {
        if qps <= 0.0 {
            return false;
        }
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * qps.max(0.0)).min(1.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-zone limiters, kept across passes.
#[derive(Default)]
pub struct Limiters {
    zones: BTreeMap<String, Limiter>,
}

impl Limiters {
    pub fn try_take(&mut self, zone: &str, qps: f64, now: Instant) -> bool {
        self.zones
            .entry(zone.to_string())
            .or_insert_with(|| Limiter::new(now))
            .try_take(qps, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn node(ready: &str, taints: serde_json::Value) -> Node {
        serde_json::from_value(
            json!({"metadata": {"name": "n"}, "spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": ready},
                                      {"type": "DiskPressure", "status": "True"}]}}),
        )
        .unwrap()
    }

    fn keys(taints: &[Taint]) -> Vec<String> {
        let mut k: Vec<String> = taints
            .iter()
            .map(|t| format!("{}:{}", t.key, t.effect))
            .collect();
        k.sort();
        k
    }

    #[test]
    fn condition_and_eviction_taints() {
        let n = node(
            "Unknown",
            json!([{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]),
        );
        let next = desired_taints(&n, Some(UNREACHABLE)).unwrap();
        assert_eq!(
            keys(&next),
            vec![
                "dedicated:NoSchedule",
                "node.kubernetes.io/disk-pressure:NoSchedule",
                "node.kubernetes.io/unreachable:NoExecute",
                "node.kubernetes.io/unreachable:NoSchedule",
            ]
        );
        assert!(next
            .iter()
            .all(|t| t.key == "dedicated" || t.time_added.is_some()));
        let mut tainted = n.clone();
        tainted.spec.as_mut().unwrap().taints = Some(next);
        assert!(desired_taints(&tainted, Some(UNREACHABLE)).is_none());
        let healthy = node(
            "True",
            serde_json::to_value(&tainted.spec.as_ref().unwrap().taints).unwrap(),
        );
        let cleared = desired_taints(&healthy, None).unwrap();
        assert_eq!(
            keys(&cleared),
            vec![
                "dedicated:NoSchedule",
                "node.kubernetes.io/disk-pressure:NoSchedule"
            ]
        );
    }

    #[test]
    fn zone_states_and_rate() {
        assert_eq!(zone_state(1, 1, 0.55), ZoneState::Normal);
        assert_eq!(zone_state(0, 2, 0.55), ZoneState::FullDisruption);
        assert_eq!(zone_state(2, 3, 0.55), ZoneState::PartialDisruption);
        assert_eq!(zone_state(10, 3, 0.55), ZoneState::Normal);
        let t0 = Instant::now();
        let mut l = Limiter::new(t0);
        assert!(l.try_take(0.1, t0));
        assert!(!l.try_take(0.1, t0 + Duration::from_secs(5)));
        assert!(l.try_take(0.1, t0 + Duration::from_secs(11)));
        let mut zero = Limiter::new(t0);
        assert!(!zero.try_take(0.0, t0 + Duration::from_secs(100)));
    }
}
