//! What a run tells: the per-area table and closing line, JUnit XML and the JSON report.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use crate::runner::{Status, TestResult};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a TestResult>) -> Counts {
        let mut c = Counts::default();
        for r in results {
            match r.status {
                Status::Passed => c.passed += 1,
                Status::Failed => c.failed += 1,
                Status::Skipped => c.skipped += 1,
            }
        }
        c
    }

    /// The closing line: `N passed, M failed, K skipped`.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// One progress line, as a test ends.
pub fn progress_line(done: usize, total: usize, r: &TestResult) -> String {
    let tag = match r.status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
    };
    let width = total.to_string().len();
    let mut line = format!(
        "[{done:>width$}/{total}] {tag} {} ({:.2}s)",
        r.id, r.seconds
    );
    if let Some(m) = &r.message {
        match r.status {
            Status::Skipped => {
                let _ = write!(line, ": {m}");
            }
            _ => {
                for l in m.lines() {
                    let _ = write!(line, "\n        {l}");
                }
            }
        }
    }
    line
}

fn by_area(results: &[TestResult]) -> BTreeMap<&str, Vec<&TestResult>> {
    let mut areas: BTreeMap<&str, Vec<&TestResult>> = BTreeMap::new();
    for r in results {
        areas.entry(r.area.as_str()).or_default().push(r);
    }
    areas
}

/// The per-area table.
pub fn area_table(results: &[TestResult]) -> String {
    let areas = by_area(results);
    let width = areas.keys().map(|a| a.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:<width$}  {:>6}  {:>6}  {:>7}\n",
        "area", "passed", "failed", "skipped"
    );
    for (area, rs) in &areas {
        let c = Counts::of(rs.iter().copied());
        let _ = writeln!(
            out,
            "{area:<width$}  {:>6}  {:>6}  {:>7}",
            c.passed, c.failed, c.skipped
        );
    }
    let c = Counts::of(results);
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>7}",
        "total", c.passed, c.failed, c.skipped
    );
    out
}

pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a testsuite per area, a testcase per test, `<skipped>` and `<failure>`.
pub fn junit(results: &[TestResult], total_seconds: f64) -> String {
    let c = Counts::of(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rkube-conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{total_seconds:.3}\">",
        results.len(),
        c.failed,
        c.skipped
    );
    for (area, rs) in by_area(results) {
        let ac = Counts::of(rs.iter().copied());
        let time: f64 = rs.iter().map(|r| r.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\">",
            xml_escape(area),
            rs.len(),
            ac.failed,
            ac.skipped
        );
        for r in rs {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml_escape(area),
                xml_escape(&r.id),
                r.seconds
            );
            let message = r.message.as_deref().unwrap_or("");
            match r.status {
                Status::Passed => out.push_str("/>\n"),
                Status::Skipped => {
                    let _ = write!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        xml_escape(message)
                    );
                }
                Status::Failed => {
                    let first = message.lines().next().unwrap_or("failed");
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"failure\">{}</failure>\n    </testcase>\n",
                        xml_escape(first),
                        xml_escape(message)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The JSON report.
pub fn json_report(
    server: &str,
    cluster: &str,
    results: &[TestResult],
    coverage: (usize, usize),
    total_seconds: f64,
) -> serde_json::Value {
    let c = Counts::of(results);
    let areas: BTreeMap<&str, serde_json::Value> = by_area(results)
        .into_iter()
        .map(|(area, rs)| {
            let ac = Counts::of(rs.iter().copied());
            (
                area,
                json!({"passed": ac.passed, "failed": ac.failed, "skipped": ac.skipped}),
            )
        })
        .collect();
    json!({
        "server": server,
        "cluster": cluster,
        "seconds": total_seconds,
        "summary": {"passed": c.passed, "failed": c.failed, "skipped": c.skipped, "line": c.line()},
        "coverage": {
            "covered": coverage.0,
            "total": coverage.1,
            "sentence": format!("covers {} of {} upstream conformance behaviours", coverage.0, coverage.1),
        },
        "areas": areas,
        "tests": results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, status: Status, message: Option<&str>) -> TestResult {
        let (area, name) = id.split_once('/').unwrap();
        TestResult {
            id: id.into(),
            area: area.into(),
            name: name.into(),
            description: "d".into(),
            status,
            message: message.map(str::to_string),
            seconds: 0.5,
            rkube_only: false,
            upstream: vec![],
        }
    }

    fn sample() -> Vec<TestResult> {
        vec![
            result("watch/a", Status::Passed, None),
            result(
                "watch/b",
                Status::Failed,
                Some("expected <404> & got \"500\"\n- a\n+ b\u{1}"),
            ),
            result("proxy/c", Status::Skipped, Some("needs kubelet")),
        ]
    }

    #[test]
    fn closing_line_and_table() {
        let rs = sample();
        assert_eq!(Counts::of(&rs).line(), "1 passed, 1 failed, 1 skipped");
        let table = area_table(&rs);
        assert!(
            table.contains("\nproxy       0       0        1\n"),
            "{table}"
        );
        assert!(
            table.contains("\nwatch       1       1        0\n"),
            "{table}"
        );
        assert!(
            table.contains("\ntotal       1       1        1\n"),
            "{table}"
        );
    }

    #[test]
    fn junit_is_well_formed_with_one_testcase_per_test() {
        let xml = junit(&sample(), 1.5);
        let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 3);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("expected <404> & got \"500\"")
        );
        assert!(failure.text().unwrap().contains("+ b"));
        let skipped = doc
            .descendants()
            .find(|n| n.has_tag_name("skipped"))
            .unwrap();
        assert_eq!(skipped.attribute("message"), Some("needs kubelet"));
        let root = doc.root_element();
        assert_eq!(
            (
                root.attribute("tests"),
                root.attribute("failures"),
                root.attribute("skipped")
            ),
            (Some("3"), Some("1"), Some("1"))
        );
    }

    #[test]
    fn json_report_counts() {
        let v = json_report("http://x", "v1.33.0", &sample(), (5, 408), 2.0);
        assert_eq!(v["summary"]["failed"], 1);
        assert_eq!(
            v["coverage"]["sentence"],
            "covers 5 of 408 upstream conformance behaviours"
        );
        assert_eq!(v["tests"][2]["status"], "skipped");
        assert_eq!(v["areas"]["watch"]["passed"], 1);
    }
}
