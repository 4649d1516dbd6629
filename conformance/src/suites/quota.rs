//! ResourceQuota usage: the quota controller counts what a namespace holds, and admission
//! refuses what would exceed the quota.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::endpoints::pod;
use super::resources::pod_spec;
use super::{Ctx, Test};
use crate::cluster::Component::ControllerManager;

const WAIT: Duration = Duration::from_secs(90);

pub fn tests() -> Vec<Test> {
    let t = |name: &'static str, description: &'static str, run: super::TestFn| {
        Test::new("quota", name, description, run).needs(&[ControllerManager])
    };
    vec![
        t("promptly-calculated", "a new ResourceQuota's status gets hard and used promptly", |cx| Box::pin(promptly(cx))),
        t("configmaps", "creating and deleting a ConfigMap moves the quota's used count up and back", |cx| Box::pin(life(cx, "configmaps"))),
        t("secrets", "creating and deleting a Secret moves the quota's used count up and back", |cx| Box::pin(life(cx, "secrets"))),
        t("services", "creating and deleting a Service moves the quota's used count up and back", |cx| Box::pin(life(cx, "services"))),
        t("replicationcontrollers", "creating and deleting a ReplicationController moves the quota's used count up and back", |cx| Box::pin(life(cx, "replicationcontrollers"))),
        t("replicasets", "creating and deleting a ReplicaSet moves the quota's used count up and back", |cx| Box::pin(life(cx, "count/replicasets.apps"))),
        t("pods", "a pod's count and requests are charged; a pod over the remaining quota is refused; deleting releases", |cx| Box::pin(pods(cx))),
    ]
}

fn quota(hard: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "test-quota"}, "spec": {"hard": hard}})
}

async fn create_quota(cx: &Ctx, hard: Value) -> anyhow::Result<String> {
    let coll = cx.ns_path("", "v1", "resourcequotas");
    cx.api.post(&coll, &quota(hard)).send().await?.expect(201)?;
    Ok(format!("{coll}/test-quota"))
}

/// Wait until `status.used[key]` is `want` (None: any value); returns it.
async fn used(cx: &Ctx, path: &str, key: &str, want: Option<&str>) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let q = cx.api.get_json(path).await?;
        let value = q["status"]["used"][key].as_str().unwrap_or("").to_string();
        if !value.is_empty() && want.is_none_or(|w| w == value) {
            return Ok(value);
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "after {WAIT:?}, status.used[{key}] is {value:?}, expected {}: {}",
            want.unwrap_or("a value"),
            q["status"]
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn plus(count: &str, n: i64) -> anyhow::Result<String> {
    let c: i64 = count.parse().with_context(|| format!("a count: {count}"))?;
    Ok((c + n).to_string())
}

async fn promptly(cx: Ctx) -> anyhow::Result<()> {
    let path = create_quota(
        &cx,
        json!({"pods": "5", "services": "10", "configmaps": "10"}),
    )
    .await?;
    for key in ["pods", "services", "configmaps"] {
        used(&cx, &path, key, None).await?;
    }
    let q = cx.api.get_json(&path).await?;
    ensure!(
        q["status"]["hard"] == q["spec"]["hard"],
        "status.hard mirrors spec.hard: {}",
        q["status"]
    );
    Ok(())
}

async fn life(cx: Ctx, key: &'static str) -> anyhow::Result<()> {
    let path = create_quota(&cx, json!({ key: "10" })).await?;
    let before = used(&cx, &path, key, None).await?;
    let (coll, body) = match key {
        "configmaps" => (
            cx.ns_path("", "v1", "configmaps"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counted"}}),
        ),
        "secrets" => (
            cx.ns_path("", "v1", "secrets"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "counted"}}),
        ),
        "services" => (
            cx.ns_path("", "v1", "services"),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "counted"}, "spec": {"ports": [{"port": 80}]}}),
        ),
        "replicationcontrollers" => (
            cx.ns_path("", "v1", "replicationcontrollers"),
            json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "counted"},
            "spec": {"replicas": 0, "selector": {"q": "x"}, "template": {"metadata": {"labels": {"q": "x"}}, "spec": pod_spec()}}}),
        ),
        _ => (
            cx.ns_path("apps", "v1", "replicasets"),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "counted"},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"q": "x"}}, "template": {"metadata": {"labels": {"q": "x"}}, "spec": pod_spec()}}}),
        ),
    };
    cx.api.post(&coll, &body).send().await?.expect(201)?;
    used(&cx, &path, key, Some(&plus(&before, 1)?))
        .await
        .context("the new object is counted")?;
    cx.api
        .delete(format!("{coll}/counted"))
        .send()
        .await?
        .expect(200)?;
    used(&cx, &path, key, Some(&before))
        .await
        .context("the deleted object is released")?;
    Ok(())
}

async fn pods(cx: Ctx) -> anyhow::Result<()> {
    let path = create_quota(
        &cx,
        json!({"pods": "2", "requests.cpu": "1", "requests.memory": "500Mi"}),
    )
    .await?;
    used(&cx, &path, "pods", Some("0")).await?;
    let mut p = pod("charged", json!({}));
    p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "500m", "memory": "252Mi"}, "limits": {"cpu": "500m", "memory": "252Mi"}});
    let coll = cx.ns_path("", "v1", "pods");
    cx.api.post(&coll, &p).send().await?.expect(201)?;
    used(&cx, &path, "pods", Some("1")).await?;
    used(&cx, &path, "requests.cpu", Some("500m")).await?;
    let mut big = pod("too-big", json!({}));
    big["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "600m", "memory": "100Mi"}, "limits": {"cpu": "600m", "memory": "100Mi"}});
    let status = cx
        .api
        .post(&coll, &big)
        .send()
        .await?
        .expect_failure(403, "Forbidden")?;
    ensure!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("exceeded quota")),
        "a pod over the quota is refused as exceeding it: {status}"
    );
    cx.api
        .delete(format!("{coll}/charged"))
        .send()
        .await?
        .expect(200)?;
    used(&cx, &path, "pods", Some("0")).await?;
    used(&cx, &path, "requests.cpu", Some("0")).await?;
    Ok(())
}
