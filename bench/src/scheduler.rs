//! `rkube bench scheduler`: scheduler throughput. One `rkube apiserver` holds N Node
//! objects (no kubelets) and P pending pods; `rkube scheduler` is started and a watch
//! counts the pods as their bindings land. The baseline, measured in the same run against
//! the same apiserver, is the raw rate of `POST pods/{name}/binding` calls sent by the
//! load generator with no scheduling decision behind them (as many in flight as the
//! scheduler allows itself): the ceiling any scheduler on this apiserver can reach.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::http::{self, ChunkedDecoder, Conn};
use crate::load::{self, Bound};
use crate::objects::{self, Template};
use crate::procs::{self, Child};
use crate::report::{self, Machine, Table};
use crate::run_flags::RunFlags;

#[derive(Debug, clap::Args)]
pub struct SchedulerBenchFlags {
    /// Node objects [1000].
    #[arg(long, default_value_t = 1000, value_name = "n")]
    pub nodes: usize,
    /// Pending pods for the scheduler [10000].
    #[arg(long, default_value_t = 10000, value_name = "n")]
    pub pods: usize,
    /// Pods bound directly by the load generator for the baseline [2000].
    #[arg(long, default_value_t = 2000, value_name = "n")]
    pub baseline_pods: usize,
    /// Connections used to create objects and to send the baseline's bindings [64, the
    /// scheduler's own limit of bindings in flight].
    #[arg(long, default_value_t = 64, value_name = "n")]
    pub conns: usize,
    #[command(flatten)]
    pub run: RunFlags,
}

const GOAL_PODS_PER_SECOND: f64 = 500.0;
const SCHEDULED_NS: &str = "bench-scheduled";
const BASELINE_NS: &str = "bench-baseline";
const POD_PREFIX: &str = "s-";

fn node_body(i: u64) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"v1","kind":"Node","metadata":{{"name":"node-{i}","labels":{{"kubernetes.io/os":"linux","kubernetes.io/hostname":"node-{i}","topology.kubernetes.io/zone":"zone-{}"}}}}}}"#,
        i % 3
    )
    .into_bytes()
}

/// Room for about 10 bench pods a node with plenty to spare, like a mid-size machine.
const NODE_STATUS: &str = r#"{"status":{"capacity":{"cpu":"32","memory":"256Gi","pods":"110"},"allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}"#;

/// The benchmark's pod, for another scheduler (so `rkube scheduler` leaves it alone).
fn baseline_pod() -> Template {
    let text = String::from_utf8(objects::pod().render("__NAME__")).expect("utf-8");
    Template::new(&text.replace(
        r#""nodeSelector""#,
        r#""schedulerName":"bench-baseline","nodeSelector""#,
    ))
}

async fn create_all(
    addr: SocketAddr,
    conns: usize,
    count: usize,
    ok: u16,
    what: &str,
    make: load::MakeRequest,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let outcome = load::run(addr, conns, Bound::count(count as u64), ok, make).await?;
    if outcome.result.ops != count as u64 {
        bail!(
            "{what}: {} of {count} succeeded (first unexpected status {:?})",
            outcome.result.ops,
            outcome.first_bad_status
        );
    }
    Ok(started.elapsed())
}

/// The resourceVersion of the pods in `namespace` now, to watch from.
async fn list_resource_version(addr: SocketAddr, namespace: &str) -> anyhow::Result<String> {
    let mut conn = Conn::connect(addr).await?;
    let path = format!("/api/v1/namespaces/{namespace}/pods?limit=1");
    let response = conn
        .request(&http::get(&addr.to_string(), &path), true)
        .await?;
    let list: serde_json::Value = serde_json::from_slice(&response.body)?;
    list["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from)
        .context("the pod list has no resourceVersion")
}

/// Seconds (since `base`) of the first and the last binding among `total` pods, read
/// from a watch opened before the scheduler starts.
async fn count_bindings(
    mut conn: Conn,
    total: usize,
    base: Instant,
    limit: Duration,
) -> anyhow::Result<(f64, f64, usize)> {
    let mut dec = ChunkedDecoder::default();
    let mut data = Vec::with_capacity(256 * 1024);
    let mut seen = vec![false; total];
    let (mut bound, mut first, mut last) = (0usize, None, 0.0);
    let deadline = Instant::now() + limit;
    while bound < total && Instant::now() < deadline {
        let done = match tokio::time::timeout(
            Duration::from_millis(200),
            conn.read_chunked_some(&mut dec, &mut data),
        )
        .await
        {
            Err(_) => continue,
            Ok(read) => read?,
        };
        let now = base.elapsed().as_secs_f64();
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', &data[start..]) {
            let line = &data[start..start + nl];
            start += nl + 1;
            if !line.starts_with(b"{\"type\":\"MODIFIED\"")
                || objects::find(line, b"\"nodeName\":\"").is_none()
            {
                continue;
            }
            let Some(seq) = objects::watched_seq(line, POD_PREFIX) else {
                continue;
            };
            if let Some(slot) = seen.get_mut(seq as usize).filter(|s| !**s) {
                *slot = true;
                bound += 1;
                first.get_or_insert(now);
                last = now;
            }
        }
        data.drain(..start);
        if done {
            bail!("the watch ended after {bound} bindings");
        }
    }
    Ok((first.unwrap_or(0.0), last, bound))
}

pub async fn run(flags: SchedulerBenchFlags) -> anyhow::Result<()> {
    let binary = flags.run.binary()?;
    let tmp = flags.run.temp_dir("rkube-bench-scheduler-")?;
    let mut machine = Machine::probe();
    let date = report::now_utc();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "rkube bench scheduler: {} nodes, {} pods, baseline {} bindings; {} × {} CPUs, load {}",
        flags.nodes,
        flags.pods,
        flags.baseline_pods,
        machine.cpus,
        machine.model,
        machine.load_before
    );
    let api = procs::Apiserver::start(
        &binary,
        &tmp.path().join("data"),
        &tmp.path().join("apiserver.log"),
    )
    .await?;
    let addr = api.addr;
    let host = addr.to_string();
    let conns = flags.conns.max(1);

    for ns in [SCHEDULED_NS, BASELINE_NS] {
        let mut c = Conn::connect(addr).await?;
        let body = objects::namespace(ns);
        let r = c
            .request(
                &http::with_body(
                    "POST",
                    &host,
                    "/api/v1/namespaces",
                    "application/json",
                    &body,
                ),
                false,
            )
            .await?;
        if r.status != 201 {
            bail!("creating namespace {ns}: {}", r.status);
        }
    }
    let h = host.clone();
    let took = create_all(
        addr,
        conns,
        flags.nodes,
        201,
        "nodes",
        Arc::new(move |i| {
            http::with_body(
                "POST",
                &h,
                "/api/v1/nodes",
                "application/json",
                &node_body(i),
            )
        }),
    )
    .await?;
    let h = host.clone();
    create_all(
        addr,
        conns,
        flags.nodes,
        200,
        "node status",
        Arc::new(move |i| {
            let path = format!("/api/v1/nodes/node-{i}/status");
            http::with_body(
                "PATCH",
                &h,
                &path,
                "application/merge-patch+json",
                NODE_STATUS.as_bytes(),
            )
        }),
    )
    .await?;
    eprintln!("{} nodes in {:.1} s", flags.nodes, took.as_secs_f64());
    let (h, template) = (host.clone(), baseline_pod());
    create_all(
        addr,
        conns,
        flags.baseline_pods,
        201,
        "baseline pods",
        Arc::new(move |i| {
            let path = format!("/api/v1/namespaces/{BASELINE_NS}/pods");
            http::with_body(
                "POST",
                &h,
                &path,
                "application/json",
                &template.render(&format!("b-{i}")),
            )
        }),
    )
    .await?;
    let (h, template) = (host.clone(), objects::pod());
    let took = create_all(
        addr,
        conns,
        flags.pods,
        201,
        "pods",
        Arc::new(move |i| {
            let path = format!("/api/v1/namespaces/{SCHEDULED_NS}/pods");
            http::with_body(
                "POST",
                &h,
                &path,
                "application/json",
                &template.render(&format!("{POD_PREFIX}{i}")),
            )
        }),
    )
    .await?;
    eprintln!("{} pending pods in {:.1} s", flags.pods, took.as_secs_f64());

    // Baseline: bindings with no decision behind them, spread over the nodes.
    let (h, nodes) = (host.clone(), flags.nodes.max(1) as u64);
    let took = create_all(addr, conns, flags.baseline_pods, 201, "baseline bindings", Arc::new(move |i| {
        let path = format!("/api/v1/namespaces/{BASELINE_NS}/pods/b-{i}/binding");
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"Binding","metadata":{{"name":"b-{i}"}},"target":{{"apiVersion":"v1","kind":"Node","name":"node-{}"}}}}"#,
            i % nodes
        );
        http::with_body("POST", &h, &path, "application/json", body.as_bytes())
    }))
    .await?;
    let baseline_rate = flags.baseline_pods as f64 / took.as_secs_f64();
    eprintln!("baseline: {baseline_rate:.0} bindings/s");

    // The scheduler, watched from the current resourceVersion.
    let rv = list_resource_version(addr, SCHEDULED_NS).await?;
    let mut watch = Conn::connect(addr).await?;
    let path = format!("/api/v1/namespaces/{SCHEDULED_NS}/pods?watch=1&resourceVersion={rv}");
    watch.send(&http::get(&host, &path)).await?;
    let (status, _) = watch.read_head().await?;
    if status != 200 {
        bail!("watch answered {status}");
    }
    let mut cmd = Command::new(&binary);
    cmd.args(["scheduler", "--leader-elect=false", "--master"])
        .arg(format!("http://{addr}"))
        .env("RUST_LOG", "warn");
    let spawned = Instant::now();
    let mut scheduler = Child::spawn("rkube scheduler", cmd, &tmp.path().join("scheduler.log"))?;
    let limit = Duration::from_secs(60 + flags.pods as u64 / 20);
    let (first, last, bound) = count_bindings(watch, flags.pods, spawned, limit).await?;
    scheduler.check_alive()?;
    let scheduler_cpu = report::cpu_seconds(scheduler.pid());
    let apiserver_cpu = report::cpu_seconds(api.child.pid());
    machine.load_after = report::loadavg();
    if bound < flags.pods {
        bail!(
            "only {bound} of {} pods were bound within {limit:?}",
            flags.pods
        );
    }
    let steady = bound as f64 / (last - first).max(1e-3);
    let from_start = bound as f64 / last.max(1e-3);

    let mut table = Table::default();
    let section = "scheduler";
    table.goal(
        section,
        format!(
            "pods bound/s, first to last binding ({} pods, {} nodes)",
            flags.pods, flags.nodes
        ),
        format!("{steady:.0}/s"),
        format!("≥ {GOAL_PODS_PER_SECOND:.0}/s"),
        steady >= GOAL_PODS_PER_SECOND,
    );
    table.info(
        section,
        "pods bound/s from the scheduler's start (its LIST+WATCH included)",
        format!("{from_start:.0}/s ({last:.1} s, first binding at {first:.2} s)"),
    );
    table.info(
        "baseline",
        format!(
            "raw POST pods/binding, {conns} connections, no decisions ({} pods)",
            flags.baseline_pods
        ),
        format!("{baseline_rate:.0}/s"),
    );
    table.info(
        section,
        "scheduler rate / baseline rate",
        format!("{:.2}", steady / baseline_rate),
    );
    table.info(
        section,
        "CPU per pod: scheduler, apiserver (whole run)",
        format!(
            "{:.0} µs, {:.0} µs",
            scheduler_cpu * 1e6 / bound as f64,
            apiserver_cpu * 1e6 / (bound + flags.baseline_pods) as f64
        ),
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
