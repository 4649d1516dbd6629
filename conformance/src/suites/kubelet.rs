//! The kubelet's endpoints, reached through `/api/v1/nodes/{node}/proxy/...`: pods,
//! stats, spec, runningpods, metrics, logs, and the debugging handlers (run, exec,
//! attach, portForward).

use anyhow::{ensure, Context as _};
use serde_json::Value;

use super::proxy::running_pod;
use super::{Ctx, Test};
use crate::cluster::Component::{Kubelet, Scheduler};

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("kubelet", "pods", "the kubelet's /pods is a PodList of the pods bound to it", |cx| Box::pin(pods(cx))).needs(&[Kubelet]),
        Test::new("kubelet", "stats", "the kubelet's /stats/summary names the node and reports its CPU and memory", |cx| Box::pin(stats(cx))).needs(&[Kubelet]),
        Test::new("kubelet", "spec", "the kubelet's /spec/ describes the machine (rkube serves it; upstream's kubelet dropped cAdvisor's /spec)", |cx| Box::pin(spec(cx))).needs(&[Kubelet]).rkube_only(),
        Test::new("kubelet", "runningpods", "the kubelet's /runningpods/ is a PodList of what runs", |cx| Box::pin(runningpods(cx))).needs(&[Kubelet]),
        Test::new("kubelet", "metrics", "the kubelet's /metrics is Prometheus text with kubelet_ series", |cx| Box::pin(metrics(cx))).needs(&[Kubelet]),
        Test::new("kubelet", "logs", "the kubelet's /logs/ lists the node's log directory", |cx| Box::pin(logs(cx))).needs(&[Kubelet]),
        Test::new("kubelet", "run", "POST /run/{ns}/{pod}/{container}?cmd= runs a command in a container and answers its output", |cx| Box::pin(run(cx))).needs(&[Scheduler, Kubelet]),
        Test::new("kubelet", "exec", "exec in a running container through pods/{name}/exec", |cx| Box::pin(streaming(cx))).needs(&[Scheduler, Kubelet]),
        Test::new("kubelet", "attach", "attach to a running container through pods/{name}/attach", |cx| Box::pin(streaming(cx))).needs(&[Scheduler, Kubelet]),
        Test::new("kubelet", "port-forward", "forward a port of a running pod through pods/{name}/portforward", |cx| Box::pin(streaming(cx))).needs(&[Scheduler, Kubelet]),
    ]
}

fn node_path(cx: &Ctx, path: &str) -> anyhow::Result<String> {
    let node = cx.node.as_deref().context("a Ready node")?;
    Ok(format!("/api/v1/nodes/{node}/proxy/{path}"))
}

async fn get_json(cx: &Ctx, path: &str) -> anyhow::Result<Value> {
    cx.api.get_json(&node_path(cx, path)?).await
}

async fn get_text(cx: &Ctx, path: &str) -> anyhow::Result<String> {
    let p = node_path(cx, path)?;
    let r = cx.api.get(&p).accept("*/*").send().await?;
    ensure!(
        r.status == 200,
        "GET {p}: {} {}",
        r.status,
        crate::client::excerpt(&r.text())
    );
    Ok(r.text())
}

async fn pods(cx: Ctx) -> anyhow::Result<()> {
    let list = get_json(&cx, "pods").await?;
    ensure!(
        list["kind"] == "PodList",
        "/pods is a PodList: {}",
        list["kind"]
    );
    Ok(())
}

async fn stats(cx: Ctx) -> anyhow::Result<()> {
    let s = get_json(&cx, "stats/summary").await?;
    ensure!(
        s["node"]["nodeName"] == cx.node.as_deref().unwrap_or(""),
        "the summary names the node"
    );
    ensure!(
        s["node"]["cpu"].is_object() && s["node"]["memory"].is_object(),
        "node cpu and memory: {}",
        s["node"]
    );
    Ok(())
}

async fn spec(cx: Ctx) -> anyhow::Result<()> {
    let s = get_json(&cx, "spec/").await?;
    ensure!(
        s["num_cores"].as_u64().is_some_and(|n| n > 0),
        "/spec/ reports cores: {s}"
    );
    Ok(())
}

async fn runningpods(cx: Ctx) -> anyhow::Result<()> {
    let list = get_json(&cx, "runningpods/").await?;
    ensure!(
        list["kind"] == "PodList",
        "/runningpods/ is a PodList: {}",
        list["kind"]
    );
    Ok(())
}

async fn metrics(cx: Ctx) -> anyhow::Result<()> {
    let text = get_text(&cx, "metrics").await?;
    ensure!(
        text.contains("# HELP") && text.contains("kubelet_"),
        "Prometheus text with kubelet_ series"
    );
    Ok(())
}

async fn logs(cx: Ctx) -> anyhow::Result<()> {
    get_text(&cx, "logs/").await?;
    Ok(())
}

async fn run(cx: Ctx) -> anyhow::Result<()> {
    let pod = running_pod(&cx, "runner").await?;
    let node = pod["spec"]["nodeName"]
        .as_str()
        .context("the pod is bound")?;
    let path = format!(
        "/api/v1/nodes/{node}/proxy/run/{}/runner/agnhost?cmd=echo%20rkube-run",
        cx.ns
    );
    let r = cx
        .api
        .req(http::Method::POST, &path)
        .accept("*/*")
        .send()
        .await?;
    ensure!(
        r.status == 200 && r.text().contains("rkube-run"),
        "POST {path}: {} {}",
        r.status,
        r.text()
    );
    Ok(())
}

async fn streaming(_cx: Ctx) -> anyhow::Result<()> {
    super::skip("the harness does not speak the exec/attach/port-forward stream protocols yet")
}
