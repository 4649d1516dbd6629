//! apiregistration.k8s.io: every group-version the server serves has its local
//! APIService, available; an APIService pointing at a missing Service is stored and
//! reported unavailable, never pretended available.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::eventually;
use super::{Ctx, Test};

const API_SERVICES: &str = "/apis/apiregistration.k8s.io/v1/apiservices";

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("apiservices", "local", "every group-version in /api and /apis has a local APIService (no service) named version.group, Available=True", |cx| Box::pin(local(cx))),
        Test::new("apiservices", "service-missing", "an APIService backed by a Service that does not exist is stored, validated and becomes Available=False (ServiceNotFound); its Table shows the service and the reason", |cx| Box::pin(service_missing(cx))),
    ]
}

fn available(api_service: &Value) -> Option<&Value> {
    api_service["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Available")
}

async fn local(cx: Ctx) -> anyhow::Result<()> {
    // CustomResourceDefinitions of tests running beside this one come and go: their
    // APIServices follow a moment later, so the two views may need a few reads to agree.
    eventually(Duration::from_secs(60), || local_once(&cx)).await
}

async fn local_once(cx: &Ctx) -> anyhow::Result<()> {
    let list = cx.api.get_json(API_SERVICES).await?;
    let items = list["items"].as_array().context("an APIServiceList")?;
    let mut wanted = vec!["v1.".to_string()];
    for g in cx.api.get_json("/apis").await?["groups"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for v in g["versions"].as_array().into_iter().flatten() {
            wanted.push(format!(
                "{}.{}",
                v["version"].as_str().unwrap_or(""),
                g["name"].as_str().unwrap_or("")
            ));
        }
    }
    for name in &wanted {
        let Some(svc) = items
            .iter()
            .find(|i| i["metadata"]["name"] == name.as_str())
        else {
            anyhow::bail!("no APIService {name}");
        };
        // Groups served by an aggregated API server (with a service) are fine too, but
        // the built-in ones are local.
        if svc["spec"]["service"].is_null() {
            let cond =
                available(svc).with_context(|| format!("{name} has an Available condition"))?;
            ensure!(cond["status"] == "True", "{name} is available: {cond}");
            ensure!(cond["reason"] == "Local", "{name}: reason Local: {cond}");
            let (group, version) = name
                .split_once('.')
                .map(|(v, g)| (g, v))
                .unwrap_or_default();
            ensure!(
                svc["spec"]["group"] == group && svc["spec"]["version"] == version,
                "{name}: spec names it: {}",
                svc["spec"]
            );
            ensure!(
                svc["spec"]["groupPriorityMinimum"]
                    .as_i64()
                    .is_some_and(|p| p > 0),
                "{name}: a group priority"
            );
        }
    }
    let core = items
        .iter()
        .find(|i| i["metadata"]["name"] == "v1.")
        .context("v1.")?;
    ensure!(
        core["spec"]["groupPriorityMinimum"] == 18000,
        "v1. has the top group priority: {}",
        core["spec"]
    );
    Ok(())
}

async fn service_missing(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let group = format!("{}.rkube-conformance.io", cx.ns);
    let name = format!("v1alpha1.{group}");
    let path = format!("{API_SERVICES}/{name}");
    cx.delete_afterwards(path.clone());
    // A name that is not version.group is refused.
    let bad = json!({"metadata": {"name": "wrong"}, "spec": {"group": group, "version": "v1alpha1",
        "groupPriorityMinimum": 100, "versionPriority": 10,
        "service": {"namespace": cx.ns, "name": "rkc-missing"}}});
    api.post(API_SERVICES, &bad)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    let mut good = bad.clone();
    good["metadata"]["name"] = json!(name);
    let created = api.post(API_SERVICES, &good).send().await?.expect(201)?;
    ensure!(
        created["spec"]["service"]["port"] == 443,
        "the service port defaults to 443: {}",
        created["spec"]
    );
    eventually(Duration::from_secs(60), || async {
        let got = api.get_json(&path).await?;
        let cond = available(&got).context("an Available condition")?;
        ensure!(
            cond["status"] == "False" && cond["reason"] == "ServiceNotFound",
            "unavailable, ServiceNotFound: {cond}"
        );
        Ok(())
    })
    .await?;
    let table = api
        .get(&path)
        .accept("application/json;as=Table;v=v1;g=meta.k8s.io")
        .send()
        .await?
        .expect(200)?;
    let cells = &table["rows"][0]["cells"];
    ensure!(
        cells[1] == format!("{}/rkc-missing", cx.ns).as_str(),
        "SERVICE column: {cells}"
    );
    ensure!(
        cells[2] == "False (ServiceNotFound)",
        "AVAILABLE column: {cells}"
    );
    api.delete(&path).send().await?.expect(200)?;
    Ok(())
}
