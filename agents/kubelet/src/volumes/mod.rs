//! A pod's volumes under its directory in the root dir, laid out as upstream's kubelet
//! does (`pods/<uid>/volumes/kubernetes.io~<plugin>/<name>`): emptyDir (disk or tmpfs),
//! hostPath (type-checked), and the API-backed configMap, secret, downwardAPI and
//! projected volumes, rewritten atomically when their objects change. Then each
//! container's volumeMounts become bind mounts (readOnly, subPath).

pub mod atomic_writer;
pub mod host;
pub mod ownership;
pub mod payload;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod, Volume};

use crate::downward::{DownwardError, NodeFacts};
use crate::init::Bind;
use crate::objects::Objects;
use crate::runtime::spec;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("configmap references non-existent config key: {0}")]
    ConfigMapKey(String),
    #[error("secret references non-existent secret key: {0}")]
    SecretKey(String),
    #[error(transparent)]
    Downward(#[from] DownwardError),
    #[error("serviceAccountToken projection {0:?}: service account tokens are not available yet (this cluster has no TokenRequest API)")]
    ServiceAccountToken(String),
    #[error("{0}")]
    HostPathType(String),
    #[error("volume type not supported: {0}")]
    Unsupported(String),
    #[error("{0}")]
    SubPath(String),
    #[error("{0}")]
    Io(String),
}

impl VolumeError {
    pub fn io(path: &Path, e: std::io::Error) -> VolumeError {
        VolumeError::Io(format!("{}: {e}", path.display()))
    }
}

/// A volume that could not be set up, with upstream's message shape.
#[derive(Debug, Clone, thiserror::Error)]
#[error("MountVolume.SetUp failed for volume \"{volume}\" : {error}")]
pub struct SetUpError {
    pub volume: String,
    pub error: VolumeError,
}

/// Where each of a pod's volumes is on the node.
#[derive(Debug, Clone, Default)]
pub struct PodVolumes {
    paths: HashMap<String, PathBuf>,
    /// configMap, secret, downwardAPI and projected volumes: always mounted read-only.
    read_only: std::collections::HashSet<String>,
}

/// `<pod dir>/volumes/kubernetes.io~<plugin>/<name>`.
fn volume_dir(pod_dir: &Path, plugin: &str, name: &str) -> PathBuf {
    pod_dir
        .join("volumes")
        .join(format!("kubernetes.io~{plugin}"))
        .join(name)
}

impl PodVolumes {
    /// Sets up every volume of the pod, or brings it up to date; idempotent, so it runs on
    /// every sync of the pod.
    pub fn sync(
        pod_dir: &Path,
        pod: &Pod,
        objects: &dyn Objects,
        facts: &NodeFacts,
    ) -> Result<PodVolumes, SetUpError> {
        let mut volumes = PodVolumes::default();
        for volume in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let set_up = Self::set_up(pod_dir, pod, volume, objects, facts);
            let (path, read_only) = set_up.map_err(|error| SetUpError {
                volume: volume.name.clone(),
                error,
            })?;
            volumes.paths.insert(volume.name.clone(), path);
            if read_only {
                volumes.read_only.insert(volume.name.clone());
            }
        }
        Ok(volumes)
    }

    fn set_up(
        pod_dir: &Path,
        pod: &Pod,
        volume: &Volume,
        objects: &dyn Objects,
        facts: &NodeFacts,
    ) -> Result<(PathBuf, bool), VolumeError> {
        let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
        let name = &volume.name;
        let fs_group = pod
            .spec
            .as_ref()
            .and_then(|s| s.security_context.as_ref())
            .and_then(|s| s.fs_group)
            .and_then(|g| u32::try_from(g).ok());
        if let Some(empty) = &volume.empty_dir {
            let dir = volume_dir(pod_dir, "empty-dir", name);
            let fresh = !dir.exists();
            if empty.medium.as_deref() == Some("Memory") {
                host::ensure_tmpfs(&dir, memory_size(pod, empty.size_limit.as_ref()))?;
            } else {
                host::ensure_dir(&dir, 0o777)?;
            }
            // Once, when made: what the containers write there later is theirs.
            if let (true, Some(group)) = (fresh, fs_group) {
                ownership::set_volume_ownership(&dir, group, false)
                    .map_err(|e| VolumeError::io(&dir, e))?;
            }
            return Ok((dir, false));
        }
        if let Some(hp) = &volume.host_path {
            let path = PathBuf::from(&hp.path);
            host::check_host_path(&path, hp.type_.as_deref().unwrap_or(""))?;
            return Ok((path, false));
        }
        let (plugin, tmpfs, payload) = if let Some(cm) = &volume.config_map {
            let payload = payload::config_map(
                objects,
                namespace,
                &cm.name,
                cm.items.as_ref(),
                cm.default_mode,
                cm.optional == Some(true),
            )?;
            ("configmap", false, payload)
        } else if let Some(s) = &volume.secret {
            let secret_name = s.secret_name.as_deref().unwrap_or("");
            let payload = payload::secret(
                objects,
                namespace,
                secret_name,
                s.items.as_ref(),
                s.default_mode,
                s.optional == Some(true),
            )?;
            ("secret", true, payload)
        } else if let Some(d) = &volume.downward_api {
            let items = d.items.as_deref().unwrap_or_default();
            let payload = payload::downward_api(pod, items, d.default_mode, facts)?;
            ("downward-api", true, payload)
        } else if let Some(p) = &volume.projected {
            (
                "projected",
                true,
                payload::projected(pod, p, objects, facts)?,
            )
        } else {
            return Err(VolumeError::Unsupported(source_kind(volume)));
        };
        let dir = volume_dir(pod_dir, plugin, name);
        if tmpfs {
            // Secrets never touch the disk.
            host::ensure_tmpfs(&dir, None)?;
        }
        let mut payload = payload;
        if fs_group.is_some() {
            // The group read bit fsGroup adds, in the payload itself: otherwise every
            // sync would see modes that differ from the payload's and write it again.
            for file in payload.values_mut() {
                file.mode |= ownership::READ_ONLY;
            }
        }
        let wrote = atomic_writer::write(&dir, &payload).map_err(|e| VolumeError::io(&dir, e))?;
        if let (true, Some(group)) = (wrote, fs_group) {
            ownership::set_volume_ownership(&dir, group, true)
                .map_err(|e| VolumeError::io(&dir, e))?;
        }
        Ok((dir, true))
    }

    /// The container's volumeMounts as bind mounts, parents before what is mounted inside
    /// them. `env` expands `subPathExpr`.
    pub fn binds(&self, c: &Container, env: &[(String, String)]) -> Result<Vec<Bind>, VolumeError> {
        let mut binds = Vec::new();
        for m in c.volume_mounts.iter().flatten() {
            let Some(root) = self.paths.get(&m.name) else {
                return Err(VolumeError::SubPath(format!(
                    "volumeMount {:?}: the pod has no volume {:?}",
                    m.mount_path, m.name
                )));
            };
            let sub_path = match (&m.sub_path, &m.sub_path_expr) {
                (Some(p), _) if !p.is_empty() => p.clone(),
                (_, Some(expr)) if !expr.is_empty() => {
                    let map: HashMap<&str, &str> =
                        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    crate::runtime::env::expand(expr, &|n| map.get(n).map(|v| v.to_string()))
                }
                _ => String::new(),
            };
            let source = if sub_path.is_empty() {
                root.clone()
            } else {
                sub_path_source(root, &sub_path)?
            };
            binds.push(Bind {
                source,
                target: m.mount_path.clone(),
                readonly: m.read_only == Some(true) || self.read_only.contains(&m.name),
            });
        }
        binds.sort_by_key(|b| Path::new(&b.target).components().count());
        Ok(binds)
    }
}

/// `root/sub_path`, created as a directory when missing (as upstream does), and refused
/// when it would lead outside the volume.
fn sub_path_source(root: &Path, sub_path: &str) -> Result<PathBuf, VolumeError> {
    let escapes = Path::new(sub_path)
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return Err(VolumeError::SubPath(format!(
            "subPath {sub_path:?} must be a relative path without '..'"
        )));
    }
    let joined = root.join(sub_path);
    if std::fs::symlink_metadata(&joined).is_err() {
        std::fs::create_dir_all(&joined).map_err(|e| VolumeError::io(&joined, e))?;
    }
    let resolved = joined
        .canonicalize()
        .map_err(|e| VolumeError::io(&joined, e))?;
    let root = root.canonicalize().map_err(|e| VolumeError::io(root, e))?;
    if !resolved.starts_with(&root) {
        return Err(VolumeError::SubPath(format!(
            "subPath {sub_path:?} resolves outside the volume"
        )));
    }
    Ok(resolved)
}

/// A memory-backed emptyDir's size: its sizeLimit, else the pod's memory limit (upstream's
/// SizeMemoryBackedVolumes), else the tmpfs default.
fn memory_size(
    pod: &Pod,
    size_limit: Option<&k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
) -> Option<u64> {
    let pod_limit = spec::pod_limits(pod, spec::qos_class(pod))
        .memory_bytes
        .map(|b| b as u64);
    let limit = size_limit
        .and_then(|q| spec::parse_quantity(&q.0))
        .map(|b| b.ceil() as u64)
        .filter(|b| *b > 0);
    match (limit, pod_limit) {
        (Some(l), Some(p)) => Some(l.min(p)),
        (l, p) => l.or(p),
    }
}

fn source_kind(volume: &Volume) -> String {
    serde_json::to_value(volume)
        .ok()
        .and_then(|v| {
            v.as_object()?
                .keys()
                .find(|k| k.as_str() != "name")
                .cloned()
        })
        .unwrap_or_else(|| "none".into())
}

/// Whether the pod's volumes or environment read this ConfigMap or Secret (`secret`
/// selects the kind), so a change to it must reach the pod.
pub fn pod_references(pod: &Pod, secret: bool, name: &str) -> bool {
    let Some(spec) = pod.spec.as_ref() else {
        return false;
    };
    let volume_uses = |v: &Volume| {
        if secret {
            v.secret.as_ref().and_then(|s| s.secret_name.as_deref()) == Some(name)
                || v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .any(|s| s.secret.as_ref().is_some_and(|s| s.name == name))
        } else {
            v.config_map.as_ref().is_some_and(|c| c.name == name)
                || v.projected
                    .iter()
                    .flat_map(|p| p.sources.iter().flatten())
                    .any(|s| s.config_map.as_ref().is_some_and(|c| c.name == name))
        }
    };
    let container_uses = |c: &Container| {
        c.env.iter().flatten().any(|e| {
            e.value_from.as_ref().is_some_and(|f| {
                if secret {
                    f.secret_key_ref.as_ref().is_some_and(|r| r.name == name)
                } else {
                    f.config_map_key_ref
                        .as_ref()
                        .is_some_and(|r| r.name == name)
                }
            })
        }) || c.env_from.iter().flatten().any(|f| {
            if secret {
                f.secret_ref.as_ref().is_some_and(|r| r.name == name)
            } else {
                f.config_map_ref.as_ref().is_some_and(|r| r.name == name)
            }
        })
    };
    spec.volumes.iter().flatten().any(volume_uses)
        || spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
            .any(container_uses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::fake::FakeObjects;
    use serde_json::json;

    fn pod(volumes: serde_json::Value, mounts: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"volumes": volumes, "containers": [{"name": "c", "volumeMounts": mounts}]}
        }))
        .unwrap()
    }

    #[test]
    fn disk_volumes_and_mounts() {
        let tmp = tempfile::tempdir().unwrap();
        let host = tmp.path().join("host");
        let objects = FakeObjects::default().with_config_map(
            json!({"metadata": {"namespace": "ns", "name": "cfg"}, "data": {"k": "v"}}),
        );
        let p = pod(
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "h", "hostPath": {"path": host.to_str().unwrap(), "type": "DirectoryOrCreate"}},
                {"name": "cfg", "configMap": {"name": "cfg"}},
            ]),
            json!([
                {"name": "scratch", "mountPath": "/data"},
                {"name": "scratch", "mountPath": "/data/$(WHO)", "subPathExpr": "users/$(WHO)"},
                {"name": "h", "mountPath": "/host", "readOnly": true},
                {"name": "cfg", "mountPath": "/etc/cfg"},
                {"name": "cfg", "mountPath": "/etc/k", "subPath": "k"},
            ]),
        );
        let pod_dir = tmp.path().join("pod");
        let volumes = PodVolumes::sync(&pod_dir, &p, &objects, &NodeFacts::default()).unwrap();
        let cfg_dir = pod_dir.join("volumes/kubernetes.io~configmap/cfg");
        assert_eq!(std::fs::read_to_string(cfg_dir.join("k")).unwrap(), "v");
        assert!(host.is_dir());
        let c = &p.spec.as_ref().unwrap().containers[0];
        let env = vec![("WHO".to_string(), "ann".to_string())];
        let binds = volumes.binds(c, &env).unwrap();
        let by_target: HashMap<&str, &Bind> =
            binds.iter().map(|b| (b.target.as_str(), b)).collect();
        let scratch = pod_dir.join("volumes/kubernetes.io~empty-dir/scratch");
        assert_eq!(by_target["/data"].source, scratch);
        assert_eq!(
            by_target["/data/$(WHO)"].source,
            scratch.canonicalize().unwrap().join("users/ann")
        );
        assert!(by_target["/host"].readonly && by_target["/etc/cfg"].readonly);
        assert!(!by_target["/data"].readonly);
        // A subPath into a configMap binds the file itself, resolved through ..data.
        let file = &by_target["/etc/k"].source;
        assert!(
            file.is_file() && file.to_string_lossy().contains("/.."),
            "{file:?}"
        );
        let escaping: Container = serde_json::from_value(json!({"name": "c",
            "volumeMounts": [{"name": "scratch", "mountPath": "/x", "subPath": "../../etc"}]}))
        .unwrap();
        assert!(volumes.binds(&escaping, &[]).is_err());
    }

    #[test]
    fn missing_objects_fail_with_the_volume_named() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(
            json!([{"name": "s", "secret": {"secretName": "absent"}}]),
            json!([]),
        );
        let err = PodVolumes::sync(
            tmp.path(),
            &p,
            &FakeObjects::default(),
            &NodeFacts::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "MountVolume.SetUp failed for volume \"s\" : secret \"absent\" not found"
        );
        let p = pod(
            json!([{"name": "v", "persistentVolumeClaim": {"claimName": "c"}}]),
            json!([]),
        );
        let err = PodVolumes::sync(
            tmp.path(),
            &p,
            &FakeObjects::default(),
            &NodeFacts::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("persistentVolumeClaim"), "{err}");
    }

    #[test]
    fn references() {
        let p = pod(
            json!([{"name": "a", "projected": {"sources": [{"secret": {"name": "s1"}}]}}]),
            json!([]),
        );
        assert!(pod_references(&p, true, "s1"));
        assert!(!pod_references(&p, false, "s1"));
        let env: Pod =
            serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}]}]}}))
            .unwrap();
        assert!(pod_references(&env, false, "cm"));
    }
}
