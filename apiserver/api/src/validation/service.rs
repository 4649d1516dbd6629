//! Services, Endpoints and EndpointSlices.

use std::collections::HashSet;

use serde_json::Value;

use super::container::{dns_label, port_num_or_name, PROTOCOLS};
use super::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{validate_labels, validate_object_meta, validate_object_meta_update};
use super::names::{
    is_dns1123_subdomain, is_qualified_name, is_valid_cidr, is_valid_ip, is_valid_port_num,
    parse_ip_sloppy, NameRule,
};
use super::util::{arr, boolean, has, int, s};
use crate::status::Cause;

fn go_string_slice_json(v: &[Value]) -> Bad {
    Bad::Raw(super::meta::go_string_slice(v))
}

fn is_headless(spec: &Value) -> bool {
    let ips = arr(spec, "clusterIPs");
    ips.len() == 1 && ips[0].as_str() == Some("None")
}

fn externally_accessible(spec: &Value) -> bool {
    let t = s(spec, "type");
    t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP" && !arr(spec, "externalIPs").is_empty())
}

/// Go `%#v` of the `core.ServicePort` key upstream uses for duplicate detection.
fn go_service_port_key(protocol: &str, port: i64) -> String {
    format!(
        "core.ServicePort{{Name:\"\", Protocol:{}, AppProtocol:(*string)(nil), Port:{port}, TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:\"\"}}, NodePort:0}}",
        super::field::go_quote(protocol)
    )
}

/// `ValidateNonSpecialIP`.
fn non_special_ip(ip: &str, path: &Path) -> Vec<Cause> {
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

/// `ValidateServiceClusterIPsRelatedFields`.
fn validate_cluster_ips(spec: &Value) -> Vec<Cause> {
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

fn policy_bad(spec: &Value) -> Bad {
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

fn endpoint_port(port: &Value, require_name: bool, p: &Path) -> Vec<Cause> {
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
