//! Two `rkube controller-manager` processes against one apiserver: exactly one holds the
//! coordination.k8s.io Lease and runs the controllers; SIGKILL it and the other takes
//! the Lease over and runs them.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, json, Apiserver, ControllerManager};
use serde_json::{json, Value};

const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager";

/// Short periods so a takeover takes seconds, in the proportions of upstream's defaults.
const FAST: [&str; 3] = [
    "--leader-elect-lease-duration=4s",
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=500ms",
];

fn lease(port: u16) -> Option<Value> {
    let (code, lease) = json(port, "GET", LEASE, &Value::Null);
    (code == 200).then_some(lease)
}

fn holder(lease: &Value) -> Option<String> {
    lease["spec"]["holderIdentity"]
        .as_str()
        .filter(|h| !h.is_empty())
        .map(String::from)
}

/// The identity a controller-manager logged when it started campaigning.
fn identity_in(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text
        .lines()
        .find(|l| l.contains("attempting to acquire leader lease"))?;
    let start = line.find("identity=")? + "identity=".len();
    Some(line[start..].split_whitespace().next()?.to_string())
}

fn log_says(log: &Path, what: &str) -> bool {
    std::fs::read_to_string(log).is_ok_and(|t| t.contains(what))
}

/// A new namespace gets its `default` ServiceAccount: some controller-manager leads.
fn controllers_act(port: u16, namespace: &str) {
    let (code, out) = json(
        port,
        "POST",
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
    );
    assert_eq!(code, 201, "{out}");
    let path = format!("/api/v1/namespaces/{namespace}/serviceaccounts/default");
    eventually(20, "the default ServiceAccount", || {
        (json(port, "GET", &path, &Value::Null).0 == 200).then_some(())
    });
}

fn is_micro_time(v: &Value) -> bool {
    // RFC 3339 with microseconds, UTC: 2026-11-22T00:19:50.123456Z
    v.as_str()
        .is_some_and(|t| t.len() == 27 && t.ends_with('Z') && t.as_bytes()[19] == b'.')
}

#[test]
fn one_controller_manager_leads_and_the_other_takes_over() {
    let api = Apiserver::start();
    let port = api.port;
    let logs = [
        api.data_dir().join("cm-a.log"),
        api.data_dir().join("cm-b.log"),
    ];
    let mut managers = [
        ControllerManager::start_logged(&api, &FAST, &logs[0]),
        ControllerManager::start_logged(&api, &FAST, &logs[1]),
    ];
    let ids: Vec<String> = logs
        .iter()
        .map(|log| eventually(20, "the identity in the log", || identity_in(log)))
        .collect();
    assert_ne!(ids[0], ids[1]);

    let first = eventually(20, "a Lease holder", || {
        lease(port).and_then(|l| holder(&l))
    });
    let leader = ids
        .iter()
        .position(|id| *id == first)
        .expect("the holder is one of ours");
    let follower = 1 - leader;
    let acquired = "successfully acquired lease kube-system/kube-controller-manager";
    assert!(log_says(&logs[leader], acquired));

    // The leader renews; the follower neither acquires nor runs controllers.
    let before = lease(port).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let after = lease(port).unwrap();
    assert_eq!(holder(&after).as_deref(), Some(first.as_str()), "{after}");
    assert_ne!(
        before["spec"]["renewTime"], after["spec"]["renewTime"],
        "renewed"
    );
    assert_eq!(after["spec"]["acquireTime"], before["spec"]["acquireTime"]);
    assert_eq!(after["spec"]["leaseDurationSeconds"], 4);
    assert_eq!(after["spec"]["leaseTransitions"], 0);
    assert!(is_micro_time(&after["spec"]["acquireTime"]), "{after}");
    assert!(is_micro_time(&after["spec"]["renewTime"]), "{after}");
    assert!(!log_says(&logs[follower], acquired));
    assert!(
        !log_says(&logs[follower], "starting"),
        "the follower runs no controller"
    );
    controllers_act(port, "led-by-first");

    managers[leader].kill9();
    let second = eventually(20, "the follower holds the Lease", || {
        lease(port)
            .and_then(|l| holder(&l))
            .filter(|h| *h == ids[follower])
    });
    assert_eq!(second, ids[follower]);
    let taken = lease(port).unwrap();
    assert_eq!(taken["spec"]["leaseTransitions"], 1, "{taken}");
    assert_ne!(taken["spec"]["acquireTime"], after["spec"]["acquireTime"]);
    assert!(log_says(&logs[follower], acquired));
    controllers_act(port, "led-by-second");
    assert!(
        managers[follower].exited().is_none(),
        "the new leader keeps running"
    );
}

#[test]
fn a_leader_that_cannot_renew_exits() {
    let mut api = Apiserver::start();
    let log = api.data_dir().join("cm.log");
    let mut manager = ControllerManager::start_logged(&api, &FAST, &log);
    eventually(20, "a Lease holder", || {
        lease(api.port).and_then(|l| holder(&l))
    });
    // With the apiserver gone, no renewal can succeed: past the renew deadline the
    // process stops leading and exits non-zero, like upstream's "leaderelection lost".
    api.kill9();
    let status = eventually(20, "the controller-manager exits", || manager.exited());
    assert!(!status.success(), "{status}");
    assert!(
        log_says(&log, "leaderelection lost"),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
}
