//! Closed-loop load: N keep-alive connections, each sending its next request as soon as
//! the previous answer is read, until a deadline or a number of requests.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::http::Conn;
use crate::stats::LoadResult;

/// Builds request number `seq` (numbers are unique across the connections of a run).
pub type MakeRequest = Arc<dyn Fn(u64) -> Vec<u8> + Send + Sync>;

/// When a run ends.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// Stop sending after this long.
    pub duration: Duration,
    /// Stop after this many requests in all.
    pub max_requests: u64,
}

impl Bound {
    pub fn time(duration: Duration) -> Bound {
        Bound {
            duration,
            max_requests: u64::MAX,
        }
    }
    pub fn count(n: u64) -> Bound {
        Bound {
            duration: Duration::from_secs(3600),
            max_requests: n,
        }
    }
}

/// Results of one run plus the bytes of successful response bodies.
#[derive(Debug, Default)]
pub struct Outcome {
    pub result: LoadResult,
    pub body_bytes: u64,
    /// The first unexpected status, if any.
    pub first_bad_status: Option<u16>,
}

pub async fn run(
    addr: SocketAddr,
    conns: usize,
    bound: Bound,
    ok_status: u16,
    make: MakeRequest,
) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicU64::new(0));
    // Connect first so that connection set-up is not part of the figures.
    let mut connected = Vec::with_capacity(conns);
    for _ in 0..conns {
        connected.push(
            Conn::connect(addr)
                .await
                .with_context(|| format!("connecting to {addr}"))?,
        );
    }
    let start = Instant::now();
    let deadline = start + bound.duration;
    let mut tasks = Vec::with_capacity(conns);
    for mut conn in connected {
        let next = next.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut r = LoadResult::default();
            let mut body_bytes = 0u64;
            let mut bad = None;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= bound.max_requests {
                    break;
                }
                let request = make(seq);
                let t0 = Instant::now();
                match conn.request(&request, false).await {
                    Ok(resp) if resp.status == ok_status => {
                        r.latencies_ns.push(t0.elapsed().as_nanos() as u64);
                        r.ops += 1;
                        body_bytes += resp.body_len as u64;
                    }
                    Ok(resp) => {
                        r.errors += 1;
                        bad.get_or_insert(resp.status);
                    }
                    Err(_) => {
                        r.errors += 1;
                        match Conn::connect(addr).await {
                            Ok(c) => conn = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            (r, body_bytes, bad)
        }));
    }
    let mut parts = Vec::with_capacity(conns);
    let mut out = Outcome::default();
    for t in tasks {
        let (r, bytes, bad) = t.await.context("load task")?;
        parts.push(r);
        out.body_bytes += bytes;
        if out.first_bad_status.is_none() {
            out.first_bad_status = bad;
        }
    }
    out.result = LoadResult::merge(parts, start.elapsed());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A keep-alive server answering every request with `status` and a 5-byte body.
    async fn server(status: u16) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            buf.drain(..end + 4);
                            let answer =
                                format!("HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\nhello");
                            if s.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                });
            }
        });
        addr
    }

    #[tokio::test]
    async fn counted_runs_send_each_request_once() {
        let addr = server(200).await;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let make: MakeRequest = {
            let seen = seen.clone();
            Arc::new(move |seq| {
                seen.lock().unwrap().push(seq);
                crate::http::get("x", "/")
            })
        };
        let o = run(addr, 4, Bound::count(100), 200, make).await.unwrap();
        assert_eq!((o.result.ops, o.result.errors), (100, 0));
        assert_eq!(o.result.latencies_ns.len(), 100);
        assert_eq!(o.body_bytes, 500);
        assert!(o.first_bad_status.is_none());
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<u64>>());
    }

    #[tokio::test]
    async fn unexpected_statuses_are_errors() {
        let addr = server(409).await;
        let make: MakeRequest = Arc::new(|_| crate::http::get("x", "/"));
        let o = run(addr, 2, Bound::count(10), 201, make).await.unwrap();
        assert_eq!((o.result.ops, o.result.errors), (0, 10));
        assert_eq!(o.first_bad_status, Some(409));
        assert_eq!(o.result.rate(), 0.0);
    }
}
