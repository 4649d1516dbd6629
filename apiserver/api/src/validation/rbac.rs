//! RBAC roles and bindings.

use super::field::{invalid, not_supported, required, Bad, Path};
use super::meta::validate_label_selector;
use super::names::{check_name, NameRule};
use super::util::{arr, s};
use crate::status::Cause;
use rkube_patch::go_format::go_quote;
use serde_json::Value;

pub fn validate_rbac(kind: &str, obj: &Value, _old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    match kind {
        "Role" | "ClusterRole" => {
            for (i, rule) in arr(obj, "rules").iter().enumerate() {
                let p = Path::new("rules").index(i);
                if arr(rule, "verbs").is_empty() {
                    out.push(required(
                        &p.child("verbs"),
                        "verbs must contain at least one value",
                    ));
                }
                let nru = arr(rule, "nonResourceURLs");
                if !nru.is_empty() {
                    if kind == "Role" {
                        out.push(invalid(
                            &p.child("nonResourceURLs"),
                            Bad::Raw(super::meta::go_string_slice(nru)),
                            "namespaced rules cannot apply to non-resource URLs",
                        ));
                    }
                    if !arr(rule, "apiGroups").is_empty()
                        || !arr(rule, "resources").is_empty()
                        || !arr(rule, "resourceNames").is_empty()
                    {
                        out.push(invalid(
                            &p.child("nonResourceURLs"),
                            Bad::Raw(super::meta::go_string_slice(nru)),
                            "rules cannot apply to both regular resources and non-resource URLs",
                        ));
                    }
                    continue;
                }
                if arr(rule, "apiGroups").is_empty() {
                    out.push(required(
                        &p.child("apiGroups"),
                        "resource rules must supply at least one api group",
                    ));
                }
                if arr(rule, "resources").is_empty() {
                    out.push(required(
                        &p.child("resources"),
                        "resource rules must supply at least one resource",
                    ));
                }
                if !arr(rule, "resourceNames").is_empty() && arr(rule, "resources").len() > 1 {
                    out.push(required(
                        &p.child("resourceNames"),
                        "resource names cannot apply to multiple resources",
                    ));
                }
            }
            if kind == "ClusterRole" {
                if let Some(ar) = obj.get("aggregationRule").filter(|v| !v.is_null()) {
                    let sels = arr(ar, "clusterRoleSelectors");
                    if sels.is_empty() {
                        out.push(required(&Path::new("aggregationRule.clusterRoleSelectors"), "at least one clusterRoleSelector required if aggregationRule is non-nil"));
                    }
                    for (i, sel) in sels.iter().enumerate() {
                        out.extend(validate_label_selector(
                            sel,
                            &Path::new("aggregationRule.clusterRoleSelectors").index(i),
                        ));
                    }
                }
            }
        }
        _ => {
            let rr = obj.get("roleRef").unwrap_or(&Value::Null);
            let rp = Path::new("roleRef");
            let g = s(rr, "apiGroup");
            if g != "rbac.authorization.k8s.io" {
                out.push(not_supported(
                    &rp.child("apiGroup"),
                    g,
                    &["rbac.authorization.k8s.io"],
                ));
            }
            let rk = s(rr, "kind");
            let valid: &[&str] = if kind == "RoleBinding" {
                &["Role", "ClusterRole"]
            } else {
                &["ClusterRole"]
            };
            if !valid.contains(&rk) {
                out.push(not_supported(&rp.child("kind"), rk, valid));
            }
            let rn = s(rr, "name");
            if rn.is_empty() {
                out.push(required(&rp.child("name"), ""));
            } else {
                for m in check_name(NameRule::PathSegment, rn, false) {
                    out.push(invalid(&rp.child("name"), rn, &m));
                }
            }
            for (i, sub) in arr(obj, "subjects").iter().enumerate() {
                let p = Path::new("subjects").index(i);
                let name = s(sub, "name");
                if name.is_empty() {
                    out.push(required(&p.child("name"), ""));
                }
                match s(sub, "kind") {
                    "ServiceAccount" => {
                        if !name.is_empty() {
                            for m in check_name(NameRule::Subdomain, name, false) {
                                out.push(invalid(&p.child("name"), name, &m));
                            }
                        }
                        let ag = s(sub, "apiGroup");
                        if !ag.is_empty() {
                            out.push(not_supported(&p.child("apiGroup"), ag, &[""]));
                        }
                        if kind == "ClusterRoleBinding" && s(sub, "namespace").is_empty() {
                            out.push(required(&p.child("namespace"), ""));
                        }
                    }
                    k @ ("User" | "Group") => {
                        if name.is_empty() {
                            let what = if k == "User" { "user" } else { "group" };
                            out.push(invalid(
                                &p.child("name"),
                                "",
                                &format!("{what} name cannot be empty"),
                            ));
                        }
                        let ag = s(sub, "apiGroup");
                        if ag != "rbac.authorization.k8s.io" {
                            out.push(not_supported(
                                &p.child("apiGroup"),
                                ag,
                                &["rbac.authorization.k8s.io"],
                            ));
                        }
                    }
                    other => out.push(not_supported(
                        &p.child("kind"),
                        other,
                        &["ServiceAccount", "User", "Group"],
                    )),
                }
            }
            if let Some(old) = _old {
                if old.get("roleRef") != obj.get("roleRef") {
                    out.push(invalid(
                        &rp,
                        Bad::Raw(format!(
                            "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
                            go_quote(s(rr, "apiGroup")),
                            go_quote(s(rr, "kind")),
                            go_quote(s(rr, "name"))
                        )),
                        "cannot change roleRef",
                    ));
                }
            }
        }
    }
    out
}
