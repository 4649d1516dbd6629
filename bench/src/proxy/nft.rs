//! The nftables mode's sync cost: full syncs and one-service changes through
//! rkube-proxy's nftables syncer, each beside `nft -f` alone on the very transaction the
//! syncer sent, in a namespace of its own that holds the same table (the floor of the
//! `nft` binary and the kernel), measured in the same run.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;
use rkube_proxy::conntrack::SystemConntrack;
use rkube_proxy::model::ServicePortName;
use rkube_proxy::nft::syncer::NftSyncer;
use rkube_proxy::nft::SystemNft;
use rkube_proxy::syncer::RuleSyncer;

use super::kernel_floor;
use super::netns::{load_average, run_bounded, BenchNetns};
use super::sync::{bench_config, full_sync_rounds, service_name, synthetic};
use super::{median, ms, percentile, ProxyBenchFlags};

type BenchNftSyncer = NftSyncer<SystemNft, SystemConntrack>;

/// `nft -f -` alone on `input` in the caller's namespace, in milliseconds.
fn raw_or_fail(input: &str, timeout: Duration) -> anyhow::Result<f64> {
    let mut nft = Command::new("nft");
    nft.args(["-f", "-"]);
    match run_bounded(nft, input, timeout)? {
        Some(d) => Ok(ms(d)),
        None => bail!("nft -f of the syncer's input took > {timeout:?}"),
    }
}

/// A full sync, or (with `changed`) a partial one of those service ports.
fn timed_sync(
    syncer: &mut BenchNftSyncer,
    state: &rkube_proxy::render::ProxyState,
    changed: Option<&BTreeSet<ServicePortName>>,
) -> anyhow::Result<(f64, f64, usize, String)> {
    let start = Instant::now();
    let report = match changed {
        Some(changed) => syncer.sync_changed(state, changed)?,
        None => syncer.sync(state, true)?,
    };
    let took = ms(start.elapsed());
    Ok((
        took,
        ms(report.render),
        report.rendered,
        syncer.last_input().to_string(),
    ))
}

pub fn full_sync_figures(n: usize, flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(flags.timeout);
    let state = synthetic(n, flags.endpoints, 0);
    let rounds = full_sync_rounds(
        flags.repeat,
        "nft",
        || NftSyncer::new(SystemNft, SystemConntrack, bench_config()),
        |syncer| {
            let (took, rendered, _, input) = timed_sync(syncer, &state, None)?;
            Ok((took, rendered, input))
        },
        |input| raw_or_fail(input, timeout),
    )?;
    let lines = rounds.input.lines().count();
    let (f, fr, r, rr) = (
        rounds.first,
        rounds.first_raw,
        rounds.resync,
        rounds.resync_raw,
    );
    println!(
        "nftables full sync, {n} services ({lines} lines, one transaction), empty table: rkube-proxy {f:8.1} ms (render {:.1} ms) | nft -f alone, same input {fr:8.1} ms (in the kernel {:.0} ms) | ratio {:.2} | load {}",
        rounds.render,
        rounds.first_raw_kernel,
        f / fr,
        rounds.loads
    );
    println!(
        "nftables full sync, {n} services, table in place: rkube-proxy {r:8.1} ms | nft -f alone, same input {rr:8.1} ms | ratio {:.2}",
        r / rr
    );
    Ok(())
}

pub fn change_figures(n: usize, flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(flags.timeout);
    let synced = BenchNetns::new("nft-change")?;
    let raw = BenchNetns::new("nft-change-raw")?;
    let load = load_average();
    let mut syncer = NftSyncer::new(SystemNft, SystemConntrack, bench_config());
    let (_, _, _, input) =
        synced.run(|| timed_sync(&mut syncer, &synthetic(n, flags.endpoints, 0), None))?;
    raw.run(|| raw_or_fail(&input, timeout))?;
    let (mut sync, mut raw_ms, mut render, mut lines) = (vec![], vec![], vec![], vec![]);
    // The proxier names the service ports its watch events touched.
    let changed = BTreeSet::from([service_name(0)]);
    for generation in 1..=flags.changes.max(1) as u32 {
        let state = synthetic(n, flags.endpoints, generation);
        let (took, rendered, count, input) =
            synced.run(|| timed_sync(&mut syncer, &state, Some(&changed)))?;
        if count != 1 {
            bail!("a one-service change rendered {count} service ports");
        }
        sync.push(took);
        render.push(rendered);
        lines.push(input.lines().count() as f64);
        raw_ms.push(raw.run(|| raw_or_fail(&input, timeout))?);
    }
    // The least a transaction naming a chain costs at this size: one map element.
    let element = "add element ip kube-proxy service-ips { 10.255.255.1 . tcp . 9 : goto mark-for-masquerade }\n\
                   delete element ip kube-proxy service-ips { 10.255.255.1 . tcp . 9 }\n";
    let mut one_element = vec![];
    for _ in 0..5 {
        one_element.push(raw.run(|| raw_or_fail(element, timeout))?);
    }
    // The same table, the same N services: what the kernel alone costs for one rule.
    let floor_load = load_average();
    let floors = synced.run(|| {
        kernel_floor::nf_tables_floor("kube-proxy", "mark-for-masquerade", flags.changes)
    })?;
    println!(
        "nftables one-service change at {n} services ({:.0} lines): rkube-proxy p50 {:6.1} ms p99 {:6.1} ms (render p50 {:.2} ms) | nft -f alone, same input p50 {:6.1} ms | nft -f of one map element p50 {:6.1} ms | load {load} → {}",
        median(lines),
        median(sync.clone()),
        percentile(sync, 0.99),
        median(render),
        median(raw_ms),
        median(one_element),
        floor_load
    );
    for floor in floors {
        println!(
            "nftables kernel floor at {n} services, netlink batch into table ip kube-proxy: {} | load {floor_load} → {}",
            floor.summary(),
            load_average()
        );
    }
    Ok(())
}
