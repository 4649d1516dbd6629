//! Watch semantics on configmaps: several watchers by label, starting from a
//! resourceVersion, restarting from the last one seen, objects leaving and re-entering a
//! selector, concurrent watches agreeing on order, rv=0 and timeouts.

use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use serde_json::{json, Value};

use super::crud::EVENT_WAIT;
use super::{Ctx, Test};
use crate::client::{WatchStream, MERGE_PATCH};

/// How long a watch must stay silent to show it received nothing.
const QUIET: Duration = Duration::from_millis(1500);

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("watch", "multiple-watchers", "watchers on label A, label B and A-or-B each see exactly the add, update and delete events of the configmaps they select", |cx| Box::pin(multiple_watchers(cx))),
        Test::new("watch", "from-resource-version", "a watch from an old resourceVersion sees only the events after it", |cx| Box::pin(from_resource_version(cx))),
        Test::new("watch", "restart-from-last-seen", "a watch closed and reopened from the last resourceVersion it saw continues without loss or repeat", |cx| Box::pin(restart_from_last_seen(cx))),
        Test::new("watch", "leaving-selector", "an object whose labels stop matching is DELETED for the watch, unseen while out, ADDED when it matches again", |cx| Box::pin(leaving_selector(cx))),
        Test::new("watch", "concurrent-order", "watches started at each other's events see the same events in the same order while a writer runs", |cx| Box::pin(concurrent_order(cx))),
        Test::new("watch", "initial-state", "a watch without resourceVersion, or with 0, starts with ADDED for what exists", |cx| Box::pin(initial_state(cx))),
        Test::new("watch", "timeout", "timeoutSeconds ends the watch stream", |cx| Box::pin(timeout(cx))),
        Test::new("watch", "field-selector", "a watch with fieldSelector=metadata.name follows one object only", |cx| Box::pin(field_selector(cx))),
    ]
}

fn configmaps(cx: &Ctx) -> String {
    cx.ns_path("", "v1", "configmaps")
}

fn cm(name: &str, label: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "labels": {"watch-this-configmap": label}}, "data": {"mutation": "0"}})
}

/// (type, name, data.mutation) of an event, for comparing sequences.
fn summary(e: &Value) -> (String, String, String) {
    (
        e["type"].as_str().unwrap_or("?").to_string(),
        e["object"]["metadata"]["name"]
            .as_str()
            .unwrap_or("?")
            .to_string(),
        e["object"]["data"]["mutation"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn rv(v: &Value) -> String {
    v["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn expect_events(
    w: &mut WatchStream,
    want: &[(&str, &str, &str)],
) -> anyhow::Result<Vec<Value>> {
    let mut got = Vec::new();
    for (i, expected) in want.iter().enumerate() {
        let e = w
            .next(EVENT_WAIT)
            .await?
            .with_context(|| format!("the watch ended before event {i} {expected:?}"))?;
        let s = summary(&e);
        ensure!(
            (s.0.as_str(), s.1.as_str(), s.2.as_str()) == *expected,
            "event {i}: expected {expected:?}, got {s:?}"
        );
        got.push(e);
    }
    Ok(got)
}

async fn expect_quiet(w: &mut WatchStream) -> anyhow::Result<()> {
    if let Some(e) = w.next_within(QUIET).await? {
        bail!("expected no more events, got {:?}", summary(&e));
    }
    Ok(())
}

async fn mutate(cx: &Ctx, name: &str, value: &str) -> anyhow::Result<Value> {
    cx.api
        .patch(
            format!("{}/{name}", configmaps(cx)),
            MERGE_PATCH,
            &json!({"data": {"mutation": value}}),
        )
        .send()
        .await?
        .expect(200)
}

async fn delete(cx: &Ctx, name: &str) -> anyhow::Result<()> {
    cx.api
        .delete(format!("{}/{name}", configmaps(cx)))
        .send()
        .await?
        .expect(200)?;
    Ok(())
}

async fn create(cx: &Ctx, name: &str, label: &str) -> anyhow::Result<Value> {
    cx.api
        .post(configmaps(cx), &cm(name, label))
        .send()
        .await?
        .expect(201)
}

async fn watch(cx: &Ctx, query: &str) -> anyhow::Result<WatchStream> {
    cx.api
        .watch(&format!("{}?watch=true&{query}", configmaps(cx)))
        .await
}

async fn multiple_watchers(cx: Ctx) -> anyhow::Result<()> {
    let rv0 = rv(&cx.api.get_json(&configmaps(&cx)).await?);
    let mut a = watch(
        &cx,
        &format!("resourceVersion={rv0}&labelSelector=watch-this-configmap%3Dmultiple-watchers-A"),
    )
    .await?;
    let mut b = watch(
        &cx,
        &format!("resourceVersion={rv0}&labelSelector=watch-this-configmap%3Dmultiple-watchers-B"),
    )
    .await?;
    let mut ab = watch(
        &cx,
        &format!("resourceVersion={rv0}&labelSelector=watch-this-configmap%20in%20%28multiple-watchers-A%2Cmultiple-watchers-B%29"),
    )
    .await?;
    create(&cx, "cm-a", "multiple-watchers-A").await?;
    mutate(&cx, "cm-a", "1").await?;
    mutate(&cx, "cm-a", "2").await?;
    delete(&cx, "cm-a").await?;
    create(&cx, "cm-b", "multiple-watchers-B").await?;
    delete(&cx, "cm-b").await?;
    let a_events = [
        ("ADDED", "cm-a", "0"),
        ("MODIFIED", "cm-a", "1"),
        ("MODIFIED", "cm-a", "2"),
        ("DELETED", "cm-a", "2"),
    ];
    let b_events = [("ADDED", "cm-b", "0"), ("DELETED", "cm-b", "0")];
    expect_events(&mut a, &a_events)
        .await
        .context("watcher A")?;
    expect_quiet(&mut a)
        .await
        .context("watcher A sees nothing of B")?;
    expect_events(&mut b, &b_events)
        .await
        .context("watcher B")?;
    expect_quiet(&mut b)
        .await
        .context("watcher B sees nothing of A")?;
    let both: Vec<_> = a_events.iter().chain(&b_events).copied().collect();
    expect_events(&mut ab, &both)
        .await
        .context("watcher A-or-B")?;
    Ok(())
}

async fn from_resource_version(cx: Ctx) -> anyhow::Result<()> {
    create(&cx, "cm-rv", "from-rv").await?;
    let first = mutate(&cx, "cm-rv", "1").await?;
    mutate(&cx, "cm-rv", "2").await?;
    delete(&cx, "cm-rv").await?;
    let mut w = watch(&cx, &format!("resourceVersion={}", rv(&first))).await?;
    expect_events(
        &mut w,
        &[("MODIFIED", "cm-rv", "2"), ("DELETED", "cm-rv", "2")],
    )
    .await?;
    expect_quiet(&mut w).await
}

async fn restart_from_last_seen(cx: Ctx) -> anyhow::Result<()> {
    let rv0 = rv(&cx.api.get_json(&configmaps(&cx)).await?);
    let selector = "labelSelector=watch-this-configmap%3Dwatch-closed-and-restarted";
    let mut w = watch(&cx, &format!("resourceVersion={rv0}&{selector}")).await?;
    create(&cx, "cm-restart", "watch-closed-and-restarted").await?;
    mutate(&cx, "cm-restart", "1").await?;
    let seen = expect_events(
        &mut w,
        &[
            ("ADDED", "cm-restart", "0"),
            ("MODIFIED", "cm-restart", "1"),
        ],
    )
    .await?;
    drop(w);
    let last = rv(&seen[1]["object"]);
    mutate(&cx, "cm-restart", "2").await?;
    delete(&cx, "cm-restart").await?;
    let mut again = watch(&cx, &format!("resourceVersion={last}&{selector}")).await?;
    expect_events(
        &mut again,
        &[
            ("MODIFIED", "cm-restart", "2"),
            ("DELETED", "cm-restart", "2"),
        ],
    )
    .await?;
    expect_quiet(&mut again).await
}

async fn leaving_selector(cx: Ctx) -> anyhow::Result<()> {
    let rv0 = rv(&cx.api.get_json(&configmaps(&cx)).await?);
    let mut w = watch(
        &cx,
        &format!(
            "resourceVersion={rv0}&labelSelector=watch-this-configmap%3Dlabel-changed-and-restored"
        ),
    )
    .await?;
    let path = format!("{}/cm-label", configmaps(&cx));
    create(&cx, "cm-label", "label-changed-and-restored").await?;
    mutate(&cx, "cm-label", "1").await?;
    let relabel = |value: &'static str| {
        let path = path.clone();
        let api = cx.api.clone();
        async move {
            api.patch(
                &path,
                MERGE_PATCH,
                &json!({"metadata": {"labels": {"watch-this-configmap": value}}}),
            )
            .send()
            .await?
            .expect(200)
        }
    };
    relabel("wrong-value").await?;
    mutate(&cx, "cm-label", "2").await?;
    expect_events(
        &mut w,
        &[
            ("ADDED", "cm-label", "0"),
            ("MODIFIED", "cm-label", "1"),
            ("DELETED", "cm-label", "1"),
        ],
    )
    .await?;
    expect_quiet(&mut w)
        .await
        .context("no events while the label does not match")?;
    relabel("label-changed-and-restored").await?;
    mutate(&cx, "cm-label", "3").await?;
    delete(&cx, "cm-label").await?;
    expect_events(
        &mut w,
        &[
            ("ADDED", "cm-label", "2"),
            ("MODIFIED", "cm-label", "3"),
            ("DELETED", "cm-label", "3"),
        ],
    )
    .await?;
    Ok(())
}

async fn concurrent_order(cx: Ctx) -> anyhow::Result<()> {
    const WRITES: usize = 60;
    let rv0 = rv(&cx.api.get_json(&configmaps(&cx)).await?);
    let mut first = watch(&cx, &format!("resourceVersion={rv0}")).await?;
    let writer = {
        let cx = cx.clone();
        tokio::spawn(async move {
            for i in 0..WRITES {
                let name = format!("cm-{}", i % 5);
                let r = match i % 3 {
                    0 => {
                        cx.api
                            .post(configmaps(&cx), &cm(&name, "concurrent"))
                            .send()
                            .await
                    }
                    1 => {
                        cx.api
                            .patch(
                                format!("{}/{name}", configmaps(&cx)),
                                MERGE_PATCH,
                                &json!({"data": {"mutation": i.to_string()}}),
                            )
                            .send()
                            .await
                    }
                    _ => {
                        cx.api
                            .delete(format!("{}/{name}", configmaps(&cx)))
                            .send()
                            .await
                    }
                };
                r?;
            }
            anyhow::Ok(())
        })
    };
    // Every event the first watch sees starts another watch from that event's version;
    // each of those must then see exactly what the first saw after that event.
    let mut reference: Vec<String> = Vec::new();
    let mut followers: Vec<(usize, WatchStream)> = Vec::new();
    loop {
        let Some(e) = first.next_within(Duration::from_secs(5)).await? else {
            break;
        };
        reference.push(rv(&e["object"]));
        if reference.len() % 4 == 1 {
            let from = reference.last().cloned().unwrap_or_default();
            followers.push((
                reference.len(),
                watch(&cx, &format!("resourceVersion={from}")).await?,
            ));
        }
    }
    writer.await??;
    ensure!(
        reference.len() >= WRITES / 3,
        "the first watch saw only {} events",
        reference.len()
    );
    for (start, mut w) in followers {
        for (i, expected) in reference[start..].iter().enumerate() {
            let e = w
                .next(EVENT_WAIT)
                .await?
                .with_context(|| format!("the watch from event {start} ended at {i}"))?;
            ensure!(
                &rv(&e["object"]) == expected,
                "the watch from event {start} saw resourceVersion {} where the first saw {expected}",
                rv(&e["object"])
            );
        }
    }
    Ok(())
}

async fn initial_state(cx: Ctx) -> anyhow::Result<()> {
    create(&cx, "cm-1", "initial").await?;
    create(&cx, "cm-2", "initial").await?;
    for query in [
        "labelSelector=watch-this-configmap%3Dinitial",
        "resourceVersion=0&labelSelector=watch-this-configmap%3Dinitial",
    ] {
        let mut w = watch(&cx, query).await?;
        let mut names = Vec::new();
        for _ in 0..2 {
            let e = w.next(EVENT_WAIT).await?.context("the watch ended")?;
            ensure!(
                e["type"] == "ADDED",
                "{query}: existing objects come as ADDED: {}",
                e["type"]
            );
            names.push(
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        names.sort();
        ensure!(names == ["cm-1", "cm-2"], "{query}: {names:?}");
        mutate(&cx, "cm-1", query.len().to_string().as_str()).await?;
        let e = w.next(EVENT_WAIT).await?.context("the watch ended")?;
        ensure!(
            e["type"] == "MODIFIED",
            "{query}: then changes: {}",
            e["type"]
        );
    }
    Ok(())
}

async fn timeout(cx: Ctx) -> anyhow::Result<()> {
    let mut w = watch(&cx, "timeoutSeconds=1").await?;
    let started = std::time::Instant::now();
    loop {
        match w
            .next(Duration::from_secs(10))
            .await
            .context("the watch outlived timeoutSeconds=1")?
        {
            None => break,
            Some(e) if e["type"] == "BOOKMARK" => {}
            Some(e) => bail!("an empty namespace's watch sent {e}"),
        }
    }
    ensure!(
        started.elapsed() < Duration::from_secs(10),
        "ended in {:?}",
        started.elapsed()
    );
    Ok(())
}

async fn field_selector(cx: Ctx) -> anyhow::Result<()> {
    let rv0 = rv(&cx.api.get_json(&configmaps(&cx)).await?);
    let mut w = watch(
        &cx,
        &format!("resourceVersion={rv0}&fieldSelector=metadata.name%3Dcm-one"),
    )
    .await?;
    create(&cx, "cm-other", "field").await?;
    create(&cx, "cm-one", "field").await?;
    mutate(&cx, "cm-other", "1").await?;
    mutate(&cx, "cm-one", "1").await?;
    expect_events(
        &mut w,
        &[("ADDED", "cm-one", "0"), ("MODIFIED", "cm-one", "1")],
    )
    .await?;
    expect_quiet(&mut w).await
}
