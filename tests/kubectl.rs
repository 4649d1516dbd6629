//! Real kubectl against `rkube apiserver` over HTTP: the dispatcher on the PATH and each
//! of kubectl 1.27 … 1.33 directly, each in its own namespace of one server.

mod common;

use common::{kubectl_versions, Apiserver, ControllerManager};

struct Run<'a> {
    server: &'a Apiserver,
    bin: &'a str,
    ns: String,
}

impl Run<'_> {
    fn ok(&self, args: &[&str]) -> String {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["-n", &self.ns]);
        let (ok, out, err) = self.server.kubectl(self.bin, &full);
        assert!(ok, "{} {:?} failed: {err}{out}", self.bin, args);
        out
    }

    fn fails(&self, args: &[&str]) -> String {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["-n", &self.ns]);
        let (ok, out, err) = self.server.kubectl(self.bin, &full);
        assert!(!ok, "{} {:?} should fail: {out}", self.bin, args);
        err
    }
}

fn exercise(server: &Apiserver, bin: &str, tag: &str) {
    let ns = format!("kc-{tag}");
    let (ok, _, err) = server.kubectl(bin, &["create", "namespace", &ns]);
    assert!(ok, "{bin}: create namespace: {err}");
    let k = Run {
        server,
        bin,
        ns: ns.clone(),
    };

    // Discovery and version.
    assert!(k.ok(&["version"]).contains("v1.33.0"));
    let resources = k.ok(&["api-resources"]);
    for line in [
        "deployments",
        "replicationcontrollers",
        "cs ",
        "endpointslices",
    ] {
        assert!(resources.contains(line), "{bin} api-resources lacks {line}");
    }
    assert!(k.ok(&["api-versions"]).contains("apps/v1"));

    // Create, in every way the issue lists.
    k.ok(&["create", "configmap", "cm1", "--from-literal=a=b"]);
    k.ok(&["create", "secret", "generic", "s1", "--from-literal=k=v"]);
    k.ok(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.25",
        "--replicas=2",
    ]);
    k.ok(&["create", "service", "clusterip", "cip", "--tcp=80:8080"]);
    k.ok(&["create", "service", "nodeport", "np", "--tcp=80:8080"]);
    k.ok(&["create", "job", "j1", "--image=busybox"]);
    assert!(k
        .fails(&["create", "configmap", "cm1", "--from-literal=a=b"])
        .contains("already exists"));

    // Get in its output forms.
    let table = k.ok(&["get", "configmaps"]);
    assert!(
        table.starts_with("NAME") && table.contains("DATA") && table.contains("cm1"),
        "{table}"
    );
    assert!(k.ok(&["get", "cm", "cm1", "-o", "yaml"]).contains("a: b"));
    assert!(k
        .ok(&["get", "cm", "cm1", "-o", "json"])
        .contains("\"resourceVersion\""));
    assert_eq!(
        k.ok(&["get", "cm", "cm1", "-o", "name"]).trim(),
        "configmap/cm1"
    );
    assert_eq!(k.ok(&["get", "cm", "cm1", "-o", "jsonpath={.data.a}"]), "b");
    let wide = k.ok(&["get", "deploy", "-o", "wide"]);
    assert!(
        wide.contains("SELECTOR") && wide.contains("app=web"),
        "{wide}"
    );
    let svc = k.ok(&["get", "svc", "np"]);
    assert!(svc.contains("NodePort") && svc.contains("80:3"), "{svc}");
    assert!(k.ok(&["get", "jobs"]).contains("j1"));
    let (ok, all, _) = server.kubectl(bin, &["get", "cm", "-A"]);
    assert!(ok && all.contains("NAMESPACE") && all.contains(&ns));

    // Label, annotate, select.
    k.ok(&["label", "cm", "cm1", "tier=front"]);
    assert!(k
        .ok(&["get", "cm", "-l", "tier=front", "-o", "name"])
        .contains("configmap/cm1"));
    assert!(
        k.ok(&["get", "cm", "-l", "tier!=front", "-o", "name"])
            .trim()
            .is_empty()
            || !k
                .ok(&["get", "cm", "-l", "tier!=front", "-o", "name"])
                .contains("cm1")
    );
    assert!(k
        .ok(&[
            "get",
            "cm",
            "--field-selector",
            "metadata.name=cm1",
            "-o",
            "name"
        ])
        .contains("cm1"));
    k.ok(&["annotate", "cm", "cm1", "note=hello"]);
    assert!(k.ok(&["describe", "cm", "cm1"]).contains("note: hello"));

    // Patch in the three types.
    k.ok(&[
        "patch",
        "cm",
        "cm1",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"m":"1"}}"#,
    ]);
    k.ok(&[
        "patch",
        "cm",
        "cm1",
        "--type",
        "json",
        "-p",
        r#"[{"op":"add","path":"/data/j","value":"2"}]"#,
    ]);
    k.ok(&[
        "patch",
        "deploy",
        "web",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}"#,
    ]);
    assert_eq!(
        k.ok(&["get", "cm", "cm1", "-o", "jsonpath={.data.m}{.data.j}"]),
        "12"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}"
        ]),
        "nginx:1.26"
    );

    // Scale through the scale subresource; generation follows spec changes.
    k.ok(&["scale", "deploy", "web", "--replicas=4"]);
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"]),
        "4"
    );

    // The documents' ReplicationController, scaled through its scale subresource.
    let rc = manifest(
        &k,
        "rc",
        "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: teciplsrc\nspec:\n  replicas: 3\n  selector:\n    name: teciplsrc\n  template:\n    metadata:\n      labels:\n        name: teciplsrc\n    spec:\n      containers:\n      - name: teciplsrc\n        image: nginx\n",
    );
    k.ok(&["create", "-f", &rc]);
    assert!(k.ok(&["get", "rc", "teciplsrc"]).contains("DESIRED"));
    k.ok(&["scale", "rc", "teciplsrc", "--replicas=5"]);
    assert_eq!(
        k.ok(&["get", "rc", "teciplsrc", "-o", "jsonpath={.spec.replicas}"]),
        "5"
    );

    // Delete.
    k.ok(&["delete", "cm", "cm1"]);
    assert!(k.fails(&["get", "cm", "cm1"]).contains("not found"));
    k.ok(&["delete", "secret", "s1", "--grace-period=0", "--force"]);
    k.ok(&["explain", "pod.spec.containers"]);

    apply_and_cascade(&k);
    watch_events(&k);
}

fn manifest(k: &Run, name: &str, body: &str) -> String {
    let path = k.server.data_dir().join(format!("{}-{name}.yaml", k.ns));
    std::fs::write(&path, body).unwrap();
    path.to_string_lossy().into_owned()
}

fn apply_and_cascade(k: &Run) {
    // Client-side apply: create, then change a field.
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: \"{v}\"\n"
        )
    };
    let path = manifest(k, "cm", &cm("1"));
    assert!(k.ok(&["apply", "-f", &path]).contains("created"));
    std::fs::write(&path, cm("2")).unwrap();
    assert!(k.ok(&["apply", "-f", &path]).contains("configured"));
    assert_eq!(
        k.ok(&["get", "cm", "applied", "-o", "jsonpath={.data.a}"]),
        "2"
    );

    // Server-side apply; a second manager conflicts; --force-conflicts takes over.
    let deploy = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: ssa}}\n  template:\n    metadata:\n      labels: {{app: ssa}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n"
        )
    };
    let d1 = manifest(k, "ssa1", &deploy(2));
    k.ok(&["apply", "--server-side", "-f", &d1]);
    let managers = k.ok(&[
        "get",
        "deploy",
        "ssa",
        "-o",
        "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    assert!(managers.contains("kubectl"), "{managers}");
    let d2 = manifest(k, "ssa2", &deploy(3));
    let err = k.fails(&["apply", "--server-side", "--field-manager=other", "-f", &d2]);
    assert!(
        err.contains("conflict") && err.contains(".spec.replicas"),
        "{err}"
    );
    k.ok(&[
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        &d2,
    ]);
    assert_eq!(
        k.ok(&["get", "deploy", "ssa", "-o", "jsonpath={.spec.replicas}"]),
        "3"
    );

    // Cascading deletes through ownerReferences (the controller-manager's garbage
    // collector does the work; kubectl waits for the owner to go). A foreground
    // deletion waits for dependents that block it (blockOwnerDeletion).
    for (policy, dependent_survives) in [
        ("orphan", true),
        ("foreground", false),
        ("background", false),
    ] {
        let owner = format!("owner-{policy}");
        k.ok(&["create", "configmap", &owner]);
        let uid = k.ok(&["get", "cm", &owner, "-o", "jsonpath={.metadata.uid}"]);
        let dep = format!("dep-{policy}");
        let path = manifest(
            k,
            &dep,
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {dep}\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: {owner}\n    uid: {uid}\n    blockOwnerDeletion: true\n"
            ),
        );
        k.ok(&["create", "-f", &path]);
        k.ok(&["delete", "cm", &owner, &format!("--cascade={policy}")]);
        assert!(k.fails(&["get", "cm", &owner]).contains("not found"));
        if dependent_survives {
            assert_eq!(
                k.ok(&[
                    "get",
                    "cm",
                    &dep,
                    "-o",
                    "jsonpath={.metadata.ownerReferences}"
                ]),
                ""
            );
        } else if policy == "foreground" {
            assert!(k.fails(&["get", "cm", &dep]).contains("not found"));
        } else {
            // Background: the owner goes at once, its dependent after it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            let mut args = vec!["get", "cm", &dep, "-n", &k.ns];
            args.push("--ignore-not-found");
            while !k.server.kubectl(k.bin, &args).1.is_empty() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{}: {dep} outlived its owner",
                    k.bin
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

fn watch_events(k: &Run) {
    let mut child = std::process::Command::new(k.bin)
        .args([
            "get",
            "cm",
            "-w",
            "--output-watch-events",
            "-n",
            &k.ns,
            "--request-timeout=20s",
        ])
        .env("KUBECONFIG", &k.server.kubeconfig)
        .env("HOME", k.server.data_dir())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut buf = String::new();
        std::io::Read::read_to_string(&mut out, &mut buf).ok();
        buf
    });
    // The watch sees the existing objects first; wait until it is running.
    std::thread::sleep(std::time::Duration::from_millis(700));
    k.ok(&["create", "configmap", "watched"]);
    k.ok(&["label", "cm", "watched", "x=1"]);
    k.ok(&["delete", "cm", "watched"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    let seen = reader.join().unwrap();
    for event in ["ADDED", "MODIFIED", "DELETED"] {
        assert!(
            seen.lines()
                .any(|l| l.starts_with(event) && l.contains("watched")),
            "{} -w missed {event}:\n{seen}",
            k.bin
        );
    }
}

#[test]
fn kubectl_every_version() {
    let server = Apiserver::start();
    let _gc = ControllerManager::start_with(&server, &["--controllers=garbagecollector"]);
    for bin in kubectl_versions() {
        let tag = bin.rsplit('/').next().unwrap().replace('.', "-");
        exercise(&server, &bin, &tag);
    }
}
