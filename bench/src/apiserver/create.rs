//! CREATE figures: durable creates of ~2 KB pods by rkube, beside etcd puts of the same
//! bytes, the embedded store in-process and the floor server (`crate::floor`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Storage as _};

use super::figures::{lat, ratio, CpuMeter};
use super::requests::{call, create_namespace, etcd_puts, pod_creates};
use super::Ctx;
use crate::floor;
use crate::http::Conn;
use crate::load::{self, Bound};
use crate::procs::Apiserver;
use crate::stats::{LoadResult, Repeated};

/// Durable creates of ~2 KB pods: rkube over HTTP, etcd puts of the same bytes, and the
/// embedded store in-process.
pub(super) async fn run(ctx: &mut Ctx, api: &Apiserver) -> anyhow::Result<()> {
    let addr = api.addr;
    let mut cpu = CpuMeter::new(api.child.pid());
    let sizes = ctx.sizes.clone();
    let mut conn = Conn::connect(addr).await?;
    create_namespace(addr, "bench").await?;
    let sample = call(
        &mut conn,
        &pod_creates(addr, "bench", "sample-")(0),
        201,
        "creating a pod",
    )
    .await?;
    let pod_value = Bytes::from(sample);
    let raw_dir = ctx.dir.join("raw-store");
    let raw = EmbeddedStore::open(&raw_dir, EmbeddedOptions::default())
        .map_err(|e| anyhow::anyhow!("opening the embedded store: {e}"))?;
    let floor_dir = ctx.dir.join("floor-store");
    let floor = floor::create_server(
        EmbeddedStore::open(&floor_dir, EmbeddedOptions::default())
            .map_err(|e| anyhow::anyhow!("opening the floor's embedded store: {e}"))?,
        floor::stored_template(&pod_value, "sample-0")?,
    )?;
    eprintln!(
        "CREATE {} B pods, 64 clients, {} × {:?} (rkube, etcd, embedded store, floor server)",
        pod_value.len(),
        sizes.runs,
        sizes.load
    );
    let etcd = ctx.etcd.as_ref();
    let warm = Bound::time(sizes.warmup);
    load::run(addr, 64, warm, 201, pod_creates(addr, "bench", "warm-")).await?;
    load::run(
        floor.addr,
        64,
        warm,
        201,
        pod_creates(floor.addr, "bench", "warm-"),
    )
    .await?;
    if let Some(e) = etcd {
        let puts = etcd_puts(e, &pod_value, "/registry/pods/bench/warm-");
        load::run(e.addr, 64, warm, 200, puts).await?;
    }
    let (mut rc, mut ec, mut sc, mut fc) = (
        Repeated::default(),
        Repeated::default(),
        Repeated::default(),
        Repeated::default(),
    );
    let mut fsyncs = (0u64, 0u64);
    let bound = Bound::time(sizes.load);
    for run in 0..sizes.runs {
        let prefix = format!("c{run}-");
        let since = cpu.now();
        let o = load::run(addr, 64, bound, 201, pod_creates(addr, "bench", &prefix)).await?;
        cpu.add(since, o.result.ops);
        ctx.notes.check("rkube create, 64 clients", &o);
        rc.push(&o.result);
        let mut line = format!("  run {}: rkube {:.0}/s", run + 1, o.result.rate());
        let key_prefix = format!("/registry/pods/bench/{prefix}");
        if let Some(e) = etcd {
            let puts = etcd_puts(e, &pod_value, &key_prefix);
            let o = load::run(e.addr, 64, bound, 200, puts).await?;
            ctx.notes.check("etcd put, 64 clients", &o);
            ec.push(&o.result);
            line += &format!("; etcd {:.0}/s", o.result.rate());
        }
        let before = raw.stats();
        let r = raw_puts(&raw, 64, sizes.load, pod_value.clone(), &key_prefix).await;
        let after = raw.stats();
        fsyncs.0 += after.writes - before.writes;
        fsyncs.1 += after.fsyncs - before.fsyncs;
        sc.push(&r);
        line += &format!("; embedded store {:.0}/s", r.rate());
        let creates = pod_creates(floor.addr, "bench", &prefix);
        let o = load::run(floor.addr, 64, bound, 201, creates).await?;
        ctx.notes.check("create floor, 64 clients", &o);
        fc.push(&o.result);
        line += &format!("; floor server {:.0}/s", o.result.rate());
        eprintln!("{line}");
    }
    drop(raw);
    drop(floor);
    let _ = std::fs::remove_dir_all(&raw_dir);
    let _ = std::fs::remove_dir_all(&floor_dir);
    eprintln!("CREATE, 1 client, {:?}", sizes.load);
    let o = load::run(addr, 1, bound, 201, pod_creates(addr, "bench", "single-")).await?;
    ctx.notes.check("rkube create, 1 client", &o);
    let single = o.result;
    let etcd_single = match etcd {
        Some(e) => {
            let puts = etcd_puts(e, &pod_value, "/registry/pods/bench/single-");
            Some(load::run(e.addr, 1, bound, 200, puts).await?.result)
        }
        None => None,
    };
    let t = &mut ctx.table;
    let sec = "CREATE (2 KB pod, durable)";
    t.goal(
        sec,
        "rkube creates, 64 clients",
        rc.rate_text(),
        "≥ 5,000/s",
        rc.rate() >= 5_000.0,
    );
    t.info(sec, "rkube create p50 / p99, 64 clients", lat(&rc));
    t.info(sec, "CPU per create, 64 clients", cpu.text());
    if etcd.is_some() {
        t.info(
            sec,
            "etcd put (gateway), 64 clients",
            format!("{}, p50 / p99 {}", ec.rate_text(), lat(&ec)),
        );
        let q = ratio(rc.rate(), ec.rate());
        t.goal(
            sec,
            "rkube / etcd, 64 clients",
            format!("{q:.2}"),
            "≥ 0.6",
            q >= 0.6,
        );
    }
    t.info(
        sec,
        "embedded store put (in-process), 64 tasks",
        format!(
            "{}, p50 / p99 {} ({:.0} writes per fsync)",
            sc.rate_text(),
            lat(&sc),
            ratio(fsyncs.0 as f64, fsyncs.1 as f64)
        ),
    );
    let q = ratio(rc.rate(), sc.rate());
    t.goal(
        sec,
        "rkube / embedded store, 64 clients",
        format!("{q:.2}"),
        "≥ 0.7",
        q >= 0.7,
    );
    t.info(
        sec,
        "floor: same HTTP stack, JSON parse, durable put, no Kubernetes logic, 64 clients",
        format!(
            "{}, p50 / p99 {}; floor / embedded store {:.2}",
            fc.rate_text(),
            lat(&fc),
            ratio(fc.rate(), sc.rate())
        ),
    );
    t.info(
        sec,
        "rkube / floor, 64 clients",
        format!("{:.2}", ratio(rc.rate(), fc.rate())),
    );
    t.goal(
        sec,
        "rkube create p50, 1 client",
        format!(
            "{:.2} ms (p99 {:.2} ms, {:.0}/s)",
            single.pct_ms(50.0),
            single.pct_ms(99.0),
            single.rate()
        ),
        "< 2 ms",
        single.pct_ms(50.0) < 2.0,
    );
    if let Some(es) = &etcd_single {
        t.info(
            sec,
            "etcd put p50, 1 client",
            format!("{:.2} ms ({:.0}/s)", es.pct_ms(50.0), es.rate()),
        );
    }
    t.info(
        sec,
        "object size as stored",
        format!("{} B pod", pod_value.len()),
    );
    Ok(())
}

/// Durable creates straight into an in-process embedded store: `tasks` tasks, each
/// creating its next key once the previous create resolved.
async fn raw_puts(
    store: &EmbeddedStore,
    tasks: usize,
    d: Duration,
    value: Bytes,
    prefix: &str,
) -> LoadResult {
    let start = Instant::now();
    let deadline = start + d;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (store, value, prefix) = (store.clone(), value.clone(), prefix.to_owned());
        handles.push(tokio::spawn(async move {
            let mut r = LoadResult::default();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let v = value.clone();
                let t0 = Instant::now();
                let key = format!("{prefix}{t}-{i}");
                i += 1;
                match store.create(&key, Box::new(move |_| v)).await {
                    Ok(_) => {
                        r.latencies_ns.push(t0.elapsed().as_nanos() as u64);
                        r.ops += 1;
                    }
                    Err(_) => r.errors += 1,
                }
            }
            r
        }));
    }
    let mut parts = Vec::new();
    for h in handles {
        parts.push(h.await.unwrap_or_default());
    }
    LoadResult::merge(parts, start.elapsed())
}
