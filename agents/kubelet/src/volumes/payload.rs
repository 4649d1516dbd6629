//! The files of API-backed volumes (configMap, secret, downwardAPI, projected), computed
//! from the cached objects with no I/O.

use k8s_openapi::api::core::v1::{
    ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, ProjectedVolumeSource, Secret,
};

use super::atomic_writer::{FileData, Payload};
use super::VolumeError;
use crate::downward::{self, NodeFacts};
use crate::objects::{secret_entries, Objects};

/// Upstream's default file mode for configMap, secret, downwardAPI and projected volumes.
pub const DEFAULT_MODE: i32 = 0o644;

fn mode(item: Option<i32>, default: Option<i32>) -> u32 {
    (item.or(default).unwrap_or(DEFAULT_MODE) & 0o7777) as u32
}

/// Files from a key → bytes map: every key, or only `items` (a missing key is an error
/// unless `optional`).
fn from_keys(
    entries: &std::collections::BTreeMap<String, Vec<u8>>,
    items: Option<&Vec<KeyToPath>>,
    default_mode: Option<i32>,
    optional: bool,
    missing_key: impl Fn(&str) -> VolumeError,
) -> Result<Payload, VolumeError> {
    let mut payload = Payload::new();
    match items.filter(|i| !i.is_empty()) {
        None => {
            for (key, data) in entries {
                payload.insert(
                    key.clone(),
                    FileData {
                        data: data.clone(),
                        mode: mode(None, default_mode),
                    },
                );
            }
        }
        Some(items) => {
            for item in items {
                let Some(data) = entries.get(&item.key) else {
                    if optional {
                        continue;
                    }
                    return Err(missing_key(&item.key));
                };
                payload.insert(
                    item.path.clone(),
                    FileData {
                        data: data.clone(),
                        mode: mode(item.mode, default_mode),
                    },
                );
            }
        }
    }
    Ok(payload)
}

fn config_map_entries(cm: &ConfigMap) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out: std::collections::BTreeMap<String, Vec<u8>> = cm
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    for (k, v) in cm.binary_data.iter().flatten() {
        out.insert(k.clone(), v.0.clone());
    }
    out
}

pub fn config_map(
    objects: &dyn Objects,
    namespace: &str,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    default_mode: Option<i32>,
    optional: bool,
) -> Result<Payload, VolumeError> {
    match objects.config_map(namespace, name) {
        Some(cm) => from_keys(
            &config_map_entries(&cm),
            items,
            default_mode,
            optional,
            |key| VolumeError::ConfigMapKey(key.to_string()),
        ),
        None if optional => Ok(Payload::new()),
        None => Err(VolumeError::ConfigMapNotFound(name.to_string())),
    }
}

pub fn secret(
    objects: &dyn Objects,
    namespace: &str,
    name: &str,
    items: Option<&Vec<KeyToPath>>,
    default_mode: Option<i32>,
    optional: bool,
) -> Result<Payload, VolumeError> {
    let found: Option<std::sync::Arc<Secret>> = objects.secret(namespace, name);
    match found {
        Some(s) => from_keys(&secret_entries(&s), items, default_mode, optional, |key| {
            VolumeError::SecretKey(key.to_string())
        }),
        None if optional => Ok(Payload::new()),
        None => Err(VolumeError::SecretNotFound(name.to_string())),
    }
}

pub fn downward_api(
    pod: &Pod,
    items: &[DownwardAPIVolumeFile],
    default_mode: Option<i32>,
    facts: &NodeFacts,
) -> Result<Payload, VolumeError> {
    let mut payload = Payload::new();
    for item in items {
        let text = if let Some(f) = &item.field_ref {
            downward::object_field(pod, f, facts)?
        } else if let Some(r) = &item.resource_field_ref {
            downward::container_resource(pod, None, r, facts)?
        } else {
            continue;
        };
        payload.insert(
            item.path.clone(),
            FileData {
                data: text.into_bytes(),
                mode: mode(item.mode, default_mode),
            },
        );
    }
    Ok(payload)
}

pub fn projected(
    pod: &Pod,
    source: &ProjectedVolumeSource,
    objects: &dyn Objects,
    facts: &NodeFacts,
) -> Result<Payload, VolumeError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let default_mode = source.default_mode;
    let mut payload = Payload::new();
    for s in source.sources.iter().flatten() {
        let part = if let Some(cm) = &s.config_map {
            config_map(
                objects,
                namespace,
                &cm.name,
                cm.items.as_ref(),
                default_mode,
                cm.optional == Some(true),
            )?
        } else if let Some(secret_source) = &s.secret {
            secret(
                objects,
                namespace,
                &secret_source.name,
                secret_source.items.as_ref(),
                default_mode,
                secret_source.optional == Some(true),
            )?
        } else if let Some(d) = &s.downward_api {
            downward_api(
                pod,
                d.items.as_deref().unwrap_or_default(),
                default_mode,
                facts,
            )?
        } else if let Some(token) = &s.service_account_token {
            // The seam for the TokenRequest API (the security issue): until it exists the
            // kubelet has no token to write, and says so rather than writing a fake one.
            return Err(VolumeError::ServiceAccountToken(token.path.clone()));
        } else {
            return Err(VolumeError::Unsupported(
                "a projected source other than configMap, secret, downwardAPI".into(),
            ));
        };
        payload.extend(part);
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::fake::FakeObjects;
    use serde_json::json;

    fn objects() -> FakeObjects {
        FakeObjects::default()
            .with_config_map(json!({"metadata": {"namespace": "ns", "name": "cfg"},
                "data": {"a": "1", "b": "2"}, "binaryData": {"bin": "AAE="}}))
            .with_secret(json!({"metadata": {"namespace": "ns", "name": "s"},
                "data": {"token": "c2VjcmV0"}}))
    }

    fn items(v: serde_json::Value) -> Vec<KeyToPath> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn config_maps_all_keys_or_items() {
        let o = objects();
        let all = config_map(&o, "ns", "cfg", None, None, false).unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b", "bin"]);
        assert_eq!(all["bin"].data, [0, 1]);
        assert_eq!(all["a"].mode, 0o644);
        let picked = items(json!([{"key": "b", "path": "dir/bee", "mode": 0o400}]));
        let some = config_map(&o, "ns", "cfg", Some(&picked), Some(0o600), false).unwrap();
        assert_eq!(some.keys().collect::<Vec<_>>(), ["dir/bee"]);
        assert_eq!(some["dir/bee"].mode, 0o400);
        let missing = items(json!([{"key": "zz", "path": "z"}]));
        assert_eq!(
            config_map(&o, "ns", "cfg", Some(&missing), None, false)
                .unwrap_err()
                .to_string(),
            "configmap references non-existent config key: zz"
        );
        assert!(config_map(&o, "ns", "cfg", Some(&missing), None, true)
            .unwrap()
            .is_empty());
        assert_eq!(
            config_map(&o, "ns", "nope", None, None, false)
                .unwrap_err()
                .to_string(),
            "configmap \"nope\" not found"
        );
        assert!(config_map(&o, "ns", "nope", None, None, true)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn secrets_and_projections() {
        let o = objects();
        let s = secret(&o, "ns", "s", None, Some(0o400), false).unwrap();
        assert_eq!(s["token"].data, b"secret");
        assert_eq!(s["token"].mode, 0o400);
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "labels": {"app": "x"}},
            "spec": {"containers": [{"name": "c"}]}
        }))
        .unwrap();
        let source: ProjectedVolumeSource = serde_json::from_value(json!({"defaultMode": 0o440, "sources": [
            {"configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.txt"}]}},
            {"secret": {"name": "s"}},
            {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        ]}))
        .unwrap();
        let p = projected(&pod, &source, &o, &NodeFacts::default()).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["a.txt", "labels", "token"]);
        assert_eq!(p["labels"].data, b"app=\"x\"");
        assert_eq!(p["a.txt"].mode, 0o440);
        let token: ProjectedVolumeSource = serde_json::from_value(
            json!({"sources": [{"serviceAccountToken": {"path": "token"}}]}),
        )
        .unwrap();
        let err = projected(&pod, &token, &o, &NodeFacts::default()).unwrap_err();
        assert!(err.to_string().contains("not available yet"), "{err}");
    }
}
