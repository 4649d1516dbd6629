//! Work queues of string keys with client-go's workqueue rules: keys are handed out in
//! the order they were added (first in, first out, so none waits behind keys added after
//! it), a key waits once however often it is added, is never processed by two workers at
//! once, and one added while it is processed is processed again afterwards; failures
//! come back with per-key exponential backoff. The garbage collector and the namespace
//! controller use it (kube-runtime's applier hands out held keys in hash order, which
//! under a backlog can leave one waiting indefinitely).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

const BASE_DELAY: Duration = Duration::from_millis(5);
/// client-go's default ItemExponentialFailureRateLimiter ceiling.
const MAX_DELAY: Duration = Duration::from_secs(1000);

#[derive(Default)]
struct State {
    queue: VecDeque<String>,
    queued: HashSet<String>,
    processing: HashSet<String>,
    dirty: HashSet<String>,
    failures: HashMap<String, u32>,
}

pub struct WorkQueue {
    state: Mutex<State>,
    notify: Notify,
    max_delay: Duration,
}

impl Default for WorkQueue {
    fn default() -> Self {
        WorkQueue::with_max_delay(MAX_DELAY)
    }
}

impl WorkQueue {
    /// A queue whose failure backoff stops growing at `max_delay`.
    pub fn with_max_delay(max_delay: Duration) -> WorkQueue {
        WorkQueue {
            state: Mutex::default(),
            notify: Notify::new(),
            max_delay,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, key: &str) {
        let mut state = self.state();
        if state.processing.contains(key) {
            state.dirty.insert(key.to_string());
            return;
        }
        if state.queued.insert(key.to_string()) {
            state.queue.push_back(key.to_string());
            drop(state);
            self.notify.notify_one();
        }
    }

    /// The next key; the caller must call [`WorkQueue::done`] with it.
    pub async fn next(&self) -> String {
        loop {
            {
                let mut state = self.state();
                if let Some(key) = state.queue.pop_front() {
                    state.queued.remove(&key);
                    state.processing.insert(key.clone());
                    if !state.queue.is_empty() {
                        // Wake another worker for the rest.
                        self.notify.notify_one();
                    }
                    return key;
                }
            }
            self.notify.notified().await;
        }
    }

    pub fn done(&self, key: &str) {
        let mut state = self.state();
        state.processing.remove(key);
        if state.dirty.remove(key) && state.queued.insert(key.to_string()) {
            state.queue.push_back(key.to_string());
            drop(state);
            self.notify.notify_one();
        }
    }

    pub fn forget(&self, key: &str) {
        self.state().failures.remove(key);
    }

    /// Add the key again after its backoff: 5 ms doubling up to the queue's maximum.
    pub fn retry(self: &Arc<Self>, key: &str) {
        let delay = self.backoff(key);
        self.add_after(key, delay);
    }

    /// The key's next failure delay, counting this failure.
    fn backoff(&self, key: &str) -> Duration {
        let mut state = self.state();
        let n = state.failures.entry(key.to_string()).or_insert(0);
        let delay = BASE_DELAY
            .checked_mul(1u32.checked_shl(*n).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        *n = n.saturating_add(1);
        delay
    }

    /// Add the key once `delay` has passed.
    pub fn add_after(self: &Arc<Self>, key: &str, delay: Duration) {
        let queue = self.clone();
        let key = key.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(&key);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_deduplicated_and_requeued_when_added_during_processing() {
        let q = WorkQueue::default();
        q.add("a");
        q.add("a");
        q.add("b");
        assert_eq!(q.next().await, "a");
        q.add("a");
        assert_eq!(q.next().await, "b");
        q.done("b");
        q.done("a");
        assert_eq!(q.next().await, "a");
        q.done("a");
        assert!(q.state().queue.is_empty());
    }

    #[tokio::test]
    async fn keys_come_out_in_the_order_they_went_in() {
        let q = WorkQueue::default();
        let keys: Vec<String> = (0..50).map(|i| format!("ns-{}", (i * 37) % 50)).collect();
        for k in &keys {
            q.add(k);
        }
        let mut out = Vec::new();
        for _ in 0..keys.len() {
            let k = q.next().await;
            q.done(&k);
            out.push(k);
        }
        assert_eq!(out, keys);
    }

    #[test]
    fn failures_back_off_up_to_the_queue_maximum() {
        let q = WorkQueue::with_max_delay(Duration::from_secs(60));
        let delays: Vec<Duration> = (0..20).map(|_| q.backoff("ns")).collect();
        assert_eq!(delays[0], Duration::from_millis(5));
        assert_eq!(delays[1], Duration::from_millis(10));
        // 5 ms * 2^14 = 81.92 s is past the ceiling.
        assert_eq!(delays[13], Duration::from_millis(40_960));
        assert_eq!(delays[14], Duration::from_secs(60));
        assert_eq!(delays[19], Duration::from_secs(60));
        q.forget("ns");
        assert_eq!(q.backoff("ns"), Duration::from_millis(5));
        let default = WorkQueue::default();
        let last = (0..30).map(|_| default.backoff("ns")).last();
        assert_eq!(last, Some(Duration::from_secs(1000)));
    }
}
