//! The kinds the generic checks run over, with a valid sample of each, and their tests:
//! `crud/{plural}` (life of one object under a watch), `crud/{plural}-deletecollection`,
//! `subresources/{plural}-status`, `subresources/{plural}-scale`.

use serde_json::{json, Value};

use super::crud::{self, Kind};
use super::Test;

/// Pods made by the harness name a scheduler no cluster runs, so they stay Pending and
/// unbound everywhere: their answers do not depend on nodes, images or timing.
pub const NO_SCHEDULER: &str = "rkube-conformance-unscheduled";
pub const IMAGE: &str = "registry.k8s.io/pause:3.10";

pub fn pod_spec() -> Value {
    json!({"schedulerName": NO_SCHEDULER, "containers": [{"name": "c", "image": IMAGE}]})
}

fn template() -> Value {
    json!({"metadata": {"labels": {"app": "rkc"}}, "spec": pod_spec()})
}

fn condition() -> Value {
    json!({"type": "RkubeConformance", "status": "True", "reason": "E2E",
           "message": "set by rkube conformance", "lastTransitionTime": "2025-01-01T00:00:00Z"})
}

fn conditions() -> Value {
    json!({"conditions": [condition()]})
}

macro_rules! kind {
    ($name:ident, $group:literal, $version:literal, $plural:literal, $kind:literal, $namespaced:literal, $sample:expr) => {
        kind!(
            $name,
            $group,
            $version,
            $plural,
            $kind,
            $namespaced,
            $sample,
            None
        );
    };
    ($name:ident, $group:literal, $version:literal, $plural:literal, $kind:literal, $namespaced:literal, $sample:expr, $status:expr) => {
        pub static $name: Kind = Kind {
            group: $group,
            version: $version,
            plural: $plural,
            kind: $kind,
            namespaced: $namespaced,
            sample: $sample,
            status: $status,
        };
    };
}

kind!(
    CONFIGMAPS,
    "",
    "v1",
    "configmaps",
    "ConfigMap",
    true,
    |_| json!({"data": {"a": "1"}})
);
kind!(
    SECRETS,
    "",
    "v1",
    "secrets",
    "Secret",
    true,
    |_| json!({"type": "Opaque", "data": {"a": "MQ=="}})
);
kind!(
    SERVICES,
    "",
    "v1",
    "services",
    "Service",
    true,
    |_| json!({"spec": {"selector": {"app": "rkc"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}),
    Some(conditions)
);
kind!(
    PODTEMPLATES,
    "",
    "v1",
    "podtemplates",
    "PodTemplate",
    true,
    |_| json!({"template": template()})
);
kind!(
    EVENTS,
    "",
    "v1",
    "events",
    "Event",
    true,
    |ns| json!({"involvedObject": {"kind": "Pod", "name": "p", "namespace": ns, "apiVersion": "v1"},
                "reason": "Testing", "message": "from rkube conformance", "type": "Normal",
                "source": {"component": "rkube-conformance"}, "count": 1,
                "firstTimestamp": "2025-01-01T00:00:00Z", "lastTimestamp": "2025-01-01T00:00:00Z"})
);
kind!(
    EVENTS_V1,
    "events.k8s.io",
    "v1",
    "events",
    "Event",
    true,
    |ns| json!({"eventTime": "2025-01-01T00:00:00.000000Z", "reportingController": "rkube.io/conformance",
                "reportingInstance": "rkube-conformance", "action": "Testing", "reason": "Testing",
                "type": "Normal", "note": "from rkube conformance",
                "regarding": {"kind": "Pod", "name": "p", "namespace": ns, "apiVersion": "v1"}})
);
kind!(
    LEASES,
    "coordination.k8s.io",
    "v1",
    "leases",
    "Lease",
    true,
    |_| json!({"spec": {"holderIdentity": "rkube-conformance", "leaseDurationSeconds": 30}})
);
kind!(
    REPLICATIONCONTROLLERS,
    "",
    "v1",
    "replicationcontrollers",
    "ReplicationController",
    true,
    |_| json!({"spec": {"replicas": 1, "selector": {"app": "rkc"}, "template": template()}}),
    Some(conditions)
);
kind!(
    DEPLOYMENTS,
    "apps",
    "v1",
    "deployments",
    "Deployment",
    true,
    |_| json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    REPLICASETS,
    "apps",
    "v1",
    "replicasets",
    "ReplicaSet",
    true,
    |_| json!({"spec": {"replicas": 1, "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    STATEFULSETS,
    "apps",
    "v1",
    "statefulsets",
    "StatefulSet",
    true,
    |_| json!({"spec": {"replicas": 1, "serviceName": "rkc", "selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    DAEMONSETS,
    "apps",
    "v1",
    "daemonsets",
    "DaemonSet",
    true,
    |_| json!({"spec": {"selector": {"matchLabels": {"app": "rkc"}}, "template": template()}}),
    Some(conditions)
);
kind!(
    CONTROLLERREVISIONS,
    "apps",
    "v1",
    "controllerrevisions",
    "ControllerRevision",
    true,
    |_| json!({"revision": 1, "data": {"spec": {"template": {"metadata": {"labels": {"app": "rkc"}}}}}})
);
kind!(
    JOBS,
    "batch",
    "v1",
    "jobs",
    "Job",
    true,
    |_| json!({"spec": {"suspend": true, "template": {"spec": {"restartPolicy": "Never", "schedulerName": NO_SCHEDULER,
                "containers": [{"name": "c", "image": IMAGE}]}}}})
);
kind!(
    CRONJOBS,
    "batch",
    "v1",
    "cronjobs",
    "CronJob",
    true,
    |_| json!({"spec": {"schedule": "*/1 * * * *", "suspend": true, "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "schedulerName": NO_SCHEDULER, "containers": [{"name": "c", "image": IMAGE}]}}}}}}),
    Some(|| json!({"lastScheduleTime": "2025-01-01T00:00:00Z"}))
);
kind!(
    ENDPOINTS,
    "",
    "v1",
    "endpoints",
    "Endpoints",
    true,
    |_| json!({"subsets": [{"addresses": [{"ip": "10.99.0.1"}], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]})
);
kind!(
    ENDPOINTSLICES,
    "discovery.k8s.io",
    "v1",
    "endpointslices",
    "EndpointSlice",
    true,
    |_| json!({"addressType": "IPv4", "endpoints": [{"addresses": ["10.99.0.1"], "conditions": {"ready": true}}],
               "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]})
);
kind!(
    RESOURCEQUOTAS,
    "",
    "v1",
    "resourcequotas",
    "ResourceQuota",
    true,
    |_| json!({"spec": {"hard": {"configmaps": "100", "cpu": "10", "memory": "10Gi"}}}),
    Some(|| json!({"hard": {"configmaps": "100", "cpu": "10", "memory": "10Gi"}}))
);
kind!(
    LIMITRANGES,
    "",
    "v1",
    "limitranges",
    "LimitRange",
    true,
    |_| json!({"spec": {"limits": [{"type": "Container", "default": {"cpu": "200m"}, "defaultRequest": {"cpu": "100m"}}]}})
);
kind!(
    SERVICEACCOUNTS,
    "",
    "v1",
    "serviceaccounts",
    "ServiceAccount",
    true,
    |_| json!({})
);
kind!(
    PERSISTENTVOLUMECLAIMS,
    "",
    "v1",
    "persistentvolumeclaims",
    "PersistentVolumeClaim",
    true,
    |_| json!({"spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "rkube-conformance-none",
                        "resources": {"requests": {"storage": "1Gi"}}}})
);
kind!(
    PERSISTENTVOLUMES,
    "",
    "v1",
    "persistentvolumes",
    "PersistentVolume",
    false,
    |_| json!({"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "rkube-conformance-none",
                        "persistentVolumeReclaimPolicy": "Retain", "hostPath": {"path": "/tmp/rkube-conformance"}}})
);
kind!(
    NODES,
    "",
    "v1",
    "nodes",
    "Node",
    false,
    |_| json!({"spec": {"unschedulable": true}})
);
kind!(
    INGRESSES,
    "networking.k8s.io",
    "v1",
    "ingresses",
    "Ingress",
    true,
    |_| json!({"spec": {"defaultBackend": {"service": {"name": "rkc", "port": {"number": 80}}}}}),
    Some(|| json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}))
);
kind!(
    INGRESSCLASSES,
    "networking.k8s.io",
    "v1",
    "ingressclasses",
    "IngressClass",
    false,
    |_| json!({"spec": {"controller": "rkube.io/conformance"}})
);
kind!(
    NETWORKPOLICIES,
    "networking.k8s.io",
    "v1",
    "networkpolicies",
    "NetworkPolicy",
    true,
    |_| json!({"spec": {"podSelector": {"matchLabels": {"app": "rkc"}}, "policyTypes": ["Ingress"]}})
);
kind!(
    PODDISRUPTIONBUDGETS,
    "policy",
    "v1",
    "poddisruptionbudgets",
    "PodDisruptionBudget",
    true,
    |_| json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "rkc"}}}}),
    Some(conditions)
);
kind!(
    ROLES,
    "rbac.authorization.k8s.io",
    "v1",
    "roles",
    "Role",
    true,
    |_| json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
);
kind!(
    ROLEBINDINGS,
    "rbac.authorization.k8s.io",
    "v1",
    "rolebindings",
    "RoleBinding",
    true,
    |ns| json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "rkc"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]})
);
kind!(
    CLUSTERROLES,
    "rbac.authorization.k8s.io",
    "v1",
    "clusterroles",
    "ClusterRole",
    false,
    |_| json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
);
kind!(
    CLUSTERROLEBINDINGS,
    "rbac.authorization.k8s.io",
    "v1",
    "clusterrolebindings",
    "ClusterRoleBinding",
    false,
    |ns| json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]})
);
// Kinds in groups every 1.33 cluster serves by default.
kind!(
    PRIORITYCLASSES,
    "scheduling.k8s.io",
    "v1",
    "priorityclasses",
    "PriorityClass",
    false,
    |_| json!({"value": 1000, "description": "rkube conformance"})
);
kind!(
    RUNTIMECLASSES,
    "node.k8s.io",
    "v1",
    "runtimeclasses",
    "RuntimeClass",
    false,
    |_| json!({"handler": "rkube-conformance"})
);
kind!(
    STORAGECLASSES,
    "storage.k8s.io",
    "v1",
    "storageclasses",
    "StorageClass",
    false,
    |_| json!({"provisioner": "rkube.io/conformance"})
);
kind!(
    CSIDRIVERS,
    "storage.k8s.io",
    "v1",
    "csidrivers",
    "CSIDriver",
    false,
    |_| json!({"spec": {"attachRequired": false}})
);
kind!(
    CSINODES,
    "storage.k8s.io",
    "v1",
    "csinodes",
    "CSINode",
    false,
    |_| json!({"spec": {"drivers": []}})
);
kind!(
    CSISTORAGECAPACITIES,
    "storage.k8s.io",
    "v1",
    "csistoragecapacities",
    "CSIStorageCapacity",
    true,
    |_| json!({"storageClassName": "rkube-conformance-none", "capacity": "1Gi"})
);
kind!(
    VOLUMEATTACHMENTS,
    "storage.k8s.io",
    "v1",
    "volumeattachments",
    "VolumeAttachment",
    false,
    // The attacher is a CSI driver's name: a DNS subdomain, no path.
    |_| json!({"spec": {"attacher": "conformance.rkube.io", "nodeName": "rkc-no-such-node",
                        "source": {"persistentVolumeName": "rkc-no-such-pv"}}}),
    Some(|| json!({"attached": true}))
);
kind!(
    FLOWSCHEMAS,
    "flowcontrol.apiserver.k8s.io",
    "v1",
    "flowschemas",
    "FlowSchema",
    false,
    |_| json!({"spec": {"priorityLevelConfiguration": {"name": "global-default"}, "matchingPrecedence": 9000,
                        "rules": [{"subjects": [{"kind": "User", "user": {"name": "rkube-conformance"}}],
                                   "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/rkube-conformance"]}]}]}})
);
kind!(
    PRIORITYLEVELCONFIGURATIONS,
    "flowcontrol.apiserver.k8s.io",
    "v1",
    "prioritylevelconfigurations",
    "PriorityLevelConfiguration",
    false,
    |_| json!({"spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 2,
                        "limitResponse": {"type": "Reject"}}}})
);
kind!(
    VALIDATINGADMISSIONPOLICIES,
    "admissionregistration.k8s.io",
    "v1",
    "validatingadmissionpolicies",
    "ValidatingAdmissionPolicy",
    false,
    |_| json!({"spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": [{"apiGroups": ["rkube.io"],
                        "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["nothing"]}]},
                        "validations": [{"expression": "true"}]}})
);
kind!(
    VALIDATINGADMISSIONPOLICYBINDINGS,
    "admissionregistration.k8s.io",
    "v1",
    "validatingadmissionpolicybindings",
    "ValidatingAdmissionPolicyBinding",
    false,
    |ns| json!({"spec": {"policyName": format!("{ns}-none"), "validationActions": ["Deny"]}})
);
kind!(
    CERTIFICATESIGNINGREQUESTS,
    "certificates.k8s.io",
    "v1",
    "certificatesigningrequests",
    "CertificateSigningRequest",
    false,
    |_| json!({"spec": {"request": CSR_PEM_BASE64, "signerName": "rkube.io/conformance",
                        "usages": ["client auth"]}})
);

kind!(
    HORIZONTALPODAUTOSCALERS,
    "autoscaling",
    "v2",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    true,
    |_| json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rkc-none"},
                        "minReplicas": 1, "maxReplicas": 3,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 50}}}]}}),
    Some(
        || json!({"currentReplicas": 1, "desiredReplicas": 2, "currentMetrics": null,
                   "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale",
                                   "message": "set by rkube conformance", "lastTransitionTime": "2025-01-01T00:00:00Z"}]})
    )
);
// The same objects through autoscaling/v1 (upstream stores them as v2 and converts).
kind!(
    HORIZONTALPODAUTOSCALERS_V1,
    "autoscaling",
    "v1",
    "horizontalpodautoscalers",
    "HorizontalPodAutoscaler",
    true,
    |_| json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rkc-none"},
                        "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}),
    Some(|| json!({"currentReplicas": 1, "desiredReplicas": 2}))
);

// Webhooks whose rules match nothing any test does (a group nobody serves), failing
// open: they never change what the other tests see.
kind!(
    VALIDATINGWEBHOOKCONFIGURATIONS,
    "admissionregistration.k8s.io",
    "v1",
    "validatingwebhookconfigurations",
    "ValidatingWebhookConfiguration",
    false,
    |_| json!({"webhooks": [{"name": "hook.conformance.rkube.io",
        "clientConfig": {"url": "https://rkube-conformance.invalid/validate"},
        "rules": [{"operations": ["CREATE"], "apiGroups": ["rkube-conformance.invalid"], "apiVersions": ["v1"], "resources": ["nothing"]}],
        "failurePolicy": "Ignore", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]})
);
kind!(
    MUTATINGWEBHOOKCONFIGURATIONS,
    "admissionregistration.k8s.io",
    "v1",
    "mutatingwebhookconfigurations",
    "MutatingWebhookConfiguration",
    false,
    |_| json!({"webhooks": [{"name": "hook.conformance.rkube.io",
        "clientConfig": {"url": "https://rkube-conformance.invalid/mutate"},
        "rules": [{"operations": ["CREATE"], "apiGroups": ["rkube-conformance.invalid"], "apiVersions": ["v1"], "resources": ["nothing"]}],
        "failurePolicy": "Ignore", "sideEffects": "None", "admissionReviewVersions": ["v1"]}]})
);

/// A PEM certificate request (O=rkube-conformance, CN=rkube-conformance-client, P-256),
/// base64 as the API wants it.
const CSR_PEM_BASE64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlINk1JR2hBZ0VBTUQ4eEdqQVlCZ05WQkFvTUVYSnJkV0psTFdOdmJtWnZjbTFoYm1ObE1TRXdId1lEVlFRRApEQmh5YTNWaVpTMWpiMjVtYjNKdFlXNWpaUzFqYkdsbGJuUXdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CCkJ3TkNBQVFDUmo5OGFmM01RSkZ2UW9QTFlYelpVckxqRjF5ZEFHbjMwMmh5eERMRlgzWVdxV05xQi9vSHQzVUEKdDJhUmxYaHh5eWcySFF4bFVDZGY5a3FUQkpEZW9BQXdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWhBS3JpdjNEUApWdUt2a0J4emxJWUlETjd5OW41TXE2S2hZYkhnQytZY2luZFFBaUJhYlh0NFBUbWVoNVBDcW0xTzNnc0Ztc01SCktYR3NIaS9SYlpjcVdCSVJBUT09Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";

/// Kinds with `crud/{plural}` and `crud/{plural}-deletecollection` tests.
static LIFECYCLE: &[&Kind] = &[
    &CONFIGMAPS,
    &SECRETS,
    &SERVICES,
    &PODTEMPLATES,
    &EVENTS,
    &EVENTS_V1,
    &LEASES,
    &REPLICATIONCONTROLLERS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
    &DAEMONSETS,
    &CONTROLLERREVISIONS,
    &JOBS,
    &CRONJOBS,
    &ENDPOINTS,
    &ENDPOINTSLICES,
    &RESOURCEQUOTAS,
    &LIMITRANGES,
    &SERVICEACCOUNTS,
    &PERSISTENTVOLUMECLAIMS,
    &PERSISTENTVOLUMES,
    &NODES,
    &INGRESSES,
    &INGRESSCLASSES,
    &NETWORKPOLICIES,
    &PODDISRUPTIONBUDGETS,
    &ROLES,
    &ROLEBINDINGS,
    &CLUSTERROLES,
    &CLUSTERROLEBINDINGS,
    &PRIORITYCLASSES,
    &RUNTIMECLASSES,
    &STORAGECLASSES,
    &CSIDRIVERS,
    &CSINODES,
    &CSISTORAGECAPACITIES,
    &VOLUMEATTACHMENTS,
    &FLOWSCHEMAS,
    &PRIORITYLEVELCONFIGURATIONS,
    &VALIDATINGADMISSIONPOLICIES,
    &VALIDATINGADMISSIONPOLICYBINDINGS,
    &CERTIFICATESIGNINGREQUESTS,
    &HORIZONTALPODAUTOSCALERS,
    &HORIZONTALPODAUTOSCALERS_V1,
    &VALIDATINGWEBHOOKCONFIGURATIONS,
    &MUTATINGWEBHOOKCONFIGURATIONS,
];

/// Kinds with a scale subresource.
static SCALED: &[&Kind] = &[
    &REPLICATIONCONTROLLERS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &STATEFULSETS,
];

/// Test functions cannot capture, so each kind gets its entries through this table.
macro_rules! per_kind {
    ($( $kind:ident ),* $(,)?) => {
        fn lifecycle_fn(kind: &'static Kind) -> super::TestFn {
            $( if std::ptr::eq(kind, &$kind) { return |cx| Box::pin(crud::lifecycle(cx, &$kind)); } )*
            unreachable!("{} has no lifecycle entry", kind.plural)
        }
        fn delete_collection_fn(kind: &'static Kind) -> super::TestFn {
            $( if std::ptr::eq(kind, &$kind) { return |cx| Box::pin(crud::delete_collection(cx, &$kind)); } )*
            unreachable!("{} has no deletecollection entry", kind.plural)
        }
        fn status_fn(kind: &'static Kind) -> super::TestFn {
            $( if std::ptr::eq(kind, &$kind) { return |cx| Box::pin(crud::status_subresource(cx, &$kind)); } )*
            unreachable!("{} has no status entry", kind.plural)
        }
        fn scale_fn(kind: &'static Kind) -> super::TestFn {
            $( if std::ptr::eq(kind, &$kind) { return |cx| Box::pin(crud::scale_subresource(cx, &$kind)); } )*
            unreachable!("{} has no scale entry", kind.plural)
        }
    };
}

per_kind!(
    CONFIGMAPS,
    SECRETS,
    SERVICES,
    PODTEMPLATES,
    EVENTS,
    EVENTS_V1,
    LEASES,
    REPLICATIONCONTROLLERS,
    DEPLOYMENTS,
    REPLICASETS,
    STATEFULSETS,
    DAEMONSETS,
    CONTROLLERREVISIONS,
    JOBS,
    CRONJOBS,
    ENDPOINTS,
    ENDPOINTSLICES,
    RESOURCEQUOTAS,
    LIMITRANGES,
    SERVICEACCOUNTS,
    PERSISTENTVOLUMECLAIMS,
    PERSISTENTVOLUMES,
    NODES,
    INGRESSES,
    INGRESSCLASSES,
    NETWORKPOLICIES,
    PODDISRUPTIONBUDGETS,
    ROLES,
    ROLEBINDINGS,
    CLUSTERROLES,
    CLUSTERROLEBINDINGS,
    PRIORITYCLASSES,
    RUNTIMECLASSES,
    STORAGECLASSES,
    CSIDRIVERS,
    CSINODES,
    CSISTORAGECAPACITIES,
    VOLUMEATTACHMENTS,
    FLOWSCHEMAS,
    PRIORITYLEVELCONFIGURATIONS,
    VALIDATINGADMISSIONPOLICIES,
    VALIDATINGADMISSIONPOLICYBINDINGS,
    CERTIFICATESIGNINGREQUESTS,
    HORIZONTALPODAUTOSCALERS,
    HORIZONTALPODAUTOSCALERS_V1,
    VALIDATINGWEBHOOKCONFIGURATIONS,
    MUTATINGWEBHOOKCONFIGURATIONS,
);

/// The test name of a kind: its plural, qualified where two groups share it.
fn test_name(kind: &Kind) -> &'static str {
    if std::ptr::eq(kind, &EVENTS_V1) {
        "events-v1"
    } else if std::ptr::eq(kind, &HORIZONTALPODAUTOSCALERS_V1) {
        "horizontalpodautoscalers-v1"
    } else {
        kind.plural
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

pub fn tests() -> Vec<Test> {
    let mut out = Vec::new();
    for kind in LIFECYCLE {
        let name = test_name(kind);
        let gv = kind.api_version();
        out.push(Test::new(
            "crud",
            name,
            leak(format!(
                "{} {gv}: create, get, list, put (and a stale put conflicts), merge/json/strategic patch, delete, 404 after, all seen in order by a watch",
                kind.kind
            )),
            lifecycle_fn(kind),
        ));
        out.push(Test::new(
            "crud",
            leak(format!("{name}-deletecollection")),
            leak(format!(
                "{} {gv}: DELETE on the collection with a label selector removes exactly the selected objects",
                kind.kind
            )),
            delete_collection_fn(kind),
        ));
        if kind.status.is_some() {
            out.push(Test::new(
                "subresources",
                leak(format!("{name}-status")),
                leak(format!(
                    "{} {gv}/status: get, put and patch are visible to reads; spec changes sent to /status and status sent to the object are ignored",
                    kind.kind
                )),
                status_fn(kind),
            ));
        }
    }
    for kind in SCALED {
        out.push(Test::new(
            "subresources",
            leak(format!("{}-scale", kind.plural)),
            leak(format!(
                "{} {}/scale: an autoscaling/v1 Scale; get, put and patch move spec.replicas",
                kind.kind,
                kind.api_version()
            )),
            scale_fn(kind),
        ));
    }
    out
}
