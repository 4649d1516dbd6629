//! Ingresses, IngressClasses and NetworkPolicies.

use super::container::port_num_or_name;
use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::validate_label_selector;
use super::names::{check_name, is_dns1123_subdomain, is_valid_cidr, parse_ip_sloppy, NameRule};
use super::util::{arr, has, int, s};
use crate::status::Cause;
use serde_json::Value;

pub fn validate_ingress_backend(b: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let svc = b.get("service").filter(|v| !v.is_null());
    let res = b.get("resource").filter(|v| !v.is_null());
    match (svc, res) {
        (Some(_), Some(_)) => out.push(invalid(
            path,
            "",
            "cannot set both resource and service backends",
        )),
        (None, None) => out.push(invalid(path, "", "resource or service backend is required")),
        (Some(svc), None) => {
            let name = s(svc, "name");
            if name.is_empty() {
                out.push(required(&path.at(&["service", "name"]), ""));
            } else {
                for m in check_name(NameRule::Dns1035, name, false) {
                    out.push(invalid(&path.at(&["service", "name"]), name, &m));
                }
            }
            let port = svc.get("port").unwrap_or(&Value::Null);
            let pp = path.at(&["service", "port"]);
            let has_name = !s(port, "name").is_empty();
            let has_num = int(port, "number").unwrap_or(0) != 0;
            if has_name && has_num {
                out.push(invalid(&pp, "", "cannot set both port name & port number"));
            } else if has_name {
                for m in super::names::is_valid_port_name(s(port, "name")) {
                    out.push(invalid(&pp.child("name"), s(port, "name"), &m));
                }
            } else if has_num {
                let n = int(port, "number").unwrap_or(0);
                for m in super::names::is_valid_port_num(n) {
                    out.push(invalid(&pp.child("number"), n, &m));
                }
            } else {
                out.push(required(&pp, "port name or number is required"));
            }
        }
        (None, Some(r)) => {
            if s(r, "kind").is_empty() {
                out.push(required(&path.at(&["resource", "kind"]), ""));
            }
            if s(r, "name").is_empty() {
                out.push(required(&path.at(&["resource", "name"]), ""));
            }
        }
    }
    out
}

pub fn validate_ingress(ing: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ing.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let rules = arr(spec, "rules");
    match spec.get("defaultBackend").filter(|v| !v.is_null()) {
        Some(b) => out.extend(validate_ingress_backend(b, &sp.child("defaultBackend"))),
        None if rules.is_empty() => out.push(invalid(
            &sp.child("rules"),
            Bad::Raw("[]networking.IngressRule(nil)".into()),
            "either `defaultBackend` or `rules` must be specified",
        )),
        None => {}
    }
    for (i, r) in rules.iter().enumerate() {
        let p = sp.child("rules").index(i);
        let host = s(r, "host");
        if !host.is_empty() {
            if parse_ip_sloppy(host).is_some() {
                out.push(invalid(
                    &p.child("host"),
                    host,
                    "must be a DNS name, not an IP address",
                ));
            }
            let errs = if host.contains('*') {
                super::names::is_dns1123_subdomain(&host.replacen("*.", "a.", 1))
                    .into_iter()
                    .map(|_| "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string())
                    .take(1)
                    .collect::<Vec<_>>()
            } else {
                is_dns1123_subdomain(host)
            };
            for m in errs {
                out.push(invalid(&p.child("host"), host, &m));
            }
        }
        if let Some(http) = r.get("http").filter(|v| !v.is_null()) {
            let hp = p.child("http");
            let paths = arr(http, "paths");
            if paths.is_empty() {
                out.push(required(&hp.child("paths"), ""));
            }
            for (j, path) in paths.iter().enumerate() {
                let pp = hp.child("paths").index(j);
                let pt = s(path, "pathType");
                let pv = s(path, "path");
                match pt {
                    "" => out.push(required(
                        &pp.child("pathType"),
                        "pathType must be specified",
                    )),
                    "Exact" | "Prefix" => {
                        if !pv.starts_with('/') {
                            out.push(invalid(&pp.child("path"), pv, "must be an absolute path"));
                        }
                        for bad in ["//", "/./", "/../", "%2f", "%2F"] {
                            if pv.contains(bad) {
                                out.push(invalid(
                                    &pp.child("path"),
                                    pv,
                                    &format!("must not contain '{bad}'"),
                                ));
                            }
                        }
                        for bad in ["/..", "/."] {
                            if pv.ends_with(bad) {
                                out.push(invalid(
                                    &pp.child("path"),
                                    pv,
                                    &format!("cannot end with '{bad}'"),
                                ));
                            }
                        }
                    }
                    "ImplementationSpecific" => {
                        if !pv.is_empty() && !pv.starts_with('/') {
                            out.push(invalid(&pp.child("path"), pv, "must be an absolute path"));
                        }
                    }
                    other => out.push(not_supported(
                        &pp.child("pathType"),
                        other,
                        &["Exact", "ImplementationSpecific", "Prefix"],
                    )),
                }
                out.extend(validate_ingress_backend(
                    path.get("backend").unwrap_or(&null),
                    &pp.child("backend"),
                ));
            }
        }
    }
    for (i, t) in arr(spec, "tls").iter().enumerate() {
        for (j, h) in arr(t, "hosts").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            if h.contains('*') {
                continue;
            }
            for m in is_dns1123_subdomain(h) {
                out.push(invalid(
                    &sp.child("tls").index(i).child("hosts").index(j),
                    h,
                    &m,
                ));
            }
        }
    }
    if let Some(c) = spec.get("ingressClassName").and_then(Value::as_str) {
        for m in check_name(NameRule::Subdomain, c, false) {
            out.push(invalid(&sp.child("ingressClassName"), c, &m));
        }
    }
    out
}

pub fn validate_ingress_class(ic: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = ic.get("spec").unwrap_or(&null);
    let c = s(spec, "controller");
    let cp = Path::new("spec.controller");
    if c.is_empty() {
        out.push(required(&cp, ""));
    } else if c.len() > 250 {
        out.push(super::field::too_long(&cp, 250));
    }
    if let Some(old) = old {
        let oc = old
            .get("spec")
            .map(|s2| s(s2, "controller"))
            .unwrap_or_default();
        if oc != c {
            out.push(invalid(&cp, c, super::meta::FIELD_IMMUTABLE));
        }
    }
    out
}

pub fn validate_network_policy(np: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = np.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(validate_label_selector(
        spec.get("podSelector").unwrap_or(&null),
        &sp.child("podSelector"),
    ));
    for (dir, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in arr(spec, dir).iter().enumerate() {
            let rp = sp.child(dir).index(i);
            for (j, port) in arr(rule, "ports").iter().enumerate() {
                let pp = rp.child("ports").index(j);
                if let Some(proto) = port.get("protocol").and_then(Value::as_str) {
                    if !super::container::PROTOCOLS.contains(&proto) {
                        out.push(not_supported(
                            &pp.child("protocol"),
                            proto,
                            super::container::PROTOCOLS,
                        ));
                    }
                }
                if let Some(p) = port.get("port").filter(|v| !v.is_null()) {
                    out.extend(port_num_or_name(Some(p), &pp.child("port")));
                    if let Some(end) = int(port, "endPort") {
                        if p.is_string() {
                            out.push(invalid(
                                &pp.child("endPort"),
                                end,
                                "may not be specified when `port` is non-numeric",
                            ));
                        } else if end < p.as_i64().unwrap_or(0) {
                            out.push(invalid(
                                &pp.child("endPort"),
                                end,
                                "must be greater than or equal to `port`",
                            ));
                        }
                    }
                } else if let Some(end) = int(port, "endPort") {
                    out.push(invalid(
                        &pp.child("endPort"),
                        end,
                        "may not be specified when `port` is not specified",
                    ));
                }
            }
            for (j, peer) in arr(rule, peers_key).iter().enumerate() {
                let pp = rp.child(peers_key).index(j);
                let mut n = 0;
                if let Some(sel) = peer.get("podSelector").filter(|v| !v.is_null()) {
                    n += 1;
                    out.extend(validate_label_selector(sel, &pp.child("podSelector")));
                }
                if let Some(sel) = peer.get("namespaceSelector").filter(|v| !v.is_null()) {
                    n += 1;
                    out.extend(validate_label_selector(sel, &pp.child("namespaceSelector")));
                }
                if let Some(ipb) = peer.get("ipBlock").filter(|v| !v.is_null()) {
                    n += 1;
                    let ip = pp.child("ipBlock");
                    let cidr = s(ipb, "cidr");
                    if cidr.is_empty() {
                        out.push(required(&ip.child("cidr"), ""));
                    } else {
                        for m in is_valid_cidr(cidr) {
                            out.push(invalid(&ip.child("cidr"), cidr, &m));
                        }
                    }
                    for (k, e) in arr(ipb, "except").iter().enumerate() {
                        let e = e.as_str().unwrap_or_default();
                        for m in is_valid_cidr(e) {
                            out.push(invalid(&ip.child("except").index(k), e, &m));
                        }
                    }
                }
                if n == 0 {
                    out.push(required(&pp, "must specify a peer"));
                } else if n > 1 && has(peer, "ipBlock") {
                    out.push(forbidden(
                        &pp,
                        "may not specify both ipBlock and another peer",
                    ));
                }
            }
        }
    }
    let types = arr(spec, "policyTypes");
    if types.len() > 2 {
        out.push(invalid(
            &sp.child("policyTypes"),
            Bad::Raw(super::meta::go_string_slice(types)),
            "may not specify more than two policyTypes",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        let t = t.as_str().unwrap_or_default();
        if t != "Ingress" && t != "Egress" {
            out.push(not_supported(
                &sp.child("policyTypes").index(i),
                t,
                &["Ingress", "Egress"],
            ));
        }
    }
    out
}
