//! apiregistration.k8s.io APIServices, as kube-aggregator keeps them: one local
//! APIService per served group-version (`v1.`, `v1.apps`, …) with upstream's priorities,
//! created at start and kept in step with what is served; and an `Available` condition
//! on every APIService. Aggregation (proxying to a service's API server) is not built, so
//! an APIService that points at a service is never reported available.

use std::sync::Arc;
use std::time::Duration;

use rkube_api::resources::{self, Resource};
use rkube_api::ApiError;
use serde_json::{json, Value};

use crate::registry::{ListOptions, Registry, WriteOptions};
use crate::ApiServer;

/// kube-aggregator's label on the APIServices it manages: `onstart` for the built-in
/// group-versions, `true` for those of CustomResourceDefinitions.
const AUTOMANAGED: &str = "kube-aggregator.kubernetes.io/automanaged";

/// How often availability and the local set are reconciled.
const RECONCILE_INTERVAL: Duration = Duration::from_secs(2);

/// Upstream's `apiVersionPriorities` (kube-apiserver's aggregator.go and the generic
/// control plane's defaults): group priority minimum and version priority.
const PRIORITIES: &[(&str, &str, i64, i64)] = &[
    ("", "v1", 18000, 1),
    ("apiregistration.k8s.io", "v1", 18000, 15),
    ("apps", "v1", 17800, 15),
    ("events.k8s.io", "v1", 17750, 15),
    ("authentication.k8s.io", "v1", 17700, 15),
    ("authorization.k8s.io", "v1", 17600, 15),
    ("autoscaling", "v1", 17500, 15),
    ("autoscaling", "v2", 17500, 30),
    ("batch", "v1", 17400, 15),
    ("certificates.k8s.io", "v1", 17300, 15),
    ("networking.k8s.io", "v1", 17200, 15),
    ("policy", "v1", 17100, 15),
    ("rbac.authorization.k8s.io", "v1", 17000, 15),
    ("storage.k8s.io", "v1", 16800, 15),
    ("apiextensions.k8s.io", "v1", 16700, 15),
    ("admissionregistration.k8s.io", "v1", 16700, 15),
    ("scheduling.k8s.io", "v1", 16600, 15),
    ("coordination.k8s.io", "v1", 16500, 15),
    ("node.k8s.io", "v1", 16300, 15),
    ("discovery.k8s.io", "v1", 16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1", 16100, 21),
];

/// What upstream's CRD registration controller gives a CustomResourceDefinition's
/// group-version: low group priority, kube-like version ordering.
const CRD_PRIORITY: (i64, i64) = (1000, 100);

fn api_services() -> &'static Resource {
    resources::find("apiregistration.k8s.io", "v1", "apiservices").expect("apiservices are served")
}

/// A group-version served by this apiserver itself, and whether it is built in (else it
/// comes from a CustomResourceDefinition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalGroupVersion {
    pub group: String,
    pub version: String,
    pub built_in: bool,
}

impl LocalGroupVersion {
    fn name(&self) -> String {
        format!("{}.{}", self.version, self.group)
    }
}

/// The built-in group-versions. CustomResourceDefinitions' group-versions join through
/// [`sync_local`]'s `extra` (what the CRD registry serves).
pub fn built_in_group_versions() -> Vec<LocalGroupVersion> {
    resources::group_versions()
        .into_iter()
        .map(|gv| LocalGroupVersion {
            group: gv.group.to_string(),
            version: gv.version.to_string(),
            built_in: true,
        })
        .collect()
}

fn local_api_service(gv: &LocalGroupVersion) -> Value {
    let (group_min, version_priority) = PRIORITIES
        .iter()
        .find(|(g, v, _, _)| *g == gv.group && *v == gv.version)
        .map(|(_, _, g, v)| (*g, *v))
        .unwrap_or(CRD_PRIORITY);
    let label = if gv.built_in { "onstart" } else { "true" };
    json!({
        "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": gv.name(), "labels": {AUTOMANAGED: label}},
        "spec": {"group": gv.group, "version": gv.version,
                 "groupPriorityMinimum": group_min, "versionPriority": version_priority},
    })
}

fn opts(status: bool) -> WriteOptions {
    WriteOptions {
        subresource: status.then(|| "status".to_string()),
        ..WriteOptions::default()
    }
}

async fn list_api_services(reg: &Registry) -> Result<Vec<Value>, ApiError> {
    let listed = reg
        .list(api_services(), None, &ListOptions::default())
        .await?;
    Ok(listed
        .items
        .iter()
        .filter_map(|b| serde_json::from_slice(b).ok())
        .collect())
}

/// Make the local APIServices exactly `served` plus `extra`: create the missing ones,
/// and delete the automanaged ones whose group-version is no longer served (a deleted
/// CustomResourceDefinition's). User-created APIServices are left alone.
pub async fn sync_local(reg: &Registry, extra: &[LocalGroupVersion]) -> Result<(), ApiError> {
    let r = api_services();
    let mut wanted = built_in_group_versions();
    wanted.extend(extra.iter().cloned());
    let existing = list_api_services(reg).await?;
    for gv in &wanted {
        let name = gv.name();
        if existing
            .iter()
            .any(|o| o.pointer("/metadata/name") == Some(&json!(name)))
        {
            continue;
        }
        match reg
            .create(r, None, local_api_service(gv), &opts(false))
            .await
        {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    for o in &existing {
        let name = o
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let managed = o.pointer(&format!(
            "/metadata/labels/{}",
            AUTOMANAGED.replace('/', "~1")
        ));
        if managed.is_none() || wanted.iter().any(|gv| gv.name() == name) {
            continue;
        }
        let delete = crate::registry::DeleteOptions::default();
        match reg.delete(r, None, name, &delete).await {
            Ok(_) => {}
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The `Available` condition an APIService should have: always for a local one; never
/// for one backed by a service, since rkube does not proxy to aggregated API servers —
/// with upstream's reason when the service is missing, else saying what is missing.
async fn availability(reg: &Registry, api_service: &Value) -> (bool, &'static str, String) {
    let Some(svc) = api_service
        .pointer("/spec/service")
        .filter(|s| !s.is_null())
    else {
        return (
            true,
            "Local",
            "Local APIServices are always available".into(),
        );
    };
    let ns = svc.get("namespace").and_then(Value::as_str).unwrap_or("");
    let name = svc.get("name").and_then(Value::as_str).unwrap_or("");
    let services = resources::find("", "v1", "services").expect("services are served");
    if reg.get(services, Some(ns), name).await.is_err() {
        return (
            false,
            "ServiceNotFound",
            format!("service/{name} in \"{ns}\" is not present"),
        );
    }
    (
        false,
        "FailedDiscoveryCheck",
        format!(
            "no discovery check was made: rkube does not proxy to aggregated API servers (service/{name} in \"{ns}\")"
        ),
    )
}

/// Put the `Available` condition right on every APIService, touching only those whose
/// condition changes.
pub async fn sync_availability(reg: &Registry) -> Result<(), ApiError> {
    let r = api_services();
    for o in list_api_services(reg).await? {
        let name = o
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let (available, reason, message) = availability(reg, &o).await;
        let status = if available { "True" } else { "False" };
        let current = o
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"));
        if current.is_some_and(|c| {
            c["status"] == status && c["reason"] == reason && c["message"] == message.as_str()
        }) {
            continue;
        }
        let transition = match current {
            Some(c) if c["status"] == status => c["lastTransitionTime"].clone(),
            _ => json!(crate::clock::now()),
        };
        let condition = json!({"type": "Available", "status": status, "lastTransitionTime": transition,
                               "reason": reason, "message": message});
        let result = reg
            .guaranteed_update(r, None, &name, &opts(true), |cur| {
                let mut obj = cur
                    .cloned()
                    .ok_or_else(|| ApiError::not_found(crate::registry::qualified(r), &name))?;
                let mut conditions: Vec<Value> = obj
                    .pointer("/status/conditions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                conditions.retain(|c| c["type"] != "Available");
                conditions.push(condition.clone());
                obj["status"] = json!({"conditions": conditions});
                Ok(obj)
            })
            .await;
        match result {
            Ok(_) => {}
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Keep the local APIServices and every APIService's availability up to date while the
/// apiserver runs.
pub fn keep_in_step(server: Arc<ApiServer>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECONCILE_INTERVAL).await;
            let reg = &server.registry;
            let extra = crate::crd_group_versions(&server).await;
            if let Err(e) = sync_local(reg, &extra).await {
                tracing::warn!("APIServices: {e}");
            }
            if let Err(e) = sync_availability(reg).await {
                tracing::warn!("APIService availability: {e}");
            }
        }
    });
}
