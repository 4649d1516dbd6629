//! The results table (plain text and Markdown) and the machine it ran on.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Miss,
    /// A baseline or context figure, no goal.
    Info,
}

impl Verdict {
    pub fn judge(pass: bool) -> Verdict {
        if pass {
            Verdict::Pass
        } else {
            Verdict::Miss
        }
    }
    fn text(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Miss => "MISS",
            Verdict::Info => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub section: &'static str,
    pub figure: String,
    pub value: String,
    pub goal: String,
    pub verdict: Verdict,
}

#[derive(Debug, Default)]
pub struct Table {
    pub rows: Vec<Row>,
}

impl Table {
    pub fn goal(
        &mut self,
        section: &'static str,
        figure: impl Into<String>,
        value: impl Into<String>,
        goal: impl Into<String>,
        pass: bool,
    ) {
        self.rows.push(Row {
            section,
            figure: figure.into(),
            value: value.into(),
            goal: goal.into(),
            verdict: Verdict::judge(pass),
        });
    }

    pub fn info(
        &mut self,
        section: &'static str,
        figure: impl Into<String>,
        value: impl Into<String>,
    ) {
        self.rows.push(Row {
            section,
            figure: figure.into(),
            value: value.into(),
            goal: String::new(),
            verdict: Verdict::Info,
        });
    }

    pub fn misses(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::Miss)
            .count()
    }
    pub fn passes(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.verdict == Verdict::Pass)
            .count()
    }

    /// A fixed-width table for the terminal.
    pub fn text(&self) -> String {
        let cells = |r: &Row| {
            [
                r.section.to_owned(),
                r.figure.clone(),
                r.value.clone(),
                r.goal.clone(),
                r.verdict.text().to_owned(),
            ]
        };
        let header = ["", "figure", "value", "goal", ""].map(String::from);
        let mut widths = header.clone().map(|h| h.chars().count());
        for r in &self.rows {
            for (w, c) in widths.iter_mut().zip(cells(r)) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String; 5]| {
            let mut s = String::new();
            for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', pad));
            }
            s.trim_end().to_owned() + "\n"
        };
        let mut out = line(&header);
        out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 8));
        out.push('\n');
        let mut last = "";
        for r in &self.rows {
            let mut c = cells(r);
            if r.section == last {
                c[0].clear();
            }
            last = r.section;
            out.push_str(&line(&c));
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = String::from("| | figure | value | goal | |\n|---|---|---|---|---|\n");
        let mut last = "";
        for r in &self.rows {
            let section = if r.section == last { "" } else { r.section };
            last = r.section;
            let verdict = match r.verdict {
                Verdict::Pass => "pass",
                Verdict::Miss => "**miss**",
                Verdict::Info => "",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                section,
                r.figure.replace('|', "\\|"),
                r.value.replace('|', "\\|"),
                r.goal.replace('|', "\\|"),
                verdict
            );
        }
        out
    }
}

/// What the run was on.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub cpus: usize,
    pub model: String,
    pub memory_gib: f64,
    pub kernel: String,
    pub load_before: String,
    pub load_after: String,
}

impl Machine {
    pub fn probe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            model: cpu_model(&cpuinfo),
            memory_gib: mem_total_kib(&meminfo) as f64 / (1024.0 * 1024.0),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            load_before: loadavg(),
            load_after: String::new(),
        }
    }
}

/// Prints the table and, when asked, writes it as Markdown with the machine, the date and
/// the command line: how every `rkube bench` component ends its run.
pub fn print_and_save(
    table: &Table,
    machine: &Machine,
    date: &str,
    command: &str,
    markdown: Option<&std::path::Path>,
) -> std::io::Result<()> {
    println!();
    println!("{}", table.text());
    if let Some(path) = markdown {
        let md = format!(
            "- Date: {date}\n- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}\n- Load average before / after: {} / {}\n- Command: `{command}`\n\n{}",
            machine.cpus,
            machine.model,
            machine.memory_gib,
            machine.kernel,
            machine.load_before,
            machine.load_after,
            table.markdown()
        );
        std::fs::write(path, md)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn cpu_model(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned())
}

fn mem_total_kib(meminfo: &str) -> u64 {
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    parse_cpu_seconds(&stat)
}

fn parse_cpu_seconds(stat: &str) -> f64 {
    // Fields after the `(comm)`, which may itself hold spaces: state is field 3, utime 14,
    // stime 15 (1-based), i.e. 11 and 12 after the comm.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The civil date (year, month, day) of a day counted from 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the epoch.
pub fn utc_date(epoch_seconds: u64) -> String {
    let (y, m, d) = civil_from_days((epoch_seconds / 86_400) as i64);
    let secs = epoch_seconds % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        (secs % 3600) / 60
    )
}

/// Now as RFC 3339 with microseconds (what Time and MicroTime fields accept).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let secs = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60,
        now.subsec_micros()
    )
}

pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_date(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13 UTC");
        assert_eq!(utc_date(4_102_444_799), "2099-12-31 23:59 UTC");
    }

    #[test]
    fn proc_parsing() {
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n"),
            "AMD EPYC 7B13"
        );
        assert_eq!(cpu_model(""), "unknown");
        assert_eq!(mem_total_kib("MemTotal:       24576000 kB\n"), 24_576_000);
        let stat = "42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1";
        assert_eq!(parse_cpu_seconds(stat), 3.0);
        assert!(cpu_seconds(std::process::id()) >= 0.0);
    }

    #[test]
    fn tables() {
        let mut t = Table::default();
        t.goal("GET", "req/s", "21,000/s", "≥ 20,000/s", true);
        t.goal("GET", "p99", "7.1 ms", "< 5 ms", false);
        t.info("etcd", "range req/s", "9,000/s");
        assert_eq!((t.passes(), t.misses()), (1, 1));
        let text = t.text();
        assert!(text.contains("MISS"), "{text}");
        assert_eq!(text.matches("GET").count(), 1, "{text}");
        let md = t.markdown();
        assert!(
            md.contains("| GET | req/s | 21,000/s | ≥ 20,000/s | pass |"),
            "{md}"
        );
        assert!(
            md.contains("|  | p99 | 7.1 ms | < 5 ms | **miss** |"),
            "{md}"
        );
    }
}
