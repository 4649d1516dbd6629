//! The horizontalpodautoscaling controller, as far as it goes without a metrics API: the
//! cluster serves no `metrics.k8s.io` (nor custom or external metrics), so no HPA can
//! compute a replica count and none ever scales. What upstream's controller reports in
//! that case is reported here: `AbleToScale` from reading the target's `scale`
//! subresource, `ScalingActive=False` with the reason of the metric that could not be
//! fetched (or `ScalingDisabled` for a target at zero replicas), and the target's
//! current replica count, with upstream's Warning events. Every HPA is looked at again
//! every 15 s, upstream's `--horizontal-pod-autoscaler-sync-period`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, TryStreamExt};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{applier, Action, Config};
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector;
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Resource as _, ResourceExt};
use serde_json::{json, Value};

use crate::queue::{self, Retries, SyncError};

const SYNC_PERIOD: Duration = Duration::from_secs(15);

struct Context {
    client: kube::Client,
    retries: Retries,
    events: Recorder,
}

pub async fn run(client: kube::Client) {
    let (store, writer) = reflector::store();
    let triggers = reflector::reflector(
        writer,
        watcher(
            Api::<HorizontalPodAutoscaler>::all(client.clone()),
            Default::default(),
        ),
    )
    .default_backoff()
    .applied_objects()
    .map_ok(|hpa| reflector::ObjectRef::from(&hpa));
    let reporter = Reporter {
        controller: "horizontal-pod-autoscaler".into(),
        instance: None,
    };
    let context = Arc::new(Context {
        events: Recorder::new(client.clone(), reporter),
        client,
        retries: Retries::default(),
    });
    let results = applier(
        |hpa, ctx| reconcile(hpa, ctx).boxed(),
        |hpa, _, ctx| ctx.retries.failed(queue::key_of(hpa.as_ref())),
        context,
        store,
        triggers,
        Config::default(),
    );
    queue::drive("horizontal-pod-autoscaler-controller", results).await;
}

async fn reconcile(
    hpa: Arc<HorizontalPodAutoscaler>,
    ctx: Arc<Context>,
) -> Result<Action, SyncError> {
    sync(&hpa, &ctx).await?;
    ctx.retries.forget(&queue::key_of(hpa.as_ref()));
    Ok(Action::requeue(SYNC_PERIOD))
}

/// The `scale` subresource path of the scalable kinds rkube serves.
fn scale_path(ns: &str, api_version: &str, kind: &str, name: &str) -> Option<String> {
    let plural = match kind {
        "Deployment" => "deployments",
        "ReplicaSet" => "replicasets",
        "StatefulSet" => "statefulsets",
        "ReplicationController" => "replicationcontrollers",
        _ => return None,
    };
    let prefix = if api_version == "v1" || api_version.is_empty() {
        "/api/v1".to_string()
    } else {
        format!("/apis/{api_version}")
    };
    Some(format!("{prefix}/namespaces/{ns}/{plural}/{name}/scale"))
}

/// The message of the first metric the HPA cannot get, with upstream's reason.
fn metric_failure(metric: Option<&Value>) -> (&'static str, String) {
    let kind = metric
        .and_then(|m| m["type"].as_str())
        .unwrap_or("Resource");
    match kind {
        "Resource" | "ContainerResource" => {
            let key = if kind == "Resource" { "resource" } else { "containerResource" };
            let name = metric.and_then(|m| m[key]["name"].as_str()).unwrap_or("cpu");
            let reason = if kind == "Resource" {
                "FailedGetResourceMetric"
            } else {
                "FailedGetContainerResourceMetric"
            };
            (
                reason,
                format!(
                    "failed to get {name} utilization: unable to get metrics for resource {name}: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
                ),
            )
        }
        "Pods" => ("FailedGetPodsMetric", "unable to get metric: the server could not find the requested resource (get custom.metrics.k8s.io)".into()),
        "Object" => ("FailedGetObjectMetric", "unable to get metric: the server could not find the requested resource (get custom.metrics.k8s.io)".into()),
        _ => ("FailedGetExternalMetric", "unable to get external metric: the server could not find the requested resource (get external.metrics.k8s.io)".into()),
    }
}

fn condition(kind: &str, ok: bool, reason: &str, message: &str, old: &[Value], now: &str) -> Value {
    let status = if ok { "True" } else { "False" };
    let since = old
        .iter()
        .find(|c| c["type"] == kind && c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or(now);
    json!({"type": kind, "status": status, "lastTransitionTime": since, "reason": reason, "message": message})
}

async fn sync(hpa: &HorizontalPodAutoscaler, ctx: &Context) -> Result<(), SyncError> {
    let ns = hpa.namespace().unwrap_or_default();
    let name = hpa.name_any();
    let spec = serde_json::to_value(&hpa.spec).unwrap_or(Value::Null);
    let status = serde_json::to_value(&hpa.status).unwrap_or(Value::Null);
    let old: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let now = k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let target = &spec["scaleTargetRef"];
    let (kind, target_name) = (
        target["kind"].as_str().unwrap_or(""),
        target["name"].as_str().unwrap_or(""),
    );
    let scale = match scale_path(
        &ns,
        target["apiVersion"].as_str().unwrap_or(""),
        kind,
        target_name,
    ) {
        Some(path) => {
            let req = http::Request::get(&path)
                .body(Vec::new())
                .map_err(|e| SyncError::Other(e.to_string()))?;
            ctx.client.request::<Value>(req).await.map_err(|e| match e {
                kube::Error::Api(s) => s.message,
                e => e.to_string(),
            })
        }
        None => Err(format!(
            "no matches for kind {kind:?} in group {:?}",
            target["apiVersion"].as_str().unwrap_or("")
        )),
    };
    let mut current_replicas = status["currentReplicas"].as_i64().unwrap_or(0);
    let mut events: Vec<(&str, String)> = Vec::new();
    let conditions = match scale {
        Err(e) => {
            events.push(("FailedGetScale", e.clone()));
            vec![condition(
                "AbleToScale",
                false,
                "FailedGetScale",
                &format!("the HPA controller was unable to get the target's current scale: {e}"),
                &old,
                &now,
            )]
        }
        Ok(scale) => {
            current_replicas = scale["status"]["replicas"].as_i64().unwrap_or(0);
            let able = condition(
                "AbleToScale",
                true,
                "SucceededGetScale",
                "the HPA controller was able to get the target's current scale",
                &old,
                &now,
            );
            let min = spec["minReplicas"].as_i64().unwrap_or(1);
            let active = if current_replicas == 0 && min != 0 {
                condition(
                    "ScalingActive",
                    false,
                    "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero",
                    &old,
                    &now,
                )
            } else {
                let metrics = spec["metrics"].as_array().map_or(0, Vec::len).max(1);
                let (reason, error) =
                    metric_failure(spec["metrics"].as_array().and_then(|m| m.first()));
                let resource = spec
                    .pointer("/metrics/0/resource/name")
                    .and_then(Value::as_str)
                    .unwrap_or("cpu");
                events.push((reason, error.clone()));
                events.push((
                    "FailedComputeMetricsReplicas",
                    format!("invalid metrics ({metrics} invalid out of {metrics}), first error is: failed to get {resource} resource metric value: {error}"),
                ));
                let message = format!("the HPA was unable to compute the replica count: {error}");
                condition("ScalingActive", false, reason, &message, &old, &now)
            };
            vec![able, active]
        }
    };
    let reference = hpa.object_ref(&());
    for (reason, note) in events {
        let event = Event {
            type_: EventType::Warning,
            reason: reason.into(),
            note: Some(note),
            action: "ComputeReplicas".into(),
            secondary: None,
        };
        if let Err(e) = ctx.events.publish(&event, &reference).await {
            tracing::debug!("event for HPA {ns}/{name}: {e}");
        }
    }
    let unchanged =
        old == conditions && status["currentReplicas"].as_i64().unwrap_or(0) == current_replicas;
    if unchanged {
        return Ok(());
    }
    let desired = status["desiredReplicas"].as_i64().unwrap_or(0);
    let patch = json!({"status": {"currentReplicas": current_replicas, "desiredReplicas": desired, "conditions": conditions}});
    let api: Api<HorizontalPodAutoscaler> = Api::namespaced(ctx.client.clone(), &ns);
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if queue::api_code(&e) == Some(404) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
