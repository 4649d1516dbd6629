//! The other printers' cells.

use serde_json::{json, Value};

use super::{ago, cells};

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
