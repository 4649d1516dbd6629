//! Container logs rotated by size (`--container-log-max-size`, `--container-log-max-files`)
//! by a real kubelet, while the container keeps writing and `kubectl logs -f` follows.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};

/// Lines the container prints: `line 0` … `line {LINES-1}`, then `done`, and after a pause
/// longer than the monitor interval three more that land in a fresh current file.
const LINES: u64 = 60_000;
const MAX_FILES: usize = 3;

/// The container's log files: rotated ones oldest first (their names sort by time), the
/// current one last.
fn log_files(dir: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap() != "0.log")
        .collect();
    rotated.sort();
    rotated.push(dir.join("0.log"));
    rotated
}

/// The output lines of a CRI log file, gzipped or not.
fn output_lines(file: &Path) -> Vec<String> {
    let bytes = if file.extension().is_some_and(|e| e == "gz") {
        let out = Command::new("zcat").arg(file).output().unwrap();
        assert!(out.status.success(), "zcat {}", file.display());
        out.stdout
    } else {
        std::fs::read(file).unwrap()
    };
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| {
            let text = l.splitn(4, ' ').nth(3);
            text.unwrap_or_else(|| panic!("not a CRI line: {l:?}"))
                .to_string()
        })
        .collect()
}

fn number(line: &str) -> Option<u64> {
    line.strip_prefix("line ")?.parse().ok()
}

/// Asserts that `lines` are `line N`, `line N+1`, … up to `line {LINES-1}` then the
/// markers, with nothing missing or repeated; returns N.
fn assert_consecutive(lines: &[String], what: &str) -> u64 {
    let first = number(&lines[0]).unwrap_or_else(|| panic!("{what} starts with {:?}", lines[0]));
    let expected = (first..LINES)
        .map(|n| format!("line {n}"))
        .chain(["done", "tail-1", "tail-2", "tail-3"].map(String::from));
    for (i, (got, want)) in lines.iter().zip(expected).enumerate() {
        assert_eq!(got, &want, "{what}, line {i} of {}", lines.len());
    }
    assert_eq!(
        lines.len() as u64,
        LINES - first + 4,
        "{what}: the whole run"
    );
    first
}

#[test]
fn container_logs_rotate_by_size_and_lose_no_line() {
    let cluster = NodeCluster::start_with(&[
        "--container-log-max-size=100Ki",
        "--container-log-max-files=3",
        "--container-log-monitor-interval=3s",
    ]);
    let script = format!(
        "i=0; while [ $i -lt {LINES} ]; do j=0; while [ $j -lt 200 ]; do echo \"line $i\"; \
         i=$((i+1)); j=$((j+1)); done; sleep 0.05; done; echo done; sleep 8; \
         echo tail-1; echo tail-2; echo tail-3; exec sleep 3600"
    );
    cluster.create_pod(
        "chatty",
        serde_json::json!({"containers": [{"name": "main", "image": BUSYBOX, "command": ["sh", "-c", script]}]}),
    );
    let pod = cluster.wait_phase("chatty", "Running", 60);
    let mut follower = cluster
        .apiserver
        .command("kubectl")
        .args(["logs", "-f", "chatty"])
        .env("KUBECONFIG", &cluster.apiserver.kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let followed = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let last = line == "tail-3";
            lines.push(line);
            if last {
                break;
            }
        }
        lines
    });

    let meta = &pod["metadata"];
    let dir = cluster.kubelet.logs_dir().join(format!(
        "default_chatty_{}/main",
        meta["uid"].as_str().unwrap()
    ));
    // While it writes: never more than max-files files; rotated files appear, get
    // compressed, and the oldest go.
    let mut rotated_seen = std::collections::BTreeSet::new();
    let mut compressed_seen = false;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let names: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.len() <= MAX_FILES, "{names:?}");
        compressed_seen |= names.iter().any(|n| n.ends_with(".gz"));
        rotated_seen.extend(names.iter().filter(|n| *n != "0.log").cloned());
        let current = std::fs::read_to_string(dir.join("0.log")).unwrap_or_default();
        if current.ends_with(" stdout F tail-3\n") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the container never finished: {names:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let files = log_files(&dir);
    assert!(files.len() <= MAX_FILES, "{files:?}");
    assert!(
        compressed_seen,
        "no rotated file was compressed: {rotated_seen:?}"
    );
    let removed = rotated_seen
        .iter()
        .filter(|n| !n.ends_with(".gz") && !files.iter().any(|f| f.ends_with(n)))
        .filter(|n| {
            let gz = format!("{n}.gz");
            !files.iter().any(|f| f.ends_with(&gz))
        })
        .count();
    assert!(
        removed >= 1,
        "no rotated file was removed: {rotated_seen:?} {files:?}"
    );

    // The files that remain hold one unbroken run of lines, across their boundaries.
    let lines: Vec<String> = files.iter().flat_map(|f| output_lines(f)).collect();
    let oldest_kept = assert_consecutive(&lines, &format!("the files {files:?}"));
    assert!(oldest_kept > 0, "the oldest lines were rotated away");

    // kubectl logs reads the current file: the newest lines.
    let (ok, tail, err) = cluster
        .apiserver
        .kubectl("kubectl", &["logs", "chatty", "--tail=2"]);
    assert!(ok, "{err}");
    assert_eq!(tail, "tail-2\ntail-3\n");

    // The follower went on across every rotation after it started, losing nothing.
    eventually(30, "the follower reaching the end", || {
        followed.is_finished().then_some(())
    });
    let _ = follower.kill();
    let _ = follower.wait();
    let followed = followed.join().unwrap();
    let first_followed = assert_consecutive(&followed, "kubectl logs -f");
    assert!(
        first_followed < oldest_kept,
        "the follower started at line {first_followed}, after the rotations"
    );

    // Killed, the container restarts into 1.log; --previous still reads the rotated run's
    // current file.
    for pid in cluster.container_pids(&pod) {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    eventually(60, "the container restarted", || {
        let pod = cluster.pod("chatty")?;
        (pod["status"]["containerStatuses"][0]["restartCount"].as_u64()? >= 1).then_some(())
    });
    let (ok, previous, err) = cluster
        .apiserver
        .kubectl("kubectl", &["logs", "chatty", "--previous", "--tail=2"]);
    assert!(ok, "{err}");
    assert_eq!(previous, "tail-2\ntail-3\n");
}
