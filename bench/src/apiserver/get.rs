//! GET figures: one ~2 KB ConfigMap read over and over by 16 and 64 connections, beside
//! etcd's range of the same bytes.

use std::sync::Arc;

use anyhow::ensure;

use super::figures::{lat, ratio, CpuMeter};
use super::requests::{call, JSON};
use super::Ctx;
use crate::etcd::{self, PutBodies};
use crate::http::{self, Conn};
use crate::load::{self, Bound, MakeRequest};
use crate::objects;
use crate::procs::Apiserver;
use crate::stats::Repeated;

/// GET one ~2 KB ConfigMap; etcd: range of the same bytes.
pub(super) async fn run(ctx: &mut Ctx, api: &Apiserver) -> anyhow::Result<()> {
    let addr = api.addr;
    let host = addr.to_string();
    let sizes = ctx.sizes.clone();
    let mut conn = Conn::connect(addr).await?;
    let cm_path = "/api/v1/namespaces/default/configmaps/bench-cm";
    let req = http::with_body(
        "POST",
        &host,
        "/api/v1/namespaces/default/configmaps",
        JSON,
        &objects::configmap().render("bench-cm"),
    );
    call(&mut conn, &req, 201, "creating the ConfigMap").await?;
    let cm = call(
        &mut conn,
        &http::get(&host, cm_path),
        200,
        "getting the ConfigMap",
    )
    .await?;
    let etcd_key = b"/registry/configmaps/default/bench-cm";
    let etcd = ctx.etcd.as_ref();
    if let Some(e) = etcd {
        let mut c = Conn::connect(e.addr).await?;
        let put = e.request(etcd::PUT_PATH, &PutBodies::new(&cm).body(etcd_key));
        call(&mut c, &put, 200, "etcd put").await?;
        let range = e.request(etcd::RANGE_PATH, &etcd::range_body(etcd_key));
        let got = call(&mut c, &range, 200, "etcd range").await?;
        ensure!(
            etcd::range_value(&got)?.as_deref() == Some(&cm[..]),
            "etcd returned another value"
        );
    }
    let mut results = Vec::new();
    for conns in [16usize, 64] {
        eprintln!(
            "GET {} B ConfigMap, {conns} connections, {} × {:?}",
            cm.len(),
            sizes.runs,
            sizes.load
        );
        let rk_req = http::get(&host, cm_path);
        let rk: MakeRequest = Arc::new(move |_| rk_req.clone());
        let et: Option<MakeRequest> = etcd.map(|e| {
            let r = e.request(etcd::RANGE_PATH, &etcd::range_body(etcd_key));
            Arc::new(move |_| r.clone()) as MakeRequest
        });
        load::run(addr, conns, Bound::time(sizes.warmup), 200, rk.clone()).await?;
        if let (Some(e), Some(et)) = (etcd, &et) {
            load::run(e.addr, conns, Bound::time(sizes.warmup), 200, et.clone()).await?;
        }
        let (mut rr, mut er) = (Repeated::default(), Repeated::default());
        let mut cpu = CpuMeter::new(api.child.pid());
        for run in 0..sizes.runs {
            let since = cpu.now();
            let o = load::run(addr, conns, Bound::time(sizes.load), 200, rk.clone()).await?;
            cpu.add(since, o.result.ops);
            ctx.notes
                .check(&format!("rkube GET, {conns} connections"), &o);
            rr.push(&o.result);
            let mut line = format!(
                "  run {}: rkube {:.0}/s p99 {:.2} ms",
                run + 1,
                o.result.rate(),
                o.result.pct_ms(99.0)
            );
            if let (Some(e), Some(et)) = (etcd, &et) {
                let o = load::run(e.addr, conns, Bound::time(sizes.load), 200, et.clone()).await?;
                ctx.notes
                    .check(&format!("etcd range, {conns} connections"), &o);
                er.push(&o.result);
                line += &format!(
                    "; etcd {:.0}/s p99 {:.2} ms",
                    o.result.rate(),
                    o.result.pct_ms(99.0)
                );
            }
            eprintln!("{line}");
        }
        results.push((conns, rr, er, cpu));
    }
    let t = &mut ctx.table;
    let sec = "GET (one 2 KB object)";
    for (conns, rr, er, cpu) in &results {
        t.goal(
            sec,
            format!("rkube GET, {conns} connections"),
            rr.rate_text(),
            "≥ 20,000/s",
            rr.rate() >= 20_000.0,
        );
        t.goal(
            sec,
            format!("rkube GET p50 / p99, {conns} connections"),
            lat(rr),
            "p99 < 5 ms",
            rr.p99() < 5.0,
        );
        t.info(sec, format!("CPU per GET, {conns} connections"), cpu.text());
        if etcd.is_some() {
            t.info(
                sec,
                format!("etcd range (gateway), {conns} connections"),
                format!("{}, p50 / p99 {}", er.rate_text(), lat(er)),
            );
            let q = ratio(rr.rate(), er.rate());
            t.goal(
                sec,
                format!("rkube / etcd, {conns} connections"),
                format!("{q:.2}"),
                "≥ 1.0",
                q >= 1.0,
            );
        }
    }
    t.info(
        sec,
        "object size as served",
        format!("{} B ConfigMap", cm.len()),
    );
    Ok(())
}
