//! Lists now and at older revisions, and compaction of that history (asked for or by the
//! history window).

use std::collections::BTreeMap;

use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Revision, Storage, StorageError};

use crate::{dump, next_event, open, opts, render, rows, tomb, Row};

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
    let mut expected: BTreeMap<Revision, Vec<Row>> = BTreeMap::new();
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
    assert_eq!(rows(&l.items), want);
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
