//! 10,000 malformed or random requests: no 5xx, no crash, the server still answers.

mod common;

use common::{raw, Apiserver};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PATHS: &[&str] = &[
    "/api",
    "/api/v1",
    "/apis",
    "/apis/apps/v1",
    "/version",
    "/api/v1/pods",
    "/api/v1/namespaces/default/pods",
    "/api/v1/namespaces/default/pods/p",
    "/api/v1/namespaces/default/services",
    "/api/v1/namespaces/default/configmaps/c",
    "/apis/apps/v1/namespaces/default/deployments",
    "/apis/apps/v1/namespaces/default/deployments/d/scale",
    "/api/v1/namespaces",
    "/api/v1/namespaces/x/status",
    "/api/v1/nodes/n",
    "/api/v1/namespaces/default/pods/p/status",
    "/apis/batch/v1/namespaces/default/jobs",
    "/api/v1/namespaces/default/pods/p/binding",
    "/openapi/v2",
];
const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "BREW",
];
const TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
    "",
];
const BODIES: &[&str] = &[
    "{", "[]", "null", "1", "\"s\"", "{\"kind\":\"Pod\"}", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"UPPER\"}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}",
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"abc\"}}",
    "[{\"op\":\"replace\",\"path\":\"/spec/x/y/z\",\"value\":1}]", "[{\"op\":\"nope\"}]", "{\"spec\":{\"replicas\":\"x\"}}",
    "{\"metadata\":{\"labels\":{\"a\":{}}}}", "k8s\0garbage", "apiVersion: v1\nkind: [", "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":-5}}",
];
const QUERIES: &[&str] = &[
    "",
    "?labelSelector=a%3D%3D%3D",
    "?fieldSelector=spec.bogus%3D1",
    "?limit=-1",
    "?limit=x",
    "?continue=zzz",
    "?resourceVersion=abc",
    "?resourceVersionMatch=Exact",
    "?watch=maybe",
    "?dryRun=Some",
    "?fieldValidation=Loose",
    "?labelSelector=a+in+(b",
    "?gracePeriodSeconds=-3",
    "?propagationPolicy=Never",
    "?unknown=1",
    "?limit=1&resourceVersion=0",
];

fn mutate_path(rng: &mut StdRng, p: &str) -> String {
    match rng.gen_range(0..6) {
        0 => p.replace("default", ".."),
        1 => format!("{p}/%2F../x"),
        2 => p.replace('/', "//"),
        3 => format!("{p}/{}", "a".repeat(rng.gen_range(1..400))),
        4 => p.replace("default", "Not_A-Name"),
        _ => p.to_string(),
    }
}

#[test]
fn ten_thousand_bad_requests_never_5xx() {
    let server = Apiserver::start();
    let mut rng = StdRng::seed_from_u64(0x6b38_7300);
    let mut fives = Vec::new();
    for i in 0..10_000 {
        let method = METHODS[rng.gen_range(0..METHODS.len())];
        let base = PATHS[rng.gen_range(0..PATHS.len())];
        let query = QUERIES[rng.gen_range(0..QUERIES.len())];
        let path = format!("{}{query}", mutate_path(&mut rng, base));
        let ct = TYPES[rng.gen_range(0..TYPES.len())];
        let mut body: Vec<u8> = BODIES[rng.gen_range(0..BODIES.len())].as_bytes().to_vec();
        if rng.gen_bool(0.2) {
            let n = rng.gen_range(0..256);
            body = (0..n).map(|_| rng.gen()).collect();
        }
        if i % 2500 == 0 {
            body = vec![b' '; 3 * 1024 * 1024 + 10];
        }
        let mut headers = vec![("Content-Type", ct)];
        if rng.gen_bool(0.1) {
            headers.push(("Accept", "text/html"));
        }
        let (code, out) = raw(server.port, method, &path, &headers, &body)
            .unwrap_or_else(|e| panic!("request {i} {method} {path}: {e}"));
        if code >= 500 {
            fives.push(format!(
                "{code} {method} {path} {ct}: {}",
                String::from_utf8_lossy(&out)
            ));
        }
    }
    assert!(
        fives.is_empty(),
        "{} 5xx answers, first: {:?}",
        fives.len(),
        fives.first()
    );
    let (code, _) = raw(server.port, "GET", "/api/v1/namespaces", &[], b"").unwrap();
    assert_eq!(code, 200, "server still answers");
}
