use serde_json::{json, Value};

use super::evaluate::{charge, charge_quota, covering_quotas, recompute, Charged};
use super::limit_range::{apply_pod_defaults, validate_claim, validate_pod, ANNOTATION};
use super::list::pretty;

fn quota(name: &str, hard: Value, used: Option<Value>) -> Value {
    let mut q = json!({"metadata": {"name": name}, "spec": {"hard": hard}});
    if let Some(used) = used {
        q["status"] = json!({"hard": q["spec"]["hard"].clone(), "used": used});
    }
    q
}

fn pod(containers: Value) -> Value {
    json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
}

#[test]
fn the_third_pod_exceeds_a_quota_of_two() {
    let q = quota("pods-2", json!({"pods": "2"}), Some(json!({"pods": "2"})));
    let p = pod(json!([{"name": "c", "image": "nginx"}]));
    let covering = covering_quotas(std::slice::from_ref(&q), "", "pods", &p).unwrap();
    assert_eq!(covering, vec![(0, vec!["pods".to_string()])]);
    let delta = charge("", "pods", &p, None).unwrap();
    let err = charge_quota(&q, &covering[0].1, &delta, None).unwrap_err();
    assert_eq!(
        err.0,
        "exceeded quota: pods-2, requested: pods=1, used: pods=2, limited: pods=2"
    );
    let q1 = quota("pods-2", json!({"pods": "2"}), Some(json!({"pods": "1"})));
    let Charged::Updated(after) = charge_quota(&q1, &covering[0].1, &delta, None).unwrap() else {
        panic!("expected a charge");
    };
    assert_eq!(after["status"]["used"], json!({"pods": "2"}));
}

#[test]
fn unknown_usage_asks_for_a_recount() {
    let q = quota("q", json!({"pods": "2", "secrets": "1"}), None);
    let p = pod(json!([{"name": "c"}]));
    let delta = charge("", "pods", &p, None).unwrap();
    let limited = vec!["pods".to_string()];
    assert_eq!(
        charge_quota(&q, &limited, &delta, None).unwrap(),
        Charged::UsageUnknown
    );
    let others = [p.clone()];
    let known = recompute(&q, |_, plural| {
        if plural == "pods" {
            others.iter().collect()
        } else {
            Vec::new()
        }
    });
    assert_eq!(pretty(&known), "pods=1,secrets=0");
    let Charged::Updated(after) = charge_quota(&q, &limited, &delta, Some(&known)).unwrap() else {
        panic!("expected a charge");
    };
    assert_eq!(
        after["status"]["used"],
        json!({"pods": "2", "secrets": "0"})
    );
    assert_eq!(
        after["status"]["hard"],
        json!({"pods": "2", "secrets": "1"})
    );
}

#[test]
fn cpu_quota_requires_every_container_to_declare_it() {
    let q = quota(
        "compute",
        json!({"requests.cpu": "1", "limits.memory": "1Gi", "pods": "10"}),
        Some(json!({"requests.cpu": "0", "limits.memory": "0", "pods": "0"})),
    );
    let p = pod(json!([
        {"name": "a", "resources": {"requests": {"cpu": "100m"}}},
        {"name": "b"},
    ]));
    let err = covering_quotas(std::slice::from_ref(&q), "", "pods", &p).unwrap_err();
    assert_eq!(
        err.0,
        "failed quota: compute: must specify limits.memory for: a,b; requests.cpu for: b"
    );
    let big = pod(json!([{"name": "a", "resources": {
        "requests": {"cpu": "2"}, "limits": {"memory": "512Mi"}}}]));
    let covering = covering_quotas(std::slice::from_ref(&q), "", "pods", &big).unwrap();
    let delta = charge("", "pods", &big, None).unwrap();
    let err = charge_quota(&q, &covering[0].1, &delta, None).unwrap_err();
    assert_eq!(
        err.0,
        "exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1"
    );
}

#[test]
fn scopes_select_pods() {
    let q = json!({"metadata": {"name": "be"}, "spec": {"hard": {"pods": "1"}, "scopes": ["BestEffort"]}});
    let best_effort = pod(json!([{"name": "a"}]));
    let burstable = pod(json!([{"name": "a", "resources": {"requests": {"cpu": "1"}}}]));
    let qs = std::slice::from_ref(&q);
    assert_eq!(
        covering_quotas(qs, "", "pods", &best_effort).unwrap().len(),
        1
    );
    assert!(covering_quotas(qs, "", "pods", &burstable)
        .unwrap()
        .is_empty());
    let svc = json!({"spec": {"type": "ClusterIP"}});
    let svc_quota = json!({"metadata": {"name": "s"}, "spec": {"hard": {"services": "1"}, "scopes": ["BestEffort"]}});
    assert!(covering_quotas(&[svc_quota], "", "services", &svc)
        .unwrap()
        .is_empty());
}

#[test]
fn updates_charge_only_the_increase() {
    let old = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
    let new = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
    assert_eq!(
        pretty(&charge("", "services", &new, Some(&old)).unwrap()),
        "services.nodeports=1"
    );
    assert!(charge("", "services", &old, Some(&new)).unwrap().is_empty());
}

fn limit_range(limits: Value) -> Value {
    json!({"metadata": {"name": "lr"}, "spec": {"limits": limits}})
}

#[test]
fn container_defaults_fill_what_is_missing() {
    let lr = limit_range(json!([{"type": "Container",
        "default": {"cpu": "500m", "memory": "256Mi"},
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]));
    let mut p = pod(json!([{"name": "web", "resources": {"limits": {"cpu": "1"}}}]));
    assert!(apply_pod_defaults(&mut p, &[lr]));
    let res = &p["spec"]["containers"][0]["resources"];
    assert_eq!(res["limits"], json!({"cpu": "1", "memory": "256Mi"}));
    assert_eq!(res["requests"], json!({"cpu": "100m", "memory": "128Mi"}));
    assert_eq!(
        p["metadata"]["annotations"][ANNOTATION],
        "LimitRanger plugin set: cpu, memory request for container web; memory limit for container web"
    );
}

#[test]
fn min_max_and_ratio_messages() {
    let lr = limit_range(json!([
        {"type": "Container", "max": {"cpu": "1"}, "min": {"memory": "64Mi"}, "maxLimitRequestRatio": {"cpu": "2"}},
        {"type": "Pod", "max": {"memory": "1Gi"}},
    ]));
    let ok = pod(json!([{"name": "a", "resources": {
        "requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}}]));
    assert_eq!(validate_pod(&ok, &lr), Ok(()));
    let too_big = pod(json!([{"name": "a", "resources": {
        "requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}}}]));
    assert_eq!(
        validate_pod(&too_big, &lr).unwrap_err().0,
        "[maximum cpu usage per Container is 1, but limit is 2, cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000]"
    );
    let two = pod(json!([
        {"name": "a", "resources": {"requests": {"cpu": "500m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}}},
        {"name": "b", "resources": {"requests": {"cpu": "500m", "memory": "32Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}},
    ]));
    assert_eq!(
        validate_pod(&two, &lr).unwrap_err().0,
        "[minimum memory usage per Container is 64Mi, but request is 32Mi, maximum memory usage per Pod is 1Gi, but limit is 1280Mi]"
    );
    let claim_lr = limit_range(
        json!([{"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"}, "max": {"storage": "10Gi"}}]),
    );
    let claim = json!({"spec": {"resources": {"requests": {"storage": "20Gi"}}}});
    assert_eq!(
        validate_claim(&claim, &claim_lr).unwrap_err().0,
        "maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi"
    );
}
