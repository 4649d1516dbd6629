//! Static pod manifests (`--pod-manifest-path`) read into pods as upstream's file source
//! does, with no I/O beyond the caller's: the name gets the node's name as a suffix, the
//! UID is a hash of the manifest, and the config annotations are set.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Toleration};
use sha2::{Digest, Sha256};

pub const CONFIG_HASH: &str = "kubernetes.io/config.hash";
pub const CONFIG_MIRROR: &str = "kubernetes.io/config.mirror";
pub const CONFIG_SOURCE: &str = "kubernetes.io/config.source";
pub const CONFIG_SEEN: &str = "kubernetes.io/config.seen";

/// A manifest that is not a pod, with why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("static pod manifest {file}: {reason}")]
pub struct ManifestError {
    pub file: String,
    pub reason: String,
}

/// The pod a manifest file describes (YAML or JSON), ready to run on `node`.
pub fn pod_from_manifest(file: &str, text: &str, node: &str) -> Result<Pod, ManifestError> {
    let error = |reason: String| ManifestError {
        file: file.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_saphyr::from_str(text).map_err(|e| error(format!("not YAML or JSON: {e}")))?;
    let kind = value.get("kind").and_then(|k| k.as_str()).unwrap_or("");
    if kind != "Pod" {
        return Err(error(format!("kind {kind:?}, not Pod")));
    }
    let mut pod: Pod =
        serde_json::from_value(value).map_err(|e| error(format!("not a valid Pod: {e}")))?;
    let name = pod.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(error("the pod has no name".into()));
    }
    let Some(spec) = pod.spec.as_mut() else {
        return Err(error("the pod has no spec".into()));
    };
    if spec.containers.is_empty() {
        return Err(error("the pod has no containers".into()));
    }
    spec.node_name = Some(node.to_string());
    // Static pods tolerate every NoExecute taint, as upstream's file source sets.
    spec.tolerations
        .get_or_insert_with(Vec::new)
        .push(Toleration {
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            ..Toleration::default()
        });
    let hash = {
        let mut hasher = Sha256::new();
        hasher.update(node.as_bytes());
        hasher.update([0]);
        hasher.update(file.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.finalize()
    };
    let uid: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    let meta = &mut pod.metadata;
    meta.name = Some(format!("{name}-{}", node.to_lowercase()));
    if meta.namespace.as_deref().unwrap_or("").is_empty() {
        meta.namespace = Some("default".into());
    }
    meta.uid = Some(uid.clone());
    let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert(CONFIG_HASH.into(), uid);
    annotations.insert(CONFIG_SOURCE.into(), "file".into());
    Ok(pod)
}

/// Whether a pod in the API is the mirror of a static pod.
pub fn is_mirror(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(CONFIG_MIRROR))
}

/// Files upstream's file source reads: regular files not starting with a dot.
pub fn is_manifest_name(name: &str) -> bool {
    !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n  - name: main\n    image: busybox\n";

    #[test]
    fn manifests_become_node_pods() {
        let pod = pod_from_manifest("/m/web.yaml", YAML, "Node0").unwrap();
        assert_eq!(pod.metadata.name.as_deref(), Some("web-node0"));
        assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.node_name.as_deref(), Some("Node0"));
        let uid = pod.metadata.uid.clone().unwrap();
        assert_eq!(uid.len(), 32);
        let annotations = pod.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[CONFIG_HASH], uid);
        assert_eq!(annotations[CONFIG_SOURCE], "file");
        // The same manifest is the same pod; a changed one is another.
        let again = pod_from_manifest("/m/web.yaml", YAML, "Node0").unwrap();
        assert_eq!(again.metadata.uid, pod.metadata.uid);
        let changed = pod_from_manifest("/m/web.yaml", &YAML.replace("busybox", "b2"), "Node0");
        assert_ne!(changed.unwrap().metadata.uid, pod.metadata.uid);
        let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "namespace": "kube-system"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}"#;
        let pod = pod_from_manifest("/m/j.json", json, "n").unwrap();
        assert_eq!(pod.metadata.namespace.as_deref(), Some("kube-system"));
    }

    #[test]
    fn bad_manifests_are_errors() {
        for text in [
            "kind: Service\nmetadata: {name: s}\n",
            "kind: Pod\nmetadata: {name: p}\n",
            "kind: Pod\nspec: {containers: [{name: c}]}\n",
            ": : :",
            "kind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n",
        ] {
            assert!(pod_from_manifest("f", text, "n").is_err(), "{text}");
        }
        assert!(!is_manifest_name(".swp") && is_manifest_name("web.yaml"));
    }
}
