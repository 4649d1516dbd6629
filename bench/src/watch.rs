//! Watch fan-out: many watchers of one namespace's pods while writers create pods at a
//! fixed rate. Every watcher counts every event it gets (and duplicates); the latency of
//! an event is the time from the writer reading the create's answer (the write being
//! acknowledged) to a watcher reading the event, 0 when the event came first.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::http::{self, ChunkedDecoder, Conn};
use crate::objects::{self, Template};
use crate::stats::percentile;

#[derive(Debug, Clone)]
pub struct Config {
    pub watchers: usize,
    /// Creates per second.
    pub rate: u64,
    pub duration: Duration,
    /// Connections the writes are spread over.
    pub writers: usize,
    /// How long, after the last write, watchers may take to catch up.
    pub drain: Duration,
}

#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub watchers: usize,
    pub writes_planned: u64,
    pub writes_acked: u64,
    pub write_errors: u64,
    pub write_seconds: f64,
    /// Events every watcher should have seen in all: acknowledged writes × watchers.
    pub expected_events: u64,
    pub delivered: u64,
    pub duplicates: u64,
    /// Watchers that saw every acknowledged write exactly once.
    pub complete_watchers: usize,
    /// Watchers whose stream ended early (ERROR event, e.g. 410 for a slow watcher, or
    /// a closed connection).
    pub ended_watchers: usize,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    /// Seconds from the last acknowledged write until the last watcher was complete
    /// (or the drain limit).
    pub catch_up_seconds: f64,
}

struct Shared {
    base: Instant,
    /// Per write: nanoseconds since `base` + 1 when acknowledged, 0 before.
    acked: Vec<AtomicU64>,
    stop: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64 + 1
    }
}

struct WatcherResult {
    received: u64,
    duplicates: u64,
    ended_early: bool,
    seen: Vec<bool>,
    latencies_us: Vec<u32>,
}

const NAME_PREFIX: &str = "w-";

async fn open_watch(addr: SocketAddr, path: &str) -> anyhow::Result<Conn> {
    let mut conn = Conn::connect(addr).await?;
    conn.send(&http::get(&addr.to_string(), path)).await?;
    let (status, framing) = conn.read_head().await?;
    if status != 200 || framing != http::Framing::Chunked {
        bail!("watch answered {status} ({framing:?})");
    }
    Ok(conn)
}

async fn watcher(mut conn: Conn, shared: Arc<Shared>, total: usize) -> WatcherResult {
    let mut r = WatcherResult {
        received: 0,
        duplicates: 0,
        ended_early: false,
        seen: vec![false; total],
        latencies_us: Vec::with_capacity(total),
    };
    let mut dec = ChunkedDecoder::default();
    let mut data = Vec::with_capacity(64 * 1024);
    let mut unique = 0usize;
    while unique < total && !shared.stop.load(Ordering::Acquire) {
        let read = tokio::time::timeout(
            Duration::from_millis(100),
            conn.read_chunked_some(&mut dec, &mut data),
        )
        .await;
        let done = match read {
            Err(_) => continue,
            Ok(Err(_)) => true,
            Ok(Ok(done)) => done,
        };
        let now = shared.now_ns();
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', &data[start..]) {
            let line = &data[start..start + nl];
            start += nl + 1;
            if line.starts_with(b"{\"type\":\"ADDED\"") {
                let Some(seq) = objects::watched_seq(line, NAME_PREFIX) else {
                    continue;
                };
                let seq = seq as usize;
                if seq >= total {
                    continue;
                }
                r.received += 1;
                if r.seen[seq] {
                    r.duplicates += 1;
                    continue;
                }
                r.seen[seq] = true;
                unique += 1;
                let acked = shared.acked[seq].load(Ordering::Acquire);
                let lat = if acked != 0 && now > acked {
                    now - acked
                } else {
                    0
                };
                r.latencies_us
                    .push((lat / 1000).min(u64::from(u32::MAX)) as u32);
            } else if line.starts_with(b"{\"type\":\"ERROR\"") {
                r.ended_early = true;
            }
        }
        data.drain(..start);
        if done || r.ended_early {
            r.ended_early = unique < total;
            break;
        }
    }
    r
}

/// Run the fan-out against `namespace` (which must exist and hold no other pods).
pub async fn run(addr: SocketAddr, namespace: &str, cfg: &Config) -> anyhow::Result<Outcome> {
    let host = addr.to_string();
    let pods = format!("/api/v1/namespaces/{namespace}/pods");
    let mut c = Conn::connect(addr).await?;
    let r = c
        .request(&http::get(&host, &format!("{pods}?limit=1")), true)
        .await?;
    let list: serde_json::Value = serde_json::from_slice(&r.body).context("pod list")?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .context("the list has no resourceVersion")?
        .to_owned();

    let total = (cfg.rate as f64 * cfg.duration.as_secs_f64()).round() as usize;
    let shared = Arc::new(Shared {
        base: Instant::now(),
        acked: (0..total).map(|_| AtomicU64::new(0)).collect(),
        stop: AtomicBool::new(false),
    });

    // Watchers: open them all (a few at a time) before the first write.
    let path = format!("{pods}?watch=true&resourceVersion={rv}&timeoutSeconds=600");
    let gate = Arc::new(tokio::sync::Semaphore::new(50));
    let mut opening = Vec::with_capacity(cfg.watchers);
    for _ in 0..cfg.watchers {
        let gate = gate.clone();
        let path = path.clone();
        opening.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            open_watch(addr, &path).await
        }));
    }
    let mut watchers = Vec::with_capacity(cfg.watchers);
    for o in opening {
        let conn = o.await.context("opening a watch")??;
        let shared = shared.clone();
        watchers.push(tokio::spawn(watcher(conn, shared, total)));
    }

    // Writers: write `seq` at base + seq / rate (open loop; late writes go at once).
    let template = Arc::new(objects::pod());
    let t0 = Instant::now() + Duration::from_millis(50);
    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut writers = Vec::new();
    for w in 0..cfg.writers.max(1) {
        let mut conn = Conn::connect(addr).await?;
        let (shared, template, acked, errors) = (
            shared.clone(),
            template.clone(),
            acked.clone(),
            errors.clone(),
        );
        let (host, pods, stride, rate) = (host.clone(), pods.clone(), cfg.writers.max(1), cfg.rate);
        writers.push(tokio::spawn(async move {
            let mut last = Instant::now();
            for seq in (w..total).step_by(stride) {
                let at = t0 + Duration::from_secs_f64(seq as f64 / rate as f64);
                tokio::time::sleep_until(at.into()).await;
                let body = Template::render(&template, &format!("{NAME_PREFIX}{seq}"));
                let req = http::with_body("POST", &host, &pods, "application/json", &body);
                match conn.request(&req, false).await {
                    Ok(r) if r.status == 201 => {
                        shared.acked[seq].store(shared.now_ns(), Ordering::Release);
                        acked.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        match Conn::connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
                last = Instant::now();
            }
            last
        }));
    }
    let mut last_ack = t0;
    for w in writers {
        last_ack = last_ack.max(w.await.context("writer")?);
    }
    let write_seconds = last_ack.saturating_duration_since(t0).as_secs_f64();

    // Let the watchers catch up, then stop those still waiting.
    let drain_until = Instant::now() + cfg.drain;
    while Instant::now() < drain_until && watchers.iter().any(|w| !w.is_finished()) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let catch_up_seconds = last_ack
        .elapsed()
        .as_secs_f64()
        .min(cfg.drain.as_secs_f64());
    shared.stop.store(true, Ordering::Release);

    let mut out = Outcome {
        watchers: cfg.watchers,
        writes_planned: total as u64,
        writes_acked: acked.load(Ordering::Relaxed),
        write_errors: errors.load(Ordering::Relaxed),
        write_seconds,
        catch_up_seconds,
        ..Outcome::default()
    };
    let written: Vec<bool> = shared
        .acked
        .iter()
        .map(|a| a.load(Ordering::Acquire) != 0)
        .collect();
    out.expected_events = out.writes_acked * cfg.watchers as u64;
    let mut latencies: Vec<u64> = Vec::new();
    for w in watchers {
        let r = w.await.context("watcher")?;
        out.delivered += r.received - r.duplicates;
        out.duplicates += r.duplicates;
        let complete = r.duplicates == 0
            && written
                .iter()
                .zip(&r.seen)
                .all(|(written, seen)| !written || *seen);
        out.complete_watchers += complete as usize;
        out.ended_watchers += r.ended_early as usize;
        latencies.extend(r.latencies_us.iter().map(|&u| u64::from(u)));
    }
    latencies.sort_unstable();
    let ms = |p: f64| percentile(&latencies, p).unwrap_or(0) as f64 / 1000.0;
    out.latency_p50_ms = ms(50.0);
    out.latency_p99_ms = ms(99.0);
    out.latency_max_ms = ms(100.0);
    Ok(out)
}
