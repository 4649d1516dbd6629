//! Behaviour tests of the embedded store through the public API.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use rkube_storage::{
    EmbeddedOptions, EmbeddedStore, Event, EventKind, KeyValue, Render, RenderTombstone, Revision,
    Storage, StorageError, WatchEnd,
};
use tokio::sync::mpsc::error::TryRecvError;

fn render(s: &str) -> Render {
    let s = s.to_owned();
    Box::new(move |rev| Bytes::from(format!("{s}@{rev}")))
}

fn tomb() -> RenderTombstone {
    Box::new(|rev, prev| Bytes::from(format!("deleted@{rev}:{}", String::from_utf8_lossy(prev))))
}

fn opts() -> EmbeddedOptions {
    EmbeddedOptions::default()
}

fn open(dir: &Path) -> EmbeddedStore {
    EmbeddedStore::open(dir, opts()).unwrap()
}

fn s(b: &Bytes) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("wal-"))
        .collect();
    v.sort();
    v
}

/// The full key space as (key, value, create, mod).
async fn dump(store: &EmbeddedStore, rev: Option<Revision>) -> Vec<(String, String, u64, u64)> {
    let l = store.list("", rev).await.unwrap();
    l.items
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                s(&kv.value),
                kv.create_revision,
                kv.mod_revision,
            )
        })
        .collect()
}

async fn next_event(w: &mut rkube_storage::Watch) -> Result<Event, WatchEnd> {
    tokio::time::timeout(Duration::from_secs(10), w.events.recv())
        .await
        .expect("timed out waiting for an event")
        .expect("watch channel closed")
}

#[tokio::test]
async fn create_get_update_delete_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    assert_eq!(st.current_revision(), 0);
    assert_eq!(st.get("/a").await.unwrap(), None);

    let kv = st.create("/a", render("a")).await.unwrap();
    assert_eq!(
        kv,
        KeyValue {
            key: "/a".into(),
            value: Bytes::from("a@1"),
            create_revision: 1,
            mod_revision: 1
        }
    );
    assert_eq!(st.get("/a").await.unwrap(), Some(kv.clone()));
    assert_eq!(st.current_revision(), 1);

    assert_eq!(
        st.create("/a", render("again")).await,
        Err(StorageError::AlreadyExists("/a".into()))
    );
    assert_eq!(
        st.update("/a", 7, render("x")).await,
        Err(StorageError::Conflict {
            key: "/a".into(),
            expected: 7,
            actual: 1
        })
    );
    assert_eq!(
        st.update("/missing", 1, render("x")).await,
        Err(StorageError::NotFound("/missing".into()))
    );
    assert_eq!(
        st.delete("/missing", None, tomb()).await,
        Err(StorageError::NotFound("/missing".into()))
    );
    assert_eq!(
        st.current_revision(),
        1,
        "failed writes consume no revision"
    );

    let kv = st.update("/a", 1, render("a2")).await.unwrap();
    assert_eq!(
        (s(&kv.value).as_str(), kv.create_revision, kv.mod_revision),
        ("a2@2", 1, 2)
    );
    assert_eq!(
        st.get("/a").await.unwrap().unwrap().value,
        Bytes::from("a2@2")
    );

    assert_eq!(
        st.delete("/a", Some(1), tomb()).await,
        Err(StorageError::Conflict {
            key: "/a".into(),
            expected: 1,
            actual: 2
        })
    );
    let t = st.delete("/a", Some(2), tomb()).await.unwrap();
    assert_eq!(
        (s(&t.value).as_str(), t.create_revision, t.mod_revision),
        ("deleted@3:a2@2", 1, 3)
    );
    assert_eq!(st.get("/a").await.unwrap(), None);
    assert_eq!(
        st.update("/a", 2, render("x")).await,
        Err(StorageError::NotFound("/a".into()))
    );

    let kv = st.create("/a", render("again")).await.unwrap();
    assert_eq!((kv.create_revision, kv.mod_revision), (4, 4));
    // Unconditional delete.
    let t = st.delete("/a", None, tomb()).await.unwrap();
    assert_eq!(t.mod_revision, 5);
    assert_eq!(st.current_revision(), 5);
}

#[tokio::test]
async fn get_shares_the_stored_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let kv = st.create("/a", render(&"x".repeat(2000))).await.unwrap();
    let g1 = st.get("/a").await.unwrap().unwrap();
    let g2 = st.get("/a").await.unwrap().unwrap();
    let l = st.list("/", None).await.unwrap();
    assert_eq!(g1.value.as_ptr(), kv.value.as_ptr());
    assert_eq!(g2.value.as_ptr(), kv.value.as_ptr());
    assert_eq!(l.items[0].value.as_ptr(), kv.value.as_ptr());
}

#[tokio::test]
async fn revisions_are_global_and_strictly_increasing() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let mut last = 0;
    for i in 0..20 {
        let key = format!("/k{}", i % 3);
        let kv = match st.get(&key).await.unwrap() {
            None => st.create(&key, render("v")).await.unwrap(),
            Some(cur) => st
                .update(&key, cur.mod_revision, render("v"))
                .await
                .unwrap(),
        };
        assert_eq!(kv.mod_revision, last + 1);
        last = kv.mod_revision;
        // A failing write in between changes nothing.
        let _ = st.create(&key, render("dup")).await.unwrap_err();
    }
    assert_eq!(st.current_revision(), 20);
}

#[tokio::test]
async fn list_by_prefix_is_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    for k in [
        "/pods/ns1/b",
        "/pods/ns2/a",
        "/podsx/a",
        "/pods/ns1/a",
        "/pod",
        "/services/a",
        "/pods/ns1/c",
    ] {
        st.create(k, render(k)).await.unwrap();
    }
    let l = st.list("/pods/", None).await.unwrap();
    let keys: Vec<_> = l.items.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        keys,
        ["/pods/ns1/a", "/pods/ns1/b", "/pods/ns1/c", "/pods/ns2/a"]
    );
    assert_eq!(l.revision, 7);
    let l = st.list("/pods/ns1/", Some(7)).await.unwrap();
    assert_eq!(l.items.len(), 3);
    assert_eq!(l.items[0].value, Bytes::from("/pods/ns1/a@4"));
    assert!(st.list("/nothing/", None).await.unwrap().items.is_empty());
    assert_eq!(st.list("", None).await.unwrap().items.len(), 7);
}

/// Random writes; after each one the whole key space is recorded; then every older
/// revision is listed and compared (deleted and re-created keys included).
#[tokio::test]
async fn list_at_old_revisions_reconstructs_state() {
    use rand::{Rng, SeedableRng};
    let dir = tempfile::tempdir().unwrap();
    let st = EmbeddedStore::open(
        dir.path(),
        EmbeddedOptions {
            fsync: false,
            ..opts()
        },
    )
    .unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut expected: BTreeMap<Revision, Vec<(String, String, u64, u64)>> = BTreeMap::new();
    expected.insert(0, vec![]);
    for i in 0..400 {
        let key = format!("/r/{}", rng.gen_range(0..12));
        let cur = st.get(&key).await.unwrap();
        let res = match (cur, rng.gen_range(0..3)) {
            (None, _) => st.create(&key, render(&format!("c{i}"))).await,
            (Some(c), 0) => st.delete(&key, Some(c.mod_revision), tomb()).await,
            (Some(c), _) => {
                st.update(&key, c.mod_revision, render(&format!("u{i}")))
                    .await
            }
        };
        let rev = res.unwrap().mod_revision;
        expected.insert(rev, dump(&st, None).await);
    }
    for (rev, want) in &expected {
        assert_eq!(&dump(&st, Some(*rev)).await, want, "list at revision {rev}");
    }
    // Prefix filtering also applies to old revisions.
    let l = st.list("/r/1", Some(200)).await.unwrap();
    let want: Vec<_> = expected[&200]
        .iter()
        .filter(|e| e.0.starts_with("/r/1"))
        .cloned()
        .collect();
    let got: Vec<_> = l
        .items
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                s(&kv.value),
                kv.create_revision,
                kv.mod_revision,
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(l.revision, 200);
}

#[tokio::test]
async fn compacted_and_future_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    for i in 0..10 {
        st.create(&format!("/k{i}"), render("v")).await.unwrap();
    }
    assert_eq!(
        st.list("/", Some(11)).await.unwrap_err(),
        StorageError::FutureRevision {
            requested: 11,
            current: 10
        }
    );
    assert_eq!(
        st.compact(11).await.unwrap_err(),
        StorageError::FutureRevision {
            requested: 11,
            current: 10
        }
    );
    assert_eq!(st.compacted_revision(), 0);
    assert_eq!(st.list("/", Some(0)).await.unwrap().items.len(), 0);

    st.compact(4).await.unwrap();
    assert_eq!(st.compacted_revision(), 4);
    assert_eq!(
        st.list("/", Some(3)).await.unwrap_err(),
        StorageError::Compacted {
            requested: 3,
            compacted: 4
        }
    );
    assert_eq!(
        st.watch("/", 3).err(),
        Some(StorageError::Compacted {
            requested: 3,
            compacted: 4
        })
    );
    assert_eq!(st.list("/", Some(4)).await.unwrap().items.len(), 4);
    let mut w = st.watch("/", 4).unwrap();
    assert_eq!(next_event(&mut w).await.unwrap().revision, 5);
    // Compacting backwards is a no-op.
    st.compact(2).await.unwrap();
    assert_eq!(st.compacted_revision(), 4);
    assert_eq!(st.stats().history, 6);
}

#[tokio::test]
async fn history_window_compacts_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let st = EmbeddedStore::open(
        dir.path(),
        EmbeddedOptions {
            history_window: 5,
            ..opts()
        },
    )
    .unwrap();
    for i in 0..12 {
        st.create(&format!("/k{i}"), render("v")).await.unwrap();
    }
    assert_eq!(st.compacted_revision(), 7);
    assert_eq!(st.stats().history, 5);
    assert!(matches!(
        st.list("/", Some(6)).await,
        Err(StorageError::Compacted { .. })
    ));
    assert_eq!(st.list("/", Some(7)).await.unwrap().items.len(), 7);
    assert!(matches!(
        st.watch("/", 6),
        Err(StorageError::Compacted { .. })
    ));
    let mut w = st.watch("/", 7).unwrap();
    for rev in 8..=12 {
        assert_eq!(next_event(&mut w).await.unwrap().revision, rev);
    }
}

#[tokio::test]
async fn watch_replays_history_then_streams_live_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.create("/a", render("a")).await.unwrap(); // 1
    st.create("/b", render("b")).await.unwrap(); // 2
    st.update("/a", 1, render("a2")).await.unwrap(); // 3
    st.delete("/b", None, tomb()).await.unwrap(); // 4

    let mut w = st.watch("/", 1).unwrap();
    let e = next_event(&mut w).await.unwrap();
    assert_eq!(
        e,
        Event {
            kind: EventKind::Created,
            key: "/b".into(),
            value: "b@2".into(),
            prev_value: None,
            revision: 2
        }
    );
    let e = next_event(&mut w).await.unwrap();
    assert_eq!(
        e,
        Event {
            kind: EventKind::Updated,
            key: "/a".into(),
            value: "a2@3".into(),
            prev_value: Some("a@1".into()),
            revision: 3
        }
    );
    let e = next_event(&mut w).await.unwrap();
    assert_eq!(
        e,
        Event {
            kind: EventKind::Deleted,
            key: "/b".into(),
            value: "deleted@4:b@2".into(),
            prev_value: Some("b@2".into()),
            revision: 4
        }
    );
    assert_eq!(w.events.try_recv().unwrap_err(), TryRecvError::Empty);

    for i in 0..20 {
        st.create(&format!("/live/{i:02}"), render("v"))
            .await
            .unwrap();
    }
    for rev in 5..25 {
        let e = next_event(&mut w).await.unwrap();
        assert_eq!(e.revision, rev);
        assert_eq!(e.kind, EventKind::Created);
    }
    assert_eq!(w.events.try_recv().unwrap_err(), TryRecvError::Empty);

    // From the current revision: nothing replayed.
    let mut w2 = st.watch("/", st.current_revision()).unwrap();
    assert_eq!(w2.events.try_recv().unwrap_err(), TryRecvError::Empty);
    st.create("/z", render("z")).await.unwrap();
    assert_eq!(next_event(&mut w2).await.unwrap().revision, 25);
    assert_eq!(next_event(&mut w).await.unwrap().revision, 25);
}

#[tokio::test]
async fn watch_filters_by_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.create("/pods/a", render("x")).await.unwrap(); // 1
    st.create("/podsx/a", render("x")).await.unwrap(); // 2
    let mut pods = st.watch("/pods/", 0).unwrap();
    let mut all = st.watch("/", 0).unwrap();
    let mut svc = st.watch("/services/", 0).unwrap();
    st.create("/services/a", render("x")).await.unwrap(); // 3
    st.create("/pods/b", render("x")).await.unwrap(); // 4
    assert_eq!(next_event(&mut pods).await.unwrap().key, "/pods/a");
    assert_eq!(next_event(&mut pods).await.unwrap().key, "/pods/b");
    assert_eq!(pods.events.try_recv().unwrap_err(), TryRecvError::Empty);
    for rev in 1..=4 {
        assert_eq!(next_event(&mut all).await.unwrap().revision, rev);
    }
    assert_eq!(next_event(&mut svc).await.unwrap().revision, 3);
    assert_eq!(svc.events.try_recv().unwrap_err(), TryRecvError::Empty);
}

/// Watches started at arbitrary moments while writes are being committed see every
/// revision after their start exactly once, in order: no gap, no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_started_during_writes_have_no_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    // The watches are only read at the end: give them room for everything.
    let options = EmbeddedOptions {
        fsync: false,
        watch_queue: 4096,
        ..opts()
    };
    let st = EmbeddedStore::open(dir.path(), options).unwrap();
    const WRITES: u64 = 2000;
    let writer = {
        let st = st.clone();
        tokio::spawn(async move {
            let mut tasks = Vec::new();
            for t in 0..8 {
                let st = st.clone();
                tasks.push(tokio::spawn(async move {
                    for i in 0..WRITES / 8 {
                        st.create(&format!("/w/{t}/{i}"), render("v"))
                            .await
                            .unwrap();
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
    };
    let mut watches = Vec::new();
    while watches.len() < 40 {
        let after = st
            .current_revision()
            .saturating_sub(watches.len() as u64 % 3);
        watches.push((after, st.watch("/w/", after).unwrap()));
        tokio::time::sleep(Duration::from_micros(300)).await;
    }
    writer.await.unwrap();
    for (after, mut w) in watches {
        for rev in after + 1..=WRITES {
            assert_eq!(
                next_event(&mut w).await.unwrap().revision,
                rev,
                "watch from {after}"
            );
        }
        assert_eq!(w.events.try_recv().unwrap_err(), TryRecvError::Empty);
    }
}

#[tokio::test]
async fn slow_watcher_is_ended_and_does_not_block_writers() {
    let dir = tempfile::tempdir().unwrap();
    let st = EmbeddedStore::open(
        dir.path(),
        EmbeddedOptions {
            watch_queue: 4,
            ..opts()
        },
    )
    .unwrap();
    let mut slow = st.watch("/", 0).unwrap();
    let mut fast = st.watch("/", 0).unwrap();
    let mut fast_seen = 0;
    for i in 0..50 {
        tokio::time::timeout(
            Duration::from_secs(10),
            st.create(&format!("/k{i}"), render("v")),
        )
        .await
        .expect("a slow watcher must not block writers")
        .unwrap();
        while let Ok(e) = fast.events.try_recv() {
            fast_seen += 1;
            assert_eq!(e.unwrap().revision, fast_seen);
        }
    }
    assert_eq!(fast_seen, 50);
    let mut got = Vec::new();
    while let Some(item) = slow.events.recv().await {
        got.push(item);
    }
    assert_eq!(got.len(), 5, "{got:?}");
    for (i, item) in got[..4].iter().enumerate() {
        assert_eq!(item.as_ref().unwrap().revision, i as u64 + 1);
    }
    assert_eq!(got[4], Err(WatchEnd::TooSlow));
    let stats = st.stats();
    assert_eq!(stats.slow_watchers, 1);
    assert_eq!(stats.watchers, 1);
}

#[tokio::test]
async fn long_replay_does_not_end_a_watch() {
    let dir = tempfile::tempdir().unwrap();
    let st = EmbeddedStore::open(
        dir.path(),
        EmbeddedOptions {
            watch_queue: 4,
            fsync: false,
            ..opts()
        },
    )
    .unwrap();
    for i in 0..100 {
        st.create(&format!("/k{i}"), render("v")).await.unwrap();
    }
    let mut w = st.watch("/", 0).unwrap();
    for rev in 1..=100 {
        assert_eq!(next_event(&mut w).await.unwrap().revision, rev);
    }
    st.create("/more", render("v")).await.unwrap();
    assert_eq!(next_event(&mut w).await.unwrap().revision, 101);
}

#[tokio::test]
async fn dropped_watchers_are_removed_and_close_ends_watches() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let w = st.watch("/", 0).unwrap();
    let mut kept = st.watch("/", 0).unwrap();
    assert_eq!(st.stats().watchers, 2);
    drop(w);
    st.create("/a", render("v")).await.unwrap();
    assert_eq!(st.stats().watchers, 1);
    assert_eq!(next_event(&mut kept).await.unwrap().revision, 1);
    drop(st);
    assert_eq!(next_event(&mut kept).await, Err(WatchEnd::Closed));
    assert!(kept.events.recv().await.is_none());
}

#[tokio::test]
async fn render_panic_fails_only_that_write() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    st.create("/a", render("a")).await.unwrap();
    let err = st
        .create("/b", Box::new(|_| panic!("boom")))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::Io(_)), "{err:?}");
    assert_eq!(st.get("/b").await.unwrap(), None);
    assert_eq!(st.create("/c", render("c")).await.unwrap().mod_revision, 2);
}

#[tokio::test]
async fn reopen_keeps_every_acknowledged_write_and_continues_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let (want, rev) = {
        let st = open(dir.path());
        for i in 0..200 {
            st.create(&format!("/k/{i:03}"), render(&format!("v{i}")))
                .await
                .unwrap();
        }
        for i in (0..200).step_by(3) {
            let k = format!("/k/{i:03}");
            let cur = st.get(&k).await.unwrap().unwrap();
            st.update(&k, cur.mod_revision, render("updated"))
                .await
                .unwrap();
        }
        for i in (0..200).step_by(7) {
            st.delete(&format!("/k/{i:03}"), None, tomb())
                .await
                .unwrap();
        }
        st.create("/k/000", render("recreated")).await.unwrap();
        // The last writes are deletes: their revisions must not be reused.
        st.delete("/k/001", None, tomb()).await.unwrap();
        st.delete("/k/002", None, tomb()).await.unwrap();
        (dump(&st, None).await, st.current_revision())
    };
    let st = open(dir.path());
    assert_eq!(st.current_revision(), rev);
    assert_eq!(dump(&st, None).await, want);
    assert_eq!(st.stats().replayed_records, rev);
    // The replayed WAL is history again: watches and lists can go back before the restart.
    let compacted = st.compacted_revision();
    assert_eq!(compacted, rev - 10_000.min(rev));
    let mut w = st.watch("/k/", rev - 2).unwrap();
    let e = next_event(&mut w).await.unwrap();
    assert_eq!(
        (e.kind, e.key.as_str(), e.revision),
        (EventKind::Deleted, "/k/001", rev - 1)
    );
    assert_eq!(s(&e.prev_value.unwrap()), "v1@2");
    let kv = st.create("/k/new", render("n")).await.unwrap();
    assert_eq!(kv.mod_revision, rev + 1);
    assert_eq!(next_event(&mut w).await.unwrap().revision, rev);
    assert_eq!(next_event(&mut w).await.unwrap().revision, rev + 1);
    drop(w);
    drop(st);
    let st = open(dir.path());
    assert_eq!(st.current_revision(), rev + 1);
    assert_eq!(
        st.get("/k/new").await.unwrap().unwrap().value,
        Bytes::from(format!("n@{}", rev + 1))
    );
}

#[tokio::test]
async fn torn_tail_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    {
        let st = open(dir.path());
        for i in 0..50 {
            st.create(&format!("/k{i:02}"), render("v")).await.unwrap();
        }
    }
    let seg = segments(dir.path()).pop().unwrap();
    let good_len = std::fs::metadata(&seg).unwrap().len();
    // Garbage after the last complete frame.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[0x5a; 37]).unwrap();
    }
    {
        let st = open(dir.path());
        assert_eq!(st.current_revision(), 50);
        assert_eq!(st.list("/", None).await.unwrap().items.len(), 50);
        assert_eq!(st.stats().truncated_bytes, 37);
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), good_len);
        st.create("/after", render("v")).await.unwrap();
    }
    // A partially written last frame (header and part of the payload).
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    {
        let st = open(dir.path());
        assert_eq!(st.current_revision(), 50);
        assert_eq!(st.get("/after").await.unwrap(), None);
        assert_eq!(
            st.create("/after2", render("v"))
                .await
                .unwrap()
                .mod_revision,
            51
        );
    }
    // Only part of a frame header.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[0x52, 0x4b, 0x57]).unwrap();
    }
    let st = open(dir.path());
    assert_eq!(st.current_revision(), 51);
    assert_eq!(st.list("/", None).await.unwrap().items.len(), 51);
}

#[tokio::test]
async fn corruption_in_the_middle_refuses_to_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let st = open(dir.path());
        for i in 0..10 {
            st.create(&format!("/k{i}"), render("some value"))
                .await
                .unwrap();
        }
    }
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[30] ^= 0xff; // inside the first frame's payload
    std::fs::write(&seg, &bytes).unwrap();
    match EmbeddedStore::open(dir.path(), opts()) {
        Err(StorageError::Io(msg)) => assert!(msg.contains("corrupt"), "{msg}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    // Nothing was cut off.
    assert_eq!(std::fs::read(&seg).unwrap(), bytes);
}

#[tokio::test]
async fn log_compaction_writes_a_snapshot_and_reopens_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions {
        snapshot_min_wal_bytes: 16 << 10,
        history_window: 100,
        ..opts()
    };
    let (want, rev) = {
        let st = EmbeddedStore::open(dir.path(), options.clone()).unwrap();
        for i in 0..20 {
            st.create(&format!("/k/{i:02}"), render(&"x".repeat(100)))
                .await
                .unwrap();
        }
        let mut i = 0;
        while st.stats().snapshots < 2 {
            let k = format!("/k/{:02}", i % 20);
            let cur = st.get(&k).await.unwrap().unwrap();
            st.update(
                &k,
                cur.mod_revision,
                render(&format!("{i}{}", "y".repeat(200))),
            )
            .await
            .unwrap();
            i += 1;
            assert!(i < 100_000, "no snapshot was written");
        }
        st.delete("/k/05", None, tomb()).await.unwrap();
        st.delete("/k/06", None, tomb()).await.unwrap();
        (dump(&st, None).await, st.current_revision())
    };
    assert!(dir.path().join("snapshot").exists());
    let segs = segments(dir.path());
    assert!(segs.len() <= 2, "old segments were not removed: {segs:?}");
    let st = EmbeddedStore::open(dir.path(), options.clone()).unwrap();
    assert_eq!(st.current_revision(), rev);
    assert_eq!(dump(&st, None).await, want);
    assert!(st.stats().replayed_records < rev);
    // History starts at the snapshot; everything after it is there.
    let compacted = st.compacted_revision();
    assert!(compacted > 0 && compacted < rev);
    assert_eq!(
        st.list("/", Some(compacted)).await.unwrap().revision,
        compacted
    );
    assert_eq!(
        st.create("/k/new", render("n")).await.unwrap().mod_revision,
        rev + 1
    );
    drop(st);

    // A snapshot left behind with only deletes after it: revisions still continue.
    let st = EmbeddedStore::open(dir.path(), options.clone()).unwrap();
    assert_eq!(st.current_revision(), rev + 1);
    let mut want2 = want.clone();
    want2.push(("/k/new".into(), format!("n@{}", rev + 1), rev + 1, rev + 1));
    assert_eq!(dump(&st, None).await, want2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_group_committed() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    const CLIENTS: usize = 64;
    const PER_CLIENT: usize = 20;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let st = st.clone();
        tasks.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..PER_CLIENT {
                let kv = st
                    .create(&format!("/c/{c}/{i}"), render("v"))
                    .await
                    .unwrap();
                revs.push(kv.mod_revision);
            }
            revs
        }));
    }
    let mut all = HashSet::new();
    for t in tasks {
        for rev in t.await.unwrap() {
            assert!(all.insert(rev), "revision {rev} given twice");
        }
    }
    let n = (CLIENTS * PER_CLIENT) as u64;
    assert_eq!(all, (1..=n).collect::<HashSet<_>>());
    let stats = st.stats();
    assert_eq!(stats.writes, n);
    assert!(stats.fsyncs > 0);
    assert!(
        stats.fsyncs < n / 2,
        "expected group commit, got {} fsyncs for {n} writes",
        stats.fsyncs
    );
    assert_eq!(stats.fsyncs, stats.batches);
}

#[tokio::test]
async fn a_directory_is_opened_by_one_store_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/data");
    let st = open(&path);
    st.create("/a", render("a")).await.unwrap();
    match EmbeddedStore::open(&path, opts()) {
        Err(StorageError::Io(msg)) => assert!(msg.contains("in use"), "{msg}"),
        other => panic!("expected the second open to fail, got {other:?}"),
    }
    let clone = st.clone();
    drop(st);
    // Still open through the clone.
    assert!(EmbeddedStore::open(&path, opts()).is_err());
    drop(clone);
    let st = open(&path);
    assert_eq!(st.current_revision(), 1);
}

/// With fsync on, the WAL is extended with zeros ahead of the data; a crash leaves them
/// behind (simulated by copying the files of an open store), and open ignores them.
#[tokio::test]
async fn preallocated_wal_space_is_ignored_after_a_crash_and_trimmed_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    for i in 0..10 {
        st.create(&format!("/k{i}"), render("v")).await.unwrap();
    }
    let seg = segments(dir.path()).pop().unwrap();
    let data = std::fs::read(&seg).unwrap();
    assert!(
        data.len() >= 8 << 20,
        "segment not preallocated: {} bytes",
        data.len()
    );
    assert!(data[data.len() - 100..].iter().all(|&b| b == 0));
    std::fs::write(crashed.path().join(seg.file_name().unwrap()), &data).unwrap();
    drop(st);
    let trimmed = std::fs::metadata(&seg).unwrap().len();
    assert!(trimmed < 4096, "not trimmed at close: {trimmed}");

    let st = open(crashed.path());
    assert_eq!(st.current_revision(), 10);
    assert_eq!(st.stats().truncated_bytes, 0);
    st.create("/after", render("v")).await.unwrap();
    drop(st);
    let len = std::fs::metadata(segments(crashed.path()).pop().unwrap())
        .unwrap()
        .len();
    assert!(len > trimmed && len < 4096, "{len}");

    // A torn frame followed by zeros: cut off.
    let seg = segments(crashed.path()).pop().unwrap();
    let mut data = std::fs::read(&seg).unwrap();
    let good = data.len();
    data.extend_from_slice(&[0x52, 0x4b, 0x57, 0x31, 100, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]);
    data.extend_from_slice(&vec![0u8; 1 << 20]);
    std::fs::write(&seg, &data).unwrap();
    let st = open(crashed.path());
    assert_eq!(st.current_revision(), 11);
    assert_eq!(st.stats().truncated_bytes, (data.len() - good) as u64);
}

#[tokio::test]
async fn oversized_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let st = open(dir.path());
    let key = format!("/{}", "k".repeat(70_000));
    assert!(matches!(
        st.create(&key, render("v")).await,
        Err(StorageError::Io(_))
    ));
    assert_eq!(st.current_revision(), 0);
    assert_eq!(st.create("/ok", render("v")).await.unwrap().mod_revision, 1);
}
