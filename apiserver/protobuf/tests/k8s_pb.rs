//! Decoding bytes produced by an independent implementation (the prost types
//! of the `k8s-pb` crate), laid out as Go's marshaller writes them: non-pointer
//! fields are always present, zero or not.

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::api::resource::Quantity;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message;
use rkube_protobuf::{decode, decode_watch_event, encode, encode_watch_event, MAGIC};
use serde_json::json;

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

/// Wraps a message in the envelope exactly as the Go serializer does.
fn envelope(api_version: &str, kind: &str, msg: &impl Message) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: s(api_version),
            kind: s(kind),
        }),
        raw: Some(msg.encode_to_vec()),
        content_encoding: s(""),
        content_type: s(""),
    };
    let mut body = MAGIC.to_vec();
    body.extend(unknown.encode_to_vec());
    body
}

/// ObjectMeta as Go writes it: every non-pointer field present.
fn go_meta(name: &str, namespace: &str) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(namespace),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        ..Default::default()
    }
}

#[test]
fn configmap_from_k8s_pb() {
    let mut cm = core::ConfigMap {
        metadata: Some(go_meta("x", "")),
        immutable: None,
        ..Default::default()
    };
    cm.data.insert("a".into(), "b".into());
    cm.binary_data.insert("bin".into(), vec![0, 0xff]);
    let v = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
    assert_eq!(
        v.to_string(),
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"},
               "data": {"a": "b"}, "binaryData": {"bin": "AP8="}})
        .to_string()
    );
}

#[test]
fn deployment_pointer_zeros_survive() {
    let zero_int = IntOrString {
        r#type: Some(0),
        int_val: Some(0),
        str_val: s(""),
    };
    let pct = IntOrString {
        r#type: Some(1),
        int_val: Some(0),
        str_val: s("25%"),
    };
    let container = core::Container {
        name: s("web"),
        image: s("nginx"),
        ports: vec![core::ContainerPort {
            name: s(""),
            host_port: Some(0),
            container_port: Some(80),
            protocol: s("TCP"),
            host_ip: s(""),
        }],
        resources: Some(core::ResourceRequirements::default()),
        termination_message_path: s(""),
        stdin: Some(false),
        ..Default::default()
    };
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("app".to_string(), "web".to_string());
    let d = apps::Deployment {
        metadata: Some(meta::ObjectMeta {
            labels: labels.clone(),
            ..go_meta("web", "prod")
        }),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(0),
            selector: Some(meta::LabelSelector {
                match_labels: labels.clone(),
                ..Default::default()
            }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(meta::ObjectMeta {
                    labels,
                    ..go_meta("", "")
                }),
                spec: Some(core::PodSpec {
                    containers: vec![container],
                    restart_policy: s(""),
                    termination_grace_period_seconds: Some(0),
                    host_network: Some(false),
                    automount_service_account_token: Some(false),
                    security_context: Some(core::PodSecurityContext::default()),
                    ..Default::default()
                }),
            }),
            strategy: Some(apps::DeploymentStrategy {
                r#type: s("RollingUpdate"),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_unavailable: Some(zero_int.clone()),
                    max_surge: Some(pct),
                }),
            }),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            replicas: Some(0),
            ..Default::default()
        }),
    };
    let v = decode(&envelope("apps/v1", "Deployment", &d)).unwrap();
    let want = json!({
      "kind": "Deployment", "apiVersion": "apps/v1",
      "metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}},
      "spec": {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
          "spec": {"containers": [{"name": "web", "image": "nginx",
              "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
            "terminationGracePeriodSeconds": 0, "automountServiceAccountToken": false,
            "securityContext": {}}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
      }
    });
    assert_eq!(v, want);
    assert_eq!(v.to_string(), want.to_string());
}

#[test]
fn pod_inline_fields_and_required_scalars() {
    let pod = core::Pod {
        metadata: Some(go_meta("p", "default")),
        spec: Some(core::PodSpec {
            volumes: vec![core::Volume {
                name: s("cache"),
                volume_source: Some(core::VolumeSource {
                    empty_dir: Some(core::EmptyDirVolumeSource::default()),
                    ..Default::default()
                }),
            }],
            containers: vec![core::Container {
                name: s("c"),
                env: vec![core::EnvVar {
                    name: s("P"),
                    value: s(""),
                    value_from: Some(core::EnvVarSource {
                        secret_key_ref: Some(core::SecretKeySelector {
                            local_object_reference: Some(core::LocalObjectReference {
                                name: s("creds"),
                            }),
                            key: s("pw"),
                            optional: None,
                        }),
                        ..Default::default()
                    }),
                }],
                liveness_probe: Some(core::Probe {
                    handler: Some(core::ProbeHandler {
                        http_get: Some(core::HttpGetAction {
                            port: Some(IntOrString {
                                r#type: Some(0),
                                int_val: Some(8080),
                                str_val: s(""),
                            }),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    period_seconds: Some(10),
                    ..Default::default()
                }),
                resources: Some(core::ResourceRequirements {
                    limits: [("cpu".to_string(), Quantity { string: s("500m") })].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        status: Some(core::PodStatus {
            container_statuses: vec![core::ContainerStatus {
                name: s("c"),
                state: Some(core::ContainerState::default()),
                started: Some(false),
                ..Default::default()
            }],
            start_time: Some(meta::Time {
                seconds: Some(1_704_164_645),
                nanos: Some(0),
            }),
            ..Default::default()
        }),
    };
    let v = decode(&envelope("v1", "Pod", &pod)).unwrap();
    assert_eq!(
        v,
        json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "default"},
          "spec": {"volumes": [{"name": "cache", "emptyDir": {}}],
            "containers": [{"name": "c",
              "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}],
              "resources": {"limits": {"cpu": "500m"}},
              "livenessProbe": {"httpGet": {"port": 8080}, "periodSeconds": 10}}]},
          "status": {"startTime": "2024-01-02T03:04:05Z",
            "containerStatuses": [{"name": "c", "ready": false, "restartCount": 0, "image": "",
              "imageID": "", "started": false}]}})
    );
}

#[test]
fn lease_microtime_and_secret_bytes() {
    let lease = coordination::Lease {
        metadata: Some(go_meta("l", "kube-system")),
        spec: Some(coordination::LeaseSpec {
            holder_identity: s("me"),
            renew_time: Some(meta::MicroTime {
                seconds: Some(1_704_164_645),
                nanos: Some(123_456_789),
            }),
            lease_transitions: Some(0),
            ..Default::default()
        }),
    };
    let v = decode(&envelope("coordination.k8s.io/v1", "Lease", &lease)).unwrap();
    assert_eq!(
        v["spec"],
        json!({"holderIdentity": "me", "renewTime": "2024-01-02T03:04:05.123456Z",
      "leaseTransitions": 0})
    );

    let mut secret = core::Secret {
        metadata: Some(go_meta("s", "default")),
        r#type: s("Opaque"),
        ..Default::default()
    };
    secret
        .data
        .insert("k".into(), b"\x00\x01hunter2\xff".to_vec());
    let v = decode(&envelope("v1", "Secret", &secret)).unwrap();
    assert_eq!(v["data"], json!({"k": "AAFodW50ZXIy/w=="}));
    assert_eq!(v["type"], json!("Opaque"));
}

#[test]
fn encoded_objects_read_by_k8s_pb() {
    let svc = json!({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web", "labels": {"b": "2", "a": "1"}},
      "spec": {"ports": [{"port": 80, "targetPort": "http"}, {"port": 81, "targetPort": 8081}],
        "allocateLoadBalancerNodePorts": false}});
    let body = encode(&svc).unwrap();
    let unknown = Unknown::decode(&body[4..]).unwrap();
    assert_eq!(
        unknown.type_meta.as_ref().unwrap().kind.as_deref(),
        Some("Service")
    );
    assert_eq!(unknown.content_type.as_deref(), Some(""));
    let got = core::Service::decode(unknown.raw.as_deref().unwrap()).unwrap();
    let spec = got.spec.unwrap();
    let target = |i: usize| spec.ports[i].target_port.clone().unwrap();
    assert_eq!(
        (target(0).r#type, target(0).str_val.as_deref()),
        (Some(1), Some("http"))
    );
    assert_eq!((target(1).r#type, target(1).int_val), (Some(0), Some(8081)));
    assert_eq!(spec.allocate_load_balancer_node_ports, Some(false));
    let meta = got.metadata.unwrap();
    assert_eq!(meta.labels.get("a").map(String::as_str), Some("1"));

    let pod = json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p",
        "creationTimestamp": "2024-01-02T03:04:05Z"},
      "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": "64Mi", "cpu": 1}}}],
        "securityContext": {"supplementalGroups": [-5]}}});
    let raw = Unknown::decode(&encode(&pod).unwrap()[4..])
        .unwrap()
        .raw
        .unwrap();
    let got = core::Pod::decode(raw.as_slice()).unwrap();
    let ts = got.metadata.unwrap().creation_timestamp.unwrap();
    assert_eq!((ts.seconds, ts.nanos), (Some(1_704_164_645), Some(0)));
    let spec = got.spec.unwrap();
    let req = &spec.containers[0].resources.as_ref().unwrap().requests;
    assert_eq!(req["cpu"].string.as_deref(), Some("1"));
    assert_eq!(req["memory"].string.as_deref(), Some("64Mi"));
    assert_eq!(spec.security_context.unwrap().supplemental_groups, vec![-5]);
}

#[test]
fn watch_frame_read_by_k8s_pb() {
    let cm = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}, "data": {"k": "v"}});
    let frame = encode_watch_event("MODIFIED", &cm).unwrap();
    let event = meta::WatchEvent::decode(&frame[4..]).unwrap();
    assert_eq!(event.r#type.as_deref(), Some("MODIFIED"));
    let raw = event.object.unwrap().raw.unwrap();
    assert_eq!(decode(&raw).unwrap(), cm);

    // And a frame built with k8s-pb decodes here.
    let deleted = meta::WatchEvent {
        r#type: s("DELETED"),
        object: Some(RawExtension {
            raw: Some(envelope(
                "v1",
                "ConfigMap",
                &core::ConfigMap {
                    metadata: Some(go_meta("c", "")),
                    ..Default::default()
                },
            )),
        }),
    };
    let body = deleted.encode_to_vec();
    let mut frame = (body.len() as u32).to_be_bytes().to_vec();
    frame.extend(body);
    let (ty, obj) = decode_watch_event(&frame).unwrap();
    assert_eq!(ty, "DELETED");
    assert_eq!(
        obj,
        json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}})
    );
}
