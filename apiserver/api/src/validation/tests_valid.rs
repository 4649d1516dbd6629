//! Realistic objects, as kubectl and the Python client send them, must validate cleanly
//! after defaulting (no false positives).

use serde_json::{json, Value};

use super::validate;
use crate::defaults;
use crate::resources::find;

fn clean(group: &str, plural: &str, mut obj: Value) {
    let r = find(group, "v1", plural).expect("served");
    defaults::apply(r, &mut obj);
    if r.kind == "Job" {
        defaults::job_selector(&mut obj, "8c2f6d3e-0000-4000-8000-000000000001");
    }
    let m: Vec<String> = validate(r, &obj, None)
        .into_iter()
        .map(|c| c.message)
        .collect();
    assert!(m.is_empty(), "{plural}: {m:#?}");
}

fn rich_pod_spec() -> Value {
    json!({
        "serviceAccountName": "builder",
        "automountServiceAccountToken": true,
        "securityContext": {"runAsNonRoot": true, "runAsUser": 1000, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [
            {"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"]},
            {"name": "sidecar", "image": "envoy:v1", "restartPolicy": "Always", "readinessProbe": {"tcpSocket": {"port": 9901}}}
        ],
        "containers": [{
            "name": "app",
            "image": "registry.example.com:5000/team/app@sha256:0123456789abcdef",
            "args": ["--port=8080"],
            "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090, "protocol": "UDP"}],
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
                {"name": "CFG", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "app.properties"}}},
                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password", "optional": true}}},
                {"name": "my.env-name", "value": "x"}
            ],
            "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}],
            "resources": {"requests": {"cpu": "250m", "memory": "64Mi", "nvidia.com/gpu": 1}, "limits": {"cpu": 1, "memory": "128Mi", "nvidia.com/gpu": 1}},
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "cfg", "mountPath": "/etc/cfg", "readOnly": true},
                {"name": "podinfo", "mountPath": "/etc/podinfo", "subPath": "labels"},
                {"name": "token", "mountPath": "/var/run/token"}
            ],
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "httpHeaders": [{"name": "X-Probe", "value": "1"}]}, "initialDelaySeconds": 3},
            "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}},
            "startupProbe": {"grpc": {"port": 9090}, "failureThreshold": 30},
            "lifecycle": {"preStop": {"sleep": {"seconds": 5}}, "postStart": {"httpGet": {"port": 8080}}},
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}
        }],
        "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.conf", "mode": 0o644}]}},
            {"name": "podinfo", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "requests.cpu"}}
            ]}},
            {"name": "token", "projected": {"sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]}},
            {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi", "medium": "Memory"}},
            {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}}
        ],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [
            {"operator": "Exists"},
            {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ],
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}}]}
        },
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}],
        "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["svc.cluster.local", "_sip._tcp.example.com"], "options": [{"name": "ndots", "value": "2"}]},
        "hostAliases": [{"ip": "127.0.0.1", "hostnames": ["foo.local"]}],
        "priorityClassName": "high",
        "imagePullSecrets": [{"name": "regcred"}]
    })
}

#[test]
fn rich_pod_and_templates() {
    clean(
        "",
        "pods",
        json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": null, "labels": {"app": "web", "app.kubernetes.io/name": "web"},
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": rich_pod_spec(), "status": {}}),
    );
    clean(
        "apps",
        "deployments",
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": null, "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}}, "strategy": {},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}}, "spec": rich_pod_spec()}},
        "status": {}}),
    );
}

#[test]
fn workloads_as_kubectl_creates_them() {
    let tmpl = |labels: Value, rp: &str| json!({"metadata": {"labels": labels}, "spec": {"restartPolicy": rp, "containers": [{"name": "c", "image": "busybox", "resources": {}}]}});
    clean(
        "apps",
        "replicasets",
        json!({"metadata": {"name": "rs", "namespace": "d"}, "spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["x"]}]}, "template": tmpl(json!({"app": "x"}), "Always")}}),
    );
    clean(
        "apps",
        "daemonsets",
        json!({"metadata": {"name": "ds", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels": {"k8s-app": "proxy"}},
        "template": {"metadata": {"labels": {"k8s-app": "proxy"}}, "spec": {"hostNetwork": true, "priorityClassName": "system-node-critical",
            "containers": [{"name": "p", "image": "kube-proxy:v1.33.0", "securityContext": {"privileged": true}, "ports": [{"containerPort": 10249, "hostPort": 10249}]}]}}}}),
    );
    clean(
        "apps",
        "statefulsets",
        json!({"metadata": {"name": "db", "namespace": "d"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
        "template": tmpl(json!({"app": "db"}), "Always"),
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
    );
    clean(
        "",
        "replicationcontrollers",
        json!({"metadata": {"name": "rc", "namespace": "d"}, "spec": {"template": tmpl(json!({"app": "rc"}), "Always")}}),
    );
    clean(
        "batch",
        "jobs",
        json!({"metadata": {"name": "pi", "namespace": "d", "uid": "8c2f6d3e-0000-4000-8000-000000000001"}, "spec": {"template": tmpl(json!(null), "Never")}}),
    );
    clean(
        "batch",
        "jobs",
        json!({"metadata": {"name": "idx", "namespace": "d", "uid": "8c2f6d3e-0000-4000-8000-000000000001"}, "spec": {"completionMode": "Indexed", "completions": 5, "parallelism": 2, "template": tmpl(json!(null), "OnFailure")}}),
    );
    clean(
        "batch",
        "cronjobs",
        json!({"metadata": {"name": "hello", "namespace": "d"}, "spec": {"schedule": "*/1 * * * *", "timeZone": "Etc/UTC",
        "jobTemplate": {"metadata": {"name": "hello"}, "spec": {"template": tmpl(json!(null), "OnFailure")}}}}),
    );
    for sched in [
        "@hourly",
        "0 0 * * MON-FRI",
        "15,45 */2 1-10 jan,jul ?",
        "@every 1h30m",
    ] {
        clean(
            "batch",
            "cronjobs",
            json!({"metadata": {"name": "c", "namespace": "d"}, "spec": {"schedule": sched,
            "jobTemplate": {"spec": {"template": tmpl(json!(null), "Never")}}}}),
        );
    }
}

#[test]
fn services_and_networking() {
    clean(
        "",
        "services",
        json!({"metadata": {"name": "web", "namespace": "d"}, "spec": {"selector": {"app": "web"},
        "ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "https", "port": 443, "targetPort": 8443, "appProtocol": "https"}]}}),
    );
    clean(
        "",
        "services",
        json!({"metadata": {"name": "np", "namespace": "d"}, "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}}),
    );
    clean(
        "",
        "services",
        json!({"metadata": {"name": "lb", "namespace": "d"}, "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}], "loadBalancerSourceRanges": ["10.0.0.0/8"]}}),
    );
    clean(
        "",
        "services",
        json!({"metadata": {"name": "ext", "namespace": "d"}, "spec": {"type": "ExternalName", "externalName": "example.com."}}),
    );
    clean(
        "",
        "services",
        json!({"metadata": {"name": "headless", "namespace": "d"}, "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}}),
    );
    clean(
        "",
        "services",
        json!({"metadata": {"name": "affinity", "namespace": "d"}, "spec": {"sessionAffinity": "ClientIP", "clusterIP": "10.96.0.10", "ports": [{"port": 53, "protocol": "UDP"}]}}),
    );
    clean(
        "",
        "endpoints",
        json!({"metadata": {"name": "web", "namespace": "d"}, "subsets": [{"addresses": [{"ip": "10.244.0.5", "nodeName": "node-1", "targetRef": {"kind": "Pod", "name": "web-0"}}], "ports": [{"name": "http", "port": 8080}, {"name": "metrics", "port": 9090}]}]}),
    );
    clean(
        "discovery.k8s.io",
        "endpointslices",
        json!({"metadata": {"name": "web-abc", "namespace": "d"}, "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": true}, "nodeName": "node-1", "zone": "a"}], "ports": [{"name": "http", "port": 8080}]}),
    );
    clean(
        "networking.k8s.io",
        "ingresses",
        json!({"metadata": {"name": "web", "namespace": "d", "annotations": {"kubernetes.io/ingress.class": "nginx"}},
        "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["*.example.com"], "secretName": "tls"}],
            "rules": [{"host": "www.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}),
    );
    clean(
        "networking.k8s.io",
        "ingressclasses",
        json!({"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}),
    );
    clean(
        "networking.k8s.io",
        "networkpolicies",
        json!({"metadata": {"name": "np", "namespace": "d"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}, "podSelector": {}}, {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}], "ports": [{"port": 80}, {"port": 8000, "endPort": 9000}]}],
        "egress": [{"to": [{"podSelector": {}}], "ports": [{"protocol": "UDP", "port": 53}]}]}}),
    );
}

#[test]
fn config_storage_rbac_misc() {
    clean(
        "",
        "namespaces",
        json!({"metadata": {"name": "team-a", "labels": {"team": "a"}}}),
    );
    clean(
        "",
        "configmaps",
        json!({"metadata": {"name": "cfg", "namespace": "d"}, "data": {"app.properties": "a=b", "KEY_NAME": "x"}, "binaryData": {"bin": "AAEC"}}),
    );
    clean(
        "",
        "secrets",
        json!({"metadata": {"name": "s", "namespace": "d"}, "stringData": {"password": "p"}}),
    );
    clean(
        "",
        "secrets",
        json!({"metadata": {"name": "tls", "namespace": "d"}, "type": "kubernetes.io/tls", "data": {"tls.crt": "YQ==", "tls.key": "Yg=="}}),
    );
    clean(
        "",
        "secrets",
        json!({"metadata": {"name": "reg", "namespace": "d"}, "type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "eyJhdXRocyI6e319"}}),
    );
    clean(
        "",
        "serviceaccounts",
        json!({"metadata": {"name": "builder", "namespace": "d"}}),
    );
    clean(
        "",
        "persistentvolumeclaims",
        json!({"metadata": {"name": "data", "namespace": "d"}, "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "resources": {"requests": {"storage": "10Gi"}}}}),
    );
    clean(
        "",
        "persistentvolumes",
        json!({"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/mnt/data"}}}),
    );
    clean(
        "",
        "limitranges",
        json!({"metadata": {"name": "lr", "namespace": "d"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}, "min": {"cpu": "100m"}, "default": {"cpu": "500m"}}]}}),
    );
    clean(
        "",
        "resourcequotas",
        json!({"metadata": {"name": "q", "namespace": "d"}, "spec": {"hard": {"pods": "10", "requests.cpu": "4", "count/deployments.apps": "5", "requests.nvidia.com/gpu": 2}}}),
    );
    clean(
        "rbac.authorization.k8s.io",
        "clusterroles",
        json!({"metadata": {"name": "system:aggregate-to-view"}, "rules": [{"apiGroups": ["", "apps"], "resources": ["pods", "deployments/scale"], "verbs": ["get", "list"]}, {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
    );
    clean(
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        json!({"metadata": {"name": "b"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "d"}, {"kind": "User", "name": "alice"}, {"kind": "Group", "name": "system:masters"}]}),
    );
    clean(
        "rbac.authorization.k8s.io",
        "roles",
        json!({"metadata": {"name": "r", "namespace": "d"}, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cfg"], "verbs": ["get"]}]}),
    );
    clean(
        "policy",
        "poddisruptionbudgets",
        json!({"metadata": {"name": "pdb", "namespace": "d"}, "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "web"}}}}),
    );
    clean(
        "coordination.k8s.io",
        "leases",
        json!({"metadata": {"name": "l", "namespace": "kube-node-lease"}, "spec": {"holderIdentity": "node-1", "leaseDurationSeconds": 40, "renewTime": "2024-01-01T00:00:00.000000Z"}}),
    );
    clean(
        "",
        "events",
        json!({"metadata": {"name": "web-0.17a", "namespace": "d"}, "involvedObject": {"kind": "Pod", "namespace": "d", "name": "web-0"}, "reason": "Started", "message": "m", "type": "Normal"}),
    );
    clean(
        "events.k8s.io",
        "events",
        json!({"metadata": {"name": "e", "namespace": "d"}, "eventTime": "2024-01-01T00:00:00.000000Z", "type": "Warning", "reason": "Failed", "action": "Pull", "reportingController": "kubelet", "reportingInstance": "node-1", "regarding": {"kind": "Pod", "name": "p"}}),
    );
    clean(
        "",
        "nodes",
        json!({"metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}}, "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"], "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}),
    );
    clean(
        "",
        "podtemplates",
        json!({"metadata": {"name": "pt", "namespace": "d"}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}}),
    );
    clean(
        "apps",
        "controllerrevisions",
        json!({"metadata": {"name": "cr", "namespace": "d"}, "data": {"spec": {}}, "revision": 1}),
    );
}

/// Updates the way clients send them: a full object without server-set fields
/// (`kubectl replace`), after `apply` and `prepare_for_update`.
#[test]
fn replace_without_server_fields() {
    let r = find("", "v1", "services").unwrap();
    let mut stored = json!({"metadata": {"name": "web", "namespace": "d", "uid": "u", "resourceVersion": "5", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    defaults::apply(r, &mut stored);
    defaults::prepare_for_create(r, &mut stored);
    stored["spec"]["clusterIP"] = json!("10.96.0.5");
    stored["spec"]["clusterIPs"] = json!(["10.96.0.5"]);
    stored["spec"]["ports"][0]["nodePort"] = json!(30001);
    let mut new = json!({"metadata": {"name": "web", "namespace": "d", "labels": {"v": "2"}},
        "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    defaults::apply(r, &mut new);
    defaults::prepare_for_update(r, &mut new, &stored);
    let m: Vec<String> = validate(r, &new, Some(&stored))
        .into_iter()
        .map(|c| c.message)
        .collect();
    assert!(m.is_empty(), "{m:#?}");
    assert_eq!(new["spec"]["clusterIP"], json!("10.96.0.5"));
    assert_eq!(new["spec"]["ports"][0]["nodePort"], json!(30001));

    let d = find("apps", "v1", "deployments").unwrap();
    let mut old = json!({"metadata": {"name": "web", "namespace": "d", "uid": "u", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    defaults::apply(d, &mut old);
    defaults::prepare_for_create(d, &mut old);
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
    defaults::prepare_for_update(d, &mut new, &old);
    assert!(validate(d, &new, Some(&old)).is_empty());
    assert_eq!(new["metadata"]["generation"], json!(2));
}
