//! The endpoints the documents name, each driven and its answers snapshotted:
//! `/api/v1/pods`, `/api/v1/services`, `/api/v1/replicationcontrollers`,
//! `/apis/apps/v1/namespaces/default/daemonsets?limit=500`, and
//! `/api/v1/namespaces/{ns}/pods` with every verb and watch.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{wait_gone, EVENT_WAIT};
use super::resources::{pod_spec, NO_SCHEDULER};
use super::{Ctx, Test};
use crate::client::{APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH};

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("endpoints", "pods-all-namespaces", "GET /api/v1/pods: a PodList across namespaces that includes this test's pod", |cx| Box::pin(pods_all_namespaces(cx))),
        Test::new("endpoints", "services-all-namespaces", "GET /api/v1/services: a ServiceList across namespaces with this test's service and default/kubernetes", |cx| Box::pin(services_all_namespaces(cx))),
        Test::new("endpoints", "replicationcontrollers-all-namespaces", "GET /api/v1/replicationcontrollers: a ReplicationControllerList across namespaces with this test's RC", |cx| Box::pin(rcs_all_namespaces(cx))),
        Test::new("endpoints", "daemonsets-default-limit", "GET /apis/apps/v1/namespaces/default/daemonsets?limit=500: a DaemonSetList", |cx| Box::pin(daemonsets_default(cx))),
        Test::new("endpoints", "pods-every-verb", "/api/v1/namespaces/{ns}/pods with create, get, list, update, merge/json/strategic/apply patch, status, delete and deletecollection, followed by a watch (also the legacy /api/v1/watch/ path)", |cx| Box::pin(pods_every_verb(cx))),
    ]
}

/// A pod that stays Pending and unbound on any cluster (see `NO_SCHEDULER`).
pub fn pod(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": labels}, "spec": pod_spec()})
}

/// A cluster-wide list reduced to this test's namespace, for a stable snapshot.
fn only_namespace(list: &Value, ns: &str, drop_status: bool) -> Value {
    let mut out = list.clone();
    let items: Vec<Value> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["metadata"]["namespace"] == ns)
        .map(|i| {
            let mut i = i.clone();
            if drop_status {
                if let Some(o) = i.as_object_mut() {
                    o.remove("status");
                }
                // And the record of the controller's status writes.
                if let Some(Value::Array(entries)) = i["metadata"].get_mut("managedFields") {
                    entries.retain(|e| e["subresource"] != "status");
                }
            }
            i
        })
        .collect();
    out["items"] = Value::Array(items);
    out
}

async fn pods_all_namespaces(cx: Ctx) -> anyhow::Result<()> {
    let pods = cx.ns_path("", "v1", "pods");
    cx.api
        .post(&pods, &pod("listed", json!({"app": "rkc"})))
        .send()
        .await?
        .expect(201)?;
    let list = cx.api.get_json("/api/v1/pods").await?;
    ensure!(
        list["kind"] == "PodList" && list["apiVersion"] == "v1",
        "a PodList: {}",
        list["kind"]
    );
    let mine = only_namespace(&list, &cx.ns, false);
    ensure!(
        mine["items"].as_array().is_some_and(|a| a.len() == 1),
        "GET /api/v1/pods includes the test's pod"
    );
    cx.snapshot("list", "GET /api/v1/pods (this test's namespace)", &mine)
}

async fn services_all_namespaces(cx: Ctx) -> anyhow::Result<()> {
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "listed"},
                     "spec": {"selector": {"app": "rkc"}, "ports": [{"port": 80, "targetPort": 8080}]}});
    cx.api
        .post(cx.ns_path("", "v1", "services"), &svc)
        .send()
        .await?
        .expect(201)?;
    let list = cx.api.get_json("/api/v1/services").await?;
    ensure!(
        list["kind"] == "ServiceList",
        "a ServiceList: {}",
        list["kind"]
    );
    let has_kubernetes =
        list["items"].as_array().into_iter().flatten().any(|s| {
            s["metadata"]["namespace"] == "default" && s["metadata"]["name"] == "kubernetes"
        });
    ensure!(
        has_kubernetes,
        "the list across namespaces has default/kubernetes"
    );
    let mine = only_namespace(&list, &cx.ns, false);
    ensure!(
        mine["items"].as_array().is_some_and(|a| a.len() == 1),
        "GET /api/v1/services includes the test's service"
    );
    cx.snapshot(
        "list",
        "GET /api/v1/services (this test's namespace)",
        &mine,
    )
}

async fn rcs_all_namespaces(cx: Ctx) -> anyhow::Result<()> {
    let rc = json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "listed"},
                    "spec": {"replicas": 0, "selector": {"app": "rkc"},
                             "template": {"metadata": {"labels": {"app": "rkc"}}, "spec": pod_spec()}}});
    cx.api
        .post(cx.ns_path("", "v1", "replicationcontrollers"), &rc)
        .send()
        .await?
        .expect(201)?;
    let list = cx.api.get_json("/api/v1/replicationcontrollers").await?;
    ensure!(
        list["kind"] == "ReplicationControllerList",
        "a ReplicationControllerList"
    );
    // Status is the controller's to write, at its own pace: not part of the snapshot.
    let mine = only_namespace(&list, &cx.ns, true);
    ensure!(
        mine["items"].as_array().is_some_and(|a| a.len() == 1),
        "GET /api/v1/replicationcontrollers includes the test's RC"
    );
    cx.snapshot(
        "list",
        "GET /api/v1/replicationcontrollers (this test's namespace)",
        &mine,
    )
}

async fn daemonsets_default(cx: Ctx) -> anyhow::Result<()> {
    let path = "/apis/apps/v1/namespaces/default/daemonsets?limit=500";
    let list = cx.api.get_json(path).await?;
    ensure!(
        list["kind"] == "DaemonSetList" && list["apiVersion"] == "apps/v1",
        "GET {path} is an apps/v1 DaemonSetList: {list}"
    );
    let n = list["items"]
        .as_array()
        .map(Vec::len)
        .context("the list has items")?;
    ensure!(n <= 500, "limit=500 returns at most 500 items");
    ensure!(
        list["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "the list has a resourceVersion"
    );
    // The default namespace's content is the cluster's business: snapshot the envelope.
    let envelope = json!({"kind": list["kind"], "apiVersion": list["apiVersion"],
                          "metadata": list["metadata"]});
    cx.snapshot("list", path, &envelope)
}

async fn pods_every_verb(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let pods = cx.ns_path("", "v1", "pods");
    let shown = "/api/v1/namespaces/{ns}/pods";
    let list = api.get_json(&pods).await?;
    cx.snapshot("list-empty", &format!("GET {shown}"), &list)?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let mut watch = api
        .watch(&format!("{pods}?watch=true&resourceVersion={rv}"))
        .await?;
    let legacy = format!(
        "/api/v1/watch/namespaces/{}/pods?resourceVersion={rv}",
        cx.ns
    );
    let mut legacy_watch = api.watch(&legacy).await?;

    let created = api
        .post(&pods, &pod("verbs", json!({"app": "rkc"})))
        .send()
        .await?
        .expect(201)?;
    ensure!(
        created["spec"]["schedulerName"] == NO_SCHEDULER && created["status"]["phase"] == "Pending",
        "a created pod is Pending: {}",
        created["status"]
    );
    cx.snapshot("create", &format!("POST {shown}"), &created)?;
    let path = format!("{pods}/verbs");
    let item = format!("{shown}/verbs");
    let got = api.get_json(&path).await?;
    cx.snapshot("get", &format!("GET {item}"), &got)?;
    cx.snapshot("list", &format!("GET {shown}"), &api.get_json(&pods).await?)?;

    let mut changed = got.clone();
    changed["metadata"]["labels"]["verb"] = json!("update");
    let updated = api.put(&path, &changed).send().await?.expect(200)?;
    cx.snapshot("update", &format!("PUT {item}"), &updated)?;
    let merged = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"verb": "merge"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        merged["metadata"]["labels"]["verb"] == "merge",
        "merge patch: {}",
        merged["metadata"]
    );
    let jsonp = api
        .patch(
            &path,
            JSON_PATCH,
            &json!([{"op": "replace", "path": "/metadata/labels/verb", "value": "json"}]),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        jsonp["metadata"]["labels"]["verb"] == "json",
        "json patch: {}",
        jsonp["metadata"]
    );
    // Strategic merge on a list keyed by name: the container's image changes in place.
    let strategic = api
        .patch(
            &path,
            STRATEGIC_PATCH,
            &json!({"spec": {"containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}),
        )
        .send()
        .await?
        .expect(200)?;
    let containers = strategic["spec"]["containers"].as_array().map(Vec::len);
    ensure!(
        containers == Some(1)
            && strategic["spec"]["containers"][0]["image"] == "registry.k8s.io/pause:3.9",
        "strategic merge patches the container by name: {}",
        strategic["spec"]["containers"]
    );
    cx.snapshot(
        "patch-strategic",
        &format!("PATCH {item} (strategic merge)"),
        &strategic,
    )?;
    let apply = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: verbs\n  annotations:\n    applied: \"yes\"\n";
    let applied = api
        .req(
            http::Method::PATCH,
            format!("{path}?fieldManager=rkube-conformance-apply"),
        )
        .body(APPLY_PATCH, apply.as_bytes().to_vec())
        .send()
        .await?
        .expect(200)?;
    ensure!(
        applied["metadata"]["annotations"]["applied"] == "yes",
        "server-side apply: {}",
        applied["metadata"]
    );
    cx.snapshot("apply", &format!("PATCH {item} (apply)"), &applied)?;
    let status = api.get_json(&format!("{path}/status")).await?;
    ensure!(
        status["kind"] == "Pod",
        "GET pods/{{name}}/status answers the Pod"
    );

    let deleted = api.delete(&path).send().await?.expect(200)?;
    cx.snapshot("delete", &format!("DELETE {item}"), &deleted)?;
    let gone = wait_gone(&cx, &path).await?;
    cx.snapshot("get-deleted", &format!("GET {item} (deleted)"), &gone)?;

    for w in [&mut watch, &mut legacy_watch] {
        let mut types = Vec::new();
        while types.last() != Some(&"DELETED".to_string()) {
            let event = w.next(EVENT_WAIT).await?.context("the watch ended early")?;
            types.push(event["type"].as_str().unwrap_or("?").to_string());
        }
        let modified = types.iter().filter(|t| *t == "MODIFIED").count();
        ensure!(
            types[0] == "ADDED" && modified >= 5,
            "the watch sees the pod added, changed five times, deleted: {types:?}"
        );
    }

    for i in 0..3 {
        api.post(&pods, &pod(&format!("many-{i}"), json!({"set": "many"})))
            .send()
            .await?
            .expect(201)?;
    }
    let answer = api
        .delete(format!("{pods}?labelSelector=set%3Dmany"))
        .send()
        .await?
        .expect(200)?;
    ensure!(
        answer["kind"] == "PodList",
        "deletecollection answers the deleted PodList: {}",
        answer["kind"]
    );
    super::crud::eventually(std::time::Duration::from_secs(60), || async {
        let left = api
            .get_json(&format!("{pods}?labelSelector=set%3Dmany"))
            .await?;
        ensure!(
            super::crud::items(&left).is_empty(),
            "pods left after deletecollection"
        );
        Ok(())
    })
    .await
}
