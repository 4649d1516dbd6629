//! Subresources that are views of their parent: `scale`, pod `binding`.

use http::Response;
use rkube_api::selector::LabelSelector;
use rkube_api::{ApiError, Cause, Resource};
use serde_json::{json, Value};

use crate::codec::Format;
use crate::handler::ScaleChange;
use crate::registry::meta::meta_str;
use crate::registry::{qualified, Registry, WriteOptions};
use crate::respond::{self, Body};

/// The autoscaling/v1 Scale of a workload or of a custom resource with a scale
/// subresource (read from its CRD's replica and selector paths).
pub fn to_scale(r: &Resource, obj: &Value) -> Value {
    let mut scale = builtin_scale(obj);
    if let Some(paths) = r.custom.and_then(|c| c.scale.as_ref()) {
        let int_at = |p: &str| {
            rkube_api::crd::columns::lookup(obj, p)
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        scale["spec"]["replicas"] = json!(int_at(&paths.spec_replicas));
        scale["status"] = json!({"replicas": int_at(&paths.status_replicas)});
        if let Some(sel) = paths
            .label_selector
            .as_deref()
            .and_then(|p| rkube_api::crd::columns::lookup(obj, p))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            scale["status"]["selector"] = json!(sel);
        }
    }
    scale
}

/// Set `spec.replicas` of the parent (for a custom resource, at its CRD's path).
fn set_replicas(r: &Resource, obj: &mut Value, replicas: i64) {
    let path = r
        .custom
        .and_then(|c| c.scale.as_ref())
        .map_or(".spec.replicas", |s| s.spec_replicas.as_str());
    let mut cur = obj;
    let parts: Vec<&str> = path.trim_start_matches('.').split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        if i + 1 == parts.len() {
            cur[*part] = json!(replicas);
            return;
        }
        cur = &mut cur[*part];
    }
}

fn builtin_scale(obj: &Value) -> Value {
    let m = obj.get("metadata").cloned().unwrap_or(json!({}));
    let mut meta = serde_json::Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = m.get(k) {
            meta.insert(k.into(), v.clone());
        }
    }
    let selector = match obj.pointer("/spec/selector") {
        // RCs have a map selector, apps/v1 a LabelSelector.
        Some(Value::Object(sel))
            if sel.contains_key("matchLabels") || sel.contains_key("matchExpressions") =>
        {
            LabelSelector::from_label_selector_json(&Value::Object(sel.clone()))
                .map(|s| s.to_string())
                .unwrap_or_default()
        }
        Some(Value::Object(sel)) => LabelSelector::from_map(sel).to_string(),
        _ => String::new(),
    };
    let mut status =
        json!({"replicas": obj.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0)});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": meta,
        "spec": {"replicas": obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0)},
        "status": status,
    })
}

/// PUT or PATCH of `/scale`: only `spec.replicas` of the parent changes.
pub async fn update_scale(
    registry: &Registry,
    r: &'static Resource,
    namespace: Option<&str>,
    name: &str,
    change: ScaleChange,
    opts: &WriteOptions,
    format: Format,
) -> Result<Response<Body>, ApiError> {
    let parent_opts = WriteOptions {
        subresource: None,
        ..opts.clone()
    };
    let written = registry
        .guaranteed_update(r, namespace, name, &parent_opts, |current| {
            let current = current.ok_or_else(|| ApiError::not_found(qualified(r), name))?;
            let scale = to_scale(r, current);
            let desired = match &change {
                ScaleChange::Replace(v) => v.clone(),
                ScaleChange::Patch(kind, p) => crate::patch::apply_patch(&scale, p, *kind, Some("io.k8s.api.autoscaling.v1.Scale"))?,
            };
            if let Some(rv) = meta_str(&desired, "resourceVersion").filter(|s| !s.is_empty()) {
                if Some(rv) != meta_str(current, "resourceVersion") {
                    return Err(ApiError::stale(qualified(r), name));
                }
            }
            let replicas = desired.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
            if replicas < 0 {
                return Err(ApiError::invalid(
                    "autoscaling",
                    "Scale",
                    name,
                    vec![Cause::new("FieldValueInvalid", format!("spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0"), "spec.replicas")],
                ));
            }
            let mut new = current.clone();
            set_replicas(r, &mut new, replicas);
            Ok(new)
        })
        .await?;
    let obj: Value = serde_json::from_slice(&written.body).unwrap_or(Value::Null);
    Ok(respond::value_response(200, &to_scale(r, &obj), format))
}

/// `POST pods/{name}/binding` or `POST bindings`: set the pod's node, once.
pub async fn bind(
    registry: &Registry,
    namespace: Option<&str>,
    binding: Value,
    opts: &WriteOptions,
) -> Result<Response<Body>, ApiError> {
    let pods = rkube_api::resources::find("", "v1", "pods").expect("pods are served");
    let name = meta_str(&binding, "name").unwrap_or("").to_string();
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if node.is_empty() {
        return Err(ApiError::invalid(
            "",
            "Binding",
            &name,
            vec![Cause::new(
                "FieldValueRequired",
                "target.name: Required value",
                "target.name",
            )],
        ));
    }
    let pod_opts = WriteOptions {
        subresource: Some("binding".into()),
        ..opts.clone()
    };
    registry
        .guaranteed_update(pods, namespace, &name, &pod_opts, |current| {
            let current = current.ok_or_else(|| ApiError::not_found(qualified(pods), &name))?;
            if crate::registry::meta::is_deleting(current) {
                return Err(ApiError::conflict(qualified(pods), &name, "pod is being deleted, cannot be assigned to a host"));
            }
            let bound = current.pointer("/spec/nodeName").and_then(Value::as_str).unwrap_or("");
            if !bound.is_empty() {
                return Err(ApiError::conflict(qualified(pods), &name, &format!("pod {name} is already assigned to node \"{bound}\"")));
            }
            let mut new = current.clone();
            new["spec"]["nodeName"] = json!(node);
            let conditions = new["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let mut conditions: Vec<Value> = conditions.into_iter().filter(|c| c["type"] != "PodScheduled").collect();
            conditions.push(json!({"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": crate::clock::now()}));
            new["status"]["conditions"] = json!(conditions);
            Ok(new)
        })
        .await?;
    Ok(respond::json_response(
        201,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
    ))
}

fn node_of(pod: &Value) -> &str {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// exec, attach and portforward reach a pod's node; the object exists (the caller looked
/// it up). A pod with no node gets upstream's 400; the streaming connections themselves
/// come with their own issue.
pub fn node_side(r: &Resource, obj: &Value, name: &str, subresource: &str) -> ApiError {
    if r.kind == "Pod" && node_of(obj).is_empty() {
        return ApiError::bad_request(format!("pod {name} does not have a host assigned"));
    }
    ApiError::service_unavailable(format!(
        "{}/{subresource} of {} \"{name}\" is not served by this apiserver yet",
        r.plural, r.singular
    ))
}
