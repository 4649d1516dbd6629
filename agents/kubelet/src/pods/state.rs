//! What the kubelet knows about one pod's containers between syncs: running, exited,
//! restarts and crash-loop back-off. No I/O: the worker drives it, status reads it.

use std::time::{Duration, Instant};

use crate::init::ExitRecord;
use crate::runtime::container::{ContainerExit, RunningContainer};

/// Back-off before restarting a container that exited: 10 s doubling to 5 min, reset
/// after 10 min of running (upstream's CrashLoopBackOff). The first restart is at once.
const BACKOFF_START: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(600);
/// How soon a container whose configuration could not be built is tried again.
const CONFIG_RETRY: Duration = Duration::from_secs(5);

/// A finished run of a container.
#[derive(Debug, Clone)]
pub struct Terminated {
    pub exit_code: i32,
    pub signal: Option<i32>,
    pub reason: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub container_id: String,
    pub image_id: String,
}

/// One container of the pod.
#[derive(Debug, Default)]
pub struct ContainerSlot {
    pub name: String,
    pub restart_count: u32,
    pub running: Option<RunningContainer>,
    running_since: Option<Instant>,
    /// The latest termination, and the one before it.
    pub last: Option<Terminated>,
    pub previous: Option<Terminated>,
    /// Why it is not running (ContainerCreating, ErrImagePull, CrashLoopBackOff, …).
    pub waiting: Option<(String, String)>,
    backoff: Duration,
    pub not_before: Option<Instant>,
    /// The run number of the next start (the log file's name).
    pub starts: u32,
    /// Whether the running container passes its readiness probe (or has none).
    pub ready: bool,
    probes: Vec<tokio::task::JoinHandle<()>>,
    /// The back-off (its end) a `BackOff` event was recorded for.
    backoff_reported: Option<Instant>,
}

impl Drop for ContainerSlot {
    fn drop(&mut self) {
        self.stop_probes();
    }
}

/// Whether a container that exited with `exit_code` runs again under `policy`.
pub fn restarts(policy: &str, exit_code: i32) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => exit_code != 0,
        _ => true,
    }
}

impl ContainerSlot {
    pub fn new(name: &str) -> ContainerSlot {
        let mut slot = ContainerSlot::default();
        slot.name = name.to_string();
        slot.waiting = Some(("ContainerCreating".into(), String::new()));
        slot
    }

    /// A new run; `ready` is false until a readiness probe passes, if it has one.
    pub fn started(&mut self, container: RunningContainer, ready: bool) {
        self.stop_probes();
        self.ready = ready;
        if self.starts > 0 {
            self.restart_count += 1;
        }
        self.starts += 1;
        self.running = Some(container);
        self.running_since = Some(Instant::now());
        self.waiting = None;
    }

    /// A container an earlier kubelet run started, still running: its run number is its
    /// restart count (as this slot counts them).
    pub fn adopt(&mut self, container: RunningContainer, run: u32, ready: bool) {
        self.running = Some(container);
        self.restart_count = run;
        self.starts = run + 1;
        self.running_since = Some(Instant::now());
        self.waiting = None;
        self.ready = ready;
    }

    /// What an earlier run recorded of this container's last end (from the API status),
    /// so an init container that succeeded is not run again.
    pub fn adopt_terminated(&mut self, last: Terminated, restart_count: u32) {
        self.last = Some(last);
        self.restart_count = restart_count;
        self.starts = restart_count + 1;
        self.waiting = None;
    }

    pub fn start_failed(&mut self, reason: &str, message: String) {
        // A pull failing again is waited out as ImagePullBackOff, as upstream shows it.
        let again = matches!(
            self.waiting.as_ref().map(|(r, _)| r.as_str()),
            Some("ErrImagePull" | "ImagePullBackOff")
        );
        let reason = if reason == "ErrImagePull" && again {
            "ImagePullBackOff"
        } else {
            reason
        };
        self.waiting = Some((reason.to_string(), message));
        // A failed start is retried after a back-off too, never at once.
        if self.backoff.is_zero() {
            self.backoff = BACKOFF_START;
        }
        self.schedule_retry(Instant::now());
    }

    /// The container's configuration could not be built (a missing ConfigMap key, …):
    /// retried soon, with no back-off, as upstream retries on every sync.
    pub fn config_failed(&mut self, message: String) {
        self.waiting = Some(("CreateContainerConfigError".into(), message));
        self.not_before = Some(Instant::now() + CONFIG_RETRY);
    }

    /// The pod's volumes are not set up yet: the container waits in ContainerCreating
    /// (with no message, as upstream: the FailedMount event says why).
    pub fn volumes_pending(&mut self) {
        if self.running.is_none() && self.last.is_none() {
            self.waiting = Some(("ContainerCreating".into(), String::new()));
        }
    }

    /// Records the exit of the running container (ignored if `exit` is of another one).
    pub fn exited(&mut self, exit: &ContainerExit, policy: &str) -> bool {
        let Some(running) = self.running.take_if(|r| r.id == exit.id) else {
            return false;
        };
        self.stop_probes();
        self.ready = false;
        let ExitRecord {
            exit_code,
            signal,
            finished_at,
            ..
        } = exit.record.clone();
        let reason = if exit.oom_killed {
            "OOMKilled"
        } else if exit_code == 0 {
            "Completed"
        } else {
            "Error"
        };
        self.previous = self.last.take();
        self.last = Some(Terminated {
            exit_code,
            signal,
            reason,
            started_at: running.started_at.clone(),
            finished_at,
            container_id: running.id.clone(),
            image_id: running.image_id.clone(),
        });
        let ran_for = self
            .running_since
            .take()
            .map(|t| t.elapsed())
            .unwrap_or_default();
        if ran_for >= BACKOFF_RESET_AFTER {
            self.backoff = Duration::ZERO;
        }
        if restarts(policy, exit_code) {
            self.schedule_retry(Instant::now());
        }
        true
    }

    /// The probe tasks of the current run.
    pub fn set_probes(&mut self, probes: Vec<tokio::task::JoinHandle<()>>) {
        self.stop_probes();
        self.probes = probes;
    }

    fn stop_probes(&mut self) {
        for probe in self.probes.drain(..) {
            probe.abort();
        }
    }

    /// Running and ready.
    pub fn is_ready(&self) -> bool {
        self.running.is_some() && self.ready
    }

    fn schedule_retry(&mut self, now: Instant) {
        self.not_before = Some(now + self.backoff);
        self.backoff = if self.backoff.is_zero() {
            BACKOFF_START
        } else {
            (self.backoff * 2).min(BACKOFF_MAX)
        };
    }

    /// Whether the worker should start the container now, given the pod's policy.
    pub fn wants_start(&self, policy: &str, now: Instant) -> bool {
        if self.running.is_some() {
            return false;
        }
        if let Some(last) = &self.last {
            if !restarts(policy, last.exit_code) {
                return false;
            }
        }
        self.not_before.is_none_or(|t| now >= t)
    }

    /// Whether the container waits out a crash-loop back-off not yet reported (true once
    /// per back-off, for its `BackOff` event).
    pub fn backoff_to_report(&mut self, policy: &str, now: Instant) -> bool {
        let crashed = self
            .last
            .as_ref()
            .is_some_and(|l| restarts(policy, l.exit_code));
        let waiting = self.running.is_none() && crashed && self.not_before.is_some_and(|t| now < t);
        if waiting && self.backoff_reported != self.not_before {
            self.backoff_reported = self.not_before;
            return true;
        }
        false
    }

    /// A terminated container that will not run again.
    pub fn finished(&self, policy: &str) -> bool {
        self.running.is_none()
            && self
                .last
                .as_ref()
                .is_some_and(|l| !restarts(policy, l.exit_code))
    }

    /// The current back-off delay's message for a waiting container.
    pub fn backoff_message(&self, pod: &str) -> String {
        let delay = self
            .not_before
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default();
        format!(
            "back-off {}s restarting failed container={} pod={pod}",
            delay.as_secs().max(1),
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(id: &str) -> RunningContainer {
        RunningContainer {
            id: id.into(),
            pid: 10,
            started_at: "t0".into(),
            image_id: "busybox@sha256:x".into(),
            config: Default::default(),
        }
    }

    fn exit(id: &str, code: i32, oom: bool) -> ContainerExit {
        ContainerExit {
            name: "c".into(),
            id: id.into(),
            record: ExitRecord {
                exit_code: code,
                signal: oom.then_some(9),
                started_at: "t0".into(),
                finished_at: "t1".into(),
            },
            oom_killed: oom,
        }
    }

    #[test]
    fn restart_policies() {
        assert!(!restarts("Never", 1));
        assert!(restarts("OnFailure", 1) && !restarts("OnFailure", 0));
        assert!(restarts("Always", 0));
    }

    #[test]
    fn exits_restarts_and_backoff() {
        let mut slot = ContainerSlot::new("c");
        let now = Instant::now();
        assert!(slot.wants_start("Always", now));
        slot.started(running("a"), true);
        assert_eq!(slot.restart_count, 0);
        assert!(!slot.exited(&exit("other", 1, false), "Always"));
        assert!(slot.exited(&exit("a", 1, false), "Always"));
        assert_eq!(slot.last.as_ref().unwrap().reason, "Error");
        // The first restart is at once, the next after 10 s.
        assert!(slot.wants_start("Always", Instant::now()));
        slot.started(running("b"), true);
        assert_eq!(slot.restart_count, 1);
        slot.exited(&exit("b", 137, true), "Always");
        assert_eq!(slot.last.as_ref().unwrap().reason, "OOMKilled");
        assert_eq!(slot.previous.as_ref().unwrap().container_id, "a");
        assert!(!slot.wants_start("Always", Instant::now()));
        assert!(slot.wants_start("Always", Instant::now() + Duration::from_secs(11)));
        // Its back-off is reported once.
        assert!(slot.backoff_to_report("Always", Instant::now()));
        assert!(!slot.backoff_to_report("Always", Instant::now()));
        assert!(!slot.backoff_to_report("Never", Instant::now()));
    }

    #[test]
    fn adopted_containers_keep_their_counts() {
        let mut slot = ContainerSlot::new("c");
        slot.adopt(running("a"), 3, true);
        assert_eq!((slot.restart_count, slot.starts), (3, 4));
        assert!(slot.is_ready() && slot.waiting.is_none());
        // Its next exit restarts it as the fifth run, restart count 4.
        assert!(slot.exited(&exit("a", 1, false), "Always"));
        slot.started(running("b"), true);
        assert_eq!((slot.restart_count, slot.starts), (4, 5));
        let mut init = ContainerSlot::new("i");
        let done = Terminated {
            exit_code: 0,
            signal: None,
            reason: "Completed",
            started_at: "t0".into(),
            finished_at: "t1".into(),
            container_id: "x".into(),
            image_id: "busybox@sha256:x".into(),
        };
        init.adopt_terminated(done, 0);
        assert!(init.finished("OnFailure") && !init.wants_start("OnFailure", Instant::now()));
    }

    #[test]
    fn pull_failures_back_off() {
        let mut slot = ContainerSlot::new("c");
        slot.start_failed("ErrImagePull", "no such image".into());
        assert_eq!(slot.waiting.as_ref().unwrap().0, "ErrImagePull");
        assert!(!slot.wants_start("Always", Instant::now()));
        assert!(slot.wants_start("Always", Instant::now() + Duration::from_secs(11)));
        slot.start_failed("ErrImagePull", "no such image".into());
        assert_eq!(slot.waiting.as_ref().unwrap().0, "ImagePullBackOff");
        assert!(!slot.wants_start("Always", Instant::now()));
    }

    #[test]
    fn never_and_on_failure_finish() {
        let mut slot = ContainerSlot::new("c");
        slot.started(running("a"), true);
        slot.exited(&exit("a", 3, false), "Never");
        assert!(slot.finished("Never") && !slot.wants_start("Never", Instant::now()));
        let mut ok = ContainerSlot::new("c");
        ok.started(running("a"), true);
        ok.exited(&exit("a", 0, false), "OnFailure");
        assert!(ok.finished("OnFailure"));
        assert_eq!(ok.last.as_ref().unwrap().reason, "Completed");
    }
}
