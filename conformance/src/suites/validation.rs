//! Server-side field validation (`fieldValidation=Strict|Warn|Ignore`) of typed objects.

use anyhow::ensure;
use serde_json::{json, Value};

use super::resources::DEPLOYMENTS;
use super::{Ctx, Test};
use crate::client::{Reply, JSON};

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("validation", "strict-unknown-field", "fieldValidation=Strict refuses unknown fields with a 400 naming each", |cx| Box::pin(strict_unknown(cx))),
        Test::new("validation", "strict-duplicate-field", "fieldValidation=Strict refuses duplicate fields with a 400 naming them", |cx| Box::pin(strict_duplicate(cx))),
        Test::new("validation", "strict-unknown-metadata", "fieldValidation=Strict refuses unknown fields in metadata", |cx| Box::pin(strict_metadata(cx))),
        Test::new("validation", "warn", "fieldValidation=Warn (and no parameter) stores the object without the unknown field and says so in a Warning header", |cx| Box::pin(warn(cx))),
        Test::new("validation", "ignore", "fieldValidation=Ignore drops unknown fields silently", |cx| Box::pin(ignore(cx))),
        Test::new("validation", "strict-patch", "under fieldValidation=Strict an unknown field in a merge PATCH is a 422 naming it (a strict decoding error on the patch); an invalid value is a 422 too", |cx| Box::pin(patch_unknown(cx))),
    ]
}

fn deployment(name: &str) -> Value {
    let mut d = DEPLOYMENTS.object("", name, json!({}));
    if let Some(m) = d["metadata"].as_object_mut() {
        m.remove("namespace");
        m.remove("labels");
    }
    d
}

async fn post(cx: &Ctx, query: &str, body: Vec<u8>) -> anyhow::Result<Reply> {
    let path = format!("{}{query}", DEPLOYMENTS.collection(&cx.ns));
    cx.api
        .req(http::Method::POST, path)
        .body(JSON, body)
        .send()
        .await
}

fn message(status: &Value) -> &str {
    status["message"].as_str().unwrap_or("")
}

async fn strict_unknown(cx: Ctx) -> anyhow::Result<()> {
    let mut d = deployment("strict");
    d["spec"]["foo"] = json!("bar");
    d["spec"]["template"]["spec"]["containers"][0]["bogus"] = json!(1);
    let status = post(&cx, "?fieldValidation=Strict", serde_json::to_vec(&d)?)
        .await?
        .expect_failure(400, "BadRequest")?;
    let m = message(&status);
    ensure!(
        m.contains("strict decoding error:")
            && m.contains("unknown field \"spec.foo\"")
            && m.contains("unknown field \"spec.template.spec.containers[0].bogus\""),
        "upstream's message names every unknown field: {m}"
    );
    cx.snapshot(
        "status",
        "POST /apis/apps/v1/namespaces/{ns}/deployments?fieldValidation=Strict (unknown fields)",
        &status,
    )
}

async fn strict_duplicate(cx: Ctx) -> anyhow::Result<()> {
    let d = deployment("dup");
    let text = serde_json::to_string(&d)?;
    // `"replicas":1` appears once in the spec; say it twice.
    let body = text.replacen("\"replicas\":1", "\"replicas\":1,\"replicas\":2", 1);
    ensure!(body != text, "the body has a replicas field to duplicate");
    let status = post(&cx, "?fieldValidation=Strict", body.into_bytes())
        .await?
        .expect_failure(400, "BadRequest")?;
    let m = message(&status);
    ensure!(
        m.contains("strict decoding error:") && m.contains("duplicate field \"spec.replicas\""),
        "upstream's message names the duplicate: {m}"
    );
    Ok(())
}

async fn strict_metadata(cx: Ctx) -> anyhow::Result<()> {
    let mut d = deployment("meta");
    d["metadata"]["unknownMeta"] = json!("x");
    let status = post(&cx, "?fieldValidation=Strict", serde_json::to_vec(&d)?)
        .await?
        .expect_failure(400, "BadRequest")?;
    ensure!(
        message(&status).contains("unknown field \"metadata.unknownMeta\""),
        "upstream's message: {}",
        message(&status)
    );
    Ok(())
}

async fn warn(cx: Ctx) -> anyhow::Result<()> {
    for (query, name) in [("?fieldValidation=Warn", "warned"), ("", "defaulted")] {
        let mut d = deployment(name);
        d["spec"]["foo"] = json!("bar");
        let reply = post(&cx, query, serde_json::to_vec(&d)?).await?;
        let created = reply.expect(201)?;
        ensure!(
            created["spec"].get("foo").is_none(),
            "the unknown field is not stored: {}",
            created["spec"]
        );
        let warnings: Vec<&str> = reply
            .headers
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        ensure!(
            warnings
                .iter()
                .any(|w| w.starts_with("299 ") && w.contains("unknown field \\\"spec.foo\\\"")),
            "{query:?}: a 299 Warning names the unknown field, got {warnings:?}"
        );
    }
    Ok(())
}

async fn ignore(cx: Ctx) -> anyhow::Result<()> {
    let mut d = deployment("ignored");
    d["spec"]["foo"] = json!("bar");
    let reply = post(&cx, "?fieldValidation=Ignore", serde_json::to_vec(&d)?).await?;
    let created = reply.expect(201)?;
    ensure!(
        created["spec"].get("foo").is_none(),
        "the unknown field is dropped"
    );
    ensure!(
        reply.headers.get("warning").is_none(),
        "and nothing is said about it"
    );
    Ok(())
}

async fn patch_unknown(cx: Ctx) -> anyhow::Result<()> {
    let d = deployment("patched");
    post(&cx, "", serde_json::to_vec(&d)?).await?.expect(201)?;
    let path = format!(
        "{}/patched?fieldValidation=Strict",
        DEPLOYMENTS.collection(&cx.ns)
    );
    // Upstream decodes the patched object strictly and reports what it found as an
    // invalid `patch` (apiserver handlers/patch.go, jsonPatcher): 422, unlike a create,
    // where the body itself fails to decode (400).
    let status = cx
        .api
        .patch(
            &path,
            crate::client::MERGE_PATCH,
            &json!({"spec": {"foo": "bar"}}),
        )
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        message(&status).contains("strict decoding error: unknown field \"spec.foo\"")
            && status["details"]["causes"][0]["field"] == "patch",
        "{status}"
    );
    let mut bad = deployment("negative");
    bad["spec"]["replicas"] = json!(-1);
    post(&cx, "?fieldValidation=Strict", serde_json::to_vec(&bad)?)
        .await?
        .expect_failure(422, "Invalid")?;
    Ok(())
}
