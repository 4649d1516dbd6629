//! Resource amounts the scheduler adds and compares: a pod's effective requests (upstream's
//! `PodRequests`: containers plus sidecars, at least the largest init container, plus
//! overhead) and a node's allocatable.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Node, PodSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use rkube_api::validation::quantity::Quantity as Exact;

/// Requests assumed for a container that sets none, when *scoring* (upstream's
/// non-zero defaults: 0.1 core, 200 MiB), so empty pods still spread.
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of resources, in the units the scheduler compares: millicores, bytes, and
/// whole units for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: i64,
    pub memory: i64,
    pub ephemeral_storage: i64,
    /// Extended resources and hugepages, by resource name.
    pub scalar: BTreeMap<String, i64>,
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A quantity's value in the unit `name` is compared in; malformed counts as zero (the
/// apiserver validated it; a scheduler must not stop on one bad object).
fn amount(name: &str, quantity: &Quantity) -> i64 {
    let Some(exact) = Exact::parse(&quantity.0) else {
        return 0;
    };
    if name == "cpu" {
        saturate(exact.milli_value())
    } else {
        saturate(exact.value())
    }
}

impl Resources {
    /// From a resource list (requests, limits, allocatable). `pods` is not a resource a
    /// pod requests; it is read separately from allocatable.
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let mut out = Resources::default();
        for (name, quantity) in list.into_iter().flatten() {
            let value = amount(name, quantity);
            match name.as_str() {
                "cpu" => out.milli_cpu = value,
                "memory" => out.memory = value,
                "ephemeral-storage" => out.ephemeral_storage = value,
                "pods" => {}
                _ => {
                    out.scalar.insert(name.clone(), value);
                }
            }
        }
        out
    }

    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_add(other.ephemeral_storage);
        for (name, v) in &other.scalar {
            let slot = self.scalar.entry(name.clone()).or_insert(0);
            *slot = slot.saturating_add(*v);
        }
    }

    pub fn subtract(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
        self.ephemeral_storage = self
            .ephemeral_storage
            .saturating_sub(other.ephemeral_storage);
        for (name, v) in &other.scalar {
            let slot = self.scalar.entry(name.clone()).or_insert(0);
            *slot = slot.saturating_sub(*v);
        }
    }

    /// Each resource the larger of the two.
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (name, v) in &other.scalar {
            let slot = self.scalar.entry(name.clone()).or_insert(0);
            *slot = (*slot).max(*v);
        }
    }

    #[cfg(test)]
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.values().all(|v| *v == 0)
    }

    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar.get(name).copied().unwrap_or(0)
    }
}

/// What a pod asks for: its effective requests, and the same with upstream's non-zero
/// defaults for cpu and memory (used by the scores, never by the fit filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRequests {
    pub exact: Resources,
    pub non_zero: Resources,
}

fn container_requests(container: &Container) -> Resources {
    Resources::from_list(
        container
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref()),
    )
}

fn with_defaults(mut r: Resources) -> Resources {
    if r.milli_cpu == 0 {
        r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
    }
    if r.memory == 0 {
        r.memory = DEFAULT_MEMORY_REQUEST;
    }
    r
}

fn is_sidecar(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// Requests of a pod spec, upstream's way: regular containers and sidecars (init
/// containers with restartPolicy Always) run together; each ordinary init container runs
/// beside the sidecars started before it; the pod needs the larger of the two phases,
/// plus its overhead.
fn effective(spec: &PodSpec, per_container: impl Fn(&Container) -> Resources) -> Resources {
    let mut running = Resources::default();
    for container in &spec.containers {
        running.add(&per_container(container));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for container in spec.init_containers.iter().flatten() {
        let requests = per_container(container);
        if is_sidecar(container) {
            sidecars.add(&requests);
            running.add(&requests);
            init_peak.max_with(&sidecars);
        } else {
            let mut during = requests;
            during.add(&sidecars);
            init_peak.max_with(&during);
        }
    }
    running.max_with(&init_peak);
    running.add(&Resources::from_list(spec.overhead.as_ref()));
    running
}

impl PodRequests {
    pub fn of(spec: &PodSpec) -> PodRequests {
        PodRequests {
            exact: effective(spec, container_requests),
            non_zero: effective(spec, |c| with_defaults(container_requests(c))),
        }
    }
}

/// A node's allocatable resources and pod capacity (`status.allocatable`).
pub fn allocatable(node: &Node) -> (Resources, i64) {
    let list = node.status.as_ref().and_then(|s| s.allocatable.as_ref());
    let pods = list
        .and_then(|l| l.get("pods"))
        .map(|q| amount("pods", q))
        .unwrap_or(0);
    (Resources::from_list(list), pods)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> PodSpec {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn containers_add_up_and_init_containers_take_the_max() {
        let s = spec(json!({
            "containers": [
                {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
                {"name": "b", "resources": {"requests": {"cpu": "0.2", "example.com/gpu": "1"}}}
            ],
            "initContainers": [
                {"name": "i", "resources": {"requests": {"cpu": "1", "memory": "64Mi"}}}
            ],
            "overhead": {"cpu": "10m"}
        }));
        let r = PodRequests::of(&s).exact;
        assert_eq!(r.milli_cpu, 1010);
        assert_eq!(r.memory, 1 << 30);
        assert_eq!(r.scalar("example.com/gpu"), 1);
    }

    #[test]
    fn sidecars_run_with_the_containers_and_later_init_containers() {
        let s = spec(json!({
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "300m"}}}],
            "initContainers": [
                {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
                {"name": "init", "resources": {"requests": {"cpu": "400m"}}}
            ]
        }));
        // Running: 300m + 200m sidecar; init phase: 400m + 200m sidecar = 600m.
        assert_eq!(PodRequests::of(&s).exact.milli_cpu, 600);
    }

    #[test]
    fn scoring_assumes_defaults_for_containers_without_requests() {
        let s = spec(
            json!({"containers": [{"name": "a"}, {"name": "b", "resources": {"requests": {"cpu": "1"}}}]}),
        );
        let r = PodRequests::of(&s);
        assert!(r.exact.memory == 0 && r.exact.milli_cpu == 1000);
        assert_eq!(r.non_zero.milli_cpu, 1100);
        assert_eq!(r.non_zero.memory, 2 * DEFAULT_MEMORY_REQUEST);
    }

    #[test]
    fn allocatable_reads_pods_apart_and_tolerates_garbage() {
        let node: Node = serde_json::from_value(json!({
            "metadata": {"name": "n"},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "bad": "x1"}}
        }))
        .unwrap();
        let (r, pods) = allocatable(&node);
        assert_eq!((r.milli_cpu, r.memory, pods), (4000, 8 << 30, 110));
        assert_eq!(r.scalar("bad"), 0);
    }
}
