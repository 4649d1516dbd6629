//! Server-side printing: `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{self, Kind};
use super::endpoints::pod;
use super::resources::{CONFIGMAPS, DEPLOYMENTS, EVENTS, SERVICES};
use super::{Ctx, Test};

pub const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("table", "pods", "pods as a Table: upstream's columns (Name, Ready, Status, Restarts, Age; IP, Node, Nominated Node, Readiness Gates at priority 1) and a row with PartialObjectMetadata", |cx| Box::pin(pods(cx))),
        Test::new("table", "kinds", "configmaps, services, deployments, events and namespaces as Tables: upstream's column definitions", |cx| Box::pin(kinds(cx))),
        Test::new("table", "include-object", "includeObject=None leaves rows without objects, Object embeds the whole object", |cx| Box::pin(include_object(cx))),
        Test::new("table", "single-object", "a GET of one object as a Table has one row", |cx| Box::pin(single_object(cx))),
        Test::new("table", "not-implemented", "a Table asked of a resource that has no table form (selfsubjectaccessreviews) is a 406", |cx| Box::pin(not_implemented(cx))),
    ]
}

/// The Table with its relative-time cells (Age, Last Seen, First Seen) redacted.
fn stable(table: &Value) -> Value {
    let mut t = table.clone();
    let times: Vec<usize> = t["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, c)| {
            ["Age", "Last Seen", "First Seen"]
                .iter()
                .any(|n| c["name"] == *n)
        })
        .map(|(i, _)| i)
        .collect();
    for row in t["rows"].as_array_mut().into_iter().flatten() {
        for i in &times {
            row["cells"][*i] = json!("[age]");
        }
    }
    t
}

fn column_names(table: &Value) -> Vec<(String, i64)> {
    table["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("?").to_string(),
                c["priority"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

async fn get_table(cx: &Ctx, path: &str) -> anyhow::Result<Value> {
    let reply = cx.api.get(path).accept(TABLE).send().await?;
    let t = reply.expect(200)?;
    ensure!(
        t["kind"] == "Table" && t["apiVersion"] == "meta.k8s.io/v1",
        "GET {path} as Table is a meta.k8s.io/v1 Table: {}",
        crate::client::excerpt(&t.to_string())
    );
    for row in t["rows"].as_array().into_iter().flatten() {
        ensure!(
            row["cells"].as_array().map(Vec::len)
                == t["columnDefinitions"].as_array().map(Vec::len),
            "every row has a cell per column: {row}"
        );
    }
    Ok(t)
}

async fn pods(cx: Ctx) -> anyhow::Result<()> {
    let coll = cx.ns_path("", "v1", "pods");
    cx.api
        .post(&coll, &pod("tabled", json!({})))
        .send()
        .await?
        .expect(201)?;
    let t = get_table(&cx, &coll).await?;
    let expected = [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ];
    let got = column_names(&t);
    ensure!(
        got.iter()
            .map(|(n, p)| (n.as_str(), *p))
            .collect::<Vec<_>>()
            == expected,
        "pod columns: {got:?}"
    );
    let row = &t["rows"][0];
    ensure!(
        row["cells"][0] == "tabled" && row["cells"][1] == "0/1" && row["cells"][2] == "Pending",
        "pod row: {}",
        row["cells"]
    );
    ensure!(
        row["object"]["kind"] == "PartialObjectMetadata"
            && row["object"]["metadata"]["name"] == "tabled",
        "rows carry PartialObjectMetadata by default: {}",
        row["object"]
    );
    cx.snapshot(
        "pods",
        "GET /api/v1/namespaces/{ns}/pods (as Table)",
        &stable(&t),
    )
}

async fn kinds(cx: Ctx) -> anyhow::Result<()> {
    let kinds: [&'static Kind; 4] = [&CONFIGMAPS, &SERVICES, &DEPLOYMENTS, &EVENTS];
    for kind in kinds {
        crud::create(&cx, kind, "tabled", json!({})).await?;
        let t = get_table(&cx, &kind.collection(&cx.ns)).await?;
        ensure!(
            t["rows"].as_array().map(Vec::len) == Some(1),
            "one row for one {}",
            kind.kind
        );
        ensure!(
            column_names(&t)
                .first()
                .is_some_and(|(n, _)| n == "Name" || n == "Last Seen"),
            "{} columns: {:?}",
            kind.kind,
            column_names(&t)
        );
        cx.snapshot(
            kind.plural,
            &format!("GET {} (as Table)", kind.collection("{ns}")),
            &stable(&t),
        )?;
    }
    let t = get_table(&cx, &format!("/api/v1/namespaces/{}", cx.ns)).await?;
    let cols: Vec<String> = column_names(&t).into_iter().map(|(n, _)| n).collect();
    ensure!(
        cols == ["Name", "Status", "Age"],
        "namespace columns: {cols:?}"
    );
    Ok(())
}

async fn include_object(cx: Ctx) -> anyhow::Result<()> {
    crud::create(&cx, &CONFIGMAPS, "tabled", json!({})).await?;
    let coll = CONFIGMAPS.collection(&cx.ns);
    let none = get_table(&cx, &format!("{coll}?includeObject=None")).await?;
    ensure!(
        none["rows"][0].get("object").is_none_or(Value::is_null),
        "includeObject=None: {}",
        none["rows"][0]
    );
    let full = get_table(&cx, &format!("{coll}?includeObject=Object")).await?;
    let obj = &full["rows"][0]["object"];
    ensure!(
        obj["kind"] == "ConfigMap" && obj["data"]["a"] == "1",
        "includeObject=Object embeds the ConfigMap: {obj}"
    );
    Ok(())
}

async fn single_object(cx: Ctx) -> anyhow::Result<()> {
    crud::create(&cx, &CONFIGMAPS, "tabled", json!({})).await?;
    let t = get_table(&cx, &CONFIGMAPS.item(&cx.ns, "tabled")).await?;
    let rows = t["rows"].as_array().context("rows")?;
    ensure!(
        rows.len() == 1 && rows[0]["cells"][0] == "tabled",
        "one row: {rows:?}"
    );
    Ok(())
}

async fn not_implemented(cx: Ctx) -> anyhow::Result<()> {
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                        "spec": {"nonResourceAttributes": {"path": "/", "verb": "get"}}});
    cx.api
        .post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            &review,
        )
        .accept(TABLE)
        .send()
        .await?
        .expect_failure(406, "NotAcceptable")?;
    Ok(())
}
