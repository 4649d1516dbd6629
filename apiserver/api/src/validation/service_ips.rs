//! Service cluster IPs and IP families (`ValidateServiceClusterIPsRelatedFields`), the
//! update rules, and the status subresource.

use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::validate_object_meta_update;
use super::names::{is_dns1123_subdomain, is_valid_ip, parse_ip_sloppy};
use super::service::{go_string_slice_json, is_headless, validate_service};
use super::util::{arr, int, s};
use crate::status::Cause;
use serde_json::Value;
use std::collections::HashSet;

/// `ValidateServiceClusterIPsRelatedFields`.
pub fn validate_cluster_ips(spec: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    if s(spec, "type") == "ExternalName" {
        return out;
    }
    let sp = Path::new("spec");
    let cp = sp.child("clusterIPs");
    let cluster_ip = s(spec, "clusterIP");
    let ips = arr(spec, "clusterIPs");
    if !cluster_ip.is_empty() {
        if ips.is_empty() {
            out.push(required(&cp, ""));
        } else if ips[0].as_str() != Some(cluster_ip) {
            out.push(invalid(
                &cp,
                go_string_slice_json(ips),
                "first value must match `clusterIP`",
            ));
        }
    } else if !ips.is_empty() {
        out.push(invalid(
            &cp,
            go_string_slice_json(ips),
            "must be empty when `clusterIP` is not specified",
        ));
    }
    let mut seen = HashSet::new();
    for (i, f) in arr(spec, "ipFamilies").iter().enumerate() {
        let f = f.as_str().unwrap_or_default();
        let p = sp.child("ipFamilies").index(i);
        if f != "IPv4" && f != "IPv6" {
            out.push(not_supported(&p, f, &["IPv4", "IPv6"]));
        }
        if !seen.insert(f.to_string()) {
            out.push(duplicate(&p, f));
        }
    }
    if let Some(p) = spec.get("ipFamilyPolicy").and_then(Value::as_str) {
        const POLICIES: &[&str] = &["PreferDualStack", "RequireDualStack", "SingleStack"];
        if !POLICIES.contains(&p) {
            out.push(not_supported(&sp.child("ipFamilyPolicy"), p, POLICIES));
        }
    }
    let mut invalid_ips = false;
    for (i, ip) in ips.iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        if i == 0 && ip == "None" {
            if ips.len() > 1 {
                invalid_ips = true;
                out.push(invalid(
                    &cp,
                    go_string_slice_json(ips),
                    "'None' must be the first and only value",
                ));
            }
            continue;
        }
        let errs = is_valid_ip(ip);
        invalid_ips |= !errs.is_empty();
        for m in errs {
            out.push(invalid(&cp.index(i), ip, &m));
        }
    }
    if ips.len() > 2 {
        out.push(invalid(
            &cp,
            go_string_slice_json(ips),
            "may only hold up to 2 values",
        ));
    }
    if invalid_ips {
        return out;
    }
    if ips.len() > 1 {
        let fams: Vec<bool> = ips
            .iter()
            .filter_map(|ip| parse_ip_sloppy(ip.as_str().unwrap_or_default()))
            .map(|a| a.is_ipv6())
            .collect();
        let dual = fams.len() == 2 && fams[0] != fams[1];
        if !dual {
            out.push(invalid(
                &cp,
                go_string_slice_json(ips),
                "may specify no more than one IP for each IP family",
            ));
        }
    }
    if !is_headless(spec) {
        let fams = arr(spec, "ipFamilies");
        for (i, ip) in ips.iter().enumerate() {
            let Some(f) = fams.get(i).and_then(Value::as_str) else {
                break;
            };
            let ip = ip.as_str().unwrap_or_default();
            let v6 = parse_ip_sloppy(ip).is_some_and(|a| a.is_ipv6());
            if f == "IPv4" && v6 {
                out.push(invalid(
                    &cp.index(i),
                    ip,
                    &format!("expected an IPv4 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
            if f == "IPv6" && !v6 {
                out.push(invalid(
                    &cp.index(i),
                    ip,
                    &format!("expected an IPv6 value as indicated by `ipFamilies[{i}]`"),
                ));
            }
        }
    }
    out
}

/// `ValidateServiceUpdate`.
pub fn validate_service_update(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let null = Value::Null;
    let ns = new.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    let ext = s(ns, "type") == "ExternalName" || s(os, "type") == "ExternalName";
    let cp = Path::new("spec.clusterIPs");
    if !(ext || is_headless(ns) && is_headless(os)) {
        let (n, o) = (arr(ns, "clusterIPs"), arr(os, "clusterIPs"));
        let bad = || go_string_slice_json(n);
        if n.len() == o.len() {
            for (i, ip) in o.iter().enumerate() {
                if Some(ip) != n.get(i) {
                    out.push(invalid(&cp.index(i), bad(), "may not change once set"));
                }
            }
        } else if o.len() > n.len() {
            if n.is_empty() {
                out.push(invalid(
                    &cp.index(0),
                    bad(),
                    "primary clusterIP can not be unset",
                ));
            }
            if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
                out.push(invalid(&cp.index(0), bad(), "may not change once set"));
            }
            if n.len() == 1 && s(ns, "ipFamilyPolicy") != "SingleStack" {
                out.push(invalid(
                    &Path::new("spec.ipFamilyPolicy"),
                    policy_bad(ns),
                    "must be set to 'SingleStack' when releasing the secondary clusterIP",
                ));
            }
        } else if !o.is_empty() && n[0] != o[0] {
            out.push(invalid(&cp.index(0), bad(), "may not change once set"));
        }
    }
    if !ext && is_headless(ns) == is_headless(os) && !is_headless(ns) {
        let (n, o) = (arr(ns, "ipFamilies"), arr(os, "ipFamilies"));
        let fp = Path::new("spec.ipFamilies");
        if n.len() == o.len() {
            for (i, f) in o.iter().enumerate() {
                if Some(f) != n.get(i) {
                    out.push(invalid(
                        &fp.index(0),
                        go_string_slice_json(n),
                        "may not change once set",
                    ));
                }
            }
        } else if o.len() > n.len() {
            if arr(ns, "clusterIPs").is_empty() {
                out.push(invalid(
                    &fp.index(0),
                    go_string_slice_json(n),
                    "primary ipFamily can not be unset",
                ));
            }
            if !n.is_empty() && n[0] != o[0] {
                out.push(invalid(
                    &fp.index(0),
                    go_string_slice_json(arr(ns, "clusterIPs")),
                    "may not change once set",
                ));
            }
            if n.len() == 1 && s(ns, "ipFamilyPolicy") != "SingleStack" {
                out.push(invalid(
                    &Path::new("spec.ipFamilyPolicy"),
                    policy_bad(ns),
                    "must be set to 'SingleStack' when releasing the secondary ipFamily",
                ));
            }
        } else if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
            out.push(invalid(
                &fp.index(0),
                go_string_slice_json(arr(ns, "clusterIPs")),
                "may not change once set",
            ));
        }
    }
    if s(ns, "type") == "LoadBalancer"
        && s(os, "type") == "LoadBalancer"
        && ns.get("loadBalancerClass") != os.get("loadBalancerClass")
    {
        let bad = match ns.get("loadBalancerClass").and_then(Value::as_str) {
            Some(c) => Bad::Str(c.to_string()),
            None => Bad::Raw("null".into()),
        };
        out.push(invalid(
            &Path::new("spec.loadBalancerClass"),
            bad,
            "may not change once set",
        ));
    }
    let needs_hc =
        |sp: &Value| s(sp, "type") == "LoadBalancer" && s(sp, "externalTrafficPolicy") == "Local";
    if needs_hc(os)
        && needs_hc(ns)
        && int(ns, "healthCheckNodePort") != int(os, "healthCheckNodePort")
    {
        out.push(forbidden(
            &Path::new("spec.healthCheckNodePort"),
            "field is immutable",
        ));
    }
    out.extend(validate_service(new));
    out
}

pub fn policy_bad(spec: &Value) -> Bad {
    match spec.get("ipFamilyPolicy").and_then(Value::as_str) {
        Some(p) => Bad::Str(p.to_string()),
        None => Bad::Raw("null".into()),
    }
}

/// `ValidateServiceStatusUpdate` (load balancer ingress).
pub fn validate_service_status(new: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(new, old);
    let null = Value::Null;
    let lb = new
        .get("status")
        .and_then(|s| s.get("loadBalancer"))
        .unwrap_or(&null);
    let ip = Path::new("status.loadBalancer.ingress");
    let ingress = arr(lb, "ingress");
    let typ = new.get("spec").map(|sp| s(sp, "type")).unwrap_or_default();
    if typ != "LoadBalancer" && !ingress.is_empty() {
        out.push(forbidden(
            &ip,
            "may only be used when `spec.type` is 'LoadBalancer'",
        ));
        return out;
    }
    for (i, ing) in ingress.iter().enumerate() {
        let p = ip.index(i);
        let addr = s(ing, "ip");
        if !addr.is_empty() {
            for m in is_valid_ip(addr) {
                out.push(invalid(&p.child("ip"), addr, &m));
            }
        }
        match ing.get("ipMode").and_then(Value::as_str) {
            None if !addr.is_empty() => out.push(required(
                &p.child("ipMode"),
                "must be specified when `ip` is set",
            )),
            Some(_) if addr.is_empty() => out.push(forbidden(
                &p.child("ipMode"),
                "may not be specified when `ip` is not set",
            )),
            Some(m) if m != "VIP" && m != "Proxy" => {
                out.push(not_supported(&p.child("ipMode"), m, &["Proxy", "VIP"]))
            }
            _ => {}
        }
        let host = s(ing, "hostname");
        if !host.is_empty() {
            for m in is_dns1123_subdomain(host) {
                out.push(invalid(&p.child("hostname"), host, &m));
            }
            if parse_ip_sloppy(host).is_some() {
                out.push(invalid(
                    &p.child("hostname"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
        }
    }
    out
}
