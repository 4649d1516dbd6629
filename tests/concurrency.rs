//! 32 clients doing read-modify-write increments of one object: the final value equals
//! the number of successful updates (optimistic concurrency with 409 on stale writes).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use common::{json, Apiserver};
use serde_json::{json, Value};

#[test]
fn read_modify_write_increments_are_never_lost() {
    let server = Apiserver::start();
    let port = server.port;
    let path = "/api/v1/namespaces/default/configmaps/counter";
    let (code, _) = json(
        port,
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter"}, "data": {"n": "0"}
        }),
    );
    assert_eq!(code, 201);
    let successes = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let clients: Vec<_> = (0..32)
        .map(|_| {
            let (successes, conflicts) = (successes.clone(), conflicts.clone());
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let (code, mut obj) = json(port, "GET", path, &Value::Null);
                    assert_eq!(code, 200);
                    let n: u64 = obj["data"]["n"].as_str().unwrap().parse().unwrap();
                    obj["data"]["n"] = json!((n + 1).to_string());
                    match json(port, "PUT", path, &obj).0 {
                        200 => successes.fetch_add(1, Ordering::SeqCst),
                        409 => conflicts.fetch_add(1, Ordering::SeqCst),
                        other => panic!("unexpected {other}"),
                    };
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let (_, obj) = json(port, "GET", path, &Value::Null);
    let final_n: u64 = obj["data"]["n"].as_str().unwrap().parse().unwrap();
    assert_eq!(final_n, successes.load(Ordering::SeqCst));
    assert!(
        conflicts.load(Ordering::SeqCst) > 0,
        "32 racing clients should have met a 409"
    );
}
