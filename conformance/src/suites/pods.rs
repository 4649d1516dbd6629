//! Pods as the apiserver sees them: defaults, QoS class, what an update may change,
//! status, binding, eviction, dry run; and the running-pod behaviours that need nodes.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::crud::{self, wait_gone};
use super::endpoints::pod;
use super::{Ctx, Test};
use crate::client::MERGE_PATCH;
use crate::cluster::Component;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("pods", "defaults", "a created pod carries upstream's defaults (restartPolicy, dnsPolicy, grace period, termination message, pull policy, service links, priority) and status Pending/BestEffort", |cx| Box::pin(defaults(cx))),
        Test::new("pods", "qos-class", "status.qosClass is Guaranteed when requests equal limits, Burstable with requests only", |cx| Box::pin(qos_class(cx))),
        Test::new("pods", "update-labels", "a pod found by label is relabelled by an update and found by the new label, not the old", |cx| Box::pin(update_labels(cx))),
        Test::new("pods", "spec-updates", "an update may change images and activeDeadlineSeconds, not other spec fields", |cx| Box::pin(spec_updates(cx))),
        Test::new("pods", "lifecycle-and-status", "a labelled pod is patched, its /status read and replaced with a new condition, then deleted", |cx| Box::pin(lifecycle_and_status(cx))),
        Test::new("pods", "generate-name", "generateName yields a fresh name with that prefix on each create", |cx| Box::pin(generate_name(cx))),
        Test::new("pods", "dry-run", "dryRun=All creates, updates and deletes nothing but answers as if it had", |cx| Box::pin(dry_run(cx))),
        Test::new("pods", "binding", "POST pods/{name}/binding sets spec.nodeName once; a second binding conflicts", |cx| Box::pin(binding(cx))),
        Test::new("pods", "eviction", "POST pods/{name}/eviction removes an unbound pod", |cx| Box::pin(eviction(cx))),
        Test::new("pods", "unscheduled-streams", "an unscheduled pod's log is empty (200), its exec and attach a 400 saying it has no host", |cx| Box::pin(unscheduled_streams(cx))),
        Test::new("pods", "runtimeclass-admission", "a pod naming a RuntimeClass that does not exist, or no longer exists, is refused with 403", |cx| Box::pin(runtimeclass_admission(cx))),
        Test::new("pods", "limitrange-defaults", "a LimitRange's defaults are applied to a pod created without resources", |cx| Box::pin(limitrange_defaults(cx))),
        Test::new("pods", "runs-to-ready", "a pod is scheduled, started and becomes Ready with a host IP and pod IP", |cx| Box::pin(runs_to_ready(cx)))
            .needs(&[Component::Scheduler, Component::Kubelet]),
    ]
}

fn pods(cx: &Ctx) -> String {
    cx.ns_path("", "v1", "pods")
}

async fn create(cx: &Ctx, body: &Value) -> anyhow::Result<Value> {
    cx.api.post(pods(cx), body).send().await?.expect(201)
}

async fn defaults(cx: Ctx) -> anyhow::Result<()> {
    let created = create(&cx, &pod("defaults", json!({"app": "rkc"}))).await?;
    let spec = &created["spec"];
    let c = &spec["containers"][0];
    let expected = json!({
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        "enableServiceLinks": true, "securityContext": {},
    });
    crud::expect_subset(&expected, spec).context("pod spec defaults")?;
    crud::expect_subset(
        &json!({"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent", "resources": {}}),
        c,
    )
    .context("container defaults")?;
    ensure!(
        created["status"]["phase"] == "Pending" && created["status"]["qosClass"] == "BestEffort",
        "a new pod is Pending and BestEffort: {}",
        created["status"]
    );
    cx.snapshot("created", "POST /api/v1/namespaces/{ns}/pods", &created)
}

async fn qos_class(cx: Ctx) -> anyhow::Result<()> {
    let resources = |requests: Value, limits: Value| {
        let mut p = pod("x", json!({}));
        p["spec"]["containers"][0]["resources"] = json!({"requests": requests, "limits": limits});
        p
    };
    let mut guaranteed = resources(
        json!({"cpu": "100m", "memory": "64Mi"}),
        json!({"cpu": "100m", "memory": "64Mi"}),
    );
    guaranteed["metadata"]["name"] = json!("guaranteed");
    let g = create(&cx, &guaranteed).await?;
    ensure!(
        g["status"]["qosClass"] == "Guaranteed",
        "requests = limits: {}",
        g["status"]
    );
    let mut burstable = resources(json!({"cpu": "100m"}), json!({}));
    burstable["metadata"]["name"] = json!("burstable");
    let b = create(&cx, &burstable).await?;
    ensure!(
        b["status"]["qosClass"] == "Burstable",
        "requests only: {}",
        b["status"]
    );
    // Limits alone default the requests to the limits: Guaranteed again.
    let mut limits_only = resources(json!({}), json!({"cpu": "200m", "memory": "32Mi"}));
    limits_only["metadata"]["name"] = json!("limits-only");
    let l = create(&cx, &limits_only).await?;
    ensure!(
        l["spec"]["containers"][0]["resources"]["requests"]
            == json!({"cpu": "200m", "memory": "32Mi"})
            && l["status"]["qosClass"] == "Guaranteed",
        "limits alone become requests: {}",
        l["spec"]["containers"][0]["resources"]
    );
    Ok(())
}

async fn update_labels(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    create(&cx, &pod("relabel", json!({"time": "first"}))).await?;
    let by = |v: &str| format!("{}?labelSelector=time%3D{v}", pods(&cx));
    let found = api.get_json(&by("first")).await?;
    ensure!(crud::names(&found) == ["relabel"], "found by label");
    let path = format!("{}/relabel", pods(&cx));
    let mut p = api.get_json(&path).await?;
    p["metadata"]["labels"]["time"] = json!("second");
    api.put(&path, &p).send().await?.expect(200)?;
    ensure!(
        crud::names(&api.get_json(&by("second")).await?) == ["relabel"],
        "found by the new label"
    );
    ensure!(
        crud::items(&api.get_json(&by("first")).await?).is_empty(),
        "not by the old one"
    );
    Ok(())
}

async fn spec_updates(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    create(&cx, &pod("spec", json!({}))).await?;
    let path = format!("{}/spec", pods(&cx));
    let image = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"spec": {"activeDeadlineSeconds": 3600}}),
        )
        .send()
        .await?
        .expect(200)
        .context("activeDeadlineSeconds can be set")?;
    ensure!(image["spec"]["activeDeadlineSeconds"] == 3600);
    let mut p = api.get_json(&path).await?;
    p["spec"]["containers"][0]["image"] = json!("registry.k8s.io/pause:3.9");
    api.put(&path, &p)
        .send()
        .await?
        .expect(200)
        .context("the image can change")?;
    let mut p = api.get_json(&path).await?;
    p["spec"]["restartPolicy"] = json!("Never");
    let status = api
        .put(&path, &p)
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("pod updates may not change fields other than")),
        "upstream's message for a forbidden pod update: {status}"
    );
    Ok(())
}

async fn lifecycle_and_status(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    create(&cx, &pod("life", json!({"test-pod-static": "true"}))).await?;
    let path = format!("{}/life", pods(&cx));
    let patched = api
        .patch(&path, MERGE_PATCH, &json!({"metadata": {"labels": {"test-pod": "patched"}, "annotations": {"data": "patched"}}}))
        .send()
        .await?
        .expect(200)?;
    ensure!(patched["metadata"]["labels"]["test-pod"] == "patched");
    let status = api.get_json(&format!("{path}/status")).await?;
    ensure!(
        status["status"]["phase"] == "Pending",
        "GET /status: {}",
        status["status"]
    );
    let mut replaced = status.clone();
    let condition = json!({"type": "PodReplaced", "status": "True", "reason": "E2E", "message": "replaced",
                           "lastTransitionTime": "2025-01-01T00:00:00Z"});
    replaced["status"]["conditions"] = json!([condition]);
    let put = api
        .put(format!("{path}/status"), &replaced)
        .send()
        .await?
        .expect(200)?;
    crud::expect_subset(&json!([condition]), &put["status"]["conditions"])
        .context("PUT /status")?;
    let read = api.get_json(&path).await?;
    crud::expect_subset(&json!([condition]), &read["status"]["conditions"])
        .context("read after PUT /status")?;
    api.delete(&path).send().await?.expect(200)?;
    wait_gone(&cx, &path).await?;
    Ok(())
}

async fn generate_name(cx: Ctx) -> anyhow::Result<()> {
    let mut body = pod("", json!({}));
    body["metadata"] = json!({"generateName": "gen-"});
    let a = create(&cx, &body).await?;
    let b = create(&cx, &body).await?;
    let (na, nb) = (
        a["metadata"]["name"].as_str().unwrap_or(""),
        b["metadata"]["name"].as_str().unwrap_or(""),
    );
    ensure!(
        na.starts_with("gen-") && na.len() > 4 && na != nb,
        "fresh names with the prefix: {na}, {nb}"
    );
    cx.snapshot(
        "created",
        "POST /api/v1/namespaces/{ns}/pods (generateName)",
        &a,
    )
}

async fn dry_run(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let dry = api
        .post(format!("{}?dryRun=All", pods(&cx)), &pod("dry", json!({})))
        .send()
        .await?
        .expect(201)?;
    ensure!(
        dry["metadata"]["name"] == "dry",
        "a dry-run create answers the object"
    );
    let path = format!("{}/dry", pods(&cx));
    ensure!(
        api.get(&path).send().await?.status == 404,
        "nothing was created"
    );
    create(&cx, &pod("dry", json!({}))).await?;
    let patched = api
        .patch(
            format!("{path}?dryRun=All"),
            MERGE_PATCH,
            &json!({"metadata": {"labels": {"dry": "run"}}}),
        )
        .send()
        .await?
        .expect(200)?;
    ensure!(
        patched["metadata"]["labels"]["dry"] == "run",
        "a dry-run patch answers the patched object"
    );
    let stored = api.get_json(&path).await?;
    ensure!(
        stored["metadata"]["labels"].get("dry").is_none(),
        "nothing was patched"
    );
    api.delete(format!("{path}?dryRun=All"))
        .send()
        .await?
        .expect(200)?;
    api.get(&path)
        .send()
        .await?
        .expect(200)
        .context("nothing was deleted")?;
    Ok(())
}

async fn binding(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    create(&cx, &pod("bound", json!({}))).await?;
    let path = format!("{}/bound", pods(&cx));
    let node = format!("{}-node", cx.ns);
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "bound"},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": node}});
    let answer = api
        .post(format!("{path}/binding"), &binding)
        .send()
        .await?
        .expect(201)?;
    ensure!(
        answer["kind"] == "Status" && answer["status"] == "Success",
        "a binding answers Success: {answer}"
    );
    let p = api.get_json(&path).await?;
    ensure!(
        p["spec"]["nodeName"] == node.as_str(),
        "the pod is bound: {}",
        p["spec"]["nodeName"]
    );
    let again = api
        .post(format!("{path}/binding"), &binding)
        .send()
        .await?
        .expect_failure(409, "Conflict")?;
    ensure!(
        again["message"]
            .as_str()
            .is_some_and(|m| m.contains("is already assigned to node")),
        "upstream's message: {again}"
    );
    // A bound pod waits for its (absent) kubelet on a graceful delete: remove it now.
    api.delete(format!("{path}?gracePeriodSeconds=0"))
        .send()
        .await?;
    Ok(())
}

async fn eviction(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    create(&cx, &pod("evicted", json!({}))).await?;
    let path = format!("{}/evicted", pods(&cx));
    let eviction = json!({"apiVersion": "policy/v1", "kind": "Eviction",
                          "metadata": {"name": "evicted", "namespace": cx.ns}});
    let answer = api
        .post(format!("{path}/eviction"), &eviction)
        .send()
        .await?
        .expect(201)?;
    ensure!(
        answer["kind"] == "Status" && answer["status"] == "Success",
        "{answer}"
    );
    wait_gone(&cx, &path).await?;
    Ok(())
}

async fn unscheduled_streams(cx: Ctx) -> anyhow::Result<()> {
    create(&cx, &pod("waiting", json!({}))).await?;
    let path = format!("{}/waiting", pods(&cx));
    let log = cx
        .api
        .get(format!("{path}/log"))
        .accept("*/*")
        .send()
        .await?;
    ensure!(
        log.status == 200 && log.body.is_empty(),
        "GET {path}/log: expected an empty 200 (no node to ask), got {} {}",
        log.status,
        log.text()
    );
    for sub in ["exec?command=true&stdout=true", "attach?stdout=true"] {
        let status = cx
            .api
            .req(http::Method::POST, format!("{path}/{sub}"))
            .send()
            .await?
            .expect_failure(400, "BadRequest")?;
        ensure!(
            status["message"] == "pod waiting does not have a host assigned",
            "POST {path}/{sub}: upstream's message: {status}"
        );
    }
    Ok(())
}

async fn runtimeclass_admission(cx: Ctx) -> anyhow::Result<()> {
    let rc = format!("{}-rc", cx.ns);
    let mut body = pod("classy", json!({}));
    body["spec"]["runtimeClassName"] = json!(format!("{}-absent", cx.ns));
    let status = cx
        .api
        .post(pods(&cx), &body)
        .send()
        .await?
        .expect_failure(403, "Forbidden")?;
    ensure!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("RuntimeClass") && m.contains("not found")),
        "a missing RuntimeClass is named: {status}"
    );
    let class = json!({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass", "metadata": {"name": rc}, "handler": "rkc"});
    let classes = "/apis/node.k8s.io/v1/runtimeclasses";
    cx.delete_afterwards(format!("{classes}/{rc}"));
    cx.api.post(classes, &class).send().await?.expect(201)?;
    cx.api
        .delete(format!("{classes}/{rc}"))
        .send()
        .await?
        .expect(200)?;
    wait_gone(&cx, &format!("{classes}/{rc}")).await?;
    body["spec"]["runtimeClassName"] = json!(rc);
    cx.api
        .post(pods(&cx), &body)
        .send()
        .await?
        .expect_failure(403, "Forbidden")
        .context("a deleted RuntimeClass refuses pods")?;
    Ok(())
}

async fn limitrange_defaults(cx: Ctx) -> anyhow::Result<()> {
    let range = json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
        "spec": {"limits": [{"type": "Container",
            "default": {"cpu": "500m", "memory": "500Mi"},
            "defaultRequest": {"cpu": "100m", "memory": "200Mi"},
            "max": {"cpu": "1", "memory": "1Gi"}}]}});
    cx.api
        .post(cx.ns_path("", "v1", "limitranges"), &range)
        .send()
        .await?
        .expect(201)?;
    let created = create(&cx, &pod("limited", json!({}))).await?;
    let resources = &created["spec"]["containers"][0]["resources"];
    ensure!(
        *resources
            == json!({"limits": {"cpu": "500m", "memory": "500Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}}),
        "the LimitRange defaults are applied at create: {resources}"
    );
    let mut big = pod("too-big", json!({}));
    big["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "2"}});
    let status = cx
        .api
        .post(pods(&cx), &big)
        .send()
        .await?
        .expect_failure(403, "Forbidden")?;
    ensure!(
        status["message"]
            .as_str()
            .is_some_and(|m| m.contains("maximum cpu usage per Container is 1")),
        "a pod over the LimitRange max is refused with upstream's message: {status}"
    );
    Ok(())
}

async fn runs_to_ready(cx: Ctx) -> anyhow::Result<()> {
    let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "runner"},
                      "spec": {"containers": [super::running::sleeper(&cx, "c")]}});
    create(&cx, &body).await?;
    let path = format!("{}/runner", pods(&cx));
    crud::eventually(std::time::Duration::from_secs(120), || async {
        let p = cx.api.get_json(&path).await?;
        let ready = p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        ensure!(
            ready && p["status"]["phase"] == "Running",
            "not Ready yet: {}",
            p["status"]
        );
        for field in ["hostIP", "podIP"] {
            ensure!(
                p["status"][field]
                    .as_str()
                    .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
                "status.{field} is an IP"
            );
        }
        Ok(())
    })
    .await
}
