//! A controller's own writes that its cache has not shown yet. Syncing on a cache that
//! lags behind them would create twice or undo a write (upstream's stale-endpoints and
//! EndpointSliceTracker checks), so a sync waits until every write is visible: a created
//! object is in the cache, a replaced one no longer shows the version it replaced, a
//! deleted one is gone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// After this long, stop waiting (the object may have changed again in between).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub enum Write {
    Created { name: String },
    Replaced { name: String, old_version: String },
    Deleted { name: String, uid: String },
}

/// What the cache holds for a name: its resourceVersion and uid.
pub struct Cached {
    pub resource_version: String,
    pub uid: String,
}

/// Pending writes per owner key (the Service the objects belong to).
#[derive(Default)]
pub struct CacheLag {
    pending: Mutex<HashMap<String, (Instant, Vec<Write>)>>,
}

impl CacheLag {
    pub fn wrote(&self, owner: &str, write: Write) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending
            .entry(owner.to_string())
            .or_insert_with(|| (Instant::now(), Vec::new()));
        entry.0 = Instant::now();
        entry.1.push(write);
    }

    /// Whether the cache shows every write made for `owner`; `lookup` reads the cache.
    pub fn caught_up(&self, owner: &str, lookup: impl Fn(&str) -> Option<Cached>) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some((since, writes)) = pending.get_mut(owner) else {
            return true;
        };
        writes.retain(|w| match w {
            Write::Created { name } => lookup(name).is_none(),
            Write::Replaced { name, old_version } => {
                lookup(name).is_some_and(|c| &c.resource_version == old_version)
            }
            Write::Deleted { name, uid } => lookup(name).is_some_and(|c| &c.uid == uid),
        });
        if writes.is_empty() || since.elapsed() > TIMEOUT {
            pending.remove(owner);
            return true;
        }
        false
    }

    pub fn forget(&self, owner: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(rv: &str, uid: &str) -> Option<Cached> {
        Some(Cached {
            resource_version: rv.into(),
            uid: uid.into(),
        })
    }

    #[test]
    fn waits_for_creates_replacements_and_deletes() {
        let lag = CacheLag::default();
        assert!(lag.caught_up("s", |_| None));
        lag.wrote("s", Write::Created { name: "a".into() });
        assert!(!lag.caught_up("s", |_| None));
        assert!(lag.caught_up("s", |_| cached("1", "u")));
        lag.wrote(
            "s",
            Write::Replaced {
                name: "a".into(),
                old_version: "1".into(),
            },
        );
        assert!(!lag.caught_up("s", |_| cached("1", "u")));
        assert!(lag.caught_up("s", |_| cached("2", "u")));
        lag.wrote(
            "s",
            Write::Deleted {
                name: "a".into(),
                uid: "u".into(),
            },
        );
        assert!(!lag.caught_up("s", |_| cached("2", "u")));
        assert!(lag.caught_up("s", |_| cached("3", "other")));
    }
}
