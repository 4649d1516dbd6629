//! Validation of admission webhook configurations (upstream's
//! `pkg/apis/admissionregistration/validation` for v1) and APIServices (kube-aggregator's
//! `apiregistration/validation`), with upstream's paths and messages.

use serde_json::Value;

use super::field::{duplicate, invalid, not_supported, required, Bad, Path};
use super::meta::{
    go_string_slice, validate_label_selector, validate_object_meta, validate_object_meta_update,
};
use super::names::{
    is_dns1035_label, is_dns1123_subdomain, is_qualified_name, is_valid_port_num, NameRule,
};
use super::util::{arr, int, s};
use crate::status::Cause;

const OPERATIONS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
const SCOPES: &[&str] = &["*", "Cluster", "Namespaced"];
const REVIEW_VERSIONS: &[&str] = &["v1", "v1beta1"];

fn strings(v: &Value, key: &str) -> Vec<String> {
    arr(v, key)
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn slice_bad(v: &Value, key: &str) -> Bad {
    Bad::Raw(go_string_slice(arr(v, key)))
}

pub fn validate_webhook_configuration(
    obj: &Value,
    old: Option<&Value>,
    mutating: bool,
) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(obj, false, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(obj, old),
    };
    let mut names: Vec<&str> = Vec::new();
    for (i, hook) in arr(obj, "webhooks").iter().enumerate() {
        let path = Path::new("webhooks").index(i);
        let name = s(hook, "name");
        if names.contains(&name) {
            out.push(duplicate(&path.child("name"), name));
        }
        names.push(name);
        out.extend(validate_webhook(hook, &path, mutating));
    }
    out
}

fn validate_webhook(hook: &Value, path: &Path, mutating: bool) -> Vec<Cause> {
    let mut out = fully_qualified_name(s(hook, "name"), &path.child("name"));
    for (i, rule) in arr(hook, "rules").iter().enumerate() {
        out.extend(validate_rule(rule, &path.child("rules").index(i)));
    }
    let policy = s(hook, "failurePolicy");
    if !policy.is_empty() && !["Fail", "Ignore"].contains(&policy) {
        out.push(not_supported(
            &path.child("failurePolicy"),
            policy,
            &["Fail", "Ignore"],
        ));
    }
    let matching = s(hook, "matchPolicy");
    if !matching.is_empty() && !["Equivalent", "Exact"].contains(&matching) {
        out.push(not_supported(
            &path.child("matchPolicy"),
            matching,
            &["Equivalent", "Exact"],
        ));
    }
    match hook.get("sideEffects").and_then(Value::as_str) {
        None => out.push(required(
            &path.child("sideEffects"),
            "must specify one of None, NoneOnDryRun",
        )),
        Some(se) if !["None", "NoneOnDryRun"].contains(&se) => out.push(not_supported(
            &path.child("sideEffects"),
            se,
            &["None", "NoneOnDryRun"],
        )),
        Some(_) => {}
    }
    if let Some(t) = int(hook, "timeoutSeconds").filter(|t| !(1..=30).contains(t)) {
        out.push(invalid(
            &path.child("timeoutSeconds"),
            t,
            "the timeout value must be between 1 and 30 seconds",
        ));
    }
    out.extend(validate_review_versions(
        hook,
        &path.child("admissionReviewVersions"),
    ));
    if mutating {
        let re = s(hook, "reinvocationPolicy");
        if !re.is_empty() && !["IfNeeded", "Never"].contains(&re) {
            out.push(not_supported(
                &path.child("reinvocationPolicy"),
                re,
                &["IfNeeded", "Never"],
            ));
        }
    }
    for key in ["namespaceSelector", "objectSelector"] {
        if let Some(sel) = hook.get(key) {
            out.extend(validate_label_selector(sel, &path.child(key)));
        }
    }
    out.extend(validate_client_config(
        hook.get("clientConfig").unwrap_or(&Value::Null),
        path,
    ));
    out.extend(validate_match_conditions(
        hook,
        &path.child("matchConditions"),
    ));
    out
}

/// `IsFullyQualifiedName`: a DNS subdomain of at least three labels.
fn fully_qualified_name(name: &str, path: &Path) -> Vec<Cause> {
    if name.is_empty() {
        return vec![required(path, "")];
    }
    let errs = is_dns1123_subdomain(name);
    if !errs.is_empty() {
        return vec![invalid(path, name, &errs.join(","))];
    }
    if name.split('.').count() < 3 {
        return vec![invalid(
            path,
            name,
            "should be a domain with at least three segments separated by dots",
        )];
    }
    Vec::new()
}

fn validate_rule(rule: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let ops = strings(rule, "operations");
    if ops.is_empty() {
        out.push(required(&path.child("operations"), ""));
    }
    if ops.len() > 1 && ops.iter().any(|o| o == "*") {
        out.push(invalid(
            &path.child("operations"),
            slice_bad(rule, "operations"),
            "if '*' is present, must not specify other operations",
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        if !OPERATIONS.contains(&op.as_str()) {
            out.push(not_supported(
                &path.child("operations").index(i),
                op.as_str(),
                OPERATIONS,
            ));
        }
    }
    for (key, what) in [("apiGroups", "API groups"), ("apiVersions", "API versions")] {
        let list = strings(rule, key);
        if list.is_empty() {
            out.push(required(&path.child(key), ""));
        }
        if list.len() > 1 && list.iter().any(|g| g == "*") {
            out.push(invalid(
                &path.child(key),
                slice_bad(rule, key),
                &format!("if '*' is present, must not specify other {what}"),
            ));
        }
    }
    for (i, v) in strings(rule, "apiVersions").iter().enumerate() {
        if v.is_empty() {
            out.push(required(&path.child("apiVersions").index(i), ""));
        }
    }
    out.extend(validate_resources(rule, &path.child("resources")));
    let scope = s(rule, "scope");
    if !scope.is_empty() && !SCOPES.contains(&scope) {
        out.push(not_supported(&path.child("scope"), scope, SCOPES));
    }
    out
}

fn validate_resources(rule: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let resources = strings(rule, "resources");
    if resources.is_empty() {
        out.push(required(path, ""));
    }
    let mut single = false;
    let mut plain = false;
    for (i, r) in resources.iter().enumerate() {
        if r.is_empty() {
            out.push(required(&path.index(i), ""));
        } else if r == "*" {
            single = true;
        } else if !r.contains('/') {
            plain = true;
        }
    }
    if resources.len() > 1 && resources.iter().any(|r| r == "*/*") {
        out.push(invalid(
            path,
            slice_bad(rule, "resources"),
            "if '*/*' is present, must not specify other resources",
        ));
    }
    if single && plain {
        out.push(invalid(
            path,
            slice_bad(rule, "resources"),
            "if '*' is present, must not specify other resources without subresources",
        ));
    }
    out
}

fn validate_review_versions(hook: &Value, path: &Path) -> Vec<Cause> {
    let versions = strings(hook, "admissionReviewVersions");
    if versions.is_empty() {
        return vec![required(path, "must specify one of v1, v1beta1")];
    }
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        if seen.contains(&v.as_str()) {
            out.push(invalid(&path.index(i), v.as_str(), "duplicate version"));
            continue;
        }
        seen.push(v);
        for msg in is_dns1035_label(v) {
            out.push(invalid(&path.index(i), v.as_str(), &msg));
        }
    }
    if !versions
        .iter()
        .any(|v| REVIEW_VERSIONS.contains(&v.as_str()))
    {
        out.push(invalid(
            path,
            slice_bad(hook, "admissionReviewVersions"),
            "must include at least one of v1, v1beta1",
        ));
    }
    out
}

fn validate_client_config(cc: &Value, path: &Path) -> Vec<Cause> {
    let cp = path.child("clientConfig");
    let url = cc.get("url").and_then(Value::as_str);
    let service = cc.get("service").filter(|v| !v.is_null());
    match (url, service) {
        (Some(url), None) => validate_url(url, &cp.child("url")),
        (None, Some(svc)) => validate_service(svc, &cp.child("service")),
        _ => vec![required(&cp, "exactly one of url or service is required")],
    }
}

const URL_FORM: &str = "; desired format: https://host[/path]";

/// `ValidateWebhookURL` with https forced.
pub fn validate_url(url: &str, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    if scheme != "https" {
        out.push(invalid(
            path,
            scheme,
            &format!("'https' is the only allowed URL scheme{URL_FORM}"),
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    if host.is_empty() {
        out.push(invalid(
            path,
            host,
            &format!("host must be specified{URL_FORM}"),
        ));
    }
    if let Some(user) = user {
        out.push(invalid(
            path,
            user,
            "user information is not permitted in the URL",
        ));
    }
    if let Some((_, fragment)) = rest.split_once('#').filter(|(_, f)| !f.is_empty()) {
        out.push(invalid(
            path,
            fragment,
            "fragments are not permitted in the URL",
        ));
    }
    let before_fragment = rest.split('#').next().unwrap_or("");
    if let Some((_, query)) = before_fragment
        .split_once('?')
        .filter(|(_, q)| !q.is_empty())
    {
        out.push(invalid(
            path,
            query,
            "query parameters are not permitted in the URL",
        ));
    }
    out
}

/// `ValidateWebhookService`.
pub fn validate_service(svc: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    if s(svc, "name").is_empty() {
        out.push(required(&path.child("name"), "service name is required"));
    }
    if s(svc, "namespace").is_empty() {
        out.push(required(
            &path.child("namespace"),
            "service namespace is required",
        ));
    }
    let port = int(svc, "port").unwrap_or(443);
    let errs = is_valid_port_num(port);
    if !errs.is_empty() {
        out.push(invalid(
            &path.child("port"),
            port,
            &format!("port is not valid: {}", errs.join(", ")),
        ));
    }
    let p = s(svc, "path");
    if !p.is_empty() && p != "/" {
        if p == "//" {
            out.push(invalid(
                &path.child("path"),
                p,
                "segment[0] may not be empty",
            ));
        } else if !p.starts_with('/') {
            out.push(invalid(&path.child("path"), p, "must start with a '/'"));
        }
    }
    out
}

fn validate_match_conditions(hook: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (i, mc) in arr(hook, "matchConditions").iter().enumerate() {
        let p = path.index(i);
        let name = s(mc, "name");
        if name.is_empty() {
            out.push(required(&p.child("name"), ""));
        } else {
            for msg in is_qualified_name(name) {
                out.push(invalid(&p.child("name"), name, &msg));
            }
            if names.contains(&name) {
                out.push(duplicate(&p.child("name"), name));
            }
            names.push(name);
        }
        if s(mc, "expression").is_empty() {
            out.push(required(&p.child("expression"), ""));
        }
    }
    out
}

/// An APIService: named `version.group`, with priorities in range and, when it points
/// at a service, a valid reference.
pub fn validate_api_service(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = match old {
        None => validate_object_meta(obj, false, NameRule::PathSegment),
        Some(old) => validate_object_meta_update(obj, old),
    };
    let spec = obj.get("spec").unwrap_or(&Value::Null);
    let sp = Path::new("spec");
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (group, version) = (s(spec, "group"), s(spec, "version"));
    if name != format!("{version}.{group}") {
        out.push(invalid(
            &Path::new("metadata").child("name"),
            name,
            "must be `spec.version+\".\"+spec.group`",
        ));
    }
    if group.is_empty() && version != "v1" {
        out.push(required(
            &sp.child("group"),
            "only v1 may have an empty group and it better be legacy kube",
        ));
    }
    if !group.is_empty() {
        for msg in is_dns1123_subdomain(group) {
            out.push(invalid(&sp.child("group"), group, &msg));
        }
    }
    if version.is_empty() {
        out.push(required(&sp.child("version"), ""));
    } else {
        for msg in is_dns1035_label(version) {
            out.push(invalid(&sp.child("version"), version, &msg));
        }
    }
    let group_min = int(spec, "groupPriorityMinimum").unwrap_or(0);
    if group_min <= 0 || group_min > 20000 {
        out.push(invalid(
            &sp.child("groupPriorityMinimum"),
            group_min,
            "must be positive and less than 20000",
        ));
    }
    let version_priority = int(spec, "versionPriority").unwrap_or(0);
    if version_priority <= 0 || version_priority > 1000 {
        out.push(invalid(
            &sp.child("versionPriority"),
            version_priority,
            "must be positive and less than 1000",
        ));
    }
    let skip_tls = spec.get("insecureSkipTLSVerify").and_then(Value::as_bool) == Some(true);
    let has_ca = !s(spec, "caBundle").is_empty();
    match spec.get("service").filter(|v| !v.is_null()) {
        None => {
            if has_ca {
                out.push(invalid(
                    &sp.child("caBundle"),
                    Bad::Raw("[]byte{...}".into()),
                    "local APIServices may not have a caBundle",
                ));
            }
            if skip_tls {
                out.push(invalid(
                    &sp.child("insecureSkipTLSVerify"),
                    true,
                    "local APIServices may not have insecureSkipTLSVerify",
                ));
            }
        }
        Some(svc) => {
            out.extend(validate_service(svc, &sp.child("service")));
            if skip_tls && has_ca {
                out.push(invalid(
                    &sp.child("insecureSkipTLSVerify"),
                    true,
                    "may not be true if caBundle is present",
                ));
            }
        }
    }
    out
}
