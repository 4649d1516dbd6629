//! What the figure runners share to write the table: value formatting, the CPU meter,
//! the notes under the table, and the Markdown report of `--markdown`.

use std::time::Duration;

use super::Sizes;
use crate::load;
use crate::report::{self, Machine, Table};
use crate::stats::Repeated;

/// Problems worth a line under the table (errors seen during load, skipped parts).
#[derive(Default)]
pub(super) struct Notes(pub(super) Vec<String>);

impl Notes {
    pub(super) fn check(&mut self, what: &str, o: &load::Outcome) {
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

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

pub(super) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub(super) fn lat(r: &Repeated) -> String {
    format!("{:.2} / {:.2} ms", r.p50(), r.p99())
}

pub(super) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// CPU time the apiserver and this process (the load generator) spent on some requests.
pub(super) struct CpuMeter {
    server_pid: u32,
    pub(super) server: f64,
    pub(super) client: f64,
    ops: u64,
}

impl CpuMeter {
    pub(super) fn new(server_pid: u32) -> CpuMeter {
        CpuMeter {
            server_pid,
            server: 0.0,
            client: 0.0,
            ops: 0,
        }
    }
    pub(super) fn now(&self) -> (f64, f64) {
        (
            report::cpu_seconds(self.server_pid),
            report::cpu_seconds(std::process::id()),
        )
    }
    pub(super) fn add(&mut self, since: (f64, f64), ops: u64) {
        let now = self.now();
        self.server += now.0 - since.0;
        self.client += now.1 - since.1;
        self.ops += ops;
    }
    pub(super) fn text(&self) -> String {
        let per = |s: f64| ratio(s * 1e6, self.ops as f64);
        format!(
            "apiserver {:.0} µs, load generator {:.0} µs",
            per(self.server),
            per(self.client)
        )
    }
}

/// The machine, the command and the table as `--markdown` writes them.
#[allow(clippy::too_many_arguments)]
pub(super) fn markdown(
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
