//! MEMORY figures, and the phase that stores many pods: the apiserver's RSS with `pods`
//! pods stored across namespaces of `list_pods` each, then the LIST figures on one of
//! those namespaces (`list`) and start-up with the pods (`startup`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;

use super::figures::{mib, ratio};
use super::requests::{create_namespace, JSON};
use super::{list, startup, Ctx};
use crate::http;
use crate::load::{self, Bound, MakeRequest};
use crate::objects;
use crate::procs::Apiserver;
use crate::stats::thousands;

/// Many pods stored: memory, LIST, and start-up with them.
pub(super) async fn run(ctx: &mut Ctx) -> anyhow::Result<()> {
    let sizes = ctx.sizes.clone();
    let big_dir = ctx.dir.join("big");
    let big_log = ctx.dir.join("big.log");
    let api = Apiserver::start(&ctx.binary, &big_dir, &big_log).await?;
    let addr = api.addr;
    let host = addr.to_string();
    let namespaces = (sizes.pods / sizes.list_pods).max(1);
    for n in 0..namespaces {
        create_namespace(addr, &format!("ns-{n}")).await?;
    }
    let rss_empty = api.child.rss_bytes().unwrap_or(0);
    eprintln!(
        "storing {} pods in {namespaces} namespaces (64 clients)",
        sizes.pods
    );
    let template = objects::pod();
    let make: MakeRequest = {
        let host = host.clone();
        Arc::new(move |seq| {
            let ns = seq as usize % namespaces;
            let body = template.render(&format!("p-{seq}"));
            let path = format!("/api/v1/namespaces/ns-{ns}/pods");
            http::with_body("POST", &host, &path, JSON, &body)
        })
    };
    let o = load::run(addr, 64, Bound::count(sizes.pods as u64), 201, make).await?;
    ctx.notes.check("storing pods", &o);
    ensure!(o.result.ops > 0, "no pod was stored");
    let stored = o.result.ops;
    let data_bytes = o.body_bytes;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss = api.child.rss_bytes().unwrap_or(0);
    eprintln!(
        "  {stored} pods at {:.0}/s; RSS {:.0} MiB for {:.0} MiB of JSON",
        o.result.rate(),
        mib(rss),
        mib(data_bytes)
    );

    let listed = list::run(ctx, addr).await?;

    // Restart with the pods stored.
    api.child.kill();
    let rss_restarted = startup::with_data(ctx, &big_dir, &big_log, stored, listed).await?;
    let _ = std::fs::remove_dir_all(&big_dir);

    let t = &mut ctx.table;
    let sec = "MEMORY";
    let x = ratio(rss as f64, data_bytes as f64);
    t.goal(
        sec,
        format!("RSS with {} pods stored", thousands(stored as f64)),
        format!(
            "{:.0} MiB for {:.0} MiB of JSON: {x:.2}× (empty server {:.0} MiB)",
            mib(rss),
            mib(data_bytes),
            mib(rss_empty)
        ),
        "< 3×",
        x < 3.0 && rss > 0,
    );
    t.info(
        sec,
        "RSS after a restart with them",
        format!(
            "{:.0} MiB: {:.2}×",
            mib(rss_restarted),
            ratio(rss_restarted as f64, data_bytes as f64)
        ),
    );

    Ok(())
}
