//! Behaviour tests of the embedded store through the public API, one concern a module;
//! this file holds what they share.

mod history;
mod recovery;
mod watch;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rkube_storage::{
    EmbeddedOptions, EmbeddedStore, Event, KeyValue, Render, RenderTombstone, Revision, Storage,
    WatchEnd,
};

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

/// One key as (key, value, create, mod).
type Row = (String, String, u64, u64);

fn rows(items: &[KeyValue]) -> Vec<Row> {
    items
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

/// The full key space.
async fn dump(store: &EmbeddedStore, rev: Option<Revision>) -> Vec<Row> {
    rows(&store.list("", rev).await.unwrap().items)
}

async fn next_event(w: &mut rkube_storage::Watch) -> Result<Arc<Event>, WatchEnd> {
    tokio::time::timeout(Duration::from_secs(10), w.events.recv())
        .await
        .expect("timed out waiting for an event")
        .expect("watch channel closed")
}
