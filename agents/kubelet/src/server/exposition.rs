//! The Prometheus text format (version 0.0.4), as the kubelet serves it. Written by hand
//! rather than through a metrics registry: most series here are read at scrape time from
//! cgroups and the pod cache, with label sets that change from one scrape to the next.

use std::fmt::Write as _;

use crate::metrics::HistogramCounts;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Default)]
pub struct Exposition {
    out: String,
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Go's %g-like rendering Prometheus clients use: integers without a fraction.
fn number(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

impl Exposition {
    /// `# HELP` and `# TYPE` for a family; its samples follow.
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    pub fn sample(&mut self, name: &str, pairs: &[(&str, &str)], value: f64) {
        let _ = writeln!(self.out, "{name}{} {}", labels(pairs), number(value));
    }

    /// A histogram family's `_bucket` (cumulative, then `+Inf`), `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, bounds: &[f64], counts: &HistogramCounts) {
        let mut cumulative = 0;
        for (bound, n) in bounds.iter().zip(&counts.buckets) {
            cumulative += n;
            let le = number(*bound);
            self.sample(&format!("{name}_bucket"), &[("le", &le)], cumulative as f64);
        }
        self.sample(
            &format!("{name}_bucket"),
            &[("le", "+Inf")],
            counts.count as f64,
        );
        self.sample(&format!("{name}_sum"), &[], counts.sum);
        self.sample(&format!("{name}_count"), &[], counts.count as f64);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_families_labels_and_histograms() {
        let mut e = Exposition::default();
        e.family("kubelet_running_pods", "gauge", "Number of pods");
        e.sample("kubelet_running_pods", &[], 3.0);
        e.sample("x", &[("pod", "a\"b\\c\nd"), ("namespace", "ns")], 0.25);
        e.histogram(
            "h",
            &[0.5, 1.0],
            &HistogramCounts {
                buckets: vec![1, 2],
                sum: 2.5,
                count: 4,
            },
        );
        assert_eq!(
            e.finish(),
            "# HELP kubelet_running_pods Number of pods\n\
             # TYPE kubelet_running_pods gauge\n\
             kubelet_running_pods 3\n\
             x{pod=\"a\\\"b\\\\c\\nd\",namespace=\"ns\"} 0.25\n\
             h_bucket{le=\"0.5\"} 1\n\
             h_bucket{le=\"1\"} 3\n\
             h_bucket{le=\"+Inf\"} 4\n\
             h_sum 2.5\n\
             h_count 4\n"
        );
    }
}
