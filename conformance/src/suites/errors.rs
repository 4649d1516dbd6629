//! Failures are `metav1.Status` objects with upstream's code, reason, message and details.

use anyhow::ensure;
use serde_json::{json, Value};

use super::{Ctx, Test};

pub fn tests() -> Vec<Test> {
    vec![
        Test::new(
            "errors",
            "not-found",
            "GET of a missing object: 404 NotFound Status naming it in message and details",
            |cx| Box::pin(not_found(cx)),
        ),
        Test::new(
            "errors",
            "already-exists",
            "creating a name twice: 409 AlreadyExists",
            |cx| Box::pin(already_exists(cx)),
        ),
        Test::new(
            "errors",
            "conflict",
            "an update with a stale resourceVersion: 409 Conflict with upstream's message",
            |cx| Box::pin(conflict(cx)),
        ),
        Test::new(
            "errors",
            "invalid",
            "an invalid object: 422 Invalid with a cause per field",
            |cx| Box::pin(invalid(cx)),
        ),
        Test::new(
            "errors",
            "namespace-mismatch",
            "a body whose namespace differs from the path's: 400 BadRequest",
            |cx| Box::pin(namespace_mismatch(cx)),
        ),
        Test::new(
            "errors",
            "method-not-allowed",
            "POST to a named object: 405 MethodNotAllowed",
            |cx| Box::pin(method_not_allowed(cx)),
        ),
        Test::new(
            "errors",
            "unsupported-media-type",
            "a body in an unsupported content type: 415 UnsupportedMediaType",
            |cx| Box::pin(unsupported_media_type(cx)),
        ),
        Test::new(
            "errors",
            "not-acceptable",
            "an Accept the server cannot produce: 406 NotAcceptable",
            |cx| Box::pin(not_acceptable(cx)),
        ),
        Test::new(
            "errors",
            "malformed-body",
            "a body that is not JSON: 400 BadRequest",
            |cx| Box::pin(malformed_body(cx)),
        ),
        Test::new(
            "errors",
            "too-large",
            "a body over 3 MiB: 413 RequestEntityTooLarge",
            |cx| Box::pin(too_large(cx)),
        ),
        Test::new(
            "errors",
            "missing-namespace",
            "creating in a namespace that does not exist: 404 NotFound naming the namespace",
            |cx| Box::pin(missing_namespace(cx)),
        ),
    ]
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

async fn not_found(cx: Ctx) -> anyhow::Result<()> {
    let path = format!("{}/absent", cx.ns_path("", "v1", "configmaps"));
    let status = cx
        .api
        .get(&path)
        .send()
        .await?
        .expect_failure(404, "NotFound")?;
    ensure!(
        status["message"] == "configmaps \"absent\" not found"
            && status["details"] == json!({"name": "absent", "kind": "configmaps"}),
        "upstream's NotFound message and details: {status}"
    );
    let deployment = "/apis/apps/v1/namespaces/{ns}/deployments/absent".replace("{ns}", &cx.ns);
    let status = cx
        .api
        .get(&deployment)
        .send()
        .await?
        .expect_failure(404, "NotFound")?;
    ensure!(
        status["message"] == "deployments.apps \"absent\" not found"
            && status["details"]
                == json!({"name": "absent", "group": "apps", "kind": "deployments"}),
        "a grouped resource is named resource.group: {status}"
    );
    cx.snapshot(
        "configmap",
        "GET /api/v1/namespaces/{ns}/configmaps/absent",
        &cx.api.get(&path).send().await?.json()?,
    )
}

async fn already_exists(cx: Ctx) -> anyhow::Result<()> {
    let coll = cx.ns_path("", "v1", "configmaps");
    cx.api
        .post(&coll, &configmap("twice"))
        .send()
        .await?
        .expect(201)?;
    let status = cx
        .api
        .post(&coll, &configmap("twice"))
        .send()
        .await?
        .expect_failure(409, "AlreadyExists")?;
    ensure!(
        status["message"] == "configmaps \"twice\" already exists"
            && status["details"]["name"] == "twice",
        "upstream's AlreadyExists message: {status}"
    );
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps (again)",
        &status,
    )
}

async fn conflict(cx: Ctx) -> anyhow::Result<()> {
    let coll = cx.ns_path("", "v1", "configmaps");
    let created = cx
        .api
        .post(&coll, &configmap("raced"))
        .send()
        .await?
        .expect(201)?;
    let path = format!("{coll}/raced");
    let mut first = created.clone();
    first["data"]["k"] = json!("first");
    cx.api.put(&path, &first).send().await?.expect(200)?;
    let mut second = created.clone();
    second["data"]["k"] = json!("second");
    let status = cx
        .api
        .put(&path, &second)
        .send()
        .await?
        .expect_failure(409, "Conflict")?;
    ensure!(
        status["message"]
            == "Operation cannot be fulfilled on configmaps \"raced\": the object has been modified; please apply your changes to the latest version and try again",
        "upstream's Conflict message: {status}"
    );
    let now = cx.api.get_json(&path).await?;
    ensure!(
        now["data"]["k"] == "first",
        "the losing write changed nothing"
    );
    cx.snapshot(
        "status",
        "PUT /api/v1/namespaces/{ns}/configmaps/raced (stale)",
        &status,
    )
}

async fn invalid(cx: Ctx) -> anyhow::Result<()> {
    let coll = cx.ns_path("", "v1", "configmaps");
    let status = cx
        .api
        .post(&coll, &configmap("Not_Valid"))
        .send()
        .await?
        .expect_failure(422, "Invalid")?;
    let causes = status["details"]["causes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ensure!(
        causes
            .iter()
            .any(|c| c["field"] == "metadata.name" && c["reason"] == "FieldValueInvalid"),
        "the cause names metadata.name: {status}"
    );
    ensure!(
        status["details"]["kind"] == "ConfigMap" && status["details"]["name"] == "Not_Valid",
        "details name the kind and object: {status}"
    );
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps (invalid name)",
        &status,
    )
}

async fn namespace_mismatch(cx: Ctx) -> anyhow::Result<()> {
    let mut cm = configmap("elsewhere");
    cm["metadata"]["namespace"] = json!("kube-system");
    let status = cx
        .api
        .post(cx.ns_path("", "v1", "configmaps"), &cm)
        .send()
        .await?
        .expect_failure(400, "BadRequest")?;
    ensure!(
        status["message"].as_str().is_some_and(|m| m.contains(
            "the namespace of the provided object does not match the namespace sent on the request"
        )),
        "upstream's message: {status}"
    );
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps (namespace kube-system)",
        &status,
    )
}

async fn method_not_allowed(cx: Ctx) -> anyhow::Result<()> {
    let path = format!("{}/named", cx.ns_path("", "v1", "configmaps"));
    let status = cx
        .api
        .post(&path, &configmap("named"))
        .send()
        .await?
        .expect_failure(405, "MethodNotAllowed")?;
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps/named",
        &status,
    )
}

async fn unsupported_media_type(cx: Ctx) -> anyhow::Result<()> {
    let status = cx
        .api
        .req(http::Method::POST, cx.ns_path("", "v1", "configmaps"))
        .body("text/plain", b"name: x".to_vec())
        .send()
        .await?
        .expect_failure(415, "UnsupportedMediaType")?;
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps (Content-Type: text/plain)",
        &status,
    )
}

async fn not_acceptable(cx: Ctx) -> anyhow::Result<()> {
    let status = cx
        .api
        .get(cx.ns_path("", "v1", "configmaps"))
        .accept("application/xml")
        .send()
        .await?
        .expect_failure(406, "NotAcceptable")?;
    cx.snapshot(
        "status",
        "GET /api/v1/namespaces/{ns}/configmaps (Accept: application/xml)",
        &status,
    )
}

async fn malformed_body(cx: Ctx) -> anyhow::Result<()> {
    let r = cx
        .api
        .req(http::Method::POST, cx.ns_path("", "v1", "configmaps"))
        .body(crate::client::JSON, b"{\"metadata\": {\"name\": ".to_vec())
        .send()
        .await?;
    r.expect_failure(400, "BadRequest")?;
    Ok(())
}

async fn too_large(cx: Ctx) -> anyhow::Result<()> {
    let mut cm = configmap("huge");
    cm["data"]["k"] = json!("x".repeat(3 * 1024 * 1024 + 1024));
    let status = cx
        .api
        .post(cx.ns_path("", "v1", "configmaps"), &cm)
        .send()
        .await?
        .expect_failure(413, "RequestEntityTooLarge")?;
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}/configmaps (3 MiB + 1 KiB)",
        &status,
    )
}

async fn missing_namespace(cx: Ctx) -> anyhow::Result<()> {
    let ns = format!("{}-absent", cx.ns);
    let path = format!("/api/v1/namespaces/{ns}/configmaps");
    let status = cx
        .api
        .post(&path, &configmap("orphan"))
        .send()
        .await?
        .expect_failure(404, "NotFound")?;
    ensure!(
        status["message"] == format!("namespaces \"{ns}\" not found"),
        "the NotFound names the namespace: {status}"
    );
    cx.snapshot(
        "status",
        "POST /api/v1/namespaces/{ns}-absent/configmaps",
        &status,
    )
}
