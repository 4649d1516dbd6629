//! LIST figures: one namespace of `list_pods` pods (filled by `store`) listed in full,
//! then in pages of `limit=500`.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{ensure, Context as _};

use super::figures::{mib, ms};
use super::requests::call;
use super::Ctx;
use crate::http::{self, Conn};
use crate::stats::{median, thousands};

/// The namespace that is listed: the first of those `store` fills.
pub(super) const NAMESPACE: &str = "ns-0";

/// The path that lists the pods of [`NAMESPACE`].
pub(super) fn path() -> String {
    format!("/api/v1/namespaces/{NAMESPACE}/pods")
}

/// LISTs [`NAMESPACE`] in full, then in pages of 500, and writes the LIST rows; returns
/// how many pods the full list held (start-up checks them after a restart).
pub(super) async fn run(ctx: &mut Ctx, addr: SocketAddr) -> anyhow::Result<usize> {
    let sizes = ctx.sizes.clone();
    let host = addr.to_string();
    let list_path = path();
    let mut c = Conn::connect(addr).await?;
    let body = call(&mut c, &http::get(&host, &list_path), 200, "listing pods").await?;
    let list: serde_json::Value = serde_json::from_slice(&body).context("the pod list")?;
    let listed = list["items"].as_array().map_or(0, |a| a.len());
    let list_bytes = body.len() as u64;
    drop((list, body));
    let mut list_ms = Vec::new();
    for _ in 0..sizes.list_runs {
        let t0 = Instant::now();
        let r = c.request(&http::get(&host, &list_path), false).await?;
        let d = t0.elapsed();
        ensure!(r.status == 200, "list answered {}", r.status);
        list_ms.push(ms(d));
    }
    let mut page_ms = Vec::new();
    let mut paged_items = 0usize;
    for _ in 0..sizes.list_runs.min(3) {
        let mut cont: Option<String> = None;
        paged_items = 0;
        for _page in 0..(listed / 500 + 2) {
            let path = match &cont {
                None => format!("{list_path}?limit=500"),
                Some(c) => format!("{list_path}?limit=500&continue={}", http::query_escape(c)),
            };
            let t0 = Instant::now();
            let body = call(&mut c, &http::get(&host, &path), 200, "listing a page").await?;
            page_ms.push(ms(t0.elapsed()));
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            paged_items += v["items"].as_array().map_or(0, |a| a.len());
            cont = v["metadata"]["continue"]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            if cont.is_none() {
                break;
            }
        }
    }
    drop(c);
    if paged_items != listed {
        ctx.notes.0.push(format!(
            "paging with limit=500 returned {paged_items} pods, the full list {listed}"
        ));
    }
    if listed != sizes.list_pods {
        ctx.notes.0.push(format!(
            "the full list returned {listed} pods, {} expected",
            sizes.list_pods
        ));
    }
    page_ms.sort_by(|a, b| a.total_cmp(b));

    let t = &mut ctx.table;
    let sec = "LIST (JSON)";
    let list_med = median(&list_ms).unwrap_or(0.0);
    t.goal(
        sec,
        format!(
            "full list of {} pods ({:.1} MiB)",
            thousands(listed as f64),
            mib(list_bytes)
        ),
        format!(
            "{list_med:.1} ms (median of {}; {:.0} MiB/s)",
            list_ms.len(),
            mib(list_bytes) / (list_med / 1e3)
        ),
        "< 150 ms",
        listed == sizes.list_pods && list_med < 150.0,
    );
    let page_med = median(&page_ms).unwrap_or(0.0);
    t.goal(
        sec,
        "a page of limit=500",
        format!(
            "{page_med:.2} ms (median of {} pages; slowest {:.2} ms)",
            page_ms.len(),
            page_ms.last().copied().unwrap_or(0.0)
        ),
        "< 10 ms",
        page_med < 10.0 && !page_ms.is_empty(),
    );

    Ok(listed)
}
