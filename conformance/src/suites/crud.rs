//! The generic resource checks every kind goes through: create, get, list, watch,
//! update, three kinds of patch, delete, delete-collection, and the status and scale
//! subresources where a kind has them.

use std::time::Duration;

use anyhow::{bail, ensure, Context as _};
use serde_json::{json, Value};

use super::{group_prefix, Ctx};
use crate::client::{JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH};

/// How long a watch event may take to arrive.
pub const EVENT_WAIT: Duration = Duration::from_secs(15);

/// A resource kind as the generic checks see it.
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    /// A valid object's fields besides `apiVersion`, `kind` and `metadata`, for `ns`.
    pub sample: fn(ns: &str) -> Value,
    /// A status to write through `/status`, for kinds with that subresource.
    pub status: Option<fn() -> Value>,
}

impl Kind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn collection(&self, ns: &str) -> String {
        let prefix = group_prefix(self.group, self.version);
        if self.namespaced {
            format!("{prefix}/namespaces/{ns}/{}", self.plural)
        } else {
            format!("{prefix}/{}", self.plural)
        }
    }

    pub fn item(&self, ns: &str, name: &str) -> String {
        format!("{}/{name}", self.collection(ns))
    }

    /// A name unique to the test: cluster-scoped objects carry the namespace's name.
    pub fn name(&self, ns: &str, suffix: &str) -> String {
        if self.namespaced {
            format!("{}-{suffix}", self.kind.to_ascii_lowercase())
        } else {
            format!("{ns}-{suffix}")
        }
    }

    /// A full object named `name`, labelled with the test's namespace (so cluster-scoped
    /// objects of concurrent runs can be told apart) and `labels`.
    pub fn object(&self, ns: &str, name: &str, labels: Value) -> Value {
        let mut all_labels = json!({ SCOPE_LABEL: ns });
        if let (Some(all), Some(extra)) = (all_labels.as_object_mut(), labels.as_object()) {
            all.extend(extra.clone());
        }
        let mut metadata = json!({"name": name, "labels": all_labels});
        if self.namespaced {
            metadata["namespace"] = json!(ns);
        }
        let mut obj =
            json!({"apiVersion": self.api_version(), "kind": self.kind, "metadata": metadata});
        if let (Some(o), Some(fields)) = (obj.as_object_mut(), (self.sample)(ns).as_object()) {
            o.extend(fields.clone());
        }
        obj
    }

    /// `?labelSelector=` selecting this test's objects.
    pub fn scope(&self, ns: &str) -> String {
        format!("labelSelector={SCOPE_LABEL}%3D{ns}")
    }
}

/// Label tying objects to the test that made them.
pub const SCOPE_LABEL: &str = "rkube-conformance-ns";

/// Kinds whose status a controller of a complete cluster writes while a test runs (the
/// controller-manager runs one for each): the harness's own writes are not the only ones.
pub fn controller_writes_status(kind: &Kind) -> bool {
    matches!(
        kind.plural,
        "replicationcontrollers"
            | "replicasets"
            | "deployments"
            | "statefulsets"
            | "daemonsets"
            | "jobs"
            | "cronjobs"
            | "resourcequotas"
            | "poddisruptionbudgets"
            | "horizontalpodautoscalers"
            | "nodes"
    )
}

/// `obj` without what a controller may have written since the harness's last write: the
/// status, a Node's taints and pod CIDRs, the deployment controller's revision
/// annotation, and managedFields (which
/// record those writes, and shape the harness's own entries around them).
pub fn without_controller_writes(kind: &Kind, obj: &Value) -> Value {
    let mut obj = obj.clone();
    if controller_writes_status(kind) {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.remove("managedFields");
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                // autoscaling/v1 shows the status it has no fields for in annotations.
                for key in [
                    "deployment.kubernetes.io/revision",
                    "autoscaling.alpha.kubernetes.io/conditions",
                    "autoscaling.alpha.kubernetes.io/current-metrics",
                ] {
                    annotations.remove(key);
                }
                // Annotations the controller alone made: as before it wrote them (an
                // object read before and one read after its write compare equal).
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
        // The node lifecycle and IPAM controllers taint a Node and give it a pod CIDR.
        if kind.plural == "nodes" {
            if let Some(spec) = obj["spec"].as_object_mut() {
                for field in ["podCIDR", "podCIDRs", "taints"] {
                    spec.remove(field);
                }
            }
        }
    }
    obj
}

/// GET `path`, apply `change`, PUT the result back; when a controller wrote in between
/// (409 on a kind it manages) read and try again, as every client of such kinds does.
/// Answers the object read and the PUT's answer.
async fn put_fresh(
    cx: &Ctx,
    kind: &Kind,
    path: &str,
    change: impl Fn(&mut Value),
) -> anyhow::Result<(Value, Value)> {
    let mut attempts = 0;
    loop {
        let read = cx.api.get_json(path).await?;
        let mut body = read.clone();
        change(&mut body);
        let answer = cx.api.put(path, &body).send().await?;
        attempts += 1;
        if answer.status == 409 && controller_writes_status(kind) && attempts < 10 {
            continue;
        }
        return Ok((read, answer.expect(200)?));
    }
}

/// The core checks on one object's life, with a watch following it.
pub async fn lifecycle(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let api = &cx.api;
    let ns = cx.ns.as_str();
    let coll = kind.collection(ns);
    let scope = kind.scope(ns);

    let list = api.get_json(&format!("{coll}?{scope}")).await?;
    expect_list(&list, kind, 0)?;
    let rv0 = list["metadata"]["resourceVersion"].as_str().unwrap_or("");
    ensure!(
        !rv0.is_empty(),
        "a list carries metadata.resourceVersion: {list}"
    );
    let mut watch = api
        .watch(&format!("{coll}?watch=true&resourceVersion={rv0}&{scope}"))
        .await?;

    let name = kind.name(ns, "one");
    let path = kind.item(ns, &name);
    let created = create(&cx, kind, &name, json!({})).await?;
    expect_created(&created, kind, &name)?;
    cx.snapshot(
        "created",
        &format!("POST {}", kind.collection("{ns}")),
        &created,
    )?;

    let got = api.get_json(&path).await?;
    // Less what a controller wrote in between, and the resourceVersion its write bumped.
    let mut created_spec = without_controller_writes(kind, &created);
    let mut got_spec = without_controller_writes(kind, &got);
    if controller_writes_status(kind) {
        created_spec["metadata"]["resourceVersion"].take();
        got_spec["metadata"]["resourceVersion"].take();
    }
    ensure!(
        got_spec == created_spec,
        "GET {path} answers what the create answered\n{}",
        crate::snapshot::diff(&pretty(&created_spec), &pretty(&got_spec))
    );
    let list = api.get_json(&format!("{coll}?{scope}")).await?;
    expect_list(&list, kind, 1)?;

    // Update with PUT: a new label, and a new resourceVersion.
    let label = |o: &mut Value| o["metadata"]["labels"]["updated"] = json!("put");
    let (got, updated) = put_fresh(&cx, kind, &path, label).await?;
    let mut changed = got.clone();
    label(&mut changed);
    ensure!(
        updated["metadata"]["labels"]["updated"] == "put",
        "PUT {path} keeps the new label: {updated}"
    );
    ensure!(
        updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"],
        "an update changes resourceVersion"
    );
    let stale = api.put(&path, &changed).send().await?;
    stale
        .expect_failure(409, "Conflict")
        .context("a PUT carrying an old resourceVersion conflicts")?;

    let merged = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"metadata": {"annotations": {"patched": "merge"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        merged["metadata"]["annotations"]["patched"] == "merge",
        "merge patch applies: {merged}"
    );
    let jsonpatched = api
        .patch(
            &path,
            JSON_PATCH,
            &json!([{"op": "add", "path": "/metadata/labels/patched", "value": "json"}]),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        jsonpatched["metadata"]["labels"]["patched"] == "json",
        "JSON patch applies: {jsonpatched}"
    );
    let strategic = api
        .patch(
            &path,
            STRATEGIC_PATCH,
            &json!({"metadata": {"annotations": {"strategic": "yes"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        strategic["metadata"]["annotations"]["strategic"] == "yes"
            && strategic["metadata"]["annotations"]["patched"] == "merge",
        "strategic merge patch adds and keeps annotations: {strategic}"
    );

    let deleted = api.delete(&path).send().await?;
    ensure!(
        deleted.status == 200 || deleted.status == 202,
        "DELETE {path}: expected 200 or 202, got {}: {}",
        deleted.status,
        deleted.text()
    );
    let answer = deleted.json()?;
    expect_deleted(&answer, kind, &name)?;
    cx.snapshot(
        "deleted",
        &format!("DELETE {}", kind.item("{ns}", &name)),
        &without_controller_writes(kind, &answer),
    )?;
    let gone = wait_gone(&cx, &path).await?;
    cx.snapshot(
        "not-found",
        &format!("GET {} after DELETE", kind.item("{ns}", &name)),
        &gone,
    )?;

    expect_life_events(&mut watch, &name).await?;
    Ok(())
}

/// Create three labelled objects, delete them with one DELETE on the collection, and see
/// the labelled set empty while an unlabelled sibling stays.
pub async fn delete_collection(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let api = &cx.api;
    let ns = cx.ns.as_str();
    let coll = kind.collection(ns);
    for i in 0..3 {
        let name = kind.name(ns, &format!("set-{i}"));
        create(&cx, kind, &name, json!({"set": "doomed"})).await?;
    }
    let keeper = kind.name(ns, "keeper");
    create(&cx, kind, &keeper, json!({"set": "kept"})).await?;
    let selector = format!("{}%2Cset%3Ddoomed", kind.scope(ns));
    let listed = api.get_json(&format!("{coll}?{selector}")).await?;
    expect_list(&listed, kind, 3)?;
    let answer = api
        .delete(format!("{coll}?{selector}"))
        .send()
        .await?
        .expect(200)?;
    ensure!(
        answer["kind"] == format!("{}List", kind.kind) || answer["kind"] == "Status",
        "deletecollection answers a list or a Status: {answer}"
    );
    eventually(Duration::from_secs(60), || async {
        let left = api.get_json(&format!("{coll}?{selector}")).await?;
        let n = items(&left).len();
        ensure!(n == 0, "{n} labelled objects left after deletecollection");
        Ok(())
    })
    .await?;
    api.get(kind.item(ns, &keeper))
        .send()
        .await?
        .expect(200)
        .context("an object the selector does not match survives")?;
    Ok(())
}

/// Read, replace and patch the status subresource; each change is visible to reads, and
/// a spec change sent to `/status` is ignored.
pub async fn status_subresource(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let api = &cx.api;
    let ns = cx.ns.as_str();
    let status_of = kind.status.context("kind has no status subresource")?;
    let name = kind.name(ns, "status");
    let path = kind.item(ns, &name);
    let created = create(&cx, kind, &name, json!({})).await?;
    let read = api.get_json(&format!("{path}/status")).await?;
    ensure!(
        read["kind"] == kind.kind && read["metadata"]["name"] == name.as_str(),
        "GET /status answers the whole object: {read}"
    );
    // PUT /status with a new status and more replicas: the status sticks, the spec
    // change does not.
    let (_, put) = put_fresh(&cx, kind, &format!("{path}/status"), |o| {
        o["status"] = status_of();
        if let Some(replicas) = o["spec"]["replicas"].as_i64() {
            o["spec"]["replicas"] = json!(replicas + 7);
        }
    })
    .await?;
    expect_subset(&status_of(), &put["status"]).context("PUT /status stores the status")?;
    ensure!(
        put.get("spec") == created.get("spec"),
        "PUT /status leaves spec alone: stored {}",
        put["spec"]
    );
    let patch =
        json!({"metadata": {"annotations": {"status-patched": "yes"}}, "status": status_of()});
    let patched = api
        .patch(format!("{path}/status"), MERGE_PATCH, &patch)
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched["metadata"]["annotations"]["status-patched"] == "yes",
        "PATCH /status applies metadata: {patched}"
    );
    expect_subset(&status_of(), &patched["status"]).context("PATCH /status stores the status")?;
    if controller_writes_status(kind) {
        // Its controller puts back the status it computes at any time: what later reads
        // see is the controller's, not this test's.
        return Ok(());
    }
    let now = api.get_json(&path).await?;
    expect_subset(&status_of(), &now["status"]).context("a GET sees the written status")?;
    // A status sent to the main resource is ignored for kinds with a status subresource.
    let mut main = now.clone();
    main["status"] = json!({});
    let after = api.put(&path, &main).send().await?.expect(200)?;
    expect_subset(&status_of(), &after["status"])
        .context("a PUT to the main resource leaves status alone")?;
    Ok(())
}

/// GET, PUT and PATCH the scale subresource of a kind with replicas.
pub async fn scale_subresource(cx: Ctx, kind: &'static Kind) -> anyhow::Result<()> {
    let api = &cx.api;
    let ns = cx.ns.as_str();
    let name = kind.name(ns, "scale");
    let path = kind.item(ns, &name);
    create(&cx, kind, &name, json!({})).await?;
    let scale = api.get_json(&format!("{path}/scale")).await?;
    ensure!(
        scale["kind"] == "Scale" && scale["apiVersion"] == "autoscaling/v1",
        "GET /scale answers an autoscaling/v1 Scale: {scale}"
    );
    ensure!(
        scale["spec"]["replicas"] == 1,
        "a new object has scale 1: {scale}"
    );
    let mut recorded = scale.clone();
    if controller_writes_status(kind) && recorded["status"]["replicas"].is_number() {
        // How many replicas exist yet depends on how far the controller got.
        recorded["status"]["replicas"] = json!("[counted by the controller]");
    }
    cx.snapshot(
        "scale",
        &format!("GET {}/scale", kind.item("{ns}", &name)),
        &recorded,
    )?;
    let (_, put) = put_fresh(&cx, kind, &format!("{path}/scale"), |s| {
        s["spec"]["replicas"] = json!(2)
    })
    .await?;
    ensure!(
        put["spec"]["replicas"] == 2,
        "PUT /scale answers the new scale: {put}"
    );
    let obj = api.get_json(&path).await?;
    ensure!(
        obj["spec"]["replicas"] == 2,
        "the object follows its scale: {}",
        obj["spec"]
    );
    let patched = api
        .patch(
            format!("{path}/scale"),
            MERGE_PATCH,
            &json!({"spec": {"replicas": 3}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(patched["spec"]["replicas"] == 3, "PATCH /scale: {patched}");
    let obj = api.get_json(&path).await?;
    ensure!(
        obj["spec"]["replicas"] == 3,
        "the object follows a patched scale: {}",
        obj["spec"]
    );
    Ok(())
}

/// POST a sample object (201 expected); cluster-scoped ones are deleted after the test.
pub async fn create(cx: &Ctx, kind: &Kind, name: &str, labels: Value) -> anyhow::Result<Value> {
    let created = cx
        .api
        .post(kind.collection(&cx.ns), &kind.object(&cx.ns, name, labels))
        .send()
        .await?
        .expect(201)?;
    if !kind.namespaced {
        cx.delete_afterwards(kind.item(&cx.ns, name));
    }
    Ok(created)
}

pub fn items(list: &Value) -> &[Value] {
    list["items"].as_array().map(Vec::as_slice).unwrap_or(&[])
}

pub fn names(list: &Value) -> Vec<String> {
    items(list)
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str().map(str::to_string))
        .collect()
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn expect_list(list: &Value, kind: &Kind, count: usize) -> anyhow::Result<()> {
    let want = format!("{}List", kind.kind);
    ensure!(
        list["kind"] == want.as_str() && list["apiVersion"] == kind.api_version().as_str(),
        "a list of {} is a {want} of {}: {}",
        kind.plural,
        kind.api_version(),
        crate::client::excerpt(&list.to_string())
    );
    let n = items(list).len();
    ensure!(
        n == count,
        "expected {count} {} in the list, found {n}: {:?}",
        kind.plural,
        names(list)
    );
    Ok(())
}

fn expect_created(created: &Value, kind: &Kind, name: &str) -> anyhow::Result<()> {
    let m = &created["metadata"];
    ensure!(
        created["kind"] == kind.kind && created["apiVersion"] == kind.api_version().as_str(),
        "a create answers the typed object: {created}"
    );
    ensure!(m["name"] == name, "created name: {}", m["name"]);
    for field in ["uid", "resourceVersion", "creationTimestamp"] {
        ensure!(
            m[field].as_str().is_some_and(|s| !s.is_empty()),
            "the server sets metadata.{field}: {m}"
        );
    }
    Ok(())
}

fn expect_deleted(answer: &Value, kind: &Kind, name: &str) -> anyhow::Result<()> {
    let ok = if answer["kind"] == "Status" {
        answer["status"] == "Success" && answer["details"]["name"] == name
    } else {
        answer["kind"] == kind.kind && answer["metadata"]["name"] == name
    };
    ensure!(
        ok,
        "DELETE answers the object or a Success Status naming it: {answer}"
    );
    Ok(())
}

/// Poll until GET answers 404 NotFound (graceful deletion may take a moment); returns the
/// Status, checked for upstream's details.
pub async fn wait_gone(cx: &Ctx, path: &str) -> anyhow::Result<Value> {
    let mut last = String::new();
    for _ in 0..120 {
        let r = cx.api.get(path).send().await?;
        if r.status == 404 {
            let status = r.expect_failure(404, "NotFound")?;
            let name = path.rsplit('/').next().unwrap_or("");
            ensure!(
                status["details"]["name"] == name,
                "a NotFound names the object in details: {status}"
            );
            return Ok(status);
        }
        last = format!("{} {}", r.status, r.text());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    bail!(
        "GET {path} still answers after delete: {}",
        crate::client::excerpt(&last)
    )
}

/// The watch of one object's life: ADDED, at least the four changes the test made as
/// MODIFIED (controllers may add more), then DELETED, each at a new resourceVersion.
async fn expect_life_events(
    watch: &mut crate::client::WatchStream,
    name: &str,
) -> anyhow::Result<()> {
    let mut types = Vec::new();
    let mut versions = std::collections::HashSet::new();
    loop {
        let event = match watch.next(EVENT_WAIT).await? {
            Some(e) if e["type"] == "BOOKMARK" => continue,
            Some(e) => e,
            None => bail!("the watch ended early; saw {types:?}"),
        };
        let kind = event["type"].as_str().unwrap_or("?").to_string();
        ensure!(
            event["object"]["metadata"]["name"] == name,
            "the scoped watch only sees {name}: {event}"
        );
        let rv = event["object"]["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("");
        ensure!(
            kind == "DELETED" || versions.insert(rv.to_string()),
            "each change has a new resourceVersion; {rv} came twice"
        );
        types.push(kind);
        if types.last().is_some_and(|t| t == "DELETED") {
            break;
        }
    }
    let modified = types.iter().filter(|t| *t == "MODIFIED").count();
    ensure!(
        types.first().is_some_and(|t| t == "ADDED") && modified >= 4 && modified == types.len() - 2,
        "expected ADDED, MODIFIED ×4 or more, DELETED; got {types:?}"
    );
    Ok(())
}

/// Every field of `want` is in `got` with the same value: objects recursively, arrays
/// by each wanted element matching some element (controllers may add their own).
pub fn expect_subset(want: &Value, got: &Value) -> anyhow::Result<()> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                let inner = g.get(k).unwrap_or(&Value::Null);
                expect_subset(v, inner).with_context(|| format!("at {k}"))?;
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) => {
            for item in w {
                ensure!(
                    g.iter()
                        .any(|candidate| expect_subset(item, candidate).is_ok()),
                    "expected an element like {item} in {got}"
                );
            }
            Ok(())
        }
        _ if want == got => Ok(()),
        _ => bail!("expected {want}, found {got}"),
    }
}

/// Retry `check` every 250 ms until it passes or `limit` ends; then its last error.
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match check().await {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(e.context(format!("still failing after {limit:?}")))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::resources::DEPLOYMENTS;

    /// The deployment controller's revision annotation on a Deployment created without
    /// annotations: read before and after the controller's write, the object compares
    /// equal once the controller's writes are set aside (on a busy machine the
    /// controller often writes before the harness reads).
    #[test]
    fn a_deployment_read_after_the_controllers_write_equals_the_created_one() {
        let created = json!({"kind": "Deployment", "metadata": {"name": "d", "labels": {"a": "b"}},
            "spec": {"replicas": 1}});
        let mut got = created.clone();
        got["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
        got["status"] = json!({"observedGeneration": 1});
        assert_eq!(
            without_controller_writes(&DEPLOYMENTS, &got),
            without_controller_writes(&DEPLOYMENTS, &created)
        );
        // Annotations of the harness's own stay.
        got["metadata"]["annotations"]["patched"] = json!("merge");
        assert_eq!(
            without_controller_writes(&DEPLOYMENTS, &got)["metadata"]["annotations"],
            json!({"patched": "merge"})
        );
    }
}
