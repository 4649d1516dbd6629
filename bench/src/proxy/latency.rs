//! Network programming latency, for each `--modes` proxy mode: `rkube apiserver` and
//! `rkube proxy` (default flags but `--proxy-mode`) in a namespace with N services × M
//! endpoints; one EndpointSlice is rewritten at a fixed rate, and each change is timed
//! from the write's response to its rule being active: the service's chain sending
//! traffic to the new endpoint's chain — in iptables mode `KUBE-SVC-` jumping to
//! `KUBE-SEP-`, checked with `iptables -t nat -S <that chain>` (milliseconds, where a
//! save of the whole table takes about a second); in nftables mode `service-…` going to
//! `endpoint-…`, checked with `nft list chain`. The proxy's own
//! `kubeproxy_network_programming_duration_seconds` (from each slice's
//! `last-change-trigger-time`, written just before the PUT) is read at the end beside it.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use rkube_proxy::chains::{endpoint_chain, ServiceChains};
use rkube_proxy::iptables::Backend;
use rkube_proxy::model::{Endpoint, Protocol, ServicePortName};
use rkube_proxy::nft::render::{endpoint_base, service_base, TABLE};

use super::netns::{iptables_program, load_average, BenchNetns, KillOnDrop};
use super::{median, ms, percentile, ProxyBenchFlags};

const APISERVER: &str = "127.0.0.1:8080";
const PROXY_METRICS: &str = "127.0.0.1:10249";

/// One HTTP/1.1 request to `addr` (in the caller's namespace); status and body.
fn request(
    addr: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
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

/// RFC 3339 with milliseconds, as the endpointslice controller writes
/// `last-change-trigger-time` (with nanoseconds).
fn now_rfc3339() -> String {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (h, m, s) = ((secs % 86400) / 3600, (secs % 3600) / 60, secs % 60);
    let (year, month, d) = crate::report::civil_from_days((secs / 86400) as i64);
    format!(
        "{year:04}-{month:02}-{d:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        since.subsec_millis()
    )
}

/// The proxy mode a latency run measures, and how it tells that a rule is active.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// iptables mode on this backend (the one the proxy picks in the namespace).
    Iptables(Backend),
    Nftables,
}

impl Mode {
    fn flag(self) -> &'static str {
        match self {
            Mode::Iptables(_) => "iptables",
            Mode::Nftables => "nftables",
        }
    }

    fn label(self) -> String {
        match self {
            Mode::Iptables(backend) => format!("iptables mode, backend {}", backend.name()),
            Mode::Nftables => "nftables mode".into(),
        }
    }

    /// How many service ports have their dispatch rule in place.
    fn programmed(self) -> anyhow::Result<usize> {
        Ok(match self {
            Mode::Iptables(backend) => list_chain(backend, "KUBE-SERVICES")?
                .matches("-j KUBE-SVC-")
                .count(),
            Mode::Nftables => list_nft(&["map", "ip", TABLE, "service-ips"])?
                .matches("goto service-")
                .count(),
        })
    }

    /// What to list and what it shows once `fresh` is an endpoint of service `i`.
    fn change(self, i: usize, fresh: Ipv4Addr, written: Instant) -> Change {
        let name = ServicePortName {
            namespace: "default".into(),
            name: format!("svc-{i}"),
            port: "http".into(),
            protocol: Protocol::Tcp,
        };
        let endpoint = Endpoint {
            ip: fresh,
            port: 8080,
            ready: true,
            serving: true,
            terminating: false,
            local: false,
        };
        let (chain, needle) = match self {
            Mode::Iptables(_) => (
                ServiceChains::new(&name).cluster,
                format!("-j {}", endpoint_chain(&name, &endpoint)),
            ),
            Mode::Nftables => (
                format!("service-{}", service_base(&name)),
                format!("goto endpoint-{}", endpoint_base(&name, &endpoint)),
            ),
        };
        Change {
            chain,
            needle,
            written,
        }
    }

    /// Whether `change`'s rule is active.
    fn active(self, change: &Change) -> anyhow::Result<bool> {
        let listed = match self {
            Mode::Iptables(backend) => list_chain(backend, &change.chain)?,
            Mode::Nftables => list_nft(&["chain", "ip", TABLE, &change.chain])?,
        };
        Ok(listed.contains(&change.needle))
    }
}

/// A written change: the service's chain, what it shows once the change is active, the
/// write's time.
struct Change {
    chain: String,
    needle: String,
    written: Instant,
}

/// `iptables -t nat -S <chain>` (empty when the chain does not exist yet).
fn list_chain(backend: Backend, chain: &str) -> anyhow::Result<String> {
    let out = Command::new(iptables_program(backend))
        .args(["-t", "nat", "-S", chain])
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `nft list <what>` (empty when it does not exist yet).
fn list_nft(what: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("nft")
        .arg("list")
        .args(what)
        .stderr(Stdio::null())
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn latency_figures(flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    for mode in &flags.modes {
        let ns = BenchNetns::new(&format!("latency-{mode}"))?;
        let mode = match mode.as_str() {
            // The backend the proxy will choose in this namespace.
            "iptables" => Mode::Iptables(ns.run(|| Ok(Backend::detect()))?),
            "nftables" => Mode::Nftables,
            other => bail!("--modes {other:?}: iptables or nftables"),
        };
        latency_of(&ns, mode, flags)?;
    }
    Ok(())
}

fn latency_of(ns: &BenchNetns, mode: Mode, flags: &ProxyBenchFlags) -> anyhow::Result<()> {
    let n = flags.latency_services;
    let exe = std::env::current_exe()?;
    let exe = exe.to_str().unwrap_or("rkube");
    let data = tempfile::tempdir()?;
    let apiserver = ns
        .cmd(exe)
        .args(["apiserver", "--insecure-bind-address", "127.0.0.1"])
        .args(["--insecure-port", "8080"])
        .args(["--service-cluster-ip-range", "10.96.0.0/16", "--data-dir"])
        .arg(data.path().join("data"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let _apiserver = KillOnDrop(apiserver);
    let eps = flags.endpoints;
    ns.run(|| create_services(n, eps))?;
    let proxy = ns
        .cmd(exe)
        .args(["proxy", "--master", "http://127.0.0.1:8080"])
        .args(["--proxy-mode", mode.flag()])
        .args(["--hostname-override", "bench"])
        .args(["--metrics-bind-address", PROXY_METRICS])
        .args(["--healthz-bind-address", ""])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let _proxy = KillOnDrop(proxy);
    let (rate, seconds) = (flags.change_rate, flags.latency_seconds);
    let load = load_average();
    let (latencies, polls, metric) = ns.run(|| {
        let deadline = Instant::now() + Duration::from_secs(flags.timeout);
        while mode.programmed()? < n {
            if Instant::now() > deadline {
                bail!("rkube proxy did not program {n} services");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let (latencies, polls) = measure_programming(mode, n, eps, rate, seconds)?;
        let (_, metrics) = request(PROXY_METRICS, "GET", "/metrics", "text/plain", "")?;
        Ok((latencies, polls, ProgrammingMetric::parse(&metrics)))
    })?;
    let check = match mode {
        Mode::Iptables(_) => "iptables -S of the service chain",
        Mode::Nftables => "nft list chain of the service chain",
    };
    println!(
        "network programming latency, {n} services, {rate} EndpointSlice writes/s for {seconds} s ({} changes), {}: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (check: {check}, {:.1} ms median, every 5 ms) | load {load} → {}",
        latencies.len(),
        mode.label(),
        median(latencies.clone()),
        percentile(latencies.clone(), 0.99),
        latencies.iter().copied().fold(0.0, f64::max),
        median(polls),
        load_average()
    );
    println!(
        "  the proxy's kubeproxy_network_programming_duration_seconds (from last-change-trigger-time): {metric}"
    );
    Ok(())
}

fn create_services(n: usize, eps: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(APISERVER, "GET", "/readyz", "text/plain", "")
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
        let path = "/api/v1/namespaces/default/services";
        let (code, out) = request(APISERVER, "POST", path, "application/json", &svc)?;
        if code != 201 {
            bail!("creating service {i}: {out}");
        }
        let body = slice_body(i, &endpoint_ips(i, eps), &now_rfc3339());
        let path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
        let (code, out) = request(APISERVER, "POST", path, "application/json", &body)?;
        if code != 201 {
            bail!("creating slice {i}: {out}");
        }
    }
    Ok(())
}

/// Writes EndpointSlices at `rate` per second on one thread while this thread checks
/// the oldest change not yet seen (syncs apply changes in order, so when it is active
/// the next one is checked at once); returns each change's latency and each check's
/// time (ms).
fn measure_programming(
    mode: Mode,
    n: usize,
    eps: usize,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let pending: Arc<Mutex<VecDeque<Change>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    // A thread inherits its creator's network namespace: the writer talks to the
    // apiserver inside it.
    let writer = {
        let pending = pending.clone();
        let done = done.clone();
        std::thread::spawn(move || -> anyhow::Result<usize> {
            let result = write_changes(mode, &pending, n, eps, rate, seconds);
            done.store(true, Ordering::Relaxed);
            result
        })
    };
    let (mut latencies, mut polls) = (Vec::new(), Vec::new());
    let mut progress = Instant::now();
    loop {
        let front = pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .front()
            .map(|c| Change {
                chain: c.chain.clone(),
                needle: c.needle.clone(),
                written: c.written,
            });
        let Some(change) = front else {
            if done.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
            continue;
        };
        let start = Instant::now();
        let active = mode.active(&change)?;
        let now = Instant::now();
        polls.push(ms(now - start));
        if active {
            latencies.push(ms(now.saturating_duration_since(change.written)));
            pending
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .pop_front();
            progress = now;
            continue;
        }
        if progress.elapsed() > Duration::from_secs(60) {
            bail!("a change was not programmed within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let writes = writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))??;
    if latencies.len() < writes {
        bail!(
            "{} of {writes} changes never became active",
            writes - latencies.len()
        );
    }
    Ok((latencies, polls))
}

fn write_changes(
    mode: Mode,
    pending: &Mutex<VecDeque<Change>>,
    n: usize,
    eps: usize,
    rate: f64,
    seconds: u64,
) -> anyhow::Result<usize> {
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
        let path = format!("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/svc-{i}-1");
        let (code, out) = request(APISERVER, "PUT", &path, "application/json", &body)?;
        if code != 200 {
            bail!("updating slice {i}: {out}");
        }
        let change = mode.change(i, fresh, Instant::now());
        pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push_back(change);
        k += 1;
    }
    Ok(k)
}

/// The histogram `kubeproxy_network_programming_duration_seconds` as `/metrics` shows it.
struct ProgrammingMetric {
    count: f64,
    sum: f64,
    buckets: Vec<(f64, f64)>,
}

impl ProgrammingMetric {
    fn parse(text: &str) -> ProgrammingMetric {
        let name = "kubeproxy_network_programming_duration_seconds";
        let value = |line: &str| line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        let mut m = ProgrammingMetric {
            count: 0.0,
            sum: 0.0,
            buckets: Vec::new(),
        };
        for line in text.lines().filter(|l| l.starts_with(name)) {
            let rest = &line[name.len()..];
            if rest.starts_with("_count") {
                m.count = value(line).unwrap_or(0.0);
            } else if rest.starts_with("_sum") {
                m.sum = value(line).unwrap_or(0.0);
            } else if let Some(le) = rest
                .strip_prefix("_bucket{le=\"")
                .and_then(|r| r.split('"').next())
            {
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(f64::INFINITY)
                };
                m.buckets.push((bound, value(line).unwrap_or(0.0)));
            }
        }
        m
    }
}

impl std::fmt::Display for ProgrammingMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.count == 0.0 {
            return write!(f, "no observations");
        }
        let bucket = |q: f64| {
            self.buckets
                .iter()
                .find(|(_, c)| *c >= q * self.count)
                .map_or(f64::INFINITY, |(le, _)| *le)
        };
        write!(
            f,
            "{} observations, mean {:.0} ms, p50 ≤ {} s, p99 ≤ {} s (upstream's buckets)",
            self.count,
            self.sum / self.count * 1000.0,
            bucket(0.5),
            bucket(0.99)
        )
    }
}
