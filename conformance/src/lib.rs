//! `rkube conformance`: a harness that drives the Kubernetes REST API of any cluster,
//! snapshot-tests the answers and reports coverage of upstream's conformance behaviours.
//!
//! It talks only through the API, so a run against rkube and one against upstream
//! Kubernetes are comparable. See the crate README for the layout.

pub mod client;
pub mod cluster;
pub mod coverage;
mod flags;
pub mod report;
pub mod runner;
pub mod snapshot;
pub mod suites;

use std::collections::HashSet;
use std::io::Write as _;
use std::time::Instant;

use anyhow::Context as _;
use regex::Regex;

pub use flags::ConformanceFlags;

use client::Api;
use cluster::ClusterFacts;
use coverage::Coverage;
use report::Counts;
use runner::{Runner, Status, TestResult};
use snapshot::Snapshots;
use suites::Test;

/// Exit code after Ctrl-C, as shells report a SIGINT death.
const INTERRUPTED: i32 = 130;

/// The tests `--focus` and `--skip` select, in run order.
pub fn select(flags: &ConformanceFlags) -> anyhow::Result<Vec<Test>> {
    let compile = |flag: &str, re: &Option<String>| -> anyhow::Result<Option<Regex>> {
        re.as_deref()
            .map(|r| Regex::new(r).with_context(|| format!("{flag} {r:?}")))
            .transpose()
    };
    let focus = compile("--focus", &flags.focus)?;
    let skip = compile("--skip", &flags.skip)?;
    Ok(suites::all()
        .into_iter()
        .filter(|t| {
            let id = t.id();
            focus.as_ref().is_none_or(|re| re.is_match(&id))
                && !skip.as_ref().is_some_and(|re| re.is_match(&id))
        })
        .collect())
}

/// Run the harness; the process exit code (0 only when nothing failed).
pub async fn run(flags: ConformanceFlags) -> anyhow::Result<i32> {
    let tests = select(&flags)?;
    if flags.list {
        let mut out = std::io::stdout().lock();
        for t in &tests {
            let needs: Vec<&str> = t.needs.iter().map(|c| c.name()).collect();
            let needs = if needs.is_empty() {
                String::new()
            } else {
                format!(" [needs {}]", needs.join(", "))
            };
            let only = if t.rkube_only { " [rkube-only]" } else { "" };
            // A closed pipe (`| head`) ends the listing quietly.
            if writeln!(out, "{}{needs}{only}\n    {}", t.id(), t.description).is_err() {
                break;
            }
        }
        return Ok(0);
    }
    let coverage = Coverage::builtin()?;
    let api = Api::connect(flags.server.as_deref(), flags.kubeconfig.as_deref()).await?;
    let version = api
        .get_json("/version")
        .await
        .with_context(|| format!("reaching the cluster at {}", api.server))?;
    let cluster_version = version["gitVersion"].as_str().unwrap_or("?").to_string();
    let facts = ClusterFacts::probe(&api).await?;
    let snapshots = match (&flags.record, &flags.snapshots) {
        (Some(dir), _) => Snapshots::record(dir)?,
        (None, Some(dir)) => Snapshots::from_dir(dir)?,
        (None, None) => Snapshots::builtin(),
    };
    println!(
        "rkube conformance: {} tests against {} ({cluster_version}), {} at a time",
        tests.len(),
        api.server,
        flags.parallel.max(1)
    );
    println!("{}", facts.describe());

    let mut runner = Runner::new(api.clone(), facts, snapshots, flags.parallel);
    runner.image = flags.image.clone();
    let started = Instant::now();
    let total = tests.len();
    let mut done = 0;
    let run = runner.run(&tests, |r| {
        done += 1;
        println!("{}", report::progress_line(done, total, r));
    });
    let mut results = tokio::select! {
        results = run => results,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ninterrupted: deleting the test namespaces");
            runner.cleanup().await;
            return Ok(INTERRUPTED);
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    for r in &mut results {
        r.upstream = coverage.upstream_of(&r.id);
    }
    let known: HashSet<String> = suites::all().iter().map(Test::id).collect();
    let passed: HashSet<String> = results
        .iter()
        .filter(|r| r.status == Status::Passed)
        .map(|r| r.id.clone())
        .collect();
    let counts = Counts::of(&results);

    print_failures(&results);
    println!("\n{}", report::area_table(&results));
    println!(
        "{} ({} with every mapped test passing in this run; coverage.yaml)",
        coverage.sentence(&known),
        coverage.passed(&passed)
    );
    if let Some(dir) = runner.snapshots.recording() {
        println!(
            "recorded {} snapshots into {}",
            runner
                .snapshots
                .checked
                .load(std::sync::atomic::Ordering::Relaxed),
            dir.display()
        );
    }
    if let Some(path) = &flags.junit {
        std::fs::write(path, report::junit(&results, seconds))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &flags.report {
        let json = report::json_report(
            &api.server,
            &cluster_version,
            &results,
            (coverage.covered(&known), coverage.total()),
            seconds,
        );
        std::fs::write(path, serde_json::to_string_pretty(&json)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", counts.line());
    Ok(if counts.failed == 0 { 0 } else { 1 })
}

fn print_failures(results: &[TestResult]) {
    let failed: Vec<&TestResult> = results
        .iter()
        .filter(|r| r.status == Status::Failed)
        .collect();
    if failed.is_empty() {
        return;
    }
    println!("\nfailed:");
    for r in failed {
        let first = r
            .message
            .as_deref()
            .and_then(|m| m.lines().next())
            .unwrap_or("");
        println!("  {}: {first}", r.id);
    }
}
