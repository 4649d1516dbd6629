//! Service defaulting (`SetDefaults_Service`) and the Service REST storage's create/update
//! preparation (cluster IP sync, IP families, kept allocations).

use super::{obj_mut, set_default};
use serde_json::{json, Map, Value};

fn externally_accessible(spec: &Map<String, Value>) -> bool {
    let t = spec.get("type").and_then(Value::as_str).unwrap_or("");
    t == "LoadBalancer"
        || t == "NodePort"
        || (t == "ClusterIP"
            && spec
                .get("externalIPs")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty()))
}

/// `SetDefaults_Service`.
pub fn service(obj: &mut Value) {
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    set_default(s, "sessionAffinity", json!("None"));
    match s.get("sessionAffinity").and_then(Value::as_str) {
        Some("None") => {
            s.remove("sessionAffinityConfig");
        }
        Some("ClientIP") => {
            let has_timeout = s
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                s.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": 10800}}),
                );
            }
        }
        _ => {}
    }
    set_default(s, "type", json!("ClusterIP"));
    if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if let Some(pm) = p.as_object_mut() {
                set_default(pm, "protocol", json!("TCP"));
                let unset = match pm.get("targetPort") {
                    None | Some(Value::Null) => true,
                    Some(Value::Number(n)) => n.as_i64() == Some(0),
                    Some(Value::String(st)) => st.is_empty(),
                    _ => false,
                };
                if unset {
                    if let Some(port) = pm.get("port").cloned() {
                        pm.insert("targetPort".into(), port);
                    }
                }
            }
        }
    }
    if externally_accessible(s) {
        set_default(s, "externalTrafficPolicy", json!("Cluster"));
    }
    let typ = s
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if matches!(typ.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        set_default(s, "internalTrafficPolicy", json!("Cluster"));
    }
    if typ == "LoadBalancer" {
        set_default(s, "allocateLoadBalancerNodePorts", json!(true));
    }
    if typ == "LoadBalancer" {
        if let Some(ing) = obj
            .get_mut("status")
            .and_then(|st| st.get_mut("loadBalancer"))
            .and_then(|lb| lb.get_mut("ingress"))
            .and_then(Value::as_array_mut)
        {
            for i in ing.iter_mut() {
                if let Some(im) = i.as_object_mut() {
                    if im
                        .get("ip")
                        .and_then(Value::as_str)
                        .is_some_and(|ip| !ip.is_empty())
                    {
                        set_default(im, "ipMode", json!("VIP"));
                    }
                }
            }
        }
    }
}

/// What the Service REST storage does at create before validation: sync `clusterIPs`
/// with `clusterIP` and pick the IP family fields (a single-stack IPv4 cluster). The
/// cluster IP and node ports themselves are allocated by the apiserver.
pub fn service_create(obj: &mut Value) {
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    let cip = s
        .get("clusterIP")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let cips_empty = s
        .get("clusterIPs")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if !cip.is_empty() && cips_empty {
        s.insert("clusterIPs".into(), json!([cip]));
    }
    if s.get("type").and_then(Value::as_str) == Some("ExternalName") {
        return;
    }
    let headless = cip == "None";
    let selectorless = s
        .get("selector")
        .and_then(Value::as_object)
        .is_none_or(|m| m.is_empty());
    let special = headless && selectorless;
    let policy = if special {
        "RequireDualStack"
    } else {
        "SingleStack"
    };
    set_default(s, "ipFamilyPolicy", json!(policy));
    let mut fams: Vec<Value> = s
        .get("ipFamilies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Families are inferred from the requested cluster IPs.
    let ips: Vec<String> = s
        .get("clusterIPs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for (i, ip) in ips.iter().enumerate() {
        if ip == "None" {
            break;
        }
        if i >= fams.len() {
            let v6 = crate::validation::names::parse_ip_sloppy(ip).is_some_and(|a| a.is_ipv6());
            fams.push(json!(if v6 { "IPv6" } else { "IPv4" }));
        }
    }
    if fams.is_empty() {
        fams.push(json!("IPv4"));
    }
    // Headless selectorless services get both families unless single-stack was asked for.
    let single = s.get("ipFamilyPolicy").and_then(Value::as_str) == Some("SingleStack");
    if special && fams.len() < 2 && !single {
        let other = if fams[0] == "IPv4" { "IPv6" } else { "IPv4" };
        fams.push(json!(other));
    }
    s.insert("ipFamilies".into(), Value::Array(fams));
}

/// The Service update preparation: `normalizeClusterIPs` and `patchAllocatedValues`
/// (values the client omitted are kept from the stored object).
pub fn service_update(obj: &mut Value, old: &Value) {
    let null = Value::Null;
    let os = old.get("spec").unwrap_or(&null).clone();
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    let new_type = s
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let old_type = os
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let str_of = |m: &Map<String, Value>, k: &str| {
        m.get(k).and_then(Value::as_str).unwrap_or("").to_string()
    };
    let needs_cluster_ip = |t: &str| t != "ExternalName";
    if needs_cluster_ip(&old_type) && needs_cluster_ip(&new_type) {
        if str_of(s, "clusterIP").is_empty() {
            if let Some(v) = os.get("clusterIP") {
                s.insert("clusterIP".into(), v.clone());
            }
        }
        let empty_ips = s
            .get("clusterIPs")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        if empty_ips && s.get("clusterIP") == os.get("clusterIP") {
            if let Some(v) = os.get("clusterIPs") {
                s.insert("clusterIPs".into(), v.clone());
            }
        }
    }
    // normalizeClusterIPs for an update.
    let old_cip = os.get("clusterIP").and_then(Value::as_str).unwrap_or("");
    let new_cip = str_of(s, "clusterIP");
    if old_cip != new_cip && !new_cip.is_empty() && s.get("clusterIPs") == os.get("clusterIPs") {
        s.insert("clusterIPs".into(), json!([new_cip]));
    }
    if (new_type == "NodePort" || new_type == "LoadBalancer")
        && (old_type == "NodePort" || old_type == "LoadBalancer")
    {
        let old_ports = os
            .get("ports")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(ports) = s.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ports.iter_mut() {
                let Some(pm) = p.as_object_mut() else {
                    continue;
                };
                if pm.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                    continue;
                }
                let key = (pm.get("port").cloned(), pm.get("protocol").cloned());
                if let Some(op) = old_ports
                    .iter()
                    .find(|op| (op.get("port").cloned(), op.get("protocol").cloned()) == key)
                {
                    if let Some(np) = op.get("nodePort") {
                        pm.insert("nodePort".into(), np.clone());
                    }
                }
            }
        }
    }
    if new_type == "LoadBalancer"
        && s.get("healthCheckNodePort")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
    {
        if let Some(v) = os.get("healthCheckNodePort") {
            s.insert("healthCheckNodePort".into(), v.clone());
        }
    }
    if needs_cluster_ip(&new_type) {
        for k in ["ipFamilyPolicy", "ipFamilies"] {
            let missing = s
                .get(k)
                .is_none_or(|v| v.is_null() || v.as_array().is_some_and(|a| a.is_empty()));
            if missing {
                if let Some(v) = os.get(k) {
                    s.insert(k.into(), v.clone());
                }
            }
        }
    }
    if new_type == "ExternalName" && old_type != "ExternalName" {
        for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            s.remove(k);
        }
    }
}
