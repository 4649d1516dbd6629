//! The kinds the generic checks run over, with a valid sample of each, and their tests:
//! `crud/{plural}` (life of one object under a watch), `crud/{plural}-deletecollection`,
//! `subresources/{plural}-status`, `subresources/{plural}-scale`. The kinds are defined by
//! API group in the submodules; which tests each kind gets, and in what order, is here.

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

mod core_group;
mod platform_groups;
mod workload_groups;

pub use core_group::*;
pub use platform_groups::*;
pub use workload_groups::*;

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
