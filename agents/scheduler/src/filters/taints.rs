//! Taints and tolerations (`v1helper.TolerationsTolerateTaint`).

use k8s_openapi::api::core::v1::{Taint, Toleration};

/// Whether one toleration tolerates one taint: same effect (or any), same key (or any
/// with Exists), and with Equal (the default) the same value.
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    let operator = toleration.operator.as_deref().unwrap_or("Equal");
    if key.is_empty() {
        // An empty key with Exists matches every taint; with Equal it matches none.
        return operator == "Exists";
    }
    if key != taint.key {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" | "" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

/// The first NoSchedule/NoExecute taint none of `tolerations` tolerates.
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerated(tolerations, t))
}

/// How many PreferNoSchedule taints are not tolerated by a PreferNoSchedule (or
/// effect-less) toleration: the taint-toleration score's raw count.
pub fn untolerated_prefer_no_schedule(taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let relevant: Vec<&Toleration> = tolerations
        .iter()
        .filter(|t| {
            matches!(
                t.effect.as_deref(),
                None | Some("") | Some("PreferNoSchedule")
            )
        })
        .collect();
    taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule")
        .filter(|taint| !relevant.iter().any(|t| tolerates(t, taint)))
        .count() as i64
}

/// Upstream's message for an untolerated taint: `{key: value}`.
pub fn untolerated_message(taint: &Taint) -> String {
    format!(
        "node(s) had untolerated taint {{{}: {}}}",
        taint.key,
        taint.value.as_deref().unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taint(key: &str, value: &str, effect: &str) -> Taint {
        Taint {
            key: key.into(),
            value: Some(value.into()),
            effect: effect.into(),
            time_added: None,
        }
    }

    fn toleration(v: serde_json::Value) -> Toleration {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn toleration_rules() {
        let t = taint("dedicated", "gpu", "NoSchedule");
        assert!(tolerates(
            &toleration(json!({"key": "dedicated", "value": "gpu"})),
            &t
        ));
        assert!(tolerates(
            &toleration(json!({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "dedicated", "value": "cpu"})),
            &t
        ));
        assert!(!tolerates(
            &toleration(json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"})),
            &t
        ));
        assert!(tolerates(&toleration(json!({"operator": "Exists"})), &t));
        assert!(!tolerates(&toleration(json!({"value": "gpu"})), &t));
    }

    #[test]
    fn only_hard_effects_block_and_the_message_names_the_taint() {
        let taints = [
            taint("soft", "x", "PreferNoSchedule"),
            taint("hard", "y", "NoSchedule"),
        ];
        let blocking = first_untolerated(&taints, &[]).unwrap();
        assert_eq!(
            untolerated_message(blocking),
            "node(s) had untolerated taint {hard: y}"
        );
        assert!(first_untolerated(
            &taints,
            &[toleration(json!({"key": "hard", "operator": "Exists"}))]
        )
        .is_none());
        assert_eq!(untolerated_prefer_no_schedule(&taints, &[]), 1);
        assert_eq!(
            untolerated_prefer_no_schedule(
                &taints,
                &[toleration(
                    json!({"key": "soft", "value": "x", "effect": "PreferNoSchedule"})
                )]
            ),
            0
        );
    }
}
