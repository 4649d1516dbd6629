//! ConfigMap and Secret rules beyond the generic checks: empty keys, immutability.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::{Ctx, Test};
use crate::client::MERGE_PATCH;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("configmaps", "empty-key", "a ConfigMap with an empty data key is refused with 422", |cx| Box::pin(empty_key(cx, "configmaps"))),
        Test::new("configmaps", "immutable", "an immutable ConfigMap refuses data changes and un-marking, accepts label changes and deletion", |cx| Box::pin(immutable(cx, "configmaps"))),
        Test::new("secrets", "empty-key", "a Secret with an empty data key is refused with 422", |cx| Box::pin(empty_key(cx, "secrets"))),
        Test::new("secrets", "immutable", "an immutable Secret refuses data changes and un-marking, accepts label changes and deletion", |cx| Box::pin(immutable(cx, "secrets"))),
        Test::new("secrets", "string-data", "stringData is stored base64-encoded in data and not echoed back", |cx| Box::pin(string_data(cx))),
    ]
}

fn object(plural: &str, name: &str, data: Value) -> Value {
    if plural == "secrets" {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque", "data": data})
    } else {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
    }
}

/// A value fit for either kind's data (base64 of "value-N" for secrets).
fn value(plural: &str, n: u8) -> String {
    if plural == "secrets" {
        ["dmFsdWUtMQ==", "dmFsdWUtMg==", "dmFsdWUtMw=="][usize::from(n - 1)].to_string()
    } else {
        format!("value-{n}")
    }
}

async fn empty_key(cx: Ctx, plural: &str) -> anyhow::Result<()> {
    let body = object(plural, "empty-key", json!({"": value(plural, 1)}));
    let status = cx
        .api
        .post(cx.ns_path("", "v1", plural), &body)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    let causes = status["details"]["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        causes
            .iter()
            .any(|c| c["field"].as_str().is_some_and(|f| f.starts_with("data"))),
        "the cause points into data: {status}"
    );
    cx.snapshot(
        "status",
        &format!("POST /api/v1/namespaces/{{ns}}/{plural} (empty key)"),
        &status,
    )
}

async fn immutable(cx: Ctx, plural: &str) -> anyhow::Result<()> {
    let api = &cx.api;
    let coll = cx.ns_path("", "v1", plural);
    let path = format!("{coll}/frozen");
    api.post(
        &coll,
        &object(plural, "frozen", json!({"k": value(plural, 1)})),
    )
    .send()
    .await?
    .expect(201)?;
    api.patch(
        &path,
        MERGE_PATCH,
        &json!({"data": {"k": value(plural, 2)}}),
    )
    .send()
    .await?
    .expect(200)
    .context("a mutable object's data can change")?;
    api.patch(&path, MERGE_PATCH, &json!({"immutable": true}))
        .send()
        .await?
        .expect(200)
        .context("marking immutable")?;
    let status = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"data": {"k": value(plural, 3)}}),
        )
        .send()
        .await?
        .expect_failure(422, "Invalid")
        .context("data of an immutable object cannot change")?;
    cx.snapshot(
        "data-change",
        &format!("PATCH /api/v1/namespaces/{{ns}}/{plural}/frozen (data, immutable)"),
        &status,
    )?;
    api.patch(&path, MERGE_PATCH, &json!({"immutable": false}))
        .send()
        .await?
        .expect_failure(422, "Invalid")
        .context("immutable cannot be unset")?;
    let labelled = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"still": "mutable"}}}),
        )
        .send()
        .await?
        .expect(200)
        .context("metadata of an immutable object can change")?;
    ensure!(labelled["metadata"]["labels"]["still"] == "mutable");
    ensure!(
        labelled["data"]["k"] == value(plural, 2).as_str(),
        "data kept: {}",
        labelled["data"]
    );
    api.delete(&path)
        .send()
        .await?
        .expect(200)
        .context("an immutable object can be deleted")?;
    Ok(())
}

async fn string_data(cx: Ctx) -> anyhow::Result<()> {
    let body = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "strings"},
                      "stringData": {"user": "admin"}, "data": {"other": "eA=="}});
    let created = cx
        .api
        .post(cx.ns_path("", "v1", "secrets"), &body)
        .send()
        .await?
        .expect(201)?;
    ensure!(
        created["data"] == json!({"other": "eA==", "user": "YWRtaW4="}),
        "stringData merges into data, base64-encoded: {}",
        created["data"]
    );
    ensure!(
        created.get("stringData").is_none(),
        "stringData is write-only"
    );
    ensure!(created["type"] == "Opaque", "type defaults to Opaque");
    cx.snapshot(
        "created",
        "POST /api/v1/namespaces/{ns}/secrets (stringData)",
        &created,
    )
}
