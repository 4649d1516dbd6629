//! `rkube bench apiserver`: the flags, the phases in order, and the table of figures.
//!
//! Each figure's runner lives in a file of its own (`get`, `create`, `watch_fanout`,
//! `store` with `list`, `startup`); `figures` holds what they share to write the table
//! and the Markdown report, `requests` the HTTP calls they share.

mod create;
mod figures;
mod get;
mod list;
mod requests;
mod startup;
mod store;
mod watch_fanout;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::etcd::Etcd;
use crate::procs::Apiserver;
use crate::report::{self, Machine, Table};
use crate::watch;
use figures::{markdown, Notes};

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
        startup::empty(&mut ctx).await?;
    }
    if phases
        .iter()
        .any(|p| matches!(p, Phase::Get | Phase::Create | Phase::Watch))
    {
        let main_dir = ctx.dir.join("main");
        let mut api = Apiserver::start(&ctx.binary, &main_dir, &ctx.dir.join("main.log")).await?;
        eprintln!("apiserver pid {} on {}", api.child.pid(), api.addr);
        if phases.contains(&Phase::Get) {
            get::run(&mut ctx, &api).await?;
        }
        if phases.contains(&Phase::Create) {
            create::run(&mut ctx, &api).await?;
        }
        if phases.contains(&Phase::Watch) {
            watch_fanout::run(&mut ctx, &mut api).await?;
        }
        api.child.kill();
        let _ = std::fs::remove_dir_all(&main_dir);
    }
    if let Some(e) = ctx.etcd.take() {
        e.child.kill();
    }
    if phases.contains(&Phase::Store) {
        store::run(&mut ctx).await?;
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
