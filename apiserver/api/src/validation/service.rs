//! Services, Endpoints and EndpointSlices.

pub use super::service_ips::*;

pub use super::endpoints::*;

use std::collections::HashSet;

use rkube_patch::go_format::go_quote;
use serde_json::Value;

use super::container::{dns_label, port_num_or_name, PROTOCOLS};
use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{validate_labels, validate_object_meta};
use super::names::{
    is_dns1123_subdomain, is_qualified_name, is_valid_cidr, is_valid_ip, is_valid_port_num,
    NameRule,
};
use super::util::{arr, has, int, s};
use crate::status::Cause;

pub fn go_string_slice_json(v: &[Value]) -> Bad {
    Bad::Raw(super::meta::go_string_slice(v))
}

pub fn is_headless(spec: &Value) -> bool {
    let ips = arr(spec, "clusterIPs");
    ips.len() == 1 && ips[0].as_str() == Some("None")
}

pub fn externally_accessible(spec: &Value) -> bool {
    let t = s(spec, "type");
    t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP" && !arr(spec, "externalIPs").is_empty())
}

/// Go `%#v` of the `core.ServicePort` key upstream uses for duplicate detection.
pub fn go_service_port_key(protocol: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        go_quote(protocol)
    )
}

/// `ValidateService`.
pub fn validate_service(svc: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(svc, true, NameRule::Dns1035);
    let null = Value::Null;
    let spec = svc.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let ann = svc.get("metadata").and_then(|m| m.get("annotations"));
    let hints = ann
        .and_then(|a| a.get("service.kubernetes.io/topology-aware-hints"))
        .and_then(Value::as_str);
    let mode = ann
        .and_then(|a| a.get("service.kubernetes.io/topology-mode"))
        .and_then(Value::as_str);
    if let (Some(h), Some(m)) = (hints, mode) {
        if h != m {
            out.push(invalid(
                &Path::new("metadata.annotations").key("service.kubernetes.io/topology-mode"),
                m,
                "must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified",
            ));
        }
    }
    let typ = s(spec, "type");
    let headless = is_headless(spec);
    let ports = arr(spec, "ports");
    if ports.is_empty() && !headless && typ != "ExternalName" {
        out.push(required(&sp.child("ports"), ""));
    }
    match typ {
        "LoadBalancer" | "NodePort" if headless => out.push(invalid(
            &sp.child("clusterIPs").index(0),
            "None",
            &format!("may not be set to 'None' for {typ} services"),
        )),
        "ExternalName" => {
            if !arr(spec, "clusterIPs").is_empty() {
                out.push(forbidden(
                    &sp.child("clusterIPs"),
                    "may not be set for ExternalName services",
                ));
            }
            if !arr(spec, "ipFamilies").is_empty() {
                out.push(forbidden(
                    &sp.child("ipFamilies"),
                    "may not be set for ExternalName services",
                ));
            }
            if has(spec, "ipFamilyPolicy") {
                out.push(forbidden(
                    &sp.child("ipFamilyPolicy"),
                    "may not be set for ExternalName services",
                ));
            }
            let en = s(spec, "externalName");
            let cname = en.strip_suffix('.').unwrap_or(en);
            if cname.is_empty() {
                out.push(required(&sp.child("externalName"), ""));
            } else {
                for m in is_dns1123_subdomain(cname) {
                    out.push(invalid(&sp.child("externalName"), cname, &m));
                }
            }
        }
        _ => {}
    }
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let p = sp.child("ports").index(i);
        let name = s(port, "name");
        if ports.len() > 1 && name.is_empty() {
            out.push(required(&p.child("name"), ""));
        } else if !name.is_empty() {
            dns_label(name, &p.child("name"), &mut out);
            if !names.insert(name.to_string()) {
                out.push(duplicate(&p.child("name"), name));
            }
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
        out.extend(port_num_or_name(
            port.get("targetPort"),
            &p.child("targetPort"),
        ));
        if let Some(ap) = port.get("appProtocol").and_then(Value::as_str) {
            for m in is_qualified_name(ap) {
                out.push(invalid(&p.child("appProtocol"), ap, &m));
            }
        }
    }
    if spec.get("selector").is_some_and(|v| !v.is_null()) {
        out.extend(validate_labels(spec.get("selector"), &sp.child("selector")));
    }
    let aff = s(spec, "sessionAffinity");
    if aff.is_empty() {
        out.push(required(&sp.child("sessionAffinity"), ""));
    } else if aff != "ClientIP" && aff != "None" {
        out.push(not_supported(
            &sp.child("sessionAffinity"),
            aff,
            &["ClientIP", "None"],
        ));
    }
    let cfg_path = sp.child("sessionAffinityConfig");
    if aff == "ClientIP" {
        let detail = "when session affinity type is ClientIP";
        match spec.get("sessionAffinityConfig").filter(|v| !v.is_null()) {
            None => out.push(required(&cfg_path, detail)),
            Some(cfg) => match cfg.get("clientIP").filter(|v| !v.is_null()) {
                None => out.push(required(&cfg_path.child("clientIP"), detail)),
                Some(cip) => match int(cip, "timeoutSeconds") {
                    None => out.push(required(
                        &cfg_path.at(&["clientIP", "timeoutSeconds"]),
                        detail,
                    )),
                    Some(t) if t <= 0 || t > 86400 => out.push(invalid(
                        &cfg_path.at(&["clientIP", "timeoutSeconds"]),
                        t,
                        "must be greater than 0 and less than 86400",
                    )),
                    _ => {}
                },
            },
        }
    } else if aff == "None" && has(spec, "sessionAffinityConfig") {
        out.push(forbidden(
            &cfg_path,
            "must not be set when session affinity is None",
        ));
    }
    out.extend(validate_cluster_ips(spec));
    for (i, ip) in arr(spec, "externalIPs").iter().enumerate() {
        let ip = ip.as_str().unwrap_or_default();
        let p = sp.child("externalIPs").index(i);
        let errs = is_valid_ip(ip);
        if !errs.is_empty() {
            for m in errs {
                out.push(invalid(&p, ip, &m));
            }
        } else {
            out.extend(non_special_ip(ip, &p));
        }
    }
    const TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
    if typ.is_empty() {
        out.push(required(&sp.child("type"), ""));
    } else if !TYPES.contains(&typ) {
        out.push(not_supported(&sp.child("type"), typ, TYPES));
    }
    if typ == "ClusterIP" {
        for (i, port) in ports.iter().enumerate() {
            if int(port, "nodePort").unwrap_or(0) != 0 {
                out.push(forbidden(
                    &sp.child("ports").index(i).child("nodePort"),
                    "may not be used when `type` is 'ClusterIP'",
                ));
            }
        }
    }
    let mut node_ports = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let np = int(port, "nodePort").unwrap_or(0);
        if np == 0 {
            continue;
        }
        if !node_ports.insert((s(port, "protocol").to_string(), np)) {
            out.push(duplicate(&sp.child("ports").index(i).child("nodePort"), np));
        }
    }
    let mut keys = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let key = (
            s(port, "protocol").to_string(),
            int(port, "port").unwrap_or(0),
        );
        if !keys.insert(key.clone()) {
            out.push(duplicate(
                &sp.child("ports").index(i),
                Bad::Raw(go_service_port_key(&key.0, key.1)),
            ));
        }
    }
    let ranges = arr(spec, "loadBalancerSourceRanges");
    if !ranges.is_empty() {
        let fp = sp.child("LoadBalancerSourceRanges");
        if typ != "LoadBalancer" {
            out.push(forbidden(
                &fp,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        for (i, r) in ranges.iter().enumerate() {
            let r = r.as_str().unwrap_or_default().trim();
            for m in is_valid_cidr(r) {
                out.push(invalid(&fp.index(i), r, &m));
            }
        }
    } else if let Some(v) = ann
        .and_then(|a| a.get("service.beta.kubernetes.io/load-balancer-source-ranges"))
        .and_then(Value::as_str)
    {
        let fp = Path::new("metadata.annotations")
            .key("service.beta.kubernetes.io/load-balancer-source-ranges");
        if typ != "LoadBalancer" {
            out.push(forbidden(
                &fp,
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
        let v = v.trim();
        if !v.is_empty() {
            for c in v.split(',') {
                let c = c.trim();
                for m in is_valid_cidr(c) {
                    out.push(invalid(&fp, c, &m));
                }
            }
        }
    }
    if has(spec, "allocateLoadBalancerNodePorts") && typ != "LoadBalancer" {
        out.push(forbidden(
            &sp.child("allocateLoadBalancerNodePorts"),
            "may only be used when `type` is 'LoadBalancer'",
        ));
    }
    if typ == "LoadBalancer" && !has(spec, "allocateLoadBalancerNodePorts") {
        out.push(required(&Path::new("allocateLoadBalancerNodePorts"), ""));
    }
    if let Some(lbc) = spec.get("loadBalancerClass").and_then(Value::as_str) {
        if typ == "LoadBalancer" {
            for m in is_qualified_name(lbc) {
                out.push(invalid(&sp.child("loadBalancerClass"), lbc, &m));
            }
        } else {
            out.push(forbidden(
                &sp.child("loadBalancerClass"),
                "may only be used when `type` is 'LoadBalancer'",
            ));
        }
    }
    let etp = s(spec, "externalTrafficPolicy");
    if !externally_accessible(spec) {
        if !etp.is_empty() {
            out.push(invalid(
                &sp.child("externalTrafficPolicy"),
                etp,
                "may only be set for externally-accessible services",
            ));
        }
    } else if etp.is_empty() {
        out.push(required(&sp.child("externalTrafficPolicy"), ""));
    } else if etp != "Cluster" && etp != "Local" {
        out.push(not_supported(
            &sp.child("externalTrafficPolicy"),
            etp,
            &["Cluster", "Local"],
        ));
    }
    let hc = int(spec, "healthCheckNodePort").unwrap_or(0);
    if !(typ == "LoadBalancer" && etp == "Local") {
        if hc != 0 {
            out.push(invalid(
                &sp.child("healthCheckNodePort"),
                hc,
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
            ));
        }
    } else if hc == 0 {
        // Allocated by the apiserver before validation upstream; not required here.
    } else {
        for m in is_valid_port_num(hc) {
            out.push(invalid(&sp.child("healthCheckNodePort"), hc, &m));
        }
    }
    match spec.get("internalTrafficPolicy").and_then(Value::as_str) {
        None if ["NodePort", "LoadBalancer", "ClusterIP"].contains(&typ) => {
            out.push(required(&sp.child("internalTrafficPolicy"), ""));
        }
        Some(p) if p != "Cluster" && p != "Local" => out.push(not_supported(
            &sp.child("internalTrafficPolicy"),
            p,
            &["Cluster", "Local"],
        )),
        _ => {}
    }
    if let Some(td) = spec.get("trafficDistribution").and_then(Value::as_str) {
        if td != "PreferClose" {
            out.push(not_supported(
                &sp.child("trafficDistribution"),
                td,
                &["PreferClose"],
            ));
        }
    }
    out
}
