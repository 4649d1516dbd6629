//! Validation of the served kinds, with upstream's field paths and messages
//! (`pkg/apis/*/validation`, the registry strategies' `Validate`/`ValidateUpdate`).
//!
//! Every function returns [`Cause`]s whose `message` is the full `field: detail` text of
//! upstream's `field.Error` and whose `field` is the path, ready for
//! [`ApiError::invalid`](crate::status::ApiError::invalid).

mod admission;
mod autoscaling;
mod batch;
mod cluster;
mod config;
mod container;
mod cron;
mod endpoints;
mod env;
pub mod field;
mod meta;
pub mod names;
mod networking;
mod other;
mod pod;
mod podspec;
mod probes;
pub mod quantity;
mod quota;
mod rbac;
mod registration;
mod resources;
mod scheduling;
mod schema;
mod schema_workloads;
mod service;
mod service_ips;
mod sets;
mod storage;
mod types;
mod util;
mod volume;
mod workloads;

use serde_json::Value;

use crate::resources::Resource;
use crate::status::Cause;

pub use admission::validate_access_review;
pub use cluster::SYSTEM_PRIORITY_CLASSES;
pub use names::NameRule;
pub use pod::semantic_eq;
pub use types::{decode_error_message, type_errors};

/// The name rule of a resource (`ValidateNameFunc` of its strategy).
pub fn name_rule(resource: &Resource) -> NameRule {
    match (resource.group, resource.kind) {
        ("", "Namespace") => NameRule::Label,
        ("", "Service") => NameRule::Dns1035,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        ("certificates.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

/// The messages of the name check of a resource (empty when the name is valid). CronJob
/// names are also limited to 52 characters.
pub fn validate_name(resource: &Resource, name: &str) -> Vec<String> {
    let mut out = names::check_name(name_rule(resource), name, false);
    if resource.kind == "CronJob" && name.len() > 52 {
        out.push("must be no more than 52 characters".to_string());
    }
    out
}

/// Validate an object on create (`old` = None) or update (`old` = the stored object).
/// Defaulting ([`crate::defaults::apply`]) is expected to have run first, as upstream
/// validates defaulted objects.
pub fn validate(resource: &Resource, obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    if let Some(c) = resource.custom {
        return dedup(crate::crd::strategy::validate(resource, c, obj, old));
    }
    let causes = match (resource.group, resource.kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            crate::crd::definition::validate(obj, old)
        }
        ("", "Pod") => match old {
            None => pod::validate_pod_create(obj),
            Some(old) => pod::validate_pod_update(obj, old),
        },
        ("", "PodTemplate") => with_meta_update(obj, old, pod::validate_pod_template(obj)),
        ("", "Service") => match old {
            None => service::validate_service(obj),
            Some(old) => service::validate_service_update(obj, old),
        },
        ("", "Endpoints") => with_meta_update(obj, old, endpoints::validate_endpoints(obj)),
        ("discovery.k8s.io", "EndpointSlice") => endpoints::validate_endpoint_slice(obj, old),
        ("", "ConfigMap") => match old {
            None => config::validate_config_map(obj),
            Some(old) => config::validate_config_map_update(obj, old),
        },
        ("", "Secret") => match old {
            None => config::validate_secret(obj),
            Some(old) => config::validate_secret_update(obj, old),
        },
        ("", "Namespace") => match old {
            None => config::validate_namespace(obj),
            Some(old) => meta::validate_object_meta_update(obj, old),
        },
        ("", "ServiceAccount") => with_meta_update(obj, old, config::validate_service_account(obj)),
        ("", "LimitRange") => with_meta_update(obj, old, quota::validate_limit_range(obj)),
        ("", "ResourceQuota") => match old {
            None => quota::validate_resource_quota(obj),
            Some(old) => quota::validate_resource_quota_update(obj, old),
        },
        ("", "PersistentVolumeClaim") => storage::validate_pvc(obj, old),
        ("", "PersistentVolume") => storage::validate_pv(obj, old),
        ("", "ReplicationController")
        | ("apps", "ReplicaSet")
        | ("apps", "Deployment")
        | ("apps", "DaemonSet")
        | ("apps", "StatefulSet") => match old {
            None => match resource.kind {
                "ReplicationController" => workloads::validate_replication_controller(obj),
                "ReplicaSet" => workloads::validate_replica_set(obj),
                "Deployment" => workloads::validate_deployment(obj),
                "DaemonSet" => sets::validate_daemon_set(obj),
                _ => sets::validate_stateful_set(obj),
            },
            Some(old) => workloads::validate_workload_update(resource.kind, obj, old),
        },
        ("apps", "ControllerRevision") => workloads::validate_controller_revision(obj, old),
        ("batch", "Job") => batch::validate_job(obj, old),
        ("batch", "CronJob") => batch::validate_cron_job(obj, old),
        ("scheduling.k8s.io", "PriorityClass") => cluster::validate_priority_class(obj, old),
        ("node.k8s.io", "RuntimeClass") => cluster::validate_runtime_class(obj, old),
        ("storage.k8s.io", "StorageClass") => cluster::validate_storage_class(obj, old),
        ("storage.k8s.io", "CSIDriver") => cluster::validate_csi_driver(obj, old),
        ("storage.k8s.io", "CSINode") => cluster::validate_csi_node(obj, old),
        ("storage.k8s.io", "CSIStorageCapacity") => {
            cluster::validate_csi_storage_capacity(obj, old)
        }
        ("storage.k8s.io", "VolumeAttachment") => cluster::validate_volume_attachment(obj, old),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema") => cluster::validate_flow_schema(obj, old),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => {
            cluster::validate_priority_level(obj, old)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            admission::validate_admission_policy(obj, old)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            admission::validate_admission_policy_binding(obj, old)
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => admission::validate_csr(obj, old),
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaling::validate_hpa(obj, old),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            registration::validate_webhook_configuration(obj, old, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            registration::validate_webhook_configuration(obj, old, true)
        }
        ("apiregistration.k8s.io", "APIService") => registration::validate_api_service(obj, old),
        _ => other::validate_other(resource, obj, old),
    };
    dedup(causes)
}

/// Validate a write to the `status` subresource (`old` is the stored object).
pub fn validate_status(resource: &Resource, obj: &Value, old: &Value) -> Vec<Cause> {
    if let Some(c) = resource.custom {
        return dedup(crate::crd::strategy::validate_status(resource, c, obj, old));
    }
    let null = Value::Null;
    let status = obj.get("status").unwrap_or(&null);
    let causes = match (resource.group, resource.kind) {
        (crate::crd::GROUP, _) => validate_meta(obj, Some(old), false, NameRule::Subdomain),
        ("", "Pod") => pod::validate_pod_status_update(obj, old),
        ("", "Service") => service::validate_service_status(obj, old),
        ("", "Namespace") => config::validate_namespace_status(obj, old),
        ("", "ResourceQuota") => quota::validate_resource_quota_status_update(obj, old),
        ("", "ReplicationController")
        | ("apps", "ReplicaSet")
        | ("apps", "Deployment")
        | ("apps", "DaemonSet")
        | ("apps", "StatefulSet") => {
            let mut out = meta::validate_object_meta_update(obj, old);
            out.extend(workloads::validate_replicas_status(resource.kind, status));
            out
        }
        ("batch", "Job") => batch::validate_job_status(obj, old),
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            let mut out = meta::validate_object_meta_update(obj, old);
            out.extend(admission::validate_csr_conditions(obj));
            out
        }
        ("storage.k8s.io", "VolumeAttachment") => meta::validate_object_meta_update(obj, old),
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaling::validate_hpa_status(obj, old),
        _ => {
            let mut out = meta::validate_object_meta_update(obj, old);
            out.extend(other::validate_conditions(status));
            out
        }
    };
    dedup(causes)
}

/// ObjectMeta validation of an object (and of its update, when `old` is given).
pub fn validate_meta(
    obj: &Value,
    old: Option<&Value>,
    namespaced: bool,
    rule: NameRule,
) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(meta::validate_object_meta_update(obj, old));
    }
    out.extend(meta::validate_object_meta(obj, namespaced, rule));
    // The apiextensions kinds get apimachinery's checks, without core's rule that a
    // finalizer name is standard or fully qualified.
    out.retain(|c| {
        !c.message
            .ends_with("name is neither a standard finalizer name nor is it fully qualified")
    });
    out
}

fn with_meta_update(obj: &Value, old: Option<&Value>, rest: Vec<Cause>) -> Vec<Cause> {
    match old {
        None => rest,
        Some(old) => {
            let mut out = meta::validate_object_meta_update(obj, old);
            out.extend(rest);
            out
        }
    }
}

/// Upstream's aggregate drops repeated messages.
fn dedup(causes: Vec<Cause>) -> Vec<Cause> {
    let mut seen = std::collections::HashSet::new();
    causes
        .into_iter()
        .filter(|c| seen.insert(c.message.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_kinds;
#[cfg(test)]
mod tests_valid;
