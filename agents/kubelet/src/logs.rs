//! Reading the CRI log files the shims write (`<time> <stream> <F|P> <text>` lines) back as
//! a container's output, with the options of the containerLogs endpoint.

use std::path::{Path, PathBuf};

/// The containerLogs query options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<usize>,
    pub since_seconds: Option<i64>,
    pub limit_bytes: Option<usize>,
}

impl LogOptions {
    /// From a query string (`follow=true&tailLines=10`); unknown keys are ignored.
    pub fn parse(query: Option<&str>) -> Result<LogOptions, String> {
        let mut o = LogOptions::default();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, "true"));
            let flag = || matches!(v, "true" | "1" | "");
            let number = |what: &str| {
                v.parse::<i64>()
                    .map_err(|_| format!("{what}: {v:?} is not a number"))
            };
            match k {
                "follow" => o.follow = flag(),
                "previous" => o.previous = flag(),
                "timestamps" => o.timestamps = flag(),
                "tailLines" => o.tail_lines = Some(number(k)?.max(0) as usize),
                "sinceSeconds" => o.since_seconds = Some(number(k)?),
                "limitBytes" => o.limit_bytes = Some(number(k)?.max(0) as usize),
                _ => {}
            }
        }
        Ok(o)
    }
}

/// The log file of a container's current run (highest run number) or of the run before.
pub fn log_file(container_dir: &Path, previous: bool) -> Option<PathBuf> {
    let mut runs: Vec<u32> = std::fs::read_dir(container_dir)
        .ok()?
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    runs.sort_unstable();
    let run = if previous {
        runs.len().checked_sub(2).map(|i| runs[i])?
    } else {
        *runs.last()?
    };
    Some(container_dir.join(format!("{run}.log")))
}

/// One CRI entry: (time, text, whether it ends a line).
fn parse_entry(line: &str) -> Option<(&str, &str, bool)> {
    let mut parts = line.splitn(4, ' ');
    let time = parts.next()?;
    let _stream = parts.next()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or("");
    Some((time, text, tag != "P"))
}

/// Renders complete CRI lines as output text (`since`: RFC 3339 lower bound).
pub fn render(content: &str, options: &LogOptions, since: Option<jiff::Timestamp>) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut open = false;
    for entry in content.lines().filter_map(parse_entry) {
        let (time, text, full) = entry;
        if let Some(since) = since {
            if time.parse::<jiff::Timestamp>().is_ok_and(|t| t < since) {
                continue;
            }
        }
        if open {
            if let Some(last) = lines.last_mut() {
                last.push_str(text);
            }
        } else if options.timestamps {
            lines.push(format!("{time} {text}"));
        } else {
            lines.push(text.to_string());
        }
        open = !full;
    }
    if let Some(n) = options.tail_lines {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    if let Some(limit) = options.limit_bytes {
        let mut cut = limit.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2026-01-01T00:00:01.000000000Z stdout F one\n\
                       2026-01-01T00:00:02.000000000Z stderr F two\n\
                       2026-01-01T00:00:03.000000000Z stdout P thr\n\
                       2026-01-01T00:00:03.100000000Z stdout F ee\n";

    #[test]
    fn renders_with_options() {
        let all = LogOptions::default();
        assert_eq!(render(LOG, &all, None), "one\ntwo\nthree\n");
        let tail = LogOptions {
            tail_lines: Some(1),
            timestamps: true,
            ..all.clone()
        };
        assert_eq!(
            render(LOG, &tail, None),
            "2026-01-01T00:00:03.000000000Z three\n"
        );
        let since = "2026-01-01T00:00:02Z".parse().unwrap();
        assert_eq!(render(LOG, &all, Some(since)), "two\nthree\n");
        let limited = LogOptions {
            limit_bytes: Some(5),
            ..all
        };
        assert_eq!(render(LOG, &limited, None), "one\nt");
    }

    #[test]
    fn parses_options_and_finds_runs() {
        let o = LogOptions::parse(Some("follow=true&tailLines=5&previous=false&x=1")).unwrap();
        assert!(o.follow && !o.previous && o.tail_lines == Some(5));
        assert!(LogOptions::parse(Some("tailLines=x")).is_err());
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(log_file(dir.path(), false), None);
        for run in [0, 1, 10] {
            std::fs::write(dir.path().join(format!("{run}.log")), "").unwrap();
        }
        // Rotated files of a run are not runs.
        for rotated in ["10.log.20260101-000000", "10.log.20251231-235959.gz"] {
            std::fs::write(dir.path().join(rotated), "").unwrap();
        }
        assert_eq!(log_file(dir.path(), false), Some(dir.path().join("10.log")));
        assert_eq!(log_file(dir.path(), true), Some(dir.path().join("1.log")));
    }
}
