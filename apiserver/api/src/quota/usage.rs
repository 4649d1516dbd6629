//! What one object consumes of a quota (upstream's quota evaluators): pods count compute
//! resources (container and pod level), services count node ports and load balancers,
//! claims count storage, and every object counts as `count/<resource>.<group>`.

use serde_json::Value;

use super::list::{self, add_into, max_into, quantity, ResourceList};

/// The resource (group, plural) whose objects a quota resource name counts.
pub fn tracked_resource(name: &str) -> Option<(String, String)> {
    if let Some(rest) = name.strip_prefix("count/") {
        return match rest.split_once('.') {
            Some((plural, group)) => Some((group.to_string(), plural.to_string())),
            None => Some((String::new(), rest.to_string())),
        };
    }
    let core = |plural: &str| Some((String::new(), plural.to_string()));
    match name {
        "services" | "services.nodeports" | "services.loadbalancers" => core("services"),
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => core(name),
        "persistentvolumeclaims" | "requests.storage" => core("persistentvolumeclaims"),
        _ if name.contains(".storageclass.storage.k8s.io/") => core("persistentvolumeclaims"),
        _ if is_pod_resource(name) => core("pods"),
        _ => None,
    }
}

/// Names the pod evaluator counts: the object count, compute resources and their
/// `requests.`/`limits.` forms, hugepages and extended resources.
pub fn is_pod_resource(name: &str) -> bool {
    matches!(name, "pods" | "cpu" | "memory" | "ephemeral-storage")
        || name.starts_with("hugepages-")
        || (name.starts_with("requests.") && name != "requests.storage")
        || name.starts_with("limits.")
}

/// The quota resource names in `names` that objects of (group, plural) consume.
pub fn matching_resources<'a>(
    group: &str,
    plural: &str,
    names: impl IntoIterator<Item = &'a String>,
) -> Vec<String> {
    names
        .into_iter()
        .filter(|n| tracked_resource(n).is_some_and(|(g, p)| g == group && p == plural))
        .cloned()
        .collect()
}

/// The object-count name of a resource: `count/pods`, `count/deployments.apps`.
pub fn count_name(group: &str, plural: &str) -> String {
    if group.is_empty() {
        format!("count/{plural}")
    } else {
        format!("count/{plural}.{group}")
    }
}

/// What `obj` (of group/plural) consumes.
pub fn usage(group: &str, plural: &str, obj: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert(count_name(group, plural), quantity(1));
    if !group.is_empty() {
        return out;
    }
    match plural {
        "pods" => add_into(&mut out, &pod_usage(obj)),
        "services" => add_into(&mut out, &service_usage(obj)),
        "persistentvolumeclaims" => add_into(&mut out, &claim_usage(obj)),
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => {
            out.insert(plural.to_string(), quantity(1));
        }
        _ => {}
    }
    out
}

/// A pod that reached Succeeded or Failed no longer holds compute quota (its
/// `count/pods` still counts: it is in storage).
pub fn pod_is_terminal(pod: &Value) -> bool {
    matches!(
        pod.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    )
}

fn pod_usage(pod: &Value) -> ResourceList {
    if pod_is_terminal(pod) {
        return ResourceList::new();
    }
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    compute_usage(&pod_requests(spec), &pod_limits(spec))
}

/// Upstream's `podComputeUsageHelper`: `pods` plus the quota names of the requests and
/// limits (`cpu` and `memory` are aliases of their requests).
pub fn compute_usage(requests: &ResourceList, limits: &ResourceList) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("pods".into(), quantity(1));
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(q) = requests.get(name) {
            out.insert(name.into(), *q);
            out.insert(format!("requests.{name}"), *q);
        }
        if let Some(q) = limits.get(name) {
            out.insert(format!("limits.{name}"), *q);
        }
    }
    for (name, q) in requests {
        if name.starts_with("hugepages-") {
            out.insert(name.clone(), *q);
            out.insert(format!("requests.{name}"), *q);
        } else if is_extended_resource(name) {
            out.insert(format!("requests.{name}"), *q);
        }
    }
    out
}

/// A resource outside the `kubernetes.io` domain that is not a native one.
fn is_extended_resource(name: &str) -> bool {
    name.contains('/')
        && !name.starts_with("requests.")
        && !name.contains("kubernetes.io/")
        && !name.starts_with("kubernetes.io/")
}

fn container_list(c: &Value, key: &str) -> ResourceList {
    list::from_json(c.get("resources").and_then(|r| r.get(key)))
}

fn containers<'a>(spec: &'a Value, key: &str) -> &'a [Value] {
    spec.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A restartable init container (a sidecar) runs for the pod's whole life.
fn is_sidecar(c: &Value) -> bool {
    c.get("restartPolicy").and_then(Value::as_str) == Some("Always")
}

/// Upstream's `PodRequests`/`PodLimits`: the containers' sum, at least the largest init
/// container (with the sidecars started before it), plus the pod overhead.
fn pod_total(spec: &Value, key: &str) -> ResourceList {
    let mut total = ResourceList::new();
    for c in containers(spec, "containers") {
        add_into(&mut total, &container_list(c, key));
    }
    let mut sidecars = ResourceList::new();
    let mut init_peak = ResourceList::new();
    for c in containers(spec, "initContainers") {
        let own = container_list(c, key);
        let during = if is_sidecar(c) {
            add_into(&mut total, &own);
            add_into(&mut sidecars, &own);
            sidecars.clone()
        } else {
            list::add(&own, &sidecars)
        };
        max_into(&mut init_peak, &during);
    }
    max_into(&mut total, &init_peak);
    add_into(&mut total, &list::from_json(spec.get("overhead")));
    total
}

pub fn pod_requests(spec: &Value) -> ResourceList {
    pod_total(spec, "requests")
}

pub fn pod_limits(spec: &Value) -> ResourceList {
    pod_total(spec, "limits")
}

fn service_usage(svc: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("services".into(), quantity(1));
    let spec = svc.get("spec").unwrap_or(&Value::Null);
    let ports = containers(spec, "ports");
    let (node_ports, balancers) = match spec.get("type").and_then(Value::as_str) {
        Some("NodePort") => (ports.len(), 0),
        Some("LoadBalancer") => {
            let allocate = spec
                .get("allocateLoadBalancerNodePorts")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let counted = if allocate {
                ports.len()
            } else {
                ports.iter().filter(|p| p.get("nodePort").is_some()).count()
            };
            (counted, 1)
        }
        _ => (0, 0),
    };
    out.insert("services.nodeports".into(), quantity(node_ports as i128));
    out.insert("services.loadbalancers".into(), quantity(balancers));
    out
}

fn claim_usage(pvc: &Value) -> ResourceList {
    let mut out = ResourceList::new();
    out.insert("persistentvolumeclaims".into(), quantity(1));
    let class = pvc
        .pointer("/spec/storageClassName")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    if let Some(class) = class {
        out.insert(
            format!("{class}.storageclass.storage.k8s.io/persistentvolumeclaims"),
            quantity(1),
        );
    }
    let requested = pvc
        .pointer("/spec/resources/requests/storage")
        .and_then(crate::validation::quantity::Quantity::from_json);
    // An expansion in progress holds the larger of the request and what was allocated.
    let allocated = pvc
        .pointer("/status/allocatedResources/storage")
        .and_then(crate::validation::quantity::Quantity::from_json);
    let storage = match (requested, allocated) {
        (Some(r), Some(a)) if a.compare(&r) == std::cmp::Ordering::Greater => Some(a),
        (Some(r), _) => Some(r),
        (None, a) => a,
    };
    if let Some(q) = storage {
        out.insert("requests.storage".into(), q);
        if let Some(class) = class {
            out.insert(
                format!("{class}.storageclass.storage.k8s.io/requests.storage"),
                q,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::list::pretty;
    use serde_json::json;

    #[test]
    fn pod_usage_sums_containers_and_takes_the_largest_init_container() {
        let pod = json!({"spec": {
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "200m"}}},
                {"name": "b", "resources": {"requests": {"cpu": "300m"}}},
            ],
            "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1"}}}],
        }});
        assert_eq!(
            pretty(&usage("", "pods", &pod)),
            "count/pods=1,cpu=1,limits.cpu=200m,memory=64Mi,pods=1,requests.cpu=1,requests.memory=64Mi"
        );
        let done = json!({"spec": pod["spec"], "status": {"phase": "Succeeded"}});
        assert_eq!(pretty(&usage("", "pods", &done)), "count/pods=1");
    }

    #[test]
    fn services_count_node_ports_and_balancers() {
        let svc = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            pretty(&usage("", "services", &svc)),
            "count/services=1,services=1,services.loadbalancers=1,services.nodeports=2"
        );
        let plain = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        assert_eq!(
            pretty(&usage("", "services", &plain)),
            "count/services=1,services=1,services.loadbalancers=0,services.nodeports=0"
        );
    }

    #[test]
    fn names_map_to_the_resources_they_count() {
        let t = |n: &str| tracked_resource(n).map(|(g, p)| format!("{g}/{p}"));
        assert_eq!(
            t("requests.storage").as_deref(),
            Some("/persistentvolumeclaims")
        );
        assert_eq!(t("requests.cpu").as_deref(), Some("/pods"));
        assert_eq!(
            t("count/deployments.apps").as_deref(),
            Some("apps/deployments")
        );
        assert_eq!(t("count/secrets").as_deref(), Some("/secrets"));
        assert_eq!(t("services.nodeports").as_deref(), Some("/services"));
        assert_eq!(t("bogus"), None);
        let claim = json!({"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "1Gi"}}}});
        assert_eq!(
            pretty(&usage("", "persistentvolumeclaims", &claim)),
            "count/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/persistentvolumeclaims=1,gold.storageclass.storage.k8s.io/requests.storage=1Gi,persistentvolumeclaims=1,requests.storage=1Gi"
        );
    }
}
