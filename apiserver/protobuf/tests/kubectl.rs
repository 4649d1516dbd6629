//! Request bodies captured from a real kubectl (v1.32.4, which sends
//! `Content-Type: application/vnd.kubernetes.protobuf` for `kubectl create`)
//! against a throwaway local listener:
//!
//! ```text
//! kubectl create configmap x --from-literal=a=b
//! kubectl create secret generic s --from-literal=pw=hunter2
//! kubectl create service nodeport web --tcp=80:8080
//! kubectl create deployment web --image=nginx --replicas=0 --port=80
//! ```
//!
//! Go writes every non-pointer field, zero or not; the JSON must be what
//! `kubectl create ... -o json` would have sent.

use rkube_protobuf::{decode, encode};
use serde_json::{json, Value};

const CONFIGMAP: &str = concat!(
    "6b3873000a0f0a0276311209436f6e6669674d617012220a180a017812001a0764656661756c7422",
    "002a0032003800420012060a01611201621a002200",
);

const SECRET: &str = concat!(
    "6b3873000a0c0a0276311206536563726574122b0a180a017312001a0764656661756c7422002a00",
    "320038004200120d0a027077120768756e746572321a001a002200",
);

const SERVICE: &str = concat!(
    "6b3873000a0d0a027631120753657276696365126f0a260a0377656212001a0764656661756c7422",
    "002a003200380042005a0a0a03617070120377656212410a1b0a0738302d38303830120354435018",
    "502207080010903f1a002800120a0a0361707012037765621a0022084e6f6465506f72743a004200",
    "52005a00600068001a020a001a002200",
);

const DEPLOYMENT: &str = concat!(
    "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bf010a260a0377656212001a",
    "0764656661756c7422002a003200380042005a0a0a0361707012037765621286010800120c0a0a0a",
    "0361707012037765621a6c0a1c0a0012001a0022002a003200380042005a0a0a0361707012037765",
    "62124c122e0a056e67696e7812056e67696e782a00320a0a001000185022002a0042006a00720080",
    "0100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022",
    "020a00280038001a0c0800100018002000280038001a002200",
);

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn check(hex: &str, want: Value) {
    let body = unhex(hex);
    let got = decode(&body).unwrap();
    assert_eq!(got.to_string(), want.to_string());
    // Our encoding leaves zero non-pointer fields out, so it is shorter, but
    // it must carry the same object.
    let again = encode(&got).unwrap();
    assert!(again.len() <= body.len());
    assert_eq!(decode(&again).unwrap(), want);
}

#[test]
fn kubectl_create_configmap() {
    check(
        CONFIGMAP,
        json!({"kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "x", "namespace": "default"}, "data": {"a": "b"}}),
    );
}

#[test]
fn kubectl_create_secret() {
    check(
        SECRET,
        json!({"kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "s", "namespace": "default"}, "data": {"pw": "aHVudGVyMg=="}}),
    );
}

#[test]
fn kubectl_create_service() {
    check(
        SERVICE,
        json!({"kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
            "selector": {"app": "web"}, "type": "NodePort"}}),
    );
}

#[test]
fn kubectl_create_deployment() {
    check(
        DEPLOYMENT,
        json!({"kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}}),
    );
}
