//! In-memory state: the current key space, the bounded event history, and watchers.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::{Event, EventKind, KeyValue, ListResult, Revision, StorageError, WatchEnd};

/// The value of one live key (the key itself is the map key: stored once).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub value: Bytes,
    pub create_revision: Revision,
    pub mod_revision: Revision,
}

impl Entry {
    pub fn to_kv(&self, key: &str) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: self.value.clone(),
            create_revision: self.create_revision,
            mod_revision: self.mod_revision,
        }
    }
}

/// One change kept for watches and lists at old revisions. `prev` is the full previous
/// entry (not just its value) so that a list at an old revision can restore the
/// previous `mod_revision`/`create_revision` too. All `Bytes` are shared with the map
/// and with delivered events.
#[derive(Debug)]
pub(crate) struct HistEntry {
    pub revision: Revision,
    pub kind: EventKind,
    pub key: String,
    pub value: Bytes,
    pub prev: Option<Entry>,
}

impl HistEntry {
    pub fn to_event(&self) -> Event {
        Event {
            kind: self.kind,
            key: self.key.clone(),
            value: self.value.clone(),
            prev_value: self.prev.as_ref().map(|p| p.value.clone()),
            revision: self.revision,
        }
    }
}

/// A change the committer applies.
pub(crate) enum Change {
    Put(Bytes),
    /// Delete, with the rendered tombstone.
    Delete(Bytes),
}

#[derive(Default)]
pub(crate) struct State {
    pub map: BTreeMap<String, Entry>,
    /// Every event with revision in `(compacted, revision]`, oldest first; revisions are
    /// contiguous.
    pub history: VecDeque<HistEntry>,
    pub revision: Revision,
    pub compacted: Revision,
    /// Sum of key and value lengths of live keys (drives log compaction).
    pub live_bytes: u64,
    pub history_window: usize,
}

fn prefix_range<'a, V>(
    map: &'a BTreeMap<String, V>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
    map.range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(prefix))
}

impl State {
    /// Applies one change at `rev` (which must be `self.revision + 1`), records it in
    /// the history (see `history.back()`) and trims the history to the window.
    pub fn apply(&mut self, rev: Revision, key: String, change: Change) {
        debug_assert_eq!(rev, self.revision + 1);
        let (kind, value, prev) = match change {
            Change::Put(value) => {
                let prev = match self.map.get_mut(key.as_str()) {
                    Some(e) => {
                        let new = Entry {
                            value: value.clone(),
                            create_revision: e.create_revision,
                            mod_revision: rev,
                        };
                        self.live_bytes =
                            self.live_bytes - e.value.len() as u64 + value.len() as u64;
                        Some(std::mem::replace(e, new))
                    }
                    None => {
                        self.live_bytes += (key.len() + value.len()) as u64;
                        self.map.insert(
                            key.clone(),
                            Entry {
                                value: value.clone(),
                                create_revision: rev,
                                mod_revision: rev,
                            },
                        );
                        None
                    }
                };
                let kind = if prev.is_some() {
                    EventKind::Updated
                } else {
                    EventKind::Created
                };
                (kind, value, prev)
            }
            Change::Delete(tombstone) => {
                let prev = self.map.remove(key.as_str());
                if let Some(p) = &prev {
                    self.live_bytes -= (key.len() + p.value.len()) as u64;
                }
                (EventKind::Deleted, tombstone, prev)
            }
        };
        self.revision = rev;
        self.history.push_back(HistEntry {
            revision: rev,
            kind,
            key,
            value,
            prev,
        });
        while self.history.len() > self.history_window {
            let old = self.history.pop_front().expect("non-empty");
            self.compacted = old.revision;
        }
    }

    /// Drops history at or below `rev`.
    pub fn compact(&mut self, rev: Revision) -> Result<(), StorageError> {
        if rev > self.revision {
            return Err(StorageError::FutureRevision {
                requested: rev,
                current: self.revision,
            });
        }
        while self.history.front().is_some_and(|e| e.revision <= rev) {
            self.history.pop_front();
        }
        self.compacted = self.compacted.max(rev);
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<KeyValue> {
        self.map.get(key).map(|e| e.to_kv(key))
    }

    /// Index of the first history entry with revision > `after`.
    fn history_start(&self, after: Revision) -> usize {
        self.history.partition_point(|e| e.revision <= after)
    }

    pub fn list(
        &self,
        prefix: &str,
        revision: Option<Revision>,
    ) -> Result<ListResult, StorageError> {
        let rev = revision.unwrap_or(self.revision);
        if rev > self.revision {
            return Err(StorageError::FutureRevision {
                requested: rev,
                current: self.revision,
            });
        }
        if rev < self.compacted {
            return Err(StorageError::Compacted {
                requested: rev,
                compacted: self.compacted,
            });
        }
        let current = prefix_range(&self.map, prefix);
        if rev == self.revision {
            let items = current.map(|(k, e)| e.to_kv(k)).collect();
            return Ok(ListResult {
                items,
                revision: rev,
            });
        }
        // Roll back every change after `rev`: for each key changed since then, the state
        // at `rev` is the `prev` of its oldest change after `rev`.
        let mut changed: BTreeMap<&str, Option<&Entry>> = BTreeMap::new();
        let start = self.history_start(rev);
        for e in self.history.range(start..).rev() {
            if e.key.starts_with(prefix) {
                changed.insert(e.key.as_str(), e.prev.as_ref());
            }
        }
        let mut items = Vec::new();
        let mut cur = current.peekable();
        let mut old = changed.into_iter().peekable();
        loop {
            match (cur.peek(), old.peek()) {
                (None, None) => break,
                (Some((ck, ce)), Some((ok, oe))) => {
                    if ck.as_str() < *ok {
                        items.push(ce.to_kv(ck));
                        cur.next();
                    } else {
                        if ck.as_str() == *ok {
                            cur.next();
                        }
                        if let Some(oe) = oe {
                            items.push(oe.to_kv(ok));
                        }
                        old.next();
                    }
                }
                (Some((ck, ce)), None) => {
                    items.push(ce.to_kv(ck));
                    cur.next();
                }
                (None, Some((ok, oe))) => {
                    if let Some(oe) = oe {
                        items.push(oe.to_kv(ok));
                    }
                    old.next();
                }
            }
        }
        Ok(ListResult {
            items,
            revision: rev,
        })
    }

    /// Events under `prefix` with revision > `after`, oldest first.
    pub fn events_after(&self, prefix: &str, after: Revision) -> Vec<Arc<Event>> {
        let start = self.history_start(after);
        self.history
            .range(start..)
            .filter(|e| e.key.starts_with(prefix))
            .map(|e| Arc::new(e.to_event()))
            .collect()
    }
}

pub(crate) type WatchSender = mpsc::Sender<Result<Arc<Event>, WatchEnd>>;

pub(crate) struct Watcher {
    pub prefix: String,
    /// Its channel has one slot more than the watcher may use, so that `TooSlow` or
    /// `Closed` can always be delivered as the last item.
    pub tx: WatchSender,
}

#[derive(Default)]
pub(crate) struct Watchers {
    pub list: Vec<Watcher>,
}

impl Watchers {
    /// Hands `events` (in revision order) to every interested watcher without blocking.
    /// A watcher whose queue is full gets `TooSlow` and is dropped; one whose receiver is
    /// gone is dropped. Returns how many watchers were dropped for being too slow.
    pub fn deliver(&mut self, events: &[Arc<Event>]) -> u64 {
        let mut too_slow = 0;
        self.list.retain(|w| {
            if w.tx.is_closed() {
                return false;
            }
            for ev in events {
                if !ev.key.starts_with(w.prefix.as_str()) {
                    continue;
                }
                // Only the committer sends, so the capacity cannot shrink under us.
                if w.tx.capacity() <= 1 {
                    let _ = w.tx.try_send(Err(WatchEnd::TooSlow));
                    too_slow += 1;
                    return false;
                }
                if w.tx.try_send(Ok(Arc::clone(ev))).is_err() {
                    return false;
                }
            }
            true
        });
        too_slow
    }

    /// Ends every watch with `Closed`.
    pub fn close_all(&mut self) {
        for w in self.list.drain(..) {
            let _ = w.tx.try_send(Err(WatchEnd::Closed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st() -> State {
        State {
            history_window: 100,
            ..Default::default()
        }
    }

    fn keys(l: &ListResult) -> Vec<(String, String, Revision, Revision)> {
        l.items
            .iter()
            .map(|kv| {
                (
                    kv.key.clone(),
                    String::from_utf8(kv.value.to_vec()).unwrap(),
                    kv.create_revision,
                    kv.mod_revision,
                )
            })
            .collect()
    }

    #[test]
    fn rollback_list() {
        let mut s = st();
        let b = |v: &str| Bytes::from(v.to_owned());
        s.apply(1, "/a".into(), Change::Put(b("a1")));
        s.apply(2, "/b".into(), Change::Put(b("b2")));
        s.apply(3, "/a".into(), Change::Put(b("a3")));
        s.apply(4, "/b".into(), Change::Delete(b("tomb")));
        s.apply(5, "/c".into(), Change::Put(b("c5")));
        s.apply(6, "/b".into(), Change::Put(b("b6")));
        s.apply(7, "/x".into(), Change::Put(b("x7")));
        let at = |r| keys(&s.list("/", Some(r)).unwrap());
        let t = |k: &str, v: &str, c, m| (k.to_owned(), v.to_owned(), c, m);
        assert_eq!(at(0), vec![]);
        assert_eq!(at(1), vec![t("/a", "a1", 1, 1)]);
        assert_eq!(at(2), vec![t("/a", "a1", 1, 1), t("/b", "b2", 2, 2)]);
        assert_eq!(at(3), vec![t("/a", "a3", 1, 3), t("/b", "b2", 2, 2)]);
        assert_eq!(at(4), vec![t("/a", "a3", 1, 3)]);
        assert_eq!(at(5), vec![t("/a", "a3", 1, 3), t("/c", "c5", 5, 5)]);
        assert_eq!(
            at(6),
            vec![
                t("/a", "a3", 1, 3),
                t("/b", "b6", 6, 6),
                t("/c", "c5", 5, 5)
            ]
        );
        assert_eq!(at(7).len(), 4);
        assert_eq!(
            keys(&s.list("/b", Some(3)).unwrap()),
            vec![t("/b", "b2", 2, 2)]
        );
        assert_eq!(s.live_bytes, (2 + 2) * 4);
    }
}
