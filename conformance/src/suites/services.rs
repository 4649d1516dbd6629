//! Services as the apiserver shapes them: the `kubernetes` service, ClusterIP and
//! NodePort allocation, headless services, type changes, and the traffic behaviours that
//! need nodes.

use anyhow::{ensure, Context as _};
use serde_json::{json, Value};

use super::{Ctx, Test};
use crate::client::MERGE_PATCH;

pub fn tests() -> Vec<Test> {
    vec![
        Test::new("services", "kubernetes-service", "default/kubernetes exists: ClusterIP, port 443 named https over TCP, found by listing all namespaces", |cx| Box::pin(kubernetes_service(cx))),
        Test::new("services", "kubernetes-endpoints", "default/kubernetes has Endpoints and an EndpointSlice pointing at the apiserver", |cx| Box::pin(kubernetes_endpoints(cx))),
        Test::new("services", "cluster-ip", "a ClusterIP service gets an IP, IPv4 family, defaults (targetPort, sessionAffinity, internalTrafficPolicy); a taken IP is refused", |cx| Box::pin(cluster_ip(cx))),
        Test::new("services", "node-port", "a NodePort service gets a node port in 30000-32767 and a ClusterIP; a taken node port is refused", |cx| Box::pin(node_port(cx))),
        Test::new("services", "headless", "clusterIP: None stays None, without an allocated IP", |cx| Box::pin(headless(cx))),
        Test::new("services", "type-changes", "ClusterIP → ExternalName drops the IP; ExternalName → ClusterIP and → NodePort allocate again; NodePort → ExternalName releases the port", |cx| Box::pin(type_changes(cx))),
        Test::new("services", "ip-released-on-delete", "a deleted service's ClusterIP can be requested again at once", |cx| Box::pin(ip_released(cx))),
    ]
}

fn service(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

async fn create(cx: &Ctx, name: &str, spec: Value) -> anyhow::Result<Value> {
    cx.api
        .post(cx.ns_path("", "v1", "services"), &service(name, spec))
        .send()
        .await?
        .expect(201)
}

async fn kubernetes_service(cx: Ctx) -> anyhow::Result<()> {
    let svc = cx
        .api
        .get_json("/api/v1/namespaces/default/services/kubernetes")
        .await?;
    ensure!(
        svc["spec"]["type"] == "ClusterIP",
        "type ClusterIP: {}",
        svc["spec"]
    );
    let ports = svc["spec"]["ports"].as_array().cloned().unwrap_or_default();
    ensure!(
        ports
            .iter()
            .any(|p| p["name"] == "https" && p["port"] == 443 && p["protocol"] == "TCP"),
        "port 443 named https over TCP: {ports:?}"
    );
    ensure!(
        svc["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "a cluster IP: {}",
        svc["spec"]
    );
    let all = cx.api.get_json("/api/v1/services").await?;
    let found =
        all["items"].as_array().into_iter().flatten().any(|s| {
            s["metadata"]["name"] == "kubernetes" && s["metadata"]["namespace"] == "default"
        });
    ensure!(
        found,
        "listing services in all namespaces finds default/kubernetes"
    );
    Ok(())
}

async fn kubernetes_endpoints(cx: Ctx) -> anyhow::Result<()> {
    let ep = cx
        .api
        .get_json("/api/v1/namespaces/default/endpoints/kubernetes")
        .await?;
    let subset = &ep["subsets"][0];
    ensure!(
        subset["addresses"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
            && subset["ports"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "https")),
        "the kubernetes Endpoints list the apiserver's address and https port: {ep}"
    );
    let slices = cx
        .api
        .get_json("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes")
        .await?;
    let slice = slices["items"]
        .as_array()
        .and_then(|s| s.first())
        .context("an EndpointSlice for kubernetes")?;
    ensure!(
        slice["endpoints"].as_array().is_some_and(|e| !e.is_empty()),
        "the slice has the apiserver's endpoint: {slice}"
    );
    Ok(())
}

async fn cluster_ip(cx: Ctx) -> anyhow::Result<()> {
    let svc = create(
        &cx,
        "plain",
        json!({"selector": {"app": "rkc"}, "ports": [{"name": "http", "port": 80}]}),
    )
    .await?;
    let spec = &svc["spec"];
    let ip = spec["clusterIP"].as_str().unwrap_or("");
    ensure!(
        ip.parse::<std::net::IpAddr>().is_ok(),
        "a cluster IP is allocated: {spec}"
    );
    ensure!(
        spec["clusterIPs"] == json!([ip]),
        "clusterIPs mirrors clusterIP: {spec}"
    );
    ensure!(
        spec["ports"][0]["targetPort"] == 80 && spec["ports"][0]["protocol"] == "TCP",
        "targetPort defaults to port, protocol to TCP: {}",
        spec["ports"]
    );
    ensure!(
        spec["sessionAffinity"] == "None"
            && spec["type"] == "ClusterIP"
            && spec["internalTrafficPolicy"] == "Cluster"
            && spec["ipFamilyPolicy"] == "SingleStack",
        "defaults: {spec}"
    );
    cx.snapshot("created", "POST /api/v1/namespaces/{ns}/services", &svc)?;
    let taken = cx
        .api
        .post(
            cx.ns_path("", "v1", "services"),
            &service("same-ip", json!({"clusterIP": ip, "ports": [{"port": 80}]})),
        )
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        taken["message"]
            .as_str()
            .is_some_and(|m| m.contains("already allocated")),
        "a taken IP is refused as already allocated: {taken}"
    );
    Ok(())
}

fn in_default_range(port: &Value) -> bool {
    port.as_u64().is_some_and(|p| (30000..=32767).contains(&p))
}

async fn node_port(cx: Ctx) -> anyhow::Result<()> {
    let svc = create(
        &cx,
        "nodeport",
        json!({"type": "NodePort", "selector": {"app": "rkc"}, "ports": [{"port": 80}]}),
    )
    .await?;
    let port = &svc["spec"]["ports"][0]["nodePort"];
    ensure!(
        in_default_range(port),
        "a node port in the default range: {}",
        svc["spec"]
    );
    ensure!(
        svc["spec"]["externalTrafficPolicy"] == "Cluster" && svc["spec"]["clusterIP"].is_string(),
        "NodePort defaults: {}",
        svc["spec"]
    );
    cx.snapshot(
        "created",
        "POST /api/v1/namespaces/{ns}/services (NodePort)",
        &svc,
    )?;
    let taken = cx
        .api
        .post(
            cx.ns_path("", "v1", "services"),
            &service(
                "same-port",
                json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}),
            ),
        )
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    ensure!(
        taken["message"]
            .as_str()
            .is_some_and(|m| m.contains("already allocated")),
        "a taken node port is refused as already allocated: {taken}"
    );
    Ok(())
}

async fn headless(cx: Ctx) -> anyhow::Result<()> {
    let svc = create(
        &cx,
        "headless",
        json!({"clusterIP": "None", "selector": {"app": "rkc"}, "ports": [{"port": 80}]}),
    )
    .await?;
    ensure!(
        svc["spec"]["clusterIP"] == "None" && svc["spec"]["clusterIPs"] == json!(["None"]),
        "a headless service keeps None: {}",
        svc["spec"]
    );
    cx.snapshot(
        "created",
        "POST /api/v1/namespaces/{ns}/services (headless)",
        &svc,
    )
}

async fn type_changes(cx: Ctx) -> anyhow::Result<()> {
    let api = &cx.api;
    let path = format!("{}/changing", cx.ns_path("", "v1", "services"));
    let svc = create(
        &cx,
        "changing",
        json!({"selector": {"app": "rkc"}, "ports": [{"port": 80}]}),
    )
    .await?;
    ensure!(svc["spec"]["clusterIP"].is_string());
    let external = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"spec": {"type": "ExternalName", "externalName": "rkc.example.com", "clusterIP": "", "clusterIPs": null}}),
        )
        .send()
        .await?
        .expect(200)
        .context("ClusterIP → ExternalName")?;
    ensure!(
        external["spec"]
            .get("clusterIP")
            .is_none_or(|ip| ip == "" || ip.is_null()),
        "an ExternalName service has no cluster IP: {}",
        external["spec"]
    );
    let back = api
        .patch(
            &path,
            MERGE_PATCH,
            &json!({"spec": {"type": "ClusterIP", "externalName": null}}),
        )
        .send()
        .await?
        .expect(200)
        .context("ExternalName → ClusterIP")?;
    ensure!(
        back["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok()),
        "ExternalName → ClusterIP allocates an IP: {}",
        back["spec"]
    );
    let nodeport = api
        .patch(&path, MERGE_PATCH, &json!({"spec": {"type": "NodePort"}}))
        .send()
        .await?
        .expect(200)
        .context("ClusterIP → NodePort")?;
    let port = nodeport["spec"]["ports"][0]["nodePort"].clone();
    ensure!(
        in_default_range(&port),
        "→ NodePort allocates a node port: {}",
        nodeport["spec"]
    );
    api.patch(
        &path,
        MERGE_PATCH,
        &json!({"spec": {"type": "ExternalName", "externalName": "rkc.example.com", "clusterIP": "", "clusterIPs": null,
                         "ports": [{"port": 80, "nodePort": null}], "externalTrafficPolicy": null}}),
    )
    .send()
    .await?
    .expect(200)
    .context("NodePort → ExternalName")?;
    // The released node port is free for another service at once.
    create(
        &cx,
        "takes-port",
        json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": port}]}),
    )
    .await
    .context("a node port released by a type change can be taken again")?;
    Ok(())
}

async fn ip_released(cx: Ctx) -> anyhow::Result<()> {
    let svc = create(&cx, "first", json!({"ports": [{"port": 80}]})).await?;
    let ip = svc["spec"]["clusterIP"].as_str().unwrap_or("").to_string();
    cx.api
        .delete(format!("{}/first", cx.ns_path("", "v1", "services")))
        .send()
        .await?
        .expect(200)?;
    super::crud::eventually(std::time::Duration::from_secs(30), || async {
        create(
            &cx,
            "second",
            json!({"clusterIP": ip, "ports": [{"port": 80}]}),
        )
        .await
        .map(|_| ())
    })
    .await
    .context("the IP of a deleted service can be requested again")
}
