//! Kinds of the other named groups: events, coordination, discovery, networking, RBAC,
//! scheduling, node, storage, flow control, admission and certificates.

use serde_json::json;

use crate::suites::crud::Kind;

/// A PEM certificate request (O=rkube-conformance, CN=rkube-conformance-client, P-256),
/// base64 as the API wants it.
const CSR_PEM_BASE64: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlINk1JR2hBZ0VBTUQ4eEdqQVlCZ05WQkFvTUVYSnJkV0psTFdOdmJtWnZjbTFoYm1ObE1TRXdId1lEVlFRRApEQmh5YTNWaVpTMWpiMjVtYjNKdFlXNWpaUzFqYkdsbGJuUXdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CCkJ3TkNBQVFDUmo5OGFmM01RSkZ2UW9QTFlYelpVckxqRjF5ZEFHbjMwMmh5eERMRlgzWVdxV05xQi9vSHQzVUEKdDJhUmxYaHh5eWcySFF4bFVDZGY5a3FUQkpEZW9BQXdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWhBS3JpdjNEUApWdUt2a0J4emxJWUlETjd5OW41TXE2S2hZYkhnQytZY2luZFFBaUJhYlh0NFBUbWVoNVBDcW0xTzNnc0Ztc01SCktYR3NIaS9SYlpjcVdCSVJBUT09Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";

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
