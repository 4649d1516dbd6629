//! Namespaces: their own lifecycle (labels, update, finalize, status), the refusal of
//! new content while terminating, and the removal of content on deletion.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{self, eventually};
use super::endpoints::pod;
use super::{Ctx, Test};
use crate::client::MERGE_PATCH;
use crate::cluster::Component;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("namespaces", "lifecycle", "a namespace is created Active with its name label and the kubernetes finalizer; patch, update, /finalize and /status changes are visible; delete marks it Terminating", |cx| Box::pin(lifecycle(cx))),
        Test::new("namespaces", "terminating-refuses-content", "while a namespace terminates, creating in it is Forbidden", |cx| Box::pin(terminating_refuses_content(cx))),
        Test::new("namespaces", "deletion-removes-pods", "deleting a namespace removes its pods, then the namespace", |cx| Box::pin(deletion_removes(cx, "pods")))
            .needs(&[Component::ControllerManager]),
        Test::new("namespaces", "deletion-removes-services", "deleting a namespace removes its services, then the namespace", |cx| Box::pin(deletion_removes(cx, "services")))
            .needs(&[Component::ControllerManager]),
    ]
}

/// Create a namespace named after the test's, deleted when the test ends.
async fn child(cx: &Ctx, suffix: &str) -> anyhow::Result<(String, Value)> {
    let name = format!("{}-{suffix}", cx.ns);
    let path = format!("/api/v1/namespaces/{name}");
    cx.delete_afterwards(path.clone());
    let created = cx
        .api
        .post(
            "/api/v1/namespaces",
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .send()
        .await?
        .expect(201)?;
    Ok((path, created))
}

async fn lifecycle(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let (path, created) = child(&cx, "life").await?;
    let name = created["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    ensure!(
        created["status"]["phase"] == "Active",
        "a new namespace is Active: {created}"
    );
    ensure!(
        created["metadata"]["labels"]["kubernetes.io/metadata.name"] == name.as_str(),
        "the kubernetes.io/metadata.name label is set: {}",
        created["metadata"]
    );
    ensure!(
        created["spec"]["finalizers"] == json!(["kubernetes"]),
        "spec.finalizers: {}",
        created["spec"]
    );
    cx.snapshot("created", "POST /api/v1/namespaces", &created)?;

    let patched = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"testLabel": "testValue"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched["metadata"]["labels"]["testLabel"] == "testValue",
        "patched label: {}",
        patched["metadata"]
    );
    let mut update = patched.clone();
    update["metadata"]["annotations"] = json!({"updated": "yes"});
    let updated = api.put(&path, &update).send().await?.expect(200)?;
    ensure!(updated["metadata"]["annotations"]["updated"] == "yes");

    let mut fin = updated.clone();
    fin["spec"]["finalizers"] = json!(["kubernetes", "e2e.example.com/fakeFinalizer"]);
    let finalized = api
        .put(format!("{path}/finalize"), &fin)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        finalized["spec"]["finalizers"] == json!(["kubernetes", "e2e.example.com/fakeFinalizer"]),
        "PUT /finalize sets spec.finalizers: {}",
        finalized["spec"]
    );
    let mut unfin = finalized.clone();
    unfin["spec"]["finalizers"] = json!(["kubernetes"]);
    let back = api
        .put(format!("{path}/finalize"), &unfin)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        back["spec"]["finalizers"] == json!(["kubernetes"]),
        "the fake finalizer is removed"
    );
    // Finalizers change only through /finalize.
    let mut sneaky = back.clone();
    sneaky["spec"]["finalizers"] = json!(["kubernetes", "e2e.example.com/sneaky"]);
    let ignored = api.put(&path, &sneaky).send().await?.expect(200)?;
    ensure!(
        ignored["spec"]["finalizers"] == json!(["kubernetes"]),
        "a PUT to the namespace leaves spec.finalizers: {}",
        ignored["spec"]
    );

    let condition = json!({"type": "StatusUpdate", "status": "True", "reason": "E2E", "message": "Set from an e2e test"});
    let status = api
        .patch(
            format!("{path}/status"),
            MERGE_PATCH,
            &json!({"status": {"conditions": [condition]}}),
        )
        .send()
        .await?
        .expect(200)?;
    crud::expect_subset(
        &json!({"phase": "Active", "conditions": [condition]}),
        &status["status"],
    )
    .context("PATCH /status")?;
    let mut st = status.clone();
    st["status"]["conditions"][0]["message"] = json!("Updated by an e2e test");
    let put = api
        .put(format!("{path}/status"), &st)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        put["status"]["conditions"][0]["message"] == "Updated by an e2e test",
        "PUT /status: {}",
        put["status"]
    );

    let deleted = api.delete(&path).send().await?;
    ensure!(
        deleted.status == 200 || deleted.status == 202,
        "DELETE {path}: {}",
        deleted.status
    );
    let body = deleted.json()?;
    if body["kind"] == "Namespace" {
        ensure!(
            body["status"]["phase"] == "Terminating"
                && body["metadata"]["deletionTimestamp"].is_string(),
            "a deleted namespace answers Terminating with a deletionTimestamp: {body}"
        );
    }
    Ok(())
}

async fn terminating_refuses_content(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let (path, _) = child(&cx, "ending").await?;
    api.patch(
        &path,
        MERGE_PATCH,
        &json!({"metadata": {"finalizers": ["rkube.io/conformance-hold"]}}),
    )
    .send()
    .await?
    .expect(200)?;
    let checks = async {
        api.delete(&path).send().await?;
        let ns = api.get_json(&path).await?;
        ensure!(
            ns["status"]["phase"] == "Terminating",
            "a held namespace stays Terminating: {}",
            ns["status"]
        );
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}});
        let name = path.rsplit('/').next().unwrap_or("");
        let status = api
            .post(format!("{path}/configmaps"), &cm)
            .send()
            .await?
            .expect_failure(403, "Forbidden")?;
        ensure!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("because it is being terminated")),
            "upstream's message: {status}"
        );
        ensure!(
            status["details"]["name"] == "late" || status["details"]["name"] == name,
            "{status}"
        );
        cx.snapshot(
            "status",
            "POST /api/v1/namespaces/{ns}-ending/configmaps (terminating)",
            &status,
        )
    }
    .await;
    // Let go whatever happened, so the namespace can finish.
    api.patch(
        &path,
        MERGE_PATCH,
        &json!({"metadata": {"finalizers": null}}),
    )
    .send()
    .await?;
    checks
}

async fn deletion_removes(cx: Ctx, plural: &'static str) -> anyhow::Result<()> {
    let api = &cx.api;
    let (path, _) = child(&cx, "doomed").await?;
    let body: Value = if plural == "pods" {
        pod("inside", json!({"app": "rkc"}))
    } else {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "inside"},
               "spec": {"ports": [{"port": 80}], "selector": {"app": "rkc"}}})
    };
    api.post(format!("{path}/{plural}"), &body)
        .send()
        .await?
        .expect(201)?;
    api.delete(&path).send().await?;
    eventually(Duration::from_secs(120), || async {
        let r = api.get(&path).send().await?;
        ensure!(
            r.status == 404,
            "the namespace is still there ({})",
            r.status
        );
        Ok(())
    })
    .await?;
    let r = api.get(format!("{path}/{plural}/inside")).send().await?;
    ensure!(
        r.status == 404,
        "the {plural} went with the namespace, got {}",
        r.status
    );
    Ok(())
}
