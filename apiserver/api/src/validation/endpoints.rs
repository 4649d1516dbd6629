//! Endpoints and EndpointSlices.

use super::container::{dns_label, PROTOCOLS};
use super::field::{duplicate, invalid, not_supported, required, Path};
use super::meta::{validate_labels, validate_object_meta, validate_object_meta_update};
use super::names::{
    is_dns1123_subdomain, is_qualified_name, is_valid_ip, is_valid_port_num, parse_ip_sloppy,
    NameRule,
};
use super::util::{arr, boolean, int, s};
use crate::status::Cause;
use serde_json::Value;
use std::collections::HashSet;

/// `ValidateNonSpecialIP`.
pub fn non_special_ip(ip: &str, path: &Path) -> Vec<Cause> {
    let Some(addr) = parse_ip_sloppy(ip) else {
        return vec![invalid(path, ip, "must be a valid IP address")];
    };
    let mut out = Vec::new();
    if addr.is_unspecified() {
        out.push(invalid(path, ip, &format!("may not be unspecified ({ip})")));
    }
    if addr.is_loopback() {
        out.push(invalid(
            path,
            ip,
            "may not be in the loopback range (127.0.0.0/8, ::1/128)",
        ));
    }
    let (ll_unicast, ll_multicast) = match addr {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            (
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        std::net::IpAddr::V6(v6) => {
            let seg = v6.segments();
            ((seg[0] & 0xffc0) == 0xfe80, (seg[0] & 0xff0f) == 0xff02)
        }
    };
    if ll_unicast {
        out.push(invalid(
            path,
            ip,
            "may not be in the link-local range (169.254.0.0/16, fe80::/10)",
        ));
    }
    if ll_multicast {
        out.push(invalid(
            path,
            ip,
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ));
    }
    out
}

/// `ValidateEndpoints`.
pub fn validate_endpoints(ep: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(ep, true, NameRule::Subdomain);
    let sp = Path::new("subsets");
    for (i, ss) in arr(ep, "subsets").iter().enumerate() {
        let p = sp.index(i);
        if arr(ss, "addresses").is_empty() && arr(ss, "notReadyAddresses").is_empty() {
            out.push(required(
                &p,
                "must specify `addresses` or `notReadyAddresses`",
            ));
        }
        for key in ["addresses", "notReadyAddresses"] {
            for (j, a) in arr(ss, key).iter().enumerate() {
                let ap = p.child(key).index(j);
                let ip = s(a, "ip");
                for m in is_valid_ip(ip) {
                    out.push(invalid(&ap.child("ip"), ip, &m));
                }
                let hn = s(a, "hostname");
                if !hn.is_empty() {
                    dns_label(hn, &ap.child("hostname"), &mut out);
                }
                if let Some(nn) = a.get("nodeName").and_then(Value::as_str) {
                    for m in is_dns1123_subdomain(nn) {
                        out.push(invalid(&ap.child("nodeName"), nn, &m));
                    }
                }
                out.extend(non_special_ip(ip, &ap.child("ip")));
            }
        }
        let ports = arr(ss, "ports");
        for (j, port) in ports.iter().enumerate() {
            out.extend(endpoint_port(
                port,
                ports.len() > 1,
                &p.child("ports").index(j),
            ));
        }
    }
    out
}

pub fn endpoint_port(port: &Value, require_name: bool, p: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let name = s(port, "name");
    if require_name && name.is_empty() {
        out.push(required(&p.child("name"), ""));
    } else if !name.is_empty() {
        dns_label(name, &p.child("name"), &mut out);
    }
    let pn = int(port, "port").unwrap_or(0);
    for m in is_valid_port_num(pn) {
        out.push(invalid(&p.child("port"), pn, &m));
    }
    let proto = s(port, "protocol");
    if proto.is_empty() {
        out.push(required(&p.child("protocol"), ""));
    } else if !PROTOCOLS.contains(&proto) {
        out.push(not_supported(&p.child("protocol"), proto, PROTOCOLS));
    }
    if let Some(ap) = port.get("appProtocol").and_then(Value::as_str) {
        for m in is_qualified_name(ap) {
            out.push(invalid(&p.child("appProtocol"), ap, &m));
        }
    }
    out
}

/// `ValidateEndpointSlice` (discovery/v1).
pub fn validate_endpoint_slice(es: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = validate_object_meta(es, true, NameRule::Subdomain);
    let at = s(es, "addressType");
    const TYPES: &[&str] = &["FQDN", "IPv4", "IPv6"];
    if at.is_empty() {
        out.push(required(&Path::new("addressType"), ""));
    } else if !TYPES.contains(&at) {
        out.push(not_supported(&Path::new("addressType"), at, TYPES));
    }
    let endpoints = arr(es, "endpoints");
    if endpoints.len() > 1000 {
        out.push(super::field::too_many(
            &Path::new("endpoints"),
            endpoints.len(),
            1000,
        ));
    }
    for (i, e) in endpoints.iter().enumerate() {
        let p = Path::new("endpoints").index(i);
        let addrs = arr(e, "addresses");
        if addrs.is_empty() {
            out.push(required(
                &p.child("addresses"),
                "must contain at least 1 address",
            ));
        } else if addrs.len() > 100 {
            out.push(super::field::too_many(
                &p.child("addresses"),
                addrs.len(),
                100,
            ));
        }
        for (j, a) in addrs.iter().enumerate() {
            let a = a.as_str().unwrap_or_default();
            let ap = p.child("addresses").index(j);
            match at {
                "IPv4" if !matches!(parse_ip_sloppy(a), Some(std::net::IpAddr::V4(_))) => {
                    out.push(invalid(&ap, a, "must be a valid IPv4 address"));
                }
                "IPv6" if !matches!(parse_ip_sloppy(a), Some(std::net::IpAddr::V6(_))) => {
                    out.push(invalid(&ap, a, "must be a valid IPv6 address"));
                }
                "FQDN" => {
                    for m in is_dns1123_subdomain(a) {
                        out.push(invalid(&ap, a, &m));
                    }
                }
                _ => {}
            }
        }
        if let Some(h) = e.get("hostname").and_then(Value::as_str) {
            dns_label(h, &p.child("hostname"), &mut out);
        }
        if let Some(n) = e.get("nodeName").and_then(Value::as_str) {
            for m in is_dns1123_subdomain(n) {
                out.push(invalid(&p.child("nodeName"), n, &m));
            }
        }
        if let Some(dt) = e.get("deprecatedTopology") {
            out.extend(validate_labels(Some(dt), &p.child("deprecatedTopology")));
        }
        let _ = boolean;
    }
    let ports = arr(es, "ports");
    if ports.len() > 100 {
        out.push(super::field::too_many(
            &Path::new("ports"),
            ports.len(),
            100,
        ));
    }
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = Path::new("ports").index(i);
        let name = s(port, "name");
        if !name.is_empty() {
            dns_label(name, &p.child("name"), &mut out);
        }
        if !names.insert(name.to_string()) {
            out.push(duplicate(&p.child("name"), name));
        }
        if let Some(pn) = int(port, "port") {
            for m in is_valid_port_num(pn) {
                out.push(invalid(&p.child("port"), pn, &m));
            }
        }
        match port.get("protocol").and_then(Value::as_str) {
            None => out.push(required(&p.child("protocol"), "")),
            Some(pr) if !PROTOCOLS.contains(&pr) => {
                out.push(not_supported(&p.child("protocol"), pr, PROTOCOLS))
            }
            _ => {}
        }
        if let Some(ap) = port.get("appProtocol").and_then(Value::as_str) {
            for m in is_qualified_name(ap) {
                out.push(invalid(&p.child("appProtocol"), ap, &m));
            }
        }
    }
    if let Some(old) = old {
        out.extend(validate_object_meta_update(es, old));
        if s(es, "addressType") != s(old, "addressType") {
            out.push(invalid(
                &Path::new("addressType"),
                s(es, "addressType"),
                super::meta::FIELD_IMMUTABLE,
            ));
        }
    }
    out
}
