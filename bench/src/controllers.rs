//! `rkube bench controllers`: a Deployment scaled from 0 to N replicas on hollow Node
//! objects, timed from the scale PATCH until every pod exists and has `spec.nodeName`, as
//! seen on a watch. Real processes: `rkube apiserver`, `rkube controller-manager` (every
//! default controller, node lifecycle included) and `rkube scheduler`. The hollow Nodes
//! are written through the API (Ready, allocatable set) and their Leases in
//! `kube-node-lease` are renewed every 10 s, so node lifecycle keeps them Ready and
//! untainted. The baseline, measured in the same run against the same apiserver, creates
//! the same pods and binds each one straight away from the bench client (no controller, no
//! scheduling decision): the apiserver's floor for those 2 × N writes.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use serde_json::{json, Value};

use crate::http::{self, ChunkedDecoder, Conn};
use crate::procs::{self, Child};
use crate::report::{self, Machine, Table};
use crate::run_flags::RunFlags;

#[derive(Debug, clap::Args)]
pub struct ControllersBenchFlags {
    /// Replicas the Deployment is scaled to [1000].
    #[arg(long, default_value_t = 1000, value_name = "n")]
    pub replicas: usize,
    /// Hollow Node objects (Ready, 32 CPUs, 128Gi, 110 pods each) [100].
    #[arg(long, default_value_t = 100, value_name = "n")]
    pub nodes: usize,
    /// Repeats of the scale-up and of the baseline, alternating [3].
    #[arg(long, default_value_t = 3, value_name = "n")]
    pub repeats: usize,
    /// Connections the baseline creates and binds its pods over [64].
    #[arg(long, default_value_t = 64, value_name = "n")]
    pub conns: usize,
    #[command(flatten)]
    pub run: RunFlags,
}

const GOAL_SECONDS: f64 = 5.0;
const NS: &str = "bench";
const JSON: &str = "application/json";
const MERGE: &str = "application/merge-patch+json";
const LEASE_RENEWAL: Duration = Duration::from_secs(10);

/// The one container of every pod: what the Deployment's template and the baseline share.
fn container() -> Value {
    json!([{"name": "web", "image": "registry.k8s.io/nginx-slim:0.27",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}])
}

fn deployment(name: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": container()}}}})
}

/// A baseline pod, for another scheduler (so `rkube scheduler` leaves it alone).
fn baseline_pod(app: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": app}},
           "spec": {"schedulerName": "bench-baseline", "containers": container()}})
}

/// Sends one request on `conn`, fails unless the answer is 2xx; returns the body.
async fn call(
    conn: &mut Conn,
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let host = addr.to_string();
    let request = if body.is_null() {
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {JSON}\r\nUser-Agent: rkube-bench\r\n\r\n")
            .into_bytes()
    } else {
        http::with_body(
            method,
            &host,
            path,
            content_type,
            &serde_json::to_vec(body)?,
        )
    };
    let response = conn.request(&request, true).await?;
    ensure!(
        (200..300).contains(&response.status),
        "{method} {path}: {} {}",
        response.status,
        String::from_utf8_lossy(&response.body)
    );
    Ok(serde_json::from_slice(&response.body).unwrap_or(Value::Null))
}

/// The hollow Nodes: created, their status posted as a kubelet would, their Leases.
async fn create_nodes(addr: SocketAddr, count: usize, conns: usize) -> anyhow::Result<()> {
    let mut workers = Vec::new();
    for w in 0..conns.max(1) {
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            for i in (w..count).step_by(conns.max(1)) {
                let name = format!("hollow-{i}");
                let labels = json!({"kubernetes.io/os": "linux", "kubernetes.io/hostname": name});
                let node = json!({"apiVersion": "v1", "kind": "Node",
                                  "metadata": {"name": name, "labels": labels}});
                call(&mut conn, addr, "POST", "/api/v1/nodes", JSON, &node).await?;
                let now = report::now_rfc3339();
                let resources = json!({"cpu": "32", "memory": "128Gi", "pods": "110"});
                let status = json!({"status": {"capacity": resources, "allocatable": resources,
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                    "lastHeartbeatTime": now, "lastTransitionTime": now}]}});
                let path = format!("/api/v1/nodes/{name}/status");
                call(&mut conn, addr, "PATCH", &path, MERGE, &status).await?;
                let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name},
                    "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                             "renewTime": report::now_rfc3339()}});
                let path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
                call(&mut conn, addr, "POST", path, JSON, &lease).await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    Ok(())
}

/// What the hollow kubelets do to stay Ready: renew their Leases, until aborted.
fn renew_leases(addr: SocketAddr, count: usize) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(LEASE_RENEWAL);
        loop {
            tick.tick().await;
            let Ok(mut conn) = Conn::connect(addr).await else {
                continue;
            };
            for i in 0..count {
                let path = format!(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/hollow-{i}"
                );
                let body = json!({"spec": {"renewTime": report::now_rfc3339()}});
                if let Err(e) = call(&mut conn, addr, "PATCH", &path, MERGE, &body).await {
                    eprintln!("renewing hollow-{i}'s Lease: {e}");
                    break;
                }
            }
        }
    })
}

/// A watch on the pods labelled `app=<app>`, opened at the current resourceVersion.
async fn watch_pods(addr: SocketAddr, app: &str) -> anyhow::Result<Conn> {
    let mut conn = Conn::connect(addr).await?;
    let list = call(
        &mut conn,
        addr,
        "GET",
        &format!("/api/v1/namespaces/{NS}/pods?labelSelector=app%3D{app}"),
        JSON,
        &Value::Null,
    )
    .await?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .context("the pod list has no resourceVersion")?;
    let path = format!(
        "/api/v1/namespaces/{NS}/pods?watch=1&labelSelector=app%3D{app}&resourceVersion={rv}"
    );
    conn.send(&http::get(&addr.to_string(), &path)).await?;
    let (status, _) = conn.read_head().await?;
    ensure!(status == 200, "watch answered {status}");
    Ok(conn)
}

/// Seconds since `start` until `want` pods were added and until all of them were bound,
/// read from `watch`.
async fn follow(
    mut watch: Conn,
    want: usize,
    start: Instant,
    limit: Duration,
) -> anyhow::Result<(f64, f64)> {
    let mut dec = ChunkedDecoder::default();
    let mut data = Vec::with_capacity(256 * 1024);
    let (mut added, mut bound) = (HashSet::new(), HashSet::new());
    let (mut all_added, mut all_bound) = (None, None);
    while all_bound.is_none() {
        let Some(left) = limit.checked_sub(start.elapsed()) else {
            bail!(
                "after {limit:?}: {} pods created, {} bound, of {want}",
                added.len(),
                bound.len()
            );
        };
        let done =
            match tokio::time::timeout(left, watch.read_chunked_some(&mut dec, &mut data)).await {
                Err(_) => continue,
                Ok(read) => read?,
            };
        let now = start.elapsed().as_secs_f64();
        let mut from = 0;
        while let Some(nl) = memchr::memchr(b'\n', &data[from..]) {
            let event: Value = serde_json::from_slice(&data[from..from + nl])?;
            from += nl + 1;
            let pod = &event["object"];
            let Some(name) = pod["metadata"]["name"].as_str() else {
                continue;
            };
            if event["type"] == "ADDED" && added.insert(name.to_owned()) && added.len() == want {
                all_added = Some(now);
            }
            if pod["spec"]["nodeName"].is_string()
                && bound.insert(name.to_owned())
                && bound.len() == want
            {
                all_bound = Some(now);
            }
        }
        data.drain(..from);
        if done {
            bail!("the watch ended after {} bindings", bound.len());
        }
    }
    Ok((all_added.unwrap_or(f64::NAN), all_bound.unwrap_or(f64::NAN)))
}

/// Forget the pods labelled `app=<app>` as a kubelet finishing their deletion would, so
/// that every repeat starts on empty nodes.
async fn remove_pods(conn: &mut Conn, addr: SocketAddr, app: &str) -> anyhow::Result<()> {
    let path = format!("/api/v1/namespaces/{NS}/pods?labelSelector=app%3D{app}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let delete = format!("{path}&gracePeriodSeconds=0");
        call(conn, addr, "DELETE", &delete, JSON, &Value::Null).await?;
        let list = call(conn, addr, "GET", &path, JSON, &Value::Null).await?;
        if list["items"]
            .as_array()
            .is_none_or(|items| items.is_empty())
        {
            return Ok(());
        }
        ensure!(Instant::now() < deadline, "pods app={app} stay");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One scale-up: a new Deployment at 0 replicas, its ReplicaSet awaited, then scaled.
async fn scale_up(
    conn: &mut Conn,
    addr: SocketAddr,
    name: &str,
    replicas: usize,
    limit: Duration,
) -> anyhow::Result<(f64, f64)> {
    let deployments = format!("/apis/apps/v1/namespaces/{NS}/deployments");
    call(conn, addr, "POST", &deployments, JSON, &deployment(name)).await?;
    // The deployment controller has seen it once its (empty) ReplicaSet exists.
    let sets = format!("/apis/apps/v1/namespaces/{NS}/replicasets?labelSelector=app%3D{name}");
    let waited = Instant::now();
    loop {
        let list = call(conn, addr, "GET", &sets, JSON, &Value::Null).await?;
        if list["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        ensure!(
            waited.elapsed() < Duration::from_secs(60),
            "no ReplicaSet for Deployment {name}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let watch = watch_pods(addr, name).await?;
    let start = Instant::now();
    let scale = json!({"spec": {"replicas": replicas}});
    call(
        conn,
        addr,
        "PATCH",
        &format!("{deployments}/{name}"),
        MERGE,
        &scale,
    )
    .await?;
    let times = follow(watch, replicas, start, limit).await?;
    // Scaled back to 0 so its ReplicaSet lets go, then the pods forgotten.
    let zero = json!({"spec": {"replicas": 0}});
    call(
        conn,
        addr,
        "PATCH",
        &format!("{deployments}/{name}"),
        MERGE,
        &zero,
    )
    .await?;
    remove_pods(conn, addr, name).await?;
    Ok(times)
}

/// The baseline: `replicas` pods created and each bound at once, over `conns` connections.
async fn baseline(
    conn: &mut Conn,
    addr: SocketAddr,
    app: &str,
    replicas: usize,
    nodes: usize,
    conns: usize,
    limit: Duration,
) -> anyhow::Result<(f64, f64)> {
    let watch = watch_pods(addr, app).await?;
    let start = Instant::now();
    let mut workers = Vec::new();
    for w in 0..conns {
        let app = app.to_owned();
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            let pods = format!("/api/v1/namespaces/{NS}/pods");
            for i in (w..replicas).step_by(conns) {
                let name = format!("{app}-{i}");
                call(
                    &mut conn,
                    addr,
                    "POST",
                    &pods,
                    JSON,
                    &baseline_pod(&app, &name),
                )
                .await?;
                let binding = json!({"apiVersion": "v1", "kind": "Binding",
                    "metadata": {"name": name},
                    "target": {"apiVersion": "v1", "kind": "Node",
                               "name": format!("hollow-{}", i % nodes)}});
                let path = format!("{pods}/{name}/binding");
                call(&mut conn, addr, "POST", &path, JSON, &binding).await?;
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let times = follow(watch, replicas, start, limit).await?;
    remove_pods(conn, addr, app).await?;
    Ok(times)
}

/// Median, min and max, formatted in seconds.
fn spread(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = v[v.len() / 2];
    format!("{median:.2} s (min {:.2}, max {:.2})", v[0], v[v.len() - 1])
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub async fn run(flags: ControllersBenchFlags) -> anyhow::Result<()> {
    ensure!(
        flags.replicas > 0 && flags.nodes > 0 && flags.repeats > 0 && flags.conns > 0,
        "--replicas, --nodes, --repeats and --conns must be at least 1"
    );
    let binary = flags.run.binary()?;
    let tmp = flags.run.temp_dir("rkube-bench-controllers-")?;
    let mut machine = Machine::probe();
    let date = report::now_utc();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "rkube bench controllers: Deployment 0 → {} on {} hollow nodes, {} repeats; {} × {} CPUs, load {}",
        flags.replicas, flags.nodes, flags.repeats, machine.cpus, machine.model, machine.load_before
    );
    let api = procs::Apiserver::start(
        &binary,
        &tmp.path().join("data"),
        &tmp.path().join("apiserver.log"),
    )
    .await?;
    let addr = api.addr;
    let mut conn = Conn::connect(addr).await?;
    let namespace = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}});
    call(
        &mut conn,
        addr,
        "POST",
        "/api/v1/namespaces",
        JSON,
        &namespace,
    )
    .await?;
    create_nodes(addr, flags.nodes, 8).await?;
    let renewals = renew_leases(addr, flags.nodes);

    let master = format!("http://{addr}");
    let mut cm = Command::new(&binary);
    cm.args([
        "controller-manager",
        "--leader-elect=false",
        "--master",
        &master,
    ])
    .env("RUST_LOG", "warn");
    let mut cm = Child::spawn(
        "rkube controller-manager",
        cm,
        &tmp.path().join("controller-manager.log"),
    )?;
    let mut scheduler = Command::new(&binary);
    scheduler
        .args(["scheduler", "--leader-elect=false", "--master", &master])
        .env("RUST_LOG", "warn");
    let mut scheduler = Child::spawn(
        "rkube scheduler",
        scheduler,
        &tmp.path().join("scheduler.log"),
    )?;

    let limit = Duration::from_secs(60 + flags.replicas as u64 / 10);
    let (mut created, mut bound, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..flags.repeats {
        let (_, all_bound) = baseline(
            &mut conn,
            addr,
            &format!("raw-{r}"),
            flags.replicas,
            flags.nodes,
            flags.conns,
            limit,
        )
        .await?;
        floor.push(all_bound);
        let outcome = scale_up(
            &mut conn,
            addr,
            &format!("scale-{r}"),
            flags.replicas,
            limit,
        )
        .await;
        cm.check_alive()?;
        scheduler.check_alive()?;
        let (all_created, all_bound) = outcome?;
        created.push(all_created);
        bound.push(all_bound);
        eprintln!(
            "repeat {}: baseline {:.2} s; Deployment: all created {all_created:.2} s, all bound {all_bound:.2} s",
            r + 1,
            floor[r]
        );
    }
    renewals.abort();
    let unready = call(&mut conn, addr, "GET", "/api/v1/nodes", JSON, &Value::Null).await?["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| {
            n["spec"]["taints"]
                .as_array()
                .is_some_and(|t| !t.is_empty())
        })
        .count();
    ensure!(
        unready == 0,
        "{unready} hollow nodes got tainted during the run"
    );
    machine.load_after = report::loadavg();

    let n = flags.replicas;
    let mut table = Table::default();
    let section = "controllers";
    table.goal(
        section,
        format!(
            "Deployment 0 → {n}: all pods created and bound ({} nodes, median of {})",
            flags.nodes, flags.repeats
        ),
        spread(&bound),
        format!("< {GOAL_SECONDS:.0} s"),
        median(&bound) < GOAL_SECONDS,
    );
    table.info(
        section,
        format!("Deployment 0 → {n}: all pods created"),
        spread(&created),
    );
    table.info(
        "baseline",
        format!("{n} pods created and bound by the bench client, {} connections, no controller, no decision", flags.conns),
        spread(&floor),
    );
    table.info(
        section,
        "Deployment time / baseline time (medians)",
        format!("{:.2}", median(&bound) / median(&floor)),
    );
    report::print_and_save(
        &table,
        &machine,
        &date,
        &command,
        flags.run.markdown.as_deref(),
    )?;
    Ok(())
}
