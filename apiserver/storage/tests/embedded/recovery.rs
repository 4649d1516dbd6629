//! What a reopened directory holds: every acknowledged write, a torn tail cut off,
//! corruption refused, the log compacted into a snapshot, preallocated space ignored; and
//! one store a directory at a time.

use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, EventKind, Storage, StorageError};

use crate::{dump, next_event, open, opts, render, s, segments, tomb};

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
    assert_eq!(s(e.prev_value.as_ref().unwrap()), "v1@2");
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
