//! Validation of the cluster-configuration kinds: PriorityClass (scheduling.k8s.io),
//! RuntimeClass (node.k8s.io), the storage.k8s.io kinds and the flowcontrol kinds, with
//! upstream's paths and messages (`pkg/apis/{scheduling,node,storage,flowcontrol}/validation`).

use serde_json::Value;

use super::field::{duplicate, forbidden, invalid, not_supported, required, too_long, Path};
use super::meta::{
    immutable, validate_label_name, validate_label_selector, validate_labels, validate_object_meta,
    validate_object_meta_update,
};
use super::names::{is_dns1123_label, is_dns1123_subdomain, is_qualified_name, NameRule};
use super::resources::{validate_quantity_value, validate_resource_name};
use super::scheduling::validate_tolerations;
use super::util::{arr, boolean, go_struct, has, int, obj, s};
use crate::status::Cause;

/// The priority classes every cluster has, created by the apiserver at start.
pub const SYSTEM_PRIORITY_CLASSES: &[(&str, i64, &str)] = &[
    (
        "system-node-critical",
        2_000_001_000,
        "Used for system critical pods that must not be moved from their current node.",
    ),
    (
        "system-cluster-critical",
        2_000_000_000,
        "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
    ),
];

/// The highest priority a user-defined PriorityClass may have.
const HIGHEST_USER_DEFINABLE_PRIORITY: i64 = 1_000_000_000;

fn with_meta(obj: &Value, old: Option<&Value>, rule: NameRule) -> Vec<Cause> {
    match old {
        None => validate_object_meta(obj, false, rule),
        Some(old) => validate_object_meta_update(obj, old),
    }
}

/// `IsKnownSystemPriorityClass`: the error text when `name` (with the `system-` prefix)
/// is not exactly one of the built-in classes.
fn system_priority_class_error(name: &str, value: i64, global_default: bool) -> Option<String> {
    let Some((_, want, _)) = SYSTEM_PRIORITY_CLASSES.iter().find(|(n, _, _)| *n == name) else {
        return Some(format!("name {name} is not a known system priority class"));
    };
    if value != *want {
        return Some(format!("value of {name} PriorityClass must be {want}"));
    }
    if global_default {
        return Some(format!(
            "globalDefault of {name} PriorityClass must be false"
        ));
    }
    None
}

pub fn validate_priority_class(pc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(pc, old, NameRule::Subdomain);
    let value = int(pc, "value").unwrap_or(0);
    let name = pc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(old) = old {
        if value != int(old, "value").unwrap_or(0) {
            out.push(forbidden(
                &Path::new("value"),
                "may not be changed in an update.",
            ));
        }
        out.extend(immutable(
            pc.get("preemptionPolicy"),
            old.get("preemptionPolicy"),
            s(pc, "preemptionPolicy").into(),
            &Path::new("preemptionPolicy"),
        ));
        return out;
    }
    if name.starts_with("system-") {
        let global = boolean(pc, "globalDefault").unwrap_or(false);
        if let Some(e) = system_priority_class_error(name, value, global) {
            out.push(forbidden(
                &Path::new("metadata.name"),
                &format!("priority class names with 'system-' prefix are reserved for system use only. error: {e}"),
            ));
        }
    } else if value > HIGHEST_USER_DEFINABLE_PRIORITY {
        out.push(forbidden(
            &Path::new("value"),
            &format!("maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"),
        ));
    }
    let policy = s(pc, "preemptionPolicy");
    if has(pc, "preemptionPolicy") && !["PreemptLowerPriority", "Never"].contains(&policy) {
        out.push(not_supported(
            &Path::new("preemptionPolicy"),
            policy,
            &["PreemptLowerPriority", "Never"],
        ));
    }
    out
}

pub fn validate_runtime_class(rc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(rc, old, NameRule::Subdomain);
    if let Some(old) = old {
        out.extend(immutable(
            rc.get("handler"),
            old.get("handler"),
            s(rc, "handler").into(),
            &Path::new("handler"),
        ));
        return out;
    }
    let handler = s(rc, "handler");
    for m in is_dns1123_label(handler) {
        out.push(invalid(&Path::new("handler"), handler, &m));
    }
    if let Some(fixed) = rc.get("overhead").and_then(|o| obj(o, "podFixed")) {
        let p = Path::new("overhead.podFixed");
        for (name, q) in fixed {
            let rp = p.key(name);
            out.extend(validate_resource_name(name, &rp));
            out.extend(validate_quantity_value(name, q, &rp));
        }
    }
    if let Some(sched) = rc.get("scheduling").filter(|v| v.is_object()) {
        let p = Path::new("scheduling");
        out.extend(validate_labels(
            sched.get("nodeSelector"),
            &p.child("nodeSelector"),
        ));
        out.extend(validate_tolerations(
            arr(sched, "tolerations"),
            &p.child("tolerations"),
        ));
    }
    out
}

pub fn validate_storage_class(sc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(sc, old, NameRule::Subdomain);
    if let Some(old) = old {
        let norm = |v: Option<&Value>| v.filter(|x| !x.is_null()).cloned();
        if norm(sc.get("parameters")) != norm(old.get("parameters")) {
            out.push(forbidden(
                &Path::new("parameters"),
                "updates to parameters are forbidden.",
            ));
        }
        if s(sc, "provisioner") != s(old, "provisioner") {
            out.push(forbidden(
                &Path::new("provisioner"),
                "updates to provisioner are forbidden.",
            ));
        }
        if s(sc, "reclaimPolicy") != s(old, "reclaimPolicy") {
            out.push(forbidden(
                &Path::new("reclaimPolicy"),
                "updates to reclaimPolicy are forbidden.",
            ));
        }
        out.extend(immutable(
            sc.get("volumeBindingMode"),
            old.get("volumeBindingMode"),
            s(sc, "volumeBindingMode").into(),
            &Path::new("volumeBindingMode"),
        ));
        return out;
    }
    let provisioner = s(sc, "provisioner");
    if provisioner.is_empty() {
        out.push(required(&Path::new("provisioner"), ""));
    } else {
        for m in is_qualified_name(&provisioner.to_lowercase()) {
            out.push(invalid(&Path::new("provisioner"), provisioner, &m));
        }
    }
    let policy = s(sc, "reclaimPolicy");
    if !["Delete", "Retain"].contains(&policy) {
        out.push(not_supported(
            &Path::new("reclaimPolicy"),
            policy,
            &["Delete", "Retain"],
        ));
    }
    let mode = s(sc, "volumeBindingMode");
    if mode.is_empty() {
        out.push(required(&Path::new("volumeBindingMode"), ""));
    } else if !["Immediate", "WaitForFirstConsumer"].contains(&mode) {
        out.push(not_supported(
            &Path::new("volumeBindingMode"),
            mode,
            &["Immediate", "WaitForFirstConsumer"],
        ));
    }
    out
}

/// `validateCSIDriverName`: a DNS-1123 subdomain of at most 63 characters.
fn validate_csi_driver_name(name: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if name.is_empty() {
        out.push(required(path, ""));
        return out;
    }
    if name.len() > 63 {
        out.push(too_long(path, 63));
    }
    for m in is_dns1123_subdomain(&name.to_lowercase()) {
        out.push(invalid(path, name, &m));
    }
    out
}

pub fn validate_csi_driver(d: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(d, old, NameRule::Subdomain);
    let name = d
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let null = Value::Null;
    let spec = d.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    if let Some(old) = old {
        let old_spec = old.get("spec").unwrap_or(&null);
        out.extend(immutable(
            spec.get("attachRequired"),
            old_spec.get("attachRequired"),
            boolean(spec, "attachRequired").unwrap_or(false).into(),
            &p.child("attachRequired"),
        ));
    } else {
        out.extend(validate_csi_driver_name(name, &Path::new("name")));
    }
    let policy = s(spec, "fsGroupPolicy");
    if has(spec, "fsGroupPolicy") && !["File", "None", "ReadWriteOnceWithFSType"].contains(&policy)
    {
        out.push(not_supported(
            &p.child("fsGroupPolicy"),
            policy,
            &["File", "None", "ReadWriteOnceWithFSType"],
        ));
    }
    for (i, mode) in arr(spec, "volumeLifecycleModes").iter().enumerate() {
        let m = mode.as_str().unwrap_or("");
        if !["Ephemeral", "Persistent"].contains(&m) {
            out.push(not_supported(
                &p.child("volumeLifecycleModes").index(i),
                m,
                &["Ephemeral", "Persistent"],
            ));
        }
    }
    out
}

pub fn validate_csi_node(n: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(n, old, NameRule::Subdomain);
    let drivers_path = Path::new("spec.drivers");
    let mut seen = std::collections::HashSet::new();
    let drivers = n
        .get("spec")
        .map(|spec| arr(spec, "drivers"))
        .unwrap_or(&[]);
    for (i, d) in drivers.iter().enumerate() {
        let p = drivers_path.index(i);
        let name = s(d, "name");
        out.extend(validate_csi_driver_name(name, &p.child("name")));
        if !seen.insert(name.to_string()) {
            out.push(duplicate(&p.child("name"), name));
        }
        let node_id = s(d, "nodeID");
        if node_id.is_empty() {
            out.push(required(&p.child("nodeID"), ""));
        } else if node_id.len() > 192 {
            out.push(too_long(&p.child("nodeID"), 192));
        }
        for (j, key) in arr(d, "topologyKeys").iter().enumerate() {
            let key = key.as_str().unwrap_or("");
            out.extend(validate_label_name(key, &p.child("topologyKeys").index(j)));
        }
    }
    out
}

pub fn validate_csi_storage_capacity(c: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(c, true, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(c, old),
    };
    let class = s(c, "storageClassName");
    for m in is_dns1123_subdomain(class) {
        out.push(invalid(&Path::new("storageClassName"), class, &m));
    }
    if let Some(sel) = c.get("nodeTopology").filter(|v| v.is_object()) {
        out.extend(validate_label_selector(sel, &Path::new("nodeTopology")));
    }
    for field in ["capacity", "maximumVolumeSize"] {
        if let Some(q) = c.get(field).filter(|v| !v.is_null()) {
            out.extend(validate_quantity_value(field, q, &Path::new(field)));
        }
    }
    if let Some(old) = old {
        // What the driver was asked about stays; only the answers change.
        out.extend(immutable(
            c.get("nodeTopology"),
            old.get("nodeTopology"),
            super::field::Bad::Raw(super::util::go_label_selector(
                c.get("nodeTopology").unwrap_or(&Value::Null),
            )),
            &Path::new("nodeTopology"),
        ));
        out.extend(immutable(
            c.get("storageClassName"),
            old.get("storageClassName"),
            class.into(),
            &Path::new("storageClassName"),
        ));
    }
    out
}

pub fn validate_volume_attachment(va: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(va, old, NameRule::Subdomain);
    let null = Value::Null;
    let spec = va.get("spec").unwrap_or(&null);
    if let Some(old) = old {
        let old_spec = old.get("spec").unwrap_or(&null);
        if super::semantic_eq(spec, old_spec) {
            return out;
        }
        out.push(invalid(
            &Path::new("spec"),
            super::field::Bad::Raw(go_struct("storage.VolumeAttachmentSpec", spec)),
            "field is immutable",
        ));
        return out;
    }
    let p = Path::new("spec");
    out.extend(validate_csi_driver_name(
        s(spec, "attacher"),
        &p.child("attacher"),
    ));
    let source = spec.get("source").unwrap_or(&null);
    let sp = p.child("source");
    const EXACTLY_ONE: &str =
        "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
    match (
        has(source, "inlineVolumeSpec"),
        has(source, "persistentVolumeName"),
    ) {
        (false, false) => out.push(required(&sp, EXACTLY_ONE)),
        (true, true) => out.push(forbidden(&sp, EXACTLY_ONE)),
        (false, true) if s(source, "persistentVolumeName").is_empty() => out.push(required(
            &sp.child("persistentVolumeName"),
            "must specify non empty persistentVolumeName",
        )),
        _ => {}
    }
    let node = s(spec, "nodeName");
    for m in is_dns1123_subdomain(node) {
        out.push(invalid(&p.child("nodeName"), node, &m));
    }
    out
}

pub fn validate_flow_schema(fs: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(fs, old, NameRule::Subdomain);
    let name = fs
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let null = Value::Null;
    let spec = fs.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    let precedence = int(spec, "matchingPrecedence").unwrap_or(0);
    let pp = p.child("matchingPrecedence");
    if precedence <= 0 {
        out.push(invalid(&pp, precedence, "must be a positive value"));
    }
    if precedence > 10_000 {
        out.push(invalid(&pp, precedence, "must not be greater than 10000"));
    }
    if precedence == 1 && name != "exempt" {
        out.push(invalid(
            &pp,
            precedence,
            "only the schema named 'exempt' may have matchingPrecedence 1",
        ));
    }
    if let Some(dm) = spec.get("distinguisherMethod").filter(|v| v.is_object()) {
        let t = s(dm, "type");
        if !["ByNamespace", "ByUser"].contains(&t) {
            out.push(not_supported(
                &p.at(&["distinguisherMethod", "type"]),
                t,
                &["ByNamespace", "ByUser"],
            ));
        }
    }
    let level = spec
        .get("priorityLevelConfiguration")
        .map(|l| s(l, "name"))
        .unwrap_or("");
    let lp = p.at(&["priorityLevelConfiguration", "name"]);
    if level.is_empty() {
        out.push(required(&lp, "must reference a priority level"));
    } else {
        for m in is_dns1123_subdomain(level) {
            out.push(invalid(&lp, level, &m));
        }
    }
    for (i, rule) in arr(spec, "rules").iter().enumerate() {
        out.extend(validate_flow_rule(rule, &p.child("rules").index(i)));
    }
    out
}

fn validate_flow_rule(rule: &Value, p: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let subjects = arr(rule, "subjects");
    if subjects.is_empty() {
        out.push(required(
            &p.child("subjects"),
            "subjects must contain at least one value",
        ));
    }
    for (i, subject) in subjects.iter().enumerate() {
        let sp = p.child("subjects").index(i);
        let kind = s(subject, "kind");
        let field = match kind {
            "User" => "user",
            "Group" => "group",
            "ServiceAccount" => "serviceAccount",
            _ => {
                out.push(not_supported(
                    &sp.child("kind"),
                    kind,
                    &["Group", "ServiceAccount", "User"],
                ));
                continue;
            }
        };
        if !has(subject, field) {
            out.push(required(
                &sp.child(field),
                &format!("{field} is required when subject kind is '{kind}'"),
            ));
        }
    }
    let resource_rules = arr(rule, "resourceRules");
    let non_resource_rules = arr(rule, "nonResourceRules");
    if resource_rules.is_empty() && non_resource_rules.is_empty() {
        out.push(required(
            p,
            "at least one of resourceRules and nonResourceRules has to be non-empty",
        ));
    }
    for (i, r) in non_resource_rules.iter().enumerate() {
        let rp = p.child("nonResourceRules").index(i);
        if arr(r, "verbs").is_empty() {
            out.push(required(
                &rp.child("verbs"),
                "verbs must contain at least one value",
            ));
        }
        if arr(r, "nonResourceURLs").is_empty() {
            out.push(required(
                &rp.child("nonResourceURLs"),
                "nonResourceURLs must contain at least one value",
            ));
        }
    }
    for (i, r) in resource_rules.iter().enumerate() {
        let rp = p.child("resourceRules").index(i);
        for (field, detail) in [
            ("verbs", "verbs must contain at least one value"),
            (
                "apiGroups",
                "resource rules must supply at least one api group",
            ),
            (
                "resources",
                "resource rules must supply at least one resource",
            ),
        ] {
            if arr(r, field).is_empty() {
                out.push(required(&rp.child(field), detail));
            }
        }
        if arr(r, "namespaces").is_empty() && !boolean(r, "clusterScope").unwrap_or(false) {
            out.push(required(
                &rp.child("namespaces"),
                "resource rules that are not cluster scoped must supply at least one namespace",
            ));
        }
    }
    out
}

pub fn validate_priority_level(plc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(plc, old, NameRule::Subdomain);
    let null = Value::Null;
    let spec = plc.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    match s(spec, "type") {
        "Exempt" => {
            if has(spec, "limited") {
                out.push(forbidden(
                    &p.child("limited"),
                    "must be nil if the type is not Limited",
                ));
            }
        }
        "Limited" => {
            if has(spec, "exempt") {
                out.push(forbidden(
                    &p.child("exempt"),
                    "must be nil if the type is Limited",
                ));
            }
            match spec.get("limited").filter(|v| v.is_object()) {
                None => out.push(required(
                    &p.child("limited"),
                    "must not be empty when type is Limited",
                )),
                Some(limited) => out.extend(validate_limited(limited, &p.child("limited"))),
            }
        }
        t => out.push(not_supported(&p.child("type"), t, &["Exempt", "Limited"])),
    }
    out
}

fn validate_limited(limited: &Value, p: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let shares = int(limited, "nominalConcurrencyShares").unwrap_or(0);
    if shares < 0 {
        out.push(invalid(
            &p.child("nominalConcurrencyShares"),
            shares,
            "must be a non-negative integer",
        ));
    }
    let lendable = int(limited, "lendablePercent").unwrap_or(0);
    if !(0..=100).contains(&lendable) {
        out.push(invalid(
            &p.child("lendablePercent"),
            lendable,
            "must be between 0 and 100, inclusive",
        ));
    }
    let null = Value::Null;
    let response = limited.get("limitResponse").unwrap_or(&null);
    let rp = p.child("limitResponse");
    match s(response, "type") {
        "Queuing" if !has(response, "queuing") => {
            out.push(required(
                &rp.child("queuing"),
                "must not be empty if the type is Queuing",
            ));
        }
        "Reject" if has(response, "queuing") => {
            out.push(forbidden(
                &rp.child("queuing"),
                "must be nil if limited.limitResponse.type is not Limited",
            ));
        }
        "Queuing" | "Reject" => {}
        t => out.push(not_supported(&rp.child("type"), t, &["Queuing", "Reject"])),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(c: Vec<Cause>) -> Vec<String> {
        c.into_iter().map(|c| c.message).collect()
    }

    #[test]
    fn system_priority_classes_are_reserved() {
        let pc =
            json!({"metadata": {"name": "system-mine"}, "value": 5, "preemptionPolicy": "Never"});
        assert_eq!(
            messages(validate_priority_class(&pc, None)),
            ["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: name system-mine is not a known system priority class"]
        );
        let builtin = json!({"metadata": {"name": "system-node-critical"}, "value": 2_000_001_000});
        assert!(validate_priority_class(&builtin, None).is_empty());
        let high = json!({"metadata": {"name": "high"}, "value": 2_000_000_000});
        assert_eq!(
            messages(validate_priority_class(&high, None)),
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
        );
    }

    #[test]
    fn storage_class_needs_a_provisioner_and_keeps_it() {
        let sc = json!({"metadata": {"name": "s"}, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"});
        assert_eq!(
            messages(validate_storage_class(&sc, None)),
            ["provisioner: Required value"]
        );
        let old = json!({"metadata": {"name": "s", "resourceVersion": "1"}, "provisioner": "a.io/x",
                         "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"});
        let mut new = old.clone();
        new["provisioner"] = json!("b.io/y");
        assert_eq!(
            messages(validate_storage_class(&new, Some(&old))),
            ["provisioner: Forbidden: updates to provisioner are forbidden."]
        );
    }

    #[test]
    fn runtime_class_handler_is_a_dns_label() {
        let rc = json!({"metadata": {"name": "r"}, "handler": "Not_A_Label"});
        let m = messages(validate_runtime_class(&rc, None));
        assert_eq!(m.len(), 1);
        assert!(
            m[0].starts_with("handler: Invalid value: \"Not_A_Label\": a lowercase RFC 1123 label"),
            "{m:?}"
        );
    }

    #[test]
    fn volume_attachment_needs_one_source() {
        let va = json!({"metadata": {"name": "v"}, "spec": {"attacher": "a.io", "nodeName": "n", "source": {}}});
        assert_eq!(
            messages(validate_volume_attachment(&va, None)),
            ["spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName"]
        );
    }

    #[test]
    fn flow_schema_references_a_priority_level() {
        let fs = json!({"metadata": {"name": "f"}, "spec": {"matchingPrecedence": 1000}});
        assert_eq!(
            messages(validate_flow_schema(&fs, None)),
            ["spec.priorityLevelConfiguration.name: Required value: must reference a priority level"]
        );
    }
}
