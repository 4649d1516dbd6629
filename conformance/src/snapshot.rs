//! Snapshots of the cluster's answers: redacted JSON in insta's `.snap` layout, compared
//! with a stored set (built into the binary, or `--snapshots DIR`) or recorded into a
//! directory (`--record DIR`) so sets from different clusters can be diffed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{bail, Context as _};
use regex::Regex;
use serde_json::{Map, Value};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_snapshots.rs"));
}

pub enum Mode {
    Compare(BTreeMap<String, String>),
    Record(PathBuf),
}

pub struct Snapshots {
    mode: Mode,
    pub checked: AtomicUsize,
}

impl Snapshots {
    /// The set stored in `conformance/snapshots` when this binary was built.
    pub fn builtin() -> Snapshots {
        let stored = builtin::SNAPSHOTS
            .iter()
            .map(|(k, v)| (k.to_string(), content(v).to_string()))
            .collect();
        Snapshots::with_mode(Mode::Compare(stored))
    }

    /// A set from a directory of `.snap` files.
    pub fn from_dir(dir: &Path) -> anyhow::Result<Snapshots> {
        let mut stored = BTreeMap::new();
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if let Some(key) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".snap"))
            {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                stored.insert(key.to_string(), content(&text).to_string());
            }
        }
        Ok(Snapshots::with_mode(Mode::Compare(stored)))
    }

    /// Write every snapshot the run takes into `dir` instead of comparing.
    pub fn record(dir: &Path) -> anyhow::Result<Snapshots> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Snapshots::with_mode(Mode::Record(dir.to_path_buf())))
    }

    fn with_mode(mode: Mode) -> Snapshots {
        Snapshots {
            mode,
            checked: AtomicUsize::new(0),
        }
    }

    pub fn recording(&self) -> Option<&Path> {
        match &self.mode {
            Mode::Record(dir) => Some(dir),
            Mode::Compare(_) => None,
        }
    }

    /// Compare an already redacted value with the stored snapshot `key`, or record it.
    pub fn check(&self, key: &str, expression: &str, value: &Value) -> anyhow::Result<()> {
        self.checked.fetch_add(1, Ordering::Relaxed);
        let actual = render(value);
        match &self.mode {
            Mode::Record(dir) => {
                let path = dir.join(format!("{key}.snap"));
                let file = format!(
                    "---\nsource: rkube conformance\nexpression: {}\n---\n{actual}\n",
                    serde_json::to_string(expression).unwrap_or_default()
                );
                std::fs::write(&path, file).with_context(|| format!("writing {}", path.display()))
            }
            Mode::Compare(stored) => {
                let Some(expected) = stored.get(key) else {
                    bail!(
                        "no stored snapshot {key}.snap for {expression}; record one with --record DIR\n{actual}"
                    );
                };
                if expected.trim_end() == actual.trim_end() {
                    Ok(())
                } else {
                    bail!(
                        "snapshot {key} ({expression}) differs from the stored one:\n{}",
                        diff(expected, &actual)
                    )
                }
            }
        }
    }
}

/// The JSON text of a snapshot, as stored.
pub fn render(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The body of a `.snap` file: what follows the second `---` line.
fn content(file: &str) -> &str {
    let mut rest = file;
    for _ in 0..2 {
        match rest.find("---\n") {
            Some(i) => rest = &rest[i + 4..],
            None => return file,
        }
    }
    rest
}

/// A unified diff, `-` for the stored snapshot and `+` for the cluster's answer.
pub fn diff(expected: &str, actual: &str) -> String {
    let (expected, actual) = (
        format!("{}\n", expected.trim_end()),
        format!("{}\n", actual.trim_end()),
    );
    similar::TextDiff::from_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("stored", "cluster")
        .to_string()
}

/// Keys whose values differ from run to run or cluster to cluster, and what replaces them.
fn redacted_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "uid" => "[uid]",
        "resourceVersion" => "[resourceVersion]",
        "continue" => "[continue]",
        "nodeName" => "[node]",
        "nodePort" | "healthCheckNodePort" => "[nodePort]",
        "gitVersion" => "[gitVersion]",
        "gitCommit" => "[gitCommit]",
        "buildDate" => "[timestamp]",
        "goVersion" => "[goVersion]",
        "platform" => "[platform]",
        _ => return None,
    })
}

fn timestamp_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
            .expect("valid regex")
    })
}

/// Replace what changes between runs and clusters (uids, resourceVersions, timestamps,
/// generated names, IPs, node names, the test's namespace) with placeholders, and sort
/// object keys so only content, not field order, is compared.
pub fn redact(value: &Value, namespaces: &[&str]) -> Value {
    match value {
        Value::Object(map) => {
            let generate_name = map.get("generateName").and_then(Value::as_str);
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                let v = &map[key];
                let is_generated = key == "name"
                    && generate_name.is_some_and(|g| {
                        v.as_str()
                            .is_some_and(|n| n.starts_with(g) && !namespaces.contains(&n))
                    });
                let redacted = if is_generated {
                    Value::String("[generated]".into())
                } else {
                    match redacted_key(key) {
                        Some(placeholder) if !is_empty(v) => Value::String(placeholder.into()),
                        _ => redact(v, namespaces),
                    }
                };
                out.insert(key.clone(), redacted);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| redact(v, namespaces)).collect()),
        Value::String(s) => Value::String(redact_string(s, namespaces)),
        other => other.clone(),
    }
}

fn is_empty(v: &Value) -> bool {
    matches!(v, Value::Null) || v.as_str() == Some("")
}

fn uid_pattern() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            .expect("valid regex")
    })
}

fn redact_string(s: &str, namespaces: &[&str]) -> String {
    if timestamp_pattern().is_match(s) {
        return "[timestamp]".into();
    }
    // UIDs also travel outside metadata.uid, e.g. in a Job's controller-uid labels.
    if uid_pattern().is_match(s) {
        return "[uid]".into();
    }
    if s.parse::<std::net::IpAddr>().is_ok() {
        return "[ip]".into();
    }
    if s.parse::<std::net::SocketAddr>().is_ok() {
        return "[address]".into();
    }
    let mut out = s.to_string();
    for ns in namespaces.iter().filter(|n| !n.is_empty()) {
        out = out.replace(ns, "[namespace]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redaction_hides_what_varies_and_keeps_the_rest() {
        let v = json!({
            "metadata": {
                "name": "cm-abc12", "generateName": "cm-", "namespace": "rkc-x-1",
                "uid": "3f1c", "resourceVersion": "42", "creationTimestamp": "2025-01-02T03:04:05Z",
                "labels": {"kubernetes.io/metadata.name": "rkc-x-1"}
            },
            "owner": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7", "fd00::7"], "type": "ClusterIP",
                     "ports": [{"port": 80, "nodePort": 31234}], "nodeName": "node-a"},
            "address": "127.0.0.1:8080", "cidr": "0.0.0.0/0", "empty": {"continue": ""},
        });
        let r = redact(&v, &["rkc-x-1"]);
        assert_eq!(
            r,
            json!({
                "address": "[address]", "cidr": "0.0.0.0/0", "empty": {"continue": ""}, "owner": "[uid]",
                "metadata": {
                    "creationTimestamp": "[timestamp]", "generateName": "cm-",
                    "labels": {"kubernetes.io/metadata.name": "[namespace]"},
                    "name": "[generated]", "namespace": "[namespace]",
                    "resourceVersion": "[resourceVersion]", "uid": "[uid]"
                },
                "spec": {"clusterIP": "[ip]", "clusterIPs": ["[ip]", "[ip]"], "nodeName": "[node]",
                         "ports": [{"nodePort": "[nodePort]", "port": 80}], "type": "ClusterIP"}
            })
        );
        // Keys come out sorted whatever order they went in.
        let text = render(&r);
        assert!(text.find("\"address\"").unwrap() < text.find("\"metadata\"").unwrap());
    }

    #[test]
    fn snap_files_compare_by_content_and_show_a_diff() {
        let file =
            "---\nsource: rkube conformance\nexpression: \"GET /api\"\n---\n{\n  \"a\": 1\n}\n";
        assert_eq!(content(file), "{\n  \"a\": 1\n}\n");
        let store = Snapshots::with_mode(Mode::Compare(BTreeMap::from([(
            "k".to_string(),
            content(file).to_string(),
        )])));
        store.check("k", "GET /api", &json!({"a": 1})).unwrap();
        let err = store
            .check("k", "GET /api", &json!({"a": 2}))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("-  \"a\": 1") && err.contains("+  \"a\": 2"),
            "{err}"
        );
        let missing = store.check("other", "GET /x", &json!({})).unwrap_err();
        assert!(missing
            .to_string()
            .contains("no stored snapshot other.snap"));
    }

    #[test]
    fn recorded_files_read_back_identically() {
        let dir = std::env::temp_dir().join(format!("rkc-snap-{}", std::process::id()));
        let rec = Snapshots::record(&dir).unwrap();
        let v = json!({"kind": "APIVersions", "versions": ["v1"]});
        rec.check("area__t__x", "GET /api", &v).unwrap();
        let back = Snapshots::from_dir(&dir).unwrap();
        back.check("area__t__x", "GET /api", &v).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
