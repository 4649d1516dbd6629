//! CustomResourceDefinitions (apiextensions.k8s.io/v1) and the custom resources they
//! serve: what upstream's CustomResourceDefinition, CustomResourcePublishOpenAPI and
//! FieldValidation conformance tests check. Each test defines its own group (named after
//! its namespace) and deletes its CRD when it ends.

use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{eventually, wait_gone};
use super::{Ctx, Test};
use crate::client::{JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
const EVENT_WAIT: Duration = Duration::from_secs(30);

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("crd", "lifecycle", "a CRD becomes Established with its names accepted, is listed, labelled and its status updated and patched, shows in legacy and aggregated discovery, and leaves discovery when deleted as a collection", |cx| Box::pin(lifecycle(cx))),
        Test::new("crd", "watch", "a watch on CRDs sees one being added, modified and deleted", |cx| Box::pin(watch_crds(cx))),
        Test::new("crd", "custom-resources", "custom resources: create, get, list with selectors, merge and JSON patch, 415 for strategic merge patch, 409 on a stale update, watch, deletecollection", |cx| Box::pin(custom_resources(cx))),
        Test::new("crd", "status-scale", "the status and scale subresources of a custom resource: status writes change only status, spec writes bump the generation, scale reads and sets replicas", |cx| Box::pin(status_and_scale(cx))),
        Test::new("crd", "schema", "custom resources are validated against the CRD's schema (422 with causes), defaulted on create and when read from storage, and pruned of unknown fields", |cx| Box::pin(schema(cx))),
        Test::new("crd", "field-validation", "unknown fields of a custom resource: 400 for fieldValidation=Strict, a Warning header for Warn, kept where the schema preserves unknown fields, also in embedded objects' metadata", |cx| Box::pin(field_validation(cx))),
        Test::new("crd", "openapi", "a CRD's schema is published in /openapi/v3 and /openapi/v2 and withdrawn when its version is no longer served", |cx| Box::pin(openapi(cx))),
    ]
}

fn group(cx: &Ctx) -> String {
    format!("{}.example.com", cx.ns)
}

fn widget_schema() -> Value {
    json!({"openAPIV3Schema": {"type": "object", "description": "A Widget for the conformance harness.", "properties": {
        "spec": {"type": "object", "description": "What the widget should be.", "required": ["size"], "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 10, "description": "How big."},
            "color": {"type": "string", "enum": ["red", "blue"], "default": "red"},
            "name": {"type": "string", "pattern": "^[a-z]+$"},
            "replicas": {"type": "integer"},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "template": {"type": "object", "x-kubernetes-embedded-resource": true, "properties": {"spec": {"type": "string"}}},
        }},
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "phase": {"type": "string"}}},
    }}})
}

/// A namespaced Widget CRD of this test's group with status and scale subresources.
fn widget_crd(cx: &Ctx) -> Value {
    let g = group(cx);
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{g}"), "labels": {"rkube-conformance": cx.ns}},
        "spec": {"group": g, "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wdg"]},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": widget_schema(),
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]}]}})
}

/// Create `crd` (deleted when the test ends) and wait until it is Established.
async fn establish(cx: &Ctx, crd: &Value) -> anyhow::Result<Value> {
    let name = crd["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    cx.api.post(CRDS, crd).send().await?.expect(201)?;
    cx.delete_afterwards(format!("{CRDS}/{name}"));
    let path = format!("{CRDS}/{name}");
    let mut last = Value::Null;
    for _ in 0..120 {
        last = cx.api.get_json(&path).await?;
        if condition(&last, "Established") == Some("True") {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!("{name} never became Established: {}", last["status"])
}

fn condition<'a>(crd: &'a Value, kind: &str) -> Option<&'a str> {
    crd["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)?
        .get("status")?
        .as_str()
}

fn widget(name: &str, size: i64) -> Value {
    json!({"apiVersion": "", "kind": "Widget", "metadata": {"name": name, "labels": {"size": size.to_string()}}, "spec": {"size": size}})
}

fn widgets(cx: &Ctx) -> String {
    cx.ns_path(&group(cx), "v1", "widgets")
}

fn with_api_version(cx: &Ctx, mut v: Value) -> Value {
    v["apiVersion"] = json!(format!("{}/v1", group(cx)));
    v
}

async fn lifecycle(cx: Ctx) -> anyhow::Result<()> {
    let crd = establish(&cx, &widget_crd(&cx)).await?;
    let g = group(&cx);
    let name = format!("widgets.{g}");
    ensure!(
        condition(&crd, "NamesAccepted") == Some("True"),
        "names are accepted: {}",
        crd["status"]
    );
    ensure!(
        crd["status"]["acceptedNames"]["kind"] == "Widget"
            && crd["status"]["acceptedNames"]["listKind"] == "WidgetList",
        "acceptedNames: {}",
        crd["status"]
    );
    ensure!(
        crd["status"]["storedVersions"] == json!(["v1"]),
        "storedVersions: {}",
        crd["status"]
    );
    // Listing with a label selector finds it.
    let list = cx
        .api
        .get_json(&format!(
            "{CRDS}?labelSelector=rkube-conformance%3D{}",
            cx.ns
        ))
        .await?;
    let names: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    ensure!(
        names == [name.as_str()],
        "the labelled CRD is listed: {names:?}"
    );
    // Discovery: the group, its version and both subresources.
    let resources = cx.api.get_json(&format!("/apis/{g}/v1")).await?;
    let listed: Vec<&str> = resources["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    ensure!(
        listed == ["widgets", "widgets/scale", "widgets/status"],
        "/apis/{g}/v1 lists {listed:?}"
    );
    let w = &resources["resources"][0];
    ensure!(
        w["kind"] == "Widget" && w["namespaced"] == true && w["shortNames"] == json!(["wdg"]),
        "{w}"
    );
    let groups = cx.api.get_json("/apis").await?;
    ensure!(
        groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|x| x["name"] == g.as_str() && x["preferredVersion"]["version"] == "v1"),
        "/apis lists {g}"
    );
    // Status: update with a new condition, then patch another.
    let status_path = format!("{CRDS}/{name}/status");
    let mut current = cx.api.get_json(&status_path).await?;
    let mut conditions = current["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    conditions.push(json!({"type": "StatusUpdated", "status": "True", "reason": "E2E", "message": "set from the test", "lastTransitionTime": "2024-01-01T00:00:00Z"}));
    current["status"]["conditions"] = json!(conditions);
    let updated = cx
        .api
        .put(&status_path, &current)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        condition(&updated, "StatusUpdated") == Some("True"),
        "updated status: {}",
        updated["status"]
    );
    let patched = cx
        .api
        .patch(
            format!("{CRDS}/{name}"),
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"patched": "yes"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched["metadata"]["labels"]["patched"] == "yes",
        "{patched}"
    );
    let aggregated = cx
        .api
        .get("/apis")
        .accept("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        .send()
        .await?
        .expect(200)?;
    let entry = aggregated["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["metadata"]["name"] == g.as_str())
        .context("aggregated discovery lists the group")?;
    let resource = &entry["versions"][0]["resources"][0];
    ensure!(
        resource["resource"] == "widgets"
            && resource["responseKind"]["kind"] == "Widget"
            && resource["scope"] == "Namespaced",
        "{entry}"
    );
    // Delete (as a collection, by label): the CRD goes, and its group leaves discovery.
    cx.api
        .delete(format!(
            "{CRDS}?labelSelector=rkube-conformance%3D{}",
            cx.ns
        ))
        .send()
        .await?
        .expect(200)?;
    wait_gone(&cx, &format!("{CRDS}/{name}")).await?;
    eventually(Duration::from_secs(30), || async {
        let code = cx.api.get(format!("/apis/{g}/v1")).send().await?.status;
        ensure!(code == 404, "/apis/{g}/v1 answers {code}");
        Ok(())
    })
    .await
}

async fn watch_crds(cx: Ctx) -> anyhow::Result<()> {
    let crd = widget_crd(&cx);
    let name = crd["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut w = cx
        .api
        .watch(&format!(
            "{CRDS}?watch=true&fieldSelector=metadata.name%3D{name}"
        ))
        .await?;
    establish(&cx, &crd).await?;
    cx.api
        .patch(
            format!("{CRDS}/{name}"),
            MERGE_PATCH,
            &json!({"metadata": {"annotations": {"watched": "yes"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    cx.api
        .delete(format!("{CRDS}/{name}"))
        .send()
        .await?
        .expect(200)?;
    let mut seen = Vec::new();
    while !seen.contains(&"DELETED".to_string()) {
        let e = w.next(EVENT_WAIT).await?.context("the watch ended")?;
        ensure!(
            e["object"]["metadata"]["name"] == name.as_str(),
            "only {name}: {e}"
        );
        seen.push(e["type"].as_str().unwrap_or("?").to_string());
    }
    ensure!(
        seen.first().map(String::as_str) == Some("ADDED") && seen.iter().any(|t| t == "MODIFIED"),
        "saw {seen:?}"
    );
    Ok(())
}

async fn custom_resources(cx: Ctx) -> anyhow::Result<()> {
    establish(&cx, &widget_crd(&cx)).await?;
    let coll = widgets(&cx);
    let api = &cx.api;
    let mut watch = api.watch(&format!("{coll}?watch=true")).await?;
    for (name, size) in [("small", 1), ("big", 9)] {
        let created = api
            .post(&coll, &with_api_version(&cx, widget(name, size)))
            .send()
            .await?
            .expect(201)?;
        ensure!(
            created["metadata"]["generation"] == 1 && created["spec"]["color"] == "red",
            "created with generation 1 and the default color: {created}"
        );
    }
    let got = api.get_json(&format!("{coll}/small")).await?;
    ensure!(got["kind"] == "Widget" && got["spec"]["size"] == 1, "{got}");
    let by_label = api
        .get_json(&format!("{coll}?labelSelector=size%3D9"))
        .await?;
    ensure!(
        by_label["kind"] == "WidgetList" && by_label["items"].as_array().map(Vec::len) == Some(1),
        "{by_label}"
    );
    let by_field = api
        .get_json(&format!("{coll}?fieldSelector=metadata.name%3Dsmall"))
        .await?;
    ensure!(
        by_field["items"][0]["metadata"]["name"] == "small"
            && by_field["items"].as_array().map(Vec::len) == Some(1),
        "{by_field}"
    );
    let page = api.get_json(&format!("{coll}?limit=1")).await?;
    ensure!(
        page["metadata"]["continue"].is_string()
            && page["items"].as_array().map(Vec::len) == Some(1),
        "limit=1 pages: {page}"
    );
    let patched = api
        .patch(
            format!("{coll}/small"),
            MERGE_PATCH,
            &json!({"spec": {"size": 2}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched["spec"]["size"] == 2 && patched["metadata"]["generation"] == 2,
        "{patched}"
    );
    let patched = api
        .patch(
            format!("{coll}/small"),
            JSON_PATCH,
            &json!([{"op": "replace", "path": "/spec/size", "value": 3}]),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(patched["spec"]["size"] == 3, "{patched}");
    api.patch(
        format!("{coll}/small"),
        STRATEGIC_PATCH,
        &json!({"spec": {"size": 4}}),
    )
    .send()
    .await?
    .expect_failure(415, "UnsupportedMediaType")?;
    let mut stale = got.clone();
    stale["spec"]["size"] = json!(5);
    api.put(format!("{coll}/small"), &stale)
        .send()
        .await?
        .expect_failure(409, "Conflict")?;
    api.delete(&coll).send().await?.expect(200)?;
    let left = api.get_json(&coll).await?;
    ensure!(
        left["items"].as_array().is_some_and(Vec::is_empty),
        "deletecollection empties it: {left}"
    );
    let mut events = Vec::new();
    while events.iter().filter(|t| *t == "DELETED").count() < 2 {
        let e = watch.next(EVENT_WAIT).await?.context("the watch ended")?;
        events.push(e["type"].as_str().unwrap_or("?").to_string());
    }
    ensure!(
        events.iter().filter(|t| *t == "ADDED").count() == 2
            && events.iter().filter(|t| *t == "MODIFIED").count() == 2,
        "watch saw {events:?}"
    );
    Ok(())
}

async fn status_and_scale(cx: Ctx) -> anyhow::Result<()> {
    establish(&cx, &widget_crd(&cx)).await?;
    let coll = widgets(&cx);
    let api = &cx.api;
    let mut w = widget("scaled", 1);
    w["spec"]["replicas"] = json!(1);
    w["status"] = json!({"phase": "ignored on create"});
    let created = api
        .post(&coll, &with_api_version(&cx, w))
        .send()
        .await?
        .expect(201)?;
    ensure!(
        created.get("status").is_none(),
        "status is not set on create: {created}"
    );
    let path = format!("{coll}/scaled");
    let st = api
        .patch(
            format!("{path}/status"),
            MERGE_PATCH,
            &json!({"spec": {"size": 7}, "status": {"phase": "Ready", "replicas": 1}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        st["status"]["phase"] == "Ready"
            && st["spec"]["size"] == 1
            && st["metadata"]["generation"] == 1,
        "a status write changes only status: {st}"
    );
    let main = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"spec": {"size": 2}, "status": {"phase": "ignored"}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        main["status"]["phase"] == "Ready" && main["metadata"]["generation"] == 2,
        "a main write keeps status and bumps generation: {main}"
    );
    let scale = api.get_json(&format!("{path}/scale")).await?;
    ensure!(
        scale["kind"] == "Scale"
            && scale["spec"]["replicas"] == 1
            && scale["status"]["replicas"] == 1,
        "{scale}"
    );
    let scaled = api
        .patch(
            format!("{path}/scale"),
            MERGE_PATCH,
            &json!({"spec": {"replicas": 4}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(scaled["spec"]["replicas"] == 4, "{scaled}");
    let after = api.get_json(&path).await?;
    ensure!(
        after["spec"]["replicas"] == 4,
        "scale sets .spec.replicas: {after}"
    );
    Ok(())
}

async fn schema(cx: Ctx) -> anyhow::Result<()> {
    establish(&cx, &widget_crd(&cx)).await?;
    let coll = widgets(&cx);
    let api = &cx.api;
    let bad = json!({"apiVersion": format!("{}/v1", group(&cx)), "kind": "Widget", "metadata": {"name": "bad"},
        "spec": {"size": 20, "color": "green", "name": "Upper"}});
    let status = api
        .post(&coll, &bad)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    let mut fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str())
        .collect();
    fields.sort_unstable();
    ensure!(
        fields == ["spec.color", "spec.name", "spec.size"],
        "one cause per problem: {status}"
    );
    ensure!(
        status["details"]["kind"] == "Widget" && status["details"]["group"] == group(&cx).as_str(),
        "{status}"
    );
    let missing = json!({"apiVersion": format!("{}/v1", group(&cx)), "kind": "Widget", "metadata": {"name": "bad"}, "spec": {}});
    let status = api
        .post(&coll, &missing)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        status["details"]["causes"][0]["field"] == "spec.size"
            && status["details"]["causes"][0]["reason"] == "FieldValueRequired",
        "{status}"
    );
    let typed = json!({"apiVersion": format!("{}/v1", group(&cx)), "kind": "Widget", "metadata": {"name": "bad"}, "spec": {"size": "big"}});
    let status = api
        .post(&coll, &typed)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        status["details"]["causes"][0]["reason"] == "FieldValueTypeInvalid",
        "{status}"
    );
    // Defaults apply on create; unknown fields are pruned (fieldValidation=Ignore).
    let mut extra = with_api_version(&cx, widget("pruned", 3));
    extra["spec"]["unknown"] = json!(true);
    extra["spec"]["free"] = json!({"anything": {"goes": 1}});
    extra["top"] = json!("level");
    let created = api
        .post(format!("{coll}?fieldValidation=Ignore"), &extra)
        .send()
        .await?
        .expect(201)?;
    ensure!(
        created["spec"]["color"] == "red",
        "the default applies: {created}"
    );
    ensure!(
        created["spec"].get("unknown").is_none() && created.get("top").is_none(),
        "unknown fields are pruned: {created}"
    );
    ensure!(
        created["spec"]["free"] == json!({"anything": {"goes": 1}}),
        "preserved fields stay: {created}"
    );
    // A default added to the schema later applies to objects read from storage.
    let name = format!("widgets.{}", group(&cx));
    cx.api.patch(format!("{CRDS}/{name}"), JSON_PATCH, &json!([{"op": "add", "path": "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/shape", "value": {"type": "string", "default": "round"}}])).send().await?.expect(200)?;
    eventually(Duration::from_secs(30), || async {
        let read = api.get_json(&format!("{coll}/pruned")).await?;
        ensure!(
            read["spec"]["shape"] == "round",
            "the new default applies on read: {read}"
        );
        Ok(())
    })
    .await
}

async fn field_validation(cx: Ctx) -> anyhow::Result<()> {
    establish(&cx, &widget_crd(&cx)).await?;
    let coll = widgets(&cx);
    let api = &cx.api;
    let mut extra = with_api_version(&cx, widget("strict", 2));
    extra["spec"]["unknown"] = json!(1);
    extra["metadata"]["unknownMeta"] = json!("x");
    extra["spec"]["template"] = json!({"apiVersion": "v1", "kind": "Thing", "metadata": {"name": "t", "embeddedUnknown": 1}, "spec": "s"});
    let status = api
        .post(format!("{coll}?fieldValidation=Strict"), &extra)
        .send()
        .await?
        .expect_failure(400, "BadRequest")?;
    let message = status["message"].as_str().unwrap_or("");
    for field in [
        "spec.unknown",
        "metadata.unknownMeta",
        "spec.template.metadata.embeddedUnknown",
    ] {
        ensure!(
            message.contains(&format!("unknown field \"{field}\"")),
            "strict names {field}: {message}"
        );
    }
    let reply = api
        .post(format!("{coll}?fieldValidation=Warn"), &extra)
        .send()
        .await?;
    let warning = reply.header("warning").unwrap_or("").to_string();
    let created = reply.expect(201)?;
    ensure!(
        warning.contains("unknown field"),
        "Warn answers with a Warning header: {warning:?}"
    );
    ensure!(
        created["spec"].get("unknown").is_none()
            && created["spec"]["template"]["metadata"]
                .get("embeddedUnknown")
                .is_none(),
        "{created}"
    );
    // A CRD that preserves unknown fields at its root keeps everything.
    let g = group(&cx);
    let open = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("gadgets.{g}")},
        "spec": {"group": g, "scope": "Cluster", "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    establish(&cx, &open).await?;
    let gadget = json!({"apiVersion": format!("{g}/v1"), "kind": "Gadget", "metadata": {"name": format!("{}-gadget", cx.ns)}, "anything": {"nested": [1, 2]}});
    let created = api
        .post(
            format!("/apis/{g}/v1/gadgets?fieldValidation=Strict"),
            &gadget,
        )
        .send()
        .await?
        .expect(201)?;
    cx.delete_afterwards(format!("/apis/{g}/v1/gadgets/{}-gadget", cx.ns));
    ensure!(
        created["anything"] == json!({"nested": [1, 2]}),
        "{created}"
    );
    Ok(())
}

async fn openapi(cx: Ctx) -> anyhow::Result<()> {
    let crd = establish(&cx, &widget_crd(&cx)).await?;
    let g = group(&cx);
    let reversed: Vec<&str> = g.split('.').rev().collect();
    let definition = format!("{}.v1.Widget", reversed.join("."));
    let path = format!("apis/{g}/v1");
    eventually(Duration::from_secs(30), || async {
        let index = cx.api.get_json("/openapi/v3").await?;
        ensure!(
            index["paths"].get(&path).is_some(),
            "/openapi/v3 lists {path}"
        );
        let doc = cx.api.get_json(&format!("/openapi/v3/{path}")).await?;
        let schema = &doc["components"]["schemas"][&definition];
        ensure!(
            schema["properties"]["spec"]["properties"]["size"]["type"] == "integer",
            "v3 has {definition}'s schema"
        );
        ensure!(
            schema["x-kubernetes-group-version-kind"][0]["kind"] == "Widget",
            "{schema}"
        );
        let v2 = cx.api.get_json("/openapi/v2").await?;
        ensure!(
            v2["definitions"][&definition]["properties"]["spec"]["description"]
                == "What the widget should be.",
            "v2 has {definition}"
        );
        Ok(())
    })
    .await?;
    // No longer served: withdrawn from both documents.
    let name = crd["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    cx.api
        .patch(
            format!("{CRDS}/{name}"),
            JSON_PATCH,
            &json!([{"op": "replace", "path": "/spec/versions/0/served", "value": false}]),
        )
        .send()
        .await?
        .expect(200)?;
    eventually(Duration::from_secs(30), || async {
        let index = cx.api.get_json("/openapi/v3").await?;
        ensure!(
            index["paths"].get(&path).is_none(),
            "/openapi/v3 still lists {path}"
        );
        let v2 = cx.api.get_json("/openapi/v2").await?;
        ensure!(
            v2["definitions"].get(&definition).is_none(),
            "v2 still has {definition}"
        );
        Ok(())
    })
    .await
}
