//! Acknowledged writes survive `kill -9` of the process.
//!
//! The test re-runs this test binary as a child that only executes `crash_child`: it
//! writes as fast as it can from several tasks and prints every acknowledged write. The
//! parent kills it with SIGKILL at some point, reopens the directory and checks that
//! every acknowledged write is there.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Storage};

const DIR_ENV: &str = "RKUBE_STORAGE_CRASH_DIR";
const ROUND_ENV: &str = "RKUBE_STORAGE_CRASH_ROUND";

/// Not a test on its own: does nothing unless started by the test below.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(DIR_ENV) else {
        return;
    };
    let round: u32 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let store =
            EmbeddedStore::open(std::path::Path::new(&dir), EmbeddedOptions::default()).unwrap();
        let mut tasks = Vec::new();
        for t in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let hot = format!("/hot/{t}");
                for i in 0u64.. {
                    let key = format!("/c/{round}/{t}/{i}");
                    let kv = store
                        .create(
                            &key,
                            Box::new(move |rev| Bytes::from(format!("{rev}:{}", "v".repeat(300)))),
                        )
                        .await
                        .unwrap();
                    println!("ACK {key} {}", kv.mod_revision);
                    let kv = match store.get(&hot).await.unwrap() {
                        None => {
                            store
                                .create(&hot, Box::new(|rev| Bytes::from(rev.to_string())))
                                .await
                        }
                        Some(cur) => {
                            store
                                .update(
                                    &hot,
                                    cur.mod_revision,
                                    Box::new(|rev| Bytes::from(rev.to_string())),
                                )
                                .await
                        }
                    }
                    .unwrap();
                    println!("ACK {hot} {}", kv.mod_revision);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last_rev = 0;
    for round in 0..4u32 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(DIR_ENV, dir.path())
            .env(ROUND_ENV, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut acked: HashMap<String, u64> = HashMap::new();
        let kill_after = 500 + 700 * round as usize;
        let mut n = 0;
        for line in lines.by_ref() {
            let line = line.unwrap();
            if let Some(ack) = line.strip_prefix("ACK ") {
                let (key, rev) = ack.split_once(' ').unwrap();
                acked.insert(key.to_owned(), rev.parse().unwrap());
                n += 1;
                if n == kill_after {
                    child.kill().unwrap(); // SIGKILL
                }
            }
        }
        child.wait().unwrap();
        assert!(n >= kill_after, "the child stopped early after {n} writes");

        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = EmbeddedStore::open(dir.path(), EmbeddedOptions::default()).unwrap();
            let max_acked = acked.values().copied().max().unwrap();
            assert!(store.current_revision() >= max_acked);
            assert!(max_acked > last_rev, "revisions continue across crashes");
            for (key, rev) in &acked {
                let kv = store
                    .get(key)
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("acknowledged {key} lost"));
                if key.starts_with("/hot/") {
                    assert!(
                        kv.mod_revision >= *rev,
                        "{key}: acknowledged {rev}, found {}",
                        kv.mod_revision
                    );
                } else {
                    assert_eq!(kv.mod_revision, *rev, "{key}");
                    assert!(kv.value.starts_with(format!("{rev}:").as_bytes()));
                }
            }
            last_rev = store.current_revision();
        });
    }
}
