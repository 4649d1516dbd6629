//! The scheduling queue (upstream's PriorityQueue, simplified): an active heap (higher
//! priority first, then first come), a backoff heap (1 s doubling to 10 s per failed
//! attempt), and the unschedulable pods, which wait for a cluster change that could help
//! them (see `diagnosis::hints`) or, at the latest, five minutes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::node_info::PodFacts;

pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Upstream's podMaxInUnschedulablePodsDuration.
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    InFlight,
}

#[derive(Debug)]
struct Entry {
    pod: Arc<PodFacts>,
    place: Place,
    /// Bumped on every move, so stale heap items are recognised and skipped.
    generation: u64,
    attempts: u32,
    backoff_until: Instant,
    unschedulable_since: Instant,
    hints: u8,
    /// The change counter when the pod was popped: a higher counter at its failure means
    /// a cluster change arrived while it was being scheduled.
    popped_at: u64,
}

/// The backoff after `attempts` failures: 1 s, 2 s, 4 s, 8 s, then 10 s.
pub fn backoff(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (INITIAL_BACKOFF * 2u32.pow(doublings)).min(MAX_BACKOFF)
}

#[derive(Debug, Default)]
pub struct Queue {
    entries: HashMap<String, Entry>,
    active: BinaryHeap<(i32, Reverse<u64>, String)>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    /// The unschedulable pods (kept apart so a cluster change touches only them).
    unschedulable: HashSet<String>,
    counter: u64,
    changes: u64,
}

impl Queue {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn make_active(&mut self, uid: &str) {
        self.unschedulable.remove(uid);
        let generation = self.next();
        if let Some(e) = self.entries.get_mut(uid) {
            e.place = Place::Active;
            e.generation = generation;
            self.active
                .push((e.pod.priority, Reverse(generation), uid.to_string()));
        }
    }

    fn send_to_backoff(&mut self, uid: &str) {
        self.unschedulable.remove(uid);
        let generation = self.next();
        if let Some(e) = self.entries.get_mut(uid) {
            e.place = Place::Backoff;
            e.generation = generation;
            self.backoff
                .push(Reverse((e.backoff_until, generation, uid.to_string())));
        }
    }

    /// Active if its backoff has passed, else the backoff heap.
    fn requeue(&mut self, uid: &str, now: Instant) {
        match self.entries.get(uid) {
            Some(e) if e.backoff_until > now => self.send_to_backoff(uid),
            Some(_) => self.make_active(uid),
            None => {}
        }
    }

    /// A pending pod seen (or seen again) on the watch.
    pub fn add_or_update(&mut self, pod: Arc<PodFacts>, now: Instant) {
        let uid = pod.uid.clone();
        match self.entries.get_mut(&uid) {
            None => {
                self.entries.insert(
                    uid.clone(),
                    Entry {
                        pod,
                        place: Place::Active,
                        generation: 0,
                        attempts: 0,
                        backoff_until: now,
                        unschedulable_since: now,
                        hints: 0,
                        popped_at: 0,
                    },
                );
                self.make_active(&uid);
            }
            Some(e) => {
                let unschedulable = e.place == Place::Unschedulable;
                e.pod = pod;
                // The pod itself changed (tolerations, affinity…): worth another try.
                if unschedulable {
                    self.requeue(&uid, now);
                }
            }
        }
    }

    pub fn remove(&mut self, uid: &str) {
        self.entries.remove(uid);
        self.unschedulable.remove(uid);
    }

    #[cfg(test)]
    pub fn contains(&self, uid: &str) -> bool {
        self.entries.contains_key(uid)
    }

    /// Move backoff pods whose time has come, and pods unschedulable for too long.
    pub fn flush(&mut self, now: Instant) {
        while let Some(Reverse((due, generation, uid))) = self.backoff.peek().cloned() {
            if due > now {
                break;
            }
            self.backoff.pop();
            let current = self
                .entries
                .get(&uid)
                .is_some_and(|e| e.place == Place::Backoff && e.generation == generation);
            if current {
                self.make_active(&uid);
            }
        }
        let stale: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|uid| {
                self.entries
                    .get(*uid)
                    .is_some_and(|e| now.duration_since(e.unschedulable_since) >= MAX_UNSCHEDULABLE)
            })
            .cloned()
            .collect();
        for uid in stale {
            self.requeue(&uid, now);
        }
    }

    /// The highest-priority active pod, now in flight.
    pub fn pop(&mut self) -> Option<Arc<PodFacts>> {
        while let Some((_, Reverse(generation), uid)) = self.active.pop() {
            if let Some(e) = self.entries.get_mut(&uid) {
                if e.place == Place::Active && e.generation == generation {
                    e.place = Place::InFlight;
                    e.popped_at = self.changes;
                    return Some(e.pod.clone());
                }
            }
        }
        None
    }

    /// When the earliest backoff ends, if any pod waits in backoff.
    pub fn next_backoff(&self) -> Option<Instant> {
        self.backoff.peek().map(|Reverse((due, _, _))| *due)
    }

    fn failed(&mut self, uid: &str, now: Instant) -> Option<&mut Entry> {
        let e = self.entries.get_mut(uid)?;
        e.attempts += 1;
        e.backoff_until = now + backoff(e.attempts);
        Some(e)
    }

    /// The pod fits nowhere: wait for a change matching `hints` (or one that already came
    /// while it was being scheduled).
    pub fn unschedulable(&mut self, uid: &str, hints: u8, now: Instant) {
        let changes = self.changes;
        let Some(e) = self.failed(uid, now) else {
            return;
        };
        if e.place != Place::InFlight {
            return;
        }
        e.hints = hints;
        if e.popped_at != changes {
            self.send_to_backoff(uid);
        } else {
            e.place = Place::Unschedulable;
            e.unschedulable_since = now;
            self.unschedulable.insert(uid.to_string());
        }
    }

    /// Binding or another API call failed: retry after the backoff.
    pub fn error(&mut self, uid: &str, now: Instant) {
        if self.failed(uid, now).is_some() {
            self.send_to_backoff(uid);
        }
    }

    /// Bound: the queue forgets the pod.
    pub fn bound(&mut self, uid: &str) {
        self.remove(uid);
    }

    /// A cluster change that could help pods rejected for `hints`.
    pub fn cluster_changed(&mut self, hints: u8, now: Instant) {
        self.changes += 1;
        let wake: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|uid| self.entries.get(*uid).is_some_and(|e| e.hints & hints != 0))
            .cloned()
            .collect();
        for uid in wake {
            self.requeue(&uid, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::hints;
    use serde_json::json;

    fn pod(uid: &str, priority: i32) -> Arc<PodFacts> {
        Arc::new(PodFacts::of(Arc::new(
            serde_json::from_value(
                json!({"metadata": {"uid": uid}, "spec": {"containers": [], "priority": priority}}),
            )
            .unwrap(),
        )))
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let secs: Vec<u64> = (1..=6).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn priority_then_arrival() {
        let now = Instant::now();
        let mut q = Queue::default();
        q.add_or_update(pod("low", 0), now);
        q.add_or_update(pod("high", 10), now);
        q.add_or_update(pod("low2", 0), now);
        let order: Vec<String> = std::iter::from_fn(|| q.pop())
            .map(|p| p.uid.clone())
            .collect();
        assert_eq!(order, vec!["high", "low", "low2"]);
    }

    #[test]
    fn unschedulable_pods_wait_for_a_matching_change_then_their_backoff() {
        let t0 = Instant::now();
        let mut q = Queue::default();
        q.add_or_update(pod("p", 0), t0);
        assert!(q.pop().is_some());
        q.unschedulable("p", hints::RESOURCES, t0);
        q.cluster_changed(hints::POD_AFFINITY, t0);
        q.flush(t0 + Duration::from_secs(30));
        assert!(q.pop().is_none(), "an unrelated change does not wake it");
        q.cluster_changed(hints::RESOURCES, t0);
        assert!(q.pop().is_none(), "still in its 1 s backoff");
        q.flush(t0 + Duration::from_millis(1001));
        assert_eq!(q.pop().unwrap().uid, "p");
        // Second failure: 2 s. A change during the attempt sends it to backoff directly.
        q.cluster_changed(hints::NODE, t0);
        q.unschedulable("p", hints::NODE, t0);
        q.flush(t0 + Duration::from_millis(1999));
        assert!(q.pop().is_none());
        q.flush(t0 + Duration::from_secs(2));
        assert!(q.pop().is_some());
    }

    #[test]
    fn removed_and_bound_pods_leave_no_trace() {
        let now = Instant::now();
        let mut q = Queue::default();
        q.add_or_update(pod("a", 0), now);
        q.add_or_update(pod("b", 0), now);
        q.remove("a");
        let b = q.pop().unwrap();
        q.bound(&b.uid);
        assert!(q.pop().is_none());
        assert!(!q.contains("b"));
        q.flush(now + MAX_UNSCHEDULABLE);
        assert!(q.next_backoff().is_none());
    }
}
