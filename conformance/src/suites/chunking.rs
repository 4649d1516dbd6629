//! List chunking: `limit`, `continue`, `remainingItemCount`, and the snapshot a chunked
//! list reads from.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{items, names};
use super::resources::pod_spec;
use super::{Ctx, Test};

const OBJECTS: usize = 40;
const LIMIT: usize = 17;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("chunking", "limit-continue", "40 podtemplates read 17 at a time: pages of at most the limit, remainingItemCount on all but the last, one resourceVersion, every item once in order; no limit reads all at once", |cx| Box::pin(limit_continue(cx))),
        Test::new("chunking", "consistent-snapshot", "objects created after the first page do not appear in later pages of the same list", |cx| Box::pin(consistent_snapshot(cx))),
        Test::new("chunking", "invalid-continue", "a continue token the server did not issue is a 400", |cx| Box::pin(invalid_continue(cx))),
        Test::new("chunking", "limit-with-selector", "limit applies after the label selector: pages hold only matching objects", |cx| Box::pin(limit_with_selector(cx))),
    ]
}

fn templates(cx: &Ctx) -> String {
    cx.ns_path("", "v1", "podtemplates")
}

async fn create_many(
    cx: &Ctx,
    prefix: &str,
    n: usize,
    labels: Value,
) -> anyhow::Result<Vec<String>> {
    let mut created = Vec::new();
    for i in 0..n {
        let name = format!("{prefix}-{i:03}");
        let body = json!({"apiVersion": "v1", "kind": "PodTemplate",
                          "metadata": {"name": name, "labels": labels},
                          "template": {"metadata": {"labels": {"app": "rkc"}}, "spec": pod_spec()}});
        cx.api
            .post(templates(cx), &body)
            .send()
            .await?
            .expect(201)?;
        created.push(name);
    }
    Ok(created)
}

/// Follow `continue` from the first page; returns the pages.
async fn read_pages(cx: &Ctx, query: &str, limit: usize) -> anyhow::Result<Vec<Value>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let mut path = format!("{}?limit={limit}{query}", templates(cx));
        if !token.is_empty() {
            path.push_str(&format!("&continue={token}"));
        }
        let page = cx.api.get_json(&path).await?;
        token = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        pages.push(page);
        if token.is_empty() {
            return Ok(pages);
        }
        ensure!(pages.len() <= 100, "the list never ends");
        // Tokens are opaque but URL-safe base64 in practice; escape what a query needs.
        token = token
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
    }
}

async fn limit_continue(cx: Ctx) -> anyhow::Result<()> {
    let created = create_many(&cx, "tpl", OBJECTS, json!({"chunk": "yes"})).await?;
    let pages = read_pages(&cx, "", LIMIT).await?;
    let expected_pages = OBJECTS.div_ceil(LIMIT);
    ensure!(
        pages.len() == expected_pages,
        "{OBJECTS} items in pages of {LIMIT}: {} pages",
        pages.len()
    );
    let first_rv = pages[0]["metadata"]["resourceVersion"].clone();
    let mut seen = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let n = items(page).len();
        let last = i + 1 == pages.len();
        ensure!(n <= LIMIT && (last || n == LIMIT), "page {i} has {n} items");
        seen.extend(names(page));
        let remaining = &page["metadata"]["remainingItemCount"];
        if last {
            ensure!(
                remaining.is_null(),
                "the last page has no remainingItemCount: {}",
                page["metadata"]
            );
            ensure!(
                page["metadata"].get("continue").is_none_or(|c| c == ""),
                "the last page has no continue"
            );
        } else {
            ensure!(
                remaining.as_u64() == Some((OBJECTS - seen.len()) as u64),
                "page {i}: remainingItemCount {remaining}, expected {}",
                OBJECTS - seen.len()
            );
        }
        ensure!(
            page["metadata"]["resourceVersion"] == first_rv,
            "page {i} reads at the first page's resourceVersion"
        );
    }
    ensure!(seen == created, "every item once, in name order");
    let mut first = pages[0].clone();
    first["items"] = json!(names(&first));
    cx.snapshot(
        "first-page",
        &format!("GET /api/v1/namespaces/{{ns}}/podtemplates?limit={LIMIT} (item names)"),
        &first,
    )?;
    let all = cx.api.get_json(&templates(&cx)).await?;
    ensure!(
        names(&all) == created,
        "without limit, one response holds all"
    );
    ensure!(
        all["metadata"].get("continue").is_none_or(|c| c == ""),
        "and no continue"
    );
    Ok(())
}

async fn consistent_snapshot(cx: Ctx) -> anyhow::Result<()> {
    let created = create_many(&cx, "old", 10, json!({})).await?;
    let first = cx
        .api
        .get_json(&format!("{}?limit=4", templates(&cx)))
        .await?;
    let token = first["metadata"]["continue"]
        .as_str()
        .context("a first page of 4 of 10 continues")?;
    create_many(&cx, "zzz", 3, json!({})).await?;
    let mut seen = names(&first);
    let mut token = token.to_string();
    while !token.is_empty() {
        let page = cx
            .api
            .get_json(&format!(
                "{}?limit=4&continue={}",
                templates(&cx),
                token.replace('=', "%3D")
            ))
            .await?;
        seen.extend(names(&page));
        token = page["metadata"]["continue"]
            .as_str()
            .unwrap_or("")
            .to_string();
    }
    ensure!(
        seen == created,
        "the chunked list is the state at its first page: {seen:?}"
    );
    Ok(())
}

async fn invalid_continue(cx: Ctx) -> anyhow::Result<()> {
    let status = cx
        .api
        .get(format!(
            "{}?limit=2&continue=bm90LWEtdG9rZW4",
            templates(&cx)
        ))
        .send()
        .await?
        .expect_failure(400, "BadRequest")?;
    ensure!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("continue")),
        "the message is about the continue parameter: {status}"
    );
    Ok(())
}

async fn limit_with_selector(cx: Ctx) -> anyhow::Result<()> {
    create_many(&cx, "a", 6, json!({"pick": "yes"})).await?;
    create_many(&cx, "b", 6, json!({"pick": "no"})).await?;
    let pages = read_pages(&cx, "&labelSelector=pick%3Dyes", 4).await?;
    let seen: Vec<String> = pages.iter().flat_map(names).collect();
    ensure!(
        seen.len() == 6 && seen.iter().all(|n| n.starts_with("a-")),
        "only matching items: {seen:?}"
    );
    Ok(())
}
