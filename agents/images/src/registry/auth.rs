//! Registry credentials, as the kubelet gets them from imagePullSecrets
//! (`kubernetes.io/dockerconfigjson`, `kubernetes.io/dockercfg`) or a user from
//! `--creds` / an auth file, and matched to a registry host like the kubelet's keyring.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

use crate::reference::DEFAULT_REGISTRY;
use crate::ImageError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// A registry token sent as is (`registrytoken` in a docker config).
    Bearer(String),
}

/// Credentials per registry. Several may match one registry (several pull secrets): they
/// are tried in order, then anonymous access.
#[derive(Debug, Clone, Default)]
pub struct RegistryAuth {
    entries: Vec<(String, Credential)>,
}

#[derive(Deserialize)]
struct DockerConfigJson {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl RegistryAuth {
    /// No credentials: anonymous pulls only.
    pub fn anonymous() -> RegistryAuth {
        RegistryAuth::default()
    }

    /// One credential for one registry (`--creds user:password` for `registry`).
    pub fn basic(registry: &str, username: &str, password: &str) -> RegistryAuth {
        RegistryAuth {
            entries: vec![(
                normalize_key(registry),
                Credential::Basic {
                    username: username.to_string(),
                    password: password.to_string(),
                },
            )],
        }
    }

    /// The `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` secret
    /// (`{"auths": {"registry": {...}}}`), also `~/.docker/config.json`.
    pub fn from_docker_config_json(bytes: &[u8]) -> Result<RegistryAuth, ImageError> {
        let config: DockerConfigJson = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::InvalidCredentials(e.to_string()))?;
        Self::from_entries(config.auths)
    }

    /// The `.dockercfg` of a `kubernetes.io/dockercfg` secret (`{"registry": {...}}`).
    pub fn from_dockercfg(bytes: &[u8]) -> Result<RegistryAuth, ImageError> {
        let entries: BTreeMap<String, AuthEntry> = serde_json::from_slice(bytes)
            .map_err(|e| ImageError::InvalidCredentials(e.to_string()))?;
        Self::from_entries(entries)
    }

    /// The credentials of a pod's pull secret, by the secret's `type` and a lookup of its
    /// `data`: `.dockerconfigjson` for `kubernetes.io/dockerconfigjson`, `.dockercfg` for
    /// `kubernetes.io/dockercfg`; a secret of another type holds none (as upstream).
    pub fn from_pull_secret<'a>(
        secret_type: &str,
        data: impl Fn(&str) -> Option<&'a [u8]>,
    ) -> Result<RegistryAuth, ImageError> {
        match secret_type {
            "kubernetes.io/dockerconfigjson" => match data(".dockerconfigjson") {
                Some(bytes) => Self::from_docker_config_json(bytes),
                None => Err(ImageError::InvalidCredentials(
                    "no .dockerconfigjson in the secret".into(),
                )),
            },
            "kubernetes.io/dockercfg" => match data(".dockercfg") {
                Some(bytes) => Self::from_dockercfg(bytes),
                None => Err(ImageError::InvalidCredentials(
                    "no .dockercfg in the secret".into(),
                )),
            },
            _ => Ok(RegistryAuth::default()),
        }
    }

    fn from_entries(entries: BTreeMap<String, AuthEntry>) -> Result<RegistryAuth, ImageError> {
        let mut out = RegistryAuth::default();
        for (key, entry) in entries {
            if let Some(credential) = entry.credential(&key)? {
                out.entries.push((normalize_key(&key), credential));
            }
        }
        Ok(out)
    }

    /// Adds `other`'s credentials after this one's (pod secrets in their listed order).
    pub fn merge(&mut self, other: RegistryAuth) {
        self.entries.extend(other.entries);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The credentials for `registry` (`docker.io`, `localhost:5000`) and repository
    /// path: keys match by host (with `*.` wildcards on a label, port must match when
    /// given) and, when they carry a path, by path prefix. Longer keys first.
    pub fn credentials_for(&self, registry: &str, repository: &str) -> Vec<&Credential> {
        let mut matches: Vec<(&String, &Credential)> = self
            .entries
            .iter()
            .filter(|(key, _)| key_matches(key, registry, repository))
            .map(|(k, c)| (k, c))
            .collect();
        matches.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        matches.into_iter().map(|(_, c)| c).collect()
    }
}

impl AuthEntry {
    fn credential(self, key: &str) -> Result<Option<Credential>, ImageError> {
        if let Some(token) = self.registrytoken.filter(|t| !t.is_empty()) {
            return Ok(Some(Credential::Bearer(token)));
        }
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            if !username.is_empty() || !password.is_empty() {
                return Ok(Some(Credential::Basic {
                    username: username.clone(),
                    password: password.clone(),
                }));
            }
        }
        match self.auth.filter(|a| !a.is_empty()) {
            Some(auth) => {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .map_err(|e| {
                        ImageError::InvalidCredentials(format!("{key}: auth is not base64: {e}"))
                    })?;
                let decoded = String::from_utf8(decoded).map_err(|_| {
                    ImageError::InvalidCredentials(format!("{key}: auth is not UTF-8"))
                })?;
                let (username, password) = decoded.split_once(':').ok_or_else(|| {
                    ImageError::InvalidCredentials(format!("{key}: auth is not user:password"))
                })?;
                Ok(Some(Credential::Basic {
                    username: username.to_string(),
                    password: password.to_string(),
                }))
            }
            None => Ok(None),
        }
    }
}

/// `https://index.docker.io/v1/` → `docker.io`; `http://host:5000/v2/` → `host:5000`;
/// `host:5000/team` keeps its path.
fn normalize_key(key: &str) -> String {
    let key = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (host, path) = key.split_once('/').unwrap_or((key, ""));
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => DEFAULT_REGISTRY,
        h => h,
    };
    let path = path.trim_end_matches('/');
    if path.is_empty() || path == "v1" || path == "v2" {
        host.to_string()
    } else {
        format!("{host}/{path}")
    }
}

fn key_matches(key: &str, registry: &str, repository: &str) -> bool {
    let (key_host, key_path) = key.split_once('/').unwrap_or((key, ""));
    if !host_matches(key_host, registry) {
        return false;
    }
    key_path.is_empty() || repository == key_path || repository.starts_with(&format!("{key_path}/"))
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let (pattern_name, pattern_port) = split_port(pattern);
    let (name, port) = split_port(host);
    if pattern_port.is_some() && pattern_port != port {
        return false;
    }
    let pattern_labels: Vec<&str> = pattern_name.split('.').collect();
    let labels: Vec<&str> = name.split('.').collect();
    pattern_labels.len() == labels.len()
        && pattern_labels
            .iter()
            .zip(&labels)
            .all(|(p, l)| *p == "*" || p.eq_ignore_ascii_case(l))
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    if host.starts_with('[') {
        // [v6]:port
        return match host.rsplit_once("]:") {
            Some((name, port)) => (&host[..name.len() + 1], Some(port)),
            None => (host, None),
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dockerconfigjson_in_every_spelling() {
        let json = br#"{"auths": {
            "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
            "localhost:5000": {"username": "u", "password": "p"},
            "*.example.com/team": {"username": "t", "password": "q"},
            "tokens.io": {"registrytoken": "abc"}
        }}"#;
        let auth = RegistryAuth::from_docker_config_json(json).unwrap();
        let basic = |u: &str, p: &str| Credential::Basic {
            username: u.into(),
            password: p.into(),
        };
        assert_eq!(
            auth.credentials_for("docker.io", "library/busybox"),
            vec![&basic("hub", "secret")]
        );
        assert_eq!(
            auth.credentials_for("localhost:5000", "x"),
            vec![&basic("u", "p")]
        );
        assert!(auth.credentials_for("localhost:5001", "x").is_empty());
        assert_eq!(
            auth.credentials_for("r.example.com", "team/app"),
            vec![&basic("t", "q")]
        );
        assert!(auth
            .credentials_for("r.example.com", "other/app")
            .is_empty());
        assert!(auth
            .credentials_for("a.b.example.com", "team/app")
            .is_empty());
        assert_eq!(
            auth.credentials_for("tokens.io", "x"),
            vec![&Credential::Bearer("abc".into())]
        );
    }

    #[test]
    fn reads_pull_secrets_by_type() {
        let json = br#"{"auths": {"r.io": {"username": "u", "password": "p"}}}"#.as_slice();
        let data = |key: &str| (key == ".dockerconfigjson").then_some(json);
        let auth = RegistryAuth::from_pull_secret("kubernetes.io/dockerconfigjson", data).unwrap();
        assert_eq!(auth.credentials_for("r.io", "x").len(), 1);
        assert!(RegistryAuth::from_pull_secret("Opaque", data)
            .unwrap()
            .is_empty());
        assert!(RegistryAuth::from_pull_secret("kubernetes.io/dockercfg", data).is_err());
    }

    #[test]
    fn reads_dockercfg() {
        let auth = RegistryAuth::from_dockercfg(br#"{"quay.io": {"auth": "YTpi"}}"#).unwrap();
        assert_eq!(auth.credentials_for("quay.io", "x").len(), 1);
    }

    #[test]
    fn bad_secrets_are_errors() {
        assert!(RegistryAuth::from_docker_config_json(b"not json").is_err());
        assert!(
            RegistryAuth::from_docker_config_json(br#"{"auths":{"x":{"auth":"!!"}}}"#).is_err()
        );
        assert!(RegistryAuth::from_docker_config_json(
            br#"{"auths":{"x":{"auth":"bm9jb2xvbg=="}}}"#
        )
        .is_err());
    }
}
