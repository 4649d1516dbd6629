//! ReplicaSets and Deployments: `rkube controller-manager` against a real `rkube
//! apiserver`, driven with the real kubectl. No kubelet runs: like upstream's
//! integration tests, the test plays the kubelet and marks pods Running and Ready
//! through the status subresource (after a delay, so that rollouts take steps).
//! `rolling_update_on_a_real_node_never_drops_below_replicas_minus_max_unavailable` runs
//! a rollout on a real node instead.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{eventually, json, which, Apiserver, ControllerManager};
use serde_json::{json, Value};

const SECS: u64 = 30;

fn get(port: u16, path: &str) -> Value {
    let (code, out) = json(port, "GET", path, &Value::Null);
    assert_eq!(code, 200, "GET {path}: {out}");
    out
}

fn items(port: u16, path: &str) -> Vec<Value> {
    get(port, path)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn send(port: u16, method: &str, path: &str, body: Value) -> Value {
    let (code, out) = json(port, method, path, &body);
    assert!((200..300).contains(&code), "{method} {path}: {code} {out}");
    out
}

fn name(obj: &Value) -> String {
    obj["metadata"]["name"].as_str().unwrap_or("").to_string()
}

fn namespace(port: u16, ns: &str) {
    send(
        port,
        "POST",
        "/api/v1/namespaces",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    );
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn active_pods(port: u16, ns: &str) -> Vec<Value> {
    items(port, &format!("/api/v1/namespaces/{ns}/pods"))
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn controlled_by(obj: &Value, uid: &str) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["uid"] == uid && r["controller"] == true))
}

fn image(pod: &Value) -> &str {
    pod["spec"]["containers"][0]["image"].as_str().unwrap_or("")
}

/// The test's stand-in for kubelets: every pod of the namespace it has seen for
/// `delay` is marked Running and Ready.
struct FakeKubelet {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeKubelet {
    fn start(port: u16, ns: &str, delay: Duration) -> FakeKubelet {
        let stop = Arc::new(AtomicBool::new(false));
        let ns = ns.to_string();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut first_seen: HashMap<String, Instant> = HashMap::new();
            while !stopped.load(Ordering::Relaxed) {
                for pod in active_pods(port, &ns) {
                    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
                    let seen = *first_seen.entry(uid).or_insert_with(Instant::now);
                    if is_ready(&pod) || seen.elapsed() < delay {
                        continue;
                    }
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs();
                    let when = rfc3339(now);
                    let status = json!({"status": {
                        "phase": "Running",
                        "conditions": [
                            {"type": "Ready", "status": "True", "lastTransitionTime": when},
                            {"type": "ContainersReady", "status": "True", "lastTransitionTime": when},
                        ],
                    }});
                    // A pod deleted meanwhile answers 404: fine.
                    json(
                        port,
                        "PATCH",
                        &format!("/api/v1/namespaces/{ns}/pods/{}/status", name(&pod)),
                        &status,
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        FakeKubelet {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn rfc3339(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// One look at the namespace: how many pods are ready, and the images of active pods.
type Sample = (usize, Vec<String>);

/// Samples the namespace's pods every few milliseconds until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<JoinHandle<()>>,
}

impl Sampler {
    fn start(port: u16, ns: &str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (stopped, out, ns) = (stop.clone(), samples.clone(), ns.to_string());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let pods = active_pods(port, &ns);
                let ready = pods.iter().filter(|p| is_ready(p)).count();
                let images = pods.iter().map(|p| image(p).to_string()).collect();
                out.lock().unwrap().push((ready, images));
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Sampler {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.samples.lock().unwrap())
    }
}

struct Kubectl<'a> {
    api: &'a Apiserver,
    bin: String,
    ns: &'a str,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let mut full = args.to_vec();
        full.extend(["-n", self.ns]);
        self.api.kubectl(&self.bin, &full)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args);
        assert!(ok, "kubectl {args:?} failed: {err}{out}");
        out
    }
}

fn kubectl<'a>(api: &'a Apiserver, ns: &'a str) -> Kubectl<'a> {
    let bin = which("kubectl").expect("kubectl is on the PATH (installed by .ci/run)");
    Kubectl {
        api,
        bin: bin.to_string_lossy().into_owned(),
        ns,
    }
}

fn deployment(name: &str, replicas: i32, image: &str, strategy: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]}
            }
        }
    })
}

/// The deployment has rolled out `image` completely, as status and pods say.
fn rolled_out(port: u16, ns: &str, name: &str, replicas: usize, image_now: &str) -> Option<Value> {
    let d = get(
        port,
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}"),
    );
    let s = &d["status"];
    let pods = active_pods(port, ns);
    let done = s["observedGeneration"] == d["metadata"]["generation"]
        && s["replicas"] == replicas
        && s["updatedReplicas"] == replicas
        && s["availableReplicas"] == replicas
        && pods.len() == replicas
        && pods.iter().all(|p| image(p) == image_now && is_ready(p));
    done.then_some(d)
}

fn replica_sets(port: u16, ns: &str) -> Vec<Value> {
    items(port, &format!("/apis/apps/v1/namespaces/{ns}/replicasets"))
}

fn revision(obj: &Value) -> String {
    obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn condition<'a>(d: &'a Value, type_: &str) -> &'a Value {
    d["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

#[test]
fn replica_set_scales_adopts_and_releases() {
    let api = Apiserver::start();
    let _cm = ControllerManager::start(&api);
    let port = api.port;
    namespace(port, "rs");
    let pods_path = "/api/v1/namespaces/rs/pods";
    // An orphan that matches the selector, created before the ReplicaSet.
    send(
        port,
        "POST",
        pods_path,
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "orphan", "labels": {"app": "front", "tier": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}),
    );
    let rs = send(
        port,
        "POST",
        "/apis/apps/v1/namespaces/rs/replicasets",
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "front"},
        "spec": {
            "replicas": 3,
            "selector": {
                "matchLabels": {"app": "front"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "edge"]}]
            },
            "template": {
                "metadata": {"labels": {"app": "front", "tier": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}
            }
        }}),
    );
    let uid = rs["metadata"]["uid"].as_str().unwrap().to_string();
    let owned = |n: usize| {
        let pods: Vec<Value> = active_pods(port, "rs")
            .into_iter()
            .filter(|p| controlled_by(p, &uid))
            .collect();
        let rs = get(port, "/apis/apps/v1/namespaces/rs/replicasets/front");
        (pods.len() == n
            && rs["status"]["replicas"] == n
            && rs["status"]["fullyLabeledReplicas"] == n
            && rs["status"]["observedGeneration"] == rs["metadata"]["generation"])
            .then_some((pods, rs))
    };
    let (pods, _) = eventually(SECS, "3 pods, the orphan adopted", || owned(3));
    assert!(pods.iter().any(|p| name(p) == "orphan"), "{pods:?}");
    for pod in &pods {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicaSet");
        assert_eq!(owner["apiVersion"], "apps/v1");
        assert_eq!(owner["blockOwnerDeletion"], true);
    }

    // Scale up through the scale subresource with kubectl.
    let k = kubectl(&api, "rs");
    k.ok(&["scale", "rs", "front", "--replicas=5"]);
    eventually(SECS, "5 pods", || owned(5));

    // A pod relabelled out of the selector is released and replaced.
    send(
        port,
        "PATCH",
        &format!("{pods_path}/orphan"),
        json!({"metadata": {"labels": {"tier": "back"}}}),
    );
    eventually(SECS, "the relabelled pod released and replaced", || {
        let orphan = get(port, &format!("{pods_path}/orphan"));
        let released = orphan["metadata"]["ownerReferences"]
            .as_array()
            .is_none_or(|r| r.is_empty());
        owned(5).filter(|(pods, _)| released && pods.iter().all(|p| name(p) != "orphan"))
    });

    // Two pods become ready; scaling to 2 deletes the not-ready ones first.
    let (pods, _) = owned(5).unwrap();
    let keep: HashSet<String> = pods.iter().take(2).map(name).collect();
    for pod in &keep {
        send(
            port,
            "PATCH",
            &format!("{pods_path}/{pod}/status"),
            json!({"status": {"phase": "Running", "conditions": [
                {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(1_700_000_000)}
            ]}}),
        );
    }
    eventually(SECS, "2 ready in status", || {
        owned(5).filter(|(_, rs)| {
            rs["status"]["readyReplicas"] == 2 && rs["status"]["availableReplicas"] == 2
        })
    });
    k.ok(&["scale", "rs", "front", "--replicas=2"]);
    let (pods, _) = eventually(SECS, "2 pods", || owned(2));
    let left: HashSet<String> = pods.iter().map(name).collect();
    assert_eq!(left, keep, "the ready pods are the ones kept");

    k.ok(&["scale", "rs", "front", "--replicas=0"]);
    eventually(SECS, "no pods", || owned(0));
    assert_eq!(
        active_pods(port, "rs").iter().map(name).collect::<Vec<_>>(),
        vec!["orphan".to_string()]
    );
}

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

/// The acceptance check on a real node: a Deployment of 4 busybox pods (exec readiness
/// probe) run by a kubelet in a network namespace, rolled with `kubectl set image` from
/// one image to another with maxUnavailable 1: sampled every 100 ms through the rollout,
/// never fewer than 3 pods Ready (pods being deleted do not count); `kubectl rollout
/// undo` brings the first image back.
#[test]
fn rolling_update_on_a_real_node_never_drops_below_replicas_minus_max_unavailable() {
    use common::cluster::{running_and_ready, Cluster, BUSYBOX, BUSYBOX_V2};
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
