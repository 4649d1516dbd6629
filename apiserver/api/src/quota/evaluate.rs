//! Upstream's ResourceQuota admission decisions (`plugin/pkg/admission/resourcequota`),
//! without I/O: which quotas an object falls under, what it must declare, what it
//! charges, and whether a quota can take the charge.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::list::{self, ResourceList};
use super::usage::{self, is_pod_resource};

/// Resources a container must declare once a quota limits them (upstream's historical
/// coupling of cpu/memory quota with explicit requests and limits).
const MUST_DECLARE: &[&str] = &[
    "cpu",
    "memory",
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
];

/// Why an object may not be admitted; the text is upstream's message (the caller wraps
/// it in `<resource> "<name>" is forbidden: ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

pub fn name_of(quota: &Value) -> &str {
    quota
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The limits a quota enforces: its spec (what the controller copies to status.hard).
pub fn hard(quota: &Value) -> ResourceList {
    list::from_json(quota.pointer("/spec/hard"))
}

pub fn used(quota: &Value) -> ResourceList {
    list::from_json(quota.pointer("/status/used"))
}

/// `(scopeName, operator, values)` of `spec.scopes` and `spec.scopeSelector`.
fn scope_selectors(quota: &Value) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = quota
        .pointer("/spec/scopes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| (s.to_string(), "Exists".to_string(), Vec::new()))
        .collect();
    for e in quota
        .pointer("/spec/scopeSelector/matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let field = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let values = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        out.push((field("scopeName"), field("operator"), values));
    }
    out
}

/// Whether a pod falls under one scope selector.
fn pod_matches_scope(pod: &Value, scope: &str, operator: &str, values: &[String]) -> bool {
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let terminating = spec
        .get("activeDeadlineSeconds")
        .and_then(Value::as_i64)
        .is_some_and(|s| s >= 0);
    let best_effort = crate::defaults::qos_class(spec) == "BestEffort";
    let in_scope = match scope {
        "Terminating" => terminating,
        "NotTerminating" => !terminating,
        "BestEffort" => best_effort,
        "NotBestEffort" => !best_effort,
        "PriorityClass" => {
            let class = spec.get("priorityClassName").and_then(Value::as_str);
            return match operator {
                "In" => class.is_some_and(|c| values.iter().any(|v| v == c)),
                "NotIn" => class.is_none_or(|c| !values.iter().any(|v| v == c)),
                "Exists" => class.is_some_and(|c| !c.is_empty()),
                "DoesNotExist" => class.is_none_or(str::is_empty),
                _ => false,
            };
        }
        "CrossNamespacePodAffinity" => uses_cross_namespace_affinity(spec),
        _ => false,
    };
    match operator {
        "NotIn" | "DoesNotExist" => !in_scope,
        _ => in_scope,
    }
}

fn uses_cross_namespace_affinity(spec: &Value) -> bool {
    ["podAffinity", "podAntiAffinity"].iter().any(|kind| {
        let Some(a) = spec.pointer(&format!("/affinity/{kind}")) else {
            return false;
        };
        let terms = a
            .get("requiredDuringSchedulingIgnoredDuringExecution")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(
                a.get("preferredDuringSchedulingIgnoredDuringExecution")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w.get("podAffinityTerm")),
            );
        terms
            .into_iter()
            .any(|t| t.get("namespaceSelector").is_some() || t.get("namespaces").is_some())
    })
}

/// Whether `obj` (of group/plural) falls under `quota`: the quota limits something the
/// object consumes, and every scope matches (scoped quotas only hold pods).
pub fn matches(quota: &Value, group: &str, plural: &str, obj: &Value) -> bool {
    let hard = hard(quota);
    if usage::matching_resources(group, plural, hard.keys()).is_empty() {
        return false;
    }
    let is_pod = group.is_empty() && plural == "pods";
    scope_selectors(quota)
        .iter()
        .all(|(scope, op, values)| is_pod && pod_matches_scope(obj, scope, op, values))
}

/// The quota names of one container's own requests and limits.
fn declared(container: &Value) -> BTreeSet<String> {
    let get = |k: &str| list::from_json(container.get("resources").and_then(|r| r.get(k)));
    usage::compute_usage(&get("requests"), &get("limits"))
        .into_keys()
        .collect()
}

/// Upstream's pod `Constraints`: with cpu or memory under quota, every container must
/// declare them. `limited` are the quota's pod resource names.
fn check_constraints(quota: &str, pod: &Value, limited: &[String]) -> Result<(), Refusal> {
    let required: BTreeSet<&str> = limited
        .iter()
        .map(String::as_str)
        .filter(|n| MUST_DECLARE.contains(n))
        .collect();
    if required.is_empty() {
        return Ok(());
    }
    let mut missing: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    for key in ["containers", "initContainers"] {
        for c in spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let has = declared(c);
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            for r in &required {
                if !has.contains(*r) {
                    missing.entry(r).or_default().insert(name.to_string());
                }
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let parts: Vec<String> = missing
        .iter()
        .map(|(r, names)| {
            format!(
                "{r} for: {}",
                names.iter().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    Err(Refusal(format!(
        "failed quota: {quota}: must specify {}",
        parts.join("; ")
    )))
}

/// What admitting `obj` asks of the quotas in its namespace: for each quota it falls
/// under (by index into `quotas`), the resource names that quota limits. Refuses a pod
/// that does not declare what a quota requires.
pub fn covering_quotas(
    quotas: &[Value],
    group: &str,
    plural: &str,
    obj: &Value,
) -> Result<Vec<(usize, Vec<String>)>, Refusal> {
    let mut out = Vec::new();
    for (i, quota) in quotas.iter().enumerate() {
        if !matches(quota, group, plural, obj) {
            continue;
        }
        let hard = hard(quota);
        let limited = usage::matching_resources(group, plural, hard.keys());
        if group.is_empty() && plural == "pods" {
            let pod_limited: Vec<String> = limited
                .iter()
                .filter(|n| is_pod_resource(n))
                .cloned()
                .collect();
            check_constraints(name_of(quota), obj, &pod_limited)?;
        }
        out.push((i, limited));
    }
    Ok(out)
}

/// What a create (no `old`) or an update charges: the new object's usage, less the old
/// one's on updates, without zeros. Refuses negative usage as upstream does.
pub fn charge(
    group: &str,
    plural: &str,
    obj: &Value,
    old: Option<&Value>,
) -> Result<ResourceList, Refusal> {
    let new = usage::usage(group, plural, obj);
    let negative: Vec<&String> = new
        .iter()
        .filter(|(_, q)| q.is_negative())
        .map(|(k, _)| k)
        .collect();
    if !negative.is_empty() {
        return Err(Refusal(format!(
            "quota usage is negative for resource(s): {}",
            negative
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        )));
    }
    let delta = match old {
        Some(old) => list::subtract_non_negative(&new, &usage::usage(group, plural, old)),
        None => new,
    };
    Ok(list::remove_zeros(delta))
}

/// The outcome of charging one quota.
#[derive(Debug, PartialEq)]
pub enum Charged {
    /// The quota with status.hard and status.used updated.
    Updated(Value),
    /// Nothing this quota limits changes.
    Unchanged,
    /// status.used lacks some of `limited`: the usage must be computed first and passed
    /// as `known_usage`.
    UsageUnknown,
}

/// Add `delta` to `quota`'s usage of `limited`, refusing when that exceeds the hard
/// limits (upstream's `exceeded quota` message). `known_usage` fills in what
/// status.used does not say yet (a quota the controller has not synced).
pub fn charge_quota(
    quota: &Value,
    limited: &[String],
    delta: &ResourceList,
    known_usage: Option<&ResourceList>,
) -> Result<Charged, Refusal> {
    let hard = hard(quota);
    let requested = list::mask(delta, limited);
    if requested.is_empty() {
        return Ok(Charged::Unchanged);
    }
    let mut used = used(quota);
    for name in hard.keys() {
        if used.contains_key(name) {
            continue;
        }
        match known_usage {
            Some(known) => {
                let q = known.get(name).copied().unwrap_or(list::quantity(0));
                used.insert(name.clone(), q);
            }
            None => return Ok(Charged::UsageUnknown),
        }
    }
    let new_used = list::add(&used, &requested);
    let over = list::exceeded(&list::mask(&new_used, requested.keys()), &hard);
    if !over.is_empty() {
        return Err(Refusal(format!(
            "exceeded quota: {}, requested: {}, used: {}, limited: {}",
            name_of(quota),
            list::pretty(&list::mask(&requested, &over)),
            list::pretty(&list::mask(&used, &over)),
            list::pretty(&list::mask(&hard, &over)),
        )));
    }
    Ok(Charged::Updated(with_status(quota, &hard, &new_used)))
}

/// Give back a charge (the write it paid for did not happen): usage never below zero.
pub fn refund_quota(quota: &Value, delta: &ResourceList) -> Option<Value> {
    let hard = hard(quota);
    let used = used(quota);
    let back = list::mask(delta, used.keys());
    if back.is_empty() {
        return None;
    }
    Some(with_status(
        quota,
        &hard,
        &list::subtract_non_negative(&used, &back),
    ))
}

/// `quota` with `status: {hard, used}`; used only holds names that are limited.
pub fn with_status(quota: &Value, hard: &ResourceList, used: &ResourceList) -> Value {
    let mut q = quota.clone();
    let used = list::mask(used, hard.keys());
    if let Some(m) = q.as_object_mut() {
        m.insert(
            "status".into(),
            json!({"hard": list::to_json(hard), "used": list::to_json(&used)}),
        );
    }
    q
}

/// The usage of everything `quota` limits, from all objects in its namespace:
/// `objects(group, plural)` lists them (the controller's caches, or storage).
pub fn recompute<'a, F>(quota: &Value, mut objects: F) -> ResourceList
where
    F: FnMut(&str, &str) -> Vec<&'a Value>,
{
    let hard = hard(quota);
    let mut used: ResourceList = hard
        .keys()
        .map(|k| (k.clone(), list::quantity(0)))
        .collect();
    let mut kinds: BTreeSet<(String, String)> = BTreeSet::new();
    for name in hard.keys() {
        if let Some(k) = usage::tracked_resource(name) {
            kinds.insert(k);
        }
    }
    for (group, plural) in kinds {
        let limited = usage::matching_resources(&group, &plural, hard.keys());
        for obj in objects(&group, &plural) {
            if !matches(quota, &group, &plural, obj) {
                continue;
            }
            let u = list::mask(&usage::usage(&group, &plural, obj), &limited);
            list::add_into(&mut used, &u);
        }
    }
    used
}
