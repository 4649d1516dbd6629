//! `kill -9` during a stream of concurrent writes, then restart: every acknowledged
//! write is there, revisions go on, and a watch resumed from before the crash sees
//! every later event exactly once, in order. Repeated 20 times.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{json, raw, Apiserver};
use serde_json::{json, Value};

fn list_rv(port: u16) -> u64 {
    let (code, v) = json(
        port,
        "GET",
        "/api/v1/namespaces/default/configmaps",
        &Value::Null,
    );
    assert_eq!(code, 200);
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut server = Apiserver::start();
    let port = server.port;
    let mut all_acked: Vec<(String, u64)> = Vec::new();
    for round in 0..20 {
        let before = list_rv(port);
        let acked = Arc::new(Mutex::new(Vec::<(String, u64)>::new()));
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let acked = acked.clone();
                std::thread::spawn(move || {
                    for i in 0.. {
                        let name = format!("r{round}-w{w}-{i}");
                        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}});
                        let bytes = serde_json::to_vec(&body).unwrap();
                        match raw(port, "POST", "/api/v1/namespaces/default/configmaps", &[("Content-Type", "application/json")], &bytes) {
                            Ok((201, out)) => {
                                let v: Value = serde_json::from_slice(&out).unwrap();
                                let rv = v["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
                                acked.lock().unwrap().push((name, rv));
                            }
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        // Kill at a varying moment, but only once writes are flowing: on a loaded machine
        // the first acknowledgement can take longer than the pause itself.
        common::eventually(30, "a first acknowledged write", || {
            (!acked.lock().unwrap().is_empty()).then_some(())
        });
        std::thread::sleep(Duration::from_millis(100 + (round * 37 % 200) as u64));
        server.kill9();
        for w in writers {
            w.join().unwrap();
        }
        server.spawn();
        let acked = acked.lock().unwrap().clone();
        assert!(
            !acked.is_empty(),
            "round {round}: no write was acknowledged"
        );
        for (name, _) in &acked {
            let (code, _) = json(
                port,
                "GET",
                &format!("/api/v1/namespaces/default/configmaps/{name}"),
                &Value::Null,
            );
            assert_eq!(code, 200, "round {round}: acknowledged {name} lost");
        }
        let max_acked = acked.iter().map(|(_, rv)| *rv).max().unwrap();
        let after = list_rv(port);
        assert!(
            after >= max_acked,
            "round {round}: revision went back: {after} < {max_acked}"
        );
        // Watch from before the round: every acknowledged create, once, in order.
        let (code, body) = raw(
            port,
            "GET",
            &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={before}&timeoutSeconds=1"),
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(code, 200);
        let mut seen = Vec::new();
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let ev: Value = serde_json::from_slice(line).unwrap();
            assert_eq!(ev["type"], "ADDED", "round {round}: {ev}");
            let rv: u64 = ev["object"]["metadata"]["resourceVersion"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            seen.push((
                ev["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                rv,
            ));
        }
        assert!(
            seen.windows(2).all(|w| w[0].1 < w[1].1),
            "round {round}: events out of order"
        );
        let names: std::collections::HashSet<&String> = seen.iter().map(|(n, _)| n).collect();
        assert_eq!(names.len(), seen.len(), "round {round}: duplicate events");
        for (name, rv) in &acked {
            assert!(
                seen.contains(&(name.clone(), *rv)),
                "round {round}: watch missed {name}@{rv}"
            );
        }
        all_acked.extend(acked);
    }
    // Everything from every round is still there after 20 crashes.
    for (name, _) in &all_acked {
        let (code, _) = json(
            port,
            "GET",
            &format!("/api/v1/namespaces/default/configmaps/{name}"),
            &Value::Null,
        );
        assert_eq!(code, 200, "{name} lost by a later crash");
    }
}
