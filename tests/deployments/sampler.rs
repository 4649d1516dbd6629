//! What a rollout looked like from the outside, sampled while it ran.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{active_pods, image, is_ready};

/// One look at the namespace: how many pods are ready, and the images of active pods.
pub type Sample = (usize, Vec<String>);

/// Samples the namespace's pods every few milliseconds until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    pub fn start(port: u16, ns: &str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stopped, out, ns) = (stop.clone(), samples.clone(), ns.to_string());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let pods = active_pods(port, &ns);
                let ready = pods.iter().filter(|p| is_ready(p)).count();
                let images = pods.iter().map(|p| image(p).to_string()).collect();
                out.lock().unwrap().push((ready, images));
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Sampler {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    pub fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}
