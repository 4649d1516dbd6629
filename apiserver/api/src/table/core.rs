//! Core printers: services, endpoints, nodes, namespaces, events, config maps, secrets,
//! service accounts, persistent volumes and claims, resource quotas, component statuses.

use serde_json::{json, Value};

use super::docs::*;
use super::util::{
    age, arr, at, boolean, format_labels, int, join_host_port, len_of, name, obj, opt_int, opt_s,
    present, quantity, s, since, time_at, Time,
};
use super::{col, name_col, wide, Column, AGE};

pub const SERVICE_COLUMNS: &[Column] = &[
    name_col(),
    col("Type", "string", SVC_TYPE),
    col("Cluster-IP", "string", SVC_CLUSTER_IP),
    col("External-IP", "string", SVC_EXTERNAL_IPS),
    col("Port(s)", "string", SVC_PORTS),
    AGE,
    wide("Selector", "string", SVC_SELECTOR),
];

/// Load-balancer ingress IPs (or hostnames), sorted and deduplicated.
fn lb_ingress(v: &Value, path: &[&str]) -> String {
    let mut set: Vec<&str> = arr(v, path)
        .iter()
        .filter_map(|i| {
            let ip = s(i, &["ip"]);
            let host = s(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    set.sort_unstable();
    set.dedup();
    set.join(",")
}

fn strings(v: &Value, path: &[&str]) -> Vec<String> {
    arr(v, path)
        .iter()
        .map(|x| x.as_str().unwrap_or_default().to_string())
        .collect()
}

/// upstream's `getServiceExternalIP` (server-side tables are always wide: no clipping).
pub fn service_external_ip(v: &Value) -> String {
    let external = strings(v, &["spec", "externalIPs"]);
    match s(v, &["spec", "type"]) {
        "ClusterIP" | "NodePort" => {
            if external.is_empty() {
                "<none>".to_string()
            } else {
                external.join(",")
            }
        }
        "LoadBalancer" => {
            let lb = lb_ingress(v, &["status", "loadBalancer", "ingress"]);
            if !external.is_empty() {
                let mut all: Vec<String> = if lb.is_empty() {
                    Vec::new()
                } else {
                    lb.split(',').map(str::to_string).collect()
                };
                all.extend(external);
                all.join(",")
            } else if !lb.is_empty() {
                lb
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => s(v, &["spec", "externalName"]).to_string(),
        _ => "<unknown>".to_string(),
    }
}

/// upstream's `makePortString`: `80/TCP`, `80:30080/TCP`, comma-joined.
pub fn service_ports(v: &Value) -> String {
    let pieces: Vec<String> = arr(v, &["spec", "ports"])
        .iter()
        .map(|p| {
            let port = int(p, &["port"]);
            let node_port = int(p, &["nodePort"]);
            let proto = s(p, &["protocol"]);
            if node_port > 0 {
                format!("{port}:{node_port}/{proto}")
            } else {
                format!("{port}/{proto}")
            }
        })
        .collect();
    pieces.join(",")
}

pub fn service_cells(v: &Value, now: Time) -> Vec<Value> {
    let cluster_ip = arr(v, &["spec", "clusterIPs"])
        .first()
        .map(|x| x.as_str().unwrap_or_default())
        .or_else(|| opt_s(v, &["spec", "clusterIP"]).filter(|x| !x.is_empty()))
        .unwrap_or("<none>");
    let mut ports = service_ports(v);
    if ports.is_empty() {
        ports = "<none>".to_string();
    }
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "type"])),
        json!(cluster_ip),
        json!(service_external_ip(v)),
        json!(ports),
        json!(age(v, now)),
        json!(format_labels(obj(v, &["spec", "selector"]))),
    ]
}

pub const ENDPOINTS_COLUMNS: &[Column] = &[name_col(), col("Endpoints", "string", EP_SUBSETS), AGE];

/// upstream's `formatEndpoints` for all ports.
pub fn format_endpoints(v: &Value) -> String {
    let subsets = arr(v, &["subsets"]);
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    const MAX: usize = 3;
    let mut list: Vec<String> = Vec::new();
    let mut more = false;
    let mut count = 0usize;
    for ss in subsets {
        let addresses = arr(ss, &["addresses"]);
        let ports = arr(ss, &["ports"]);
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(s(a, &["ip"]).to_string());
            }
            continue;
        }
        for p in ports {
            count += addresses.len();
            for a in addresses {
                if list.len() == MAX {
                    more = true;
                    break;
                }
                list.push(join_host_port(s(a, &["ip"]), int(p, &["port"])));
            }
        }
    }
    let ret = list.join(",");
    if more {
        format!("{ret} + {} more...", count.saturating_sub(MAX))
    } else {
        ret
    }
}

pub fn endpoints_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(format_endpoints(v)),
        json!(age(v, now)),
    ]
}

pub const NODE_COLUMNS: &[Column] = &[
    name_col(),
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", NODE_KUBELET),
    wide("Internal-IP", "string", NODE_ADDRESSES),
    wide("External-IP", "string", NODE_ADDRESSES),
    wide("OS-Image", "string", NODE_OS_IMAGE),
    wide("Kernel-Version", "string", NODE_KERNEL),
    wide("Container-Runtime", "string", NODE_RUNTIME),
];

/// `Ready`, `NotReady`, `Unknown`, plus `SchedulingDisabled`.
pub fn node_status(v: &Value) -> String {
    // The last condition of a type wins, as in upstream's map.
    let ready = arr(v, &["status", "conditions"])
        .iter()
        .rev()
        .find(|c| s(c, &["type"]) == "Ready");
    let mut status = vec![match ready {
        Some(c) if s(c, &["status"]) == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if boolean(v, &["spec", "unschedulable"]) {
        status.push("SchedulingDisabled");
    }
    status.join(",")
}

/// Roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role=<role>` labels.
pub fn node_roles(v: &Value) -> String {
    let mut roles: Vec<&str> = Vec::new();
    for (k, val) in obj(v, &["metadata", "labels"]).into_iter().flatten() {
        if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
            if !role.is_empty() {
                roles.push(role);
            }
        } else if k == "kubernetes.io/role" {
            if let Some(r) = val.as_str().filter(|r| !r.is_empty()) {
                roles.push(r);
            }
        }
    }
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    }
}

fn node_address(v: &Value, typ: &str) -> String {
    arr(v, &["status", "addresses"])
        .iter()
        .find(|a| s(a, &["type"]) == typ)
        .map_or_else(|| "<none>".to_string(), |a| s(a, &["address"]).to_string())
}

fn or_unknown(x: &str) -> String {
    if x.is_empty() {
        "<unknown>".to_string()
    } else {
        x.to_string()
    }
}

pub fn node_cells(v: &Value, now: Time) -> Vec<Value> {
    let info = |f: &str| s(v, &["status", "nodeInfo", f]);
    vec![
        json!(name(v)),
        json!(node_status(v)),
        json!(node_roles(v)),
        json!(age(v, now)),
        json!(info("kubeletVersion")),
        json!(node_address(v, "InternalIP")),
        json!(node_address(v, "ExternalIP")),
        json!(or_unknown(info("osImage"))),
        json!(or_unknown(info("kernelVersion"))),
        json!(or_unknown(info("containerRuntimeVersion"))),
    ]
}

pub const NAMESPACE_COLUMNS: &[Column] = &[
    name_col(),
    col("Status", "string", "The status of the namespace"),
    AGE,
];

pub fn namespace_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(s(v, &["status", "phase"])),
        json!(age(v, now)),
    ]
}

pub const EVENT_COLUMNS: &[Column] = &[
    col("Last Seen", "string", EV_LAST),
    col("Type", "string", EV_TYPE),
    col("Reason", "string", EV_REASON),
    col("Object", "string", EV_OBJECT),
    wide("Subobject", "string", EV_FIELD_PATH),
    wide("Source", "string", EV_SOURCE),
    col("Message", "string", EV_MESSAGE),
    wide("First Seen", "string", EV_FIRST),
    wide("Count", "string", EV_COUNT),
    Column {
        priority: 1,
        ..name_col()
    },
];

/// The first present of two spellings (core/v1 and events.k8s.io/v1 share storage).
fn either<'a>(v: &'a Value, core: &[&str], new: &[&str]) -> &'a Value {
    at(v, core)
        .filter(|x| !x.is_null())
        .or_else(|| at(v, new))
        .unwrap_or(&Value::Null)
}

fn non_empty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() {
        b
    } else {
        a
    }
}

pub fn event_cells(v: &Value, now: Time) -> Vec<Value> {
    let ts = |core: &str, new: &str| {
        either(v, &[core], &[new])
            .as_str()
            .and_then(super::util::parse_time)
            .filter(|t| !t.is_zero())
    };
    let first_ts = ts("firstTimestamp", "deprecatedFirstTimestamp");
    let first = match first_ts {
        Some(t) => since(Some(t), now),
        None => since(time_at(v, &["eventTime"]), now),
    };
    let mut last = match ts("lastTimestamp", "deprecatedLastTimestamp") {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    let mut count = opt_int(v, &["count"])
        .or_else(|| opt_int(v, &["deprecatedCount"]))
        .unwrap_or(0);
    if present(v, &["series"]) {
        last = since(time_at(v, &["series", "lastObservedTime"]), now);
        count = int(v, &["series", "count"]);
    } else if count == 0 {
        count = 1;
    }
    let involved = either(v, &["involvedObject"], &["regarding"]);
    let kind = s(involved, &["kind"]).to_lowercase();
    let obj_name = s(involved, &["name"]);
    let target = if obj_name.is_empty() {
        kind
    } else {
        format!("{kind}/{obj_name}")
    };
    let source = either(v, &["source"], &["deprecatedSource"]);
    let component = non_empty(
        s(source, &["component"]),
        non_empty(
            s(v, &["reportingComponent"]),
            s(v, &["reportingController"]),
        ),
    );
    let host = non_empty(s(source, &["host"]), s(v, &["reportingInstance"]));
    let source_str = if host.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {host}")
    };
    let message = either(v, &["message"], &["note"])
        .as_str()
        .unwrap_or_default();
    vec![
        json!(last),
        json!(s(v, &["type"])),
        json!(s(v, &["reason"])),
        json!(target),
        json!(s(involved, &["fieldPath"])),
        json!(source_str),
        json!(message.trim()),
        json!(first),
        json!(count),
        json!(name(v)),
    ]
}

pub const CONFIGMAP_COLUMNS: &[Column] = &[name_col(), col("Data", "string", CM_DATA), AGE];

pub fn configmap_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(len_of(v, &["data"]) + len_of(v, &["binaryData"])),
        json!(age(v, now)),
    ]
}

pub const SECRET_COLUMNS: &[Column] = &[
    name_col(),
    col("Type", "string", SECRET_TYPE),
    col("Data", "string", SECRET_DATA),
    AGE,
];

pub fn secret_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(s(v, &["type"])),
        json!(len_of(v, &["data"])),
        json!(age(v, now)),
    ]
}

pub const SA_COLUMNS: &[Column] = &[name_col(), col("Secrets", "string", SA_SECRETS), AGE];

pub fn sa_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(len_of(v, &["secrets"])),
        json!(age(v, now)),
    ]
}

pub const PV_COLUMNS: &[Column] = &[
    name_col(),
    col("Capacity", "string", PV_CAPACITY),
    col("Access Modes", "string", PV_ACCESS),
    col("Reclaim Policy", "string", PV_RECLAIM),
    col("Status", "string", PV_PHASE),
    col("Claim", "string", PV_CLAIM),
    col("StorageClass", "string", "StorageClass of the pv"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pv",
    ),
    col("Reason", "string", PV_REASON),
    AGE,
    wide("VolumeMode", "string", PV_MODE),
];

/// `GetAccessModesAsString`: RWO,ROX,RWX,RWOP in that order.
pub fn access_modes(v: &Value, path: &[&str]) -> String {
    let modes: Vec<&str> = arr(v, path).iter().filter_map(Value::as_str).collect();
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| modes.contains(m))
    .map(|(_, short)| *short)
    .collect::<Vec<_>>()
    .join(",")
}

const BETA_CLASS: &str = "volume.beta.kubernetes.io/storage-class";

fn phase_or_terminating(v: &Value) -> String {
    if present(v, &["metadata", "deletionTimestamp"]) {
        "Terminating".to_string()
    } else {
        s(v, &["status", "phase"]).to_string()
    }
}

pub fn pv_cells(v: &Value, now: Time) -> Vec<Value> {
    let claim = if present(v, &["spec", "claimRef"]) {
        format!(
            "{}/{}",
            s(v, &["spec", "claimRef", "namespace"]),
            s(v, &["spec", "claimRef", "name"])
        )
    } else {
        String::new()
    };
    let class = opt_s(v, &["metadata", "annotations", BETA_CLASS])
        .unwrap_or_else(|| s(v, &["spec", "storageClassName"]));
    vec![
        json!(name(v)),
        json!(quantity(at(v, &["spec", "capacity", "storage"]))),
        json!(access_modes(v, &["spec", "accessModes"])),
        json!(s(v, &["spec", "persistentVolumeReclaimPolicy"])),
        json!(phase_or_terminating(v)),
        json!(claim),
        json!(class),
        json!(opt_s(v, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>")),
        json!(s(v, &["status", "reason"])),
        json!(age(v, now)),
        json!(opt_s(v, &["spec", "volumeMode"]).unwrap_or("<unset>")),
    ]
}

pub const PVC_COLUMNS: &[Column] = &[
    name_col(),
    col("Status", "string", PVC_PHASE),
    col("Volume", "string", PVC_VOLUME),
    col("Capacity", "string", PVC_CAPACITY),
    col("Access Modes", "string", PVC_ACCESS),
    col("StorageClass", "string", "StorageClass of the pvc"),
    col(
        "VolumeAttributesClass",
        "string",
        "VolumeAttributesClass of the pvc",
    ),
    AGE,
    wide("VolumeMode", "string", PVC_MODE),
];

pub fn pvc_cells(v: &Value, now: Time) -> Vec<Value> {
    let volume = s(v, &["spec", "volumeName"]);
    let (capacity, modes) = if volume.is_empty() {
        (String::new(), String::new())
    } else {
        (
            quantity(at(v, &["status", "capacity", "storage"])),
            access_modes(v, &["status", "accessModes"]),
        )
    };
    let class = opt_s(v, &["metadata", "annotations", BETA_CLASS])
        .or_else(|| opt_s(v, &["spec", "storageClassName"]))
        .unwrap_or_default();
    vec![
        json!(name(v)),
        json!(phase_or_terminating(v)),
        json!(volume),
        json!(capacity),
        json!(modes),
        json!(class),
        json!(opt_s(v, &["spec", "volumeAttributesClassName"]).unwrap_or("<unset>")),
        json!(age(v, now)),
        json!(opt_s(v, &["spec", "volumeMode"]).unwrap_or("<unset>")),
    ]
}

pub const QUOTA_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Request",
        "string",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

pub fn quota_cells(v: &Value, now: Time) -> Vec<Value> {
    let hard = obj(v, &["status", "hard"]);
    let mut names: Vec<&String> = hard.into_iter().flat_map(|m| m.keys()).collect();
    names.sort();
    let mut requests = Vec::new();
    let mut limits = Vec::new();
    for r in names {
        let used = quantity(at(v, &["status", "used", r]));
        let hard = quantity(at(v, &["status", "hard", r]));
        let entry = format!("{r}: {used}/{hard}");
        let pieces: Vec<&str> = r.split('.').collect();
        if pieces.len() > 1 && pieces[0] == "limits" {
            limits.push(entry);
        } else {
            requests.push(entry);
        }
    }
    vec![
        json!(name(v)),
        json!(requests.join(", ")),
        json!(limits.join(", ")),
        json!(age(v, now)),
    ]
}

pub const COMPONENT_COLUMNS: &[Column] = &[
    name_col(),
    col("Status", "string", "Status of the component conditions"),
    col("Message", "string", "Message of the component conditions"),
    col("Error", "string", "Error of the component conditions"),
];

pub fn component_cells(v: &Value, _now: Time) -> Vec<Value> {
    let healthy = arr(v, &["conditions"])
        .iter()
        .find(|c| s(c, &["type"]) == "Healthy");
    let (status, message, error) = match healthy {
        Some(c) => (
            if s(c, &["status"]) == "True" {
                "Healthy"
            } else {
                "Unhealthy"
            },
            s(c, &["message"]),
            s(c, &["error"]),
        ),
        None => ("Unknown", "", ""),
    };
    vec![json!(name(v)), json!(status), json!(message), json!(error)]
}
