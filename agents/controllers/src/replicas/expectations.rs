//! What a replica controller (ReplicationController or ReplicaSet) is waiting to see in its pod cache after its own
//! creates and deletes, so that a sync on a lagging cache does not create or delete
//! twice (upstream's ControllerExpectations, keyed by pod name and uid).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// After this long, stop waiting (a created pod may be gone before it was ever seen).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Pending {
    created: HashSet<String>,
    deleted: HashSet<String>,
    since: Option<Instant>,
}

/// Per owner uid.
#[derive(Default)]
pub struct Expectations {
    pending: Mutex<HashMap<String, Pending>>,
}

impl Expectations {
    pub fn expect_created(&self, owner_uid: &str, pod_name: String) {
        self.with(owner_uid, |p| {
            p.created.insert(pod_name);
        });
    }

    pub fn expect_deleted(&self, owner_uid: &str, pod_uid: String) {
        self.with(owner_uid, |p| {
            p.deleted.insert(pod_uid);
        });
    }

    fn with(&self, owner_uid: &str, f: impl FnOnce(&mut Pending)) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let p = pending.entry(owner_uid.to_string()).or_default();
        p.since.get_or_insert_with(Instant::now);
        f(p);
    }

    /// Whether the cache has caught up with this controller's writes. `seen_name` says
    /// whether a pod name is in the cache, `live_uid` whether a pod uid is still there
    /// and not being deleted.
    pub fn satisfied(
        &self,
        owner_uid: &str,
        seen_name: impl Fn(&str) -> bool,
        live_uid: impl Fn(&str) -> bool,
    ) -> bool {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(p) = pending.get_mut(owner_uid) else {
            return true;
        };
        p.created.retain(|name| !seen_name(name));
        p.deleted.retain(|uid| live_uid(uid));
        let expired = p.since.is_some_and(|t| t.elapsed() > TIMEOUT);
        if expired || (p.created.is_empty() && p.deleted.is_empty()) {
            pending.remove(owner_uid);
            return true;
        }
        false
    }

    /// Drop what is kept for owners that no longer exist.
    pub fn retain(&self, live: impl Fn(&str) -> bool) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|uid, _| live(uid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_until_creates_and_deletes_are_observed() {
        let e = Expectations::default();
        assert!(e.satisfied("owner", |_| false, |_| true));
        e.expect_created("owner", "a".into());
        e.expect_deleted("owner", "u1".into());
        assert!(!e.satisfied("owner", |_| false, |_| true));
        assert!(!e.satisfied("owner", |n| n == "a", |_| true));
        assert!(e.satisfied("owner", |_| false, |_| false));
        assert!(e.satisfied("owner", |_| false, |_| true));
    }
}
