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

fn u64_at(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer).and_then(Value::as_u64)
}

async fn pods(cx: Ctx) -> anyhow::Result<()> {
    let list = get_json(&cx, "pods").await?;
    ensure!(
        list["kind"] == "PodList" && list["items"].is_array(),
        "/pods is a PodList: {}",
        crate::client::excerpt(&list.to_string())
    );
    let node = cx.node.as_deref().unwrap_or("");
    for pod in list["items"].as_array().into_iter().flatten() {
        ensure!(
            pod["metadata"]["name"].is_string() && pod["spec"]["nodeName"] == node,
            "each pod of /pods is bound to {node}: {}",
            crate::client::excerpt(&pod.to_string())
        );
    }
    Ok(())
}

async fn stats(cx: Ctx) -> anyhow::Result<()> {
    let s = get_json(&cx, "stats/summary").await?;
    let node = &s["node"];
    ensure!(
        node["nodeName"] == cx.node.as_deref().unwrap_or(""),
        "the summary names the node: {}",
        node["nodeName"]
    );
    for field in [
        "/cpu/usageCoreNanoSeconds",
        "/memory/workingSetBytes",
        "/memory/usageBytes",
        "/fs/capacityBytes",
        "/fs/availableBytes",
    ] {
        ensure!(
            u64_at(node, field).is_some_and(|n| n > 0),
            "node{field} is a positive number: {}",
            crate::client::excerpt(&node.to_string())
        );
    }
    ensure!(
        node["startTime"].is_string() && node["cpu"]["time"].is_string(),
        "node startTime and cpu.time: {}",
        crate::client::excerpt(&node.to_string())
    );
    let pods = s["pods"].as_array().context("pods is a list")?;
    for pod in pods {
        let r = &pod["podRef"];
        ensure!(
            r["name"].is_string() && r["namespace"].is_string() && r["uid"].is_string(),
            "each pod names itself in podRef: {}",
            crate::client::excerpt(&pod.to_string())
        );
        for c in pod["containers"].as_array().into_iter().flatten() {
            ensure!(
                c["name"].is_string() && c["cpu"].is_object() && c["memory"].is_object(),
                "each container has a name, cpu and memory: {}",
                crate::client::excerpt(&c.to_string())
            );
        }
    }
    Ok(())
}

async fn spec(cx: Ctx) -> anyhow::Result<()> {
    let s = get_json(&cx, "spec/").await?;
    ensure!(
        u64_at(&s, "/num_cores").is_some_and(|n| n > 0)
            && u64_at(&s, "/memory_capacity").is_some_and(|n| n > 0),
        "/spec/ reports cores and memory: {}",
        crate::client::excerpt(&s.to_string())
    );
    ensure!(
        s["machine_id"].is_string() && s["filesystems"].is_array(),
        "/spec/ names the machine and its filesystems: {}",
        crate::client::excerpt(&s.to_string())
    );
    Ok(())
}

async fn runningpods(cx: Ctx) -> anyhow::Result<()> {
    let list = get_json(&cx, "runningpods/").await?;
    ensure!(
        list["kind"] == "PodList" && list["items"].is_array(),
        "/runningpods/ is a PodList: {}",
        crate::client::excerpt(&list.to_string())
    );
    for pod in list["items"].as_array().into_iter().flatten() {
        ensure!(
            pod["metadata"]["name"].is_string()
                && pod["metadata"]["uid"].is_string()
                && pod["spec"]["containers"].is_array(),
            "each running pod has a name, uid and containers: {}",
            crate::client::excerpt(&pod.to_string())
        );
    }
    Ok(())
}

/// The value of an unlabelled sample `name` in Prometheus text.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name)?
            .strip_prefix(' ')?
            .split(' ')
            .next()?
            .parse()
            .ok()
    })
}

async fn metrics(cx: Ctx) -> anyhow::Result<()> {
    let text = get_text(&cx, "metrics").await?;
    for family in [
        "# TYPE kubelet_running_pods gauge",
        "# TYPE kubelet_running_containers gauge",
    ] {
        ensure!(
            text.lines().any(|l| l == family),
            "Prometheus text with {family:?}"
        );
    }
    ensure!(
        sample(&text, "kubelet_running_pods").is_some_and(|n| n >= 0.0),
        "a kubelet_running_pods sample"
    );
    Ok(())
}

async fn logs(cx: Ctx) -> anyhow::Result<()> {
    let p = node_path(&cx, "logs/")?;
    let r = cx.api.get(&p).accept("*/*").send().await?;
    ensure!(
        r.status == 200
            && r.header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
            && r.text().contains("<pre>"),
        "GET {p}: an HTML listing of the node's log directory, got {} {:?} {}",
        r.status,
        r.header("content-type"),
        crate::client::excerpt(&r.text())
    );
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
    super::skip(
        "needs the exec/attach/port-forward stream protocols, which the harness does not speak yet",
    )
}
