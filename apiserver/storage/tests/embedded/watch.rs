//! Watches: replay then live events exactly once, prefixes, watches started during writes,
//! slow and dropped watchers.

use std::time::Duration;

use rkube_storage::{EmbeddedOptions, EmbeddedStore, Event, EventKind, Storage, WatchEnd};
use tokio::sync::mpsc::error::TryRecvError;

use crate::{next_event, open, opts, render, tomb};

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
        *e,
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
        *e,
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
        *e,
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
