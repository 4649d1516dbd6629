//! JSON -> protobuf -> JSON round trips of realistic objects, watch frames
//! and error cases.

use rkube_protobuf::{
    decode, decode_watch_event, encode, encode_watch_event, supports, ProtoError, MAGIC,
};
use serde_json::{json, Value};

/// Round-trips `obj` and requires the exact same JSON back, key order included.
fn roundtrip(obj: Value) {
    let body = encode(&obj).unwrap_or_else(|e| panic!("encode: {e}"));
    assert_eq!(body[..4], MAGIC);
    let back = decode(&body).unwrap_or_else(|e| panic!("decode: {e}"));
    assert_eq!(back, obj);
    assert_eq!(back.to_string(), obj.to_string(), "key order");
}

fn full_pod() -> Value {
    json!({
      "kind": "Pod", "apiVersion": "v1",
      "metadata": {
        "name": "web-0", "namespace": "default", "uid": "0b1c7e7e-4d54-4f0e-9a43-4f0b4b5a3c11",
        "resourceVersion": "42", "creationTimestamp": "2024-01-02T03:04:05Z",
        "deletionTimestamp": "2024-01-02T04:00:00Z", "deletionGracePeriodSeconds": 0,
        "labels": {"app": "web", "tier": "frontend"},
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
          "uid": "6c1bde37-5f4d-4b0b-8a5c-4f5e1c0c2a10", "controller": true, "blockOwnerDeletion": true}],
        "finalizers": ["example.com/protect"],
        "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
          "time": "2024-01-02T03:04:05Z", "fieldsType": "FieldsV1",
          "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]
      },
      "spec": {
        "volumes": [
          {"name": "cache", "emptyDir": {}},
          {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
          {"name": "cfg", "configMap": {"name": "web-config", "items": [{"key": "a", "path": "a.conf", "mode": 420}],
            "defaultMode": 420, "optional": false}},
          {"name": "creds", "secret": {"secretName": "web-creds", "defaultMode": 256}},
          {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}}]}}
        ],
        "initContainers": [{"name": "init", "image": "busybox:1.36", "command": ["sh", "-c", "true"],
          "restartPolicy": "Always"}],
        "containers": [{
          "name": "web", "image": "nginx:1.27", "args": ["-g", "daemon off;"], "workingDir": "/srv",
          "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"},
                    {"name": "dns", "hostPort": 53, "containerPort": 53, "protocol": "UDP", "hostIP": "0.0.0.0"}],
          "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "web-env"}}],
          "env": [
            {"name": "MODE", "value": "prod"},
            {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "web-creds", "key": "password", "optional": true}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"containerName": "web", "resource": "limits.memory", "divisor": "1Mi"}}}
          ],
          "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
          "volumeMounts": [{"name": "cfg", "readOnly": true, "mountPath": "/etc/web"},
                           {"name": "cache", "mountPath": "/cache", "subPath": "c"}],
          "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP",
              "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
            "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3},
          "readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": 5},
          "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "terminationGracePeriodSeconds": 0},
          "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
          "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
          "imagePullPolicy": "IfNotPresent",
          "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
            "privileged": false, "runAsUser": 1000, "runAsNonRoot": false, "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"}},
          "stdin": true, "tty": true
        }],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "activeDeadlineSeconds": 600,
        "dnsPolicy": "ClusterFirst", "nodeSelector": {"kubernetes.io/os": "linux"},
        "serviceAccountName": "web", "serviceAccount": "web", "automountServiceAccountToken": false,
        "nodeName": "node-1", "hostNetwork": true,
        "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000, -1], "fsGroup": 2000,
          "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}]},
        "imagePullSecrets": [{"name": "regcred"}],
        "hostname": "web-0", "subdomain": "web",
        "affinity": {
          "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
              {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10,
              "preference": {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-9"]}]}}]},
          "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
            "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
              "topologyKey": "kubernetes.io/hostname", "matchLabelKeys": ["pod-template-hash"]}}]}
        },
        "schedulerName": "default-scheduler",
        "tolerations": [
          {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
          {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
        "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
        "priorityClassName": "high", "priority": 1000,
        "dnsConfig": {"nameservers": ["1.1.1.1"], "options": [{"name": "ndots", "value": "2"}]},
        "readinessGates": [{"conditionType": "example.com/ready"}],
        "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
        "overhead": {"cpu": "10m"},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
          "labelSelector": {"matchLabels": {"app": "web"}}, "minDomains": 2}]
      },
      "status": {
        "phase": "Running",
        "conditions": [
          {"type": "Ready", "status": "True", "lastProbeTime": "2024-01-02T03:05:00Z", "lastTransitionTime": "2024-01-02T03:04:30Z"},
          {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-02T03:04:06Z", "reason": "Scheduled", "message": "ok"}],
        "hostIP": "192.168.1.10", "hostIPs": [{"ip": "192.168.1.10"}],
        "podIP": "10.244.0.5", "podIPs": [{"ip": "10.244.0.5"}, {"ip": "fd00::5"}],
        "startTime": "2024-01-02T03:04:06Z",
        "initContainerStatuses": [{"name": "init", "state": {"terminated": {"exitCode": 0, "reason": "Completed",
            "startedAt": "2024-01-02T03:04:07Z", "finishedAt": "2024-01-02T03:04:08Z", "containerID": "containerd://aa"}},
          "ready": true, "restartCount": 0, "image": "busybox:1.36", "imageID": "sha256:aa", "containerID": "containerd://aa"}],
        "containerStatuses": [{"name": "web",
          "state": {"running": {"startedAt": "2024-01-02T03:04:09Z"}},
          "lastState": {"terminated": {"exitCode": 137, "signal": 9, "reason": "OOMKilled",
            "startedAt": "2024-01-02T03:00:00Z", "finishedAt": "2024-01-02T03:04:00Z"}},
          "ready": false, "restartCount": 0, "image": "nginx:1.27", "imageID": "", "started": false}],
        "qosClass": "Burstable"
      }
    })
}

#[test]
fn pod_roundtrip() {
    roundtrip(full_pod());
}

#[test]
fn deployment_roundtrip() {
    roundtrip(json!({
      "kind": "Deployment", "apiVersion": "apps/v1",
      "metadata": {"name": "web", "namespace": "prod", "generation": 3, "labels": {"app": "web"}},
      "spec": {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}, "annotations": {"a": ""}},
          "spec": {"containers": [{"name": "web", "image": "nginx"}], "terminationGracePeriodSeconds": 0}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        "minReadySeconds": 5, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600
      },
      "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1,
        "availableReplicas": 1, "unavailableReplicas": 1,
        "conditions": [{"type": "Available", "status": "False", "lastUpdateTime": "2024-01-02T03:04:05Z",
          "lastTransitionTime": "2024-01-02T03:04:05Z", "reason": "MinimumReplicasUnavailable", "message": "m"}],
        "collisionCount": 0}
    }));
}

#[test]
fn secret_and_configmap_roundtrip() {
    roundtrip(json!({
      "kind": "Secret", "apiVersion": "v1",
      "metadata": {"name": "s", "namespace": "default"},
      "immutable": false,
      "data": {"bin": "AP/+gA==", "empty": "", "password": "aHVudGVyMg=="},
      "type": "Opaque"
    }));
    roundtrip(json!({
      "kind": "ConfigMap", "apiVersion": "v1",
      "metadata": {"name": "c", "namespace": "default", "creationTimestamp": "2024-01-02T03:04:05Z"},
      "data": {"a": "b", "multi": "line1\nline2\n", "unicode": "grüße ✓"},
      "binaryData": {"blob": "3q2+7w=="}
    }));
}

#[test]
fn service_roundtrip() {
    roundtrip(json!({
      "kind": "Service", "apiVersion": "v1",
      "metadata": {"name": "web", "namespace": "default"},
      "spec": {
        "ports": [
          {"name": "http", "protocol": "TCP", "appProtocol": "http", "port": 80, "targetPort": 8080, "nodePort": 30080},
          {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https"}],
        "selector": {"app": "web"}, "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "type": "NodePort",
        "sessionAffinity": "ClientIP", "externalTrafficPolicy": "Local",
        "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}}, "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
        "allocateLoadBalancerNodePorts": false, "internalTrafficPolicy": "Cluster"
      },
      "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4", "ports": [{"port": 80, "protocol": "TCP"}]}]}}
    }));
}

#[test]
fn status_and_meta_kinds_roundtrip() {
    roundtrip(json!({
      "kind": "Status", "apiVersion": "v1",
      "status": "Failure", "message": "pods \"x\" not found", "reason": "NotFound",
      "details": {"name": "x", "kind": "pods", "causes": [{"reason": "FieldValueInvalid", "message": "m", "field": "spec"}],
        "retryAfterSeconds": 1},
      "code": 404
    }));
    roundtrip(
        json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "gracePeriodSeconds": 0,
      "preconditions": {"uid": "u", "resourceVersion": "7"}, "propagationPolicy": "Foreground", "dryRun": ["All"]}),
    );
    assert!(
        supports("apps/v1", "DeleteOptions")
            && supports("v1", "Status")
            && supports("batch/v1", "WatchEvent")
    );
}

#[test]
fn other_kinds_roundtrip() {
    roundtrip(
        json!({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
      "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
      "spec": {"holderIdentity": "node-1_abc", "leaseDurationSeconds": 15,
        "acquireTime": "2024-01-02T03:04:05.000000Z", "renewTime": "2024-01-02T03:04:20.123456Z", "leaseTransitions": 0}}),
    );
    roundtrip(
        json!({"kind": "Ingress", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "i"},
      "spec": {"ingressClassName": "nginx", "tls": [{"hosts": ["a.example"], "secretName": "tls"}],
        "rules": [{"host": "a.example", "http": {"paths": [{"path": "/", "pathType": "Prefix",
          "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}),
    );
    roundtrip(
        json!({"kind": "IngressClass", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "nginx"},
      "spec": {"controller": "k8s.io/ingress-nginx",
        "parameters": {"apiGroup": "k8s.example.com", "kind": "P", "name": "p", "scope": "Namespace", "namespace": "n"}}}),
    );
    roundtrip(
        json!({"kind": "RoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
      "metadata": {"name": "rb", "namespace": "default"},
      "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}}),
    );
    roundtrip(
        json!({"kind": "ControllerRevision", "apiVersion": "apps/v1", "metadata": {"name": "r"},
      "data": {"spec": {"template": {"$patch": "replace"}}}, "revision": 2}),
    );
    roundtrip(
        json!({"kind": "CronJob", "apiVersion": "batch/v1", "metadata": {"name": "c"},
      "spec": {"schedule": "*/5 * * * *", "timeZone": "Etc/UTC", "concurrencyPolicy": "Forbid", "suspend": false,
        "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {"containers": [{"name": "c", "image": "busybox"}],
          "restartPolicy": "Never"}}}}},
      "status": {"lastScheduleTime": "2024-01-02T03:05:00Z"}}),
    );
    roundtrip(
        json!({"kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1", "metadata": {"name": "e"},
      "addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true, "serving": false},
        "nodeName": "n", "zone": "a"}], "ports": [{"name": "http", "protocol": "TCP", "port": 80}]}),
    );
}

#[test]
fn zero_values_follow_go_json() {
    // Non-pointer structs that are empty and zero scalars are not written;
    // fields Go writes without omitempty are.
    let obj = json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s", "namespace": ""},
      "spec": {"ports": [{"port": 80, "targetPort": 0, "nodePort": 0}], "clusterIP": ""},
      "status": {"loadBalancer": {}}});
    let back = decode(&encode(&obj).unwrap()).unwrap();
    assert_eq!(
        back,
        json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "s"},
      "spec": {"ports": [{"port": 80}]}})
    );
    let rb = json!({"kind": "ClusterRoleBinding", "apiVersion": "rbac.authorization.k8s.io/v1",
      "metadata": {"name": "x"}, "roleRef": {"kind": "ClusterRole", "name": "view"}});
    let back = decode(&encode(&rb).unwrap()).unwrap();
    assert_eq!(
        back["roleRef"],
        json!({"apiGroup": "", "kind": "ClusterRole", "name": "view"})
    );
}

#[test]
fn watch_event_frame() {
    let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "resourceVersion": "5"}});
    let frame = encode_watch_event("ADDED", &pod).unwrap();
    let len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;
    assert_eq!(len, frame.len() - 4);
    assert_ne!(frame[4..8], MAGIC, "the outer WatchEvent is not enveloped");
    assert_eq!(
        decode_watch_event(&frame).unwrap(),
        ("ADDED".to_string(), pod)
    );
    assert!(decode_watch_event(&frame[..frame.len() - 1]).is_err());
}

#[test]
fn errors() {
    assert_eq!(decode(b"{\"kind\":\"Pod\"}"), Err(ProtoError::MissingMagic));
    assert!(matches!(
        decode(b"k8s\0\x0a\x05"),
        Err(ProtoError::Malformed { .. })
    ));
    assert!(matches!(
        encode(&json!({"kind": "Pod"})),
        Err(ProtoError::MissingTypeMeta)
    ));
    let cr = json!({"kind": "Widget", "apiVersion": "example.com/v1"});
    assert!(matches!(
        encode(&cr),
        Err(ProtoError::UnsupportedKind { .. })
    ));
    assert!(!supports("example.com/v1", "Widget") && !supports("apps/v1", "Pod"));

    let mut pod = full_pod();
    pod["spec"]["containers"][0]["ports"][1]["containerPort"] = json!("53");
    match encode(&pod) {
        Err(ProtoError::InvalidJson { path, .. }) => {
            assert_eq!(path, "Pod.spec.containers[0].ports[1].containerPort")
        }
        other => panic!("{other:?}"),
    }
    let mut pod = full_pod();
    pod["spec"]["priority"] = json!(1_u64 << 40);
    assert!(matches!(encode(&pod), Err(ProtoError::InvalidJson { .. })));
    let secret = json!({"kind": "Secret", "apiVersion": "v1", "data": {"a": "not base64!"}});
    assert!(matches!(
        encode(&secret),
        Err(ProtoError::InvalidJson { .. })
    ));
    let bad_time =
        json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"creationTimestamp": "yesterday"}});
    assert!(matches!(
        encode(&bad_time),
        Err(ProtoError::InvalidJson { .. })
    ));
    // A string where the schema has a message: wire type mismatch.
    let body =
        encode(&json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}})).unwrap();
    let mut tampered = body.clone();
    let pos = tampered
        .windows(3)
        .position(|w| w == b"\x0a\x01p")
        .expect("metadata.name");
    tampered[pos] = 0x08; // name as varint
    assert!(matches!(
        decode(&tampered),
        Err(ProtoError::Malformed { .. })
    ));
}
