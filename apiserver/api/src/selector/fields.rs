//! Field selectors (`k8s.io/apimachinery/pkg/fields`) and the per-resource selectable
//! fields of upstream's registries and field-label conversions.

use rkube_patch::go_format::go_quote;
use serde_json::Value;

use crate::resources::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOp {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub op: FieldOp,
    /// Unescaped.
    pub value: String,
}

/// A field selector: the AND of its terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
}

fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for (op, kind) in [
            ("!=", FieldOp::NotEquals),
            ("==", FieldOp::Equals),
            ("=", FieldOp::Equals),
        ] {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((&term[..i], kind, rhs));
            }
        }
    }
    None
}

/// `fields.UnescapeValue`.
pub fn unescape_value(s: &str) -> Result<String, String> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            match c {
                '\\' | ',' | '=' => out.push(c),
                _ => {
                    return Err(format!(
                        "invalid field selector: invalid escape sequence: \\{c}"
                    ))
                }
            }
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                return Err(format!(
                    "invalid field selector: unescaped character in value: {}",
                    c as u32
                ))
            }
            _ => out.push(c),
        }
    }
    if in_slash {
        return Err("invalid field selector: invalid escape sequence: \\".to_string());
    }
    Ok(out)
}

/// `fields.EscapeValue`.
pub fn escape_value(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

impl FieldSelector {
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parse the `fieldSelector` query string (terms sorted like upstream's).
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            terms.push(FieldRequirement {
                field: lhs.to_string(),
                op,
                value: unescape_value(rhs)?,
            });
        }
        Ok(FieldSelector { terms })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// The field labels converted for `resource` the way upstream's field-label conversion
    /// functions do (`spec.host` → `spec.nodeName`, `regarding.name` →
    /// `involvedObject.name`, ...). The error is upstream's 400 message for the first
    /// unsupported label.
    pub fn convert(&self, resource: &Resource) -> Result<FieldSelector, String> {
        let mut terms = Vec::with_capacity(self.terms.len());
        for t in &self.terms {
            terms.push(FieldRequirement {
                field: convert_label(resource, &t.field)?.to_string(),
                op: t.op,
                value: t.value.clone(),
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Upstream's BadRequest message when a label is not selectable for `resource`.
    pub fn validate(&self, resource: &Resource) -> Result<(), String> {
        self.convert(resource).map(|_| ())
    }

    /// Whether `obj` (of `resource`) satisfies every term. Fields that an object lacks
    /// compare as the empty string, as upstream's `fields.Set.Get` does.
    pub fn matches(&self, resource: &Resource, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            let field = convert_label(resource, &t.field).unwrap_or(&t.field);
            let v = field_value(resource, obj, field).unwrap_or_default();
            match t.op {
                FieldOp::Equals => v == t.value,
                FieldOp::NotEquals => v != t.value,
            }
        })
    }

    /// The value a selector requires for `field` with `=` (e.g. `metadata.name`).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && t.op == FieldOp::Equals)
            .map(|t| t.value.as_str())
    }
}

impl std::fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let op = match t.op {
                    FieldOp::Equals => "=",
                    FieldOp::NotEquals => "!=",
                };
                format!("{}{}{}", t.field, op, escape_value(&t.value))
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

const META: &[&str] = &["metadata.name", "metadata.namespace"];
const PODS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];
const NODES: &[&str] = &["metadata.name", "spec.unschedulable"];
const RCS: &[&str] = &["metadata.name", "metadata.namespace", "status.replicas"];
const EVENTS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];
const NAMESPACES: &[&str] = &["status.phase", "metadata.name"];
const SECRETS: &[&str] = &["type", "metadata.namespace", "metadata.name"];
const SERVICES: &[&str] = &[
    "metadata.namespace",
    "metadata.name",
    "spec.clusterIP",
    "spec.type",
];
const JOBS: &[&str] = &["metadata.name", "metadata.namespace", "status.successful"];
/// events.k8s.io/v1 labels and the core field each stands for.
const NEW_EVENTS: &[(&str, &str)] = &[
    ("reason", "reason"),
    ("regarding.kind", "involvedObject.kind"),
    ("regarding.namespace", "involvedObject.namespace"),
    ("regarding.name", "involvedObject.name"),
    ("regarding.uid", "involvedObject.uid"),
    ("regarding.apiVersion", "involvedObject.apiVersion"),
    (
        "regarding.resourceVersion",
        "involvedObject.resourceVersion",
    ),
    ("regarding.fieldPath", "involvedObject.fieldPath"),
    ("reportingController", "reportingComponent"),
    ("source", "source"),
    ("type", "type"),
    ("metadata.namespace", "metadata.namespace"),
    ("metadata.name", "metadata.name"),
];
const NEW_EVENT_LABELS: &[&str] = &[
    "reason",
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reportingController",
    "source",
    "type",
    "metadata.namespace",
    "metadata.name",
];

/// The field labels a field selector may use for `resource` (what upstream's
/// field-label conversion accepts for the served version).
pub fn selectable_fields(resource: &Resource) -> &'static [&'static str] {
    match (resource.group, resource.plural) {
        ("", "pods") => PODS,
        ("", "nodes") => NODES,
        ("", "replicationcontrollers") => RCS,
        ("", "events") => EVENTS,
        ("", "namespaces") => NAMESPACES,
        ("", "secrets") => SECRETS,
        ("", "services") => SERVICES,
        ("batch", "jobs") => JOBS,
        ("events.k8s.io", "events") => NEW_EVENT_LABELS,
        _ => META,
    }
}

/// Whether upstream registers a field-label conversion for the resource's kind (the
/// others use the default, which only knows the metadata fields).
fn has_conversion(resource: &Resource) -> bool {
    matches!(
        (resource.group, resource.plural),
        (
            "",
            "pods"
                | "nodes"
                | "replicationcontrollers"
                | "events"
                | "namespaces"
                | "secrets"
                | "services"
        ) | ("batch", "jobs")
            | ("events.k8s.io", "events")
    )
}

/// Upstream's field-label conversion: the canonical field for `label`, or the 400 message.
fn convert_label<'a>(resource: &Resource, label: &'a str) -> Result<&'a str, String> {
    match (resource.group, resource.plural) {
        ("", "pods") if label == "spec.host" => Ok("spec.nodeName"),
        ("events.k8s.io", "events") => NEW_EVENTS
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, c)| *c)
            .ok_or_else(|| format!("field label not supported: {label}")),
        ("batch", "jobs") if !JOBS.contains(&label) => Err(format!(
            "field label {} not supported for batchv1.Job",
            go_quote(label)
        )),
        _ => {
            let fields = selectable_fields(resource);
            let custom = resource
                .custom
                .is_some_and(|c| c.selectable_fields.iter().any(|f| f == label));
            if fields.contains(&label) || custom {
                Ok(label)
            } else if !has_conversion(resource) {
                Err(format!(
                    "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                    go_quote(label)
                ))
            } else {
                Err(format!("field label not supported: {label}"))
            }
        }
    }
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn str_at(v: &Value, path: &[&str]) -> String {
    s(v, path)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn int_at(v: &Value, path: &[&str]) -> String {
    s(v, path).and_then(Value::as_i64).unwrap_or(0).to_string()
}

fn bool_at(v: &Value, path: &[&str]) -> String {
    s(v, path)
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .to_string()
}

/// The value of a selectable field of `obj`, as upstream's registry `GetAttrs` field set
/// has it (`None` when the set has no such field; selectors then compare with "").
/// Accepts the served label (`regarding.name`, `spec.host`) or the canonical one.
pub fn field_value(resource: &Resource, obj: &Value, field: &str) -> Option<String> {
    let field = convert_label(resource, field).unwrap_or(field);
    match field {
        "metadata.name" => return Some(str_at(obj, &["metadata", "name"])),
        "metadata.namespace" if resource.namespaced => {
            return Some(str_at(obj, &["metadata", "namespace"]))
        }
        _ => {}
    }
    if let Some(c) = resource.custom {
        return c.selectable_fields.iter().any(|f| f == field).then(|| {
            match crate::crd::columns::lookup(obj, field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            }
        });
    }
    match (resource.group, resource.plural) {
        ("", "pods") => pod_field(obj, field),
        ("", "nodes") => {
            (field == "spec.unschedulable").then(|| bool_at(obj, &["spec", "unschedulable"]))
        }
        ("", "namespaces") => match field {
            "status.phase" => Some(str_at(obj, &["status", "phase"])),
            "name" => Some(str_at(obj, &["metadata", "name"])),
            _ => None,
        },
        ("", "persistentvolumes" | "persistentvolumeclaims") => {
            (field == "name").then(|| str_at(obj, &["metadata", "name"]))
        }
        ("", "secrets") => (field == "type").then(|| str_at(obj, &["type"])),
        ("", "services") => match field {
            "spec.clusterIP" => Some(str_at(obj, &["spec", "clusterIP"])),
            "spec.type" => Some(str_at(obj, &["spec", "type"])),
            _ => None,
        },
        ("", "replicationcontrollers") | ("apps", "replicasets") => {
            (field == "status.replicas").then(|| int_at(obj, &["status", "replicas"]))
        }
        ("batch", "jobs") => {
            (field == "status.successful").then(|| int_at(obj, &["status", "succeeded"]))
        }
        (_, "events") => event_field(obj, field),
        _ => None,
    }
}

fn pod_field(obj: &Value, field: &str) -> Option<String> {
    Some(match field {
        "spec.nodeName" => str_at(obj, &["spec", "nodeName"]),
        "spec.restartPolicy" => str_at(obj, &["spec", "restartPolicy"]),
        "spec.schedulerName" => str_at(obj, &["spec", "schedulerName"]),
        "spec.serviceAccountName" => str_at(obj, &["spec", "serviceAccountName"]),
        "spec.hostNetwork" => bool_at(obj, &["spec", "hostNetwork"]),
        "status.phase" => str_at(obj, &["status", "phase"]),
        // The older `podIP` wins over `podIPs[0]` (upstream's v1 → internal conversion).
        "status.podIP" => {
            let ip = str_at(obj, &["status", "podIP"]);
            if !ip.is_empty() {
                ip
            } else {
                s(obj, &["status", "podIPs"])
                    .and_then(Value::as_array)
                    .and_then(|a| a.first())
                    .map(|ip| str_at(ip, &["ip"]))
                    .unwrap_or_default()
            }
        }
        "status.nominatedNodeName" => str_at(obj, &["status", "nominatedNodeName"]),
        _ => return None,
    })
}

/// Event fields, from a core/v1 Event or an events.k8s.io/v1 one (same storage).
fn event_field(obj: &Value, field: &str) -> Option<String> {
    let pick = |a: &[&str], b: &[&str]| {
        if s(obj, a).is_some() {
            str_at(obj, a)
        } else {
            str_at(obj, b)
        }
    };
    let reporting = || pick(&["reportingComponent"], &["reportingController"]);
    if let Some(sub) = field.strip_prefix("involvedObject.") {
        let known = [
            "kind",
            "namespace",
            "name",
            "uid",
            "apiVersion",
            "resourceVersion",
            "fieldPath",
        ];
        if !known.contains(&sub) {
            return None;
        }
        return Some(pick(&["involvedObject", sub], &["regarding", sub]));
    }
    Some(match field {
        "reason" => str_at(obj, &["reason"]),
        "type" => str_at(obj, &["type"]),
        "reportingComponent" => reporting(),
        "source" => {
            let c = pick(&["source", "component"], &["deprecatedSource", "component"]);
            if c.is_empty() {
                reporting()
            } else {
                c
            }
        }
        _ => return None,
    })
}
