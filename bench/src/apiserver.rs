//! `rkube bench apiserver`: the scenarios, in order, and the table of figures.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Storage as _};

use crate::etcd::{self, Etcd, PutBodies};
use crate::floor;
use crate::http::{self, Conn};
use crate::load::{self, Bound, MakeRequest};
use crate::objects;
use crate::procs::Apiserver;
use crate::report::{self, Machine, Table};
use crate::stats::{self, median, thousands, LoadResult, Repeated};
use crate::watch;

const JSON: &str = "application/json";

/// Flags of `rkube bench apiserver`. Every size has a full and a `--quick` default.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiserverBenchFlags {
    /// Smaller sizes and shorter runs: a smoke run of well under a minute.
    #[arg(long)]
    pub quick: bool,
    /// Repetitions of the noisy measurements; the table shows medians [3; quick 1].
    #[arg(long, value_name = "n")]
    pub runs: Option<usize>,
    /// Seconds of each GET / CREATE load run [3; quick 1].
    #[arg(long, value_name = "seconds")]
    pub seconds: Option<f64>,
    /// The rkube binary to start as `rkube apiserver` [this binary].
    #[arg(long, value_name = "path")]
    pub rkube_binary: Option<PathBuf>,
    /// The etcd (3.4) binary of the baseline (Debian: `apt-get install etcd-server`).
    #[arg(long, default_value = "etcd", value_name = "path")]
    pub etcd_binary: PathBuf,
    /// Skip the etcd baseline.
    #[arg(long)]
    pub no_etcd: bool,
    /// Where the temporary data directories go [the system temp dir].
    #[arg(long, value_name = "dir")]
    pub work_dir: Option<PathBuf>,
    /// Also write the machine, the command and the table as Markdown to this file.
    #[arg(long, value_name = "file")]
    pub markdown: Option<PathBuf>,
    /// Pods stored for the memory and start-up figures [100000; quick 10000].
    #[arg(long, value_name = "n")]
    pub pods: Option<usize>,
    /// Pods in the namespace that is listed [10000; quick 2000].
    #[arg(long, value_name = "n")]
    pub list_pods: Option<usize>,
    /// Concurrent watchers [1000; quick 200].
    #[arg(long, value_name = "n")]
    pub watchers: Option<usize>,
    /// Pod creates per second during the watch [1000; quick 500].
    #[arg(long, value_name = "n")]
    pub watch_rate: Option<u64>,
    /// Seconds of writes during the watch [10; quick 3].
    #[arg(long, value_name = "seconds")]
    pub watch_seconds: Option<f64>,
    /// Keep the work directory (data dirs and logs) instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Run only these parts (comma-separated) [all].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "phases")]
    pub only: Vec<Phase>,
}

#[derive(Debug, Clone)]
struct Sizes {
    runs: usize,
    load: Duration,
    warmup: Duration,
    startup_runs: usize,
    pods: usize,
    list_pods: usize,
    list_runs: usize,
    watch: watch::Config,
}

impl Sizes {
    fn from(f: &ApiserverBenchFlags) -> Sizes {
        let q = f.quick;
        let pods = f.pods.unwrap_or(if q { 10_000 } else { 100_000 }).max(1);
        Sizes {
            runs: f.runs.unwrap_or(if q { 1 } else { 3 }).max(1),
            load: Duration::from_secs_f64(f.seconds.unwrap_or(if q { 1.0 } else { 3.0 })),
            warmup: Duration::from_millis(if q { 200 } else { 500 }),
            startup_runs: if q { 3 } else { 5 },
            pods,
            list_pods: f
                .list_pods
                .unwrap_or(if q { 2_000 } else { 10_000 })
                .clamp(1, pods),
            list_runs: if q { 3 } else { 7 },
            watch: watch::Config {
                watchers: f.watchers.unwrap_or(if q { 200 } else { 1000 }),
                rate: f.watch_rate.unwrap_or(if q { 500 } else { 1000 }).max(1),
                duration: Duration::from_secs_f64(f.watch_seconds.unwrap_or(if q {
                    3.0
                } else {
                    10.0
                })),
                writers: 32,
                drain: Duration::from_secs(if q { 10 } else { 30 }),
            },
        }
    }
}

/// Problems worth a line under the table (errors seen during load, skipped parts).
#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn check(&mut self, what: &str, o: &load::Outcome) {
        if o.result.errors > 0 {
            let msg = format!(
                "{what}: {} failed requests (first unexpected status: {})",
                o.result.errors,
                o.first_bad_status
                    .map_or("none, I/O error".to_owned(), |s| s.to_string())
            );
            eprintln!("  warning: {msg}");
            self.0.push(msg);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// One request, answer kept; fails unless the status is `want`.
async fn call(conn: &mut Conn, request: &[u8], want: u16, what: &str) -> anyhow::Result<Vec<u8>> {
    let r = conn
        .request(request, true)
        .await
        .with_context(|| what.to_owned())?;
    if r.status != want {
        bail!(
            "{what}: status {} (wanted {want}): {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(500)])
        );
    }
    Ok(r.body)
}

async fn create_namespace(addr: SocketAddr, name: &str) -> anyhow::Result<()> {
    let mut c = Conn::connect(addr).await?;
    let req = http::with_body(
        "POST",
        &addr.to_string(),
        "/api/v1/namespaces",
        JSON,
        &objects::namespace(name),
    );
    call(&mut c, &req, 201, &format!("creating namespace {name}")).await?;
    Ok(())
}

/// `conns` connections creating pods named `<prefix><seq>` in `namespace`.
fn pod_creates(addr: SocketAddr, namespace: &str, prefix: &str) -> MakeRequest {
    let template = objects::pod();
    let (host, path, prefix) = (
        addr.to_string(),
        format!("/api/v1/namespaces/{namespace}/pods"),
        prefix.to_owned(),
    );
    Arc::new(move |seq| {
        let body = template.render(&format!("{prefix}{seq}"));
        http::with_body("POST", &host, &path, JSON, &body)
    })
}

fn etcd_puts(etcd: &Etcd, value: &[u8], prefix: &str) -> MakeRequest {
    let bodies = PutBodies::new(value);
    let (host, prefix) = (etcd.addr.to_string(), prefix.to_owned());
    Arc::new(move |seq| {
        let body = bodies.body(format!("{prefix}{seq}").as_bytes());
        http::with_body("POST", &host, etcd::PUT_PATH, JSON, &body)
    })
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

fn lat(r: &Repeated) -> String {
    format!("{:.2} / {:.2} ms", r.p50(), r.p99())
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// The parts of the benchmark, selectable with `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Phase {
    /// Start-up on an empty data dir.
    Startup,
    /// GET one object, rkube and etcd.
    Get,
    /// Durable creates: rkube, etcd, the embedded store.
    Create,
    /// Watch fan-out.
    Watch,
    /// Many pods stored: memory, LIST, start-up with data.
    Store,
}

/// What the phases share.
struct Ctx {
    binary: PathBuf,
    dir: PathBuf,
    sizes: Sizes,
    etcd: Option<Etcd>,
    notes: Notes,
    table: Table,
    /// Start-up rows go last; measured first.
    startup_rows: Table,
}

/// CPU time the apiserver and this process (the load generator) spent on some requests.
struct CpuMeter {
    server_pid: u32,
    server: f64,
    client: f64,
    ops: u64,
}

impl CpuMeter {
    fn new(server_pid: u32) -> CpuMeter {
        CpuMeter {
            server_pid,
            server: 0.0,
            client: 0.0,
            ops: 0,
        }
    }
    fn now(&self) -> (f64, f64) {
        (
            report::cpu_seconds(self.server_pid),
            report::cpu_seconds(std::process::id()),
        )
    }
    fn add(&mut self, since: (f64, f64), ops: u64) {
        let now = self.now();
        self.server += now.0 - since.0;
        self.client += now.1 - since.1;
        self.ops += ops;
    }
    fn text(&self) -> String {
        let per = |s: f64| ratio(s * 1e6, self.ops as f64);
        format!(
            "apiserver {:.0} µs, load generator {:.0} µs",
            per(self.server),
            per(self.client)
        )
    }
}

pub async fn run(flags: ApiserverBenchFlags) -> anyhow::Result<()> {
    let sizes = Sizes::from(&flags);
    let binary = match &flags.rkube_binary {
        Some(b) => b.clone(),
        None => std::env::current_exe().context("finding this binary")?,
    };
    let phases: Vec<Phase> = if flags.only.is_empty() {
        vec![
            Phase::Startup,
            Phase::Get,
            Phase::Create,
            Phase::Watch,
            Phase::Store,
        ]
    } else {
        flags.only.clone()
    };
    let work = flags.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&work)?;
    let tmp = tempfile::Builder::new()
        .prefix("rkube-bench-")
        .tempdir_in(&work)
        .context("creating the work directory")?;
    let mut machine = Machine::probe();
    let began = Instant::now();
    let date = report::now_utc();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    eprintln!(
        "rkube bench apiserver{}: {} × {} CPUs, load average {}; data under {}",
        if flags.quick { " --quick" } else { "" },
        machine.model,
        machine.cpus,
        machine.load_before,
        tmp.path().display()
    );
    let mut ctx = Ctx {
        binary,
        dir: tmp.path().to_owned(),
        sizes,
        etcd: None,
        notes: Notes::default(),
        table: Table::default(),
        startup_rows: Table::default(),
    };
    let wants_etcd = phases.contains(&Phase::Get) || phases.contains(&Phase::Create);
    if !flags.no_etcd && wants_etcd {
        match Etcd::start(&flags.etcd_binary, &ctx.dir).await {
            Ok(e) => {
                eprintln!("etcd baseline: {} on {}", e.version, e.addr);
                ctx.etcd = Some(e);
            }
            Err(e) => {
                let msg = format!(
                    "etcd baseline skipped: {e:#} (Debian: apt-get install -y etcd-server etcd-client)"
                );
                eprintln!("{msg}");
                ctx.notes.0.push(msg);
            }
        }
    }
    let etcd_version = ctx.etcd.as_ref().map(|e| e.version.clone());

    if phases.contains(&Phase::Startup) {
        startup_empty(&mut ctx).await?;
    }
    if phases
        .iter()
        .any(|p| matches!(p, Phase::Get | Phase::Create | Phase::Watch))
    {
        let main_dir = ctx.dir.join("main");
        let mut api = Apiserver::start(&ctx.binary, &main_dir, &ctx.dir.join("main.log")).await?;
        eprintln!("apiserver pid {} on {}", api.child.pid(), api.addr);
        if phases.contains(&Phase::Get) {
            get(&mut ctx, &api).await?;
        }
        if phases.contains(&Phase::Create) {
            create(&mut ctx, &api).await?;
        }
        if phases.contains(&Phase::Watch) {
            watch(&mut ctx, &mut api).await?;
        }
        api.child.kill();
        let _ = std::fs::remove_dir_all(&main_dir);
    }
    if let Some(e) = ctx.etcd.take() {
        e.child.kill();
    }
    if phases.contains(&Phase::Store) {
        store(&mut ctx).await?;
    }
    let Ctx {
        mut table,
        startup_rows,
        notes,
        sizes,
        ..
    } = ctx;
    table.rows.extend(startup_rows.rows);
    if flags.keep {
        eprintln!("kept {}", tmp.keep().display());
    }
    machine.load_after = report::loadavg();
    let took = began.elapsed();

    println!();
    println!("{}", table.text());
    println!(
        "{} pass, {} miss; {:.0} s; load average before {} / after {}",
        table.passes(),
        table.misses(),
        took.as_secs_f64(),
        machine.load_before,
        machine.load_after
    );
    for n in &notes.0 {
        println!("note: {n}");
    }
    if let Some(path) = &flags.markdown {
        let md = markdown(
            &machine,
            &date,
            &command,
            &table,
            &notes,
            etcd_version.as_deref(),
            &sizes,
            took,
        );
        std::fs::write(path, md).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn startup_empty(ctx: &mut Ctx) -> anyhow::Result<()> {
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

/// GET one ~2 KB ConfigMap; etcd: range of the same bytes.
async fn get(ctx: &mut Ctx, api: &Apiserver) -> anyhow::Result<()> {
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

/// Durable creates of ~2 KB pods: rkube over HTTP, etcd puts of the same bytes, and the
/// embedded store in-process.
async fn create(ctx: &mut Ctx, api: &Apiserver) -> anyhow::Result<()> {
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
async fn watch(ctx: &mut Ctx, api: &mut Apiserver) -> anyhow::Result<()> {
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
    Ok((w, cpu))
}

/// Many pods stored: memory, LIST, and start-up with them.
async fn store(ctx: &mut Ctx) -> anyhow::Result<()> {
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

    // LIST one namespace in full, then in pages of 500.
    let list_ns = "ns-0";
    let list_path = format!("/api/v1/namespaces/{list_ns}/pods");
    let mut c = Conn::connect(addr).await?;
    let body = call(&mut c, &http::get(&host, &list_path), 200, "listing pods").await?;
    let list: serde_json::Value = serde_json::from_slice(&body).context("the pod list")?;
    let listed = list["items"].as_array().map_or(0, |a| a.len());
    let list_bytes = body.len() as u64;
    drop((list, body));
    let mut list_ms = Vec::new();
    for _ in 0..sizes.list_runs {
        let t0 = Instant::now();
        let r = c.request(&http::get(&host, &list_path), false).await?;
        let d = t0.elapsed();
        ensure!(r.status == 200, "list answered {}", r.status);
        list_ms.push(ms(d));
    }
    let mut page_ms = Vec::new();
    let mut paged_items = 0usize;
    for _ in 0..sizes.list_runs.min(3) {
        let mut cont: Option<String> = None;
        paged_items = 0;
        for _page in 0..(listed / 500 + 2) {
            let path = match &cont {
                None => format!("{list_path}?limit=500"),
                Some(c) => format!("{list_path}?limit=500&continue={}", http::query_escape(c)),
            };
            let t0 = Instant::now();
            let body = call(&mut c, &http::get(&host, &path), 200, "listing a page").await?;
            page_ms.push(ms(t0.elapsed()));
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            paged_items += v["items"].as_array().map_or(0, |a| a.len());
            cont = v["metadata"]["continue"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            if cont.is_none() {
                break;
            }
        }
    }
    drop(c);
    if paged_items != listed {
        ctx.notes.0.push(format!(
            "paging with limit=500 returned {paged_items} pods, the full list {listed}"
        ));
    }
    if listed != sizes.list_pods {
        ctx.notes.0.push(format!(
            "the full list returned {listed} pods, {} expected",
            sizes.list_pods
        ));
    }
    page_ms.sort_by(|a, b| a.total_cmp(b));

    // Restart with the pods stored.
    api.child.kill();
    let mut startup_full = Vec::new();
    let mut rss_restarted = 0;
    eprintln!("start-up with {stored} pods ({} runs)", sizes.runs);
    for run in 0..sizes.runs {
        let a = Apiserver::start(&ctx.binary, &big_dir, &big_log).await?;
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
    let _ = std::fs::remove_dir_all(&big_dir);

    let t = &mut ctx.table;
    let sec = "LIST (JSON)";
    let list_med = median(&list_ms).unwrap_or(0.0);
    t.goal(
        sec,
        format!(
            "full list of {} pods ({:.1} MiB)",
            thousands(listed as f64),
            mib(list_bytes)
        ),
        format!(
            "{list_med:.1} ms (median of {}; {:.0} MiB/s)",
            list_ms.len(),
            mib(list_bytes) / (list_med / 1e3)
        ),
        "< 150 ms",
        listed == sizes.list_pods && list_med < 150.0,
    );
    let page_med = median(&page_ms).unwrap_or(0.0);
    t.goal(
        sec,
        "a page of limit=500",
        format!(
            "{page_med:.2} ms (median of {} pages; slowest {:.2} ms)",
            page_ms.len(),
            page_ms.last().copied().unwrap_or(0.0)
        ),
        "< 10 ms",
        page_med < 10.0 && !page_ms.is_empty(),
    );

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
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn markdown(
    m: &Machine,
    date: &str,
    command: &str,
    t: &Table,
    notes: &Notes,
    etcd_version: Option<&str>,
    sizes: &Sizes,
    took: Duration,
) -> String {
    let mut s = String::new();
    s += &format!(
        "- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}\n",
        m.cpus, m.model, m.memory_gib, m.kernel
    );
    s += &format!("- Date: {date}\n- Command: `{command}`\n");
    s += &format!(
        "- Run: {:.0} s; load average before {} / after {}; {} run(s) of {} s per GET / CREATE figure, medians shown with the range of the runs\n",
        took.as_secs_f64(),
        m.load_before,
        m.load_after,
        sizes.runs,
        sizes.load.as_secs_f64()
    );
    s += &format!(
        "- Baseline: {}\n\n",
        etcd_version.map_or("none (etcd not run)".to_owned(), |v| format!(
            "{v}, single member, default (durable) settings, JSON gateway `/v3/kv/range` and `/v3/kv/put`"
        ))
    );
    s += &t.markdown();
    for n in &notes.0 {
        s += &format!("\nNote: {n}\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        flags: ApiserverBenchFlags,
    }

    #[test]
    fn quick_sizes_are_smaller() {
        let full = Sizes::from(&Cli::parse_from(["x"]).flags);
        let quick = Sizes::from(&Cli::parse_from(["x", "--quick"]).flags);
        assert_eq!(
            (full.pods, full.list_pods, full.watch.watchers),
            (100_000, 10_000, 1000)
        );
        assert_eq!(full.runs, 3);
        assert!(quick.pods < full.pods && quick.watch.duration < full.watch.duration);
        let custom = Sizes::from(
            &Cli::parse_from(["x", "--quick", "--pods", "50", "--list-pods", "80"]).flags,
        );
        assert_eq!((custom.pods, custom.list_pods), (50, 50));
    }
}
