//! Field validation over HTTP (`fieldValidation=Strict|Warn|Ignore`) and with real
//! kubectl: unknown and duplicate fields refused, warned about or ignored, and
//! never stored.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{kubectl_versions, Apiserver};
use serde_json::{json, Value};

struct Answer {
    code: u16,
    warnings: Vec<String>,
    body: Value,
}

/// One request; the answer with its `Warning` header values.
fn request(port: u16, method: &str, path: &str, content_type: &str, body: &[u8]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let code = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let mut warnings = Vec::new();
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "warning" => warnings.push(value.trim().to_string()),
            "transfer-encoding" => chunked = value.contains("chunked"),
            _ => {}
        }
    }
    let mut rest = buf[end + 4..].to_vec();
    if chunked {
        let mut out = Vec::new();
        let mut b = rest.as_slice();
        while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(std::str::from_utf8(&b[..pos]).unwrap().trim(), 16).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&b[pos + 2..pos + 2 + n]);
            b = &b[pos + 4 + n..];
        }
        rest = out;
    }
    Answer {
        code,
        warnings,
        body: serde_json::from_slice(&rest).unwrap_or(Value::Null),
    }
}

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";

fn deployment(name: &str) -> String {
    format!(
        r#"{{"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {{"name": "{name}", "labels": {{"app": "web", "free-form": "kept"}}}},
            "spec": {{"foo": "bar", "replicas": 1, "replicas": 2,
              "selector": {{"matchLabels": {{"app": "web"}}}},
              "template": {{"metadata": {{"labels": {{"app": "web"}}}},
                "spec": {{"containers": [{{"name": "c", "image": "nginx", "bogus": 1,
                  "ports": [{{"containerPort": 80, "hostPortt": 1}}],
                  "env": [{{"name": "A", "valueFrom": {{"fieldRef": {{"fieldPath": "metadata.name", "nope": 1}}}}}}]}}]}}}}}}}}"#
    )
}

const PROBLEMS: [&str; 5] = [
    r#"unknown field "spec.foo""#,
    r#"duplicate field "spec.replicas""#,
    r#"unknown field "spec.template.spec.containers[0].bogus""#,
    r#"unknown field "spec.template.spec.containers[0].ports[0].hostPortt""#,
    r#"unknown field "spec.template.spec.containers[0].env[0].valueFrom.fieldRef.nope""#,
];

fn header(text: &str) -> String {
    format!(
        "299 - \"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

fn get(port: u16, path: &str) -> Answer {
    request(port, "GET", path, "application/json", b"")
}

/// The stored object has none of the unknown fields, the last of the repeated
/// ones, and its maps whole.
fn assert_clean(obj: &Value) {
    assert!(obj["spec"].get("foo").is_none(), "{obj}");
    assert_eq!(obj["spec"]["replicas"], 2);
    assert_eq!(obj["metadata"]["labels"]["free-form"], "kept");
    let c = &obj["spec"]["template"]["spec"]["containers"][0];
    assert!(c.get("bogus").is_none(), "{c}");
    assert_eq!(c["ports"][0]["containerPort"], 80);
    assert!(c["ports"][0].get("hostPortt").is_none(), "{c}");
    let field_ref = &c["env"][0]["valueFrom"]["fieldRef"];
    assert_eq!(field_ref["fieldPath"], "metadata.name");
    assert!(field_ref.get("nope").is_none(), "{field_ref}");
}

#[test]
fn create_update_and_patch_over_http() {
    let server = Apiserver::start();
    let port = server.port;
    let path = |name: &str, q: &str| format!("{DEPLOYMENTS}/{name}{q}");

    // Strict: 400 with every problem in document order, nothing stored.
    let a = request(
        port,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Strict"),
        "application/json",
        deployment("strict").as_bytes(),
    );
    assert_eq!(a.code, 400, "{}", a.body);
    assert_eq!(a.body["reason"], "BadRequest");
    assert_eq!(
        a.body["message"],
        format!(
            "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: {}",
            PROBLEMS.join(", ")
        )
    );
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(get(port, &path("strict", "")).code, 404);

    // Warn, asked for and by default: created, one warning each, unknown fields dropped.
    let expected: Vec<String> = PROBLEMS.iter().map(|p| header(p)).collect();
    for (name, q) in [("warn", "?fieldValidation=Warn"), ("default", "")] {
        let a = request(
            port,
            "POST",
            &format!("{DEPLOYMENTS}{q}"),
            "application/json",
            deployment(name).as_bytes(),
        );
        assert_eq!(a.code, 201, "{}", a.body);
        assert_eq!(a.warnings, expected);
        assert_clean(&a.body);
        assert_clean(&get(port, &path(name, "")).body);
    }

    // Ignore: created, nothing said, still dropped.
    let a = request(
        port,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Ignore"),
        "application/json",
        deployment("ignore").as_bytes(),
    );
    assert_eq!(a.code, 201, "{}", a.body);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_clean(&get(port, &path("ignore", "")).body);

    // An unknown value of fieldValidation.
    let a = request(
        port,
        "POST",
        &format!("{DEPLOYMENTS}?fieldValidation=Loose"),
        "application/json",
        deployment("loose").as_bytes(),
    );
    assert_eq!(a.code, 400);

    // PUT.
    let current = get(port, &path("warn", "")).body;
    let mut replaced = current.clone();
    replaced["spec"]["paused"] = json!(true);
    replaced["spec"]["typo"] = json!(1);
    let body = serde_json::to_vec(&replaced).unwrap();
    let a = request(
        port,
        "PUT",
        &path("warn", "?fieldValidation=Strict"),
        "application/json",
        &body,
    );
    assert_eq!(a.code, 400);
    assert_eq!(
        a.body["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.typo\""
    );
    let a = request(port, "PUT", &path("warn", ""), "application/json", &body);
    assert_eq!(a.code, 200, "{}", a.body);
    assert_eq!(a.warnings, [header(r#"unknown field "spec.typo""#)]);
    assert_eq!(a.body["spec"]["paused"], true);
    assert!(a.body["spec"].get("typo").is_none());

    // YAML: yaml.v2's repeated-key errors, then the unknown fields in key order.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  zeta: 1\n  name: cfg\n  alpha: 2\ndata:\n  k: v\n";
    let cms = "/api/v1/namespaces/default/configmaps";
    let a = request(
        port,
        "POST",
        &format!("{cms}?fieldValidation=Strict"),
        "application/yaml",
        yaml.as_bytes(),
    );
    assert_eq!(a.code, 400);
    assert_eq!(
        a.body["message"],
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 6: key \"name\" already set in map, unknown field \"metadata.alpha\", unknown field \"metadata.zeta\""
    );
    let a = request(port, "POST", cms, "application/yaml", yaml.as_bytes());
    assert_eq!(a.code, 201, "{}", a.body);
    assert_eq!(
        a.warnings,
        [
            header(r#"line 6: key "name" already set in map"#),
            header(r#"unknown field "metadata.alpha""#),
            header(r#"unknown field "metadata.zeta""#),
        ]
    );
    assert_eq!(a.body["data"], json!({"k": "v"}));

    // Merge patch: repeated keys of the patch, unknown fields of the result.
    let merge = br#"{"spec": {"paused": false, "paused": true, "zz": 1, "template": {"spec": {"containers": [{"name": "c", "image": "nginx", "extra": 1}]}}}}"#;
    let a = request(
        port,
        "PATCH",
        &path("default", "?fieldValidation=Strict"),
        "application/merge-patch+json",
        merge,
    );
    assert_eq!(a.code, 422, "{}", a.body);
    assert_eq!(a.body["reason"], "Invalid");
    let msg = a.body["message"].as_str().unwrap();
    assert!(
        msg.starts_with(r#" "" is invalid: patch: Invalid value: "{\"apiVersion\":\"apps/v1\""#),
        "{msg}"
    );
    assert!(
        msg.ends_with(r#"": strict decoding error: duplicate field "spec.paused", unknown field "spec.template.spec.containers[0].extra", unknown field "spec.zz""#),
        "{msg}"
    );
    assert_eq!(a.body["details"]["causes"][0]["field"], "patch");
    let a = request(
        port,
        "PATCH",
        &path("default", ""),
        "application/merge-patch+json",
        merge,
    );
    assert_eq!(a.code, 200, "{}", a.body);
    assert_eq!(
        a.warnings,
        [
            header(r#"duplicate field "spec.paused""#),
            header(r#"unknown field "spec.template.spec.containers[0].extra""#),
            header(r#"unknown field "spec.zz""#),
        ]
    );
    let stored = get(port, &path("default", "")).body;
    assert_eq!(stored["spec"]["paused"], true);
    assert!(stored["spec"].get("zz").is_none());
    assert!(stored["spec"]["template"]["spec"]["containers"][0]
        .get("extra")
        .is_none());

    // Strategic merge patch: the patch as a Go map in the message.
    let smp = br#"{"spec": {"strategy": {"kind": "x"}}}"#;
    let a = request(
        port,
        "PATCH",
        &path("default", "?fieldValidation=Strict"),
        "application/strategic-merge-patch+json",
        smp,
    );
    assert_eq!(a.code, 422, "{}", a.body);
    assert_eq!(
        a.body["message"],
        r#" "" is invalid: patch: Invalid value: "map[spec:map[strategy:map[kind:x]]]": strict decoding error: unknown field "spec.strategy.kind""#
    );
    let a = request(
        port,
        "PATCH",
        &path("default", "?fieldValidation=Ignore"),
        "application/strategic-merge-patch+json",
        smp,
    );
    assert_eq!(a.code, 200, "{}", a.body);
    assert!(a.warnings.is_empty());
    assert!(
        a.body["spec"]["strategy"].get("kind").is_none(),
        "{}",
        a.body
    );

    // JSON patch: the operations' own fields first.
    let ops = br#"[{"op": "add", "path": "/spec/minReadySeconds", "value": 3, "foo": 1}, {"op": "add", "path": "/metadata/bad", "path": "/spec/x", "value": 1}]"#;
    let a = request(
        port,
        "PATCH",
        &path("default", ""),
        "application/json-patch+json",
        ops,
    );
    assert_eq!(a.code, 200, "{}", a.body);
    assert_eq!(
        a.warnings,
        [
            header(r#"json patch unknown field "[0].foo""#),
            header(r#"json patch duplicate field "[1].path""#),
            header(r#"unknown field "spec.x""#),
        ]
    );
    assert_eq!(a.body["spec"]["minReadySeconds"], 3);
    assert!(a.body["spec"].get("x").is_none());
}

#[test]
fn server_side_apply() {
    let server = Apiserver::start();
    let port = server.port;
    let path = |q: &str| format!("{DEPLOYMENTS}/ssa?fieldManager=test{q}");
    let config = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ssa\nspec:\n  replicas: 1\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n";

    // A field the schema does not declare fails whatever fieldValidation says.
    let undeclared = config.replace("  replicas: 1\n", "  foo: 1\n");
    for q in ["&fieldValidation=Ignore", ""] {
        let a = request(
            port,
            "PATCH",
            &path(q),
            "application/apply-patch+yaml",
            undeclared.as_bytes(),
        );
        assert_eq!(a.code, 500, "{}", a.body);
        assert_eq!(
            a.body["message"],
            "failed to create typed patch object (default/ssa; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema"
        );
    }

    // Repeated keys: Strict refuses, Warn warns, Ignore is silent.
    let a = request(
        port,
        "PATCH",
        &path("&fieldValidation=Strict"),
        "application/apply-patch+yaml",
        config.as_bytes(),
    );
    assert_eq!(a.code, 400, "{}", a.body);
    assert_eq!(
        a.body["message"],
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key \"replicas\" already set in map"
    );
    assert_eq!(get(port, &format!("{DEPLOYMENTS}/ssa")).code, 404);
    let a = request(
        port,
        "PATCH",
        &path(""),
        "application/apply-patch+yaml",
        config.as_bytes(),
    );
    assert_eq!(a.code, 201, "{}", a.body);
    assert_eq!(
        a.warnings,
        [header(r#"line 7: key "replicas" already set in map"#)]
    );
    assert_eq!(a.body["spec"]["replicas"], 2);
    let a = request(
        port,
        "PATCH",
        &path("&fieldValidation=Ignore"),
        "application/apply-patch+yaml",
        config.as_bytes(),
    );
    assert_eq!(a.code, 200, "{}", a.body);
    assert!(a.warnings.is_empty());
}

const MANIFEST: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  foo: bar
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: nginx
";

#[test]
fn kubectl_strict_warn_and_ignore() {
    let server = Apiserver::start();
    for (i, bin) in kubectl_versions().iter().enumerate() {
        let file = server.data_dir().join(format!("deploy-{i}.yaml"));
        let name = format!("kc-{i}");
        std::fs::write(&file, MANIFEST.replace("NAME", &name)).unwrap();
        let file = file.to_str().unwrap();

        // Strict is kubectl's default.
        let (ok, out, err) = server.kubectl(bin, &["create", "-f", file]);
        assert!(!ok, "{bin}: {out}");
        assert_eq!(
            err.trim_end(),
            format!(
                "Error from server (BadRequest): error when creating \"{file}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.foo\""
            ),
            "{bin}"
        );

        let (ok, out, err) = server.kubectl(bin, &["create", "-f", file, "--validate=warn"]);
        assert!(ok, "{bin}: {err}");
        assert!(
            out.contains(&format!("deployment.apps/{name} created")),
            "{bin}: {out}"
        );
        assert_eq!(
            err.trim_end(),
            "Warning: unknown field \"spec.foo\"",
            "{bin}"
        );

        let (ok, out, _) = server.kubectl(bin, &["get", "deployment", &name, "-o", "json"]);
        assert!(ok, "{bin}");
        let obj: Value = serde_json::from_str(&out).unwrap();
        assert!(obj["spec"].get("foo").is_none(), "{bin}: stored {obj}");

        let (ok, _, err) = server.kubectl(bin, &["delete", "deployment", &name]);
        assert!(ok, "{bin}: {err}");
        let (ok, _, err) = server.kubectl(bin, &["create", "-f", file, "--validate=false"]);
        assert!(ok, "{bin}: {err}");
        assert!(!err.contains("Warning"), "{bin}: {err}");
    }
}
