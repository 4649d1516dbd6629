//! apiregistration.k8s.io APIServices through real kubectl: the local ones exist from
//! the start with upstream's priorities, follow CustomResourceDefinitions' group-versions,
//! and one pointing at a missing Service is reported unavailable.

mod common;

use common::{eventually, Apiserver};
use serde_json::{json, Value};

const API_SERVICES: &str = "/apis/apiregistration.k8s.io/v1/apiservices";

fn ok(server: &Apiserver, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl("kubectl", args);
    assert!(ok, "kubectl {args:?} failed: {err}{out}");
    out
}

#[test]
fn local_api_services_follow_what_is_served() {
    let server = Apiserver::start();
    let table = ok(&server, &["get", "apiservices"]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "SERVICE", "AVAILABLE", "AGE"]);
    for name in [
        "v1.",
        "v1.apps",
        "v1.autoscaling",
        "v2.autoscaling",
        "v1.apiregistration.k8s.io",
    ] {
        let row = rows
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("{name} in {table}"));
        assert_eq!(row[1..3], ["Local", "True"], "{table}");
    }
    let (_, apps) = server.json("GET", &format!("{API_SERVICES}/v1.apps"), &Value::Null);
    assert_eq!(
        apps["spec"],
        json!({"service": null, "group": "apps", "version": "v1", "groupPriorityMinimum": 17800, "versionPriority": 15})
    );
    assert_eq!(
        apps["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"],
        "onstart"
    );
    assert_eq!(
        apps["status"]["conditions"][0]["message"],
        "Local APIServices are always available"
    );

    // A CustomResourceDefinition's group-version gets its APIService, and loses it with
    // the definition.
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.rkube.io"},
        "spec": {"group": "example.rkube.io", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object"}}}]}});
    let (code, created) = server.json(
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        &crd,
    );
    assert_eq!(code, 201, "{created}");
    let widgets = eventually(30, "v1.example.rkube.io", || {
        let (code, v) = server.json(
            "GET",
            &format!("{API_SERVICES}/v1.example.rkube.io"),
            &Value::Null,
        );
        (code == 200 && v["status"]["conditions"][0]["status"] == "True").then_some(v)
    });
    assert_eq!(
        widgets["metadata"]["labels"]["kube-aggregator.kubernetes.io/automanaged"],
        "true"
    );
    assert_eq!(widgets["spec"]["groupPriorityMinimum"], 1000);
    assert_eq!(widgets["spec"]["versionPriority"], 100);
    ok(&server, &["delete", "crd", "widgets.example.rkube.io"]);
    eventually(30, "v1.example.rkube.io gone", || {
        (server
            .json(
                "GET",
                &format!("{API_SERVICES}/v1.example.rkube.io"),
                &Value::Null,
            )
            .0
            == 404)
            .then_some(())
    });

    // One a user points at a Service: stored, never pretended available.
    let remote = json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io"},
        "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100,
            "versionPriority": 100, "insecureSkipTLSVerify": true,
            "service": {"namespace": "kube-system", "name": "metrics-server"}}});
    assert_eq!(server.json("POST", API_SERVICES, &remote).0, 201);
    let row = eventually(30, "the remote APIService's condition", || {
        let table = ok(&server, &["get", "apiservice", "v1beta1.metrics.k8s.io"]);
        table.contains("False (ServiceNotFound)").then_some(table)
    });
    assert!(row.contains("kube-system/metrics-server"), "{row}");
    // Its group is not served: nothing proxies to it.
    assert_eq!(
        server
            .json("GET", "/apis/metrics.k8s.io/v1beta1", &Value::Null)
            .0,
        404
    );
}
