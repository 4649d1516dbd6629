//! A container's environment as upstream's kubelet builds it, with no I/O: the service
//! variables, envFrom, env (values with `$(VAR)` references expanded, valueFrom resolved),
//! and command and args expanded against the result.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{Container, Pod, Service};

use crate::downward::{self, NodeFacts};
use crate::objects::{secret_entries, secret_value, Objects};

/// Why a container's configuration cannot be built: shown as CreateContainerConfigError
/// with upstream's messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKey {
        key: String,
        namespace: String,
        name: String,
    },
    #[error(transparent)]
    Downward(#[from] downward::DownwardError),
}

/// The environment variables of `c`, in a stable order: envFrom keys, then env in
/// declaration order (a later definition replaces an earlier one), then the service
/// variables not already set.
pub fn container_env(
    pod: &Pod,
    c: &Container,
    objects: &dyn Objects,
    facts: &NodeFacts,
) -> Result<Vec<(String, String)>, EnvError> {
    let namespace = pod.metadata.namespace.as_deref().unwrap_or("default");
    let links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    let services = service_env(&objects.services(), namespace, links);
    let mut env = Ordered::default();
    for from in c.env_from.iter().flatten() {
        let prefix = from.prefix.as_deref().unwrap_or("");
        if let Some(r) = &from.config_map_ref {
            let Some(cm) = objects.config_map(namespace, &r.name) else {
                if r.optional == Some(true) {
                    continue;
                }
                return Err(EnvError::ConfigMapNotFound(r.name.clone()));
            };
            for (k, v) in cm.data.iter().flatten() {
                env.set_valid(format!("{prefix}{k}"), v.clone());
            }
        }
        if let Some(r) = &from.secret_ref {
            let Some(secret) = objects.secret(namespace, &r.name) else {
                if r.optional == Some(true) {
                    continue;
                }
                return Err(EnvError::SecretNotFound(r.name.clone()));
            };
            for (k, v) in secret_entries(&secret) {
                env.set_valid(
                    format!("{prefix}{k}"),
                    String::from_utf8_lossy(&v).into_owned(),
                );
            }
        }
    }
    for var in c.env.iter().flatten() {
        let value = match (var.value.as_deref(), &var.value_from) {
            (Some(v), _) if !v.is_empty() => expand(v, &|name| {
                env.get(name).or_else(|| services.get(name).cloned())
            }),
            (_, Some(from)) => {
                if let Some(f) = &from.field_ref {
                    downward::object_field(pod, f, facts)?
                } else if let Some(r) = &from.resource_field_ref {
                    downward::container_resource(pod, Some(c), r, facts)?
                } else if let Some(r) = &from.config_map_key_ref {
                    let optional = r.optional == Some(true);
                    let Some(cm) = objects.config_map(namespace, &r.name) else {
                        if optional {
                            continue;
                        }
                        return Err(EnvError::ConfigMapNotFound(r.name.clone()));
                    };
                    match cm.data.as_ref().and_then(|d| d.get(&r.key)) {
                        Some(v) => v.clone(),
                        None if optional => continue,
                        None => {
                            return Err(EnvError::ConfigMapKey {
                                key: r.key.clone(),
                                namespace: namespace.into(),
                                name: r.name.clone(),
                            })
                        }
                    }
                } else if let Some(r) = &from.secret_key_ref {
                    let optional = r.optional == Some(true);
                    let Some(secret) = objects.secret(namespace, &r.name) else {
                        if optional {
                            continue;
                        }
                        return Err(EnvError::SecretNotFound(r.name.clone()));
                    };
                    match secret_value(&secret, &r.key) {
                        Some(v) => String::from_utf8_lossy(&v).into_owned(),
                        None if optional => continue,
                        None => {
                            return Err(EnvError::SecretKey {
                                key: r.key.clone(),
                                namespace: namespace.into(),
                                name: r.name.clone(),
                            })
                        }
                    }
                } else {
                    String::new()
                }
            }
            _ => String::new(),
        };
        env.set(var.name.clone(), value);
    }
    for (k, v) in services {
        if env.get(&k).is_none() {
            env.set(k, v);
        }
    }
    Ok(env.vars)
}

/// Variables in insertion order, a name set again keeping its place.
#[derive(Default)]
struct Ordered {
    vars: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Ordered {
    fn set(&mut self, name: String, value: String) {
        match self.index.get(&name) {
            Some(&i) => self.vars[i].1 = value,
            None => {
                self.index.insert(name.clone(), self.vars.len());
                self.vars.push((name, value));
            }
        }
    }

    /// envFrom keys that are not environment variable names are skipped, as upstream.
    fn set_valid(&mut self, name: String, value: String) {
        if is_env_var_name(&name) {
            self.set(name, value);
        } else {
            tracing::info!(
                key = name,
                "skipping an envFrom key that is not a valid environment variable name"
            );
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        self.index.get(name).map(|&i| self.vars[i].1.clone())
    }
}

/// Upstream's IsEnvVarName: letters, digits, `_`, `-` and `.`, not starting with a digit.
pub fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Expands `$(NAME)` references; `$$` is a literal `$`; an unknown or unterminated
/// reference stays as written (upstream's expansion rules).
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(input.len());
    let bytes = input.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 >= bytes.len() {
            i += 1;
            continue;
        }
        out.push_str(&input[start..i]);
        match bytes[i + 1] {
            b'$' => {
                out.push('$');
                i += 2;
            }
            b'(' => match input[i + 2..].find(')') {
                Some(len) => {
                    let name = &input[i + 2..i + 2 + len];
                    match lookup(name) {
                        Some(value) => out.push_str(&value),
                        None => out.push_str(&format!("$({name})")),
                    }
                    i += 3 + len;
                }
                None => {
                    out.push_str("$(");
                    i += 2;
                }
            },
            _ => {
                // A `$` that begins nothing stays, with what follows it.
                out.push('$');
                i += 1;
            }
        }
        start = i;
    }
    out.push_str(&input[start..]);
    out
}

/// The container's command and args with `$(VAR)` expanded against its environment.
pub fn expand_command_and_args(
    c: &Container,
    env: &[(String, String)],
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let map: HashMap<&str, &str> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let lookup = |name: &str| map.get(name).map(|v| v.to_string());
    let expand_all = |list: &Option<Vec<String>>| {
        list.as_ref()
            .map(|l| l.iter().map(|s| expand(s, &lookup)).collect())
    };
    (expand_all(&c.command), expand_all(&c.args))
}

fn env_name(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

/// The service variables a pod in `namespace` sees: the `kubernetes` service of the
/// default namespace always, the namespace's own services when service links are on.
pub fn service_env(
    services: &[std::sync::Arc<Service>],
    namespace: &str,
    links: bool,
) -> BTreeMap<String, String> {
    let mut chosen: BTreeMap<String, &Service> = BTreeMap::new();
    for service in services {
        let name = service.metadata.name.clone().unwrap_or_default();
        let ns = service.metadata.namespace.as_deref().unwrap_or("");
        let ip = service.spec.as_ref().and_then(|s| s.cluster_ip.as_deref());
        if ip.is_none_or(|ip| ip.is_empty() || ip == "None") {
            continue;
        }
        if ns == "default" && name == "kubernetes" {
            chosen.entry(name).or_insert(service);
        } else if ns == namespace && links {
            chosen.insert(name, service);
        }
    }
    let mut env = BTreeMap::new();
    for (name, service) in chosen {
        let Some(spec) = service.spec.as_ref() else {
            continue;
        };
        let ports = spec.ports.as_deref().unwrap_or_default();
        let Some(first) = ports.first() else {
            continue;
        };
        let ip = spec.cluster_ip.clone().unwrap_or_default();
        let prefix = env_name(&name);
        env.insert(format!("{prefix}_SERVICE_HOST"), ip.clone());
        env.insert(format!("{prefix}_SERVICE_PORT"), first.port.to_string());
        for port in ports {
            if let Some(port_name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                env.insert(
                    format!("{prefix}_SERVICE_PORT_{}", env_name(port_name)),
                    port.port.to_string(),
                );
            }
        }
        let host_port = match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(_)) => format!("[{ip}]"),
            _ => ip.clone(),
        };
        for (i, port) in ports.iter().enumerate() {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let lower = protocol.to_lowercase();
            let url = format!("{lower}://{host_port}:{}", port.port);
            if i == 0 {
                env.insert(format!("{prefix}_PORT"), url.clone());
            }
            let port_prefix = format!("{prefix}_PORT_{}_{}", port.port, protocol.to_uppercase());
            env.insert(port_prefix.clone(), url);
            env.insert(format!("{port_prefix}_PROTO"), lower);
            env.insert(format!("{port_prefix}_PORT"), port.port.to_string());
            env.insert(format!("{port_prefix}_ADDR"), ip.clone());
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::fake::FakeObjects;
    use serde_json::json;

    fn lookup(name: &str) -> Option<String> {
        (name == "A").then(|| "1".to_string())
    }

    #[test]
    fn expansion_rules() {
        assert_eq!(expand("x$(A)y", &lookup), "x1y");
        assert_eq!(expand("$(B)", &lookup), "$(B)");
        assert_eq!(expand("$$(A)", &lookup), "$(A)");
        assert_eq!(expand("$$", &lookup), "$");
        assert_eq!(expand("$(A", &lookup), "$(A");
        assert_eq!(expand("a$b$", &lookup), "a$b$");
        assert_eq!(expand("$(A)$(A)", &lookup), "11");
        assert_eq!(expand("é$(A)ü", &lookup), "é1ü");
    }

    fn pod(container: serde_json::Value, links: bool) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"app": "web"}},
            "spec": {"nodeName": "n0", "enableServiceLinks": links, "containers": [container]}
        }))
        .unwrap()
    }

    fn objects() -> FakeObjects {
        FakeObjects::default()
            .with_config_map(json!({"metadata": {"namespace": "ns", "name": "cfg"},
                "data": {"color": "blue", "1bad": "x", "ok.key": "y"}}))
            .with_secret(json!({"metadata": {"namespace": "ns", "name": "s"},
                "data": {"password": "aHVudGVyMg==", "1bad": "eA=="}}))
            .with_service(json!({"metadata": {"namespace": "default", "name": "kubernetes"},
                "spec": {"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}}))
            .with_service(json!({"metadata": {"namespace": "ns", "name": "redis-primary"},
                "spec": {"clusterIP": "10.96.0.9", "ports": [{"port": 6379}, {"name": "metrics", "port": 9121, "protocol": "UDP"}]}}))
            .with_service(json!({"metadata": {"namespace": "ns", "name": "headless"},
                "spec": {"clusterIP": "None", "ports": [{"port": 80}]}}))
            .with_service(json!({"metadata": {"namespace": "other", "name": "far"},
                "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}}))
    }

    fn env_of(
        container: serde_json::Value,
        links: bool,
    ) -> Result<HashMap<String, String>, EnvError> {
        let p = pod(container, links);
        let c = p.spec.as_ref().unwrap().containers[0].clone();
        let facts = NodeFacts {
            pod_ips: vec!["10.244.1.5".parse().unwrap()],
            host_ips: vec!["10.77.0.10".parse().unwrap()],
            ..Default::default()
        };
        container_env(&p, &c, &objects(), &facts).map(|v| v.into_iter().collect())
    }

    #[test]
    fn value_from_sources_and_env_from() {
        let env = env_of(
            json!({"name": "c",
                "envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}, {"secretRef": {"name": "s"}}],
                "env": [
                    {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password"}}},
                    {"name": "MAYBE", "valueFrom": {"secretKeyRef": {"name": "s", "key": "nope", "optional": true}}},
                    {"name": "GONE", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k", "optional": true}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "URL", "value": "http://$(IP):$(REDIS_PRIMARY_SERVICE_PORT)/$(COLOR)/$(NOPE)"},
                ]}),
            true,
        )
        .unwrap();
        assert_eq!(env["COLOR"], "blue");
        assert_eq!(env["CFG_color"], "blue");
        assert_eq!(env["CFG_ok.key"], "y");
        // Keys are checked after the prefix: 1bad is skipped only where it has none.
        assert_eq!(env["CFG_1bad"], "x");
        assert!(!env.contains_key("1bad"));
        assert_eq!(env["password"], "hunter2");
        assert_eq!(env["PW"], "hunter2");
        assert!(!env.contains_key("MAYBE") && !env.contains_key("GONE"));
        assert_eq!(env["APP"], "web");
        assert_eq!(env["URL"], "http://10.244.1.5:6379/blue/$(NOPE)");
    }

    #[test]
    fn missing_required_references_are_config_errors() {
        let missing_key = env_of(
            json!({"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nope"}}}]}),
            true,
        );
        assert_eq!(
            missing_key.unwrap_err().to_string(),
            "couldn't find key nope in ConfigMap ns/cfg"
        );
        let missing_secret = env_of(
            json!({"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "nos", "key": "k"}}}]}),
            true,
        );
        assert_eq!(
            missing_secret.unwrap_err().to_string(),
            "secret \"nos\" not found"
        );
        let missing_from = env_of(
            json!({"name": "c", "envFrom": [{"configMapRef": {"name": "x"}}]}),
            true,
        );
        assert_eq!(
            missing_from.unwrap_err().to_string(),
            "configmap \"x\" not found"
        );
        let secret_key = env_of(
            json!({"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}),
            true,
        );
        assert_eq!(
            secret_key.unwrap_err().to_string(),
            "couldn't find key k in Secret ns/s"
        );
    }

    #[test]
    fn service_variables_follow_service_links() {
        let env = env_of(json!({"name": "c"}), true).unwrap();
        assert_eq!(env["KUBERNETES_SERVICE_HOST"], "10.96.0.1");
        assert_eq!(env["KUBERNETES_SERVICE_PORT"], "443");
        assert_eq!(env["KUBERNETES_SERVICE_PORT_HTTPS"], "443");
        assert_eq!(env["KUBERNETES_PORT"], "tcp://10.96.0.1:443");
        assert_eq!(env["REDIS_PRIMARY_SERVICE_HOST"], "10.96.0.9");
        assert_eq!(env["REDIS_PRIMARY_SERVICE_PORT_METRICS"], "9121");
        assert_eq!(env["REDIS_PRIMARY_PORT"], "tcp://10.96.0.9:6379");
        assert_eq!(env["REDIS_PRIMARY_PORT_6379_TCP_ADDR"], "10.96.0.9");
        assert_eq!(env["REDIS_PRIMARY_PORT_9121_UDP"], "udp://10.96.0.9:9121");
        assert_eq!(env["REDIS_PRIMARY_PORT_9121_UDP_PROTO"], "udp");
        assert!(!env
            .keys()
            .any(|k| k.starts_with("HEADLESS") || k.starts_with("FAR")));
        let env = env_of(json!({"name": "c"}), false).unwrap();
        assert!(env.contains_key("KUBERNETES_SERVICE_HOST"));
        assert!(!env.keys().any(|k| k.starts_with("REDIS")));
    }

    #[test]
    fn command_and_args_expand_against_the_environment() {
        let c: Container = serde_json::from_value(
            json!({"name": "c", "command": ["echo", "$(A)"], "args": ["$(B)", "$$(A)"]}),
        )
        .unwrap();
        let env = vec![("A".to_string(), "1".to_string())];
        let (command, args) = expand_command_and_args(&c, &env);
        assert_eq!(command.unwrap(), ["echo", "1"]);
        assert_eq!(args.unwrap(), ["$(B)", "$(A)"]);
    }
}
