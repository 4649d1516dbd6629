//! securityContext on a real kubelet: runAsNonRoot refusals, a read-only root
//! filesystem with writable volumes, and no_new_privs, each checked from inside the
//! container (its own /proc/1/status, its own failed writes).

mod common;

use common::eventually;
use common::kubelet::{NodeCluster, BUSYBOX};
use serde_json::{json, Value};

fn run(cluster: &NodeCluster, name: &str, script: &str, security: Value) -> Value {
    cluster.create_pod(
        name,
        json!({"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sh", "-c", format!("{script}; echo --; sleep 3600")],
            "securityContext": security,
        }]}),
    );
    cluster.wait_phase(name, "Running", 60)
}

fn waiting(cluster: &NodeCluster, name: &str) -> Value {
    eventually(30, &format!("{name} waiting"), || {
        let pod = cluster.pod(name)?;
        let w = pod["status"]["containerStatuses"][0]["state"]["waiting"].clone();
        (w["reason"] == "CreateContainerConfigError").then_some((pod, w))
    })
    .1
}

#[test]
fn run_as_non_root_refuses_root_and_admits_a_numeric_user() {
    let cluster = NodeCluster::start();
    // busybox has no USER: it would run as root.
    let pod = cluster.create_pod(
        "rooted",
        json!({"securityContext": {"runAsNonRoot": true}, "terminationGracePeriodSeconds": 0,
               "containers": [{"name": "main", "image": BUSYBOX, "command": ["sleep", "3600"]}]}),
    );
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    assert_eq!(
        waiting(&cluster, "rooted")["message"],
        format!(
            "container has runAsNonRoot and image will run as root (pod: \"rooted_default({uid})\", container: main)"
        )
    );
    cluster.create_pod(
        "explicit-root",
        json!({"terminationGracePeriodSeconds": 0, "containers": [{"name": "main", "image": BUSYBOX,
               "command": ["sleep", "3600"], "securityContext": {"runAsNonRoot": true, "runAsUser": 0}}]}),
    );
    assert!(waiting(&cluster, "explicit-root")["message"]
        .as_str()
        .unwrap()
        .starts_with("container's runAsUser breaks non-root policy"));
    assert_eq!(cluster.pod("rooted").unwrap()["status"]["phase"], "Pending");
    // The container's runAsUser satisfies the pod's runAsNonRoot.
    cluster.create_pod(
        "nonroot",
        json!({"securityContext": {"runAsNonRoot": true}, "terminationGracePeriodSeconds": 0,
               "containers": [{"name": "main", "image": BUSYBOX, "securityContext": {"runAsUser": 1234},
                               "command": ["sh", "-c", "id -u; echo --; sleep 3600"]}]}),
    );
    let pod = cluster.wait_phase("nonroot", "Running", 60);
    assert_eq!(cluster.printed(&pod), ["1234"], "{pod}");
}

#[test]
fn a_read_only_root_filesystem_keeps_volumes_writable() {
    let cluster = NodeCluster::start();
    let script = "touch /rootfile && echo root=written || echo root=refused; \
                  touch /data/file && echo volume=written || echo volume=refused; \
                  touch /tmp/file && echo tmp=written || echo tmp=refused";
    cluster.create_pod(
        "readonly",
        json!({"terminationGracePeriodSeconds": 0, "volumes": [{"name": "data", "emptyDir": {}}],
               "containers": [{"name": "main", "image": BUSYBOX,
                   "command": ["sh", "-c", format!("{script}; echo --; sleep 3600")],
                   "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                   "securityContext": {"readOnlyRootFilesystem": true}}]}),
    );
    let pod = cluster.wait_phase("readonly", "Running", 60);
    assert_eq!(
        cluster.printed(&pod),
        ["root=refused", "volume=written", "tmp=refused"]
    );
    // Without the flag the root filesystem is writable (no /data volume here).
    let pod = run(&cluster, "writable", script, json!({}));
    assert_eq!(
        cluster.printed(&pod),
        ["root=written", "volume=refused", "tmp=written"]
    );
}

#[test]
fn allow_privilege_escalation_false_sets_no_new_privs() {
    let cluster = NodeCluster::start();
    let script = "grep NoNewPrivs /proc/1/status";
    let pod = run(
        &cluster,
        "confined",
        script,
        json!({"allowPrivilegeEscalation": false}),
    );
    assert_eq!(cluster.printed(&pod), ["NoNewPrivs:\t1"]);
    let pod = run(&cluster, "default", script, json!({}));
    assert_eq!(cluster.printed(&pod), ["NoNewPrivs:\t0"]);
}

#[test]
fn pod_max_pids_caps_the_pod_cgroup() {
    let cluster = NodeCluster::start_with(&["--pod-max-pids", "12"]);
    // Twenty background sleeps: some forks must fail against a limit of 12.
    let pod = run(
        &cluster,
        "forky",
        // (in a subshell: a shell whose fork fails gives up)
        "(for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 3600 & done) 2>/dev/null; echo started",
        json!({}),
    );
    assert_eq!(cluster.printed(&pod), ["started"]);
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let dir = cluster.pod_cgroup("pids", "BestEffort", uid);
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
    assert_eq!(read("pids.max").trim(), "12");
    let current: u32 = read("pids.current").trim().parse().unwrap();
    assert!(current <= 12, "{current} processes");
    // Refused forks are counted where they happened (cgroup v1): the container's cgroup.
    let refused: u32 = std::iter::once(dir.clone())
        .chain(
            std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir()),
        )
        .map(|d| std::fs::read_to_string(d.join("pids.events")).unwrap())
        .map(|events| {
            events
                .trim()
                .strip_prefix("max ")
                .unwrap()
                .parse::<u32>()
                .unwrap()
        })
        .sum();
    assert!(refused > 0, "no fork was refused");
}

#[test]
fn without_pod_max_pids_the_pod_cgroup_is_unlimited() {
    let cluster = NodeCluster::start();
    let pod = run(&cluster, "free", "echo up", json!({}));
    assert_eq!(cluster.printed(&pod), ["up"]);
    let uid = pod["metadata"]["uid"].as_str().unwrap();
    let dir = cluster.pod_cgroup("pids", "BestEffort", uid);
    assert_eq!(
        std::fs::read_to_string(dir.join("pids.max"))
            .unwrap()
            .trim(),
        "max"
    );
}

/// `CapEff` and `CapBnd` of the container's PID 1, printed by the container itself.
const PRINT_CAPS: &str = "grep -E '^Cap(Eff|Bnd)' /proc/1/status | busybox tr -d '\\t'";

fn host_bounding_set() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
fn capabilities_are_the_default_set_tweaked_by_add_and_drop_or_all_when_privileged() {
    let cluster = NodeCluster::start();
    let caps = |name: &str, script: &str, security: Value| {
        let pod = run(&cluster, name, script, security);
        cluster.printed(&pod)
    };
    // containerd's default set for a root container.
    assert_eq!(
        caps("default", PRINT_CAPS, json!({})),
        ["CapEff:00000000a80425fb", "CapBnd:00000000a80425fb"]
    );
    // Drop everything, add NET_ADMIN back (bit 12): ip can then add an address, chown fails.
    assert_eq!(
        caps(
            "netadmin",
            &format!(
                "{PRINT_CAPS}; ip addr add 10.9.9.9/32 dev lo && echo address=added || echo address=refused; \
                 touch /f; chown 1 /f && echo chown=done || echo chown=refused"
            ),
            json!({"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}}),
        ),
        [
            "CapEff:0000000000001000",
            "CapBnd:0000000000001000",
            "address=added",
            "chown=refused"
        ]
    );
    // Without NET_ADMIN (the default set) the same address is refused.
    assert_eq!(
        caps(
            "plain",
            "ip addr add 10.9.9.9/32 dev lo 2>/dev/null && echo address=added || echo address=refused",
            json!({}),
        ),
        ["address=refused"]
    );
    // Privileged: every capability the node has.
    let all = host_bounding_set();
    assert_eq!(
        caps("privileged", PRINT_CAPS, json!({"privileged": true})),
        [format!("CapEff:{all}"), format!("CapBnd:{all}")]
    );
    // A non-root user keeps the bounding set but has no effective capabilities.
    assert_eq!(
        caps("nonroot", PRINT_CAPS, json!({"runAsUser": 1000})),
        ["CapEff:0000000000000000", "CapBnd:00000000a80425fb"]
    );
}

#[test]
fn post_start_hooks_run_in_the_container_and_a_failing_one_kills_it() {
    let cluster = NodeCluster::start();
    // The hook's file is there before the container counts as started.
    cluster.create_pod(
        "hooked",
        json!({"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": BUSYBOX,
            "command": ["sh", "-c", "while [ ! -f /hook ]; do sleep 0.1; done; cat /hook; echo --; sleep 3600"],
            "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "echo hook ran > /hook"]}}}}]}),
    );
    let pod = cluster.wait_phase("hooked", "Running", 60);
    assert_eq!(cluster.printed(&pod), ["hook ran"]);
    assert!(cluster
        .events_about("hooked", "FailedPostStartHook")
        .is_empty());
    assert_eq!(pod["status"]["containerStatuses"][0]["restartCount"], 0);

    let created = cluster.create_pod(
        "failing",
        json!({"terminationGracePeriodSeconds": 0, "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sleep", "3600"],
            "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "exit 3"]}}}}]}),
    );
    let uid = created["metadata"]["uid"].as_str().unwrap();
    let event = eventually(30, "the FailedPostStartHook event", || {
        cluster
            .events_about("failing", "FailedPostStartHook")
            .first()
            .cloned()
    });
    assert_eq!(event["type"], "Warning");
    assert_eq!(
        event["involvedObject"]["fieldPath"],
        "spec.containers{main}"
    );
    let message = event["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Exec lifecycle hook ([sh -c exit 3]) for Container \"main\" in Pod \"failing_default({uid})\" failed - error: "
        )),
        "{message}"
    );
    // Killed, then restarted under restartPolicy Always.
    let status = eventually(30, "the killed container restarted", || {
        let pod = cluster.pod("failing")?;
        let status = pod["status"]["containerStatuses"][0].clone();
        (status["restartCount"].as_u64()? >= 1).then_some(status)
    });
    assert_eq!(
        status["lastState"]["terminated"]["exitCode"], 137,
        "{status}"
    );

    cluster.create_pod(
        "http-failing",
        json!({"terminationGracePeriodSeconds": 0, "restartPolicy": "Never", "containers": [{
            "name": "main", "image": BUSYBOX, "command": ["sleep", "3600"],
            "lifecycle": {"postStart": {"httpGet": {"path": "/hook", "port": 8080}}}}]}),
    );
    let event = eventually(30, "the httpGet hook's event", || {
        cluster
            .events_about("http-failing", "FailedPostStartHook")
            .first()
            .cloned()
    });
    assert!(event["message"].as_str().unwrap().starts_with(
        "HTTP lifecycle hook (/hook) for Container \"main\" in Pod \"http-failing_default("
    ));
    // restartPolicy Never: the killed container ends the pod.
    let pod = cluster.wait_phase("http-failing", "Failed", 30);
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"],
        137
    );
}

#[test]
fn privileged_pods_are_refused_without_allow_privileged() {
    let apiserver = common::Apiserver::start_refusing_privileged();
    let pod = |name: &str, privileged: bool| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": [
            {"name": "plain", "image": BUSYBOX},
            {"name": "root", "image": BUSYBOX, "securityContext": {"privileged": privileged}}]}})
    };
    let (code, status) = apiserver.json(
        "POST",
        "/api/v1/namespaces/default/pods",
        &pod("escalated", true),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(
        status["message"],
        "Pod \"escalated\" is invalid: spec.containers[1].securityContext.privileged: Forbidden: disallowed by cluster policy"
    );
    let (code, status) = apiserver.json(
        "POST",
        "/api/v1/namespaces/default/pods",
        &pod("contained", false),
    );
    assert_eq!(code, 201, "{status}");
}

#[test]
fn privileged_pod_templates_are_refused_without_allow_privileged() {
    let apiserver = common::Apiserver::start_refusing_privileged();
    let template = |privileged: bool| {
        json!({"metadata": {"labels": {"app": "t"}}, "spec": {"containers": [
            {"name": "plain", "image": BUSYBOX},
            {"name": "root", "image": BUSYBOX, "securityContext": {"privileged": privileged}}]}})
    };
    let selector = json!({"matchLabels": {"app": "t"}});
    let workload = |spec: Value| json!({"spec": spec});
    // Jobs' pods may not restart Always (the default).
    let never = |mut t: Value| {
        t["spec"]["restartPolicy"] = json!("Never");
        t
    };
    // (collection path, kind, object without metadata, where its pod spec is)
    let kinds = [
        (
            "/api/v1/namespaces/default/podtemplates",
            "PodTemplate",
            Box::new(|t: Value| json!({"template": t})) as Box<dyn Fn(Value) -> Value>,
            "template.spec",
        ),
        (
            "/api/v1/namespaces/default/replicationcontrollers",
            "ReplicationController",
            Box::new(|t: Value| workload(json!({"selector": {"app": "t"}, "template": t}))),
            "spec.template.spec",
        ),
        (
            "/apis/apps/v1/namespaces/default/replicasets",
            "ReplicaSet",
            Box::new(|t: Value| workload(json!({"selector": selector, "template": t}))),
            "spec.template.spec",
        ),
        (
            "/apis/apps/v1/namespaces/default/deployments",
            "Deployment",
            Box::new(|t: Value| workload(json!({"selector": selector, "template": t}))),
            "spec.template.spec",
        ),
        (
            "/apis/apps/v1/namespaces/default/daemonsets",
            "DaemonSet",
            Box::new(|t: Value| workload(json!({"selector": selector, "template": t}))),
            "spec.template.spec",
        ),
        (
            "/apis/apps/v1/namespaces/default/statefulsets",
            "StatefulSet",
            Box::new(|t: Value| {
                workload(json!({"selector": selector, "serviceName": "t", "template": t}))
            }),
            "spec.template.spec",
        ),
        (
            "/apis/batch/v1/namespaces/default/jobs",
            "Job",
            Box::new(|t: Value| workload(json!({"template": never(t)}))),
            "spec.template.spec",
        ),
        (
            "/apis/batch/v1/namespaces/default/cronjobs",
            "CronJob",
            Box::new(|t: Value| {
                workload(
                    json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": never(t)}}}),
                )
            }),
            "spec.jobTemplate.spec.template.spec",
        ),
    ];
    for (collection, kind, object, spec_path) in kinds {
        let api_version = match collection.split('/').nth(2) {
            Some("v1") => "v1".to_string(),
            _ => collection
                .split('/')
                .skip(2)
                .take(2)
                .collect::<Vec<_>>()
                .join("/"),
        };
        let named = |name: &str, privileged: bool| {
            let mut o = object(template(privileged));
            o["apiVersion"] = json!(api_version);
            o["kind"] = json!(kind);
            o["metadata"] = json!({"name": name});
            o
        };
        let (code, status) = apiserver.json("POST", collection, &named("escalated", true));
        assert_eq!(code, 422, "{kind}: {status}");
        // `Deployment.apps "escalated"`, `PodTemplate "escalated"`, as upstream qualifies kinds.
        let qualified = match api_version.split_once('/') {
            Some((group, _)) => format!("{kind}.{group}"),
            None => kind.to_string(),
        };
        assert_eq!(
            status["message"],
            format!(
                "{qualified} \"escalated\" is invalid: {spec_path}.containers[1].securityContext.privileged: Forbidden: disallowed by cluster policy"
            ),
        );
        let (code, created) = apiserver.json("POST", collection, &named("contained", false));
        assert_eq!(code, 201, "{kind}: {created}");
        // An update that makes the template privileged is refused the same way (a Job's
        // template is immutable: refused for that first).
        if kind == "Job" {
            continue;
        }
        let mut escalated = created.clone();
        let spec = spec_path
            .split('.')
            .fold(&mut escalated, |v, key| &mut v[key]);
        spec["containers"][1]["securityContext"]["privileged"] = json!(true);
        let (code, status) = apiserver.json("PUT", &format!("{collection}/contained"), &escalated);
        assert_eq!(code, 422, "{kind} update: {status}");
        assert_eq!(
            status["message"],
            format!(
                "{qualified} \"contained\" is invalid: {spec_path}.containers[1].securityContext.privileged: Forbidden: disallowed by cluster policy"
            ),
            "{kind} update: {status}"
        );
    }
}
