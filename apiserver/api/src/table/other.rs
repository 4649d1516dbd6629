//! Printers for leases, endpoint slices, ingresses, ingress classes, network policies and
//! role bindings.

use serde_json::{json, Value};

use super::docs::*;
use super::util::{
    age, arr, at, format_label_selector, list_with_more, name, opt_s, present, s, Time,
};
use super::{col, name_col, wide, Column, AGE};

pub const LEASE_COLUMNS: &[Column] = &[name_col(), col("Holder", "string", LEASE_HOLDER), AGE];

pub fn lease_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "holderIdentity"])),
        json!(age(v, now)),
    ]
}

pub const SLICE_COLUMNS: &[Column] = &[
    name_col(),
    col("AddressType", "string", ES_ADDRESS_TYPE),
    col("Ports", "string", ES_PORTS),
    col("Endpoints", "string", ES_ENDPOINTS),
    AGE,
];

pub fn slice_cells(v: &Value, now: Time) -> Vec<Value> {
    const MAX: usize = 3;
    let ports = arr(v, &["ports"]);
    let port_list: Vec<String> = ports
        .iter()
        .take(MAX)
        .map(|p| {
            match (
                at(p, &["port"]).and_then(Value::as_i64),
                opt_s(p, &["name"]),
            ) {
                (Some(n), _) => n.to_string(),
                (None, Some(n)) => n.to_string(),
                (None, None) => "*".to_string(),
            }
        })
        .collect();
    let addresses: Vec<&Value> = arr(v, &["endpoints"])
        .iter()
        .flat_map(|e| arr(e, &["addresses"]))
        .collect();
    let addr_list: Vec<String> = addresses
        .iter()
        .take(MAX)
        .map(|a| a.as_str().unwrap_or_default().to_string())
        .collect();
    vec![
        json!(name(v)),
        json!(s(v, &["addressType"])),
        json!(list_with_more(&port_list, ports.len(), MAX)),
        json!(list_with_more(&addr_list, addresses.len(), MAX)),
        json!(age(v, now)),
    ]
}

pub const INGRESS_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Class",
        "string",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    col(
        "Hosts",
        "string",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    col(
        "Address",
        "string",
        "Address is a list containing ingress points for the load-balancer",
    ),
    col("Ports", "string", "Ports of TLS configurations that open"),
    AGE,
];

pub fn ingress_cells(v: &Value, now: Time) -> Vec<Value> {
    const MAX: usize = 3;
    let rules = arr(v, &["spec", "rules"]);
    let mut hosts: Vec<&str> = Vec::new();
    let mut more = false;
    for r in rules {
        if hosts.len() == MAX {
            more = true;
        }
        let h = s(r, &["host"]);
        if !more && !h.is_empty() {
            hosts.push(h);
        }
    }
    let hosts = if hosts.is_empty() {
        "*".to_string()
    } else if more {
        format!("{} + {} more...", hosts.join(","), rules.len() - MAX)
    } else {
        hosts.join(",")
    };
    let mut address: Vec<&str> = arr(v, &["status", "loadBalancer", "ingress"])
        .iter()
        .filter_map(|i| {
            let ip = s(i, &["ip"]);
            let host = s(i, &["hostname"]);
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    address.sort_unstable();
    address.dedup();
    let ports = if arr(v, &["spec", "tls"]).is_empty() {
        "80"
    } else {
        "80, 443"
    };
    vec![
        json!(name(v)),
        json!(opt_s(v, &["spec", "ingressClassName"]).unwrap_or("<none>")),
        json!(hosts),
        json!(address.join(",")),
        json!(ports),
        json!(age(v, now)),
    ]
}

pub const INGRESS_CLASS_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Controller",
        "string",
        "Controller that is responsible for handling this class",
    ),
    col(
        "Parameters",
        "string",
        "A reference to a resource with additional parameters",
    ),
    AGE,
];

pub fn ingress_class_cells(v: &Value, now: Time) -> Vec<Value> {
    let parameters = if present(v, &["spec", "parameters"]) {
        let p = at(v, &["spec", "parameters"]).unwrap_or(&Value::Null);
        let mut out = s(p, &["kind"]).to_string();
        if let Some(g) = opt_s(p, &["apiGroup"]) {
            out = format!("{out}.{g}");
        }
        format!("{out}/{}", s(p, &["name"]))
    } else {
        "<none>".to_string()
    };
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "controller"])),
        json!(parameters),
        json!(age(v, now)),
    ]
}

pub const NETPOL_COLUMNS: &[Column] = &[
    name_col(),
    col("Pod-Selector", "string", NETPOL_POD_SELECTOR),
    AGE,
];

pub fn netpol_cells(v: &Value, now: Time) -> Vec<Value> {
    // `podSelector` is a struct, not a pointer: absent means the empty selector.
    let empty = json!({});
    let sel = at(v, &["spec", "podSelector"])
        .filter(|x| !x.is_null())
        .unwrap_or(&empty);
    vec![
        json!(name(v)),
        json!(format_label_selector(Some(sel))),
        json!(age(v, now)),
    ]
}

pub const RB_COLUMNS: &[Column] = &[
    name_col(),
    col("Role", "string", RB_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

pub const CRB_COLUMNS: &[Column] = &[
    name_col(),
    col("Role", "string", CRB_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

pub fn binding_cells(v: &Value, now: Time) -> Vec<Value> {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    let mut sas = Vec::new();
    for sub in arr(v, &["subjects"]) {
        let n = s(sub, &["name"]);
        match s(sub, &["kind"]) {
            "ServiceAccount" => sas.push(format!("{}/{n}", s(sub, &["namespace"]))),
            "User" => users.push(n.to_string()),
            "Group" => groups.push(n.to_string()),
            _ => {}
        }
    }
    vec![
        json!(name(v)),
        json!(format!(
            "{}/{}",
            s(v, &["roleRef", "kind"]),
            s(v, &["roleRef", "name"])
        )),
        json!(age(v, now)),
        json!(users.join(", ")),
        json!(groups.join(", ")),
        json!(sas.join(", ")),
    ]
}
