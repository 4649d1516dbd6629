use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::util::{format_rfc3339, parse_time, Time};
use super::*;
use crate::resources::{find, RESOURCES};

/// 2024-01-01T00:00:00Z
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

fn ago(secs: u64) -> String {
    let t = util::from_system(now() - Duration::from_secs(secs));
    format_rfc3339(Some(t))
}

fn res(group: &str, plural: &str) -> &'static Resource {
    find(group, "v1", plural).expect("resource")
}

fn cells(group: &str, plural: &str, obj: &Value) -> Vec<Value> {
    row_cells(res(group, plural), obj, now())
}

#[test]
fn human_duration_boundaries() {
    const S: i128 = 1_000_000_000;
    const H: i128 = 3600 * S;
    const D: i128 = 24 * H;
    let cases: &[(i128, &str)] = &[
        (-2 * S, "<invalid>"),
        (-S - S / 2, "0s"),
        (-S, "0s"),
        (0, "0s"),
        (5 * S, "5s"),
        (119 * S, "119s"),
        (120 * S, "2m"),
        (125 * S, "2m5s"),
        (599 * S, "9m59s"),
        (600 * S, "10m"),
        (3 * H - S, "179m"),
        (3 * H, "3h"),
        (3 * H + 30 * 60 * S, "3h30m"),
        (8 * H - 60 * S, "7h59m"),
        (8 * H, "8h"),
        (48 * H - S, "47h"),
        (48 * H, "2d"),
        (49 * H, "2d1h"),
        (8 * D - H, "7d23h"),
        (8 * D, "8d"),
        (2 * 365 * D - H, "729d"),
        (2 * 365 * D, "2y"),
        (2 * 365 * D + D, "2y1d"),
        (8 * 365 * D - D, "7y364d"),
        (8 * 365 * D, "8y"),
        (10 * 365 * D + 5 * D, "10y"),
    ];
    for (d, want) in cases {
        assert_eq!(human_duration(*d), *want, "{d}");
    }
}

#[test]
fn timestamps() {
    let t = parse_time("2024-01-01T00:00:00Z").unwrap();
    assert_eq!(t.secs, 1_704_067_200);
    assert_eq!(
        parse_time("2024-01-01T01:00:00.5+01:00").unwrap(),
        Time {
            secs: 1_704_067_200,
            nanos: 500_000_000
        }
    );
    assert_eq!(format_rfc3339(Some(t)), "2024-01-01T00:00:00Z");
    assert_eq!(format_rfc3339(None), "0001-01-01T00:00:00Z");
    assert_eq!(
        format_rfc3339(parse_time("1969-12-31T23:59:59Z")),
        "1969-12-31T23:59:59Z"
    );
    for bad in [
        "",
        "2024-01-01",
        "2024-13-01T00:00:00Z",
        "2024-01-01T00:00:00",
        "x",
    ] {
        assert!(parse_time(bad).is_none(), "{bad}");
    }
    let pod = json!({"metadata": {"name": "p", "creationTimestamp": ago(300)}});
    assert_eq!(cells("", "pods", &pod)[4], "5m");
    let pod = json!({"metadata": {"name": "p"}});
    assert_eq!(cells("", "pods", &pod)[4], "<unknown>");
}

fn pod(status: Value) -> Value {
    json!({
        "metadata": {"name": "p", "creationTimestamp": ago(60)},
        "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
        "status": status,
    })
}

fn pod_status(p: &Value) -> (String, String, String) {
    let c = cells("", "pods", p);
    (
        c[1].as_str().unwrap().to_string(),
        c[2].as_str().unwrap().to_string(),
        c[3].as_str().unwrap().to_string(),
    )
}

#[test]
fn pod_status_column() {
    let running = json!({"running": {}});
    // Pending, nothing reported yet.
    assert_eq!(
        pod_status(&pod(json!({"phase": "Pending"}))),
        ("0/2".into(), "Pending".into(), "0".into())
    );
    // ContainerCreating.
    let p = pod(json!({"phase": "Pending", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}},
        {"name": "b", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "ContainerCreating");
    // Running, one ready.
    let p = pod(json!({"phase": "Running", "containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "state": running},
        {"name": "b", "ready": false, "restartCount": 0, "state": running}
    ]}));
    assert_eq!(pod_status(&p), ("1/2".into(), "Running".into(), "0".into()));
    // Completed.
    let p = pod(json!({"phase": "Succeeded", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Completed");
    assert_eq!(
        row_conditions(res("", "pods"), &p).unwrap()[0]["reason"],
        "Succeeded"
    );
    // One container completed while another still runs and the pod is ready.
    let p = pod(
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
            {"name": "a", "ready": true, "restartCount": 0, "state": running},
            {"name": "b", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        ]}),
    );
    assert_eq!(pod_status(&p).1, "Running");
    // CrashLoopBackOff with restarts and the last restart time.
    let p = pod(json!({"phase": "Running", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 3,
         "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(300)}},
         "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        {"name": "b", "ready": true, "restartCount": 1, "state": running}
    ]}));
    assert_eq!(
        pod_status(&p),
        ("1/2".into(), "CrashLoopBackOff".into(), "4 (5m ago)".into())
    );
    // Error: terminated without reason → ExitCode, with reason → the reason.
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Error");
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 137}}}
    ]}));
    assert_eq!(pod_status(&p).1, "ExitCode:137");
    let p = pod(json!({"phase": "Failed", "containerStatuses": [
        {"name": "a", "state": {"terminated": {"exitCode": 0, "signal": 9}}}
    ]}));
    assert_eq!(pod_status(&p).1, "Signal:9");
    // Init containers: 0 of 2 done, then a failing one, then a waiting one.
    let mut p = pod(json!({"phase": "Pending", "initContainerStatuses": [
        {"name": "i1", "restartCount": 0, "state": {"running": {}}},
        {"name": "i2", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
    ]}));
    p["spec"]["initContainers"] = json!([{"name": "i1"}, {"name": "i2"}]);
    assert_eq!(pod_status(&p).1, "Init:0/2");
    p["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 0}});
    assert_eq!(pod_status(&p).1, "Init:1/2");
    p["status"]["initContainerStatuses"][1]["state"] = json!({"terminated": {"exitCode": 1}});
    assert_eq!(pod_status(&p).1, "Init:ExitCode:1");
    p["status"]["initContainerStatuses"][1]["state"] =
        json!({"waiting": {"reason": "CrashLoopBackOff"}});
    assert_eq!(pod_status(&p).1, "Init:CrashLoopBackOff");
    // A started sidecar counts as a container and as ready.
    let mut p = pod(json!({"phase": "Running", "initContainerStatuses": [
        {"name": "side", "restartCount": 2, "started": true, "ready": true, "state": {"running": {}}}
    ], "containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "state": running},
        {"name": "b", "ready": true, "restartCount": 0, "state": running}
    ]}));
    p["spec"]["initContainers"] = json!([{"name": "side", "restartPolicy": "Always"}]);
    assert_eq!(pod_status(&p), ("3/3".into(), "Running".into(), "2".into()));
    // Terminating, and Unknown for a lost node.
    let mut p = pod(json!({"phase": "Running"}));
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(pod_status(&p).1, "Terminating");
    p["status"]["reason"] = json!("NodeLost");
    assert_eq!(pod_status(&p).1, "Unknown");
    let mut p = pod(json!({"phase": "Succeeded"}));
    p["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(pod_status(&p).1, "Succeeded");
    // Scheduling gates.
    let p = pod(json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
    ]}));
    assert_eq!(pod_status(&p).1, "SchedulingGated");
}

#[test]
fn pod_wide_columns() {
    let mut p = pod(json!({"phase": "Running", "podIP": "10.0.0.5",
        "conditions": [{"type": "g1", "status": "True"}, {"type": "g2", "status": "False"}]}));
    p["spec"]["nodeName"] = json!("n1");
    p["spec"]["readinessGates"] = json!([{"conditionType": "g1"}, {"conditionType": "g2"}]);
    let c = cells("", "pods", &p);
    assert_eq!(
        c[5..],
        [
            json!("10.0.0.5"),
            json!("n1"),
            json!("<none>"),
            json!("1/2")
        ]
    );
    let c = cells("", "pods", &pod(json!({})));
    assert_eq!(
        c[5..],
        [
            json!("<none>"),
            json!("<none>"),
            json!("<none>"),
            json!("<none>")
        ]
    );
}

#[test]
fn service_columns() {
    let svc = |spec: Value, status: Value| json!({"metadata": {"name": "s", "creationTimestamp": ago(10)}, "spec": spec, "status": status});
    let c = cells(
        "",
        "services",
        &svc(
            json!({"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                "ports": [{"port": 443, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
                "selector": {"b": "2", "a": "1"}}),
            json!({}),
        ),
    );
    assert_eq!(
        c,
        vec![
            json!("s"),
            json!("ClusterIP"),
            json!("10.96.0.1"),
            json!("<none>"),
            json!("443/TCP,53/UDP"),
            json!("10s"),
            json!("a=1,b=2")
        ]
    );
    let c = cells(
        "",
        "services",
        &svc(
            json!({"type": "NodePort", "clusterIP": "10.0.0.3",
                "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}),
            json!({}),
        ),
    );
    assert_eq!(c[2], "10.0.0.3");
    assert_eq!(c[4], "80:30080/TCP");
    assert_eq!(c[6], "<none>");
    let lb = svc(
        json!({"type": "LoadBalancer", "clusterIPs": ["10.0.0.4"]}),
        json!({}),
    );
    let c = cells("", "services", &lb);
    assert_eq!(c[3], "<pending>");
    assert_eq!(c[4], "<none>");
    let lb = svc(
        json!({"type": "LoadBalancer", "externalIPs": ["9.9.9.9"]}),
        json!({"loadBalancer": {"ingress": [{"ip": "5.5.5.5"}, {"hostname": "a.example"}, {"ip": "5.5.5.5"}]}}),
    );
    assert_eq!(cells("", "services", &lb)[3], "5.5.5.5,a.example,9.9.9.9");
    let en = svc(
        json!({"type": "ExternalName", "externalName": "db.example"}),
        json!({}),
    );
    let c = cells("", "services", &en);
    assert_eq!(
        (c[2].clone(), c[3].clone()),
        (json!("<none>"), json!("db.example"))
    );
    let headless = svc(json!({"type": "ClusterIP", "clusterIP": "None"}), json!({}));
    assert_eq!(cells("", "services", &headless)[2], "None");
}

#[test]
fn endpoints_column() {
    let ep = json!({"metadata": {"name": "e"}, "subsets": [
        {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}
    ]});
    assert_eq!(
        cells("", "endpoints", &ep)[1],
        "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
    );
    let ep = json!({"metadata": {"name": "e"}, "subsets": [
        {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]},
        {"addresses": [{"ip": "10.0.0.9"}]}
    ]});
    assert_eq!(cells("", "endpoints", &ep)[1], "[fd00::1]:80,10.0.0.9");
    assert_eq!(cells("", "endpoints", &json!({}))[1], "<none>");
}

#[test]
fn node_columns() {
    let n = json!({
        "metadata": {"name": "n1", "creationTimestamp": ago(3 * 86400),
            "labels": {"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/": "x",
                       "kubernetes.io/role": "worker"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "192.168.0.2"}],
            "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Linux"}}
    });
    assert_eq!(
        cells("", "nodes", &n),
        vec![
            json!("n1"),
            json!("Ready,SchedulingDisabled"),
            json!("control-plane,worker"),
            json!("3d"),
            json!("v1.33.0"),
            json!("192.168.0.2"),
            json!("<none>"),
            json!("Linux"),
            json!("<unknown>"),
            json!("<unknown>")
        ]
    );
    let c = cells("", "nodes", &json!({"metadata": {"name": "n2"}}));
    assert_eq!(
        (c[1].clone(), c[2].clone()),
        (json!("Unknown"), json!("<none>"))
    );
    let nr = json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}});
    assert_eq!(cells("", "nodes", &nr)[1], "NotReady");
}

#[test]
fn event_columns() {
    let ev = json!({
        "metadata": {"name": "p.1"},
        "involvedObject": {"kind": "Pod", "name": "p", "fieldPath": "spec.containers{a}"},
        "reason": "Started", "type": "Normal", "message": " Started container a\n",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": ago(600), "lastTimestamp": ago(30), "count": 3
    });
    assert_eq!(
        cells("", "events", &ev),
        vec![
            json!("30s"),
            json!("Normal"),
            json!("Started"),
            json!("pod/p"),
            json!("spec.containers{a}"),
            json!("kubelet, n1"),
            json!("Started container a"),
            json!("10m"),
            json!(3),
            json!("p.1")
        ]
    );
    let new_ev = json!({
        "metadata": {"name": "x"}, "regarding": {"kind": "Node"}, "note": "hi",
        "reportingController": "ctl", "eventTime": ago(5),
        "series": {"count": 7, "lastObservedTime": ago(2)}
    });
    let c = cells("events.k8s.io", "events", &new_ev);
    assert_eq!(c[0], "2s");
    assert_eq!(c[3], "node");
    assert_eq!(c[5], "ctl");
    assert_eq!(c[6], "hi");
    assert_eq!(c[7], "5s");
    assert_eq!(c[8], 7);
    let c = cells("", "events", &json!({}));
    assert_eq!((c[0].clone(), c[8].clone()), (json!("<unknown>"), json!(1)));
}

#[test]
fn workload_columns() {
    let d = json!({"metadata": {"name": "d", "creationTimestamp": ago(7200)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "x"}},
            "template": {"spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "busybox"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    assert_eq!(
        cells("apps", "deployments", &d),
        vec![
            json!("d"),
            json!("2/3"),
            json!(3),
            json!(2),
            json!("120m"),
            json!("a,b"),
            json!("nginx,busybox"),
            json!("app=x")
        ]
    );
    assert_eq!(cells("apps", "deployments", &json!({}))[7], "");
    assert_eq!(cells("apps", "replicasets", &json!({}))[7], "<none>");
    let bad =
        json!({"spec": {"selector": {"matchExpressions": [{"key": "a", "operator": "Bad"}]}}});
    assert_eq!(cells("apps", "deployments", &bad)[7], "<invalid>");
    assert_eq!(cells("apps", "replicasets", &bad)[7], "<error>");

    let job = |spec: Value, status: Value| json!({"metadata": {"name": "j"}, "spec": spec, "status": status});
    let c = cells(
        "batch",
        "jobs",
        &job(
            json!({"completions": 3}),
            json!({"succeeded": 1, "startTime": ago(90)}),
        ),
    );
    assert_eq!(c[1..4], [json!("Running"), json!("1/3"), json!("90s")]);
    let c = cells(
        "batch",
        "jobs",
        &job(
            json!({"parallelism": 2}),
            json!({"succeeded": 1, "startTime": ago(200), "completionTime": ago(80),
                "conditions": [{"type": "Complete", "status": "True"}]}),
        ),
    );
    assert_eq!(c[1..4], [json!("Complete"), json!("1/1 of 2"), json!("2m")]);
    let c = cells(
        "batch",
        "jobs",
        &job(
            json!({}),
            json!({"conditions": [{"type": "Failed", "status": "True"}]}),
        ),
    );
    assert_eq!(c[1..4], [json!("Failed"), json!("0/1"), json!("")]);

    let cj = json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *", "suspend": false},
        "status": {"active": [{}, {}], "lastScheduleTime": ago(60)}});
    let c = cells("batch", "cronjobs", &cj);
    assert_eq!(
        c[1..6],
        [
            json!("*/5 * * * *"),
            json!("<none>"),
            json!("False"),
            json!(2),
            json!("60s")
        ]
    );
    let c = cells("batch", "cronjobs", &json!({}));
    assert_eq!(
        (c[3].clone(), c[5].clone()),
        (json!("<unset>"), json!("<none>"))
    );

    let ds =
        json!({"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}}});
    assert_eq!(
        cells("apps", "daemonsets", &ds)[6],
        "kubernetes.io/os=linux"
    );
    let sts = json!({"spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
    assert_eq!(cells("apps", "statefulsets", &sts)[1], "1/2");
    let rc = json!({"spec": {"replicas": 2, "selector": {"app": "x"}}});
    assert_eq!(cells("", "replicationcontrollers", &rc)[7], "app=x");
    let cr = json!({"metadata": {"ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "controller": true}]}, "revision": 4});
    assert_eq!(
        cells("apps", "controllerrevisions", &cr)[1..3],
        [json!("daemonset.apps/ds"), json!(4)]
    );
    let pdb = json!({"spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        cells("policy", "poddisruptionbudgets", &pdb)[1..4],
        [json!("50%"), json!("N/A"), json!(1)]
    );
}

#[test]
fn other_columns() {
    let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
    assert_eq!(cells("coordination.k8s.io", "leases", &lease)[1], "me");
    let es = json!({"addressType": "IPv4", "ports": [{"port": 80}, {"name": "x"}, {}, {"port": 1}],
        "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "10.0.0.3"]}]});
    let c = cells("discovery.k8s.io", "endpointslices", &es);
    assert_eq!(
        c[1..4],
        [
            json!("IPv4"),
            json!("80,x,* + 1 more..."),
            json!("10.0.0.1,10.0.0.2,10.0.0.3")
        ]
    );
    assert_eq!(
        cells("discovery.k8s.io", "endpointslices", &json!({}))[2],
        "<unset>"
    );
    let ing = json!({"spec": {"ingressClassName": "nginx", "rules": [{"host": "a"}, {}, {"host": "b"}],
        "tls": [{}]}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}});
    assert_eq!(
        cells("networking.k8s.io", "ingresses", &ing)[1..5],
        [
            json!("nginx"),
            json!("a,b"),
            json!("1.2.3.4"),
            json!("80, 443")
        ]
    );
    assert_eq!(cells("networking.k8s.io", "ingresses", &json!({}))[2], "*");
    assert_eq!(
        cells("networking.k8s.io", "networkpolicies", &json!({}))[1],
        "<none>"
    );
    let rb = json!({"roleRef": {"kind": "ClusterRole", "name": "admin"}, "subjects": [
        {"kind": "User", "name": "u1"}, {"kind": "ServiceAccount", "namespace": "ns", "name": "sa"},
        {"kind": "User", "name": "u2"}, {"kind": "Group", "name": "g"}]});
    assert_eq!(
        cells("rbac.authorization.k8s.io", "rolebindings", &rb)[1..6],
        [
            json!("ClusterRole/admin"),
            json!("<unknown>"),
            json!("u1, u2"),
            json!("g"),
            json!("ns/sa")
        ]
    );
    let pv = json!({"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
        "claimRef": {"namespace": "ns", "name": "c"}, "storageClassName": "std"}, "status": {"phase": "Bound"}});
    assert_eq!(
        cells("", "persistentvolumes", &pv)[1..8],
        [
            json!("1Gi"),
            json!("RWO,RWX"),
            json!(""),
            json!("Bound"),
            json!("ns/c"),
            json!("std"),
            json!("<unset>")
        ]
    );
    let pvc = json!({"spec": {"volumeName": "v"}, "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"]}});
    assert_eq!(
        cells("", "persistentvolumeclaims", &pvc)[1..6],
        [
            json!("Bound"),
            json!("v"),
            json!("0"),
            json!("RWO"),
            json!("")
        ]
    );
    let quota = json!({"status": {"hard": {"pods": "10", "limits.cpu": "2", "requests.cpu": "1"},
        "used": {"pods": "3", "requests.cpu": "500m"}}});
    assert_eq!(
        cells("", "resourcequotas", &quota)[1..3],
        [
            json!("pods: 3/10, requests.cpu: 500m/1"),
            json!("limits.cpu: 0/2")
        ]
    );
    let cm = json!({"data": {"a": "1"}, "binaryData": {"b": ""}});
    assert_eq!(cells("", "configmaps", &cm)[1], 2);
    let secret = json!({"type": "Opaque", "data": {"a": "", "b": ""}});
    assert_eq!(
        cells("", "secrets", &secret)[1..3],
        [json!("Opaque"), json!(2)]
    );
}

#[test]
fn default_table_shape() {
    let lr = res("", "limitranges");
    assert!(!has_printer(lr));
    assert_eq!(
        columns(lr)
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Name", "Created At"]
    );
    assert_eq!(columns(lr)[1]["type"], "date");
    let obj = json!({"metadata": {"name": "limits", "namespace": "ns", "resourceVersion": "7",
        "creationTimestamp": "2023-12-31T23:00:00Z"}, "spec": {}});
    let t = table(
        lr,
        &[&obj],
        IncludeObject::default(),
        json!({"resourceVersion": "9"}),
        now(),
    );
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(t["metadata"], json!({"resourceVersion": "9"}));
    assert_eq!(
        t["rows"],
        json!([{"cells": ["limits", "2023-12-31T23:00:00Z"], "object": {
            "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"].clone()}}])
    );
    let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "metadata",
            "columnDefinitions",
            "rows"
        ]
    );
    let empty = table(lr, &[], IncludeObject::None, Value::Null, now());
    assert_eq!(empty["rows"], Value::Null);
    assert_eq!(empty["metadata"], json!({}));
    assert_eq!(
        cells("", "limitranges", &json!({}))[1],
        "0001-01-01T00:00:00Z"
    );
}

#[test]
fn include_object_variants() {
    let pods = res("", "pods");
    let p = pod(json!({"phase": "Failed"}));
    let t = table(pods, &[&p], IncludeObject::None, json!({}), now());
    assert_eq!(t["rows"][0]["object"], Value::Null);
    assert_eq!(t["rows"][0]["conditions"][0]["type"], "Completed");
    let keys: Vec<&String> = t["rows"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["cells", "conditions", "object"]);
    let t = table(pods, &[&p], IncludeObject::Object, json!({}), now());
    assert_eq!(t["rows"][0]["object"], p);
    assert_eq!(
        table(pods, &[], IncludeObject::Object, json!({}), now())["rows"],
        json!([])
    );
    let c = &columns(pods)[0];
    assert_eq!(
        (
            c["name"].clone(),
            c["format"].clone(),
            c["priority"].clone()
        ),
        (json!("Name"), json!("name"), json!(0))
    );
    assert_eq!(columns(pods)[5]["priority"], 1);
    assert_eq!(IncludeObject::parse(""), Ok(IncludeObject::Metadata));
    assert_eq!(IncludeObject::parse("None"), Ok(IncludeObject::None));
    assert_eq!(
        IncludeObject::parse("x").unwrap_err(),
        "Unable to convert to Table as requested: includeObject: Invalid value: \"x\": must be 'Metadata', 'Object', 'None', or empty"
    );
}

/// Objects that exercise every printer path with wrong types and odd shapes.
fn odd_objects() -> Vec<Value> {
    vec![
        json!(null),
        json!(42),
        json!("x"),
        json!([]),
        json!({}),
        json!({"metadata": null, "spec": null, "status": null}),
        json!({"metadata": {"name": 1, "creationTimestamp": 5, "labels": [1], "deletionTimestamp": "bad",
            "ownerReferences": [{"controller": "yes"}, 1]},
            "spec": {"containers": "x", "initContainers": [1, null], "replicas": "3", "selector": [1],
                "ports": [{"port": "80", "nodePort": -1}], "type": 5, "unschedulable": "true",
                "template": {"spec": {"containers": [{"name": 1}], "nodeSelector": {"a": 1}}},
                "completions": 1.5, "parallelism": -4, "readinessGates": [{}], "rules": [1],
                "capacity": {"storage": 10}, "accessModes": "RWO", "claimRef": "x", "suspend": "no",
                "minAvailable": 1.5, "podSelector": "x", "holderIdentity": 5, "clusterIPs": [null]},
            "status": {"phase": 1, "conditions": {"a": 1}, "podIPs": [1],
                "containerStatuses": [1, {"state": 1}, {"state": {"waiting": 1, "terminated": {"exitCode": "x"}}}],
                "initContainerStatuses": [{"state": {"terminated": null}}, {"lastState": {"terminated": {"finishedAt": "nope"}}}],
                "startTime": "2024-01-01T00:00:00Z", "completionTime": 3, "hard": {"x": 1}, "used": 2,
                "loadBalancer": {"ingress": "x"}, "addresses": [1], "active": 3},
            "subsets": [{"addresses": [1], "ports": [{"port": "x"}]}, 7],
            "involvedObject": 3, "regarding": {"kind": 1}, "series": {"count": "x"}, "count": "7",
            "endpoints": [{"addresses": [1, null]}], "subjects": [1, {"kind": 2}], "roleRef": 1,
            "conditions": [1, {"type": "Healthy", "status": "True", "message": 1}],
            "revision": "x", "data": "abc", "secrets": {"a": 1}, "template": 1}),
    ]
}

#[test]
fn every_row_matches_its_columns() {
    for r in RESOURCES {
        let n = columns(r).len();
        assert!(n >= 2, "{}", r.qualified());
        for (i, c) in columns(r).iter().enumerate() {
            assert!(
                c["name"].is_string() && c["type"].is_string(),
                "{} {i}",
                r.qualified()
            );
        }
        for o in odd_objects() {
            assert_eq!(row_cells(r, &o, now()).len(), n, "{} {o}", r.qualified());
            let t = table(r, &[&o], IncludeObject::Metadata, json!({}), now());
            assert_eq!(t["rows"][0]["cells"].as_array().unwrap().len(), n);
        }
        // A time far before the epoch and one far in the future are fine too.
        let o = json!({"metadata": {"creationTimestamp": "0001-01-01T00:00:01Z"}});
        assert_eq!(
            row_cells(r, &o, UNIX_EPOCH - Duration::from_secs(10)).len(),
            n
        );
        let o = json!({"metadata": {"creationTimestamp": "9999-12-31T23:59:59Z"}});
        assert_eq!(row_cells(r, &o, now()).len(), n);
    }
}
