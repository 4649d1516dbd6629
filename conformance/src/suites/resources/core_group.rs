//! Kinds of the core group (`/api/v1`).

use serde_json::json;

use crate::suites::crud::Kind;

use super::{conditions, template};

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
    ENDPOINTS,
    "",
    "v1",
    "endpoints",
    "Endpoints",
    true,
    |_| json!({"subsets": [{"addresses": [{"ip": "10.99.0.1"}], "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}]})
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
