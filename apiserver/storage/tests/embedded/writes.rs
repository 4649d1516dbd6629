//! Writes: create, update and delete with their preconditions and errors, revisions,
//! shared bytes, group commit, and writes that fail alone.

use std::collections::HashSet;

use bytes::Bytes;
use rkube_storage::{KeyValue, Storage, StorageError};

use crate::{open, render, s, tomb};

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
