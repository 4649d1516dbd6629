//! Events, core v1 and events.k8s.io/v1: found across namespaces by label, patched,
//! updated with a series, deleted.

use anyhow::{ensure, Context as _};
use serde_json::json;

use super::crud::{self, Kind};
use super::resources::{EVENTS, EVENTS_V1};
use super::{Ctx, Test};
use crate::client::MERGE_PATCH;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("events", "core-lifecycle", "a v1 Event: listed across namespaces by label, message patched, series updated, deleted and gone from the list", |cx| Box::pin(lifecycle(cx, &EVENTS))),
        Test::new("events", "events-v1-lifecycle", "an events.k8s.io/v1 Event: listed across namespaces by label, note patched, series updated, deleted and gone from the list", |cx| Box::pin(lifecycle(cx, &EVENTS_V1))),
        Test::new("events", "cross-version", "an Event written through events.k8s.io/v1 reads back through v1 with the fields mapped", |cx| Box::pin(cross_version(cx))),
    ]
}

async fn lifecycle(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let api = &cx.api;
    let core = kind.group.is_empty();
    let name = "lifecycle";
    crud::create(&cx, kind, name, json!({"testevent-set": "true"})).await?;
    let all = format!(
        "{}/{}?labelSelector={}%3D{}",
        super::group_prefix(kind.group, kind.version),
        kind.plural,
        crud::SCOPE_LABEL,
        cx.ns
    );
    let listed = api.get_json(&all).await?;
    ensure!(
        crud::names(&listed) == [name],
        "listing all namespaces by label finds the event"
    );
    let path = kind.item(&cx.ns, name);
    let (field, patch) = if core {
        ("message", json!({"message": "patched"}))
    } else {
        ("note", json!({"note": "patched"}))
    };
    let patched = api
        .patch(&path, MERGE_PATCH, &patch)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched[field] == "patched",
        "the {field} is patched: {patched}"
    );
    let mut with_series = patched.clone();
    with_series["series"] = json!({"count": 2, "lastObservedTime": "2025-01-01T00:00:01.000000Z"});
    let updated = api.put(&path, &with_series).send().await?.expect(200)?;
    ensure!(
        updated["series"]["count"] == 2,
        "the series is stored: {updated}"
    );
    let read = api.get_json(&path).await?;
    ensure!(read["series"]["count"] == 2 && read[field] == "patched");
    cx.snapshot(
        "updated",
        &format!("PUT {} (series)", kind.item("{ns}", name)),
        &read,
    )?;
    api.delete(&path).send().await?.expect(200)?;
    crud::wait_gone(&cx, &path).await?;
    let listed = api.get_json(&all).await?;
    ensure!(
        crud::items(&listed).is_empty(),
        "the deleted event is gone from the list"
    );
    Ok(())
}

async fn cross_version(cx: Ctx) -> anyhow::Result<()> {
    crud::create(&cx, &EVENTS_V1, "crossed", json!({})).await?;
    let core = cx
        .api
        .get_json(&EVENTS.item(&cx.ns, "crossed"))
        .await
        .context("an events.k8s.io Event is readable as a v1 Event")?;
    ensure!(
        core["message"] == "from rkube conformance"
            && core["involvedObject"]["name"] == "p"
            && core["reportingComponent"] == "rkube.io/conformance"
            && core["reason"] == "Testing",
        "note→message, regarding→involvedObject, reportingController→reportingComponent: {core}"
    );
    cx.snapshot("as-v1", "GET /api/v1/namespaces/{ns}/events/crossed", &core)
}
