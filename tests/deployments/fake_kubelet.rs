//! The test's stand-in for kubelets.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::json;
use crate::common::time::rfc3339;
use crate::{active_pods, is_ready, name};

/// The test's stand-in for kubelets: every pod of the namespace it has seen for
/// `delay` is marked Running and Ready.
pub struct FakeKubelet {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeKubelet {
    pub fn start(port: u16, ns: &str, delay: Duration) -> FakeKubelet {
        let stop = Arc::new(AtomicBool::new(false));
        let ns = ns.to_string();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut first_seen: HashMap<String, Instant> = HashMap::new();
            while !stopped.load(Ordering::Relaxed) {
                for pod in active_pods(port, &ns) {
                    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
                    let seen = *first_seen.entry(uid).or_insert_with(Instant::now);
                    if is_ready(&pod) || seen.elapsed() < delay {
                        continue;
                    }
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let when = rfc3339(now);
                    let status = json!({"status": {
                        "phase": "Running",
                        "conditions": [
                            {"type": "Ready", "status": "True", "lastTransitionTime": when},
                            {"type": "ContainersReady", "status": "True", "lastTransitionTime": when},
                        ],
                    }});
                    // A pod deleted meanwhile answers 404: fine.
                    json(
                        port,
                        "PATCH",
                        &format!("/api/v1/namespaces/{ns}/pods/{}/status", name(&pod)),
                        &status,
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        FakeKubelet {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
