//! `rkube bench proxy`: kube-proxy's sync cost and network programming latency, inside
//! network namespaces the benchmark creates (the host's iptables are never touched).
//!
//! 1. Full sync of N services × M endpoints through rkube-proxy's syncer (iptables-save,
//!    render, one `iptables-restore --noflush` per table), beside `iptables-restore`
//!    alone on the same input in the same namespace (the kernel's floor).
//! 2. A one-service change at the largest N (a partial sync), beside the raw restore of
//!    the same partial input.
//! 3. Network programming latency: `rkube apiserver` and `rkube proxy` run in a
//!    namespace; EndpointSlices are rewritten at a fixed rate and the time from each
//!    write's response to its DNAT rule showing in `iptables-save` is measured.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rkube_proxy::conntrack::SystemConntrack;
use rkube_proxy::iptables::{Backend, IptablesRestore, SystemIptables};
use rkube_proxy::model::{Endpoint, Protocol, ServicePort, ServicePortName};
use rkube_proxy::render::{ProxyState, RenderConfig};
use rkube_proxy::syncer::Syncer;

#[derive(Debug, Clone, clap::Args)]
pub struct ProxyBenchFlags {
    /// Service counts for the full-sync figures (the largest is used for the change).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    pub services: Vec<usize>,
    /// Endpoints per service.
    #[arg(long, default_value_t = 5)]
    pub endpoints: usize,
    /// Repetitions of each full-sync measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// One-service changes measured at the largest count.
    #[arg(long, default_value_t = 20)]
    pub changes: usize,
    /// Services in the cluster for the network programming latency run.
    #[arg(long, default_value_t = 1000)]
    pub latency_services: usize,
    /// EndpointSlice writes per second during the latency run.
    #[arg(long, default_value_t = 10.0)]
    pub change_rate: f64,
    /// Length of the latency run, in seconds.
    #[arg(long, default_value_t = 30)]
    pub latency_seconds: u64,
}

pub async fn run(flags: ProxyBenchFlags) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(&flags)).await?
}

fn run_blocking(flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let backend = Backend::detect();
    println!(
        "rkube bench proxy: iptables backend {}, {} endpoints per service, median of {} runs",
        backend.name(),
        flags.endpoints,
        flags.repeat
    );
    let ns = BenchNetns::new("sync")?;
    let largest = flags.services.iter().copied().max().unwrap_or(0);
    let flags_c = flags.clone();
    in_netns(&ns.name, move || -> anyhow::Result<()> {
        let ipt = SystemIptables { backend };
        for &n in &flags_c.services {
            full_sync_figures(&ipt, n, &flags_c)?;
        }
        if largest > 0 {
            change_figures(&ipt, largest, &flags_c)?;
        }
        Ok(())
    })?;
    drop(ns);
    if flags.latency_services > 0 {
        latency_figures(flags)?;
    }
    Ok(())
}

fn bench_config() -> RenderConfig {
    RenderConfig {
        cluster_cidr: Some("10.128.0.0/9".parse().expect("constant CIDR")),
        ..RenderConfig::default()
    }
}

fn service_name(i: usize) -> ServicePortName {
    ServicePortName {
        namespace: "bench".into(),
        name: format!("svc-{i}"),
        port: "http".into(),
        protocol: Protocol::Tcp,
    }
}

/// `n` services, each with `eps` endpoints; `generation` shifts service 0's endpoints.
fn synthetic(n: usize, eps: usize, generation: u32) -> ProxyState {
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

fn restore_all(
    ipt: &SystemIptables,
    inputs: &[(rkube_proxy::ruleset::TableName, String)],
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    for (table, input) in inputs {
        ipt.restore(*table, input)?;
    }
    Ok(start.elapsed())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

fn full_sync_figures(
    ipt: &SystemIptables,
    n: usize,
    flags: &ProxyBenchFlags,
) -> anyhow::Result<()> {
    let state = synthetic(n, flags.endpoints, 0);
    let (mut first, mut first_raw, mut resync, mut resync_raw) = (vec![], vec![], vec![], vec![]);
    let mut first_render = vec![];
    let mut rules = 0;
    for _ in 0..flags.repeat.max(1) {
        rkube_proxy::cleanup(ipt)?;
        let mut syncer = Syncer::new(ipt.clone(), SystemConntrack, bench_config());
        let start = Instant::now();
        let report = syncer.sync(&state, true)?;
        first.push(ms(start.elapsed()));
        first_render.push(ms(report.render));
        rules = report.filter_rules + report.nat_rules;
        let inputs = syncer.last_inputs().to_vec();
        rkube_proxy::cleanup(ipt)?;
        first_raw.push(ms(restore_all(ipt, &inputs)?));
        // The periodic full resync, over rules already in place.
        let start = Instant::now();
        syncer.sync(&state, true)?;
        resync.push(ms(start.elapsed()));
        let inputs = syncer.last_inputs().to_vec();
        resync_raw.push(ms(restore_all(ipt, &inputs)?));
    }
    rkube_proxy::cleanup(ipt)?;
    let (f, fr, r, rr) = (
        median(first),
        median(first_raw),
        median(resync),
        median(resync_raw),
    );
    println!(
        "full sync, {n} services ({rules} rules), empty tables:   rkube-proxy {f:8.1} ms (render+diff {:.1} ms) | iptables-restore alone {fr:8.1} ms | ratio {:.2}",
        median(first_render),
        f / fr
    );
    println!(
        "full sync, {n} services ({rules} rules), rules in place: rkube-proxy {r:8.1} ms | iptables-restore alone {rr:8.1} ms | ratio {:.2}",
        r / rr
    );
    Ok(())
}

fn change_figures(ipt: &SystemIptables, n: usize, flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    rkube_proxy::cleanup(ipt)?;
    let mut syncer = Syncer::new(ipt.clone(), SystemConntrack, bench_config());
    syncer.sync(&synthetic(n, flags.endpoints, 0), true)?;
    let (mut sync, mut raw, mut render) = (vec![], vec![], vec![]);
    for generation in 1..=flags.changes.max(1) as u32 {
        let state = synthetic(n, flags.endpoints, generation);
        let start = Instant::now();
        let report = syncer.sync(&state, false)?;
        sync.push(ms(start.elapsed()));
        render.push(ms(report.render));
        if report.full || report.restores != 1 {
            bail!("a one-service change made {report:?}");
        }
        let inputs = syncer.last_inputs().to_vec();
        raw.push(ms(restore_all(ipt, &inputs)?));
    }
    rkube_proxy::cleanup(ipt)?;
    println!(
        "one-service change at {n} services: rkube-proxy p50 {:6.1} ms p99 {:6.1} ms (render+diff p50 {:.1} ms) | iptables-restore alone p50 {:6.1} ms",
        median(sync.clone()),
        percentile(sync, 0.99),
        median(render),
        median(raw)
    );
    Ok(())
}

/// A network namespace for the benchmark, removed (with its processes) on drop.
struct BenchNetns {
    name: String,
}

impl BenchNetns {
    fn new(tag: &str) -> anyhow::Result<BenchNetns> {
        let name = format!("rkbench-proxy-{}-{tag}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()?
            .success();
        if !ok {
            bail!("ip netns add {name} failed (root is needed)");
        }
        let ns = BenchNetns { name };
        ns.cmd("ip").args(["link", "set", "lo", "up"]).status()?;
        Ok(ns)
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }
}

impl Drop for BenchNetns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `f` on a thread inside the namespace; processes it starts run there too.
fn in_netns<T: Send>(
    name: &str,
    f: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    let path = format!("/run/netns/{name}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path).with_context(|| path.clone())?;
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)?;
            f()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("benchmark thread panicked"))?
    })
}

/// One HTTP/1.1 request to 127.0.0.1:8080 (in the caller's namespace); status and body.
fn request(
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect("127.0.0.1:8080")?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((code, out))
}

fn slice_body(i: usize, ips: &[Ipv4Addr], trigger: &str) -> String {
    let endpoints: Vec<String> = ips
        .iter()
        .map(|ip| format!("{{\"addresses\":[\"{ip}\"],\"conditions\":{{\"ready\":true}}}}"))
        .collect();
    format!(
        "{{\"metadata\":{{\"name\":\"svc-{i}-1\",\"labels\":{{\"kubernetes.io/service-name\":\"svc-{i}\"}},\
         \"annotations\":{{\"endpoints.kubernetes.io/last-change-trigger-time\":\"{trigger}\"}}}},\
         \"addressType\":\"IPv4\",\"ports\":[{{\"name\":\"http\",\"port\":8080,\"protocol\":\"TCP\"}}],\
         \"endpoints\":[{}]}}",
        endpoints.join(",")
    )
}

fn endpoint_ips(i: usize, eps: usize) -> Vec<Ipv4Addr> {
    let base = u32::from(Ipv4Addr::new(10, 128, 0, 0)) + (i * eps) as u32;
    (0..eps as u32).map(|e| Ipv4Addr::from(base + e)).collect()
}

fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = secs / 86400;
    let (h, m, s) = ((secs % 86400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

fn latency_figures(flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let n = flags.latency_services;
    let ns = BenchNetns::new("latency")?;
    let exe = std::env::current_exe()?;
    let data = tempfile::tempdir()?;
    let apiserver = ns
        .cmd(exe.to_str().unwrap_or("rkube"))
        .args([
            "apiserver",
            "--insecure-bind-address",
            "127.0.0.1",
            "--insecure-port",
            "8080",
        ])
        .args(["--service-cluster-ip-range", "10.96.0.0/16", "--data-dir"])
        .arg(data.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let _apiserver = KillOnDrop(apiserver);
    let eps = flags.endpoints;
    let name = ns.name.clone();
    in_netns(&name, || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while request("GET", "/readyz", "text/plain", "")
            .map(|r| r.0)
            .unwrap_or(0)
            != 200
        {
            if Instant::now() > deadline {
                bail!("the apiserver did not become ready");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        for i in 0..n {
            let svc = format!(
                "{{\"metadata\":{{\"name\":\"svc-{i}\"}},\"spec\":{{\"ports\":[{{\"name\":\"http\",\"port\":80,\"targetPort\":8080}}]}}}}"
            );
            let (code, out) = request(
                "POST",
                "/api/v1/namespaces/default/services",
                "application/json",
                &svc,
            )?;
            if code != 201 {
                bail!("creating service {i}: {out}");
            }
            let body = slice_body(i, &endpoint_ips(i, eps), &now_rfc3339());
            let path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
            let (code, out) = request("POST", path, "application/json", &body)?;
            if code != 201 {
                bail!("creating slice {i}: {out}");
            }
        }
        Ok(())
    })?;
    let proxy = ns
        .cmd(exe.to_str().unwrap_or("rkube"))
        .args([
            "proxy",
            "--master",
            "http://127.0.0.1:8080",
            "--hostname-override",
            "bench",
        ])
        .args(["--metrics-bind-address", "", "--healthz-bind-address", ""])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let _proxy = KillOnDrop(proxy);
    let rate = flags.change_rate;
    let seconds = flags.latency_seconds;
    let (latencies, poll) = in_netns(&name, || {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let save = nat_save()?;
            if save.matches(":KUBE-SVC-").count() >= n {
                break;
            }
            if Instant::now() > deadline {
                bail!("rkube proxy did not program {n} services");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        measure_programming(n, eps, rate, seconds)
    })?;
    println!(
        "network programming latency, {n} services, {rate} EndpointSlice writes/s for {seconds} s ({} changes): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (iptables-save poll every {:.0} ms)",
        latencies.len(),
        median(latencies.clone()),
        percentile(latencies.clone(), 0.99),
        latencies.iter().copied().fold(0.0, f64::max),
        poll
    );
    Ok(())
}

fn nat_save() -> anyhow::Result<String> {
    let out = Command::new("iptables-save").args(["-t", "nat"]).output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Writes EndpointSlices at `rate` per second on one thread while this thread polls
/// `iptables-save`; returns each change's latency (ms) and the median poll time (ms).
fn measure_programming(
    n: usize,
    eps: usize,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let written: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    // A thread inherits its creator's network namespace: the writer talks to the
    // apiserver inside it.
    let writer = {
        let written = written.clone();
        let done = done.clone();
        std::thread::spawn(move || -> anyhow::Result<usize> {
            let interval = Duration::from_secs_f64(1.0 / rate.max(0.1));
            let start = Instant::now();
            let mut k = 0usize;
            while start.elapsed() < Duration::from_secs(seconds) {
                let next = start + interval * k as u32;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let i = k % n;
                let fresh = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 200, 0, 0)) + k as u32);
                let mut ips = endpoint_ips(i, eps);
                ips[0] = fresh;
                let body = slice_body(i, &ips, &now_rfc3339());
                let patch_path = format!(
                    "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/svc-{i}-1"
                );
                let (code, out) = request("PUT", &patch_path, "application/json", &body)?;
                if code != 200 {
                    bail!("updating slice {i}: {out}");
                }
                written
                    .lock()
                    .map_err(|_| anyhow::anyhow!("poisoned"))?
                    .insert(format!("--to-destination {fresh}:"), Instant::now());
                k += 1;
            }
            done.store(true, Ordering::Relaxed);
            Ok(k)
        })
    };
    let mut latencies = Vec::new();
    let mut polls = Vec::new();
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut idle_after_done = Instant::now();
    loop {
        let start = Instant::now();
        let save = nat_save()?;
        let now = Instant::now();
        polls.push(ms(now - start));
        {
            let pending = written.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            for (needle, at) in pending.iter() {
                if !seen.contains_key(needle) && save.contains(needle.as_str()) {
                    seen.insert(needle.clone(), ());
                    latencies.push(ms(now.saturating_duration_since(*at)));
                }
            }
            if !done.load(Ordering::Relaxed) {
                idle_after_done = Instant::now();
            } else if seen.len() >= pending.len()
                || idle_after_done.elapsed() > Duration::from_secs(10)
            {
                break;
            }
        }
    }
    let writes = writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))??;
    if latencies.len() < writes {
        bail!(
            "{} of {writes} changes never showed up in iptables",
            writes - latencies.len()
        );
    }
    Ok((latencies, median(polls)))
}
