//! Real kubectl against `rkube apiserver` over HTTP: the dispatcher on the PATH and each
//! of kubectl 1.27 … 1.33 directly, each in its own namespace of one server.

mod common;

use common::{kubectl_versions, Apiserver};

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

    // Delete.
    k.ok(&["delete", "cm", "cm1"]);
    assert!(k.fails(&["get", "cm", "cm1"]).contains("not found"));
    k.ok(&["delete", "secret", "s1", "--grace-period=0", "--force"]);
    k.ok(&["explain", "pod.spec.containers"]);
}

#[test]
fn kubectl_every_version() {
    let server = Apiserver::start();
    for bin in kubectl_versions() {
        let tag = bin.rsplit('/').next().unwrap().replace('.', "-");
        exercise(&server, &bin, &tag);
    }
}
