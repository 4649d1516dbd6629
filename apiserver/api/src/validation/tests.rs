//! Message-shape tests against the strings read in upstream's validation code.

use serde_json::{json, Value};

use super::{validate, validate_name, validate_status};
use crate::defaults;
use crate::resources::{find, Resource};

fn res(group: &str, plural: &str) -> &'static Resource {
    find(group, "v1", plural).expect("served resource")
}

fn msgs(r: &Resource, obj: &Value, old: Option<&Value>) -> Vec<String> {
    validate(r, obj, old)
        .into_iter()
        .map(|c| c.message)
        .collect()
}

/// Default then validate, as the apiserver does on create.
fn create(r: &Resource, mut obj: Value) -> Vec<String> {
    defaults::apply(r, &mut obj);
    msgs(r, &obj, None)
}

fn pod(containers: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": containers}})
}

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

#[test]
fn minimal_pod_is_valid() {
    let r = res("", "pods");
    assert_eq!(
        create(r, pod(json!([{"name": "c", "image": "nginx"}]))),
        Vec::<String>::new()
    );
}

#[test]
fn pod_name_and_containers() {
    let r = res("", "pods");
    let mut p = pod(json!([]));
    p["metadata"]["name"] = json!("Foo_bar");
    let m = create(r, p);
    assert_eq!(
        m,
        vec![
            format!("metadata.name: Invalid value: \"Foo_bar\": {SUBDOMAIN_MSG}"),
            "spec.containers: Required value".to_string(),
        ]
    );
    let m = create(r, pod(json!([{"name": "c"}])));
    assert_eq!(m, vec!["spec.containers[0].image: Required value"]);
    let m = create(
        r,
        pod(json!([{"name": "c", "image": "x"}, {"name": "c", "image": "y"}])),
    );
    assert_eq!(m, vec!["spec.containers[1].name: Duplicate value: \"c\""]);
}

#[test]
fn pod_ports_env_mounts_resources() {
    let r = res("", "pods");
    let m = create(
        r,
        pod(json!([{"name": "c", "image": "x",
            "ports": [{"containerPort": 0}, {"containerPort": 70000, "protocol": "XTCP"}],
            "env": [{"name": "A=B"}],
            "volumeMounts": [{"name": "missing", "mountPath": "/x"}],
            "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}])),
    );
    assert!(
        m.contains(&"spec.containers[0].ports[0].containerPort: Required value".to_string()),
        "{m:?}"
    );
    assert!(m.contains(&"spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive".to_string()));
    assert!(m.contains(&"spec.containers[0].ports[1].protocol: Unsupported value: \"XTCP\": supported values: \"SCTP\", \"TCP\", \"UDP\"".to_string()));
    assert!(m.contains(&"spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='".to_string()));
    assert!(
        m.contains(&"spec.containers[0].volumeMounts[0].name: Not found: \"missing\"".to_string())
    );
    assert!(m.contains(&"spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1".to_string()));
}

#[test]
fn pod_restart_and_dns_policy() {
    let r = res("", "pods");
    let mut p = pod(json!([{"name": "c", "image": "x"}]));
    p["spec"]["restartPolicy"] = json!("Sometimes");
    p["spec"]["dnsPolicy"] = json!("Weird");
    let m = create(r, p);
    assert_eq!(
        m,
        vec![
            "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            "spec.dnsPolicy: Unsupported value: \"Weird\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"",
        ]
    );
}

#[test]
fn pod_update_only_image_changes() {
    let r = res("", "pods");
    let mut old = pod(json!([{"name": "c", "image": "x"}]));
    defaults::apply(r, &mut old);
    let mut new = old.clone();
    new["spec"]["containers"][0]["image"] = json!("y");
    assert!(msgs(r, &new, Some(&old)).is_empty());
    new["spec"]["restartPolicy"] = json!("Never");
    let m = msgs(r, &new, Some(&old));
    assert_eq!(m.len(), 1);
    assert!(m[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"), "{}", m[0]);
}

#[test]
fn service_messages() {
    let r = res("", "services");
    let svc =
        |spec: Value| json!({"metadata": {"name": "s", "namespace": "default"}, "spec": spec});
    assert!(create(
        r,
        svc(json!({"ports": [{"port": 80}], "selector": {"app": "x"}}))
    )
    .is_empty());
    let m = create(r, svc(json!({"ports": [{"port": 0}]})));
    assert_eq!(
        m,
        vec![
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive",
            "spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive"
        ]
    );
    let m = create(r, svc(json!({"ports": [{"port": 80}, {"port": 81}]})));
    assert_eq!(
        m,
        vec![
            "spec.ports[0].name: Required value",
            "spec.ports[1].name: Required value"
        ]
    );
    let m = create(r, svc(json!({"type": "Foo", "ports": [{"port": 80}]})));
    assert!(m.contains(&"spec.type: Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"".to_string()), "{m:?}");
    let m = create(
        r,
        svc(json!({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]})),
    );
    assert_eq!(m, vec!["spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"]);
    let mut bad = svc(json!({"ports": [{"port": 80}]}));
    bad["metadata"]["name"] = json!("1svc");
    let m = create(r, bad);
    assert_eq!(m, vec!["metadata.name: Invalid value: \"1svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]);
}

#[test]
fn service_cluster_ip_immutable() {
    let r = res("", "services");
    let mut old = json!({"metadata": {"name": "s", "namespace": "default"}, "spec": {"ports": [{"port": 80}], "clusterIP": "10.0.0.5"}});
    defaults::apply(r, &mut old);
    defaults::prepare_for_create(r, &mut old);
    let mut new = old.clone();
    new["spec"]["clusterIP"] = json!("10.0.0.6");
    defaults::prepare_for_update(r, &mut new, &old);
    let m = msgs(r, &new, Some(&old));
    assert_eq!(
        m,
        vec!["spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.6\"}: may not change once set"]
    );
}

fn deployment(selector: Option<Value>, labels: Value) -> Value {
    let mut d = json!({"metadata": {"name": "d", "namespace": "default"},
        "spec": {"template": {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    if let Some(s) = selector {
        d["spec"]["selector"] = s;
    }
    d
}

#[test]
fn deployment_selector_rules() {
    let r = res("apps", "deployments");
    assert!(create(
        r,
        deployment(
            Some(json!({"matchLabels": {"app": "x"}})),
            json!({"app": "x"})
        )
    )
    .is_empty());
    let m = create(r, deployment(None, json!({"app": "x"})));
    assert_eq!(
        m,
        vec![
            "spec.selector: Required value",
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`",
        ]
    );
    let m = create(
        r,
        deployment(
            Some(json!({"matchLabels": {"app": "y"}})),
            json!({"app": "x"}),
        ),
    );
    assert_eq!(m, vec!["spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"]);
    let mut d = deployment(
        Some(json!({"matchLabels": {"app": "x"}})),
        json!({"app": "x"}),
    );
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    let m = create(r, d);
    assert_eq!(
        m,
        vec![
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\"",
        ]
    );
}

#[test]
fn deployment_selector_immutable() {
    let r = res("apps", "deployments");
    let mut old = deployment(
        Some(json!({"matchLabels": {"app": "x"}})),
        json!({"app": "x", "b": "c"}),
    );
    defaults::apply(r, &mut old);
    let mut new = old.clone();
    new["spec"]["selector"] = json!({"matchLabels": {"app": "x", "b": "c"}});
    let m = msgs(r, &new, Some(&old));
    assert_eq!(m, vec!["spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"x\", \"b\":\"c\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]);
}

#[test]
fn job_requires_restart_policy_and_generated_selector() {
    let r = find("batch", "v1", "jobs").unwrap();
    let mut j = json!({"metadata": {"name": "j", "namespace": "default", "uid": "u1"},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    defaults::apply(r, &mut j);
    defaults::job_selector(&mut j, "u1");
    let m = msgs(r, &j, None);
    assert_eq!(m, vec!["spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""]);
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert!(msgs(r, &j, None).is_empty());
    let mut upd = j.clone();
    upd["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
    let m = msgs(r, &upd, Some(&j));
    assert_eq!(m.len(), 1);
    assert!(
        m[0].starts_with("spec.template: Invalid value: core.PodTemplateSpec{"),
        "{}",
        m[0]
    );
    assert!(m[0].ends_with(": field is immutable"));
}

#[test]
fn cron_schedule() {
    let r = find("batch", "v1", "cronjobs").unwrap();
    let mut cj = json!({"metadata": {"name": "c", "namespace": "default"},
        "spec": {"schedule": "* * *", "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "x"}]}}}}}});
    let m = create(r, cj.clone());
    assert_eq!(
        m,
        vec![
            "spec.schedule: Invalid value: \"* * *\": expected exactly 5 fields, found 3: [* * *]"
        ]
    );
    cj["spec"]["schedule"] = json!("*/5 * * * *");
    assert!(create(r, cj.clone()).is_empty());
    cj["spec"]["schedule"] = json!("0 25 * * *");
    assert_eq!(create(r, cj), vec!["spec.schedule: Invalid value: \"0 25 * * *\": end of range (25) above maximum (23): 25"]);
}

#[test]
fn configmap_and_secret() {
    let cm = res("", "configmaps");
    let m = create(
        cm,
        json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"a b": "x"}}),
    );
    assert_eq!(m, vec!["data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]);
    let big = "x".repeat(1024 * 1024 + 1);
    let m = create(
        cm,
        json!({"metadata": {"name": "c", "namespace": "d"}, "data": {"a": big}}),
    );
    assert_eq!(m, vec![": Too long: may not be more than 1048576 bytes"]);
    let sec = res("", "secrets");
    let m = create(
        sec,
        json!({"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/tls", "data": {}}),
    );
    assert_eq!(
        m,
        vec![
            "data[tls.crt]: Required value",
            "data[tls.key]: Required value"
        ]
    );
    let m = create(
        sec,
        json!({"metadata": {"name": "s", "namespace": "d"}, "type": "kubernetes.io/dockerconfigjson", "data": {}}),
    );
    assert_eq!(m, vec!["data[.dockerconfigjson]: Required value"]);
    let old = json!({"metadata": {"name": "s", "namespace": "d"}, "type": "Opaque", "immutable": true, "data": {"a": "eA=="}});
    let mut new = old.clone();
    new["data"]["a"] = json!("eQ==");
    new["type"] = json!("Other");
    let m = msgs(sec, &new, Some(&old));
    assert_eq!(
        m,
        vec![
            "type: Invalid value: \"Other\": field is immutable",
            "data: Forbidden: field is immutable when `immutable` is set"
        ]
    );
}

#[test]
fn namespace_name_is_a_label() {
    let r = res("", "namespaces");
    let m = create(r, json!({"metadata": {"name": "a.b"}}));
    assert_eq!(
        m,
        vec!["metadata.name: Invalid value: \"a.b\": must not contain dots"]
    );
    assert!(create(r, json!({"metadata": {"name": "ok"}})).is_empty());
}

#[test]
fn names_per_kind() {
    assert!(validate_name(res("", "pods"), "a.b").is_empty());
    assert_eq!(
        validate_name(res("", "namespaces"), "a.b"),
        vec!["must not contain dots"]
    );
    assert!(!validate_name(res("", "services"), "a.b").is_empty());
    let role = find("rbac.authorization.k8s.io", "v1", "roles").unwrap();
    assert!(validate_name(role, "system:controller:foo").is_empty());
    assert_eq!(validate_name(role, "a/b"), vec!["may not contain '/'"]);
}

#[test]
fn pod_status_phase() {
    let r = res("", "pods");
    let mut old = pod(json!([{"name": "c", "image": "x"}]));
    defaults::apply(r, &mut old);
    defaults::prepare_for_create(r, &mut old);
    let mut new = old.clone();
    new["status"]["phase"] = json!("Sleeping");
    let m: Vec<String> = validate_status(r, &new, &old)
        .into_iter()
        .map(|c| c.message)
        .collect();
    assert_eq!(m, vec!["status.phase: Unsupported value: \"Sleeping\": supported values: \"Failed\", \"Pending\", \"Running\", \"Succeeded\", \"Unknown\""]);
}

#[test]
fn causes_carry_reason_and_field() {
    let r = res("", "pods");
    let mut p = pod(json!([]));
    defaults::apply(r, &mut p);
    let c = validate(r, &p, None);
    assert_eq!(c[0].reason, "FieldValueRequired");
    assert_eq!(c[0].field, "spec.containers");
    let e = crate::status::ApiError::invalid("", "Pod", "p", c);
    assert_eq!(
        e.message,
        "Pod \"p\" is invalid: spec.containers: Required value"
    );
}
