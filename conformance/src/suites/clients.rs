//! Real clients against the cluster under test: kube-rs' typed `Api` and `watcher`, and
//! the official Python client when python3 has the `kubernetes` package.

use std::time::Duration;

use anyhow::{ensure, Context as _};
use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use serde_json::json;

use super::{Ctx, Test};

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("clients", "kube-rs-api", "kube-rs Api<ConfigMap>: create, get, list by label, replace, merge and apply patches, delete", |cx| Box::pin(kube_api(cx))),
        Test::new("clients", "kube-rs-watcher", "kube-rs runtime::watcher: the initial list, then apply and delete events", |cx| Box::pin(kube_watcher(cx))),
        Test::new("clients", "python-official", "the official Python client (pip install kubernetes): create, list, watch, patch, delete", |cx| Box::pin(python(cx))),
    ]
}

fn configmap(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"client": "kube-rs"}},
        "data": {"value": value},
    }))
    .expect("a valid ConfigMap")
}

async fn kube_api(cx: Ctx) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(cx.api.kube_client(), &cx.ns);
    let created = api
        .create(&PostParams::default(), &configmap("typed", "1"))
        .await?;
    ensure!(created.metadata.uid.is_some(), "a created object has a uid");
    let got = api.get("typed").await?;
    ensure!(
        got.data
            .as_ref()
            .and_then(|d| d.get("value"))
            .map(String::as_str)
            == Some("1")
    );
    let listed = api
        .list(&ListParams::default().labels("client=kube-rs"))
        .await?;
    ensure!(listed.items.len() == 1, "list by label finds one");
    let mut replaced = got.clone();
    replaced.data = Some([("value".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("typed", &PostParams::default(), &replaced)
        .await?;
    ensure!(replaced.metadata.resource_version != got.metadata.resource_version);
    let merged = api
        .patch(
            "typed",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"merged": "yes"}})),
        )
        .await?;
    ensure!(merged
        .data
        .as_ref()
        .is_some_and(|d| d.contains_key("merged")));
    let applied = api
        .patch(
            "typed",
            &PatchParams::apply("rkube-conformance").force(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed"}, "data": {"applied": "yes"}})),
        )
        .await?;
    ensure!(
        applied
            .data
            .as_ref()
            .is_some_and(|d| d.contains_key("applied") && d.contains_key("merged")),
        "server-side apply adds its field and keeps the others: {:?}",
        applied.data
    );
    api.delete("typed", &DeleteParams::default()).await?;
    let err = api.get("typed").await.expect_err("gone after delete");
    ensure!(
        matches!(&err, kube::Error::Api(s) if s.code == 404),
        "kube-rs reads the 404 Status: {err}"
    );
    Ok(())
}

async fn kube_watcher(cx: Ctx) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::namespaced(cx.api.kube_client(), &cx.ns);
    api.create(&PostParams::default(), &configmap("before", "0"))
        .await?;
    let stream = watcher(
        api.clone(),
        watcher::Config::default().labels("client=kube-rs"),
    );
    let mut stream = std::pin::pin!(stream);
    let mut initial = Vec::new();
    loop {
        match next_event(&mut stream).await? {
            watcher::Event::Init => {}
            watcher::Event::InitApply(cm) => initial.push(cm.metadata.name.unwrap_or_default()),
            watcher::Event::InitDone => break,
            other => anyhow::bail!("expected the initial list, got {other:?}"),
        }
    }
    ensure!(initial == ["before"], "the initial list: {initial:?}");
    api.create(&PostParams::default(), &configmap("after", "1"))
        .await?;
    match next_event(&mut stream).await? {
        watcher::Event::Apply(cm) => ensure!(cm.metadata.name.as_deref() == Some("after")),
        other => anyhow::bail!("expected Apply(after), got {other:?}"),
    }
    api.delete("before", &DeleteParams::default()).await?;
    match next_event(&mut stream).await? {
        watcher::Event::Delete(cm) => ensure!(cm.metadata.name.as_deref() == Some("before")),
        other => anyhow::bail!("expected Delete(before), got {other:?}"),
    }
    Ok(())
}

async fn next_event<S>(stream: &mut S) -> anyhow::Result<watcher::Event<ConfigMap>>
where
    S: futures_util::Stream<Item = Result<watcher::Event<ConfigMap>, watcher::Error>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .context("no watcher event in 15s")?
        .context("the watcher stream ended")?
        .map_err(anyhow::Error::from)
}

/// Run by python3; prints "ok" when every step held.
const PYTHON_SCRIPT: &str = r#"
import os, sys
from kubernetes import client, config, watch
if os.environ.get("RKC_KUBECONFIG"):
    config.load_kube_config(config_file=os.environ["RKC_KUBECONFIG"])
    v1 = client.CoreV1Api()
else:
    c = client.Configuration()
    c.host = os.environ["RKC_SERVER"]
    v1 = client.CoreV1Api(client.ApiClient(c))
ns = os.environ["RKC_NAMESPACE"]
body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"client": "python"}), data={"a": "1"})
created = v1.create_namespaced_config_map(ns, body)
assert created.metadata.uid, "uid"
items = v1.list_namespaced_config_map(ns, label_selector="client=python").items
assert [i.metadata.name for i in items] == ["py"], items
rv = created.metadata.resource_version
patched = v1.patch_namespaced_config_map("py", ns, {"data": {"b": "2"}})
assert patched.data == {"a": "1", "b": "2"}, patched.data
v1.delete_namespaced_config_map("py", ns)
seen = []
w = watch.Watch()
for e in w.stream(v1.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=10):
    seen.append((e["type"], e["object"].metadata.name))
    if e["type"] == "DELETED":
        w.stop()
assert seen == [("MODIFIED", "py"), ("DELETED", "py")], seen
try:
    v1.read_namespaced_config_map("py", ns)
    sys.exit("read after delete succeeded")
except client.exceptions.ApiException as e:
    assert e.status == 404, e.status
print("ok")
"#;

async fn python(cx: Ctx) -> anyhow::Result<()> {
    let probe = tokio::process::Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output()
        .await;
    if !probe.is_ok_and(|o| o.status.success()) {
        return super::skip("needs python3 with the kubernetes package (pip install kubernetes)");
    }
    let mut cmd = tokio::process::Command::new("python3");
    cmd.args(["-c", PYTHON_SCRIPT])
        .env("RKC_NAMESPACE", &cx.ns)
        .env("RKC_SERVER", &cx.api.server);
    if let Some(path) = &cx.api.kubeconfig {
        cmd.env("RKC_KUBECONFIG", path);
    }
    let out = tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .context("the python client did not finish in 90s")??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && stdout.trim() == "ok",
        "the python client failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}
