//! Workload specs as the apiserver keeps them (no controllers needed): defaults,
//! generation, immutable selectors, generated job selectors; and the controller-driven
//! behaviours, which need a controller-manager.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{self, Kind};
use super::resources::{
    pod_spec, CRONJOBS, DAEMONSETS, DEPLOYMENTS, JOBS, REPLICASETS, STATEFULSETS,
};
use super::{Ctx, Test};
use crate::client::MERGE_PATCH;
use crate::cluster::Component;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("workloads", "deployment-defaults", "a Deployment gets upstream's defaults (RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600) and generation 1", |cx| Box::pin(defaults(cx, &DEPLOYMENTS))),
        Test::new("workloads", "replicaset-defaults", "a ReplicaSet gets upstream's defaults", |cx| Box::pin(defaults(cx, &REPLICASETS))),
        Test::new("workloads", "statefulset-defaults", "a StatefulSet gets upstream's defaults (OrderedReady, RollingUpdate partition 0, Retain PVC policy)", |cx| Box::pin(defaults(cx, &STATEFULSETS))),
        Test::new("workloads", "daemonset-defaults", "a DaemonSet gets upstream's defaults (RollingUpdate maxUnavailable 1)", |cx| Box::pin(defaults(cx, &DAEMONSETS))),
        Test::new("workloads", "cronjob-defaults", "a CronJob gets upstream's defaults (Allow, history limits 3 and 1)", |cx| Box::pin(defaults(cx, &CRONJOBS))),
        Test::new("workloads", "generation", "spec changes bump metadata.generation, metadata changes do not", |cx| Box::pin(generation(cx))),
        Test::new("workloads", "selector-immutable", "apps/v1 selectors cannot change after creation", |cx| Box::pin(selector_immutable(cx))),
        Test::new("workloads", "job-selector", "a Job gets a generated selector and matching template labels", |cx| Box::pin(job_selector(cx))),
        Test::new("workloads", "deployment-rollout", "a Deployment's controller creates a ReplicaSet and reports replicas in status", |cx| Box::pin(deployment_rollout(cx)))
            .needs(&[Component::ControllerManager]),
    ]
}

async fn defaults(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let created = crud::create(&cx, kind, "defaults", json!({})).await?;
    let spec = &created["spec"];
    let expected = match kind.plural {
        "deployments" => {
            json!({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600})
        }
        "statefulsets" => json!({"podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
                                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                                 "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}}),
        "daemonsets" => json!({"revisionHistoryLimit": 10,
                               "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}}),
        "cronjobs" => {
            json!({"concurrencyPolicy": "Allow", "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1})
        }
        _ => json!({}),
    };
    crud::expect_subset(&expected, spec).with_context(|| format!("{} spec defaults", kind.kind))?;
    ensure!(
        created["metadata"]["generation"] == 1,
        "a new {} has generation 1",
        kind.kind
    );
    cx.snapshot(
        "created",
        &format!("POST {}", kind.collection("{ns}")),
        &created,
    )
}

async fn generation(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    crud::create(&cx, &DEPLOYMENTS, "gen", json!({})).await?;
    let path = DEPLOYMENTS.item(&cx.ns, "gen");
    let labelled = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"only": "metadata"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        labelled["metadata"]["generation"] == 1,
        "metadata changes keep generation: {}",
        labelled["metadata"]
    );
    let scaled = api
        .patch(&path, MERGE_PATCH, &json!({"spec": {"replicas": 2}}))
        .send()
        .await?
        .expect(200)?;
    ensure!(
        scaled["metadata"]["generation"] == 2,
        "a spec change bumps generation: {}",
        scaled["metadata"]
    );
    Ok(())
}

async fn selector_immutable(cx: Ctx) -> anyhow::Result<()> {
    for kind in [&DEPLOYMENTS, &REPLICASETS, &STATEFULSETS, &DAEMONSETS] {
        crud::create(&cx, kind, "fixed", json!({})).await?;
        let patch = json!({"spec": {"selector": {"matchLabels": {"app": "other"}},
                                     "template": {"metadata": {"labels": {"app": "other"}}}}});
        let status = cx
            .api
            .patch(kind.item(&cx.ns, "fixed"), MERGE_PATCH, &patch)
            .send()
            .await?
            .expect_failure(422, "Invalid")
            .with_context(|| format!("{} selector change", kind.kind))?;
        // StatefulSets refuse any spec change but a few fields as a whole; the others
        // name the selector.
        let (field, reason) = if kind.kind == "StatefulSet" {
            ("spec", "FieldValueForbidden")
        } else {
            ("spec.selector", "FieldValueInvalid")
        };
        let causes = status["details"]["causes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        ensure!(
            causes
                .iter()
                .any(|c| c["field"] == field && c["reason"] == reason),
            "{}: the cause is {field} ({reason}): {status}",
            kind.kind
        );
    }
    Ok(())
}

async fn job_selector(cx: Ctx) -> anyhow::Result<()> {
    let created: Value = crud::create(&cx, &JOBS, "selected", json!({})).await?;
    let uid = created["metadata"]["uid"].as_str().unwrap_or("");
    let selector = &created["spec"]["selector"]["matchLabels"];
    ensure!(
        selector["batch.kubernetes.io/controller-uid"] == uid,
        "the generated selector uses the job's uid: {}",
        created["spec"]["selector"]
    );
    let labels = &created["spec"]["template"]["metadata"]["labels"];
    ensure!(
        labels["batch.kubernetes.io/controller-uid"] == uid
            && labels["batch.kubernetes.io/job-name"] == "selected",
        "the template carries the selector's labels: {labels}"
    );
    ensure!(
        created["spec"]["completions"] == 1
            && created["spec"]["parallelism"] == 1
            && created["spec"]["backoffLimit"] == 6,
        "job defaults: {}",
        created["spec"]
    );
    cx.snapshot(
        "created",
        "POST /apis/batch/v1/namespaces/{ns}/jobs",
        &created,
    )
}

async fn deployment_rollout(cx: Ctx) -> anyhow::Result<()> {
    let mut body = DEPLOYMENTS.object(&cx.ns, "rollout", json!({}));
    body["spec"]["template"]["spec"] = pod_spec();
    cx.api
        .post(DEPLOYMENTS.collection(&cx.ns), &body)
        .send()
        .await?
        .expect(201)?;
    crud::eventually(std::time::Duration::from_secs(60), || async {
        let sets = cx.api.get_json(&REPLICASETS.collection(&cx.ns)).await?;
        let owned = crud::items(&sets).iter().any(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| {
                    o["kind"] == "Deployment" && o["name"] == "rollout" && o["controller"] == true
                })
        });
        ensure!(owned, "no ReplicaSet owned by the Deployment yet");
        let d = cx
            .api
            .get_json(&DEPLOYMENTS.item(&cx.ns, "rollout"))
            .await?;
        ensure!(
            d["status"]["observedGeneration"] == 1,
            "status.observedGeneration not 1 yet: {}",
            d["status"]
        );
        Ok(())
    })
    .await
}
