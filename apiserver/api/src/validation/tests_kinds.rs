//! Message-shape tests for the networking, RBAC, storage and quota kinds, and decode
//! type errors through the public API.

use serde_json::{json, Value};

use super::validate;
use crate::defaults;
use crate::resources::find;

fn create(group: &str, plural: &str, mut obj: Value) -> Vec<String> {
    let r = find(group, "v1", plural).expect("served");
    defaults::apply(r, &mut obj);
    validate(r, &obj, None)
        .into_iter()
        .map(|c| c.message)
        .collect()
}

#[test]
fn ingress_rules_and_backends() {
    let m = create(
        "networking.k8s.io",
        "ingresses",
        json!({"metadata": {"name": "i", "namespace": "d"}, "spec": {}}),
    );
    assert_eq!(m, vec!["spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"]);
    let m = create(
        "networking.k8s.io",
        "ingresses",
        json!({"metadata": {"name": "i", "namespace": "d"}, "spec": {"rules": [{"host": "*.a.b", "http": {"paths": [
            {"path": "/x", "backend": {"service": {"name": "svc"}}},
            {"path": "x", "pathType": "Prefix", "backend": {"service": {"name": "svc", "port": {"number": 80, "name": "http"}}}}
        ]}}]}}),
    );
    assert_eq!(
        m,
        vec![
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
            "spec.rules[0].http.paths[1].path: Invalid value: \"x\": must be an absolute path",
            "spec.rules[0].http.paths[1].backend: Invalid value: \"\": cannot set both port name & port number",
        ]
    );
    let m = create(
        "networking.k8s.io",
        "ingresses",
        json!({"metadata": {"name": "i", "namespace": "d"}, "spec": {"rules": [{"host": "a*.b"}]}}),
    );
    assert_eq!(m, vec!["spec.rules[0].host: Invalid value: \"a*.b\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]);
}

#[test]
fn network_policy_ports_and_peers() {
    let m = create(
        "networking.k8s.io",
        "networkpolicies",
        json!({"metadata": {"name": "n", "namespace": "d"}, "spec": {"podSelector": {}, "ingress": [{"from": [{}], "ports": [{"port": "http", "endPort": 90}]}]}}),
    );
    assert_eq!(
        m,
        vec![
            "spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric",
            "spec.ingress[0].from[0]: Required value: must specify a peer",
        ]
    );
}

#[test]
fn rbac_bindings() {
    let m = create(
        "rbac.authorization.k8s.io",
        "rolebindings",
        json!({"metadata": {"name": "b", "namespace": "d"}, "roleRef": {"kind": "Pod", "name": "r"}, "subjects": [{"kind": "User"}]}),
    );
    assert_eq!(
        m,
        vec![
            "roleRef.kind: Unsupported value: \"Pod\": supported values: \"Role\", \"ClusterRole\"",
            "subjects[0].name: Required value",
            "subjects[0].name: Invalid value: \"\": user name cannot be empty",
        ]
    );
    let r = find("rbac.authorization.k8s.io", "v1", "clusterroles").unwrap();
    let m: Vec<String> = validate(
        r,
        &json!({"metadata": {"name": "c"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]}),
        None,
    )
    .into_iter()
    .map(|c| c.message)
    .collect();
    assert_eq!(
        m,
        vec!["rules[0].verbs: Required value: verbs must contain at least one value"]
    );
}

#[test]
fn pvc_and_quota() {
    let m = create(
        "",
        "persistentvolumeclaims",
        json!({"metadata": {"name": "c", "namespace": "d"}, "spec": {}}),
    );
    assert_eq!(
        m,
        vec![
            "spec.accessModes: Required value: at least 1 access mode is required",
            "spec.resources[storage]: Required value",
        ]
    );
    let m = create(
        "",
        "resourcequotas",
        json!({"metadata": {"name": "q", "namespace": "d"}, "spec": {"hard": {"pods": "1.5", "foo": "1"}}}),
    );
    assert_eq!(
        m,
        vec![
            "spec.hard[pods]: Invalid value: 1500m: must be an integer",
            "spec.hard[foo]: Invalid value: \"foo\": must be a standard resource type or fully qualified",
        ]
    );
}

#[test]
fn statefulset_and_daemonset() {
    let m = create(
        "apps",
        "statefulsets",
        json!({"metadata": {"name": "s", "namespace": "d"}, "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
    );
    assert_eq!(m, vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for statefulset"]);
    let m = create(
        "apps",
        "daemonsets",
        json!({"metadata": {"name": "s", "namespace": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "updateStrategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}}),
    );
    assert_eq!(m, vec!["spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"]);
}

#[test]
fn type_errors_via_public_api() {
    let r = find("", "v1", "pods").unwrap();
    let errs = super::type_errors(r, &json!({"spec": {"containers": [{"name": 5}]}}));
    assert_eq!(
        super::decode_error_message(r, &errs[0]),
        "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field Container.spec.containers.name of type string"
    );
}

#[test]
fn workload_status_counters() {
    let r = find("apps", "v1", "deployments").unwrap();
    let old = json!({"metadata": {"name": "d", "namespace": "n"}, "spec": {}, "status": {}});
    let mut new = old.clone();
    new["status"] =
        json!({"replicas": 1, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": -1});
    let m: Vec<String> = super::validate_status(r, &new, &old)
        .into_iter()
        .map(|c| c.message)
        .collect();
    assert_eq!(
        m,
        vec![
            "status.updatedReplicas: Invalid value: -1: must be greater than or equal to 0",
            "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
            "status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas",
        ]
    );
}
