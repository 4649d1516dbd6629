//! Real kubectl against the groups every 1.33 apiserver serves besides the workload
//! ones: scheduling.k8s.io, node.k8s.io, storage.k8s.io, flowcontrol.apiserver.k8s.io,
//! admissionregistration.k8s.io, certificates.k8s.io and authorization.k8s.io.

mod common;

use common::Apiserver;

fn ok(server: &Apiserver, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl("kubectl", args);
    assert!(ok, "kubectl {args:?} failed: {err}{out}");
    out
}

fn fails(server: &Apiserver, args: &[&str]) -> String {
    let (ok, out, err) = server.kubectl("kubectl", args);
    assert!(!ok, "kubectl {args:?} should fail: {out}");
    err
}

fn apply(server: &Apiserver, dir: &std::path::Path, name: &str, yaml: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    ok(server, &["apply", "-f", path.to_str().unwrap()])
}

#[test]
fn kubectl_sees_and_uses_the_cluster_configuration_groups() {
    let server = Apiserver::start();
    let dir = tempfile::tempdir().unwrap();

    let resources = ok(&server, &["api-resources"]);
    for (name, group) in [
        ("priorityclasses", "scheduling.k8s.io/v1"),
        ("runtimeclasses", "node.k8s.io/v1"),
        ("storageclasses", "storage.k8s.io/v1"),
        ("csidrivers", "storage.k8s.io/v1"),
        ("csinodes", "storage.k8s.io/v1"),
        ("csistoragecapacities", "storage.k8s.io/v1"),
        ("volumeattachments", "storage.k8s.io/v1"),
        ("flowschemas", "flowcontrol.apiserver.k8s.io/v1"),
        (
            "prioritylevelconfigurations",
            "flowcontrol.apiserver.k8s.io/v1",
        ),
        (
            "validatingadmissionpolicies",
            "admissionregistration.k8s.io/v1",
        ),
        (
            "validatingadmissionpolicybindings",
            "admissionregistration.k8s.io/v1",
        ),
        ("certificatesigningrequests", "certificates.k8s.io/v1"),
        ("selfsubjectaccessreviews", "authorization.k8s.io/v1"),
    ] {
        assert!(
            resources
                .lines()
                .any(|l| l.starts_with(name) && l.contains(group)),
            "api-resources lacks {name} in {group}:\n{resources}"
        );
    }

    // The built-in priority classes exist from the start, printed with upstream's columns.
    let classes = ok(&server, &["get", "priorityclasses"]);
    let header: Vec<&str> = classes.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    );
    assert!(
        classes.contains("system-cluster-critical   2000000000"),
        "{classes}"
    );
    assert!(
        classes.contains("system-node-critical      2000001000"),
        "{classes}"
    );
    let refused = fails(
        &server,
        &["create", "priorityclass", "too-high", "--value=2000000000"],
    );
    assert!(
        refused.contains(
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
        ),
        "{refused}"
    );
    let refused = fails(
        &server,
        &["create", "priorityclass", "system-mine", "--value=5"],
    );
    assert!(
        refused.contains(
            "priority class names with 'system-' prefix are reserved for system use only"
        ),
        "{refused}"
    );
    ok(
        &server,
        &[
            "create",
            "priorityclass",
            "batch",
            "--value=100",
            "--description=low",
        ],
    );
    assert!(ok(
        &server,
        &["get", "pc", "batch", "-o", "jsonpath={.preemptionPolicy}"]
    )
    .contains("PreemptLowerPriority"));

    // A default StorageClass is marked as such and gets its defaults.
    apply(
        &server,
        dir.path(),
        "sc.yaml",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: local\n  annotations:\n    storageclass.kubernetes.io/is-default-class: \"true\"\nprovisioner: rancher.io/local-path\n",
    );
    let classes = ok(&server, &["get", "storageclasses"]);
    assert!(
        classes.contains(
            "local (default)   rancher.io/local-path   Delete          Immediate           false"
        ),
        "{classes}"
    );
    let explained = ok(&server, &["explain", "storageclass.volumeBindingMode"]);
    assert!(explained.contains("volumeBindingMode"), "{explained}");

    // RuntimeClass handlers are DNS labels.
    let bad = dir.path().join("bad-rc.yaml");
    std::fs::write(
        &bad,
        "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: bad\nhandler: Not_A_Label\n",
    )
    .unwrap();
    let refused = fails(&server, &["apply", "-f", bad.to_str().unwrap()]);
    assert!(
        refused.contains("handler: Invalid value: \"Not_A_Label\": a lowercase RFC 1123 label"),
        "{refused}"
    );
    apply(
        &server,
        dir.path(),
        "rc.yaml",
        "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: gvisor\nhandler: runsc\n",
    );
    let runtime = ok(&server, &["get", "runtimeclasses"]);
    assert!(runtime.contains("gvisor   runsc"), "{runtime}");

    // RuntimeClass admission: a pod gets its class's overhead and node selector; a pod
    // naming a class that does not exist is refused.
    apply(
        &server,
        dir.path(),
        "kata.yaml",
        "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: kata\nhandler: kata\noverhead:\n  podFixed:\n    memory: 120Mi\nscheduling:\n  nodeSelector:\n    sandbox: kata\n",
    );
    let with_class = |class: &str| {
        format!(r#"--overrides={{"apiVersion": "v1", "spec": {{"runtimeClassName": "{class}"}}}}"#)
    };
    ok(
        &server,
        &["run", "sandboxed", "--image=busybox", &with_class("kata")],
    );
    let spec = ok(
        &server,
        &[
            "get",
            "pod",
            "sandboxed",
            "-o",
            "jsonpath={.spec.overhead.memory} {.spec.nodeSelector.sandbox}",
        ],
    );
    assert_eq!(spec.trim(), "120Mi kata");
    let refused = fails(
        &server,
        &["run", "lost", "--image=busybox", &with_class("absent")],
    );
    assert!(
        refused
            .contains(r#"pods "lost" is forbidden: pod rejected: RuntimeClass "absent" not found"#),
        "{refused}"
    );

    // A CSR is approved through its approval subresource.
    let request = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURSBSRVFVRVNULS0tLS0KTUlINk1JR2hBZ0VBTUQ4eEdqQVlCZ05WQkFvTUVYSnJkV0psTFdOdmJtWnZjbTFoYm1ObE1TRXdId1lEVlFRRApEQmh5YTNWaVpTMWpiMjVtYjNKdFlXNWpaUzFqYkdsbGJuUXdXVEFUQmdjcWhrak9QUUlCQmdncWhrak9QUU1CCkJ3TkNBQVFDUmo5OGFmM01RSkZ2UW9QTFlYelpVckxqRjF5ZEFHbjMwMmh5eERMRlgzWVdxV05xQi9vSHQzVUEKdDJhUmxYaHh5eWcySFF4bFVDZGY5a3FUQkpEZW9BQXdDZ1lJS29aSXpqMEVBd0lEU0FBd1JRSWhBS3JpdjNEUApWdUt2a0J4emxJWUlETjd5OW41TXE2S2hZYkhnQytZY2luZFFBaUJhYlh0NFBUbWVoNVBDcW0xTzNnc0Ztc01SCktYR3NIaS9SYlpjcVdCSVJBUT09Ci0tLS0tRU5EIENFUlRJRklDQVRFIFJFUVVFU1QtLS0tLQo=";
    apply(
        &server,
        dir.path(),
        "csr.yaml",
        &format!("apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: client\nspec:\n  request: {request}\n  signerName: example.com/client\n  usages: [client auth]\n  expirationSeconds: 86400\n"),
    );
    let pending = ok(&server, &["get", "csr", "client"]);
    assert!(pending.contains("Pending"), "{pending}");
    ok(&server, &["certificate", "approve", "client"]);
    let approved = ok(&server, &["get", "csr", "client"]);
    let header: Vec<&str> = approved
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION"
        ]
    );
    assert!(
        approved.contains("example.com/client")
            && approved.contains("24h")
            && approved.contains("Approved"),
        "{approved}"
    );

    // Reviews answer for the insecure port's user, who may do anything.
    let me = ok(&server, &["auth", "whoami"]);
    assert!(
        me.contains("system:unsecured") && me.contains("[system:masters system:authenticated]"),
        "{me}"
    );
    assert_eq!(
        ok(&server, &["auth", "can-i", "delete", "nodes"]).trim(),
        "yes"
    );
    let rules = ok(&server, &["auth", "can-i", "--list"]);
    assert!(rules.contains("*.*"), "{rules}");
}
