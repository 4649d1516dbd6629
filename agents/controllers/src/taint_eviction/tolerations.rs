//! Which NoExecute taints a pod tolerates and for how long (upstream's
//! GetMatchingTolerations and getMinTolerationTime).

use k8s_openapi::api::core::v1::{Taint, Toleration};
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// What to do with a pod on a Node with NoExecute taints.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every taint is tolerated forever (or there is none).
    Keep,
    EvictNow,
    EvictAt(Timestamp),
}

pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    let key = toleration.key.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("Equal") {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        "Exists" => true,
        _ => false,
    }
}

/// `taints` are the Node's NoExecute taints; `first_seen` stands in for a taint's
/// `timeAdded` when it has none. The clock starts when the earliest taint was added.
pub fn decide(
    tolerations: &[Toleration],
    taints: &[Taint],
    first_seen: Timestamp,
    now: Timestamp,
) -> Decision {
    if taints.is_empty() {
        return Decision::Keep;
    }
    let mut shortest: Option<i64> = None;
    for taint in taints {
        let Some(used) = tolerations.iter().find(|t| tolerates(t, taint)) else {
            return Decision::EvictNow;
        };
        if let Some(seconds) = used.toleration_seconds {
            let seconds = seconds.max(0);
            shortest = Some(shortest.map_or(seconds, |s| s.min(seconds)));
        }
    }
    let Some(seconds) = shortest else {
        return Decision::Keep;
    };
    let start = taints
        .iter()
        .map(|t| t.time_added.as_ref().map_or(first_seen, |at| at.0))
        .min()
        .unwrap_or(first_seen);
    let deadline = start
        .checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(start);
    if deadline <= now {
        Decision::EvictNow
    } else {
        Decision::EvictAt(deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint(key: &str, added: &str) -> Taint {
        serde_json::from_value(json!({"key": key, "effect": "NoExecute", "timeAdded": added}))
            .unwrap()
    }

    fn tolerations(v: serde_json::Value) -> Vec<Toleration> {
        serde_json::from_value(v).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn untolerated_goes_now_tolerated_after_its_seconds_forever_stays() {
        let taints = [taint(
            "node.kubernetes.io/unreachable",
            "2024-01-01T00:00:00Z",
        )];
        let now = at("2024-01-01T00:00:10Z");
        let first = now;
        assert_eq!(decide(&[], &taints, first, now), Decision::EvictNow);
        let other =
            tolerations(json!([{"key": "other", "operator": "Exists", "effect": "NoExecute"}]));
        assert_eq!(decide(&other, &taints, first, now), Decision::EvictNow);
        let short = tolerations(json!([{"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]));
        assert_eq!(decide(&short, &taints, first, now), Decision::EvictNow);
        let long = tolerations(json!([{"key": "node.kubernetes.io/unreachable",
            "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]));
        assert_eq!(
            decide(&long, &taints, first, now),
            Decision::EvictAt(at("2024-01-01T00:05:00Z"))
        );
        let forever = tolerations(json!([{"operator": "Exists"}]));
        assert_eq!(decide(&forever, &taints, first, now), Decision::Keep);
        let equal = tolerations(json!([{"key": "node.kubernetes.io/unreachable",
            "operator": "Equal", "value": "x", "effect": "NoExecute"}]));
        assert_eq!(decide(&equal, &taints, first, now), Decision::EvictNow);
    }
}
