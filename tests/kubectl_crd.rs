//! CustomResourceDefinitions end to end with real kubectl: a CRD is applied and becomes
//! Established, its custom resources are created, listed with the CRD's printer columns,
//! explained from the published schema, validated against it (422 with causes), pruned,
//! scaled, kept across a restart, and deleted with the CRD.

mod common;

use common::{eventually, kubectl_versions, Apiserver};
use serde_json::{json, Value};

fn ok(server: &Apiserver, bin: &str, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl(bin, args);
    assert!(ok, "{bin} {args:?} failed: {err}{out}");
    out
}

fn fails(server: &Apiserver, bin: &str, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl(bin, args);
    assert!(!ok, "{bin} {args:?} should fail: {out}");
    err
}

fn manifest(name: &str) -> String {
    format!("{}/tests/crd/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn kubectl_minor(minor: u32) -> String {
    kubectl_versions()
        .into_iter()
        .find(|k| k.ends_with(&format!("kubectl.1.{minor}")))
        .expect("versioned kubectl")
}

fn install_crd(server: &Apiserver, bin: &str) {
    ok(server, bin, &["apply", "-f", &manifest("crontab-crd.yaml")]);
    ok(
        server,
        bin,
        &[
            "wait",
            "--for=condition=Established",
            "--timeout=20s",
            "crd/crontabs.stable.example.com",
        ],
    );
}

#[test]
fn kubectl_applies_a_crd_and_its_custom_resources() {
    let server = Apiserver::start();
    install_crd(&server, "kubectl");
    let crd = ok(&server, "kubectl", &["get", "crd"]);
    let header: Vec<&str> = crd.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "CREATED", "AT"], "{crd}");
    let (_, v) = server.json(
        "GET",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/crontabs.stable.example.com",
        &Value::Null,
    );
    assert_eq!(v["status"]["acceptedNames"]["shortNames"], json!(["ct"]));
    assert_eq!(v["status"]["storedVersions"], json!(["v1"]));
    assert_eq!(v["metadata"]["generation"], 1);

    ok(
        &server,
        "kubectl",
        &["apply", "-f", &manifest("crontab.yaml")],
    );
    // Printer columns, the schema's default for replicas, the short name.
    let table = ok(&server, "kubectl", &["get", "ct"]);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "SPEC", "REPLICAS", "AGE"], "{table}");
    assert_eq!(
        &lines[1][..7],
        ["my-cron", "*", "*", "*", "*", "*/5", "1"],
        "{table}"
    );
    // Categories: `all` lists it.
    let all = ok(&server, "kubectl", &["get", "all"]);
    assert!(all.contains("crontab.stable.example.com/my-cron"), "{all}");
    let yaml = ok(
        &server,
        "kubectl",
        &["get", "crontab", "my-cron", "-o", "json"],
    );
    let cr: Value = serde_json::from_str(&yaml).unwrap();
    assert_eq!(cr["apiVersion"], "stable.example.com/v1");
    assert_eq!(cr["spec"]["replicas"], 1);
    assert_eq!(cr["metadata"]["generation"], 1);

    // Schema validation: 422 with one cause per problem.
    let bad = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "bad"},
        "spec": {"cronSpec": "nope", "replicas": 20, "image": 5}});
    let (code, status) = server.json(
        "POST",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
        &bad,
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid");
    let mut causes: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    causes.sort();
    assert_eq!(
        causes,
        ["spec.cronSpec", "spec.image", "spec.replicas"],
        "{status}"
    );
    assert_eq!(status["details"]["group"], "stable.example.com");
    let missing = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "bad"}, "spec": {}});
    let (code, status) = server.json(
        "POST",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
        &missing,
    );
    assert_eq!(
        (code, status["details"]["causes"][0]["message"].as_str()),
        (422, Some("Required value")),
        "{status}"
    );

    // Unknown fields: refused by kubectl's strict validation, pruned otherwise.
    let extra = std::env::temp_dir().join(format!("crontab-extra-{}.yaml", std::process::id()));
    std::fs::write(&extra, "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: extra}\nspec: {cronSpec: \"* * * * *\", bogus: true}\n").unwrap();
    let err = fails(
        &server,
        "kubectl",
        &["apply", "-f", extra.to_str().unwrap()],
    );
    assert!(
        err.contains("strict decoding error: unknown field \"spec.bogus\""),
        "{err}"
    );
    ok(
        &server,
        "kubectl",
        &["apply", "--validate=false", "-f", extra.to_str().unwrap()],
    );
    let (_, pruned) = server.json(
        "GET",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/extra",
        &Value::Null,
    );
    assert_eq!(
        pruned["spec"],
        json!({"cronSpec": "* * * * *", "replicas": 1})
    );
    let _ = std::fs::remove_file(&extra);

    // Strategic merge patch is not for custom resources; merge patch bumps generation.
    let err = fails(
        &server,
        "kubectl",
        &["patch", "ct", "my-cron", "-p", r#"{"spec":{"image":"x"}}"#],
    );
    assert!(
        err.contains("application/merge-patch+json, application/apply-patch+yaml"),
        "{err}"
    );
    ok(
        &server,
        "kubectl",
        &[
            "patch",
            "ct",
            "my-cron",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"image":"x"}}"#,
        ],
    );
    ok(
        &server,
        "kubectl",
        &["scale", "ct", "my-cron", "--replicas=3"],
    );
    let (_, cr) = server.json(
        "GET",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron",
        &Value::Null,
    );
    assert_eq!(
        (
            cr["spec"]["replicas"].as_i64(),
            cr["metadata"]["generation"].as_i64()
        ),
        (Some(3), Some(3))
    );
    // The status subresource: only status changes there, and the generation stays.
    let (code, st) = server.json(
        "PATCH",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron/status",
        &json!({"spec": {"replicas": 9}, "status": {"replicas": 2}}),
    );
    assert_eq!(code, 200, "{st}");
    assert_eq!(
        (
            st["spec"]["replicas"].as_i64(),
            st["status"]["replicas"].as_i64(),
            st["metadata"]["generation"].as_i64()
        ),
        (Some(3), Some(2), Some(3))
    );
    let (_, scale) = server.json(
        "GET",
        "/apis/stable.example.com/v1/namespaces/default/crontabs/my-cron/scale",
        &Value::Null,
    );
    assert_eq!(
        (
            scale["spec"]["replicas"].as_i64(),
            scale["status"]["replicas"].as_i64()
        ),
        (Some(3), Some(2)),
        "{scale}"
    );

    // Custom resources are JSON only.
    let (code, _) = server
        .request(
            "POST",
            "/apis/stable.example.com/v1/namespaces/default/crontabs",
            &[("Content-Type", "application/vnd.kubernetes.protobuf")],
            b"k8s\x00",
        )
        .unwrap();
    assert_eq!(code, 415);
}

#[test]
fn custom_resources_survive_a_restart_and_go_with_their_crd() {
    let mut server = Apiserver::start();
    install_crd(&server, "kubectl");
    ok(
        &server,
        "kubectl",
        &["apply", "-f", &manifest("crontab.yaml")],
    );
    ok(&server, "kubectl", &["create", "namespace", "other"]);
    ok(
        &server,
        "kubectl",
        &["apply", "-n", "other", "-f", &manifest("crontab.yaml")],
    );
    server.kill9();
    server.spawn();
    let listed = ok(&server, "kubectl", &["get", "ct", "-A", "-o", "name"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");

    ok(
        &server,
        "kubectl",
        &[
            "delete",
            "crd",
            "crontabs.stable.example.com",
            "--timeout=30s",
        ],
    );
    let (code, _) = server.json("GET", "/apis/stable.example.com/v1/crontabs", &Value::Null);
    assert_eq!(code, 404);
    let (_, groups) = server.json("GET", "/apis", &Value::Null);
    assert!(
        !groups.to_string().contains("stable.example.com"),
        "{groups}"
    );
    // Its objects went first: a CRD of the same name starts empty.
    install_crd(&server, "kubectl");
    let none = ok(&server, "kubectl", &["get", "ct", "-A", "-o", "name"]);
    assert_eq!(none.trim(), "", "{none}");
}

#[test]
fn versioned_kubectls_serve_custom_resources() {
    for minor in [27, 33] {
        let server = Apiserver::start();
        let bin = kubectl_minor(minor);
        install_crd(&server, &bin);
        ok(&server, &bin, &["apply", "-f", &manifest("crontab.yaml")]);
        let table = eventually(10, "printer columns", || {
            let (ok, out, _) = server.kubectl(&bin, &["get", "crontabs"]);
            (ok && out.starts_with("NAME")).then_some(out)
        });
        let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(
            header,
            ["NAME", "SPEC", "REPLICAS", "AGE"],
            "kubectl 1.{minor}: {table}"
        );
        // The CRD's schema is published: explain reads it (1.27 from /openapi/v2 as
        // protobuf or v3, 1.33 from /openapi/v3).
        let explained = eventually(10, "explain", || {
            let (ok, out, _) = server.kubectl(&bin, &["explain", "crontab.spec.cronSpec"]);
            (ok && out.contains("The schedule in cron format.")).then_some(out)
        });
        assert!(
            explained.contains("cronSpec"),
            "kubectl 1.{minor}: {explained}"
        );
        ok(&server, &bin, &["delete", "ct", "my-cron"]);
        let none = ok(&server, &bin, &["get", "ct", "-o", "name"]);
        assert_eq!(none.trim(), "", "kubectl 1.{minor}");
    }
}

/// The controller-manager's namespace controller finds custom resources through
/// discovery: deleting a namespace deletes the custom resources in it, also of a CRD
/// created after the controller-manager started.
#[test]
fn namespace_deletion_deletes_its_custom_resources() {
    let server = Apiserver::start();
    let _cm = common::ControllerManager::start(&server);
    install_crd(&server, "kubectl");
    ok(&server, "kubectl", &["create", "namespace", "doomed"]);
    ok(
        &server,
        "kubectl",
        &["apply", "-n", "doomed", "-f", &manifest("crontab.yaml")],
    );
    ok(
        &server,
        "kubectl",
        &["delete", "namespace", "doomed", "--wait=false"],
    );
    eventually(60, "the namespace and its crontab are gone", || {
        let (ns, _) = server.json("GET", "/api/v1/namespaces/doomed", &Value::Null);
        let (cr, _) = server.json(
            "GET",
            "/apis/stable.example.com/v1/namespaces/doomed/crontabs/my-cron",
            &Value::Null,
        );
        (ns == 404 && cr == 404).then_some(())
    });
}

/// The garbage collector follows discovery: a custom resource of a CRD created after the
/// controller-manager started is collected once its owner is gone.
#[test]
fn the_garbage_collector_collects_custom_resources() {
    let server = Apiserver::start();
    let _cm = common::ControllerManager::start(&server);
    install_crd(&server, "kubectl");
    let (code, owner) = server.json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}}),
    );
    assert_eq!(code, 201, "{owner}");
    let cr = json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab",
        "metadata": {"name": "owned", "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}]},
        "spec": {"cronSpec": "* * * * *"}});
    let (code, out) = server.json(
        "POST",
        "/apis/stable.example.com/v1/namespaces/default/crontabs",
        &cr,
    );
    assert_eq!(code, 201, "{out}");
    let (code, _) = server.json(
        "DELETE",
        "/api/v1/namespaces/default/configmaps/owner",
        &Value::Null,
    );
    assert_eq!(code, 200);
    eventually(90, "the owned crontab is collected", || {
        let (code, _) = server.json(
            "GET",
            "/apis/stable.example.com/v1/namespaces/default/crontabs/owned",
            &Value::Null,
        );
        (code == 404).then_some(())
    });
}
