//! Defaulting of the cluster-configuration kinds: scheduling.k8s.io, node.k8s.io,
//! storage.k8s.io, flowcontrol.apiserver.k8s.io, admissionregistration.k8s.io and
//! certificates.k8s.io (upstream's `SetDefaults_*` of each group's v1), and the
//! CertificateSigningRequest strategies' create and status hooks.

use serde_json::{json, Value};

use super::{obj_mut, set_default};

/// The user behind a request on the insecure port (upstream's, when it had one): a
/// cluster admin. rkube has no authentication yet, so every request is this user's.
pub const INSECURE_USER: &str = "system:unsecured";
pub const INSECURE_GROUPS: &[&str] = &["system:masters", "system:authenticated"];

pub fn priority_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        set_default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
    }
}

pub fn storage_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        set_default(m, "reclaimPolicy", json!("Delete"));
        set_default(m, "volumeBindingMode", json!("Immediate"));
    }
}

pub fn csi_driver(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(spec, "attachRequired", json!(true));
    set_default(spec, "podInfoOnMount", json!(false));
    set_default(spec, "storageCapacity", json!(false));
    set_default(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    if spec
        .get("volumeLifecycleModes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    set_default(spec, "requiresRepublish", json!(false));
    // SELinuxMountReadWriteOncePod is on by default in 1.33.
    set_default(spec, "seLinuxMount", json!(false));
}

pub fn flow_schema(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    if spec
        .get("matchingPrecedence")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        == 0
    {
        spec.insert("matchingPrecedence".into(), json!(1000));
    }
}

pub fn priority_level(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(limited) = spec.get_mut("limited").and_then(Value::as_object_mut) {
        set_default(limited, "nominalConcurrencyShares", json!(30));
        set_default(limited, "lendablePercent", json!(0));
        if let Some(response) = limited
            .get_mut("limitResponse")
            .and_then(Value::as_object_mut)
        {
            if let Some(q) = response.get_mut("queuing").and_then(Value::as_object_mut) {
                for (k, v) in [("handSize", 8), ("queues", 64), ("queueLengthLimit", 50)] {
                    if q.get(k).and_then(Value::as_i64).unwrap_or(0) == 0 {
                        q.insert(k.into(), json!(v));
                    }
                }
            }
        }
    }
    if let Some(exempt) = spec.get_mut("exempt").and_then(Value::as_object_mut) {
        set_default(exempt, "nominalConcurrencyShares", json!(0));
        set_default(exempt, "lendablePercent", json!(0));
    }
}

/// `MatchResources`: match policy, both selectors, and every rule's scope.
fn match_resources(m: &mut Value) {
    let Some(mr) = m.as_object_mut() else {
        return;
    };
    set_default(mr, "matchPolicy", json!("Equivalent"));
    set_default(mr, "namespaceSelector", json!({}));
    set_default(mr, "objectSelector", json!({}));
    for rules in ["resourceRules", "excludeResourceRules"] {
        for rule in mr
            .get_mut(rules)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(r) = rule.as_object_mut() {
                set_default(r, "scope", json!("*"));
            }
        }
    }
}

pub fn validating_admission_policy(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(spec, "failurePolicy", json!("Fail"));
    if let Some(m) = spec.get_mut("matchConstraints") {
        match_resources(m);
    }
}

pub fn validating_admission_policy_binding(obj: &mut Value) {
    if let Some(m) = obj
        .get_mut("spec")
        .and_then(|s| s.get_mut("matchResources"))
    {
        match_resources(m);
    }
}

pub fn certificate_signing_request(obj: &mut Value) {
    let conditions = obj
        .get_mut("status")
        .and_then(|s| s.get_mut("conditions"))
        .and_then(Value::as_array_mut);
    for c in conditions.into_iter().flatten() {
        if let Some(c) = c.as_object_mut() {
            if c.get("status")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                c.insert("status".into(), json!("True"));
            }
        }
    }
}

/// The CSR strategy's create hook: the requesting user is recorded in the spec.
pub fn certificate_signing_request_create(obj: &mut Value) {
    let Some(spec) = obj_mut(obj, "spec") else {
        return;
    };
    spec.insert("username".into(), json!(INSECURE_USER));
    spec.insert("groups".into(), json!(INSECURE_GROUPS));
    spec.remove("uid");
    spec.remove("extra");
}

/// The CSR `status` and `approval` strategies: neither changes the spec; `status` may
/// not touch the Approved/Denied conditions and `approval` may change the conditions
/// only (the certificate stays). New or changed conditions get their times set to `now`.
pub fn certificate_signing_request_status(obj: &mut Value, old: &Value, approval: bool, now: &str) {
    let is_decision = |c: &Value| {
        matches!(
            c.get("type").and_then(Value::as_str),
            Some("Approved" | "Denied")
        )
    };
    let old_conditions: Vec<Value> = old
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let new_conditions: Vec<Value> = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // `approval` writes the conditions; `status` writes all but the decisions, which
    // stay as stored.
    let mut merged: Vec<Value> = new_conditions
        .into_iter()
        .filter(|c| approval || !is_decision(c))
        .collect();
    if !approval {
        merged.extend(old_conditions.iter().filter(|c| is_decision(c)).cloned());
    }
    for c in merged.iter_mut() {
        let unchanged = old_conditions.iter().any(|o| o == c);
        let Some(m) = c.as_object_mut() else {
            continue;
        };
        if !unchanged {
            for field in ["lastUpdateTime", "lastTransitionTime"] {
                if m.get(field)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    m.insert(field.into(), json!(now));
                }
            }
        }
    }
    let Some(status) = obj_mut(obj, "status") else {
        return;
    };
    if merged.is_empty() {
        status.remove("conditions");
    } else {
        status.insert("conditions".into(), Value::Array(merged));
    }
    if approval {
        match old.pointer("/status/certificate") {
            Some(cert) => status.insert("certificate".into(), cert.clone()),
            None => status.remove("certificate"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csi_driver_gets_v1_defaults() {
        let mut d = json!({"spec": {"attachRequired": false}});
        csi_driver(&mut d);
        assert_eq!(
            d["spec"],
            json!({"attachRequired": false, "podInfoOnMount": false, "storageCapacity": false,
                   "fsGroupPolicy": "ReadWriteOnceWithFSType", "volumeLifecycleModes": ["Persistent"],
                   "requiresRepublish": false, "seLinuxMount": false})
        );
    }

    #[test]
    fn policies_default_their_match_resources() {
        let mut p = json!({"spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""]}]}}});
        validating_admission_policy(&mut p);
        assert_eq!(p["spec"]["failurePolicy"], "Fail");
        let m = &p["spec"]["matchConstraints"];
        assert_eq!(m["matchPolicy"], "Equivalent");
        assert_eq!(m["namespaceSelector"], json!({}));
        assert_eq!(m["resourceRules"][0]["scope"], "*");
    }

    #[test]
    fn csr_status_keeps_decisions_and_approval_keeps_the_certificate() {
        let old = json!({"status": {"certificate": "Y2VydA==",
            "conditions": [{"type": "Approved", "status": "True", "reason": "R"}]}});
        let mut by_status = json!({"status": {"conditions": [
            {"type": "Failed", "status": "True"}, {"type": "Denied", "status": "True"}]}});
        certificate_signing_request_status(&mut by_status, &old, false, "T");
        let types: Vec<&str> = by_status["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["Failed", "Approved"]);
        assert_eq!(by_status["status"]["conditions"][0]["lastUpdateTime"], "T");

        let mut by_approval = json!({"status": {"certificate": "b3RoZXI=",
            "conditions": [{"type": "Denied", "status": "True"}]}});
        certificate_signing_request_status(&mut by_approval, &old, true, "T");
        assert_eq!(by_approval["status"]["certificate"], "Y2VydA==");
        assert_eq!(by_approval["status"]["conditions"][0]["type"], "Denied");
    }
}
