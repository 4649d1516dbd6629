//! Validation of ValidatingAdmissionPolicy(Binding) (admissionregistration.k8s.io),
//! CertificateSigningRequest (certificates.k8s.io) and the access reviews
//! (authorization.k8s.io), with upstream's paths and messages.
//!
//! CEL expressions are stored as written: rkube does not compile them (it does not run
//! the policies either), and a CSR's signature is not checked, only its PEM framing.

use base64::Engine as _;
use serde_json::Value;

use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{validate_label_selector, validate_object_meta, validate_object_meta_update};
use super::names::{is_dns1123_subdomain, NameRule};
use super::util::{arr, has, int, s};
use crate::status::Cause;

fn with_meta(obj: &Value, old: Option<&Value>) -> Vec<Cause> {
    match old {
        None => validate_object_meta(obj, false, NameRule::Subdomain),
        Some(old) => validate_object_meta_update(obj, old),
    }
}

fn strings(v: &Value, k: &str) -> Vec<String> {
    arr(v, k)
        .iter()
        .map(|x| x.as_str().unwrap_or("").to_string())
        .collect()
}

/// `validateMatchResources` and the rules in it.
fn validate_match_resources(m: &Value, p: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let policy = s(m, "matchPolicy");
    if !["Equivalent", "Exact"].contains(&policy) {
        out.push(not_supported(
            &p.child("matchPolicy"),
            policy,
            &["Equivalent", "Exact"],
        ));
    }
    for sel in ["namespaceSelector", "objectSelector"] {
        if let Some(v) = m.get(sel).filter(|v| v.is_object()) {
            out.extend(validate_label_selector(v, &p.child(sel)));
        }
    }
    for rules in ["resourceRules", "excludeResourceRules"] {
        for (i, rule) in arr(m, rules).iter().enumerate() {
            out.extend(validate_rule(rule, &p.child(rules).index(i)));
        }
    }
    out
}

fn validate_rule(rule: &Value, p: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let operations = strings(rule, "operations");
    if operations.is_empty() {
        out.push(required(&p.child("operations"), ""));
    }
    for (i, op) in operations.iter().enumerate() {
        const OPS: &[&str] = &["*", "CONNECT", "CREATE", "DELETE", "UPDATE"];
        if !OPS.contains(&op.as_str()) {
            out.push(not_supported(
                &p.child("operations").index(i),
                op.as_str(),
                OPS,
            ));
        }
    }
    for field in ["apiGroups", "apiVersions", "resources"] {
        if arr(rule, field).is_empty() {
            out.push(required(&p.child(field), ""));
        }
    }
    let scope = s(rule, "scope");
    if has(rule, "scope") && !["*", "Cluster", "Namespaced"].contains(&scope) {
        out.push(not_supported(
            &p.child("scope"),
            scope,
            &["*", "Cluster", "Namespaced"],
        ));
    }
    out
}

pub fn validate_admission_policy(vap: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(vap, old);
    let null = Value::Null;
    let spec = vap.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    let fp = s(spec, "failurePolicy");
    if fp.is_empty() {
        out.push(required(&p.child("failurePolicy"), ""));
    } else if !["Fail", "Ignore"].contains(&fp) {
        out.push(not_supported(
            &p.child("failurePolicy"),
            fp,
            &["Fail", "Ignore"],
        ));
    }
    match spec.get("matchConstraints").filter(|v| v.is_object()) {
        None => out.push(required(&p.child("matchConstraints"), "")),
        Some(m) => {
            out.extend(validate_match_resources(m, &p.child("matchConstraints")));
            if arr(m, "resourceRules").is_empty() {
                out.push(required(&p.at(&["matchConstraints", "resourceRules"]), ""));
            }
        }
    }
    let validations = arr(spec, "validations");
    if validations.is_empty() && arr(spec, "auditAnnotations").is_empty() {
        const ONE: &str = "validations or auditAnnotations must contain at least one item";
        out.push(required(&p.child("validations"), ONE));
        out.push(required(&p.child("auditAnnotations"), ONE));
    }
    for (i, v) in validations.iter().enumerate() {
        if s(v, "expression").trim().is_empty() {
            out.push(required(
                &p.child("validations").index(i).child("expression"),
                "",
            ));
        }
    }
    out
}

pub fn validate_admission_policy_binding(b: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = with_meta(b, old);
    let null = Value::Null;
    let spec = b.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    let policy = s(spec, "policyName");
    if policy.is_empty() {
        out.push(required(&p.child("policyName"), ""));
    } else {
        for m in is_dns1123_subdomain(policy) {
            out.push(invalid(&p.child("policyName"), policy, &m));
        }
    }
    if let Some(m) = spec.get("matchResources").filter(|v| v.is_object()) {
        out.extend(validate_match_resources(m, &p.child("matchResources")));
    }
    let ap = p.child("validationActions");
    let actions = strings(spec, "validationActions");
    let mut seen: Vec<&str> = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        if !["Audit", "Deny", "Warn"].contains(&a.as_str()) {
            out.push(not_supported(
                &ap.index(i),
                a.as_str(),
                &["Audit", "Deny", "Warn"],
            ));
        }
        if seen.contains(&a.as_str()) {
            out.push(duplicate(&ap.index(i), a.as_str()));
        }
        seen.push(a);
    }
    if seen.contains(&"Deny") && seen.contains(&"Warn") {
        out.push(invalid(
            &ap,
            Bad::Raw(go_actions(&actions)),
            "must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)",
        ));
    }
    if actions.is_empty() {
        out.push(required(&ap, "at least one validation action is required"));
    }
    out
}

fn go_actions(actions: &[String]) -> String {
    let quoted: Vec<String> = actions.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "[]admissionregistration.ValidationAction{{{}}}",
        quoted.join(", ")
    )
}

const KEY_USAGES: &[&str] = &[
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

/// Go's `%#v` of a `[]byte`, as upstream prints an invalid request.
fn go_bytes(b: &[u8]) -> String {
    let items: Vec<String> = b.iter().map(|x| format!("0x{x:x}")).collect();
    format!("[]byte{{{}}}", items.join(", "))
}

/// The PEM framing of a CSR: the first block must be a CERTIFICATE REQUEST.
fn csr_request_error(pem: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(pem);
    let Some(start) = text.find("-----BEGIN ") else {
        return Some("PEM block type must be CERTIFICATE REQUEST");
    };
    let rest = &text[start + 11..];
    let label = rest.split("-----").next().unwrap_or("");
    if label != "CERTIFICATE REQUEST" {
        return Some("PEM block type must be CERTIFICATE REQUEST");
    }
    let body_start = rest.find("-----").map(|i| i + 5).unwrap_or(rest.len());
    let end = rest.find("-----END CERTIFICATE REQUEST-----");
    let body: String = match end {
        Some(e) if e >= body_start => rest[body_start..e].split_whitespace().collect(),
        _ => return Some("PEM block type must be CERTIFICATE REQUEST"),
    };
    match base64::engine::general_purpose::STANDARD.decode(body) {
        Ok(der) if der.first() == Some(&0x30) => None,
        _ => Some("x509: malformed certificate request"),
    }
}

pub fn validate_csr(csr: &Value, old: Option<&Value>) -> Vec<Cause> {
    // Upstream does not care what a request is called, beyond a usable path segment.
    let mut out = match old {
        None => validate_object_meta(csr, false, NameRule::PathSegment),
        Some(old) => validate_object_meta_update(csr, old),
    };
    let null = Value::Null;
    let spec = csr.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    let request = base64::engine::general_purpose::STANDARD
        .decode(s(spec, "request"))
        .unwrap_or_default();
    if let Some(e) = csr_request_error(&request) {
        out.push(invalid(
            &p.child("request"),
            Bad::Raw(go_bytes(&request)),
            e,
        ));
    }
    let usages = strings(spec, "usages");
    if usages.is_empty() {
        out.push(required(&p.child("usages"), ""));
    }
    for (i, u) in usages.iter().enumerate() {
        if !KEY_USAGES.contains(&u.as_str()) {
            out.push(not_supported(
                &p.child("usages").index(i),
                u.as_str(),
                KEY_USAGES,
            ));
        } else if usages[..i].contains(u) {
            out.push(duplicate(&p.child("usages").index(i), u.as_str()));
        }
    }
    let signer = s(spec, "signerName");
    if signer.is_empty() {
        out.push(required(&p.child("signerName"), ""));
    } else if signer == "kubernetes.io/legacy-unknown" {
        out.push(invalid(
            &p.child("signerName"),
            signer,
            "the legacy signerName is not allowed via this API version",
        ));
    } else if !signer
        .split_once('/')
        .is_some_and(|(d, n)| !d.is_empty() && !n.is_empty())
    {
        out.push(invalid(
            &p.child("signerName"),
            signer,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
    if let Some(secs) = int(spec, "expirationSeconds") {
        if secs < 600 {
            out.push(invalid(
                &p.child("expirationSeconds"),
                secs,
                "may not specify a duration less than 600 seconds (10 minutes)",
            ));
        }
    }
    out.extend(validate_csr_conditions(csr));
    out
}

/// The status conditions of a CSR: Approved and Denied exclusive, each at most once and
/// True.
pub fn validate_csr_conditions(csr: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let p = Path::new("status.conditions");
    let conditions = csr
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut seen: Vec<&str> = Vec::new();
    for (i, c) in conditions.iter().enumerate() {
        let cp = p.index(i);
        let t = s(c, "type");
        if t.is_empty() {
            out.push(required(&cp.child("type"), ""));
        }
        if matches!(t, "Approved" | "Denied" | "Failed") {
            if seen.contains(&t) {
                out.push(duplicate(&cp.child("type"), t));
            }
            if s(c, "status") != "True" && t != "Failed" {
                out.push(not_supported(
                    &cp.child("status"),
                    s(c, "status"),
                    &["True"],
                ));
            }
        }
        let st = s(c, "status");
        if !["True", "False", "Unknown"].contains(&st) {
            out.push(not_supported(
                &cp.child("status"),
                st,
                &["False", "True", "Unknown"],
            ));
        }
        seen.push(t);
    }
    if seen.contains(&"Approved") && seen.contains(&"Denied") {
        out.push(invalid(
            &p,
            Bad::Raw("…".into()),
            "Approved and Denied conditions are mutually exclusive",
        ));
    }
    out
}

/// The spec of a SubjectAccessReview or SelfSubjectAccessReview: one of resource and
/// non-resource attributes; a SubjectAccessReview also names a user or group.
pub fn validate_access_review(kind: &str, review: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = review.get("spec").unwrap_or(&null);
    let p = Path::new("spec");
    let resource = has(spec, "resourceAttributes");
    let non_resource = has(spec, "nonResourceAttributes");
    if resource && non_resource {
        out.push(invalid(
            &p.child("nonResourceAttributes"),
            Bad::Raw("…".into()),
            "cannot be specified in combination with resourceAttributes",
        ));
    }
    if !resource && !non_resource {
        out.push(invalid(
            &p.child("resourceAttributes"),
            Bad::Raw("nil".into()),
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    }
    if kind != "SelfSubjectAccessReview"
        && s(spec, "user").is_empty()
        && arr(spec, "groups").is_empty()
    {
        out.push(invalid(
            &p.child("user"),
            "",
            "at least one of user or group must be specified",
        ));
    }
    if kind == "LocalSubjectAccessReview" && non_resource {
        out.push(invalid(
            &p.child("nonResourceAttributes"),
            Bad::Raw("…".into()),
            "disallowed on this kind of request",
        ));
    }
    let meta = review.get("metadata").and_then(Value::as_object);
    let meta_is_empty = meta.is_none_or(|m| {
        m.iter().all(|(k, v)| {
            v.is_null()
                || k == "managedFields"
                || (kind == "LocalSubjectAccessReview" && k == "namespace")
                || v.as_object().is_some_and(|o| o.is_empty())
        })
    });
    if !meta_is_empty {
        out.push(forbidden(&Path::new("metadata"), "must be empty"));
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
    fn a_policy_needs_rules_and_validations() {
        let vap = json!({"metadata": {"name": "p"}, "spec": {"failurePolicy": "Fail"}});
        assert_eq!(
            messages(validate_admission_policy(&vap, None)),
            [
                "spec.matchConstraints: Required value",
                "spec.validations: Required value: validations or auditAnnotations must contain at least one item",
                "spec.auditAnnotations: Required value: validations or auditAnnotations must contain at least one item",
            ]
        );
    }

    #[test]
    fn a_binding_needs_a_policy_and_an_action() {
        let b = json!({"metadata": {"name": "b"}, "spec": {}});
        assert_eq!(
            messages(validate_admission_policy_binding(&b, None)),
            [
                "spec.policyName: Required value",
                "spec.validationActions: Required value: at least one validation action is required",
            ]
        );
    }

    #[test]
    fn a_csr_request_must_be_a_pem_certificate_request() {
        let csr = json!({"metadata": {"name": "c"}, "spec": {"request": "aGVsbG8=", "signerName": "a.io/b", "usages": ["client auth"]}});
        assert_eq!(
            messages(validate_csr(&csr, None)),
            ["spec.request: Invalid value: []byte{0x68, 0x65, 0x6c, 0x6c, 0x6f}: PEM block type must be CERTIFICATE REQUEST"]
        );
    }

    #[test]
    fn a_review_asks_exactly_one_question() {
        let r = json!({"spec": {"user": "u"}});
        assert_eq!(
            messages(validate_access_review("SubjectAccessReview", &r)),
            ["spec.resourceAttributes: Invalid value: nil: exactly one of nonResourceAttributes or resourceAttributes must be specified"]
        );
    }
}
