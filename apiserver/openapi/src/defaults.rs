//! The resources rkube serves by default, for tests and for a process that
//! never calls [`crate::install`]. The apiserver passes its own registry.

use crate::{ResourceSpec, SubresourceSpec};

const ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const NONE: &[SubresourceSpec<'static>] = &[];
const STATUS: SubresourceSpec<'static> = SubresourceSpec::named("status");
const SCALE: SubresourceSpec<'static> = SubresourceSpec::named("scale");
const WITH_STATUS: &[SubresourceSpec<'static>] = &[STATUS];
const SCALABLE: &[SubresourceSpec<'static>] = &[SCALE, STATUS];

const fn res(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    subresources: &'static [SubresourceSpec<'static>],
) -> ResourceSpec<'static> {
    ResourceSpec {
        group,
        version: "v1",
        kind,
        plural,
        namespaced,
        verbs: ALL,
        subresources,
    }
}

const fn connect(name: &'static str, kind: &'static str) -> SubresourceSpec<'static> {
    SubresourceSpec {
        name,
        group: "",
        version: "",
        kind,
        verbs: &["create", "get"],
    }
}

/// core/v1, apps/v1, batch/v1, coordination.k8s.io/v1, discovery.k8s.io/v1,
/// events.k8s.io/v1, policy/v1, networking.k8s.io/v1 and
/// rbac.authorization.k8s.io/v1 as served by rkube.
pub static DEFAULT_RESOURCES: &[ResourceSpec<'static>] = &[
    ResourceSpec {
        verbs: &["create"],
        ..res("", "Binding", "bindings", true, NONE)
    },
    ResourceSpec {
        verbs: &["get", "list"],
        ..res("", "ComponentStatus", "componentstatuses", false, NONE)
    },
    res("", "ConfigMap", "configmaps", true, NONE),
    res("", "Endpoints", "endpoints", true, NONE),
    res("", "Event", "events", true, NONE),
    res("", "LimitRange", "limitranges", true, NONE),
    ResourceSpec {
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        ..res(
            "",
            "Namespace",
            "namespaces",
            false,
            &[
                SubresourceSpec {
                    verbs: &["update"],
                    ..SubresourceSpec::named("finalize")
                },
                STATUS,
            ],
        )
    },
    res("", "Node", "nodes", false, WITH_STATUS),
    res(
        "",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        WITH_STATUS,
    ),
    res(
        "",
        "PersistentVolume",
        "persistentvolumes",
        false,
        WITH_STATUS,
    ),
    res(
        "",
        "Pod",
        "pods",
        true,
        &[
            connect("attach", "PodAttachOptions"),
            SubresourceSpec::named("binding"),
            SubresourceSpec::named("eviction"),
            connect("exec", "PodExecOptions"),
            SubresourceSpec::named("log"),
            connect("portforward", "PodPortForwardOptions"),
            STATUS,
        ],
    ),
    res("", "PodTemplate", "podtemplates", true, NONE),
    res(
        "",
        "ReplicationController",
        "replicationcontrollers",
        true,
        SCALABLE,
    ),
    res("", "ResourceQuota", "resourcequotas", true, WITH_STATUS),
    res("", "Secret", "secrets", true, NONE),
    res("", "ServiceAccount", "serviceaccounts", true, NONE),
    ResourceSpec {
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        ..res("", "Service", "services", true, WITH_STATUS)
    },
    res(
        "apps",
        "ControllerRevision",
        "controllerrevisions",
        true,
        NONE,
    ),
    res("apps", "DaemonSet", "daemonsets", true, WITH_STATUS),
    res("apps", "Deployment", "deployments", true, SCALABLE),
    res("apps", "ReplicaSet", "replicasets", true, SCALABLE),
    res("apps", "StatefulSet", "statefulsets", true, SCALABLE),
    res("events.k8s.io", "Event", "events", true, NONE),
    res("batch", "CronJob", "cronjobs", true, WITH_STATUS),
    res("batch", "Job", "jobs", true, WITH_STATUS),
    res("coordination.k8s.io", "Lease", "leases", true, NONE),
    res(
        "discovery.k8s.io",
        "EndpointSlice",
        "endpointslices",
        true,
        NONE,
    ),
    res(
        "networking.k8s.io",
        "IngressClass",
        "ingressclasses",
        false,
        NONE,
    ),
    res(
        "networking.k8s.io",
        "Ingress",
        "ingresses",
        true,
        WITH_STATUS,
    ),
    res(
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        true,
        NONE,
    ),
    res(
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        WITH_STATUS,
    ),
    res(
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        NONE,
    ),
    res(
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        false,
        NONE,
    ),
    res(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        true,
        NONE,
    ),
    res("rbac.authorization.k8s.io", "Role", "roles", true, NONE),
];
