//! Exhaustive schema check against an independent implementation: for every
//! supported kind, an object with every field set is encoded by this crate,
//! decoded and re-encoded with the prost types of the `k8s-pb` crate, and
//! decoded again by this crate. A wrong field number or wire type makes
//! prost fail or drop the field, so the result would differ.

use k8s_pb as pb;
use prost::Message;
use rkube_protobuf::{decode, encode, sample_object, supported_kinds, MAGIC};
use serde_json::Value;

type Via = fn(&[u8]) -> Result<Vec<u8>, prost::DecodeError>;

fn via<T: Message + Default>(raw: &[u8]) -> Result<Vec<u8>, prost::DecodeError> {
    Ok(T::decode(raw)?.encode_to_vec())
}

const KINDS: &[(&str, &str, Via)] = &[
    ("v1", "Status", via::<pb::apimachinery::pkg::apis::meta::v1::Status>),
    ("v1", "WatchEvent", via::<pb::apimachinery::pkg::apis::meta::v1::WatchEvent>),
    ("v1", "ListOptions", via::<pb::apimachinery::pkg::apis::meta::v1::ListOptions>),
    ("v1", "GetOptions", via::<pb::apimachinery::pkg::apis::meta::v1::GetOptions>),
    ("v1", "DeleteOptions", via::<pb::apimachinery::pkg::apis::meta::v1::DeleteOptions>),
    ("v1", "CreateOptions", via::<pb::apimachinery::pkg::apis::meta::v1::CreateOptions>),
    ("v1", "UpdateOptions", via::<pb::apimachinery::pkg::apis::meta::v1::UpdateOptions>),
    ("v1", "PatchOptions", via::<pb::apimachinery::pkg::apis::meta::v1::PatchOptions>),
    ("v1", "APIVersions", via::<pb::apimachinery::pkg::apis::meta::v1::APIVersions>),
    ("v1", "APIGroupList", via::<pb::apimachinery::pkg::apis::meta::v1::APIGroupList>),
    ("v1", "APIGroup", via::<pb::apimachinery::pkg::apis::meta::v1::APIGroup>),
    ("v1", "APIResourceList", via::<pb::apimachinery::pkg::apis::meta::v1::APIResourceList>),
    ("meta.k8s.io/v1", "PartialObjectMetadata", via::<pb::apimachinery::pkg::apis::meta::v1::PartialObjectMetadata>),
    ("meta.k8s.io/v1", "PartialObjectMetadataList", via::<pb::apimachinery::pkg::apis::meta::v1::PartialObjectMetadataList>),
    ("meta.k8s.io/v1", "TableOptions", via::<pb::apimachinery::pkg::apis::meta::v1::TableOptions>),
    ("v1", "Pod", via::<pb::api::core::v1::Pod>),
    ("v1", "PodList", via::<pb::api::core::v1::PodList>),
    ("v1", "PodStatusResult", via::<pb::api::core::v1::PodStatusResult>),
    ("v1", "PodTemplate", via::<pb::api::core::v1::PodTemplate>),
    ("v1", "PodTemplateList", via::<pb::api::core::v1::PodTemplateList>),
    ("v1", "ReplicationController", via::<pb::api::core::v1::ReplicationController>),
    ("v1", "ReplicationControllerList", via::<pb::api::core::v1::ReplicationControllerList>),
    ("v1", "Service", via::<pb::api::core::v1::Service>),
    ("v1", "ServiceProxyOptions", via::<pb::api::core::v1::ServiceProxyOptions>),
    ("v1", "ServiceList", via::<pb::api::core::v1::ServiceList>),
    ("v1", "Endpoints", via::<pb::api::core::v1::Endpoints>),
    ("v1", "EndpointsList", via::<pb::api::core::v1::EndpointsList>),
    ("v1", "Node", via::<pb::api::core::v1::Node>),
    ("v1", "NodeList", via::<pb::api::core::v1::NodeList>),
    ("v1", "NodeProxyOptions", via::<pb::api::core::v1::NodeProxyOptions>),
    ("v1", "Binding", via::<pb::api::core::v1::Binding>),
    ("v1", "Event", via::<pb::api::core::v1::Event>),
    ("v1", "EventList", via::<pb::api::core::v1::EventList>),
    ("v1", "List", via::<pb::api::core::v1::List>),
    ("v1", "LimitRange", via::<pb::api::core::v1::LimitRange>),
    ("v1", "LimitRangeList", via::<pb::api::core::v1::LimitRangeList>),
    ("v1", "ResourceQuota", via::<pb::api::core::v1::ResourceQuota>),
    ("v1", "ResourceQuotaList", via::<pb::api::core::v1::ResourceQuotaList>),
    ("v1", "Namespace", via::<pb::api::core::v1::Namespace>),
    ("v1", "NamespaceList", via::<pb::api::core::v1::NamespaceList>),
    ("v1", "Secret", via::<pb::api::core::v1::Secret>),
    ("v1", "SecretList", via::<pb::api::core::v1::SecretList>),
    ("v1", "ServiceAccount", via::<pb::api::core::v1::ServiceAccount>),
    ("v1", "ServiceAccountList", via::<pb::api::core::v1::ServiceAccountList>),
    ("v1", "PersistentVolume", via::<pb::api::core::v1::PersistentVolume>),
    ("v1", "PersistentVolumeList", via::<pb::api::core::v1::PersistentVolumeList>),
    ("v1", "PersistentVolumeClaim", via::<pb::api::core::v1::PersistentVolumeClaim>),
    ("v1", "PersistentVolumeClaimList", via::<pb::api::core::v1::PersistentVolumeClaimList>),
    ("v1", "PodAttachOptions", via::<pb::api::core::v1::PodAttachOptions>),
    ("v1", "PodLogOptions", via::<pb::api::core::v1::PodLogOptions>),
    ("v1", "PodExecOptions", via::<pb::api::core::v1::PodExecOptions>),
    ("v1", "PodPortForwardOptions", via::<pb::api::core::v1::PodPortForwardOptions>),
    ("v1", "PodProxyOptions", via::<pb::api::core::v1::PodProxyOptions>),
    ("v1", "ComponentStatus", via::<pb::api::core::v1::ComponentStatus>),
    ("v1", "ComponentStatusList", via::<pb::api::core::v1::ComponentStatusList>),
    ("v1", "SerializedReference", via::<pb::api::core::v1::SerializedReference>),
    ("v1", "RangeAllocation", via::<pb::api::core::v1::RangeAllocation>),
    ("v1", "ConfigMap", via::<pb::api::core::v1::ConfigMap>),
    ("v1", "ConfigMapList", via::<pb::api::core::v1::ConfigMapList>),
    ("apps/v1", "Deployment", via::<pb::api::apps::v1::Deployment>),
    ("apps/v1", "DeploymentList", via::<pb::api::apps::v1::DeploymentList>),
    ("apps/v1", "StatefulSet", via::<pb::api::apps::v1::StatefulSet>),
    ("apps/v1", "StatefulSetList", via::<pb::api::apps::v1::StatefulSetList>),
    ("apps/v1", "DaemonSet", via::<pb::api::apps::v1::DaemonSet>),
    ("apps/v1", "DaemonSetList", via::<pb::api::apps::v1::DaemonSetList>),
    ("apps/v1", "ReplicaSet", via::<pb::api::apps::v1::ReplicaSet>),
    ("apps/v1", "ReplicaSetList", via::<pb::api::apps::v1::ReplicaSetList>),
    ("apps/v1", "ControllerRevision", via::<pb::api::apps::v1::ControllerRevision>),
    ("apps/v1", "ControllerRevisionList", via::<pb::api::apps::v1::ControllerRevisionList>),
    ("autoscaling/v1", "HorizontalPodAutoscaler", via::<pb::api::autoscaling::v1::HorizontalPodAutoscaler>),
    ("autoscaling/v1", "HorizontalPodAutoscalerList", via::<pb::api::autoscaling::v1::HorizontalPodAutoscalerList>),
    ("autoscaling/v1", "Scale", via::<pb::api::autoscaling::v1::Scale>),
    ("autoscaling/v2", "HorizontalPodAutoscaler", via::<pb::api::autoscaling::v2::HorizontalPodAutoscaler>),
    ("autoscaling/v2", "HorizontalPodAutoscalerList", via::<pb::api::autoscaling::v2::HorizontalPodAutoscalerList>),
    ("batch/v1", "Job", via::<pb::api::batch::v1::Job>),
    ("batch/v1", "JobList", via::<pb::api::batch::v1::JobList>),
    ("batch/v1", "CronJob", via::<pb::api::batch::v1::CronJob>),
    ("batch/v1", "CronJobList", via::<pb::api::batch::v1::CronJobList>),
    ("coordination.k8s.io/v1", "Lease", via::<pb::api::coordination::v1::Lease>),
    ("coordination.k8s.io/v1", "LeaseList", via::<pb::api::coordination::v1::LeaseList>),
    ("discovery.k8s.io/v1", "EndpointSlice", via::<pb::api::discovery::v1::EndpointSlice>),
    ("discovery.k8s.io/v1", "EndpointSliceList", via::<pb::api::discovery::v1::EndpointSliceList>),
    ("events.k8s.io/v1", "Event", via::<pb::api::events::v1::Event>),
    ("events.k8s.io/v1", "EventList", via::<pb::api::events::v1::EventList>),
    ("policy/v1", "PodDisruptionBudget", via::<pb::api::policy::v1::PodDisruptionBudget>),
    ("policy/v1", "PodDisruptionBudgetList", via::<pb::api::policy::v1::PodDisruptionBudgetList>),
    ("policy/v1", "Eviction", via::<pb::api::policy::v1::Eviction>),
    ("networking.k8s.io/v1", "Ingress", via::<pb::api::networking::v1::Ingress>),
    ("networking.k8s.io/v1", "IngressList", via::<pb::api::networking::v1::IngressList>),
    ("networking.k8s.io/v1", "IngressClass", via::<pb::api::networking::v1::IngressClass>),
    ("networking.k8s.io/v1", "IngressClassList", via::<pb::api::networking::v1::IngressClassList>),
    ("networking.k8s.io/v1", "NetworkPolicy", via::<pb::api::networking::v1::NetworkPolicy>),
    ("networking.k8s.io/v1", "NetworkPolicyList", via::<pb::api::networking::v1::NetworkPolicyList>),
    ("networking.k8s.io/v1", "IPAddress", via::<pb::api::networking::v1::IPAddress>),
    ("networking.k8s.io/v1", "IPAddressList", via::<pb::api::networking::v1::IPAddressList>),
    ("networking.k8s.io/v1", "ServiceCIDR", via::<pb::api::networking::v1::ServiceCIDR>),
    ("networking.k8s.io/v1", "ServiceCIDRList", via::<pb::api::networking::v1::ServiceCIDRList>),
    ("rbac.authorization.k8s.io/v1", "Role", via::<pb::api::rbac::v1::Role>),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", via::<pb::api::rbac::v1::RoleBinding>),
    ("rbac.authorization.k8s.io/v1", "RoleBindingList", via::<pb::api::rbac::v1::RoleBindingList>),
    ("rbac.authorization.k8s.io/v1", "RoleList", via::<pb::api::rbac::v1::RoleList>),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", via::<pb::api::rbac::v1::ClusterRole>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", via::<pb::api::rbac::v1::ClusterRoleBinding>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBindingList", via::<pb::api::rbac::v1::ClusterRoleBindingList>),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleList", via::<pb::api::rbac::v1::ClusterRoleList>),
    ("storage.k8s.io/v1", "StorageClass", via::<pb::api::storage::v1::StorageClass>),
    ("storage.k8s.io/v1", "StorageClassList", via::<pb::api::storage::v1::StorageClassList>),
    ("storage.k8s.io/v1", "VolumeAttachment", via::<pb::api::storage::v1::VolumeAttachment>),
    ("storage.k8s.io/v1", "VolumeAttachmentList", via::<pb::api::storage::v1::VolumeAttachmentList>),
    ("storage.k8s.io/v1", "CSINode", via::<pb::api::storage::v1::CSINode>),
    ("storage.k8s.io/v1", "CSINodeList", via::<pb::api::storage::v1::CSINodeList>),
    ("storage.k8s.io/v1", "CSIDriver", via::<pb::api::storage::v1::CSIDriver>),
    ("storage.k8s.io/v1", "CSIDriverList", via::<pb::api::storage::v1::CSIDriverList>),
    ("storage.k8s.io/v1", "CSIStorageCapacity", via::<pb::api::storage::v1::CSIStorageCapacity>),
    ("storage.k8s.io/v1", "CSIStorageCapacityList", via::<pb::api::storage::v1::CSIStorageCapacityList>),
    ("scheduling.k8s.io/v1", "PriorityClass", via::<pb::api::scheduling::v1::PriorityClass>),
    ("scheduling.k8s.io/v1", "PriorityClassList", via::<pb::api::scheduling::v1::PriorityClassList>),
    ("node.k8s.io/v1", "RuntimeClass", via::<pb::api::node::v1::RuntimeClass>),
    ("node.k8s.io/v1", "RuntimeClassList", via::<pb::api::node::v1::RuntimeClassList>),
    ("certificates.k8s.io/v1", "CertificateSigningRequest", via::<pb::api::certificates::v1::CertificateSigningRequest>),
    ("certificates.k8s.io/v1", "CertificateSigningRequestList", via::<pb::api::certificates::v1::CertificateSigningRequestList>),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", via::<pb::api::admissionregistration::v1::ValidatingWebhookConfiguration>),
    ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfigurationList", via::<pb::api::admissionregistration::v1::ValidatingWebhookConfigurationList>),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", via::<pb::api::admissionregistration::v1::MutatingWebhookConfiguration>),
    ("admissionregistration.k8s.io/v1", "MutatingWebhookConfigurationList", via::<pb::api::admissionregistration::v1::MutatingWebhookConfigurationList>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", via::<pb::api::admissionregistration::v1::ValidatingAdmissionPolicy>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyList", via::<pb::api::admissionregistration::v1::ValidatingAdmissionPolicyList>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding", via::<pb::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding>),
    ("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBindingList", via::<pb::api::admissionregistration::v1::ValidatingAdmissionPolicyBindingList>),
    ("authentication.k8s.io/v1", "TokenReview", via::<pb::api::authentication::v1::TokenReview>),
    ("authentication.k8s.io/v1", "TokenRequest", via::<pb::api::authentication::v1::TokenRequest>),
    ("authentication.k8s.io/v1", "SelfSubjectReview", via::<pb::api::authentication::v1::SelfSubjectReview>),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", via::<pb::api::authorization::v1::SelfSubjectRulesReview>),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", via::<pb::api::authorization::v1::SelfSubjectAccessReview>),
    ("authorization.k8s.io/v1", "SubjectAccessReview", via::<pb::api::authorization::v1::SubjectAccessReview>),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", via::<pb::api::authorization::v1::LocalSubjectAccessReview>),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchema", via::<pb::api::flowcontrol::v1::FlowSchema>),
    ("flowcontrol.apiserver.k8s.io/v1", "FlowSchemaList", via::<pb::api::flowcontrol::v1::FlowSchemaList>),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfiguration", via::<pb::api::flowcontrol::v1::PriorityLevelConfiguration>),
    ("flowcontrol.apiserver.k8s.io/v1", "PriorityLevelConfigurationList", via::<pb::api::flowcontrol::v1::PriorityLevelConfigurationList>),
    ("apidiscovery.k8s.io/v2", "APIGroupDiscoveryList", via::<pb::api::apidiscovery::v2::APIGroupDiscoveryList>),
    ("apidiscovery.k8s.io/v2", "APIGroupDiscovery", via::<pb::api::apidiscovery::v2::APIGroupDiscovery>),
];

fn unwrap_envelope(body: &[u8]) -> pb::apimachinery::pkg::runtime::Unknown {
    assert_eq!(body[..4], MAGIC);
    pb::apimachinery::pkg::runtime::Unknown::decode(&body[4..]).expect("envelope decodes with prost")
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
        let raw = via(unknown.raw.as_deref().unwrap_or_default()).unwrap_or_else(|e| panic!("{kind}: prost: {e}"));
        unknown.raw = Some(raw);
        let mut body2 = MAGIC.to_vec();
        body2.extend(unknown.encode_to_vec());
        let back = decode(&body2).unwrap_or_else(|e| panic!("{kind}: {e}"));
        if back != sample {
            failures.push(format!("{api_version} {kind}:\n{}", diff(&sample, &back, kind)));
        }
    }
    assert!(failures.is_empty(), "{} kinds differ:\n{}", failures.len(), failures.join("\n"));
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
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().map(|(i, (p, q))| diff(p, q, &format!("{path}[{i}]"))).collect()
        }
        _ if a != b => format!("  {path}: {a} != {b}\n"),
        _ => String::new(),
    }
}

#[test]
fn every_supported_kind_is_checked() {
    for (api_version, kind) in supported_kinds() {
        let av = if api_version == "*" { "v1" } else { api_version.as_str() };
        assert!(
            KINDS.iter().any(|&(a, k, _)| a == av && k == kind),
            "{api_version} {kind} has no k8s-pb cross-check"
        );
    }
}

#[test]
fn sample_objects_roundtrip() {
    for (api_version, kind) in supported_kinds() {
        let av = if api_version == "*" { "meta.k8s.io/v1" } else { api_version.as_str() };
        let sample = sample_object(av, &kind).unwrap();
        let back = decode(&encode(&sample).unwrap()).unwrap();
        assert_eq!(back, sample, "{av} {kind}");
        // Key order is the Go struct order, which decode reproduces.
        assert_eq!(back.to_string(), sample.to_string(), "{av} {kind}");
    }
}
