//! Container environments on a real kubelet: valueFrom (configMapKeyRef, secretKeyRef,
//! fieldRef, resourceFieldRef), envFrom with prefixes, `$(VAR)` expansion in values,
//! command and args, and the service variables, read back from the container's own `env`.

mod common;

use std::collections::HashMap;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX, NODE_NAME, POD_CIDR_PREFIX};
use serde_json::{json, Value};

fn post(cluster: &NodeCluster, path: &str, body: Value) -> Value {
    let (code, out) = cluster.apiserver.json("POST", path, &body);
    assert_eq!(code, 201, "{out}");
    out
}

fn create_pod(cluster: &NodeCluster, metadata: Value, mut spec: Value) -> Value {
    spec["nodeName"] = json!(NODE_NAME);
    spec["terminationGracePeriodSeconds"] = json!(0);
    post(
        cluster,
        "/api/v1/namespaces/default/pods",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}),
    )
}

/// The variables a container printed from /proc/1/environ, up to the line `--`.
fn printed_env(cluster: &NodeCluster, pod: &Value) -> HashMap<String, String> {
    cluster
        .printed(pod)
        .iter()
        .filter_map(|text| text.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// PID 1's environment as exec'd (a shell would drop names like `CFG_log.level`).
const PRINT_ENV: &str =
    "busybox tr '\\0' '\\n' < /proc/1/environ; echo --; echo \"arg=$1\"; sleep 3600";

#[test]
fn the_environment_comes_from_objects_fields_resources_and_services() {
    let cluster = NodeCluster::start();
    post(
        &cluster,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "settings"}, "data": {"color": "blue", "log.level": "debug", "1st": "x"}}),
    );
    post(
        &cluster,
        "/api/v1/namespaces/default/secrets",
        json!({"metadata": {"name": "db"}, "stringData": {"password": "hunter2", "9lives": "x"}}),
    );
    let service = post(
        &cluster,
        "/api/v1/namespaces/default/services",
        json!({"metadata": {"name": "redis-primary"}, "spec": {"ports": [
            {"name": "redis", "port": 6379}, {"name": "metrics", "port": 9121, "protocol": "UDP"}]}}),
    );
    let redis_ip = service["spec"]["clusterIP"].as_str().unwrap().to_string();
    let (code, kubernetes) = cluster.apiserver.json(
        "GET",
        "/api/v1/namespaces/default/services/kubernetes",
        &Value::Null,
    );
    assert_eq!(code, 200);
    let kubernetes_ip = kubernetes["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .to_string();

    let field = |path: &str| json!({"fieldRef": {"fieldPath": path}});
    let resource =
        |r: &str, divisor: &str| json!({"resourceFieldRef": {"resource": r, "divisor": divisor}});
    let pod = create_pod(
        &cluster,
        json!({"name": "envy", "labels": {"app": "web"}, "annotations": {"team": "core"}}),
        json!({"serviceAccountName": "builder", "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", PRINT_ENV, "sh", "$(COLOR)"],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}},
            "envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}, {"secretRef": {"name": "db"}}],
            "env": [
                {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "color"}}},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                {"name": "OPTIONAL", "valueFrom": {"configMapKeyRef": {"name": "nowhere", "key": "k", "optional": true}}},
                {"name": "NAME", "valueFrom": field("metadata.name")},
                {"name": "NS", "valueFrom": field("metadata.namespace")},
                {"name": "UID", "valueFrom": field("metadata.uid")},
                {"name": "APP", "valueFrom": field("metadata.labels['app']")},
                {"name": "TEAM", "valueFrom": field("metadata.annotations['team']")},
                {"name": "NODE", "valueFrom": field("spec.nodeName")},
                {"name": "SA", "valueFrom": field("spec.serviceAccountName")},
                {"name": "POD_IP", "valueFrom": field("status.podIP")},
                {"name": "POD_IPS", "valueFrom": field("status.podIPs")},
                {"name": "HOST_IP", "valueFrom": field("status.hostIP")},
                {"name": "HOST_IPS", "valueFrom": field("status.hostIPs")},
                {"name": "CPU_MILLIS", "valueFrom": resource("limits.cpu", "1m")},
                {"name": "CPU_CORES", "valueFrom": resource("limits.cpu", "1")},
                {"name": "MEM_MIB", "valueFrom": resource("limits.memory", "1Mi")},
                {"name": "GREETING", "value": "hello $(NAME) in $(COLOR) via $(REDIS_PRIMARY_SERVICE_HOST), $(UNDEFINED)"},
                {"name": "ESCAPED", "value": "$$(COLOR)"},
            ],
        }]}),
    );
    let uid = pod["metadata"]["uid"].as_str().unwrap().to_string();
    let running = cluster.wait_phase("envy", "Running", 60);
    let pod_ip = running["status"]["podIP"].as_str().unwrap().to_string();
    assert!(pod_ip.starts_with(POD_CIDR_PREFIX));
    let env = printed_env(&cluster, &running);
    let expected = [
        ("COLOR", "blue"),
        ("CFG_color", "blue"),
        ("CFG_log.level", "debug"),
        ("CFG_1st", "x"),
        ("password", "hunter2"),
        ("PW", "hunter2"),
        ("NAME", "envy"),
        ("NS", "default"),
        ("UID", uid.as_str()),
        ("APP", "web"),
        ("TEAM", "core"),
        ("NODE", NODE_NAME),
        ("SA", "builder"),
        ("POD_IP", pod_ip.as_str()),
        ("POD_IPS", pod_ip.as_str()),
        ("HOST_IP", "10.77.0.10"),
        ("HOST_IPS", "10.77.0.10"),
        ("CPU_MILLIS", "500"),
        ("CPU_CORES", "1"),
        ("MEM_MIB", "128"),
        ("ESCAPED", "$(COLOR)"),
        ("KUBERNETES_SERVICE_HOST", kubernetes_ip.as_str()),
        ("KUBERNETES_SERVICE_PORT", "443"),
        ("REDIS_PRIMARY_SERVICE_HOST", redis_ip.as_str()),
        ("REDIS_PRIMARY_SERVICE_PORT", "6379"),
        ("REDIS_PRIMARY_SERVICE_PORT_METRICS", "9121"),
    ];
    for (name, value) in expected {
        assert_eq!(
            env.get(name).map(String::as_str),
            Some(value),
            "{name}: {env:?}"
        );
    }
    assert_eq!(
        env["GREETING"],
        format!("hello envy in blue via {redis_ip}, $(UNDEFINED)")
    );
    assert_eq!(env["REDIS_PRIMARY_PORT"], format!("tcp://{redis_ip}:6379"));
    assert_eq!(
        env["REDIS_PRIMARY_PORT_9121_UDP"],
        format!("udp://{redis_ip}:9121")
    );
    assert_eq!(env["REDIS_PRIMARY_PORT_6379_TCP_ADDR"], redis_ip);
    assert_eq!(env["REDIS_PRIMARY_PORT_6379_TCP_PROTO"], "tcp");
    // Keys that are not variable names are skipped; optional references leave nothing.
    assert!(!env.contains_key("9lives") && !env.contains_key("OPTIONAL"));
    // Arguments are expanded against the environment too.
    assert!(
        cluster
            .log(&running, "main", 0)
            .contains(" stdout F arg=blue\n"),
        "args not expanded"
    );

    // Without service links only the kubernetes service's variables remain.
    create_pod(
        &cluster,
        json!({"name": "unlinked"}),
        json!({"enableServiceLinks": false, "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", PRINT_ENV]}]}),
    );
    let unlinked = cluster.wait_phase("unlinked", "Running", 60);
    let env = printed_env(&cluster, &unlinked);
    assert_eq!(env["KUBERNETES_SERVICE_HOST"], kubernetes_ip);
    assert!(
        !env.keys().any(|k| k.starts_with("REDIS_PRIMARY")),
        "{env:?}"
    );
}

#[test]
fn a_missing_required_key_is_a_config_error_until_it_appears() {
    let cluster = NodeCluster::start();
    post(
        &cluster,
        "/api/v1/namespaces/default/configmaps",
        json!({"metadata": {"name": "settings"}, "data": {"color": "blue"}}),
    );
    create_pod(
        &cluster,
        json!({"name": "strict"}),
        json!({"containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", PRINT_ENV],
            "env": [{"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "level"}}}],
        }]}),
    );
    create_pod(
        &cluster,
        json!({"name": "no-secret"}),
        json!({"containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", PRINT_ENV],
            "envFrom": [{"secretRef": {"name": "absent"}}],
        }]}),
    );
    let waiting = |name: &str| {
        eventually(30, &format!("{name} waiting with a config error"), || {
            let pod = cluster.pod(name)?;
            let w = pod["status"]["containerStatuses"][0]["state"]["waiting"].clone();
            (w["reason"] == "CreateContainerConfigError").then_some(w)
        })
    };
    assert_eq!(
        waiting("strict")["message"],
        "couldn't find key level in ConfigMap default/settings"
    );
    assert_eq!(
        waiting("no-secret")["message"],
        "secret \"absent\" not found"
    );
    assert_eq!(cluster.pod("strict").unwrap()["status"]["phase"], "Pending");
    let event = eventually(10, "the kubelet's event", || {
        cluster
            .events(|e| e["involvedObject"]["name"] == "strict")
            .first()
            .cloned()
    });
    assert_eq!(
        (
            &event["type"],
            &event["reason"],
            &event["involvedObject"]["fieldPath"]
        ),
        (
            &json!("Warning"),
            &json!("Failed"),
            &json!("spec.containers{main}")
        )
    );
    assert_eq!(
        event["message"],
        "Error: couldn't find key level in ConfigMap default/settings"
    );

    let (code, out) = cluster.apiserver.json(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/settings",
        &json!({"data": {"level": "9"}}),
    );
    assert_eq!(code, 200, "{out}");
    let pod = cluster.wait_phase("strict", "Running", 30);
    assert_eq!(printed_env(&cluster, &pod)["LEVEL"], "9");
}
