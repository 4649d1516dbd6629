//! Exhaustive schema check against an independent implementation: for every
//! supported kind, an object with every field set is encoded by this crate,
//! decoded and re-encoded with the prost types of the `k8s-pb` crate, and
//! decoded again by this crate. A wrong field number or wire type makes
//! prost fail or drop the field, so the result would differ.

use k8s_pb as pb;
use pb::api::admissionregistration::v1 as admissionregistration;
use pb::api::apidiscovery::v2 as apidiscovery;
use pb::api::apps::v1 as apps;
use pb::api::authentication::v1 as authentication;
use pb::api::authorization::v1 as authorization;
use pb::api::autoscaling::v1 as autoscaling1;
use pb::api::autoscaling::v2 as autoscaling2;
use pb::api::batch::v1 as batch;
use pb::api::certificates::v1 as certificates;
use pb::api::coordination::v1 as coordination;
use pb::api::core::v1 as core;
use pb::api::discovery::v1 as discovery;
use pb::api::events::v1 as events;
use pb::api::flowcontrol::v1 as flowcontrol;
use pb::api::networking::v1 as networking;
use pb::api::node::v1 as node;
use pb::api::policy::v1 as policy;
use pb::api::rbac::v1 as rbac;
use pb::api::scheduling::v1 as scheduling;
use pb::api::storage::v1 as storage;
use pb::apimachinery::pkg::apis::meta::v1 as meta;
use pb::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
use prost::Message;
use rkube_protobuf::{decode, encode, sample_object, supported_kinds, MAGIC};
use serde_json::Value;

type Via = fn(&[u8]) -> Result<Vec<u8>, prost::DecodeError>;

fn via<T: Message + Default>(raw: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    Ok(T::decode(raw)?.encode_to_vec())
}

#[rustfmt::skip]
const KINDS: &[(&str, &str, Via)] = &[
    ("v1", "Status", via::<meta::Status>),
    ("v1", "WatchEvent", via::<meta::WatchEvent>),
    ("v1", "ListOptions", via::<meta::ListOptions>),
    ("v1", "GetOptions", via::<meta::GetOptions>),
    ("v1", "DeleteOptions", via::<meta::DeleteOptions>),
    ("v1", "CreateOptions", via::<meta::CreateOptions>),
    ("v1", "UpdateOptions", via::<meta::UpdateOptions>),
    ("v1", "PatchOptions", via::<meta::PatchOptions>),
    ("v1", "APIVersions", via::<meta::APIVersions>),
    ("v1", "APIGroupList", via::<meta::APIGroupList>),
    ("v1", "APIGroup", via::<meta::APIGroup>),
    ("v1", "APIResourceList", via::<meta::APIResourceList>),
    ("meta.k8s.io/v1", "PartialObjectMetadata", via::<meta::PartialObjectMetadata>),
    ("meta.k8s.io/v1", "PartialObjectMetadataList", via::<meta::PartialObjectMetadataList>),
    ("meta.k8s.io/v1", "TableOptions", via::<meta::TableOptions>),
    ("v1", "Pod", via::<core::Pod>),
    ("v1", "PodList", via::<core::PodList>),
    ("v1", "PodStatusResult", via::<core::PodStatusResult>),
    ("v1", "PodTemplate", via::<core::PodTemplate>),
    ("v1", "PodTemplateList", via::<core::PodTemplateList>),
    ("v1", "ReplicationController", via::<core::ReplicationController>),
    ("v1", "ReplicationControllerList", via::<core::ReplicationControllerList>),
    ("v1", "Service", via::<core::Service>),
    ("v1", "ServiceProxyOptions", via::<core::ServiceProxyOptions>),
    ("v1", "ServiceList", via::<core::ServiceList>),
    ("v1", "Endpoints", via::<core::Endpoints>),
    ("v1", "EndpointsList", via::<core::EndpointsList>),
    ("v1", "Node", via::<core::Node>),
    ("v1", "NodeList", via::<core::NodeList>),
    ("v1", "NodeProxyOptions", via::<core::NodeProxyOptions>),
    ("v1", "Binding", via::<core::Binding>),
    ("v1", "Event", via::<core::Event>),
    ("v1", "EventList", via::<core::EventList>),
    ("v1", "List", via::<core::List>),
    ("v1", "LimitRange", via::<core::LimitRange>),
    ("v1", "LimitRangeList", via::<core::LimitRangeList>),
    ("v1", "ResourceQuota", via::<core::ResourceQuota>),
    ("v1", "ResourceQuotaList", via::<core::ResourceQuotaList>),
    ("v1", "Namespace", via::<core::Namespace>),
    ("v1", "NamespaceList", via::<core::NamespaceList>),
    ("v1", "Secret", via::<core::Secret>),
    ("v1", "SecretList", via::<core::SecretList>),
    ("v1", "ServiceAccount", via::<core::ServiceAccount>),
    ("v1", "ServiceAccountList", via::<core::ServiceAccountList>),
    ("v1", "PersistentVolume", via::<core::PersistentVolume>),
    ("v1", "PersistentVolumeList", via::<core::PersistentVolumeList>),
    ("v1", "PersistentVolumeClaim", via::<core::PersistentVolumeClaim>),
    ("v1", "PersistentVolumeClaimList", via::<core::PersistentVolumeClaimList>),
    ("v1", "PodAttachOptions", via::<core::PodAttachOptions>),
    ("v1", "PodLogOptions", via::<core::PodLogOptions>),
    ("v1", "PodExecOptions", via::<core::PodExecOptions>),
    ("v1", "PodPortForwardOptions", via::<core::PodPortForwardOptions>),
    ("v1", "PodProxyOptions", via::<core::PodProxyOptions>),
    ("v1", "ComponentStatus", via::<core::ComponentStatus>),
    ("v1", "ComponentStatusList", via::<core::ComponentStatusList>),
    ("v1", "SerializedReference", via::<core::SerializedReference>),
    ("v1", "RangeAllocation", via::<core::RangeAllocation>),
    ("v1", "ConfigMap", via::<core::ConfigMap>),
    ("v1", "ConfigMapList", via::<core::ConfigMapList>),
    ("apps/v1", "Deployment", via::<apps::Deployment>),
    ("apps/v1", "DeploymentList", via::<apps::DeploymentList>),
    ("apps/v1", "StatefulSet", via::<apps::StatefulSet>),
    ("apps/v1", "StatefulSetList", via::<apps::StatefulSetList>),
    ("apps/v1", "DaemonSet", via::<apps::DaemonSet>),
    ("apps/v1", "DaemonSetList", via::<apps::DaemonSetList>),
    ("apps/v1", "ReplicaSet", via::<apps::ReplicaSet>),
    ("apps/v1", "ReplicaSetList", via::<apps::ReplicaSetList>),
    ("apps/v1", "ControllerRevision", via::<apps::ControllerRevision>),
    ("apps/v1", "ControllerRevisionList", via::<apps::ControllerRevisionList>),
    ("autoscaling/v1", "HorizontalPodAutoscaler", via::<autoscaling1::HorizontalPodAutoscaler>),
    ("autoscaling/v1", "HorizontalPodAutoscalerList", via::<autoscaling1::HorizontalPodAutoscalerList>),
    ("autoscaling/v1", "Scale", via::<autoscaling1::Scale>),
    ("autoscaling/v2", "HorizontalPodAutoscaler", via::<autoscaling2::HorizontalPodAutoscaler>),
    ("autoscaling/v2", "HorizontalPodAutoscalerList", via::<autoscaling2::HorizontalPodAutoscalerList>),
    ("batch/v1", "Job", via::<batch::Job>),
    ("batch/v1", "JobList", via::<batch::JobList>),
    ("batch/v1", "CronJob", via::<batch::CronJob>),
    ("batch/v1", "CronJobList", via::<batch::CronJobList>),
    ("coordination.k8s.io/v1", "Lease", via::<coordination::Lease>),
    ("coordination.k8s.io/v1", "LeaseList", via::<coordination::LeaseList>),
    ("discovery.k8s.io/v1", "EndpointSlice", via::<discovery::EndpointSlice>),
    ("discovery.k8s.io/v1", "EndpointSliceList", via::<discovery::EndpointSliceList>),
    ("events.k8s.io/v1", "Event", via::<events::Event>),
    ("events.k8s.io/v1", "EventList", via::<events::EventList>),
    ("policy/v1", "PodDisruptionBudget", via::<policy::PodDisruptionBudget>),
    ("policy/v1", "PodDisruptionBudgetList", via::<policy::PodDisruptionBudgetList>),
    ("policy/v1", "Eviction", via::<policy::Eviction>),
    ("networking.k8s.io/v1", "Ingress", via::<networking::Ingress>),
    ("networking.k8s.io/v1", "IngressList", via::<networking::IngressList>),
    ("networking.k8s.io/v1", "IngressClass", via::<networking::IngressClass>),
    ("networking.k8s.io/v1", "IngressClassList", via::<networking::IngressClassList>),
    ("networking.k8s.io/v1", "NetworkPolicy", via::<networking::NetworkPolicy>),
    ("networking.k8s.io/v1", "NetworkPolicyList", via::<networking::NetworkPolicyList>),
    ("networking.k8s.io/v1", "IPAddress", via::<networking::IPAddress>),
    ("networking.k8s.io/v1", "IPAddressList", via::<networking::IPAddressList>),
    ("networking.k8s.io/v1", "ServiceCIDR", via::<networking::ServiceCIDR>),
    ("networking.k8s.io/v1", "ServiceCIDRList", via::<networking::ServiceCIDRList>),
    ("rbac.authorization.k8s.io/v1", "Role", via::<rbac::Role>),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", via::<rbac::RoleBinding>),
    ("rbac.authorization.k8s.io/v1", "RoleBindingList", via::<rbac::RoleBindingList>),
    ("rbac.authorization.k8s.io/v1", "RoleList", via::<rbac::RoleList>),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", via::<rbac::ClusterRole>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", via::<rbac::ClusterRoleBinding>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBindingList", via::<rbac::ClusterRoleBindingList>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleList", via::<rbac::ClusterRoleList>),
    ("storage.k8s.io/v1", "StorageClass", via::<storage::StorageClass>),
    ("storage.k8s.io/v1", "StorageClassList", via::<storage::StorageClassList>),
    ("storage.k8s.io/v1", "VolumeAttachment", via::<storage::VolumeAttachment>),
    ("storage.k8s.io/v1", "VolumeAttachmentList", via::<storage::VolumeAttachmentList>),
    ("storage.k8s.io/v1", "CSINode", via::<storage::CSINode>),
    ("storage.k8s.io/v1", "CSINodeList", via::<storage::CSINodeList>),
    ("storage.k8s.io/v1", "CSIDriver", via::<storage::CSIDriver>),
    ("storage.k8s.io/v1", "CSIDriverList", via::<storage::CSIDriverList>),
    ("storage.k8s.io/v1", "CSIStorageCapacity", via::<storage::CSIStorageCapacity>),
    ("storage.k8s.io/v1", "CSIStorageCapacityList", via::<storage::CSIStorageCapacityList>),
    ("scheduling.k8s.io/v1", "PriorityClass", via::<scheduling::PriorityClass>),
    ("scheduling.k8s.io/v1", "PriorityClassList", via::<scheduling::PriorityClassList>),
    ("node.k8s.io/v1", "RuntimeClass", via::<node::RuntimeClass>),
    ("node.k8s.io/v1", "RuntimeClassList", via::<node::RuntimeClassList>),
    ("certificates.k8s.io/v1", "CertificateSigningRequest", via::<certificates::CertificateSigningRequest>),
    ("certificates.k8s.io/v1", "CertificateSigningRequestList", via::<certificates::CertificateSigningRequestList>),
    ("apiregistration.k8s.io/v1", "APIService", via::<apiregistration::APIService>),
    ("apiregistration.k8s.io/v1", "APIServiceList", via::<apiregistration::APIServiceList>),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", via::<admissionregistration::ValidatingWebhookConfiguration>),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfigurationList", via::<admissionregistration::ValidatingWebhookConfigurationList>),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", via::<admissionregistration::MutatingWebhookConfiguration>),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfigurationList", via::<admissionregistration::MutatingWebhookConfigurationList>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", via::<admissionregistration::ValidatingAdmissionPolicy>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyList", via::<admissionregistration::ValidatingAdmissionPolicyList>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", via::<admissionregistration::ValidatingAdmissionPolicyBinding>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBindingList", via::<admissionregistration::ValidatingAdmissionPolicyBindingList>),
    ("authentication.k8s.io/v1", "TokenReview", via::<authentication::TokenReview>),
    ("authentication.k8s.io/v1", "TokenRequest", via::<authentication::TokenRequest>),
    ("authentication.k8s.io/v1", "SelfSubjectReview", via::<authentication::SelfSubjectReview>),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", via::<authorization::SelfSubjectRulesReview>),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", via::<authorization::SelfSubjectAccessReview>),
    ("authorization.k8s.io/v1", "SubjectAccessReview", via::<authorization::SubjectAccessReview>),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", via::<authorization::LocalSubjectAccessReview>),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", via::<flowcontrol::FlowSchema>),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchemaList", via::<flowcontrol::FlowSchemaList>),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration", via::<flowcontrol::PriorityLevelConfiguration>),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfigurationList", via::<flowcontrol::PriorityLevelConfigurationList>),
    ("apidiscovery.k8s.io/v2", "APIGroupDiscoveryList", via::<apidiscovery::APIGroupDiscoveryList>),
    ("apidiscovery.k8s.io/v2", "APIGroupDiscovery", via::<apidiscovery::APIGroupDiscovery>),
];

fn unwrap_envelope(body: &[u8]) -> pb::apimachinery::pkg::runtime::Unknown {
    assert_eq!(body[..4], MAGIC);
    pb::apimachinery::pkg::runtime::Unknown::decode(&body[4..])
        .expect("envelope decodes with prost")
}

#[test]
fn every_kind_roundtrips_through_k8s_pb() {
    let mut failures = Vec::new();
    for &(api_version, kind, via) in KINDS {
        let sample = sample_object(api_version, kind).expect("supported");
        let body = encode(&sample).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let mut unknown = unwrap_envelope(&body);
        let type_meta = unknown.type_meta.clone().unwrap_or_default();
        assert_eq!(type_meta.api_version.as_deref(), Some(api_version));
        assert_eq!(type_meta.kind.as_deref(), Some(kind));
        let raw = via(unknown.raw.as_deref().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{kind}: prost: {e}"));
        unknown.raw = Some(raw);
        let mut body2 = MAGIC.to_vec();
        body2.extend(unknown.encode_to_vec());
        let back = decode(&body2).unwrap_or_else(|e| panic!("{kind}: {e}"));
        if back != sample {
            failures.push(format!(
                "{api_version} {kind}:\n{}",
                diff(&sample, &back, kind)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} kinds differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The first paths at which two JSON values differ.
fn diff(a: &Value, b: &Value, path: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut out = String::new();
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) if p != q => out += &diff(p, q, &format!("{path}.{k}")),
                    (Some(_), None) => out += &format!("  {path}.{k}: lost\n"),
                    (None, Some(q)) => out += &format!("  {path}.{k}: added {q}\n"),
                    _ => {}
                }
            }
            out
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]")))
            .collect(),
        _ if a != b => format!("  {path}: {a} != {b}\n"),
        _ => String::new(),
    }
}

#[test]
fn every_supported_kind_is_checked() {
    for (api_version, kind) in supported_kinds() {
        let av = if api_version == "*" {
            "v1"
        } else {
            api_version.as_str()
        };
        assert!(
            KINDS.iter().any(|&(a, k, _)| a == av && k == kind),
            "{api_version} {kind} has no k8s-pb cross-check"
        );
    }
}

#[test]
fn sample_objects_roundtrip() {
    for (api_version, kind) in supported_kinds() {
        let av = if api_version == "*" {
            "meta.k8s.io/v1"
        } else {
            api_version.as_str()
        };
        let sample = sample_object(av, &kind).unwrap();
        let back = decode(&encode(&sample).unwrap()).unwrap();
        assert_eq!(back, sample, "{av} {kind}");
        // Key order is the Go struct order, which decode reproduces.
        assert_eq!(back.to_string(), sample.to_string(), "{av} {kind}");
    }
}
