//! Watch and paginated list semantics against a real server: event order, resuming
//! from a resourceVersion, selectors (leaving is DELETED, entering is ADDED), the
//! watch-list initial events and their bookmark, timeouts, and `limit`/`continue`
//! reading every page from the first page's snapshot.
//!
//! Watches are opened from a resourceVersion taken before the writes they must see, so
//! no test depends on when the server registers a watcher.

mod common;
mod wire;

use std::collections::BTreeSet;
use std::thread;

use common::Apiserver;
use serde_json::{json, Value};
use wire::{rv_of, summary, Conn, Watch};

const NS: &str = "/api/v1/namespaces";

fn setup() -> (Apiserver, Conn) {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    c.create(
        NS,
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "w"}}),
    );
    (server, c)
}

fn cms() -> String {
    format!("{NS}/w/configmaps")
}

fn cm(name: &str, labels: Value, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "labels": labels}, "data": {"k": value}})
}

fn patch(c: &mut Conn, name: &str, patch: Value) -> Value {
    let (code, v) = c.json("PATCH", &format!("{}/{name}", cms()), &patch);
    assert_eq!(code, 200, "patch {name}: {v}");
    v
}

fn delete(c: &mut Conn, name: &str) {
    let (code, v) = c.json("DELETE", &format!("{}/{name}", cms()), &Value::Null);
    assert_eq!(code, 200, "delete {name}: {v}");
}

/// The current resourceVersion of the configmaps in `w`.
fn list_rv(c: &mut Conn) -> String {
    rv_of(&c.get(&cms()))
}

fn rv_num(obj: &Value) -> u64 {
    rv_of(obj).parse().expect("numeric resourceVersion")
}

fn ev(kind: &str, name: &str) -> (String, String) {
    (kind.to_string(), name.to_string())
}

#[test]
fn add_update_delete_in_order() {
    let (server, mut c) = setup();
    let from = list_rv(&mut c);
    let mut w = Watch::open(
        server.port,
        &format!("{}?watch=1&resourceVersion={from}", cms()),
    );
    assert_eq!(w.code, 200);
    assert_eq!(
        w.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str()),
        Some("application/json")
    );

    let a = c.create(&cms(), &cm("a", json!({}), "1"));
    let a2 = patch(&mut c, "a", json!({"data": {"k": "2"}}));
    let b = c.create(&cms(), &cm("b", json!({}), "1"));
    delete(&mut c, "a");

    let events = w.take(4);
    assert_eq!(
        events.iter().map(summary).collect::<Vec<_>>(),
        [
            ev("ADDED", "a"),
            ev("MODIFIED", "a"),
            ev("ADDED", "b"),
            ev("DELETED", "a")
        ]
    );
    // Each event carries the object as written, at the revision of its write.
    assert_eq!(events[0]["object"], a);
    assert_eq!(events[1]["object"], a2);
    assert_eq!(events[2]["object"], b);
    assert_eq!(events[3]["object"]["data"]["k"], "2", "the last state of a");
    let rvs: Vec<u64> = events.iter().map(|e| rv_num(&e["object"])).collect();
    assert!(rvs.windows(2).all(|p| p[0] < p[1]), "{rvs:?}");
    assert!(rvs[0] > from.parse::<u64>().unwrap());
    // The deletion is at a revision of its own, after b's creation.
    assert!(rvs[3] > rv_num(&b));
}

#[test]
fn resumes_after_a_resource_version() {
    let (server, mut c) = setup();
    c.create(&cms(), &cm("a", json!({}), "1"));
    let b = c.create(&cms(), &cm("b", json!({}), "1"));
    c.create(&cms(), &cm("c", json!({}), "1"));
    // Only what came after b: c, then anything new.
    let mut w = Watch::open(
        server.port,
        &format!("{}?watch=1&resourceVersion={}", cms(), rv_of(&b)),
    );
    patch(&mut c, "a", json!({"data": {"k": "2"}}));
    assert_eq!(
        w.take(2).iter().map(summary).collect::<Vec<_>>(),
        [ev("ADDED", "c"), ev("MODIFIED", "a")]
    );
    // resourceVersion=0 (and unset) starts with the current state as ADDED events.
    let mut w = Watch::open(server.port, &format!("{}?watch=1&resourceVersion=0", cms()));
    let names: BTreeSet<String> = w
        .take(3)
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "ADDED", "{e}");
            summary(e).1
        })
        .collect();
    assert_eq!(names, BTreeSet::from(["a".into(), "b".into(), "c".into()]));
}

#[test]
fn label_selector_entering_is_added_and_leaving_is_deleted() {
    let (server, mut c) = setup();
    let from = list_rv(&mut c);
    let mut w = Watch::open(
        server.port,
        &format!(
            "{}?watch=1&labelSelector=app%3Dweb&resourceVersion={from}",
            cms()
        ),
    );
    c.create(&cms(), &cm("x", json!({"app": "db"}), "1")); // not seen
    let entered = patch(&mut c, "x", json!({"metadata": {"labels": {"app": "web"}}}));
    let changed = patch(&mut c, "x", json!({"data": {"k": "2"}}));
    let left = patch(&mut c, "x", json!({"metadata": {"labels": {"app": "db"}}}));
    patch(&mut c, "x", json!({"data": {"k": "3"}})); // not seen
    c.create(&cms(), &cm("y", json!({"app": "web"}), "1"));
    delete(&mut c, "x"); // not seen: x no longer matches
    delete(&mut c, "y");
    c.create(&cms(), &cm("z", json!({"app": "web"}), "1"));

    let events = w.take(6);
    assert_eq!(
        events.iter().map(summary).collect::<Vec<_>>(),
        [
            ev("ADDED", "x"),
            ev("MODIFIED", "x"),
            ev("DELETED", "x"),
            ev("ADDED", "y"),
            ev("DELETED", "y"),
            ev("ADDED", "z"),
        ]
    );
    assert_eq!(events[0]["object"], entered);
    assert_eq!(events[1]["object"], changed);
    // The DELETED of leaving the selector is at the revision of the change that left.
    assert_eq!(rv_of(&events[2]["object"]), rv_of(&left));
}

#[test]
fn send_initial_events_end_with_a_bookmark() {
    let (server, mut c) = setup();
    c.create(&cms(), &cm("a", json!({}), "1"));
    let b = c.create(&cms(), &cm("b", json!({}), "1"));
    // Elsewhere: not part of this namespace's initial state.
    c.create(
        "/api/v1/namespaces/default/configmaps",
        &cm("other", json!({}), "1"),
    );
    let mut w = Watch::open(
        server.port,
        &format!(
            "{}?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan",
            cms()
        ),
    );
    assert_eq!(w.code, 200);
    let initial = w.take(2);
    let names: BTreeSet<String> = initial
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "ADDED", "{e}");
            summary(e).1
        })
        .collect();
    assert_eq!(names, BTreeSet::from(["a".into(), "b".into()]));

    let bookmark = w.take(1).remove(0);
    assert_eq!(bookmark["type"], "BOOKMARK", "{bookmark}");
    let obj = &bookmark["object"];
    assert_eq!(
        (&obj["kind"], &obj["apiVersion"]),
        (&json!("ConfigMap"), &json!("v1"))
    );
    assert_eq!(
        obj["metadata"]["annotations"],
        json!({"k8s.io/initial-events-end": "true"}),
        "{bookmark}"
    );
    let at = rv_num(obj);
    assert!(
        at >= rv_num(&b),
        "the bookmark is at or after the state sent"
    );

    let c_obj = c.create(&cms(), &cm("c", json!({}), "1"));
    let next = w.take(1).remove(0);
    assert_eq!(summary(&next), ev("ADDED", "c"));
    assert_eq!(next["object"], c_obj);
    assert!(rv_num(&c_obj) > at);
}

#[test]
fn timeout_seconds_ends_the_stream() {
    let (server, mut c) = setup();
    let from = list_rv(&mut c);
    c.create(&cms(), &cm("a", json!({}), "1"));
    let mut w = Watch::open(
        server.port,
        &format!("{}?watch=1&resourceVersion={from}&timeoutSeconds=1", cms()),
    );
    assert_eq!(w.code, 200);
    // The server closes the stream by itself (each read is bounded by wire::READ_TIMEOUT).
    let events = w.rest();
    assert_eq!(
        events.iter().map(summary).collect::<Vec<_>>(),
        [ev("ADDED", "a")]
    );
}

#[test]
fn concurrent_watches_see_the_same_order() {
    let (server, mut c) = setup();
    let from = list_rv(&mut c);
    let path = format!("{}?watch=1&resourceVersion={from}", cms());
    let mut w1 = Watch::open(server.port, &path);
    let mut w2 = Watch::open(server.port, &path);
    let writers = 3;
    let per_writer = 20;
    let port = server.port;
    let handles: Vec<_> = (0..writers)
        .map(|t| {
            thread::spawn(move || {
                let mut c = Conn::new(port);
                let name = format!("cm-{t}");
                c.create(&cms(), &cm(&name, json!({}), "0"));
                for i in 1..per_writer {
                    patch(&mut c, &name, json!({"data": {"k": i.to_string()}}));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let n = writers * per_writer;
    let key = |e: &Value| (summary(e), rv_of(&e["object"]));
    let seen1: Vec<_> = w1.take(n).iter().map(key).collect();
    let seen2: Vec<_> = w2.take(n).iter().map(key).collect();
    assert_eq!(seen1, seen2);
    let rvs: Vec<u64> = seen1.iter().map(|(_, rv)| rv.parse().unwrap()).collect();
    assert!(rvs.windows(2).all(|p| p[0] < p[1]), "{rvs:?}");
    // Every writer's own changes arrive in the order it made them.
    for t in 0..writers {
        let kinds: Vec<String> = seen1
            .iter()
            .filter(|((_, name), _)| *name == format!("cm-{t}"))
            .map(|((kind, _), _)| kind.clone())
            .collect();
        assert_eq!(kinds.len(), per_writer);
        assert_eq!(kinds[0], "ADDED");
        assert!(kinds[1..].iter().all(|k| k == "MODIFIED"), "{kinds:?}");
    }
}

#[test]
fn list_pages_come_from_the_first_pages_snapshot() {
    let (_server, mut c) = setup();
    for i in 0..5 {
        c.create(&cms(), &cm(&format!("cm-{i}"), json!({}), "old"));
    }
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };

    let page1 = c.get(&format!("{}?limit=2", cms()));
    assert_eq!(names(&page1), ["cm-0", "cm-1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3, "{page1}");
    let snapshot = rv_of(&page1);
    let token = page1["metadata"]["continue"]
        .as_str()
        .expect("a continue token")
        .to_string();

    // Changes after the first page: none of them shows in the later pages.
    c.create(&cms(), &cm("cm-1a", json!({}), "new"));
    patch(&mut c, "cm-3", json!({"data": {"k": "new"}}));
    delete(&mut c, "cm-4");

    let page2 = c.get(&format!("{}?limit=2&continue={token}", cms()));
    assert_eq!(names(&page2), ["cm-2", "cm-3"], "{page2}");
    assert_eq!(page2["items"][1]["data"]["k"], "old");
    assert_eq!(page2["metadata"]["remainingItemCount"], 1, "{page2}");
    assert_eq!(rv_of(&page2), snapshot);
    let token = page2["metadata"]["continue"]
        .as_str()
        .expect("a continue token");

    let page3 = c.get(&format!("{}?limit=2&continue={token}", cms()));
    assert_eq!(names(&page3), ["cm-4"], "{page3}");
    assert_eq!(rv_of(&page3), snapshot);
    assert!(page3["metadata"].get("continue").is_none(), "{page3}");
    assert!(
        page3["metadata"].get("remainingItemCount").is_none(),
        "{page3}"
    );

    // A new list sees the present.
    let now = c.get(&cms());
    assert_eq!(names(&now), ["cm-0", "cm-1", "cm-1a", "cm-2", "cm-3"]);
    assert_ne!(rv_of(&now), snapshot);
}

#[test]
fn leaving_the_selector_sends_the_previous_content() {
    let (server, mut c) = setup();
    let from = list_rv(&mut c);
    let mut w = Watch::open(
        server.port,
        &format!(
            "{}?watch=1&labelSelector=app%3Dweb&resourceVersion={from}",
            cms()
        ),
    );
    let before = c.create(&cms(), &cm("x", json!({"app": "web"}), "1"));
    let left = patch(
        &mut c,
        "x",
        json!({"metadata": {"labels": {"app": "db"}}, "data": {"k": "2"}}),
    );
    let events = w.take(2);
    assert_eq!(summary(&events[1]), ev("DELETED", "x"));
    let mut want = before.clone();
    want["metadata"]["resourceVersion"] = json!(rv_of(&left));
    assert_eq!(events[1]["object"], want);
}
