//! START-UP figures: `rkube apiserver` spawned until `/readyz` answers 200, on an empty
//! data dir here and with the stored pods in `store`.

use std::path::Path;

use super::figures::ms;
use super::requests::call;
use super::{list, Ctx};
use crate::http::{self, Conn};
use crate::procs::Apiserver;
use crate::stats::{median, thousands};

/// Start-up on a fresh, empty data dir (`startup_runs` times; the median is the figure).
pub(super) async fn empty(ctx: &mut Ctx) -> anyhow::Result<()> {
    let runs = ctx.sizes.startup_runs;
    eprintln!("start-up, empty data dir ({runs} runs)");
    let mut times = Vec::new();
    for i in 0..runs {
        let d = ctx.dir.join(format!("empty-{i}"));
        let a = Apiserver::start(&ctx.binary, &d, &ctx.dir.join(format!("empty-{i}.log"))).await?;
        times.push(ms(a.startup));
        a.child.kill();
        let _ = std::fs::remove_dir_all(&d);
    }
    let e = median(&times).unwrap_or(0.0);
    ctx.startup_rows.goal(
        "START-UP",
        "spawn → /readyz 200, empty data dir",
        format!("{e:.0} ms (median of {})", times.len()),
        "< 300 ms",
        e < 300.0,
    );
    Ok(())
}

/// Start-up with the pods `store` left in `big_dir` (`runs` times). After the first
/// start it checks that the listed namespace still holds `listed` pods. Writes the
/// START-UP row and returns the RSS right after that first start.
pub(super) async fn with_data(
    ctx: &mut Ctx,
    big_dir: &Path,
    big_log: &Path,
    stored: u64,
    listed: usize,
) -> anyhow::Result<u64> {
    let sizes = ctx.sizes.clone();
    let list_ns = list::NAMESPACE;
    let list_path = list::path();
    let mut startup_full = Vec::new();
    let mut rss_restarted = 0;
    eprintln!("start-up with {stored} pods ({} runs)", sizes.runs);
    for run in 0..sizes.runs {
        let a = Apiserver::start(&ctx.binary, big_dir, big_log).await?;
        startup_full.push(ms(a.startup));
        if run == 0 {
            rss_restarted = a.child.rss_bytes().unwrap_or(0);
            // The pods are all still there.
            let mut c = Conn::connect(a.addr).await?;
            let path = format!("{list_path}?limit=1");
            let req = http::get(&a.addr.to_string(), &path);
            let body = call(&mut c, &req, 200, "listing after restart").await?;
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            let n = v["metadata"]["remainingItemCount"].as_u64().unwrap_or(0)
                + v["items"].as_array().map_or(0, |a| a.len() as u64);
            if n != listed as u64 {
                ctx.notes.0.push(format!(
                    "after a restart {list_ns} holds {n} pods, before {listed}"
                ));
            }
        }
        eprintln!("  run {}: {:.0} ms", run + 1, ms(a.startup));
        a.child.kill();
    }

    let f = median(&startup_full).unwrap_or(0.0);
    ctx.startup_rows.goal(
        "START-UP",
        format!(
            "spawn → /readyz 200, {} pods stored",
            thousands(stored as f64)
        ),
        format!("{f:.0} ms (median of {})", startup_full.len()),
        "< 3 s",
        f < 3000.0,
    );
    Ok(rss_restarted)
}
