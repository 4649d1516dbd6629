//! Deployment rollouts with the test playing the kubelet: rolling updates with history,
//! undo, pause, restart and scale; Recreate; a rollout past its progress deadline.

use std::time::Duration;

use serde_json::json;

use crate::common::{eventually, Apiserver, ControllerManager};
use crate::fake_kubelet::FakeKubelet;
use crate::sampler::Sampler;
use crate::{
    active_pods, condition, controlled_by, deployment, get, image, kubectl, name, namespace,
    replica_sets, revision, rolled_out, send, SECS,
};

#[test]
fn rolling_update_keeps_availability_and_rolls_back() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    let ns = "roll";
    namespace(port, ns);
    let _kubelet = FakeKubelet::start(port, ns, Duration::from_millis(300));
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}});
    send(
        port,
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        deployment("web", 4, "nginx:1.25", strategy),
    );
    let k = kubectl(&api, ns);
    let out = k.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let d = eventually(SECS, "web rolled out", || {
        rolled_out(port, ns, "web", 4, "nginx:1.25")
    });
    assert_eq!(revision(&d), "1");
    let sets = replica_sets(port, ns);
    assert_eq!(sets.len(), 1, "{sets:?}");
    let hash = sets[0]["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(name(&sets[0]), format!("web-{hash}"));
    assert_eq!(
        sets[0]["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        hash.as_str()
    );
    assert!(controlled_by(
        &sets[0],
        d["metadata"]["uid"].as_str().unwrap()
    ));
    assert!(active_pods(port, ns)
        .iter()
        .all(|p| p["metadata"]["labels"]["pod-template-hash"] == hash.as_str()));
    assert_eq!(condition(&d, "Available")["status"], "True");
    assert_eq!(
        condition(&d, "Progressing")["reason"],
        "NewReplicaSetAvailable"
    );

    // Roll to another image, sampling ready pods throughout: never below 4 − 1.
    let sampler = Sampler::start(port, ns);
    k.ok(&["set", "image", "deployment/web", "c=nginx:1.27"]);
    let out = k.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let d = eventually(SECS, "web on nginx:1.27", || {
        rolled_out(port, ns, "web", 4, "nginx:1.27")
    });
    let samples = sampler.finish();
    assert!(samples.len() > 20, "too few samples: {}", samples.len());
    let fewest = samples.iter().map(|(ready, _)| *ready).min().unwrap();
    assert!(fewest >= 3, "only {fewest} ready pods during the rollout");
    let most = samples
        .iter()
        .map(|(_, images)| images.len())
        .max()
        .unwrap();
    assert!(
        most <= 5,
        "{most} pods at once: more than replicas + maxSurge"
    );
    assert!(
        samples
            .iter()
            .any(|(_, images)| images.iter().any(|i| i == "nginx:1.25")
                && images.iter().any(|i| i == "nginx:1.27")),
        "old and new never ran side by side"
    );
    assert_eq!(revision(&d), "2");
    assert_eq!(replica_sets(port, ns).len(), 2);

    // History, with the template of each revision.
    let history = k.ok(&["rollout", "history", "deployment/web"]);
    assert!(
        history.lines().any(|l| l.trim_start().starts_with('1')),
        "{history}"
    );
    assert!(
        history.lines().any(|l| l.trim_start().starts_with('2')),
        "{history}"
    );
    let first = k.ok(&["rollout", "history", "deployment/web", "--revision=1"]);
    assert!(
        first.contains("nginx:1.25") && !first.contains("nginx:1.27"),
        "{first}"
    );

    // Undo goes back to the first template; that set becomes revision 3.
    k.ok(&["rollout", "undo", "deployment/web"]);
    k.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let d = eventually(SECS, "web back on nginx:1.25", || {
        rolled_out(port, ns, "web", 4, "nginx:1.25")
    });
    assert_eq!(revision(&d), "3");
    let sets = replica_sets(port, ns);
    assert_eq!(sets.len(), 2, "the old set is reused, not duplicated");
    let back = sets
        .iter()
        .find(|rs| name(rs) == format!("web-{hash}"))
        .unwrap();
    assert_eq!(revision(back), "3");
    assert_eq!(
        back["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );

    // Paused: a template change makes no new set; resumed, it rolls out.
    k.ok(&["rollout", "pause", "deployment/web"]);
    eventually(SECS, "Progressing says paused", || {
        let d = get(
            port,
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/web"),
        );
        (condition(&d, "Progressing")["reason"] == "DeploymentPaused").then_some(())
    });
    k.ok(&["set", "image", "deployment/web", "c=nginx:1.29"]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        replica_sets(port, ns).len(),
        2,
        "a paused deployment made a new set"
    );
    assert!(active_pods(port, ns)
        .iter()
        .all(|p| image(p) == "nginx:1.25"));
    k.ok(&["rollout", "resume", "deployment/web"]);
    k.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    eventually(SECS, "web on nginx:1.29", || {
        rolled_out(port, ns, "web", 4, "nginx:1.29")
    });

    // Restart: a new set with the restartedAt annotation in its template.
    k.ok(&["rollout", "restart", "deployment/web"]);
    k.ok(&["rollout", "status", "deployment/web", "--timeout=60s"]);
    let d = eventually(SECS, "web restarted", || {
        rolled_out(port, ns, "web", 4, "nginx:1.29")
    });
    assert_eq!(revision(&d), "5");
    let restarted = active_pods(port, ns);
    assert!(
        restarted
            .iter()
            .all(|p| !p["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"].is_null()),
        "{restarted:?}"
    );

    // Scale through the scale subresource.
    k.ok(&["scale", "deployment/web", "--replicas=6"]);
    eventually(SECS, "6 replicas", || {
        rolled_out(port, ns, "web", 6, "nginx:1.29")
    });
}

#[test]
fn recreate_removes_old_pods_before_new_ones_start() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    let ns = "recreate";
    namespace(port, ns);
    let _kubelet = FakeKubelet::start(port, ns, Duration::from_millis(200));
    send(
        port,
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        deployment("db", 3, "postgres:15", json!({"type": "Recreate"})),
    );
    eventually(SECS, "db rolled out", || {
        rolled_out(port, ns, "db", 3, "postgres:15")
    });
    let sampler = Sampler::start(port, ns);
    let k = kubectl(&api, ns);
    k.ok(&["set", "image", "deployment/db", "c=postgres:16"]);
    k.ok(&["rollout", "status", "deployment/db", "--timeout=60s"]);
    eventually(SECS, "db on postgres:16", || {
        rolled_out(port, ns, "db", 3, "postgres:16")
    });
    let samples = sampler.finish();
    let mixed = samples.iter().find(|(_, images)| {
        images.iter().any(|i| i == "postgres:15") && images.iter().any(|i| i == "postgres:16")
    });
    assert!(mixed.is_none(), "old and new pods together: {mixed:?}");
    assert!(
        samples.iter().any(|(_, images)| images.is_empty()),
        "never saw the gap between old and new"
    );
}

#[test]
fn a_stuck_rollout_exceeds_its_progress_deadline() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    let ns = "stuck";
    namespace(port, ns);
    // No fake kubelet: pods never become ready.
    let mut d = deployment("stuck", 2, "nginx", json!({"type": "RollingUpdate"}));
    d["spec"]["progressDeadlineSeconds"] = json!(2);
    send(
        port,
        "POST",
        &format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        d,
    );
    let d = eventually(SECS, "ProgressDeadlineExceeded", || {
        let d = get(
            port,
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/stuck"),
        );
        (condition(&d, "Progressing")["reason"] == "ProgressDeadlineExceeded").then_some(d)
    });
    assert_eq!(condition(&d, "Progressing")["status"], "False");
    assert_eq!(condition(&d, "Available")["status"], "False");
    assert_eq!(d["status"]["unavailableReplicas"], 2);
    let (ok, out, err) =
        kubectl(&api, ns).run(&["rollout", "status", "deployment/stuck", "--timeout=20s"]);
    assert!(!ok, "{out}");
    assert!(err.contains("exceeded its progress deadline"), "{err}");
}
