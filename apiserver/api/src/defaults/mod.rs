//! Defaulting ("strategies") of the served kinds: upstream's `SetDefaults_*` functions
//! (`pkg/apis/*/v1/defaults.go`), the v1 conversion quirks that show in responses, and
//! the parts of the registry strategies (`PrepareForCreate`/`PrepareForUpdate`) and
//! allocators that decide what `kubectl get -o yaml` shows after a write.
//!
//! - [`apply`] runs on every decoded object (create, update, and objects read back),
//!   like upstream's defaulting on decode. It is idempotent.
//! - [`prepare_for_create`] / [`prepare_for_update`] / [`prepare_for_status_update`] are
//!   the strategy hooks: status resets, generation, immutable-on-write fields.
//! - [`job_selector`] is the Job strategy's selector generation, which needs the uid.

mod autoscaling;
mod cluster;
mod kinds;
mod pod;
mod registration;
pub use pod::default_toleration_seconds;
mod service;

use serde_json::{json, Map, Value};

use crate::resources::Resource;

pub use cluster::{
    certificate_signing_request_create, certificate_signing_request_status, INSECURE_GROUPS,
    INSECURE_USER,
};
pub use pod::{pull_policy_for, qos_class};

/// Insert `key: value` when the key is absent or null.
pub(crate) fn set_default(m: &mut Map<String, Value>, key: &str, value: Value) {
    match m.get(key) {
        Some(v) if !v.is_null() => {}
        _ => {
            m.insert(key.to_string(), value);
        }
    }
}

/// `m[key]` as an object, created when absent.
pub(crate) fn obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    let m = v.as_object_mut()?;
    let e = m.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if e.is_null() {
        *e = Value::Object(Map::new());
    }
    e.as_object_mut()
}

/// `metadata.creationTimestamp: null` on an embedded object with an ObjectMeta.
pub(crate) fn template_meta_only(t: &mut Map<String, Value>) {
    pod::template_meta(t);
}

/// Apply upstream's defaults to a decoded object of `resource`.
pub fn apply(resource: &Resource, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    apply_kind(resource, obj);
    // An object without a status gets the status it has after create (on updates the
    // stored status is restored by `prepare_for_update`).
    if obj.get("status").is_none_or(Value::is_null) {
        if let Some(st) = initial_status(resource, obj) {
            if let Some(m) = obj.as_object_mut() {
                m.insert("status".into(), st);
            }
        }
    }
}

fn apply_kind(resource: &Resource, obj: &mut Value) {
    if let Some(c) = resource.custom {
        crate::crd::strategy::normalize(c, obj);
        return;
    }
    match (resource.group, resource.kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            crate::crd::definition::apply_defaults(obj)
        }
        ("", "Pod") => pod::pod(obj),
        ("", "PodTemplate") => {
            if let Some(t) = obj.get_mut("template") {
                pod::pod_template(t);
            } else if let Some(m) = obj.as_object_mut() {
                let mut t = json!({});
                pod::pod_template(&mut t);
                m.insert("template".into(), t);
            }
        }
        ("", "ReplicationController") => kinds::replication_controller(obj),
        ("apps", "ReplicaSet") => kinds::replica_set(obj),
        ("apps", "Deployment") => kinds::deployment(obj),
        ("apps", "DaemonSet") => kinds::daemon_set(obj),
        ("apps", "StatefulSet") => kinds::stateful_set(obj),
        ("batch", "Job") => kinds::job(obj),
        ("batch", "CronJob") => kinds::cron_job(obj),
        ("", "Service") => {
            service::service(obj);
            service::service_create(obj);
        }
        ("", "Namespace") => kinds::namespace(obj),
        ("", "Secret") => kinds::secret(obj),
        ("", "PersistentVolumeClaim") => kinds::pvc(obj),
        ("", "PersistentVolume") => kinds::pv(obj),
        ("", "Endpoints") => kinds::endpoints(obj),
        ("", "Node") => kinds::node(obj),
        ("", "LimitRange") => kinds::limit_range(obj),
        ("discovery.k8s.io", "EndpointSlice") => kinds::endpoint_slice(obj),
        ("networking.k8s.io", "NetworkPolicy") => kinds::network_policy(obj),
        ("rbac.authorization.k8s.io", "RoleBinding")
        | ("rbac.authorization.k8s.io", "ClusterRoleBinding") => kinds::role_binding(obj),
        ("scheduling.k8s.io", "PriorityClass") => cluster::priority_class(obj),
        ("storage.k8s.io", "StorageClass") => cluster::storage_class(obj),
        ("storage.k8s.io", "CSIDriver") => cluster::csi_driver(obj),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema") => cluster::flow_schema(obj),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration") => {
            cluster::priority_level(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            cluster::validating_admission_policy(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            cluster::validating_admission_policy_binding(obj)
        }
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            cluster::certificate_signing_request(obj)
        }
        ("autoscaling", "HorizontalPodAutoscaler") => autoscaling::horizontal_pod_autoscaler(obj),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            registration::webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            registration::webhook_configuration(obj, true)
        }
        ("apiregistration.k8s.io", "APIService") => registration::api_service(obj),
        _ => {}
    }
}

/// The Job strategy's selector generation (when `spec.manualSelector` is not true): adds
/// `batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name`,
/// `controller-uid` and `job-name` to the pod template labels and selects
/// `batch.kubernetes.io/controller-uid`. Call at create with the object's uid (after
/// `metadata.uid` and `metadata.name` are set). Also copies the template labels to the
/// Job's own labels when it has none, as defaulting does when the Job is read back.
pub fn job_selector(obj: &mut Value, uid: &str) {
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let manual = obj
        .get("spec")
        .and_then(|s| s.get("manualSelector"))
        .and_then(Value::as_bool)
        == Some(true);
    if !manual {
        let Some(spec) = obj_mut(obj, "spec") else {
            return;
        };
        let template = spec
            .entry("template")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(labels) = obj_mut(template, "metadata").and_then(|m| {
            let l = m
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if l.is_null() {
                *l = Value::Object(Map::new());
            }
            l.as_object_mut()
        }) else {
            return;
        };
        for (k, v) in [
            ("batch.kubernetes.io/controller-uid", uid),
            ("batch.kubernetes.io/job-name", name.as_str()),
            ("controller-uid", uid),
            ("job-name", name.as_str()),
        ] {
            labels.entry(k).or_insert_with(|| json!(v));
        }
        let sel = spec.entry("selector").or_insert_with(|| json!({}));
        if sel.is_null() {
            *sel = json!({});
        }
        if let Some(ml) = obj_mut(sel, "matchLabels") {
            ml.entry("batch.kubernetes.io/controller-uid")
                .or_insert_with(|| json!(uid));
        }
    }
    kinds::job_labels_from_template(obj);
}

fn has_generation(resource: &Resource) -> bool {
    matches!(
        (resource.group, resource.kind),
        ("", "ReplicationController")
            | ("apps", _)
            | ("batch", _)
            | ("policy", "PodDisruptionBudget")
            | ("networking.k8s.io", "NetworkPolicy")
            | ("networking.k8s.io", "Ingress")
            | ("networking.k8s.io", "IngressClass")
            | ("flowcontrol.apiserver.k8s.io", _)
            | ("admissionregistration.k8s.io", _)
    ) && resource.kind != "ControllerRevision"
}

/// The status an object of `resource` has right after create (the strategies reset the
/// status; some kinds start with a phase or zero counters).
pub fn initial_status(resource: &Resource, obj: &Value) -> Option<Value> {
    match (resource.group, resource.kind) {
        ("", "Pod") => {
            let qos = obj.get("spec").map(pod::qos_class).unwrap_or("BestEffort");
            Some(json!({"phase": "Pending", "qosClass": qos}))
        }
        ("", "ReplicationController") | ("apps", "ReplicaSet") => Some(json!({"replicas": 0})),
        ("apps", "StatefulSet") => Some(json!({"replicas": 0, "availableReplicas": 0})),
        ("apps", "DaemonSet") => Some(json!({
            "currentNumberScheduled": 0,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 0,
            "numberReady": 0
        })),
        ("apps", "Deployment") | ("batch", _) | ("", "ResourceQuota") => Some(json!({})),
        ("", "Service") | ("networking.k8s.io", "Ingress") => Some(json!({"loadBalancer": {}})),
        ("", "Namespace") => Some(json!({"phase": "Active"})),
        ("", "PersistentVolumeClaim") | ("", "PersistentVolume") => {
            Some(json!({"phase": "Pending"}))
        }
        ("flowcontrol.apiserver.k8s.io", _)
        | ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy")
        | ("certificates.k8s.io", "CertificateSigningRequest") => Some(json!({})),
        ("storage.k8s.io", "VolumeAttachment") => Some(json!({"attached": false})),
        // autoscaling/v2's status: currentMetrics has no omitempty, desiredReplicas is a
        // plain int32.
        ("autoscaling", "HorizontalPodAutoscaler") => {
            Some(json!({"currentMetrics": null, "desiredReplicas": 0}))
        }
        ("apiregistration.k8s.io", "APIService") => Some(json!({})),
        ("policy", "PodDisruptionBudget") => Some(json!({
            "disruptionsAllowed": 0,
            "currentHealthy": 0,
            "desiredHealthy": 0,
            "expectedPods": 0
        })),
        _ => None,
    }
}

/// The create-time part of the strategies: status reset (and the initial status some
/// kinds get), `metadata.generation: 1`, the namespace finalizer, Service clusterIPs.
pub fn prepare_for_create(resource: &Resource, obj: &mut Value) {
    if let Some(c) = resource.custom {
        return crate::crd::strategy::prepare_create(c, obj);
    }
    if resource.group == crate::crd::GROUP {
        return crate::crd::definition::prepare_create(obj);
    }
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    if has_generation(resource) {
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("generation".into(), json!(1));
        }
    }
    if let Some(st) = initial_status(resource, &Value::Object(m.clone())) {
        m.insert("status".into(), st);
    }
    match (resource.group, resource.kind) {
        ("", "Namespace") => {
            let spec = m.entry("spec").or_insert_with(|| json!({}));
            if let Some(sm) = spec.as_object_mut() {
                let fin = sm.entry("finalizers").or_insert_with(|| json!([]));
                if let Some(list) = fin.as_array_mut() {
                    if !list.iter().any(|f| f == "kubernetes") {
                        list.push(json!("kubernetes"));
                    }
                } else {
                    *fin = json!(["kubernetes"]);
                }
            }
        }
        ("", "Service") => service::service_create(obj),
        _ => {}
    }
}

/// The update-time part of the strategies for writes to the main resource: status is
/// kept from the stored object, `metadata.generation` bumps when the spec changes, and
/// kind-specific fields that cannot be changed through the main resource are restored.
pub fn prepare_for_update(resource: &Resource, obj: &mut Value, old: &Value) {
    if let Some(c) = resource.custom {
        return crate::crd::strategy::prepare_update(c, obj, old);
    }
    if resource.group == crate::crd::GROUP {
        return crate::crd::definition::prepare_update(obj, old);
    }
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    // Kinds with a status subresource keep the stored status on main-resource writes.
    let keeps_status = resource.subresource("status").is_some();
    if keeps_status {
        match old.get("status") {
            Some(st) => m.insert("status".into(), st.clone()),
            None => m.remove("status"),
        };
    }
    if has_generation(resource) {
        let old_gen = old
            .get("metadata")
            .and_then(|md| md.get("generation"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        // Webhook configurations have no spec: their webhooks are what the generation
        // follows.
        let spec_key = if resource.kind.ends_with("WebhookConfiguration") {
            "webhooks"
        } else {
            "spec"
        };
        let changed = !crate::validation::semantic_eq(
            m.get(spec_key).unwrap_or(&Value::Null),
            old.get(spec_key).unwrap_or(&Value::Null),
        );
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert(
                "generation".into(),
                json!(if changed { old_gen + 1 } else { old_gen }),
            );
        }
    }
    match (resource.group, resource.kind) {
        ("", "Namespace") => {
            if let Some(f) = old.get("spec").and_then(|s| s.get("finalizers")) {
                if let Some(spec) = obj_mut(obj, "spec") {
                    spec.insert("finalizers".into(), f.clone());
                }
            }
        }
        ("", "Service") => service::service_update(obj, old),
        // A request's spec is fixed once made; only its status subresources change.
        ("certificates.k8s.io", "CertificateSigningRequest") => {
            if let (Some(m), Some(spec)) = (obj.as_object_mut(), old.get("spec")) {
                m.insert("spec".into(), spec.clone());
            }
        }
        _ => {}
    }
}

/// The status-subresource strategy: the spec is kept from the stored object, and so are
/// the server-managed metadata fields (and a Deployment's labels, a Pod's owner
/// references).
pub fn prepare_for_status_update(resource: &Resource, obj: &mut Value, old: &Value) {
    if resource.custom.is_some() {
        return crate::crd::strategy::prepare_status_update(obj, old);
    }
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    let spec_key = if resource.kind == "Namespace" || resource.kind == "Node" {
        None
    } else {
        Some("spec")
    };
    if let Some(k) = spec_key {
        match old.get(k) {
            Some(v) => m.insert(k.into(), v.clone()),
            None => m.remove(k),
        };
    }
    if let (Some(meta), Some(old_meta)) = (
        m.get_mut("metadata").and_then(Value::as_object_mut),
        old.get("metadata").and_then(Value::as_object),
    ) {
        // Upstream's status strategies reset the spec and the server-managed fields;
        // metadata a client may set stays writable, except Deployment labels and Pod
        // owner references (which old kubelets corrupted).
        let mut kept = vec!["generation", "deletionTimestamp"];
        match (resource.group, resource.kind) {
            ("apps", "Deployment") => kept.push("labels"),
            ("", "Pod") => kept.push("ownerReferences"),
            _ => {}
        }
        for k in kept {
            match old_meta.get(k) {
                Some(v) => meta.insert(k.into(), v.clone()),
                None => meta.remove(k),
            };
        }
    }
}

#[cfg(test)]
mod tests;
