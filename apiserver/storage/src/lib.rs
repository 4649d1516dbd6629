//! Revisioned key-value storage behind the apiserver.
//!
//! Every write gets the next value of one global revision (the apiserver's
//! `resourceVersion`). Values are opaque bytes; the apiserver stores each object
//! already encoded with its `resourceVersion`, so that reads, lists and watches hand
//! out the stored bytes without re-encoding. That is why writes take a *render*
//! function: the store calls it with the revision the write will get.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;

pub mod embedded;

pub use embedded::{EmbeddedOptions, EmbeddedStats, EmbeddedStore};

/// A global, monotonically increasing write counter. `0` means "before any write".
pub type Revision = u64;

/// One stored key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: Bytes,
    /// The revision of the write that created this key (the current incarnation).
    pub create_revision: Revision,
    /// The revision of the last write to this key.
    pub mod_revision: Revision,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created.
    Created,
    /// The key existed and was replaced.
    Updated,
    /// The key was deleted; `Event::value` is the tombstone the delete rendered.
    Deleted,
}

/// One committed change, as watchers see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    pub key: String,
    /// The new value; for `Deleted`, the rendered tombstone (the last object with the
    /// deletion's revision).
    pub value: Bytes,
    /// The value before this change (`None` for `Created`).
    pub prev_value: Option<Bytes>,
    pub revision: Revision,
}

/// A list at one revision.
#[derive(Clone, Debug, Default)]
pub struct ListResult {
    /// Matching keys in ascending key order.
    pub items: Vec<KeyValue>,
    /// The revision the list reflects.
    pub revision: Revision,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum StorageError {
    #[error("key {0} not found")]
    NotFound(String),
    #[error("key {0} already exists")]
    AlreadyExists(String),
    /// A compare-and-swap failed: the key's mod revision was not the expected one.
    #[error("key {key} was modified: expected revision {expected}, found {actual}")]
    Conflict {
        key: String,
        expected: Revision,
        actual: Revision,
    },
    /// The requested revision is older than the history kept (HTTP 410 Expired upstream).
    #[error("required revision {requested} has been compacted (oldest kept: {compacted})")]
    Compacted {
        requested: Revision,
        compacted: Revision,
    },
    /// The requested revision is newer than the store's current revision.
    #[error("revision {requested} is newer than the current revision {current}")]
    FutureRevision {
        requested: Revision,
        current: Revision,
    },
    #[error("storage I/O error: {0}")]
    Io(String),
    #[error("storage is closed")]
    Closed,
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Produces the bytes to store once the revision of the write is known.
pub type Render = Box<dyn FnOnce(Revision) -> Bytes + Send>;
/// Produces the tombstone of a delete from the revision and the value being deleted.
pub type RenderTombstone = Box<dyn FnOnce(Revision, &Bytes) -> Bytes + Send>;

/// Why a watch stream ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// The watcher did not keep up and its bounded queue filled: it must re-list (410).
    TooSlow,
    /// The store is shutting down.
    Closed,
}

/// A live watch: committed events with a revision greater than the start revision, for
/// keys under the watched prefix, in revision order, each exactly once. Every watcher
/// of an event gets the same shared `Event` (one reference count, not a copy of its key
/// and values per watcher: a write fans out to thousands of watchers).
pub struct Watch {
    pub events: tokio::sync::mpsc::Receiver<std::result::Result<Arc<Event>, WatchEnd>>,
}

/// The operations the apiserver needs from a store. Implemented by the embedded store
/// and (in a later issue) by etcd v3.
pub trait Storage: Send + Sync + 'static {
    /// The revision of the last committed write.
    fn current_revision(&self) -> Revision;

    /// The oldest revision a list or watch may still start from.
    fn compacted_revision(&self) -> Revision;

    fn get(&self, key: &str) -> impl Future<Output = Result<Option<KeyValue>>> + Send;

    /// All keys starting with `prefix` as of `revision` (`None`: the current revision).
    fn list(
        &self,
        prefix: &str,
        revision: Option<Revision>,
    ) -> impl Future<Output = Result<ListResult>> + Send;

    /// Create `key`; fails with `AlreadyExists` if it exists. Resolves once durable.
    fn create(&self, key: &str, value: Render) -> impl Future<Output = Result<KeyValue>> + Send;

    /// Replace `key` if its mod revision is `expected` (compare-and-swap).
    fn update(
        &self,
        key: &str,
        expected: Revision,
        value: Render,
    ) -> impl Future<Output = Result<KeyValue>> + Send;

    /// Delete `key`, if its mod revision is `expected` when given. Returns the tombstone
    /// (value = rendered tombstone, mod_revision = the delete's revision).
    fn delete(
        &self,
        key: &str,
        expected: Option<Revision>,
        tombstone: RenderTombstone,
    ) -> impl Future<Output = Result<KeyValue>> + Send;

    /// Watch keys under `prefix` for events with revision > `after`.
    /// Fails with `Compacted` if history no longer reaches back to `after`.
    fn watch(&self, prefix: &str, after: Revision) -> Result<Watch>;

    /// Drop history at or below `revision`.
    fn compact(&self, revision: Revision) -> impl Future<Output = Result<()>> + Send;
}
