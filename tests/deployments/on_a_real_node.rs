//! A rolling update run by a real kubelet in a network namespace.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::common::eventually;
use crate::{deployment, kubectl};

/// The acceptance check on a real node: a Deployment of 4 busybox pods (exec readiness
/// probe) run by a kubelet in a network namespace, rolled with `kubectl set image` from
/// one image to another with maxUnavailable 1: sampled every 100 ms through the rollout,
/// never fewer than 3 pods Ready (pods being deleted do not count); `kubectl rollout
/// undo` brings the first image back.
#[test]
fn rolling_update_on_a_real_node_never_drops_below_replicas_minus_max_unavailable() {
    use crate::common::cluster::{running_and_ready, Cluster, BUSYBOX, BUSYBOX_V2};
    let cluster = Cluster::start(1, &[]);
    let strategy =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}});
    let mut web = deployment("web", 4, BUSYBOX, strategy);
    web["spec"]["template"]["spec"] = json!({"terminationGracePeriodSeconds": 1,
        "containers": [{"name": "web", "image": BUSYBOX,
            "command": ["/bin/sh", "-c", "exec /bin/busybox sleep 3600"],
            "readinessProbe": {"exec": {"command": ["/bin/busybox", "true"]},
                               "periodSeconds": 1}}]});
    cluster.send("POST", "/apis/apps/v1/namespaces/default/deployments", web);
    // The pods Ready and not being deleted, with their images.
    let ready_images = || -> Vec<String> {
        cluster
            .pods("default", "app=web")
            .iter()
            .filter(|p| running_and_ready(p) && p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| {
                p["spec"]["containers"][0]["image"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    // All `image`, and nothing else left (old pods finished terminating).
    let rolled_to = |image: &str| {
        let all = cluster.pods("default", "app=web");
        let ready = ready_images();
        (all.len() == 4 && ready.len() == 4 && ready.iter().all(|i| i == image)).then_some(())
    };
    eventually(90, "4 pods of the first image Ready", || rolled_to(BUSYBOX));

    let k = kubectl(&cluster.apiserver, "default");
    let done = AtomicBool::new(false);
    let samples = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                samples.push(ready_images());
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        });
        k.ok(&[
            "set",
            "image",
            "deployment/web",
            &format!("web={BUSYBOX_V2}"),
        ]);
        let rolled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eventually(120, "4 pods of the second image Ready", || {
                rolled_to(BUSYBOX_V2)
            })
        }));
        done.store(true, Ordering::Relaxed);
        let samples = sampler.join().unwrap();
        if rolled.is_err() {
            panic!(
                "the rollout did not finish; last sample {:?}\n{}",
                samples.last(),
                cluster.describe(&["deployments,replicasets,pods", "-o", "wide"])
            );
        }
        samples
    });
    // The rollout went through mixed states, and never below 4 - 1 Ready.
    assert!(
        samples
            .iter()
            .any(|s| s.iter().any(|i| i == BUSYBOX) && s.iter().any(|i| i == BUSYBOX_V2)),
        "no sample saw both images: {samples:?}"
    );
    let fewest = samples.iter().map(Vec::len).min().unwrap();
    eprintln!(
        "{} samples through the rollout, fewest Ready: {fewest}",
        samples.len()
    );
    assert!(
        fewest >= 3,
        "only {fewest} pods Ready at one point: {samples:?}"
    );

    k.ok(&["rollout", "undo", "deployment/web"]);
    eventually(120, "back on the first image", || rolled_to(BUSYBOX));
}
