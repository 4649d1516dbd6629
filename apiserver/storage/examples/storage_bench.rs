//! Raw throughput of the embedded store, without HTTP:
//!
//! ```text
//! cargo run --release -p rkube-storage --example storage_bench -- [DIR]
//! ```
//!
//! Measures durable creates with 64 concurrent clients, gets, a 10,000-item list, the
//! memory used by 100,000 values of 2 KB, the time to reopen them, and fan-out to 1,000
//! watchers at 1,000 writes/s. `DIR` defaults to a temporary directory (use a real disk
//! for meaningful fsync numbers).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rkube_storage::{EmbeddedOptions, EmbeddedStore, Storage};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn value(rev: u64, size: usize) -> Bytes {
    let mut v =
        format!("{{\"metadata\":{{\"resourceVersion\":\"{rev}\"}},\"data\":\"").into_bytes();
    v.resize(size - 2, b'x');
    v.extend_from_slice(b"\"}");
    Bytes::from(v)
}

async fn creates(
    store: &EmbeddedStore,
    prefix: &str,
    clients: usize,
    per_client: usize,
    size: usize,
) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let store = store.clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_client {
                store
                    .create(
                        &format!("{prefix}{c:03}-{i:06}"),
                        Box::new(move |rev| value(rev, size)),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (clients * per_client) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() == 2 && args[0] == "--reopen" {
        // Start-up time and memory of a fresh process (keep a directory with BENCH_KEEP=1).
        let rss0 = rss_mib();
        let start = Instant::now();
        let store = EmbeddedStore::open(std::path::Path::new(&args[1]), EmbeddedOptions::default())
            .unwrap();
        let stats = store.stats();
        println!(
            "open with {} keys ({} records replayed): {:?}, RSS {:.0} MiB",
            stats.keys,
            stats.replayed_records,
            start.elapsed(),
            rss_mib() - rss0
        );
        return;
    }
    let arg = args.first().cloned();
    let tmp = tempfile::tempdir().unwrap();
    let dir = arg
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_owned());
    let dir = dir.join(format!("bench-{}", std::process::id()));
    let options = EmbeddedOptions::default();
    let rss0 = rss_mib();

    let store = EmbeddedStore::open(&dir, options.clone()).unwrap();
    let rate = creates(&store, "/registry/leases/l", 1, 2000, 512).await;
    println!("durable creates, 1 client (fsync latency bound): {rate:.0}/s");
    let before = store.stats();
    let rate = creates(&store, "/registry/configmaps/default/c", 64, 300, 1024).await;
    let after = store.stats();
    println!(
        "durable creates, 64 clients, 1 KiB: {rate:.0}/s ({} writes in {} fsyncs)",
        after.writes - before.writes,
        after.fsyncs - before.fsyncs
    );

    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            let kv = store
                .get("/registry/configmaps/default/c000-000010")
                .await
                .unwrap();
            n += kv.is_some() as u64;
        }
    }
    println!(
        "get, one thread: {:.0}/s",
        n as f64 / start.elapsed().as_secs_f64()
    );

    // 100,000 values of 2 KB (the 19,200 above stay too).
    let rate = creates(&store, "/registry/secrets/ns/s", 64, 100_000 / 64 + 1, 2048).await;
    println!("durable creates, 64 clients, 2 KiB: {rate:.0}/s");
    let stats = store.stats();
    let data_mib = (100_032.0 * 2048.0 + 19_200.0 * 1024.0) / (1024.0 * 1024.0);
    println!(
        "keys {}: RSS {:.0} MiB for {:.0} MiB of values ({:.2}x; {} batches, {} fsyncs)",
        stats.keys,
        rss_mib() - rss0,
        data_mib,
        (rss_mib() - rss0) / data_mib,
        stats.batches,
        stats.fsyncs
    );

    let start = Instant::now();
    let l = store.list("/registry/configmaps/", None).await.unwrap();
    println!("list {} values: {:?}", l.items.len(), start.elapsed());
    let start = Instant::now();
    let l2 = store
        .list("/registry/configmaps/", Some(l.revision - 5000))
        .await
        .unwrap();
    println!(
        "list {} values at an old revision: {:?}",
        l2.items.len(),
        start.elapsed()
    );
    drop((l, l2));

    drop(store);
    let start = Instant::now();
    let store = EmbeddedStore::open(&dir, options.clone()).unwrap();
    println!(
        "reopen with {} keys ({} records replayed): {:?}, RSS {:.0} MiB",
        store.stats().keys,
        store.stats().replayed_records,
        start.elapsed(),
        rss_mib() - rss0
    );

    // Fan-out: 1,000 watchers of one prefix, 1,000 writes/s for 3 s.
    let received = Arc::new(AtomicU64::new(0));
    let ended = Arc::new(AtomicU64::new(0));
    let mut watchers = Vec::new();
    for _ in 0..1000 {
        let mut w = store
            .watch("/registry/pods/", store.current_revision())
            .unwrap();
        let received = received.clone();
        let ended = ended.clone();
        watchers.push(tokio::spawn(async move {
            while let Some(ev) = w.events.recv().await {
                match ev {
                    Ok(_) => received.fetch_add(1, Ordering::Relaxed),
                    Err(_) => ended.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    let mut written = 0u64;
    while start.elapsed() < Duration::from_secs(3) {
        ticker.tick().await;
        let mut batch = Vec::new();
        for _ in 0..10 {
            let store = store.clone();
            let key = format!("/registry/pods/default/p{written}");
            written += 1;
            batch.push(tokio::spawn(async move {
                store
                    .create(&key, Box::new(|rev| value(rev, 1024)))
                    .await
                    .unwrap();
            }));
        }
        for t in batch {
            t.await.unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!(
        "1000 watchers, {written} writes in {:?}: {} events delivered (expected {}), {} ended, CPU {:.2}s",
        start.elapsed(),
        received.load(Ordering::Relaxed),
        written * 1000,
        ended.load(Ordering::Relaxed),
        cpu_seconds() - cpu0
    );
    drop(store);
    for w in watchers {
        w.await.unwrap();
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
