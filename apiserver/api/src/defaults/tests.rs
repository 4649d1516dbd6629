use serde_json::json;

use super::{apply, job_selector, prepare_for_create};
use crate::resources::find;

#[test]
fn minimal_pod_defaults() {
    let r = find("", "v1", "pods").unwrap();
    let mut p = json!({"metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]}]}});
    apply(r, &mut p);
    prepare_for_create(r, &mut p);
    assert_eq!(
        p["spec"],
        json!({
            "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "imagePullPolicy": "Always", "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File", "resources": {}}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
            "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler",
            "enableServiceLinks": true, "priority": 0, "preemptionPolicy": "PreemptLowerPriority"
        })
    );
    assert_eq!(
        p["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
}

#[test]
fn apply_alone_gives_the_created_shape() {
    let r = find("", "v1", "pods").unwrap();
    let mut p = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}});
    apply(r, &mut p);
    assert_eq!(
        p["status"],
        json!({"phase": "Pending", "qosClass": "BestEffort"})
    );
    assert_eq!(
        p["spec"]["containers"][0]["imagePullPolicy"],
        json!("IfNotPresent")
    );
    let s = find("", "v1", "services").unwrap();
    let mut svc = json!({"metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    apply(s, &mut svc);
    assert_eq!(svc["spec"]["ipFamilies"], json!(["IPv4"]));
    assert_eq!(svc["status"], json!({"loadBalancer": {}}));
    let ns = find("", "v1", "namespaces").unwrap();
    let mut n = json!({"metadata": {"name": "x"}});
    apply(ns, &mut n);
    assert_eq!(n["status"], json!({"phase": "Active"}));
    let mut again = n.clone();
    apply(ns, &mut again);
    assert_eq!(again, n, "apply is idempotent");
}

#[test]
fn pull_policy_and_qos() {
    assert_eq!(super::pull_policy_for("nginx"), "Always");
    assert_eq!(super::pull_policy_for("nginx:latest"), "Always");
    assert_eq!(super::pull_policy_for("nginx:1.25"), "IfNotPresent");
    assert_eq!(super::pull_policy_for("localhost:5000/nginx"), "Always");
    assert_eq!(super::pull_policy_for("nginx@sha256:abc"), "IfNotPresent");
    let r = find("", "v1", "pods").unwrap();
    let mut p = json!({"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "image": "x", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}});
    apply(r, &mut p);
    assert_eq!(
        p["spec"]["containers"][0]["resources"]["requests"],
        json!({"cpu": "1", "memory": "1Gi"})
    );
    assert_eq!(super::qos_class(&p["spec"]), "Guaranteed");
    p["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("500m");
    assert_eq!(super::qos_class(&p["spec"]), "Burstable");
}

#[test]
fn probes_and_volumes() {
    let r = find("", "v1", "pods").unwrap();
    let mut p = json!({"metadata": {"name": "p"}, "spec": {
        "containers": [{"name": "c", "image": "x:1", "livenessProbe": {"httpGet": {"port": 80}}}],
        "volumes": [{"name": "a"}, {"name": "b", "configMap": {"name": "cm"}}, {"name": "s", "secret": {"secretName": "x"}}]}});
    apply(r, &mut p);
    assert_eq!(
        p["spec"]["containers"][0]["livenessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(
        p["spec"]["volumes"][0],
        json!({"name": "a", "emptyDir": {}})
    );
    assert_eq!(
        p["spec"]["volumes"][1]["configMap"]["defaultMode"],
        json!(420)
    );
    assert_eq!(p["spec"]["volumes"][2]["secret"]["defaultMode"], json!(420));
}

#[test]
fn deployment_defaults() {
    let r = find("apps", "v1", "deployments").unwrap();
    let mut d = json!({"metadata": {"name": "d"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}});
    apply(r, &mut d);
    prepare_for_create(r, &mut d);
    assert_eq!(d["spec"]["replicas"], json!(1));
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], json!(10));
    assert_eq!(d["spec"]["progressDeadlineSeconds"], json!(600));
    assert_eq!(
        d["spec"]["template"]["metadata"]["creationTimestamp"],
        json!(null)
    );
    assert!(d["spec"]["template"]["metadata"]
        .as_object()
        .unwrap()
        .contains_key("creationTimestamp"));
    assert_eq!(
        d["spec"]["template"]["spec"]["restartPolicy"],
        json!("Always")
    );
    assert!(d["spec"]["template"]["spec"]
        .get("enableServiceLinks")
        .is_none());
    assert_eq!(d["metadata"]["generation"], json!(1));
    assert_eq!(d["status"], json!({}));
}

#[test]
fn service_defaults() {
    let r = find("", "v1", "services").unwrap();
    let mut s = json!({"metadata": {"name": "s"}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}});
    apply(r, &mut s);
    prepare_for_create(r, &mut s);
    assert_eq!(
        s["spec"],
        json!({"selector": {"a": "b"}, "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
            "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster",
            "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]})
    );
    assert_eq!(s["status"], json!({"loadBalancer": {}}));
    let mut np = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "targetPort": "http"}]}});
    apply(r, &mut np);
    assert_eq!(np["spec"]["externalTrafficPolicy"], json!("Cluster"));
    assert_eq!(np["spec"]["ports"][0]["targetPort"], json!("http"));
    let mut headless = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}});
    apply(r, &mut headless);
    prepare_for_create(r, &mut headless);
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    assert_eq!(
        headless["spec"]["ipFamilyPolicy"],
        json!("RequireDualStack")
    );
    assert_eq!(headless["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
}

#[test]
fn job_defaults_and_selector() {
    let r = find("batch", "v1", "jobs").unwrap();
    let mut j = json!({"metadata": {"name": "pi", "uid": "u"}, "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "perl"}]}}}});
    apply(r, &mut j);
    job_selector(&mut j, "u");
    let spec = &j["spec"];
    assert_eq!(spec["completions"], json!(1));
    assert_eq!(spec["parallelism"], json!(1));
    assert_eq!(spec["backoffLimit"], json!(6));
    assert_eq!(spec["completionMode"], json!("NonIndexed"));
    assert_eq!(spec["suspend"], json!(false));
    assert_eq!(spec["podReplacementPolicy"], json!("TerminatingOrFailed"));
    assert_eq!(
        spec["selector"],
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}})
    );
    assert_eq!(
        spec["template"]["metadata"]["labels"]["job-name"],
        json!("pi")
    );
    assert_eq!(
        j["metadata"]["labels"]["batch.kubernetes.io/job-name"],
        json!("pi")
    );
}

#[test]
fn other_kinds() {
    let ns = find("", "v1", "namespaces").unwrap();
    let mut n = json!({"metadata": {"name": "dev"}});
    apply(ns, &mut n);
    prepare_for_create(ns, &mut n);
    assert_eq!(
        n["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "dev"})
    );
    assert_eq!(n["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(n["status"], json!({"phase": "Active"}));
    let sec = find("", "v1", "secrets").unwrap();
    let mut s = json!({"metadata": {"name": "s"}, "stringData": {"a": "hi"}});
    apply(sec, &mut s);
    assert_eq!(
        s,
        json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "aGk="}})
    );
    let rc = find("", "v1", "replicationcontrollers").unwrap();
    let mut r = json!({"metadata": {"name": "r"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}});
    apply(rc, &mut r);
    assert_eq!(r["spec"]["selector"], json!({"a": "b"}));
    assert_eq!(r["metadata"]["labels"], json!({"a": "b"}));
    assert_eq!(r["spec"]["replicas"], json!(1));
    let np = find("networking.k8s.io", "v1", "networkpolicies").unwrap();
    let mut p = json!({"metadata": {"name": "p"}, "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]}});
    apply(np, &mut p);
    assert_eq!(p["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(p["spec"]["egress"][0]["ports"][0]["protocol"], json!("TCP"));
    let sts = find("apps", "v1", "statefulsets").unwrap();
    let mut st =
        json!({"metadata": {"name": "s"}, "spec": {"template": {"spec": {"containers": []}}}});
    apply(sts, &mut st);
    assert_eq!(
        st["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        st["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(st["spec"]["podManagementPolicy"], json!("OrderedReady"));
}

#[test]
fn default_toleration_seconds_are_added_unless_tolerated() {
    let mut p = json!({"spec": {"containers": [{"name": "c", "image": "x"}]}});
    super::pod::default_toleration_seconds(&mut p);
    assert_eq!(
        p["spec"]["tolerations"],
        json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ])
    );
    let mut own = json!({"spec": {"tolerations": [
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}]}});
    super::pod::default_toleration_seconds(&mut own);
    let list = own["spec"]["tolerations"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["tolerationSeconds"], 5);
    assert_eq!(list[1]["key"], "node.kubernetes.io/not-ready");
    let mut everything = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
    super::pod::default_toleration_seconds(&mut everything);
    assert_eq!(
        everything["spec"]["tolerations"].as_array().unwrap().len(),
        1
    );
}
