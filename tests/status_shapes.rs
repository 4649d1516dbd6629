//! The Status bodies of errors, whole, as upstream writes them (messages from
//! k8s.io/apimachinery/pkg/api/errors, the handlers under k8s.io/apiserver/pkg/endpoints
//! and the NamespaceLifecycle, ResourceQuota and LimitRanger admission plugins, v1.33).

mod common;
mod wire;

use std::thread;

use common::Apiserver;
use serde_json::{json, Value};
use wire::{Conn, Watch};

/// A failure Status with upstream's fields (`details` left out when None).
fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    s["code"] = json!(code);
    s
}

fn expect(got: (u16, Value), code: u16, want: Value) {
    assert_eq!(
        got.1,
        want,
        "\n got: {}\nwant: {}",
        serde_json::to_string_pretty(&got.1).unwrap(),
        serde_json::to_string_pretty(&want).unwrap()
    );
    assert_eq!(got.0, code, "HTTP status of {}", got.1);
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

#[test]
fn not_found_core_resource() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    expect(
        c.json("GET", "/api/v1/namespaces/default/pods/nope", &Value::Null),
        404,
        failure(
            404,
            "NotFound",
            "pods \"nope\" not found",
            Some(json!({"name": "nope", "kind": "pods"})),
        ),
    );
    // Deleting what is not there is the same NotFound.
    expect(
        c.json(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/nope",
            &Value::Null,
        ),
        404,
        failure(
            404,
            "NotFound",
            "configmaps \"nope\" not found",
            Some(json!({"name": "nope", "kind": "configmaps"})),
        ),
    );
}

#[test]
fn not_found_group_resource() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    expect(
        c.json(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments/web",
            &Value::Null,
        ),
        404,
        failure(
            404,
            "NotFound",
            "deployments.apps \"web\" not found",
            Some(json!({"name": "web", "group": "apps", "kind": "deployments"})),
        ),
    );
}

#[test]
fn already_exists() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let path = "/api/v1/namespaces/default/configmaps";
    c.create(path, &configmap("c1"));
    expect(
        c.json("POST", path, &configmap("c1")),
        409,
        failure(
            409,
            "AlreadyExists",
            "configmaps \"c1\" already exists",
            Some(json!({"name": "c1", "kind": "configmaps"})),
        ),
    );
}

#[test]
fn conflict_on_stale_resource_version() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let created = c.create("/api/v1/namespaces/default/configmaps", &configmap("c1"));
    let path = "/api/v1/namespaces/default/configmaps/c1";
    let mut newer = created.clone();
    newer["data"]["k"] = json!("v2");
    let (code, updated) = c.json("PUT", path, &newer);
    assert_eq!(code, 200, "{updated}");
    assert_ne!(wire::rv_of(&updated), wire::rv_of(&created));

    let mut stale = created.clone();
    stale["data"]["k"] = json!("v3");
    expect(
        c.json("PUT", path, &stale),
        409,
        failure(
            409,
            "Conflict",
            "Operation cannot be fulfilled on configmaps \"c1\": the object has been modified; please apply your changes to the latest version and try again",
            Some(json!({"name": "c1", "kind": "configmaps"})),
        ),
    );
    assert_eq!(
        c.get(path)["data"]["k"],
        "v2",
        "the stale write changed nothing"
    );
}

#[test]
fn invalid_lists_every_cause() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let name_msg = "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    // Upstream's RegexError joins the examples with "', " + " or ": two spaces.
    let label_msg = "Invalid value: \"bad value!\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "Bad_Name", "labels": {"tier": "bad value!"}},
        "spec": {"containers": []}});
    expect(
        c.json("POST", "/api/v1/namespaces/default/pods", &pod),
        422,
        failure(
            422,
            "Invalid",
            &format!(
                "Pod \"Bad_Name\" is invalid: [metadata.name: {name_msg}, metadata.labels: {label_msg}, spec.containers: Required value]"
            ),
            Some(json!({
                "name": "Bad_Name",
                "kind": "Pod",
                "causes": [
                    {"reason": "FieldValueInvalid", "message": name_msg, "field": "metadata.name"},
                    {"reason": "FieldValueInvalid", "message": label_msg, "field": "metadata.labels"},
                    {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers"},
                ],
            })),
        ),
    );
}

#[test]
fn bad_request_label_selector() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    // labels.Parse: parseValues → parseIdentifiersList, wrapped by parse().
    expect(
        c.json(
            "GET",
            "/api/v1/namespaces/default/pods?labelSelector=app%20in%20(web",
            &Value::Null,
        ),
        400,
        failure(
            400,
            "BadRequest",
            "unable to parse requirement: found '', expected: ',' or ')'",
            None,
        ),
    );
    expect(
        c.json("GET", "/api/v1/pods?labelSelector=a%20in%20(", &Value::Null),
        400,
        failure(
            400,
            "BadRequest",
            "unable to parse requirement: found '', expected: ',', ')' or identifier",
            None,
        ),
    );
}

#[test]
fn bad_request_unsupported_field_selector() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    // Pods have their own field label conversion (pkg/apis/core/v1/conversion.go) ...
    expect(
        c.json(
            "GET",
            "/api/v1/namespaces/default/pods?fieldSelector=spec.foo%3Dx",
            &Value::Null,
        ),
        400,
        failure(
            400,
            "BadRequest",
            "field label not supported: spec.foo",
            None,
        ),
    );
    // ... kinds without one get runtime.DefaultMetaV1FieldSelectorConversion.
    expect(
        c.json(
            "GET",
            "/apis/apps/v1/namespaces/default/deployments?fieldSelector=spec.replicas%3D1",
            &Value::Null,
        ),
        400,
        failure(
            400,
            "BadRequest",
            "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            None,
        ),
    );
}

#[test]
fn not_acceptable() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let r = c.request(
        "GET",
        "/api/v1/namespaces/default/pods",
        &[("Accept", "text/html")],
        b"",
    );
    expect(
        (r.code, r.json()),
        406,
        failure(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            None,
        ),
    );
}

#[test]
fn request_entity_too_large() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let limit = 3 * 1024 * 1024;
    let mut cm = configmap("big");
    cm["data"]["k"] = json!("a".repeat(limit));
    let body = serde_json::to_vec(&cm).unwrap();
    assert!(body.len() > limit);
    let r = c.request(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/json")],
        &body,
    );
    expect(
        (r.code, r.json()),
        413,
        failure(
            413,
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
            None,
        ),
    );
    // Exactly at the limit is read (and then judged on its merits).
    let mut cm = configmap("at-limit");
    let overhead = serde_json::to_vec(&cm).unwrap().len() - 1;
    cm["data"]["k"] = json!("a".repeat(limit - overhead));
    let body = serde_json::to_vec(&cm).unwrap();
    assert_eq!(body.len(), limit);
    let r = Conn::new(server.port).request(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "application/json")],
        &body,
    );
    assert_ne!(r.code, 413, "{}", String::from_utf8_lossy(&r.body));
}

/// Watching from a resourceVersion the history no longer holds: 200 and one ERROR event
/// carrying a 410 Expired Status (the cacher's errWatcher), then the end of the stream.
#[test]
fn expired_watch_is_an_error_event() {
    let server = Apiserver::start();
    let port = server.port;
    let window = rkube_storage::EmbeddedOptions::default().history_window;
    let mut c = Conn::new(port);
    c.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "churn"}}),
    );
    // Enough writes that revision 1 falls out of the history window.
    let writers = 4;
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            thread::spawn(move || {
                let mut c = Conn::new(port);
                for i in (w..=window).step_by(writers) {
                    c.create(
                        "/api/v1/namespaces/churn/configmaps",
                        &configmap(&format!("cm-{i}")),
                    );
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let list = c.get("/api/v1/namespaces/churn/configmaps?limit=1");
    let current: usize = wire::rv_of(&list).parse().unwrap();
    assert!(current > window + 1, "{current}");
    let oldest_gone = current - window;

    let mut w = Watch::open(
        port,
        "/api/v1/namespaces/churn/configmaps?watch=1&resourceVersion=1",
    );
    assert_eq!(w.code, 200);
    let events = w.rest();
    assert_eq!(
        events,
        vec![json!({
            "type": "ERROR",
            "object": failure(
                410,
                "Expired",
                &format!("too old resource version: 1 ({oldest_gone})"),
                None
            ),
        })]
    );
    // A watch from within the window still works.
    let mut w = Watch::open(
        port,
        &format!(
            "/api/v1/namespaces/churn/configmaps?watch=1&resourceVersion={}",
            current - 1
        ),
    );
    assert_eq!(w.code, 200);
    let ev = w.take(1).remove(0);
    assert_eq!(ev["type"], "ADDED", "{ev}");
    assert_eq!(wire::rv_of(&ev["object"]), current.to_string());
}

#[test]
fn namespace_not_found_on_create() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    // NamespaceLifecycle returns the NotFound of its namespaces Get as it is.
    expect(
        c.json(
            "POST",
            "/api/v1/namespaces/missing/configmaps",
            &configmap("c1"),
        ),
        404,
        failure(
            404,
            "NotFound",
            "namespaces \"missing\" not found",
            Some(json!({"name": "missing", "kind": "namespaces"})),
        ),
    );
    expect(
        c.json(
            "POST",
            "/apis/apps/v1/namespaces/missing/deployments",
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        ),
        404,
        failure(
            404,
            "NotFound",
            "namespaces \"missing\" not found",
            Some(json!({"name": "missing", "kind": "namespaces"})),
        ),
    );
}

#[test]
fn invalid_group_kind_is_qualified() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    expect(
        c.json("POST", "/apis/apps/v1/namespaces/default/deployments", &deploy),
        422,
        failure(
            422,
            "Invalid",
            "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            Some(json!({"name": "web", "group": "apps", "kind": "Deployment",
                "causes": [{"reason": "FieldValueInvalid",
                            "message": "Invalid value: -1: must be greater than or equal to 0",
                            "field": "spec.replicas"}]})),
        ),
    );
}

#[test]
fn method_not_allowed_on_a_collection() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let want = failure(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        Some(json!({})),
    );
    expect(
        c.json(
            "PUT",
            "/api/v1/namespaces/default/configmaps",
            &configmap("c1"),
        ),
        405,
        want.clone(),
    );
    expect(
        c.json(
            "PUT",
            "/apis/apps/v1/namespaces/default/deployments",
            &json!({}),
        ),
        405,
        want,
    );
}

#[test]
fn unknown_resource_path_not_found() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    expect(
        c.json("GET", "/api/v1/nonexistents", &Value::Null),
        404,
        failure(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        ),
    );
}

#[test]
fn unsupported_media_type() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let r = c.request(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type", "text/plain")],
        b"hello",
    );
    expect(
        (r.code, r.json()),
        415,
        failure(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
            None,
        ),
    );
}

#[test]
fn forbidden_in_a_terminating_namespace() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let ns = c.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}),
    );
    assert_eq!(ns["spec"], json!({"finalizers": ["kubernetes"]}), "{ns}");
    let (code, deleted) = c.json("DELETE", "/api/v1/namespaces/doomed", &Value::Null);
    assert_eq!(code, 200, "{deleted}");
    assert_eq!(deleted["status"]["phase"], "Terminating", "{deleted}");
    expect(
        c.json("POST", "/api/v1/namespaces/doomed/configmaps", &configmap("late")),
        403,
        failure(
            403,
            "Forbidden",
            "configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated",
            Some(json!({"name": "late", "kind": "configmaps",
                "causes": [{"reason": "NamespaceTerminating",
                            "message": "namespace doomed is being terminated",
                            "field": "metadata.namespace"}]})),
        ),
    );
}

#[test]
fn forbidden_by_a_quota_and_a_limit_range() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    c.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "limited"}}),
    );
    let quota = c.create(
        "/api/v1/namespaces/limited/resourcequotas",
        &json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "one"},
                "spec": {"hard": {"configmaps": "1"}}}),
    );
    // Status starts empty: the controller (or the first charge) fills it in.
    assert_eq!(quota["status"], json!({}), "{quota}");
    c.create("/api/v1/namespaces/limited/configmaps", &configmap("first"));
    let (_, charged) = c.json(
        "GET",
        "/api/v1/namespaces/limited/resourcequotas/one",
        &Value::Null,
    );
    assert_eq!(
        charged["status"],
        json!({"hard": {"configmaps": "1"}, "used": {"configmaps": "1"}}),
        "{charged}"
    );
    expect(
        c.json("POST", "/api/v1/namespaces/limited/configmaps", &configmap("second")),
        403,
        failure(
            403,
            "Forbidden",
            "configmaps \"second\" is forbidden: exceeded quota: one, requested: configmaps=1, used: configmaps=1, limited: configmaps=1",
            Some(json!({"name": "second", "kind": "configmaps"})),
        ),
    );
    c.create(
        "/api/v1/namespaces/limited/limitranges",
        &json!({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr"},
                "spec": {"limits": [{"type": "Container", "max": {"memory": "1Gi"}}]}}),
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"limits": {"memory": "2Gi"}}}]}});
    expect(
        c.json("POST", "/api/v1/namespaces/limited/pods", &pod),
        403,
        failure(
            403,
            "Forbidden",
            "pods \"big\" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi",
            Some(json!({"name": "big", "kind": "pods"})),
        ),
    );
}

#[test]
fn apis_in_priority_order() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let groups: Vec<String> = c.get("/apis")["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        groups,
        // kube-apiserver 1.33's group priority order, less the groups rkube does not serve
        // (resource).
        [
            "apiregistration.k8s.io",
            "apps",
            "events.k8s.io",
            "authentication.k8s.io",
            "authorization.k8s.io",
            "autoscaling",
            "batch",
            "certificates.k8s.io",
            "networking.k8s.io",
            "policy",
            "rbac.authorization.k8s.io",
            "storage.k8s.io",
            "admissionregistration.k8s.io",
            "apiextensions.k8s.io",
            "scheduling.k8s.io",
            "coordination.k8s.io",
            "node.k8s.io",
            "discovery.k8s.io",
            "flowcontrol.apiserver.k8s.io"
        ]
    );
}

#[test]
fn pod_subresources_of_1_33() {
    let server = Apiserver::start();
    let mut c = Conn::new(server.port);
    let list = c.get("/api/v1");
    let find = |n: &str| {
        list["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .cloned()
    };
    for sub in ["pods/ephemeralcontainers", "pods/resize"] {
        assert_eq!(
            find(sub),
            Some(
                json!({"name": sub, "singularName": "", "namespaced": true, "kind": "Pod", "verbs": ["get", "patch", "update"]})
            )
        );
    }
}
