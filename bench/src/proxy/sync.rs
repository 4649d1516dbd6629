//! Sync cost: full syncs of N services × M endpoints and one-service changes through
//! rkube-proxy's syncer, each beside `iptables-restore` alone on the very input the
//! syncer sent, in a namespace of its own (the kernel's floor), measured in the same run.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use anyhow::bail;
use rkube_proxy::conntrack::SystemConntrack;
use rkube_proxy::iptables::{Backend, SystemIptables};
use rkube_proxy::model::{Endpoint, Protocol, ServicePort, ServicePortName};
use rkube_proxy::render::{ProxyRules, ProxyState, RenderConfig};
use rkube_proxy::restore::{restore_input, Applied};
use rkube_proxy::ruleset::TableName;
use rkube_proxy::syncer::{RuleSyncer, Syncer};

use super::kernel_floor;
use super::netns::{children_kernel_time, load_average, raw_restore, BenchNetns};
use super::{median, ms, percentile, ProxyBenchFlags};

type BenchSyncer = Syncer<SystemIptables, SystemConntrack>;
/// The restore inputs of a sync, per table.
type Inputs = Vec<(TableName, String)>;

pub(crate) fn bench_config() -> RenderConfig {
    RenderConfig {
        cluster_cidr: Some("10.128.0.0/9".parse().expect("constant CIDR")),
        ..RenderConfig::default()
    }
}

pub(crate) fn service_name(i: usize) -> ServicePortName {
    ServicePortName {
        namespace: "bench".into(),
        name: format!("svc-{i}"),
        port: "http".into(),
        protocol: Protocol::Tcp,
    }
}

/// `n` services, each with `eps` endpoints; `generation` shifts service 0's endpoints.
pub fn synthetic(n: usize, eps: usize, generation: u32) -> ProxyState {
    let mut state = ProxyState::default();
    for i in 0..n {
        let name = service_name(i);
        let cluster = u32::from(Ipv4Addr::new(10, 96, 0, 0)) + i as u32 + 1;
        state.services.insert(
            name.clone(),
            ServicePort {
                name: name.clone(),
                cluster_ip: Ipv4Addr::from(cluster),
                port: 80,
                node_port: None,
                external_ips: vec![],
                load_balancer_ips: vec![],
                load_balancer_source_ranges: vec![],
                sticky_seconds: None,
                external_traffic_local: false,
                internal_traffic_local: false,
                health_check_node_port: None,
            },
        );
        let base = u32::from(Ipv4Addr::new(10, 128, 0, 0)) + (i * eps) as u32;
        let endpoints = (0..eps)
            .map(|e| {
                let mut ip = base + e as u32;
                if i == 0 {
                    ip = u32::from(Ipv4Addr::new(10, 250, 0, 0)) + generation * 16 + e as u32;
                }
                Endpoint {
                    ip: Ipv4Addr::from(ip),
                    port: 8080,
                    ready: true,
                    serving: true,
                    terminating: false,
                    local: false,
                }
            })
            .collect();
        state.endpoints.insert(name, endpoints);
    }
    state
}

/// The raw restore of every input, in order; `None` if one hit the timeout.
fn restore_all(
    backend: Backend,
    inputs: &[(TableName, String)],
    timeout: Duration,
) -> anyhow::Result<Option<Duration>> {
    let mut total = Duration::ZERO;
    for (_, input) in inputs {
        match raw_restore(backend, input, timeout)? {
            Some(d) => total += d,
            None => return Ok(None),
        }
    }
    Ok(Some(total))
}

/// What upstream sends: the whole ruleset as one transaction per table.
fn one_transaction_inputs(state: &ProxyState) -> Inputs {
    let config = bench_config();
    let rules = ProxyRules::render(&config, state);
    let jumps = ProxyRules::jumps(&config);
    TableName::ALL
        .iter()
        .map(|&table| {
            let mut changes = Applied::default().full(table, rules.table(table), Vec::new());
            changes.insert = jumps.iter().filter(|j| j.table == table).collect();
            (table, restore_input(table, &changes))
        })
        .collect()
}

fn timed_sync(
    syncer: &mut BenchSyncer,
    state: &ProxyState,
    full: bool,
) -> anyhow::Result<(f64, f64, Inputs)> {
    let start = Instant::now();
    let report = syncer.sync(state, full)?;
    let took = ms(start.elapsed());
    Ok((took, ms(report.render), syncer.last_inputs().to_vec()))
}

fn show(d: Option<Duration>, timeout: Duration) -> String {
    d.map_or_else(
        || format!("> {:.0} s (killed)", timeout.as_secs_f64()),
        |d| format!("{:.1} ms", ms(d)),
    )
}

/// The medians of [`full_sync_rounds`], in milliseconds.
pub(crate) struct FullSyncRounds<I> {
    /// From empty tables, and the raw tool on the same input.
    pub first: f64,
    pub first_raw: f64,
    /// The kernel's (system) CPU time of that raw tool run: a floor even for a tool that
    /// cost nothing in user space.
    pub first_raw_kernel: f64,
    /// The periodic full resync over the rules in place, and the raw tool on its input.
    pub resync: f64,
    pub resync_raw: f64,
    /// The syncer's own time in the first sync.
    pub render: f64,
    /// The load average at the start of each round.
    pub loads: String,
    /// The first sync's input of the last round.
    pub input: I,
}

/// `repeat` rounds, each in a fresh pair of namespaces: a new syncer's first full sync
/// and its full resync over the rules in place (`sync` gives its time, its own time and
/// what it sent), each followed by `raw` on the very same input in the second namespace,
/// which so holds the same rules.
pub(crate) fn full_sync_rounds<S: Send, I: Send + Sync>(
    repeat: usize,
    tag: &str,
    new_syncer: impl Fn() -> S,
    sync: impl Fn(&mut S) -> anyhow::Result<(f64, f64, I)> + Sync,
    raw: impl Fn(&I) -> anyhow::Result<f64> + Sync,
) -> anyhow::Result<FullSyncRounds<I>> {
    let (mut first, mut first_raw, mut resync, mut resync_raw) = (vec![], vec![], vec![], vec![]);
    let mut first_raw_kernel = vec![];
    let (mut render, mut loads, mut last) = (vec![], vec![], None);
    for _ in 0..repeat.max(1) {
        loads.push(load_average());
        let synced = BenchNetns::new(&format!("{tag}-sync"))?;
        let raw_ns = BenchNetns::new(&format!("{tag}-raw"))?;
        let mut syncer = new_syncer();
        let (took, rendered, input) = synced.run(|| sync(&mut syncer))?;
        first.push(took);
        render.push(rendered);
        let kernel_before = children_kernel_time();
        first_raw.push(raw_ns.run(|| raw(&input))?);
        first_raw_kernel.push(ms(children_kernel_time().saturating_sub(kernel_before)));
        let (took, _, again) = synced.run(|| sync(&mut syncer))?;
        resync.push(took);
        resync_raw.push(raw_ns.run(|| raw(&again))?);
        last = Some(input);
    }
    Ok(FullSyncRounds {
        first: median(first),
        first_raw: median(first_raw),
        first_raw_kernel: median(first_raw_kernel),
        resync: median(resync),
        resync_raw: median(resync_raw),
        render: median(render),
        loads: loads.join(" "),
        input: last.ok_or_else(|| anyhow::anyhow!("no round ran"))?,
    })
}

pub fn full_sync_figures(
    backend: Backend,
    n: usize,
    flags: &ProxyBenchFlags,
) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(flags.timeout);
    let state = synthetic(n, flags.endpoints, 0);
    let rounds = full_sync_rounds(
        flags.repeat,
        "ipt",
        // From empty tables, the first sync includes the iptables-save of both tables.
        || Syncer::new(SystemIptables { backend }, SystemConntrack, bench_config()),
        |syncer| timed_sync(syncer, &state, true),
        |inputs| match restore_all(backend, inputs, timeout)? {
            Some(d) => Ok(ms(d)),
            None => bail!("the raw restore of the syncer's input took > {timeout:?}"),
        },
    )?;
    let transactions: usize = rounds
        .input
        .iter()
        .map(|(_, i)| i.matches("COMMIT").count())
        .sum();
    let rules: usize = {
        let r = ProxyRules::render(&bench_config(), &state);
        r.filter.rule_count() + r.nat.rule_count()
    };
    let (f, fr, r, rr) = (
        rounds.first,
        rounds.first_raw,
        rounds.resync,
        rounds.resync_raw,
    );
    println!(
        "full sync, {n} services ({rules} rules, {transactions} transactions), empty tables:   rkube-proxy {f:8.1} ms (render+diff {:.1} ms) | iptables-restore alone, same input {fr:8.1} ms (in the kernel {:.0} ms) | ratio {:.2} | load {}",
        rounds.render,
        rounds.first_raw_kernel,
        f / fr,
        rounds.loads
    );
    println!(
        "full sync, {n} services, rules in place: rkube-proxy {r:8.1} ms | iptables-restore alone, same input {rr:8.1} ms | ratio {:.2}",
        r / rr
    );
    if backend == Backend::Nft && transactions > 2 {
        // Beside it: the same rules as one transaction per table, as upstream sends them.
        let load = load_average();
        let inputs = one_transaction_inputs(&state);
        let raw = BenchNetns::new("one")?;
        let d = raw.run(|| restore_all(backend, &inputs, timeout))?;
        println!(
            "full sync, {n} services, empty tables: iptables-restore alone, one transaction per table {} | load {load}",
            show(d, timeout)
        );
    }
    Ok(())
}

pub fn change_figures(backend: Backend, n: usize, flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(flags.timeout);
    let ns = BenchNetns::new("change")?;
    let load = load_average();
    let (sync, raw, render, lines) = ns.run(|| {
        let mut syncer = Syncer::new(SystemIptables { backend }, SystemConntrack, bench_config());
        syncer.sync(&synthetic(n, flags.endpoints, 0), true)?;
        let (mut sync, mut raw, mut render, mut lines) = (vec![], vec![], vec![], vec![]);
        // The proxier names the service ports its watch events touched.
        let changed = BTreeSet::from([service_name(0)]);
        for generation in 1..=flags.changes.max(1) as u32 {
            let state = synthetic(n, flags.endpoints, generation);
            let start = Instant::now();
            let report = syncer.sync_changed(&state, &changed)?;
            sync.push(ms(start.elapsed()));
            render.push(ms(report.render));
            if report.full || report.restores != 1 {
                bail!("a one-service change made {report:?}");
            }
            let inputs = syncer.last_inputs().to_vec();
            lines.push(inputs.iter().map(|(_, i)| i.lines().count()).sum::<usize>() as f64);
            let Some(d) = restore_all(backend, &inputs, timeout)? else {
                bail!("the raw restore of a one-service change took > {timeout:?}");
            };
            raw.push(ms(d));
        }
        Ok((sync, raw, render, lines))
    })?;
    // The same namespace, the same N services: what the kernel alone costs for one rule.
    let floor_load = load_average();
    let floors = ns.run(|| match backend {
        Backend::Nft => kernel_floor::nf_tables_floor("nat", "KUBE-MARK-MASQ", flags.changes),
        Backend::Legacy => Ok(vec![kernel_floor::legacy_floor(flags.changes, timeout)?]),
    })?;
    println!(
        "one-service change at {n} services ({:.0} lines): rkube-proxy p50 {:6.1} ms p99 {:6.1} ms (render+diff p50 {:.1} ms) | iptables-restore alone p50 {:6.1} ms | load {load} → {}",
        median(lines),
        median(sync.clone()),
        percentile(sync, 0.99),
        median(render),
        median(raw),
        floor_load
    );
    let through = match backend {
        Backend::Nft => "netlink batch into table ip nat",
        Backend::Legacy => "iptables-legacy",
    };
    for floor in floors {
        println!(
            "kernel floor at {n} services, {through}: {} | load {floor_load} → {}",
            floor.summary(),
            load_average()
        );
    }
    Ok(())
}
