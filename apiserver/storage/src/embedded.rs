//! The embedded store: a single-node, crash-safe revisioned key-value store in a data
//! directory.
//!
//! * All state lives in memory (`BTreeMap` of the live keys plus a bounded history of
//!   events); reads take a read lock and hand out `Bytes` clones of the stored values.
//! * Writes go through one *committer* thread. It takes every request that is waiting
//!   (up to [`EmbeddedOptions::max_batch`]), validates each against the committed state
//!   and the batch's earlier requests, renders the values with their revisions, writes
//!   the whole batch as one WAL frame with one `write` and one `fdatasync` (group commit),
//!   and only then publishes it to readers and watchers and answers the requests.
//! * The WAL is a sequence of segments; when it has grown well beyond the live data,
//!   the committer starts a new segment and writes a snapshot of the state in the
//!   background, after which the old segments are deleted. At open, the snapshot is
//!   loaded and the segments are replayed; a torn write at the end of the last segment is
//!   cut off, other corruption refuses the open.
//!
//! See `embedded/codec.rs` for the file format.

mod codec;
mod committer;
mod disk;
mod state;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use parking_lot::{Mutex, RwLock};
use tokio::sync::oneshot;

use self::codec::FrameBuf;
use self::committer::{Committer, Op, Request};
use self::state::{State, Watcher, Watchers};
use crate::{
    KeyValue, ListResult, Render, RenderTombstone, Result, Revision, Storage, StorageError, Watch,
};

/// Tuning of an [`EmbeddedStore`]. Build with struct update syntax:
/// `EmbeddedOptions { fsync: false, ..Default::default() }`.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// How many events the history keeps for watches and lists at older revisions; older
    /// events are compacted automatically (default 10,000). Explicit [`Storage::compact`]
    /// can drop more. After a restart the history holds the events replayed from the WAL
    /// (those after the last snapshot), up to this many.
    pub history_window: usize,
    /// Events a watcher may have queued and not yet received before it is ended with
    /// [`WatchEnd::TooSlow`](crate::WatchEnd::TooSlow) (default 1,024). A watch that
    /// starts from an old revision additionally gets room for its whole replay, so a
    /// replay never ends a watch by itself.
    pub watch_queue: usize,
    /// Most writes committed with one `fdatasync` (default 512).
    pub max_batch: usize,
    /// Make writes durable before acknowledging them (default `true`). `false` only for
    /// tests and benchmarks that say so: acknowledged writes may then be lost on a crash
    /// of the machine (not of the process).
    pub fsync: bool,
    /// Log compaction starts once the WAL written since the last snapshot exceeds both
    /// this many bytes and twice the live data (default 64 MiB).
    pub snapshot_min_wal_bytes: u64,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            history_window: 10_000,
            watch_queue: 1024,
            max_batch: 512,
            fsync: true,
            snapshot_min_wal_bytes: 64 << 20,
        }
    }
}

/// Counters of an [`EmbeddedStore`] since it was opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmbeddedStats {
    /// Committed writes (creates, updates, deletes).
    pub writes: u64,
    /// Committed batches (WAL frames).
    pub batches: u64,
    /// `fdatasync` calls on the WAL (0 with `fsync: false`).
    pub fsyncs: u64,
    /// Bytes appended to the WAL.
    pub wal_bytes: u64,
    /// Snapshots written (log compactions).
    pub snapshots: u64,
    /// Watchers ended with `TooSlow`.
    pub slow_watchers: u64,
    /// Watchers currently registered (some may have dropped their receiver already).
    pub watchers: usize,
    /// Live keys.
    pub keys: usize,
    /// Events in the history.
    pub history: usize,
    /// Records replayed from the WAL at open.
    pub replayed_records: u64,
    /// Bytes of a torn write cut off the WAL at open.
    pub truncated_bytes: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    writes: AtomicU64,
    batches: AtomicU64,
    fsyncs: AtomicU64,
    wal_bytes: AtomicU64,
    snapshots: AtomicU64,
    slow_watchers: AtomicU64,
}

/// State shared by the handles and the committer.
pub(crate) struct Shared {
    /// Lock order: `state`, then `watchers`.
    state: RwLock<State>,
    watchers: Mutex<Watchers>,
    revision: AtomicU64,
    compacted: AtomicU64,
    /// The committer has ended.
    closed: AtomicBool,
    stats: Counters,
    options: EmbeddedOptions,
    replayed_records: u64,
    truncated_bytes: u64,
}

/// The embedded storage backend. Cheap to clone (all clones share one store); the
/// committer thread ends, and watches end with `Closed`, when the last clone is dropped.
/// Dropping the last clone waits for the committer to finish its current batch.
#[derive(Clone)]
pub struct EmbeddedStore {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    dir: PathBuf,
    tx: Option<mpsc::Sender<Request>>,
    committer: Option<JoinHandle<()>>,
    /// Held (locked) until the committer has ended.
    _lock: std::fs::File,
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.committer.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore")
            .field("dir", &self.inner.dir)
            .field("revision", &self.current_revision())
            .finish_non_exhaustive()
    }
}

/// Creates `dir` if needed (durably) and takes the exclusive lock on `<dir>/LOCK`, so
/// that two stores (in this or another process) never write the same directory.
fn lock_dir(dir: &Path, fsync: bool) -> Result<std::fs::File> {
    let io =
        |what: &str, e: std::io::Error| StorageError::Io(format!("{}: {what}: {e}", dir.display()));
    if !dir.is_dir() {
        std::fs::create_dir_all(dir).map_err(|e| io("create", e))?;
        if fsync {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                disk::sync_dir(parent).map_err(|e| io("sync parent directory", e))?;
            }
        }
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("LOCK"))
        .map_err(|e| io("open LOCK", e))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(StorageError::Io(format!(
            "{}: the directory is in use by another store",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io("lock", e)),
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir`: loads the snapshot, replays the
    /// WAL (cutting off a torn write at its end) and starts the committer thread.
    ///
    /// Only one store may have a directory open at a time: a second open (in this or
    /// another process) fails with `Io` until the first store is dropped.
    pub fn open(dir: &Path, options: EmbeddedOptions) -> Result<EmbeddedStore> {
        let lock = lock_dir(dir, options.fsync)?;
        let started = std::time::Instant::now();
        let rec = disk::recover(dir, options.history_window, options.fsync)?;
        tracing::info!(
            dir = %dir.display(),
            revision = rec.state.revision,
            keys = rec.state.map.len(),
            replayed = rec.replayed_records,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "opened embedded store"
        );
        let shared = Arc::new(Shared {
            revision: AtomicU64::new(rec.state.revision),
            compacted: AtomicU64::new(rec.state.compacted),
            state: RwLock::new(rec.state),
            watchers: Mutex::new(Watchers::default()),
            closed: AtomicBool::new(false),
            stats: Counters::default(),
            options,
            replayed_records: rec.replayed_records,
            truncated_bytes: rec.truncated_bytes,
        });
        let (tx, rx) = mpsc::channel();
        let committer = Committer {
            shared: Arc::clone(&shared),
            rx,
            dir: dir.to_owned(),
            segment: rec.segment,
            wal_bytes: rec.wal_bytes,
            snapshot_not_before: 0,
            snapshotter: None,
            failed: None,
            pending: VecDeque::new(),
            frame: FrameBuf::default(),
        };
        let thread = std::thread::Builder::new()
            .name("rkube-storage-committer".into())
            .spawn(move || {
                let shared = Arc::clone(&committer.shared);
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| committer.run()))
                    .is_err()
                {
                    // A bug: writes now fail with `Closed`; end the watches too.
                    tracing::error!("the storage committer thread panicked");
                    shared.closed.store(true, Ordering::Release);
                    shared.watchers.lock().close_all();
                }
            })
            .map_err(|e| StorageError::Io(format!("cannot start the committer thread: {e}")))?;
        Ok(EmbeddedStore {
            inner: Arc::new(Handle {
                shared,
                dir: dir.to_owned(),
                tx: Some(tx),
                committer: Some(thread),
                _lock: lock,
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Counters since open (writes, batches, fsyncs, ...).
    pub fn stats(&self) -> EmbeddedStats {
        let s = &self.inner.shared;
        let (keys, history) = {
            let st = s.state.read();
            (st.map.len(), st.history.len())
        };
        EmbeddedStats {
            writes: s.stats.writes.load(Ordering::Relaxed),
            batches: s.stats.batches.load(Ordering::Relaxed),
            fsyncs: s.stats.fsyncs.load(Ordering::Relaxed),
            wal_bytes: s.stats.wal_bytes.load(Ordering::Relaxed),
            snapshots: s.stats.snapshots.load(Ordering::Relaxed),
            slow_watchers: s.stats.slow_watchers.load(Ordering::Relaxed),
            watchers: s.watchers.lock().list.len(),
            keys,
            history,
            replayed_records: s.replayed_records,
            truncated_bytes: s.truncated_bytes,
        }
    }

    async fn submit(&self, key: &str, op: Op) -> Result<KeyValue> {
        let (reply, answer) = oneshot::channel();
        let tx = self.inner.tx.as_ref().ok_or(StorageError::Closed)?;
        tx.send(Request {
            key: key.to_owned(),
            op,
            reply,
        })
        .map_err(|_| StorageError::Closed)?;
        answer.await.map_err(|_| StorageError::Closed)?
    }
}

impl Storage for EmbeddedStore {
    fn current_revision(&self) -> Revision {
        self.inner.shared.revision.load(Ordering::Acquire)
    }

    fn compacted_revision(&self) -> Revision {
        self.inner.shared.compacted.load(Ordering::Acquire)
    }

    async fn get(&self, key: &str) -> Result<Option<KeyValue>> {
        Ok(self.inner.shared.state.read().get(key))
    }

    async fn list(&self, prefix: &str, revision: Option<Revision>) -> Result<ListResult> {
        self.inner.shared.state.read().list(prefix, revision)
    }

    /// Once the request is queued (at the first poll), it is committed even if the
    /// future is dropped before it resolves.
    async fn create(&self, key: &str, value: Render) -> Result<KeyValue> {
        self.submit(key, Op::Create(value)).await
    }

    async fn update(&self, key: &str, expected: Revision, value: Render) -> Result<KeyValue> {
        self.submit(key, Op::Update(expected, value)).await
    }

    async fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
        tombstone: RenderTombstone,
    ) -> Result<KeyValue> {
        self.submit(key, Op::Delete(expected, tombstone)).await
    }

    /// The replay of the history (events after `after`) is queued before this returns;
    /// live events follow without gap or duplicate. `after` may be ahead of the current
    /// revision: events start once the store reaches it.
    fn watch(&self, prefix: &str, after: Revision) -> Result<Watch> {
        let shared = &*self.inner.shared;
        let st = shared.state.read();
        if after < st.compacted {
            return Err(StorageError::Compacted {
                requested: after,
                compacted: st.compacted,
            });
        }
        let replay = st.events_after(prefix, after);
        // Room for the replay, the live queue, and the final `TooSlow`/`Closed`.
        let (tx, rx) =
            tokio::sync::mpsc::channel(replay.len() + shared.options.watch_queue.max(1) + 1);
        for ev in replay {
            tx.try_send(Ok(ev))
                .expect("the channel has room for the replay");
        }
        let mut watchers = shared.watchers.lock();
        if shared.closed.load(Ordering::Acquire) {
            return Err(StorageError::Closed);
        }
        watchers.list.push(Watcher {
            prefix: prefix.to_owned(),
            tx,
        });
        Ok(Watch { events: rx })
    }

    async fn compact(&self, revision: Revision) -> Result<()> {
        let shared = &*self.inner.shared;
        let mut st = shared.state.write();
        st.compact(revision)?;
        shared.compacted.store(st.compacted, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A crash after the snapshot was renamed into place but before the segments it
    /// covers were deleted: replay skips the covered records and continues after them.
    #[tokio::test]
    async fn snapshot_with_covered_segments_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let (at10, all) = {
            let st = EmbeddedStore::open(dir.path(), EmbeddedOptions::default()).unwrap();
            for i in 0..20u64 {
                let key = format!("/k{}", i % 7);
                match st.get(&key).await.unwrap() {
                    None => {
                        st.create(&key, Box::new(move |r| Bytes::from(format!("{i}@{r}"))))
                            .await
                    }
                    Some(c) => {
                        st.delete(&key, Some(c.mod_revision), Box::new(|_, _| Bytes::new()))
                            .await
                    }
                }
                .unwrap();
            }
            (
                st.list("", Some(10)).await.unwrap(),
                st.list("", None).await.unwrap(),
            )
        };
        let entries: Vec<(String, state::Entry)> = at10
            .items
            .iter()
            .map(|kv| {
                let e = state::Entry {
                    value: kv.value.clone(),
                    create_revision: kv.create_revision,
                    mod_revision: kv.mod_revision,
                };
                (kv.key.clone(), e)
            })
            .collect();
        disk::write_snapshot(dir.path(), &entries, 10, 0, true).unwrap();
        let st = EmbeddedStore::open(dir.path(), EmbeddedOptions::default()).unwrap();
        assert_eq!(st.current_revision(), 20);
        assert_eq!(st.compacted_revision(), 10);
        assert_eq!(st.stats().replayed_records, 10);
        assert_eq!(st.list("", None).await.unwrap().items, all.items);
        assert_eq!(st.list("", Some(10)).await.unwrap().items, at10.items);
        assert!(matches!(
            st.list("", Some(9)).await,
            Err(StorageError::Compacted { .. })
        ));
    }
}
