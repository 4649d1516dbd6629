//! WATCH figures: pod events fanned out to many watchers while pods are created at a
//! steady rate, at the goal's rate and a tenth of it, beside the fan-out floor server.
//! (Named apart from `crate::watch`, the load generator it drives.)

use super::figures::{ratio, CpuMeter};
use super::requests::{call, create_namespace, pod_creates};
use super::Ctx;
use crate::floor;
use crate::http::Conn;
use crate::procs::Apiserver;
use crate::report;
use crate::stats::{self, median, thousands, Repeated};
use crate::watch;

/// The progress line of one watch run, the same for the apiserver and the floor.
fn log_outcome(w: &watch::Outcome) {
    eprintln!(
        "  {} of {} events; acked → read p50 / p99 / max {:.1} / {:.1} / {:.1} ms; {} writes in {:.1} s",
        w.delivered,
        w.expected_events,
        w.latency_p50_ms,
        w.latency_p99_ms,
        w.latency_max_ms,
        w.writes_acked,
        w.write_seconds
    );
}

/// One watch run and the CPU the apiserver and the load generator used during it.
async fn watch_once(
    api: &mut Apiserver,
    namespace: &str,
    wc: &watch::Config,
) -> anyhow::Result<(watch::Outcome, (f64, f64))> {
    create_namespace(api.addr, namespace).await?;
    eprintln!(
        "WATCH: {} watchers, {} creates/s for {} s",
        wc.watchers,
        wc.rate,
        wc.duration.as_secs_f64()
    );
    let mut cpu = CpuMeter::new(api.child.pid());
    let since = cpu.now();
    let w = watch::run(api.addr, namespace, wc).await?;
    api.child.check_alive()?;
    cpu.add(since, 0);
    log_outcome(&w);
    Ok((w, (cpu.server, cpu.client)))
}

fn watch_rows(w: &[(watch::Outcome, (f64, f64))]) -> (String, bool, String, Repeated, String, f64) {
    let sum = |f: fn(&watch::Outcome) -> u64| w.iter().map(|(o, _)| f(o)).sum::<u64>();
    let (delivered, expected, dups, ended) = (
        sum(|o| o.delivered),
        sum(|o| o.expected_events),
        sum(|o| o.duplicates),
        sum(|o| o.ended_watchers as u64),
    );
    let complete = sum(|o| o.complete_watchers as u64);
    let watchers = sum(|o| o.watchers as u64);
    let all = delivered == expected && dups == 0 && complete == watchers && expected > 0;
    let seen = format!(
        "{} of {} ({} of {} watchers complete, {} ended early, {} duplicates)",
        thousands(delivered as f64),
        thousands(expected as f64),
        complete,
        watchers,
        ended,
        dups
    );
    let mut lat = Repeated::default();
    let (mut rates, mut worst) = (Vec::new(), 0.0f64);
    for (o, _) in w {
        lat.p50_ms.push(o.latency_p50_ms);
        lat.p99_ms.push(o.latency_p99_ms);
        worst = worst.max(o.latency_max_ms);
        rates.push(ratio(o.writes_acked as f64, o.write_seconds));
    }
    let latency = format!("{:.1} / {:.1} / {:.1} ms", lat.p50(), lat.p99(), worst);
    let runs = w.len().max(1) as f64;
    let rate = median(&rates).unwrap_or(0.0);
    let o = &w[0].0;
    let writes = format!(
        "{:.0}/s{} ({} of {} acknowledged per run, {} failed in all); apiserver {:.1} s and load generator {:.1} s of CPU per run",
        rate,
        match stats::min_max(&rates) {
            Some((lo, hi)) if w.len() > 1 => format!(" ({lo:.0}–{hi:.0})"),
            _ => String::new(),
        },
        o.writes_acked,
        o.writes_planned,
        sum(|o| o.write_errors),
        w.iter().map(|(_, c)| c.0).sum::<f64>() / runs,
        w.iter().map(|(_, c)| c.1).sum::<f64>() / runs,
    );
    (seen, all, latency, lat, writes, rate)
}

/// Watch fan-out at the goal's rate (`runs` times), then once at a tenth of it.
pub(super) async fn run(ctx: &mut Ctx, api: &mut Apiserver) -> anyhow::Result<()> {
    let goal = ctx.sizes.watch.clone();
    let mut runs = Vec::new();
    for run in 0..ctx.sizes.runs {
        runs.push(watch_once(api, &format!("watch-{run}"), &goal).await?);
    }
    let light = watch::Config {
        rate: (goal.rate / 10).max(1),
        duration: goal.duration / 2,
        ..goal.clone()
    };
    let light_run = watch_once(api, "watch-light", &light).await?;
    let floor_run = watch_floor(api, &goal).await?;

    let t = &mut ctx.table;
    let sec = "WATCH (2 KB pods)";
    let (seen, all, latency, lat, writes, rate) = watch_rows(&runs);
    let at = format!("{} watchers, {} writes/s", goal.watchers, goal.rate);
    let n = runs.len();
    let of = if n > 1 {
        format!(
            " (medians of {n} runs of {} s)",
            goal.duration.as_secs_f64()
        )
    } else {
        String::new()
    };
    t.goal(
        sec,
        format!("events seen, {at}{of}"),
        seen,
        "every watcher every event",
        all,
    );
    t.goal(
        sec,
        "write acked → event read, p50 / p99 / max",
        latency,
        "p99 < 50 ms",
        lat.p99() < 50.0 && runs.iter().all(|(o, _)| o.delivered > 0),
    );
    let errors: u64 = runs.iter().map(|(o, _)| o.write_errors).sum();
    t.goal(
        sec,
        "writes going in meanwhile",
        writes,
        format!("{} writes/s", thousands(goal.rate as f64)),
        rate >= 0.95 * goal.rate as f64 && errors == 0,
    );
    let (seen, _, latency, _, writes, _) = watch_rows(std::slice::from_ref(&light_run));
    t.info(
        sec,
        format!(
            "for context: {} watchers, {} writes/s, events seen",
            light.watchers, light.rate
        ),
        seen,
    );
    t.info(sec, "  acked → read, p50 / p99 / max", latency);
    t.info(sec, "  writes", writes);
    let (f, cpu) = &floor_run;
    t.info(
        sec,
        format!(
            "floor: pre-encoded lines fanned out by the same HTTP stack, {}",
            at
        ),
        format!(
            "{} of {} events; acked → read p50 / p99 / max {:.1} / {:.1} / {:.1} ms; {:.0} writes/s; {:.1} s of CPU (floor server and load generator)",
            thousands(f.delivered as f64),
            thousands(f.expected_events as f64),
            f.latency_p50_ms,
            f.latency_p99_ms,
            f.latency_max_ms,
            ratio(f.writes_acked as f64, f.write_seconds),
            cpu
        ),
    );
    Ok(())
}

/// The watch load against the fan-out floor (one run): the stored pod as the apiserver
/// answered it, framed once per write and streamed to every watcher.
async fn watch_floor(api: &Apiserver, wc: &watch::Config) -> anyhow::Result<(watch::Outcome, f64)> {
    create_namespace(api.addr, "watch-template").await?;
    let mut c = Conn::connect(api.addr).await?;
    let create = pod_creates(api.addr, "watch-template", "t-")(0);
    let stored = call(&mut c, &create, 201, "creating the template pod").await?;
    let server = floor::fan_out_server(floor::stored_template(&stored, "t-0")?)?;
    eprintln!(
        "WATCH floor: {} watchers, {} creates/s for {} s",
        wc.watchers,
        wc.rate,
        wc.duration.as_secs_f64()
    );
    let before = report::cpu_seconds(std::process::id());
    let w = watch::run(server.addr, "floor", wc).await?;
    let cpu = report::cpu_seconds(std::process::id()) - before;
    drop(server);
    log_outcome(&w);
    Ok((w, cpu))
}
