//! The Rust types the documents are generated from: every top-level kind of
//! k8s-openapi (Kubernetes v1.33) that rkube may serve, plus the meta types the
//! operations refer to. Schemas come from k8s-openapi's `schemars` impls; the
//! group/version/kind of each comes from its `k8s_openapi::Resource` impl.

use std::collections::BTreeMap;

use k8s_openapi::{ListableResource, Resource};
use schemars::{generate::SchemaSettings, JsonSchema, SchemaGenerator};
use serde_json::Value;

/// A top-level kind known from the Rust types.
#[derive(Debug, Clone)]
pub(crate) struct KindType {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub name: String,
    /// `PodList` for kinds with a list type (`k8s_openapi::List<T>`).
    pub list_kind: Option<&'static str>,
}

impl KindType {
    /// Definition name of the list type: `io.k8s.api.core.v1.PodList`.
    pub fn list_name(&self) -> Option<String> {
        self.list_kind.map(|l| match self.name.rsplit_once('.') {
            Some((prefix, _)) => format!("{prefix}.{l}"),
            None => l.to_string(),
        })
    }
}

/// Raw output of schemars for all catalog types.
pub(crate) struct Catalog {
    pub kinds: Vec<KindType>,
    /// Definition name → JSON Schema as produced by schemars (`$ref`s point at `#/$defs/`).
    pub defs: BTreeMap<String, Value>,
}

impl Catalog {
    pub fn kind(&self, group: &str, version: &str, kind: &str) -> Option<&KindType> {
        self.kinds
            .iter()
            .find(|k| k.group == group && k.version == version && k.kind == kind)
    }
}

fn listable<T: JsonSchema + ListableResource>(g: &mut SchemaGenerator) -> KindType {
    g.subschema_for::<T>();
    KindType {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        name: T::schema_name().into_owned(),
        list_kind: Some(T::LIST_KIND),
    }
}

fn single<T: JsonSchema + Resource>(g: &mut SchemaGenerator) -> KindType {
    g.subschema_for::<T>();
    KindType {
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
        name: T::schema_name().into_owned(),
        list_kind: None,
    }
}

macro_rules! kinds {
    ($g:ident; listable: [$($l:ty),* $(,)?]; single: [$($s:ty),* $(,)?]; other: [$($o:ty),* $(,)?]) => {{
        $( $g.subschema_for::<$o>(); )*
        vec![$( listable::<$l>(&mut $g), )* $( single::<$s>(&mut $g), )*]
    }};
}

/// Runs schemars over every catalog type.
pub(crate) fn generate() -> Catalog {
    use k8s_openapi::api::{
        admissionregistration::v1 as admreg, apps::v1 as apps, authentication::v1 as authn,
        authorization::v1 as authz, autoscaling::v1 as autoscaling1,
        autoscaling::v2 as autoscaling2, batch::v1 as batch, certificates::v1 as certs,
        coordination::v1 as coord, core::v1 as core, discovery::v1 as disc, events::v1 as events,
        flowcontrol::v1 as flow, networking::v1 as net, node::v1 as node, policy::v1 as policy,
        rbac::v1 as rbac, scheduling::v1 as sched, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apireg;

    let mut g = SchemaSettings::draft2020_12().into_generator();
    let kinds = kinds!(g;
        listable: [
            core::ComponentStatus, core::ConfigMap, core::Endpoints, core::Event,
            core::LimitRange, core::Namespace, core::Node, core::PersistentVolume,
            core::PersistentVolumeClaim, core::Pod, core::PodTemplate,
            core::ReplicationController, core::ResourceQuota, core::Secret, core::Service,
            core::ServiceAccount,
            apps::ControllerRevision, apps::DaemonSet, apps::Deployment, apps::ReplicaSet,
            apps::StatefulSet,
            autoscaling1::HorizontalPodAutoscaler, autoscaling2::HorizontalPodAutoscaler,
            batch::CronJob, batch::Job,
            coord::Lease,
            disc::EndpointSlice,
            events::Event,
            net::Ingress, net::IngressClass, net::NetworkPolicy, net::IPAddress, net::ServiceCIDR,
            policy::PodDisruptionBudget,
            rbac::ClusterRole, rbac::ClusterRoleBinding, rbac::Role, rbac::RoleBinding,
            admreg::MutatingWebhookConfiguration, admreg::ValidatingWebhookConfiguration,
            admreg::ValidatingAdmissionPolicy, admreg::ValidatingAdmissionPolicyBinding,
            certs::CertificateSigningRequest,
            flow::FlowSchema, flow::PriorityLevelConfiguration,
            node::RuntimeClass,
            sched::PriorityClass,
            storage::CSIDriver, storage::CSINode, storage::CSIStorageCapacity,
            storage::StorageClass, storage::VolumeAttachment,
            apiext::CustomResourceDefinition,
            apireg::APIService,
        ];
        single: [
            core::Binding, autoscaling1::Scale, policy::Eviction,
            authn::TokenRequest, authn::TokenReview, authn::SelfSubjectReview,
            authz::LocalSubjectAccessReview, authz::SelfSubjectAccessReview,
            authz::SelfSubjectRulesReview, authz::SubjectAccessReview,
            meta::Status,
        ];
        other: [
            meta::DeleteOptions, meta::Patch, meta::WatchEvent<core::Pod>,
            meta::APIResourceList, meta::APIGroup, meta::APIGroupList, meta::APIVersions,
        ]
    );
    let defs = g
        .take_definitions(false)
        .into_iter()
        .collect::<BTreeMap<String, Value>>();
    Catalog { kinds, defs }
}
