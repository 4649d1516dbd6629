//! The LimitRanger admission plugin's rules (`plugin/pkg/admission/limitranger`):
//! defaults of `type: Container` limit ranges filled into pods, and the min, max and
//! limit/request ratio of containers, pods and claims enforced.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::list::{self, ResourceList};
use super::usage;
use super::Refusal;
use crate::validation::quantity::Quantity;

/// The annotation that records which defaults were applied.
pub const ANNOTATION: &str = "kubernetes.io/limit-ranger";

fn items<'a>(limit_range: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> {
    limit_range
        .pointer("/spec/limits")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(move |i| i.get("type").and_then(Value::as_str) == Some(kind))
}

/// Fill in default requests and limits of every container (a later limit range wins for
/// the same resource, as upstream's merge does). Returns whether the pod changed.
pub fn apply_pod_defaults(pod: &mut Value, limit_ranges: &[Value]) -> bool {
    let mut default_limits = Map::new();
    let mut default_requests = Map::new();
    for lr in limit_ranges {
        for item in items(lr, "Container") {
            for (key, into) in [
                ("default", &mut default_limits),
                ("defaultRequest", &mut default_requests),
            ] {
                if let Some(m) = item.get(key).and_then(Value::as_object) {
                    into.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
    }
    if default_limits.is_empty() && default_requests.is_empty() {
        return false;
    }
    let mut notes = Vec::new();
    for (key, label) in [
        ("containers", "container"),
        ("initContainers", "init container"),
    ] {
        let Some(cs) = pod
            .get_mut("spec")
            .and_then(|s| s.get_mut(key))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in cs {
            merge_container(c, &default_requests, &default_limits, label, &mut notes);
        }
    }
    if notes.is_empty() {
        return false;
    }
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        annotations[ANNOTATION] =
            Value::String(format!("LimitRanger plugin set: {}", notes.join("; ")));
    }
    true
}

fn merge_container(
    c: &mut Value,
    requests: &Map<String, Value>,
    limits: &Map<String, Value>,
    label: &str,
    notes: &mut Vec<String>,
) {
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(c) = c.as_object_mut() else {
        return;
    };
    let resources = c
        .entry("resources")
        .or_insert_with(|| Value::Object(Map::new()));
    if !resources.is_object() {
        *resources = Value::Object(Map::new());
    }
    let mut fill = |key: &str, defaults: &Map<String, Value>| -> Vec<String> {
        let Some(res) = resources.as_object_mut() else {
            return Vec::new();
        };
        let have = res.entry(key).or_insert_with(|| Value::Object(Map::new()));
        if !have.is_object() {
            *have = Value::Object(Map::new());
        }
        let Some(have) = have.as_object_mut() else {
            return Vec::new();
        };
        let mut set = Vec::new();
        for (k, v) in defaults {
            if !have.contains_key(k) {
                have.insert(k.clone(), v.clone());
                set.push(k.clone());
            }
        }
        set.sort();
        set
    };
    let set_limits = fill("limits", limits);
    let set_requests = fill("requests", requests);
    // Empty maps the client did not send stay absent, as upstream's encoder omits them.
    if let Some(res) = resources.as_object_mut() {
        res.retain(|_, v| !v.as_object().is_some_and(Map::is_empty));
    }
    if !set_requests.is_empty() {
        notes.push(format!(
            "{} request for {label} {name}",
            set_requests.join(", ")
        ));
    }
    if !set_limits.is_empty() {
        notes.push(format!(
            "{} limit for {label} {name}",
            set_limits.join(", ")
        ));
    }
}

/// `requestLimitEnforcedValues`: milli-units unless that could overflow.
fn comparable(q: Option<&Quantity>, enforced: &Quantity, other: Option<&Quantity>) -> [i128; 3] {
    const MAX_MILLI: i128 = i64::MAX as i128 / 1000;
    let value = |q: Option<&Quantity>| q.map(Quantity::value).unwrap_or(0);
    let milli = |q: Option<&Quantity>| q.map(Quantity::milli_value).unwrap_or(0);
    let values = [value(q), value(Some(enforced)), value(other)];
    if values.iter().all(|v| *v <= MAX_MILLI) {
        [milli(q), milli(Some(enforced)), milli(other)]
    } else {
        values
    }
}

fn min_constraint(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(name);
    let lim = limits.get(name);
    let [r, e, l] = comparable(req, enforced, lim);
    let min = enforced.canonical();
    match req {
        None => Some(format!(
            "minimum {name} usage per {kind} is {min}.  No request is specified"
        )),
        Some(q) if r < e => Some(format!(
            "minimum {name} usage per {kind} is {min}, but request is {}",
            q.canonical()
        )),
        _ => lim.filter(|_| l < e).map(|q| {
            format!(
                "minimum {name} usage per {kind} is {min}, but limit is {}",
                q.canonical()
            )
        }),
    }
}

fn max_constraint(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let req = requests.get(name);
    let lim = limits.get(name);
    let [r, e, l] = comparable(req, enforced, lim);
    let max = enforced.canonical();
    match lim {
        None => Some(format!(
            "maximum {name} usage per {kind} is {max}.  No limit is specified"
        )),
        Some(q) if l > e => Some(format!(
            "maximum {name} usage per {kind} is {max}, but limit is {}",
            q.canonical()
        )),
        _ => req.filter(|_| r > e).map(|q| {
            format!(
                "maximum {name} usage per {kind} is {max}, but request is {}",
                q.canonical()
            )
        }),
    }
}

/// A claim has no limits: its max applies to the request.
fn max_request_constraint(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
) -> Option<String> {
    let req = requests.get(name);
    let [r, e, _] = comparable(req, enforced, None);
    let max = enforced.canonical();
    match req {
        None => Some(format!(
            "maximum {name} usage per {kind} is {max}.  No request is specified"
        )),
        Some(q) if r > e => Some(format!(
            "maximum {name} usage per {kind} is {max}, but request is {}",
            q.canonical()
        )),
        _ => None,
    }
}

fn ratio_constraint(
    kind: &str,
    name: &str,
    enforced: &Quantity,
    requests: &ResourceList,
    limits: &ResourceList,
) -> Option<String> {
    let [r, _, l] = comparable(requests.get(name), enforced, limits.get(name));
    let max = enforced.canonical();
    if !requests.contains_key(name) || r == 0 {
        return Some(format!("{name} max limit to request ratio per {kind} is {max}, but no request is specified or request is 0"));
    }
    if !limits.contains_key(name) || l == 0 {
        return Some(format!("{name} max limit to request ratio per {kind} is {max}, but no limit is specified or limit is 0"));
    }
    let observed = l as f64 / r as f64;
    let allowed = enforced.milli_value() as f64 / 1000.0;
    (observed > allowed).then(|| {
        format!(
            "{name} max limit to request ratio per {kind} is {max}, but provided ratio is {observed:.6}"
        )
    })
}

fn bounds(item: &Value, key: &str) -> ResourceList {
    list::from_json(item.get(key))
}

/// Min, max and ratio of one set of requests/limits against one limit range item.
fn check_item(
    kind: &str,
    item: &Value,
    requests: &ResourceList,
    limits: &ResourceList,
    errs: &mut Vec<String>,
) {
    for (name, q) in bounds(item, "min") {
        errs.extend(min_constraint(kind, &name, &q, requests, limits));
    }
    for (name, q) in bounds(item, "max") {
        errs.extend(max_constraint(kind, &name, &q, requests, limits));
    }
    for (name, q) in bounds(item, "maxLimitRequestRatio") {
        errs.extend(ratio_constraint(kind, &name, &q, requests, limits));
    }
}

/// Upstream's `utilerrors.NewAggregate(...).Error()`: one message alone, several as a
/// bracketed, de-duplicated list.
fn aggregate(errs: Vec<String>) -> Result<(), Refusal> {
    let mut seen = BTreeSet::new();
    let errs: Vec<String> = errs
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect();
    match errs.len() {
        0 => Ok(()),
        1 => Err(Refusal(errs.into_iter().next().unwrap_or_default())),
        _ => Err(Refusal(format!("[{}]", errs.join(", ")))),
    }
}

fn container_lists(c: &Value) -> (ResourceList, ResourceList) {
    let get = |k: &str| list::from_json(c.get("resources").and_then(|r| r.get(k)));
    (get("requests"), get("limits"))
}

/// A pod against one limit range: each container, and the pod as a whole.
pub fn validate_pod(pod: &Value, limit_range: &Value) -> Result<(), Refusal> {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let mut errs = Vec::new();
    for item in items(limit_range, "Container") {
        for key in ["containers", "initContainers"] {
            for c in spec
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (requests, limits) = container_lists(c);
                check_item("Container", item, &requests, &limits, &mut errs);
            }
        }
    }
    for item in items(limit_range, "Pod") {
        let requests = usage::pod_requests(spec);
        let limits = usage::pod_limits(spec);
        check_item("Pod", item, &requests, &limits, &mut errs);
    }
    aggregate(errs)
}

/// A claim's storage request against one limit range.
pub fn validate_claim(pvc: &Value, limit_range: &Value) -> Result<(), Refusal> {
    let requests = list::from_json(pvc.pointer("/spec/resources/requests"));
    let mut errs = Vec::new();
    for item in items(limit_range, "PersistentVolumeClaim") {
        for (name, q) in bounds(item, "min") {
            errs.extend(min_constraint(
                "PersistentVolumeClaim",
                &name,
                &q,
                &requests,
                &ResourceList::new(),
            ));
        }
        for (name, q) in bounds(item, "max") {
            errs.extend(max_request_constraint(
                "PersistentVolumeClaim",
                &name,
                &q,
                &requests,
            ));
        }
    }
    aggregate(errs)
}
