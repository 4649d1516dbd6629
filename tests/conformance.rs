//! `rkube conformance` against a real `rkube server` (apiserver, controllers, scheduler,
//! kubelet and kube-proxy in one process) in a network namespace of the test's own:
//! everything passes but the listed known differences from upstream, every skip names
//! what it needs, the snapshots recorded from this cluster are the stored set, and the
//! reports are sound; and against `rkube apiserver` alone, what needs no other component
//! passes and the rest is skipped with what it needs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};

use common::eventually;
use common::kubelet::remove_cgroup_tree;
use common::netns::Netns;
use serde_json::Value;

/// The image the harness runs pods with (`--image`), imported into the kubelet's store
/// before the server starts: nothing is pulled.
const IMAGE: &str = "rkube.test/busybox:conformance";

/// The node's InternalIP, on a veth in the cluster's netns.
const NODE_IP: &str = "10.79.0.10";

static CLUSTERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `rkube server` on 127.0.0.1:8080 inside its own netns, with its own cgroup root and a
/// busybox image in its kubelet's store; killed and cleaned up on drop.
struct Cluster {
    child: Child,
    cgroup_root: String,
    /// The server's log (warnings, and what the controllers did), kept after the test
    /// for whoever investigates a failure.
    log: std::path::PathBuf,
    _data: tempfile::TempDir,
    // Dropped last: removing the netns kills whatever the pods left running in it.
    netns: Netns,
}

impl Cluster {
    fn start(tag: &str) -> Cluster {
        let netns = Netns::new(tag);
        let data = tempfile::tempdir().unwrap();
        let n = CLUSTERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cgroup_root = format!("rkube-conformance-{}-{n}", std::process::id());
        let image_dir = data.path().join("image");
        let image = common::oci_image::busybox_image(&image_dir, IMAGE, "conformance");
        let archive = image.oci_archive(&image_dir.join("busybox.tar"));
        let out = netns
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            .args(["images", "import"])
            .arg(&archive)
            .arg("--root-dir")
            .arg(data.path().join("kubelet"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The node's address, where the apiserver reaches the kubelet (nodes/{name}/proxy).
        netns.sh(&format!(
            "ip link add node type veth peer name node-peer && ip addr add {NODE_IP}/24 dev node \
             && ip link set node-peer up && ip link set node up"
        ));
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("conformance-{tag}.log"));
        let child = netns
            .cmd(env!("CARGO_BIN_EXE_rkube"))
            // Bound on every address of the netns, so the `kubernetes` Service's endpoint
            // (the node's address, which the server advertises) answers too.
            .args([
                "server",
                "--insecure-bind-address",
                "0.0.0.0",
                "--insecure-port",
                "8080",
            ])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--kubelet-arg", &format!("cgroup-root={cgroup_root}")])
            .args(["--kubelet-arg", &format!("node-ip={NODE_IP}")])
            .env("RUST_LOG", "warn,rkube_controllers=info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create the server's log"))
            .spawn()
            .expect("spawn rkube server");
        let cluster = Cluster {
            child,
            cgroup_root,
            log,
            _data: data,
            netns,
        };
        // The harness probes the components once, at its start: wait until they all show.
        eventually(60, "rkube server with a Ready node", || {
            let out = cluster.netns.sh_output(
                "curl -sf --max-time 2 http://127.0.0.1:8080/api/v1/nodes && \
                 curl -sf --max-time 2 -o /dev/null \
                   http://127.0.0.1:8080/api/v1/namespaces/kube-system/serviceaccounts/default",
            );
            let nodes: Value = serde_json::from_slice(&out.stdout).ok()?;
            let ready = nodes["items"].as_array()?.iter().any(|n| {
                n["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            });
            (out.status.success() && ready).then_some(())
        });
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        remove_cgroup_tree(&self.cgroup_root);
    }
}

/// Harness tests that assert upstream behaviour rkube's apiserver does not have yet, each
/// with what differs. They run (and fail) in every run of the harness; CI leaves them out
/// of its verdict until the apiserver catches up.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

fn run_harness(cluster: &Cluster, out: &Path, extra: &[&str]) -> (bool, String) {
    let output = cluster
        .netns
        .cmd(env!("CARGO_BIN_EXE_rkube"))
        .args([
            "conformance",
            "--server",
            "http://127.0.0.1:8080",
            "--image",
            IMAGE,
        ])
        .args(extra)
        .env("RUST_LOG", "warn")
        .current_dir(out)
        .output()
        .expect("run rkube conformance");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), stdout)
}

#[test]
fn the_harness_passes_against_rkube_but_for_known_differences() {
    let cluster = Cluster::start("conformance");
    let out = tempfile::tempdir().unwrap();
    let (_, stdout) = run_harness(
        &cluster,
        out.path(),
        &["--report", "report.json", "--junit", "junit.xml"],
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let tests = report["tests"].as_array().expect("the report lists tests");
    assert!(tests.len() > 150, "only {} tests ran", tests.len());

    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    for t in tests {
        let id = t["id"].as_str().unwrap();
        let message = t["message"].as_str().unwrap_or("");
        match (t["status"].as_str().unwrap(), known.contains_key(id)) {
            ("failed", false) => unexpected.push(format!("{id}: {message}")),
            ("passed", true) => fixed.push(id.to_string()),
            ("skipped", _) => assert!(
                message.starts_with("needs "),
                "{id} is skipped without naming what it needs: {message:?}"
            ),
            _ => {}
        }
    }
    assert!(
        unexpected.is_empty(),
        "failures (a snapshot that differs on purpose is re-recorded with \
         RKUBE_CONFORMANCE_RECORD=1 cargo test --test conformance; the server's log is {}):\n{}",
        cluster.log.display(),
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "these now pass: take them off KNOWN_DIFFERENCES: {fixed:?}"
    );
    let ids: Vec<&str> = tests.iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in known.keys() {
        assert!(
            ids.contains(id),
            "KNOWN_DIFFERENCES names {id}, which did not run"
        );
    }

    // The closing line, and the reports agree with it.
    let summary = &report["summary"];
    let line = format!(
        "{} passed, {} failed, {} skipped",
        summary["passed"], summary["failed"], summary["skipped"]
    );
    assert_eq!(stdout.lines().last(), Some(line.as_str()));
    assert_eq!(
        summary["failed"].as_u64(),
        Some(KNOWN_DIFFERENCES.len() as u64)
    );
    let coverage = report["coverage"]["sentence"].as_str().unwrap();
    assert!(
        coverage.ends_with("of 408 upstream conformance behaviours"),
        "{coverage}"
    );
    assert!(stdout.contains(coverage), "the run prints {coverage:?}");
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    assert!(junit.starts_with("<?xml"));
    assert_eq!(junit.matches("<testcase ").count(), tests.len());
    assert_eq!(
        junit.matches("<failure ").count() as u64,
        summary["failed"].as_u64().unwrap()
    );
    assert_eq!(
        junit.matches("<skipped ").count() as u64,
        summary["skipped"].as_u64().unwrap()
    );
}

/// `rkube conformance --server http://127.0.0.1:PORT` against `rkube apiserver` alone:
/// every test that needs no other component passes, and every other one is skipped with
/// what it needs. The apiserver advertises the node address (upstream's takes its host's
/// interface address) so that the `kubernetes` Service has endpoints; nothing is sent there.
#[test]
fn the_harness_passes_against_the_apiserver_alone() {
    let netns = Netns::new("conf-api");
    let data = tempfile::tempdir().unwrap();
    let mut apiserver = netns
        .cmd(env!("CARGO_BIN_EXE_rkube"))
        .args(["apiserver", "--insecure-port", "8080"])
        .args(["--advertise-address", NODE_IP])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn rkube apiserver");
    eventually(30, "rkube apiserver ready", || {
        netns
            .sh_output("curl -sf --max-time 2 http://127.0.0.1:8080/readyz")
            .status
            .success()
            .then_some(())
    });
    let out = tempfile::tempdir().unwrap();
    let output = netns
        .cmd(env!("CARGO_BIN_EXE_rkube"))
        .args(["conformance", "--server", "http://127.0.0.1:8080"])
        .args(["--report", "report.json"])
        .env("RUST_LOG", "warn")
        .current_dir(out.path())
        .output()
        .expect("run rkube conformance");
    let _ = apiserver.kill();
    let _ = apiserver.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let report: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let tests = report["tests"].as_array().expect("the report lists tests");
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for t in tests {
        let id = t["id"].as_str().unwrap();
        let message = t["message"].as_str().unwrap_or("");
        match t["status"].as_str().unwrap() {
            "failed" => failed.push(format!("{id}: {message}")),
            "skipped" => {
                assert!(
                    message.starts_with("needs "),
                    "{id} is skipped without naming what it needs: {message:?}"
                );
                skipped.push(id.to_string());
            }
            _ => {}
        }
    }
    assert!(failed.is_empty(), "failures:\n{}", failed.join("\n"));
    assert!(output.status.success(), "exit 0 when nothing failed");
    assert!(
        tests.len() - skipped.len() > 150,
        "only {} of {} tests ran",
        tests.len() - skipped.len(),
        tests.len()
    );
    // Without a kubelet the pod-running tests cannot pass: they must be the skipped ones.
    assert!(
        skipped.iter().any(|id| id == "kubelet/logs"),
        "kubelet/logs is skipped without a kubelet: {skipped:?}"
    );
}

/// Two recordings in a row from one cluster are identical and equal the stored set.
/// `RKUBE_CONFORMANCE_RECORD=1` replaces the stored set with the recording instead (review
/// the change with `git diff conformance/snapshots`).
#[test]
fn recorded_snapshots_are_stable_and_match_the_stored_set() {
    let cluster = Cluster::start("conf-snap");
    let stored = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/snapshots");
    let mut recordings = Vec::new();
    // A test that fails in one run takes fewer snapshots there: its failure explains the
    // difference.
    let mut failures = Vec::new();
    for run in 1..=2 {
        let out = tempfile::tempdir().unwrap();
        let (_, stdout) = run_harness(&cluster, out.path(), &["--record", "snaps"]);
        recordings.push(read_dir(&out.path().join("snaps")));
        if let Some((_, failed)) = stdout.split_once("\nfailed:\n") {
            let failed = failed.split("\n\n").next().unwrap_or("");
            failures.push(format!("run {run} failed:\n{failed}"));
        }
    }
    let unstable: Vec<&String> = recordings[0]
        .keys()
        .chain(recordings[1].keys())
        .filter(|k| recordings[0].get(*k) != recordings[1].get(*k))
        .collect();
    assert!(
        unstable.is_empty(),
        "two runs recorded different snapshots: {unstable:?}\n{}\nthe server's log is {}",
        failures.join("\n"),
        cluster.log.display()
    );
    if std::env::var_os("RKUBE_CONFORMANCE_RECORD").is_some() {
        for entry in std::fs::read_dir(&stored).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "snap") {
                std::fs::remove_file(&path).unwrap();
            }
        }
        for (name, text) in &recordings[0] {
            std::fs::write(stored.join(name), text).unwrap();
        }
        return;
    }
    let stored = read_dir(&stored);
    let missing: Vec<&String> = stored
        .keys()
        .filter(|k| !recordings[0].contains_key(*k))
        .collect();
    let new: Vec<&String> = recordings[0]
        .keys()
        .filter(|k| !stored.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "stored snapshots no test takes any more: {missing:?}"
    );
    assert!(
        new.is_empty(),
        "snapshots not stored yet (RKUBE_CONFORMANCE_RECORD=1 cargo test --test conformance): {new:?}"
    );
    for (name, text) in &recordings[0] {
        assert_eq!(
            text, &stored[name],
            "{name} differs from the stored snapshot; if the change is meant, re-record with \
             RKUBE_CONFORMANCE_RECORD=1 cargo test --test conformance and review git diff conformance/snapshots"
        );
    }
}

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}
