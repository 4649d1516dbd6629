//! Cost of managedFields tracking (`track_update`) and server-side apply on
//! the objects the apiserver benchmark writes.
//!
//!     cargo bench -p rkube-patch --bench track_update [-- FILTER] [--secs N]
//!
//! Prints the median time per call over batches of about 50 ms. `--secs N`
//! runs each selected case for N seconds in one loop (for `perf record`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use rkube_patch::{apply, track_update, track_update_in_place};
use serde_json::{json, Value};

const POD: &str = "io.k8s.api.core.v1.Pod";
const DEPLOYMENT: &str = "io.k8s.api.apps.v1.Deployment";
const SERVICE: &str = "io.k8s.api.core.v1.Service";
const T1: &str = "2026-11-21T22:32:41Z";
const T2: &str = "2026-11-21T22:40:00Z";

/// The benchmark's pod as `track_update` sees it on create (defaults, uid,
/// status set; about 2.1 KB once stored with its managedFields).
fn pod() -> Value {
    serde_json::from_str(include_str!("pod.json")).unwrap()
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "1b2c", "creationTimestamp": T1,
            "labels": {"app": "web"}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {
            "replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "web", "image": "nginx:1.25", "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443, "protocol": "TCP"}],
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                        "resources": {}}],
                    "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                    "securityContext": {}, "terminationGracePeriodSeconds": 30
                }
            }
        },
        "status": {}
    })
}

fn service() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "uid": "3d4e", "creationTimestamp": T1, "labels": {"app": "web"}},
        "spec": {
            "selector": {"app": "web"}, "type": "ClusterIP", "sessionAffinity": "None",
            "clusterIP": "10.0.0.17", "clusterIPs": ["10.0.0.17"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                      {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]
        },
        "status": {"loadBalancer": {}}
    })
}

fn stored(mut object: Value) -> Value {
    object["metadata"]["resourceVersion"] = json!("6");
    object
}

type Case = (&'static str, Box<dyn Fn() -> Value>);

fn cases() -> Vec<Case> {
    let pod = pod();
    let created = stored(track_update(
        None,
        &pod,
        POD,
        "kube-controller-manager",
        None,
        T1,
    ));
    let mut image = created.clone();
    image["spec"]["containers"][0]["image"] = json!("registry.k8s.io/nginx-slim:0.28");
    let mut label = created.clone();
    label["metadata"]["labels"]["app"] = json!("web2");
    let same = created.clone();
    let deployment = deployment();
    let service = service();
    let dep_created = stored(track_update(
        None,
        &deployment,
        DEPLOYMENT,
        "kubectl-create",
        None,
        T1,
    ));
    let mut dep_scaled = dep_created.clone();
    dep_scaled["spec"]["replicas"] = json!(5);
    let mut config = deployment.clone();
    for f in ["uid", "creationTimestamp", "namespace", "annotations"] {
        config["metadata"].as_object_mut().unwrap().remove(f);
    }
    config.as_object_mut().unwrap().remove("status");
    let applied = stored(apply(None, &config, DEPLOYMENT, "kubectl", false, T1).unwrap());
    let mut reapply = config.clone();
    reapply["spec"]["replicas"] = json!(5);

    let mut out: Vec<Case> = Vec::new();
    {
        let pod = pod.clone();
        out.push((
            "track_update/create/pod",
            Box::new(move || track_update(None, &pod, POD, "kube-controller-manager", None, T1)),
        ));
    }
    {
        // What the apiserver's create pays around it: a copy of the object
        // to update in place (as the request's body is), then the update.
        let pod = pod.clone();
        out.push((
            "track_update_in_place/create/pod (with a clone)",
            Box::new(move || {
                let mut object = pod.clone();
                track_update_in_place(None, &mut object, POD, "kube-controller-manager", None, T1);
                object
            }),
        ));
    }
    {
        let pod = pod.clone();
        out.push(("clone/pod", Box::new(move || pod.clone())));
    }
    {
        let created = created.clone();
        out.push((
            "track_update/update-image/pod",
            Box::new(move || track_update(Some(&created), &image, POD, "kubectl-edit", None, T2)),
        ));
    }
    {
        let created = created.clone();
        out.push((
            "track_update/update-label-same-manager/pod",
            Box::new(move || {
                track_update(
                    Some(&created),
                    &label,
                    POD,
                    "kube-controller-manager",
                    None,
                    T2,
                )
            }),
        ));
    }
    {
        let created = created.clone();
        out.push((
            "track_update/no-op/pod",
            Box::new(move || track_update(Some(&created), &same, POD, "kubectl-edit", None, T2)),
        ));
    }
    {
        let created = created.clone();
        let mut status = created.clone();
        status["status"]["phase"] = json!("Running");
        out.push((
            "track_update/status/pod",
            Box::new(move || {
                track_update(Some(&created), &status, POD, "kubelet", Some("status"), T2)
            }),
        ));
    }
    out.push((
        "track_update/create/deployment",
        Box::new(move || track_update(None, &deployment, DEPLOYMENT, "kubectl-create", None, T1)),
    ));
    out.push((
        "track_update/scale/deployment",
        Box::new(move || {
            track_update(
                Some(&dep_created),
                &dep_scaled,
                DEPLOYMENT,
                "kubectl-scale",
                None,
                T2,
            )
        }),
    ));
    out.push((
        "track_update/create/service",
        Box::new(move || track_update(None, &service, SERVICE, "kubectl-create", None, T1)),
    ));
    {
        let config = config.clone();
        out.push((
            "apply/create/deployment",
            Box::new(move || apply(None, &config, DEPLOYMENT, "kubectl", false, T1).unwrap()),
        ));
    }
    out.push((
        "apply/reapply-scaled/deployment",
        Box::new(move || {
            apply(Some(&applied), &reapply, DEPLOYMENT, "kubectl", false, T2).unwrap()
        }),
    ));
    out
}

fn main() {
    let mut filter = None;
    let mut secs = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => secs = args.next().and_then(|s| s.parse::<f64>().ok()),
            "--bench" => {}
            other if other.starts_with('-') => {}
            other => filter = Some(other.to_string()),
        }
    }
    for (name, f) in cases() {
        if filter.as_ref().is_some_and(|s| !name.contains(s.as_str())) {
            continue;
        }
        if let Some(secs) = secs {
            let end = Instant::now() + Duration::from_secs_f64(secs);
            let mut n = 0u64;
            while Instant::now() < end {
                for _ in 0..100 {
                    black_box(f());
                }
                n += 100;
            }
            println!("{name:48} {n} calls");
            continue;
        }
        // Calibrate a batch of about 50 ms, then take the median of 15 batches.
        let start = Instant::now();
        let mut per_batch = 0u64;
        while start.elapsed() < Duration::from_millis(50) {
            black_box(f());
            per_batch += 1;
        }
        let mut times: Vec<f64> = (0..15)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..per_batch {
                    black_box(f());
                }
                t.elapsed().as_nanos() as f64 / per_batch as f64
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "{name:48} {:>9.0} ns  (min {:.0}, max {:.0})",
            times[7], times[0], times[14]
        );
    }
}
