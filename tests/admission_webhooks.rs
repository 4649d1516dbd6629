//! Admission webhooks called for real: an HTTPS webhook server on loopback (Python's
//! http.server with a certificate from a test CA made with the openssl CLI), registered
//! with real kubectl through ValidatingWebhookConfigurations and
//! MutatingWebhookConfigurations, and the writes kubectl makes afterwards.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::netns::Netns;
use common::Apiserver;
use serde_json::{json, Value};

/// The webhook server, killed on drop.
struct WebhookServer {
    child: Child,
    port: u16,
    log: PathBuf,
    ca_bundle: String,
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A CA and a serving certificate for `san` (`IP:127.0.0.1`) signed by it, and another CA.
fn certificates(dir: &Path, san: &str) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=rkube-webhook-test-ca",
    ]);
    run(dir, "openssl", &ca);
    let mut other = vec!["req", "-x509"];
    other.extend(ec);
    other.extend([
        "-keyout",
        "other.key",
        "-out",
        "other.pem",
        "-days",
        "1",
        "-subj",
        "/CN=rkube-other-ca",
    ]);
    run(dir, "openssl", &other);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(dir, "openssl", &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName={san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    run(
        dir,
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

fn start_webhook_server(dir: &Path) -> WebhookServer {
    certificates(dir, "IP:127.0.0.1");
    start_webhook_server_with(dir, Command::new("python3"), "127.0.0.1")
}

/// The server on `address`, started by `python3` (a command, so it may run in a netns).
fn start_webhook_server_with(dir: &Path, mut python3: Command, address: &str) -> WebhookServer {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhook/server.py");
    let log = dir.join("reviews.jsonl");
    let mut child = python3
        .arg(script)
        .arg(dir.join("server.pem"))
        .arg(dir.join("server.key"))
        .arg(&log)
        .arg(address)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .parse()
        .expect("the webhook server prints its port");
    let ca_bundle = String::from_utf8(run(dir, "base64", &["-w0", "ca.pem"])).unwrap();
    WebhookServer {
        child,
        port,
        log,
        ca_bundle,
    }
}

impl WebhookServer {
    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Every review received so far.
    fn reviews(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn kubectl(server: &Apiserver, args: &[&str]) -> (bool, String, String) {
    server.kubectl("kubectl", args)
}

fn ok(server: &Apiserver, args: &[&str]) -> (String, String) {
    let (ok, out, err) = kubectl(server, args);
    assert!(ok, "kubectl {args:?} failed: {err}{out}");
    (out, err)
}

fn refused(server: &Apiserver, args: &[&str]) -> String {
    let (ok, out, err) = kubectl(server, args);
    assert!(!ok, "kubectl {args:?} should fail: {out}");
    err
}

/// Writes webhook configurations of one webhook each, `{name}.rkube.test`, with
/// `kubectl apply -f {name}.yaml`.
#[derive(Clone, Copy)]
struct Configurations<'a> {
    server: &'a Apiserver,
    dir: &'a Path,
    /// The caBundle the webhooks are called with.
    ca: &'a str,
}

impl Configurations<'_> {
    fn validating(&self, name: &str, url: &str, rules: &str, extra: &str) {
        self.apply("ValidatingWebhookConfiguration", name, url, rules, extra);
    }

    fn mutating(&self, name: &str, url: &str, rules: &str, extra: &str) {
        self.apply("MutatingWebhookConfiguration", name, url, rules, extra);
    }

    fn apply(&self, kind: &str, name: &str, url: &str, rules: &str, extra: &str) {
        let ca = self.ca;
        let yaml = format!(
            "apiVersion: admissionregistration.k8s.io/v1
kind: {kind}
metadata: {{name: {name}}}
webhooks:
- name: {name}.rkube.test
  clientConfig: {{url: \"{url}\", caBundle: {ca}}}
  rules: [{rules}]
  sideEffects: None
  admissionReviewVersions: [v1]
{extra}"
        );
        let path = self.dir.join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        ok(self.server, &["apply", "-f", path.to_str().unwrap()]);
    }
}

#[test]
fn webhooks_deny_mutate_and_fail_per_policy() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = start_webhook_server(dir.path());
    let server = Apiserver::start();
    let configs = Configurations {
        server: &server,
        dir: dir.path(),
        ca: &hooks.ca_bundle,
    };

    let configmaps = "{operations: [CREATE, UPDATE, DELETE], apiGroups: [\"\"], apiVersions: [v1], resources: [configmaps]}";
    configs.validating(
        "deny",
        &hooks.url("/deny"),
        configmaps,
        "  namespaceSelector: {matchExpressions: [{key: webhook-skip, operator: DoesNotExist}]}\n",
    );
    let pods = "{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [pods]}";
    configs.mutating("mutate", &hooks.url("/mutate"), pods, "");

    // The configurations read back with upstream's defaults and columns.
    let (table, _) = ok(&server, &["get", "validatingwebhookconfigurations"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "WEBHOOKS", "AGE"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("deny   1 "),
        "{table}"
    );
    let (stored, _) = ok(
        &server,
        &[
            "get",
            "validatingwebhookconfiguration",
            "deny",
            "-o",
            "json",
        ],
    );
    let stored: Value = serde_json::from_str(&stored).unwrap();
    let hook = &stored["webhooks"][0];
    assert_eq!(hook["failurePolicy"], "Fail");
    assert_eq!(hook["matchPolicy"], "Equivalent");
    assert_eq!(hook["timeoutSeconds"], 10);
    assert_eq!(hook["objectSelector"], serde_json::json!({}));
    assert_eq!(hook["rules"][0]["scope"], "*");

    // An unlabelled ConfigMap passes (with the webhook's warning); a labelled one is
    // refused with the webhook's status.
    let (_, err) = ok(
        &server,
        &["create", "configmap", "fine", "--from-literal=a=b"],
    );
    assert!(
        err.contains("Warning: checked by the deny webhook"),
        "{err}"
    );
    let path = dir.path().join("denied.yaml");
    std::fs::write(&path, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: denied, labels: {webhook-deny: \"yes\"}}\n").unwrap();
    let err = refused(&server, &["create", "-f", path.to_str().unwrap()]);
    assert!(
        err.contains("Error from server (Forbidden): error when creating")
            && err.contains("admission webhook \"deny.rkube.test\" denied the request: configmaps labelled webhook-deny are not allowed"),
        "{err}"
    );
    assert!(
        !kubectl(&server, &["get", "configmap", "denied"]).0,
        "nothing stored"
    );
    // dryRun goes to the webhook too (sideEffects None allows it), and is refused alike.
    let err = refused(
        &server,
        &["create", "-f", path.to_str().unwrap(), "--dry-run=server"],
    );
    assert!(err.contains("denied the request"), "{err}");
    // An update that adds the label is refused; a protected ConfigMap cannot be deleted.
    let err = refused(&server, &["label", "configmap", "fine", "webhook-deny=yes"]);
    assert!(err.contains("denied the request"), "{err}");
    ok(
        &server,
        &["create", "configmap", "kept", "--from-literal=a=b"],
    );
    ok(
        &server,
        &["label", "configmap", "kept", "webhook-protect=yes"],
    );
    let err = refused(&server, &["delete", "configmap", "kept"]);
    assert!(
        err.contains(
            "admission webhook \"deny.rkube.test\" denied the request: this configmap is protected"
        ),
        "{err}"
    );
    // A namespace the namespaceSelector leaves out is not sent to the webhook.
    ok(&server, &["create", "namespace", "skipped"]);
    ok(
        &server,
        &["label", "namespace", "skipped", "webhook-skip=1"],
    );
    ok(
        &server,
        &["create", "-f", path.to_str().unwrap(), "-n", "skipped"],
    );

    // The mutating webhooks label and annotate new pods; the patched pod is defaulted and
    // stored. "annotate" runs first (configuration-name order) and, with
    // reinvocationPolicy IfNeeded, again after "mutate" changed the pod.
    configs.mutating(
        "annotate",
        &hooks.url("/annotate"),
        pods,
        "  reinvocationPolicy: IfNeeded\n",
    );
    ok(&server, &["run", "p", "--image=registry.k8s.io/pause:3.10"]);
    let (annotations, _) = ok(
        &server,
        &["get", "pod", "p", "-o", "jsonpath={.metadata.annotations}"],
    );
    assert!(
        annotations.contains("\"webhook-annotated\":\"yes\""),
        "{annotations}"
    );
    let annotated: Vec<Value> = hooks
        .reviews()
        .into_iter()
        .filter(|r| r["path"] == "/annotate")
        .collect();
    assert_eq!(
        annotated.len(),
        2,
        "called, then called again: {annotated:?}"
    );
    assert!(annotated[0]["request"]["object"]["metadata"]["labels"]["webhook-mutated"].is_null());
    assert_eq!(
        annotated[1]["request"]["object"]["metadata"]["labels"]["webhook-mutated"],
        "yes"
    );
    let (labels, _) = ok(
        &server,
        &["get", "pod", "p", "-o", "jsonpath={.metadata.labels}"],
    );
    assert!(
        labels.contains("\"webhook-mutated\":\"yes\"") && labels.contains("\"run\":\"p\""),
        "{labels}"
    );

    // A mutating webhook sees deletes too (the object as oldObject) and may refuse them.
    let pod_deletes =
        "{operations: [DELETE], apiGroups: [\"\"], apiVersions: [v1], resources: [pods]}";
    configs.mutating(
        "keep",
        &hooks.url("/refuse"),
        pod_deletes,
        "  objectSelector: {matchLabels: {webhook-mutated: \"yes\"}}\n",
    );
    let err = refused(&server, &["delete", "pod", "p", "--wait=false"]);
    assert!(
        err.contains(
            "admission webhook \"keep.rkube.test\" denied the request: refused by the test webhook"
        ),
        "{err}"
    );

    // CONNECTs are admitted too, with their options object.
    let connect = "{operations: [CONNECT], apiGroups: [\"\"], apiVersions: [v1], resources: [pods/exec, pods/attach]}";
    configs.validating("connect", &hooks.url("/refuse"), connect, "");
    let (code, status) = server.json(
        "POST",
        "/api/v1/namespaces/default/pods/p/exec?command=ls&command=-l&stdout=true",
        &Value::Null,
    );
    assert_eq!(code, 403, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"connect.rkube.test\" denied the request: refused by the test webhook"
    );

    let reviews = hooks.reviews();
    let review = |pred: &dyn Fn(&Value) -> bool| reviews.iter().find(|r| pred(r)).cloned();
    let created =
        review(&|r| r["request"]["name"] == "fine" && r["request"]["operation"] == "CREATE")
            .unwrap();
    assert_eq!(created["query"], "timeout=10s");
    assert_eq!(
        created["request"]["kind"],
        serde_json::json!({"group": "", "version": "v1", "kind": "ConfigMap"})
    );
    assert_eq!(
        created["request"]["resource"],
        serde_json::json!({"group": "", "version": "v1", "resource": "configmaps"})
    );
    assert_eq!(created["request"]["namespace"], "default");
    assert_eq!(created["request"]["object"]["data"]["a"], "b");
    assert!(
        review(&|r| r["request"]["dryRun"] == true).is_some(),
        "the dry run was sent"
    );
    assert!(
        review(&|r| r["request"]["namespace"] == "skipped").is_none(),
        "skipped namespace"
    );
    let deleted = review(&|r| r["request"]["operation"] == "DELETE").unwrap();
    assert!(deleted["request"]["object"].is_null());
    assert_eq!(deleted["request"]["oldObject"]["metadata"]["name"], "kept");
    assert!(review(&|r| r["path"] == "/mutate" && r["request"]["kind"]["kind"] == "Pod").is_some());
    let exec = review(&|r| r["request"]["operation"] == "CONNECT").unwrap();
    assert_eq!(
        exec["request"]["kind"],
        json!({"group": "", "version": "v1", "kind": "PodExecOptions"})
    );
    assert_eq!(exec["request"]["subResource"], "exec");
    assert_eq!(exec["request"]["object"]["command"], json!(["ls", "-l"]));
    assert_eq!(exec["request"]["object"]["stdout"], true);

    // Unreachable and slow webhooks: failurePolicy decides.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let secrets =
        "{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [secrets]}";
    let url = format!("https://127.0.0.1:{closed}/");
    configs.validating("closed", &url, secrets, "  failurePolicy: Fail\n");
    let err = refused(
        &server,
        &["create", "secret", "generic", "s1", "--from-literal=a=b"],
    );
    assert!(
        err.contains("Internal error occurred: failed calling webhook \"closed.rkube.test\": failed to call webhook: Post \"https://127.0.0.1:")
            && err.contains("/?timeout=10s\""),
        "{err}"
    );
    configs.validating("closed", &url, secrets, "  failurePolicy: Ignore\n");
    ok(
        &server,
        &["create", "secret", "generic", "s2", "--from-literal=a=b"],
    );

    let services =
        "{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [services]}";
    configs.validating(
        "slow",
        &hooks.url("/slow"),
        services,
        "  timeoutSeconds: 1\n",
    );
    let err = refused(
        &server,
        &["create", "service", "clusterip", "svc", "--tcp=80:80"],
    );
    assert!(
        err.contains("failed calling webhook \"slow.rkube.test\"")
            && err.contains("context deadline exceeded"),
        "{err}"
    );

    // A CA that did not sign the server's certificate is not trusted.
    let other_ca = String::from_utf8(run(dir.path(), "base64", &["-w0", "other.pem"])).unwrap();
    let events =
        "{operations: [CREATE], apiGroups: [\"\"], apiVersions: [v1], resources: [events]}";
    let untrusted = Configurations {
        ca: &other_ca,
        ..configs
    };
    untrusted.validating("untrusted", &hooks.url("/deny"), events, "");
    let (code, status) = server.json(
        "POST",
        "/api/v1/namespaces/default/events",
        &serde_json::json!({"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "R", "message": "m"}),
    );
    assert_eq!(code, 500, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("failed calling webhook \"untrusted.rkube.test\""),
        "{status}"
    );

    // The configurations themselves are never sent to webhooks: deleting them works.
    ok(
        &server,
        &[
            "delete",
            "validatingwebhookconfiguration",
            "deny",
            "closed",
            "slow",
            "untrusted",
        ],
    );
    ok(
        &server,
        &[
            "delete",
            "mutatingwebhookconfiguration",
            "mutate",
            "keep",
            "annotate",
        ],
    );
    ok(&server, &["create", "-f", path.to_str().unwrap()]);
}

/// A configuration's create, update and delete hold from the very next request (the
/// write is acknowledged once admission reads it). Its webhook cannot be reached, so
/// whether a ConfigMap create fails tells whether the configuration is in effect.
#[test]
fn a_written_configuration_holds_from_the_next_request() {
    let server = Apiserver::start();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let configs = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";
    let config = format!("{configs}/closed");
    let set_policy = |config: &mut Value, policy: &str| {
        config["webhooks"][0]["failurePolicy"] = json!(policy);
    };
    let mut desired = json!({"metadata": {"name": "closed"}, "webhooks": [{"name": "closed.rkube.test",
        "clientConfig": {"url": format!("https://127.0.0.1:{closed}/")},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"]}]});
    let mut created = 0;
    let mut create_configmap = || {
        created += 1;
        let cm = json!({"metadata": {"name": format!("cm-{created}")}});
        server
            .json("POST", "/api/v1/namespaces/default/configmaps", &cm)
            .0
    };
    for round in 0..20 {
        set_policy(&mut desired, "Fail");
        let (code, mut stored) = server.json("POST", configs, &desired);
        assert_eq!(code, 201, "{stored}");
        assert_eq!(create_configmap(), 500, "round {round}: created");
        set_policy(&mut stored, "Ignore");
        let (code, mut stored) = server.json("PUT", &config, &stored);
        assert_eq!(code, 200, "{stored}");
        assert_eq!(create_configmap(), 201, "round {round}: updated to Ignore");
        set_policy(&mut stored, "Fail");
        let (code, stored) = server.json("PUT", &config, &stored);
        assert_eq!(code, 200, "{stored}");
        assert_eq!(create_configmap(), 500, "round {round}: updated to Fail");
        let (code, status) = server.json("DELETE", &config, &Value::Null);
        assert_eq!(code, 200, "{status}");
        assert_eq!(create_configmap(), 201, "round {round}: deleted");
    }
}

#[test]
fn invalid_webhook_configurations_are_refused() {
    let server = Apiserver::start();
    let (code, status) = server.json(
        "POST",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        &serde_json::json!({"metadata": {"name": "bad"}, "webhooks": [
            {"name": "short", "clientConfig": {"url": "http://example.com/x"},
             "rules": [{"operations": ["CREATE", "*"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
             "timeoutSeconds": 31}]}),
    );
    assert_eq!(code, 422, "{status}");
    let message = status["message"].as_str().unwrap();
    for part in [
        "webhooks[0].name: Invalid value: \"short\": should be a domain with at least three segments separated by dots",
        "webhooks[0].rules[0].operations: Invalid value: []string{\"CREATE\", \"*\"}: if '*' is present, must not specify other operations",
        "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
        "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds",
        "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1",
        "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: https://host[/path]",
    ] {
        assert!(message.contains(part), "{part}\n not in {message}");
    }
}

/// A webhook named by `clientConfig.service`: reached at the Service's ready endpoint
/// (certificate checked for `hook.default.svc`), else at its ClusterIP. In a netns of the
/// test's own: the endpoint's address is not loopback.
#[test]
fn service_webhooks_go_to_the_endpoint_then_the_cluster_ip() {
    let dir = tempfile::tempdir().unwrap();
    let netns = Netns::new("webhooksvc");
    netns.sh("ip addr add 10.78.0.1/32 dev lo && ip addr add 10.78.0.2/32 dev lo");
    certificates(dir.path(), "DNS:hook.default.svc");
    let hooks = start_webhook_server_with(dir.path(), netns.cmd("python3"), "10.78.0.2");
    let server = Apiserver::start_in(&netns, std::net::Ipv4Addr::new(10, 78, 0, 1));

    let svc = json!({"metadata": {"name": "hook"}, "spec": {"ports": [{"name": "https", "port": 443, "targetPort": hooks.port}]}});
    let (code, svc) = server.json("POST", "/api/v1/namespaces/default/services", &svc);
    assert_eq!(code, 201, "{svc}");
    let cluster_ip = svc["spec"]["clusterIP"].as_str().unwrap().to_string();
    let eps = json!({"metadata": {"name": "hook"}, "subsets": [{"addresses": [{"ip": "10.78.0.2"}],
        "ports": [{"name": "https", "port": hooks.port}]}]});
    assert_eq!(
        server
            .json("POST", "/api/v1/namespaces/default/endpoints", &eps)
            .0,
        201
    );
    let config = json!({"metadata": {"name": "svc"}, "webhooks": [{"name": "svc.rkube.test",
        "clientConfig": {"service": {"namespace": "default", "name": "hook", "path": "/deny"}, "caBundle": hooks.ca_bundle},
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}],
        "sideEffects": "None", "admissionReviewVersions": ["v1"]}]});
    let (code, stored) = server.json(
        "POST",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
        &config,
    );
    assert_eq!(code, 201, "{stored}");
    assert_eq!(
        stored["webhooks"][0]["clientConfig"]["service"]["port"], 443,
        "the port defaults to 443"
    );

    let denied = json!({"metadata": {"name": "denied", "labels": {"webhook-deny": "yes"}}});
    let (code, status) = server.json("POST", "/api/v1/namespaces/default/configmaps", &denied);
    assert_eq!(code, 403, "{status}");
    assert_eq!(
        status["message"],
        "admission webhook \"svc.rkube.test\" denied the request: configmaps labelled webhook-deny are not allowed"
    );
    let reviews = hooks.reviews();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["path"], "/deny");

    // No endpoint left: the ClusterIP is dialled (nothing routes it here, so the call
    // fails, and failurePolicy Fail refuses the write).
    assert_eq!(
        server
            .json(
                "DELETE",
                "/api/v1/namespaces/default/endpoints/hook",
                &Value::Null
            )
            .0,
        200
    );
    let (code, status) = server.json(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &json!({"metadata": {"name": "other"}}),
    );
    assert_eq!(code, 500, "{status}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("failed calling webhook \"svc.rkube.test\"")
            && message.contains("https://hook.default.svc:443/deny?timeout=10s")
            && message.contains(&format!("dial tcp {cluster_ip}:443")),
        "{message}"
    );
}
