//! HorizontalPodAutoscalers through real kubectl and raw HTTP: `kubectl autoscale` (the
//! 1.33 kubectl writes autoscaling/v2, the 1.27 one autoscaling/v1), `kubectl get hpa`
//! with upstream's columns, one stored object seen through both versions with
//! upstream's conversion (v2-only fields survive a v1 round trip), defaults and
//! validation.

mod common;

use common::Apiserver;
use serde_json::{json, Value};

fn ok(server: &Apiserver, bin: &str, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl(bin, args);
    assert!(ok, "{bin} {args:?} failed: {err}{out}");
    out
}

fn kubectl_127() -> String {
    common::kubectl_versions()
        .into_iter()
        .find(|k| k.ends_with("kubectl.1.27"))
        .unwrap()
}

const V1: &str = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
const V2: &str = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";

#[test]
fn kubectl_autoscale_and_get_hpa_like_upstream() {
    let server = Apiserver::start();
    ok(
        &server,
        "kubectl",
        &["create", "deployment", "web", "--image=nginx"],
    );
    let out = ok(
        &server,
        "kubectl",
        &[
            "autoscale",
            "deployment",
            "web",
            "--min=2",
            "--max=5",
            "--cpu-percent=60",
        ],
    );
    assert_eq!(
        out.trim(),
        "horizontalpodautoscaler.autoscaling/web autoscaled"
    );
    // An old kubectl writes autoscaling/v1 with no CPU target: the conversion makes the
    // 80 % default explicit.
    let old = kubectl_127();
    ok(
        &server,
        &old,
        &["autoscale", "deployment", "web", "--name=old", "--max=3"],
    );

    let table = ok(&server, "kubectl", &["get", "hpa"]);
    let lines: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[0],
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ]
    );
    assert_eq!(
        lines[1][..7],
        [
            "old",
            "Deployment/web",
            "cpu:",
            "<unknown>/80%",
            "1",
            "3",
            "0"
        ]
    );
    assert_eq!(
        lines[2][..7],
        [
            "web",
            "Deployment/web",
            "cpu:",
            "<unknown>/60%",
            "2",
            "5",
            "0"
        ]
    );
    // The same table from the 1.27 client, which asks for the v1 form.
    let old_table = ok(&server, &old, &["get", "hpa", "web"]);
    assert!(old_table.contains("cpu: <unknown>/60%"), "{old_table}");

    let (code, v2) = server.json("GET", &format!("{V2}/web"), &Value::Null);
    assert_eq!(code, 200);
    assert_eq!(
        v2["spec"]["metrics"],
        json!([{"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 60}}}])
    );
    assert_eq!(
        v2["status"],
        json!({"currentMetrics": null, "desiredReplicas": 0})
    );
    let (_, v1) = server.json("GET", &format!("{V1}/web"), &Value::Null);
    assert_eq!(v1["apiVersion"], "autoscaling/v1");
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 60);
    assert_eq!(v1["spec"]["minReplicas"], 2);
    assert_eq!(
        v1["status"],
        json!({"currentReplicas": 0, "desiredReplicas": 0})
    );

    let described = ok(&server, "kubectl", &["describe", "hpa", "web"]);
    assert!(
        described.contains("Reference:") && described.contains("Deployment/web"),
        "{described}"
    );
}

#[test]
fn v2_only_fields_survive_a_v1_round_trip() {
    let server = Apiserver::start();
    let rich = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "rich"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "maxReplicas": 4,
            "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}});
    let (code, created) = server.json("POST", V2, &rich);
    assert_eq!(code, 201, "{created}");
    // Defaults: one replica at least, the behavior filled out with the default rules.
    assert_eq!(created["spec"]["minReplicas"], 1);
    assert_eq!(
        created["spec"]["behavior"]["scaleUp"],
        json!({"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [
            {"type": "Pods", "value": 4, "periodSeconds": 15},
            {"type": "Percent", "value": 100, "periodSeconds": 15}]})
    );
    assert_eq!(
        created["spec"]["behavior"]["scaleDown"],
        json!({"stabilizationWindowSeconds": 60, "selectPolicy": "Max", "policies": [
            {"type": "Percent", "value": 100, "periodSeconds": 15}]})
    );

    // Through v1: the CPU target is the field, the rest rides in annotations.
    let (_, mut v1) = server.json("GET", &format!("{V1}/rich"), &Value::Null);
    assert_eq!(v1["spec"]["targetCPUUtilizationPercentage"], 50);
    let annotations = &v1["metadata"]["annotations"];
    let others: Value = serde_json::from_str(
        annotations["autoscaling.alpha.kubernetes.io/metrics"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        others,
        json!([{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "10"}},
               {"type": "Resource", "resource": {"name": "memory", "targetAverageValue": "100Mi"}}])
    );
    assert!(annotations["autoscaling.alpha.kubernetes.io/behavior"].is_string());

    // A v1 client changes maxReplicas and puts the object back: nothing else is lost.
    v1["spec"]["maxReplicas"] = json!(6);
    let (code, put) = server.json("PUT", &format!("{V1}/rich"), &v1);
    assert_eq!(code, 200, "{put}");
    let (_, v2) = server.json("GET", &format!("{V2}/rich"), &Value::Null);
    assert_eq!(v2["spec"]["maxReplicas"], 6);
    assert_eq!(v2["spec"]["behavior"], created["spec"]["behavior"]);
    let metrics = v2["spec"]["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 3, "{v2}");
    for m in created["spec"]["metrics"].as_array().unwrap() {
        assert!(metrics.contains(m), "{m} lost in {v2}");
    }
    // The round-trip annotations never show in v2.
    assert!(v2["metadata"]["annotations"].is_null(), "{v2}");

    // The status written through v2 shows in v1 as the CPU figure, and whole in the
    // annotations.
    let mut with_status = v2.clone();
    with_status["status"] = json!({"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageValue": "120m", "averageUtilization": 40}}}]});
    let (code, _) = server.json("PUT", &format!("{V2}/rich/status"), &with_status);
    assert_eq!(code, 200);
    let (_, v1) = server.json("GET", &format!("{V1}/rich"), &Value::Null);
    assert_eq!(
        v1["status"],
        json!({"currentReplicas": 2, "desiredReplicas": 3, "currentCPUUtilizationPercentage": 40})
    );
    assert!(
        v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/current-metrics"]
            .is_string()
    );
}

#[test]
fn invalid_autoscalers_are_refused_with_upstream_messages() {
    let server = Apiserver::start();
    let bad = json!({"metadata": {"name": "bad"}, "spec": {
        "scaleTargetRef": {"kind": "", "name": "a/b"}, "minReplicas": 3, "maxReplicas": 2,
        "metrics": [{"type": "Resource"}]}});
    let (code, status) = server.json("POST", V2, &bad);
    assert_eq!(code, 422, "{status}");
    let message = status["message"].as_str().unwrap();
    for part in [
        "HorizontalPodAutoscaler.autoscaling \"bad\" is invalid",
        "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
        "spec.scaleTargetRef.kind: Required value",
        "spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'",
        "spec.metrics[0].resource: Required value: must populate information for the given metric source",
    ] {
        assert!(message.contains(part), "{part} not in {message}");
    }
    // A v1 object is validated in the stored form: its CPU target is a metric.
    let v1 = json!({"metadata": {"name": "zero"}, "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 2,
        "targetCPUUtilizationPercentage": 0}});
    let (code, status) = server.json("POST", V1, &v1);
    assert_eq!(code, 422, "{status}");
    assert!(
        status["message"].as_str().unwrap().contains(
            "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"
        ),
        "{status}"
    );
}

/// The HPA controller with no metrics API to read: upstream's conditions, never a scale.
#[test]
fn the_controller_reports_that_no_metrics_can_be_had() {
    let server = Apiserver::start();
    let _cm = common::ControllerManager::start_with(
        &server,
        &["--controllers=deployment,replicaset,horizontalpodautoscaling"],
    );
    ok(
        &server,
        "kubectl",
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
        ],
    );
    ok(
        &server,
        "kubectl",
        &[
            "autoscale",
            "deployment",
            "web",
            "--min=1",
            "--max=4",
            "--cpu-percent=50",
        ],
    );
    let ghost = json!({"metadata": {"name": "ghost"}, "spec": {"maxReplicas": 3,
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ghost"}}});
    assert_eq!(server.json("POST", V2, &ghost).0, 201);

    let conditions = |name: &str| -> Option<(Value, Value)> {
        let (_, hpa) = server.json("GET", &format!("{V2}/{name}"), &Value::Null);
        let conditions = hpa["status"]["conditions"].as_array()?.clone();
        Some((hpa["status"].clone(), Value::Array(conditions)))
    };
    let (status, found) = common::eventually(30, "web's conditions", || {
        conditions("web")
            .filter(|(st, c)| st["currentReplicas"] == 2 && c.as_array().unwrap().len() == 2)
    });
    assert_eq!(found[0]["type"], "AbleToScale");
    assert_eq!(found[0]["status"], "True");
    assert_eq!(found[0]["reason"], "SucceededGetScale");
    assert_eq!(found[1]["type"], "ScalingActive");
    assert_eq!(found[1]["status"], "False");
    assert_eq!(found[1]["reason"], "FailedGetResourceMetric");
    assert_eq!(
        found[1]["message"],
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
    );
    // Nothing to compute from: the desired count stays where it was, the target untouched.
    assert_eq!(status["desiredReplicas"], 0);
    let (_, deploy) = server.json(
        "GET",
        "/apis/apps/v1/namespaces/default/deployments/web",
        &Value::Null,
    );
    assert_eq!(deploy["spec"]["replicas"], 2);

    let (_, ghost) = common::eventually(30, "ghost's conditions", || conditions("ghost"));
    assert_eq!(ghost[0]["type"], "AbleToScale");
    assert_eq!(ghost[0]["status"], "False");
    assert_eq!(ghost[0]["reason"], "FailedGetScale");
    let message = ghost[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the HPA controller was unable to get the target's current scale: ")
            && message.contains("\"ghost\" not found"),
        "{message}"
    );

    // Upstream's Warning events, as kubectl describe shows them.
    let described = common::eventually(30, "the HPA's events", || {
        let d = ok(&server, "kubectl", &["describe", "hpa", "web"]);
        d.contains("FailedComputeMetricsReplicas").then_some(d)
    });
    assert!(
        described.contains("Warning  FailedGetResourceMetric")
            && described.contains("horizontal-pod-autoscaler")
            && described
                .contains("failed to get cpu utilization: unable to get metrics for resource cpu"),
        "{described}"
    );
}
