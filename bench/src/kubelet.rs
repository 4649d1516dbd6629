//! `rkube bench kubelet`: pod start latency and the idle cost of running pods.
//!
//! `rkube apiserver` and `rkube kubelet` run inside a network namespace the benchmark
//! creates (pod veths and the node bridge stay in it), with their own cgroup root, and the
//! image (the machine's static busybox, one layer) already in the node's store. Pods are
//! created one at a time, each after the previous one runs, and the time from just before
//! the POST to the watch event that says `Running` is recorded. With every pod running,
//! the kubelet's CPU and RSS are read over an idle interval. The baseline is `podman run
//! --rm IMAGE true` of the same image archive in the same run (runc, cgroupfs, no
//! network: podman creates nothing on the host's interfaces).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use crate::procs::Child;
use crate::proxy::netns::BenchNetns;
use crate::report::{self, Machine, Table};
use crate::stats::{median, percentile};

const IMAGE: &str = "bench:1";
const NODE: &str = "bench-node";
const API: &str = "127.0.0.1:8080";
const GOAL_P99_MS: f64 = 300.0;
const GOAL_PODMAN_RATIO: f64 = 0.5;
const GOAL_IDLE_CPU_PERCENT: f64 = 2.0;
const GOAL_RSS_MB: f64 = 50.0;

#[derive(Debug, Clone, clap::Args)]
pub struct KubeletBenchFlags {
    /// Pods started, one after the other; they all stay running for the idle figures.
    #[arg(long, default_value_t = 100)]
    pub pods: usize,
    /// `podman run --rm` runs for the baseline.
    #[arg(long, default_value_t = 20)]
    pub podman_runs: usize,
    /// Seconds the kubelet's idle CPU is measured over, with every pod running.
    #[arg(long, default_value_t = 30)]
    pub idle_seconds: u64,
    /// Also write the machine, the command and the table as Markdown to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
}

pub async fn run(flags: KubeletBenchFlags) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(&flags)).await?
}

/// The kubelet's cgroup root: whatever is left in it is killed and removed on drop.
struct CgroupRoot(String);

impl Drop for CgroupRoot {
    fn drop(&mut self) {
        // Dropped on the blocking thread the bench runs on.
        let removed = tokio::runtime::Handle::current().block_on(
            rkube_kubelet::remove_cgroup_root(&self.0, Duration::from_secs(30)),
        );
        if let Err(e) = removed {
            eprintln!("removing cgroup root {}: {e}", self.0);
        }
    }
}

/// One HTTP/1.1 request to the apiserver (from inside the namespace).
fn request(method: &str, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
    let mut s = TcpStream::connect(API)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {API}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status: u16 = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no status line")?;
    let json = out
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok((status, json))
}

fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while !check() {
        if Instant::now() > deadline {
            bail!("{what}: not within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Watches the pods and sends each pod's name the first time it is seen Running. An
/// HTTP/1.0 request: the stream is plain lines until the server closes it.
fn watch_running(tx: mpsc::Sender<(String, Instant)>) -> anyhow::Result<()> {
    let mut s = TcpStream::connect(API)?;
    write!(
        s,
        "GET /api/v1/namespaces/default/pods?watch=1&timeoutSeconds=3600 HTTP/1.0\r\nHost: {API}\r\n\r\n"
    )?;
    let mut lines = BufReader::new(s);
    let mut seen = std::collections::HashSet::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let at = Instant::now();
        let Ok(event) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        let pod = &event["object"];
        if pod["status"]["phase"] == "Running" {
            let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
            if seen.insert(name.clone()) && tx.send((name, at)).is_err() {
                return Ok(());
            }
        }
    }
}

fn pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
           "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "c", "image": IMAGE, "imagePullPolicy": "Never",
                                    "command": ["sleep", "3600"]}]}})
}

/// Creates the pods one at a time; the latency of each, in nanoseconds.
fn start_pods(n: usize) -> anyhow::Result<Vec<u64>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || watch_running(tx));
    // The watch is open before the first create (its request is sent at once).
    std::thread::sleep(Duration::from_millis(200));
    let mut latencies = Vec::with_capacity(n);
    for i in 0..n {
        let name = format!("bench-{i}");
        let start = Instant::now();
        let (code, body) = request("POST", "/api/v1/namespaces/default/pods", &pod(&name))?;
        if code != 201 {
            bail!("creating {name}: {code} {body}");
        }
        loop {
            let (running, at) = rx
                .recv_timeout(Duration::from_secs(60))
                .with_context(|| format!("{name} did not run within 60 s"))?;
            if running == name {
                latencies.push(at.duration_since(start).as_nanos() as u64);
                break;
            }
        }
    }
    Ok(latencies)
}

/// Proportional set size (shared pages divided among their users), in bytes.
fn pss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// The kubelet's helper processes (pause and container shims: its children): count and
/// total PSS (their RSS would count the shared rkube binary once per process).
fn helpers(kubelet: u32) -> (usize, u64) {
    let mut count = 0;
    let mut rss = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(kubelet) {
            count += 1;
            rss += pss_bytes(pid);
        }
    }
    (count, rss)
}

struct PodmanRuns {
    wall_ms: Vec<f64>,
}

/// `podman run --rm --network none IMAGE true`, `runs` times, with its own storage and
/// configuration under `dir` (nothing of the machine's podman setup is used or changed).
fn podman_baseline(dir: &Path, archive: &Path, runs: usize) -> anyhow::Result<PodmanRuns> {
    if Command::new("podman").arg("--version").output().is_err() {
        bail!("podman is missing: apt-get install podman runc");
    }
    let conf = dir.join("containers.conf");
    std::fs::write(
        &conf,
        "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
    )?;
    let podman = || {
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &conf)
            .arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"));
        c
    };
    let out = podman().arg("load").arg("-i").arg(archive).output()?;
    if !out.status.success() {
        bail!("podman load: {}", String::from_utf8_lossy(&out.stderr));
    }
    let loaded = String::from_utf8_lossy(&out.stdout);
    let image = loaded
        .lines()
        .find_map(|l| l.split_once(": ").map(|(_, r)| r.trim().to_string()))
        .unwrap_or_else(|| IMAGE.to_string());
    let mut wall_ms = Vec::with_capacity(runs);
    // One warm-up run: the first creates podman's own state.
    for i in 0..=runs {
        let start = Instant::now();
        let out = podman()
            .args(["run", "--rm", "--network", "none", &image, "true"])
            .output()?;
        if !out.status.success() {
            bail!("podman run: {}", String::from_utf8_lossy(&out.stderr));
        }
        if i > 0 {
            wall_ms.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let _ = podman().args(["system", "reset", "--force"]).output();
    Ok(PodmanRuns { wall_ms })
}

fn run_blocking(flags: &KubeletBenchFlags) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("finding this binary")?;
    let tmp = tempfile::Builder::new()
        .prefix("rkube-bench-kubelet-")
        .tempdir()?;
    let mut machine = Machine::probe();
    let date = report::now_utc();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "rkube bench kubelet: {} pods, {} podman runs; {} × {} CPUs, load {}",
        flags.pods, flags.podman_runs, machine.cpus, machine.model, machine.load_before
    );
    let image_dir = tmp.path().join("image");
    std::fs::create_dir_all(&image_dir)?;
    let archive = crate::busybox_image::build(&image_dir, IMAGE)?;
    let root = tmp.path().join("root");
    let out = Command::new(&binary)
        .args(["images", "import"])
        .arg(&archive)
        .arg("--root-dir")
        .arg(&root)
        .output()?;
    if !out.status.success() {
        bail!(
            "rkube images import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let ns = BenchNetns::new("kubelet")?;
    let exe = binary.to_str().context("the binary's path is not UTF-8")?;
    let cgroups = CgroupRoot(format!("rkube-bench-{}", std::process::id()));
    let mut api_cmd = ns.cmd(exe);
    api_cmd
        .args([
            "apiserver",
            "--insecure-bind-address=127.0.0.1",
            "--insecure-port=8080",
        ])
        .arg("--data-dir")
        .arg(tmp.path().join("api"));
    let mut api = Child::spawn(
        "rkube apiserver",
        api_cmd,
        &tmp.path().join("apiserver.log"),
    )?;
    ns.run(|| {
        wait_until("the apiserver ready", Duration::from_secs(60), || {
            request("GET", "/readyz", &Value::Null).is_ok_and(|(c, _)| c == 200)
        })
    })?;
    api.check_alive()?;
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: bench\n  cluster:\n    server: http://{API}\ncontexts:\n- name: bench\n  context:\n    cluster: bench\n    user: bench\nusers:\n- name: bench\n  user: {{}}\ncurrent-context: bench\n"),
    )?;
    let mut kubelet_cmd = ns.cmd(exe);
    kubelet_cmd
        .arg("kubelet")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--hostname-override", NODE, "--node-ip", "127.0.0.1"])
        .args(["--pod-cidr", "10.244.0.0/24", "--read-only-port", "0"])
        .args(["--cgroup-root", &cgroups.0])
        .arg("--root-dir")
        .arg(&root)
        .arg("--pod-logs-dir")
        .arg(tmp.path().join("pod-logs"))
        .env("RUST_LOG", "warn");
    let mut kubelet = Child::spawn(
        "rkube kubelet",
        kubelet_cmd,
        &tmp.path().join("kubelet.log"),
    )?;
    let latencies = ns.run(|| {
        wait_until("the node registered", Duration::from_secs(60), || {
            request("GET", &format!("/api/v1/nodes/{NODE}"), &Value::Null)
                .is_ok_and(|(c, _)| c == 200)
        })?;
        start_pods(flags.pods)
    });
    kubelet.check_alive()?;
    let mut latencies = latencies?;
    latencies.sort_unstable();
    eprintln!("{} pods running; measuring the idle kubelet", flags.pods);

    std::thread::sleep(Duration::from_secs(5));
    let cpu_before = report::cpu_seconds(kubelet.pid());
    std::thread::sleep(Duration::from_secs(flags.idle_seconds));
    let idle_cpu_seconds = report::cpu_seconds(kubelet.pid()) - cpu_before;
    let idle_cpu = idle_cpu_seconds / flags.idle_seconds as f64 * 100.0;
    let rss_mb = kubelet.rss_bytes().unwrap_or(0) as f64 / 1e6;
    let (helper_count, helper_rss) = helpers(kubelet.pid());
    machine.load_after = report::loadavg();

    ns.run(|| {
        request(
            "DELETE",
            "/api/v1/namespaces/default/pods?gracePeriodSeconds=0",
            &Value::Null,
        )?;
        let pods_dir = root.join("pods");
        wait_until("the pods gone", Duration::from_secs(120), || {
            std::fs::read_dir(&pods_dir).map_or(true, |mut d| d.next().is_none())
        })
    })?;
    drop(kubelet);
    drop(api);
    drop(cgroups);
    drop(ns);

    eprintln!("podman baseline: {} runs", flags.podman_runs);
    let podman_dir = tmp.path().join("podman");
    std::fs::create_dir_all(&podman_dir)?;
    let podman = podman_baseline(&podman_dir, &archive, flags.podman_runs)?;

    let ms = |ns: u64| ns as f64 / 1e6;
    let p50 = ms(percentile(&latencies, 50.0).unwrap_or(0));
    let p99 = ms(percentile(&latencies, 99.0).unwrap_or(0));
    let podman_median = median(&podman.wall_ms).unwrap_or(f64::NAN);
    let mut table = Table::default();
    let section = "kubelet";
    table.goal(
        section,
        format!(
            "pod start, API create → Running via watch, p99 of {}",
            flags.pods
        ),
        format!("{p99:.0} ms"),
        format!("< {GOAL_P99_MS:.0} ms"),
        p99 < GOAL_P99_MS,
    );
    table.info(section, "pod start p50", format!("{p50:.0} ms"));
    table.goal(
        section,
        "pod start p50 / podman run --rm median",
        format!("{:.2}", p50 / podman_median),
        format!("≤ {GOAL_PODMAN_RATIO}"),
        p50 / podman_median <= GOAL_PODMAN_RATIO,
    );
    table.info(
        "baseline",
        format!(
            "podman run --rm --network none (runc, cgroupfs), median of {}",
            podman.wall_ms.len()
        ),
        format!("{podman_median:.0} ms"),
    );
    table.goal(
        section,
        format!(
            "kubelet idle CPU with {} pods running ({} s)",
            flags.pods, flags.idle_seconds
        ),
        format!("{idle_cpu:.2} % of a core ({idle_cpu_seconds:.2} s)"),
        format!("< {GOAL_IDLE_CPU_PERCENT} %"),
        idle_cpu < GOAL_IDLE_CPU_PERCENT,
    );
    table.goal(
        section,
        format!("kubelet RSS with {} pods running", flags.pods),
        format!("{rss_mb:.1} MB"),
        format!("< {GOAL_RSS_MB} MB"),
        rss_mb < GOAL_RSS_MB,
    );
    table.info(
        section,
        "helper processes (pause + container shims): count, total PSS",
        format!("{helper_count}, {:.1} MB", helper_rss as f64 / 1e6),
    );
    report::print_and_save(&table, &machine, &date, &command, flags.markdown.as_deref())?;
    Ok(())
}
