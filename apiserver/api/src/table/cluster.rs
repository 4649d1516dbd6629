//! Printers for the cluster-configuration kinds: priority classes, runtime classes, the
//! storage.k8s.io kinds, flow schemas and priority levels, admission policies and their
//! bindings, and certificate signing requests (upstream's `pkg/printers/internalversion`).

use serde_json::{json, Value};

use super::docs_cluster::*;
use super::util::{age, arr, at, human_duration, name, opt_int, opt_s, quantity, s, Time};
use super::{col, name_col, Column, AGE};

pub const PRIORITY_CLASS_COLUMNS: &[Column] = &[
    name_col(),
    col("Value", "integer", PC_VALUE),
    col("Global-Default", "boolean", PC_GLOBAL_DEFAULT),
    AGE,
    col("PreemptionPolicy", "string", PC_PREEMPTION_POLICY),
];

pub fn priority_class_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(opt_int(v, &["value"]).unwrap_or(0)),
        json!(flag(v, &["globalDefault"], false)),
        json!(age(v, now)),
        json!(opt_s(v, &["preemptionPolicy"]).unwrap_or("PreemptLowerPriority")),
    ]
}

pub const RUNTIME_CLASS_COLUMNS: &[Column] =
    &[name_col(), col("Handler", "string", RC_HANDLER), AGE];

pub fn runtime_class_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(s(v, &["handler"])),
        json!(age(v, now)),
    ]
}

pub const STORAGE_CLASS_COLUMNS: &[Column] = &[
    name_col(),
    col("Provisioner", "string", SC_PROVISIONER),
    col("ReclaimPolicy", "string", SC_RECLAIM_POLICY),
    col("VolumeBindingMode", "string", SC_BINDING_MODE),
    col("AllowVolumeExpansion", "string", SC_EXPANSION),
    AGE,
];

/// The default class is marked by an annotation (GA or beta name).
fn is_default_class(v: &Value) -> bool {
    [
        "storageclass.kubernetes.io/is-default-class",
        "storageclass.beta.kubernetes.io/is-default-class",
    ]
    .iter()
    .any(|a| opt_s(v, &["metadata", "annotations", a]) == Some("true"))
}

pub fn storage_class_cells(v: &Value, now: Time) -> Vec<Value> {
    let mut shown = name(v).to_string();
    if is_default_class(v) {
        shown.push_str(" (default)");
    }
    vec![
        json!(shown),
        json!(s(v, &["provisioner"])),
        json!(opt_s(v, &["reclaimPolicy"]).unwrap_or("Delete")),
        json!(opt_s(v, &["volumeBindingMode"]).unwrap_or("Immediate")),
        json!(flag(v, &["allowVolumeExpansion"], false)),
        json!(age(v, now)),
    ]
}

pub const CSI_DRIVER_COLUMNS: &[Column] = &[
    name_col(),
    col("AttachRequired", "boolean", CSID_ATTACH),
    col("PodInfoOnMount", "boolean", CSID_POD_INFO),
    col("StorageCapacity", "boolean", CSID_CAPACITY),
    col("TokenRequests", "string", CSID_TOKENS),
    col("RequiresRepublish", "boolean", CSID_REPUBLISH),
    col("Modes", "string", CSID_MODES),
    AGE,
];

fn joined_or(list: Vec<&str>, empty: &str) -> String {
    if list.is_empty() {
        empty.to_string()
    } else {
        list.join(",")
    }
}

pub fn csi_driver_cells(v: &Value, now: Time) -> Vec<Value> {
    let audiences: Vec<&str> = arr(v, &["spec", "tokenRequests"])
        .iter()
        .map(|t| s(t, &["audience"]))
        .collect();
    let modes: Vec<&str> = arr(v, &["spec", "volumeLifecycleModes"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    vec![
        json!(name(v)),
        json!(flag(v, &["spec", "attachRequired"], true)),
        json!(flag(v, &["spec", "podInfoOnMount"], false)),
        json!(flag(v, &["spec", "storageCapacity"], false)),
        json!(joined_or(audiences, "<unset>")),
        json!(flag(v, &["spec", "requiresRepublish"], false)),
        json!(joined_or(modes, "<none>")),
        json!(age(v, now)),
    ]
}

pub const CSI_NODE_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Drivers",
        "integer",
        "Drivers indicates the number of CSI drivers registered on the node",
    ),
    AGE,
];

pub fn csi_node_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(arr(v, &["spec", "drivers"]).len()),
        json!(age(v, now)),
    ]
}

pub const CSI_CAPACITY_COLUMNS: &[Column] = &[
    name_col(),
    col("StorageClassName", "string", CSISC_CLASS),
    col("Capacity", "string", CSISC_CAPACITY),
];

pub fn csi_capacity_cells(v: &Value, _now: Time) -> Vec<Value> {
    let capacity = match at(v, &["capacity"]).filter(|c| !c.is_null()) {
        Some(c) => quantity(Some(c)),
        None => "<unset>".to_string(),
    };
    vec![
        json!(name(v)),
        json!(s(v, &["storageClassName"])),
        json!(capacity),
    ]
}

pub const VOLUME_ATTACHMENT_COLUMNS: &[Column] = &[
    name_col(),
    Column {
        format: "name",
        ..col("Attacher", "string", VA_ATTACHER)
    },
    col("PV", "string", VA_PV),
    col("Node", "string", VA_NODE),
    col("Attached", "boolean", VA_ATTACHED),
    AGE,
];

pub fn volume_attachment_cells(v: &Value, now: Time) -> Vec<Value> {
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "attacher"])),
        json!(s(v, &["spec", "source", "persistentVolumeName"])),
        json!(s(v, &["spec", "nodeName"])),
        json!(flag(v, &["status", "attached"], false)),
        json!(age(v, now)),
    ]
}

pub const FLOW_SCHEMA_COLUMNS: &[Column] = &[
    name_col(),
    col("PriorityLevel", "string", FS_LEVEL),
    col("MatchingPrecedence", "string", FS_PRECEDENCE),
    col("DistinguisherMethod", "string", FS_DISTINGUISHER),
    AGE,
    col(
        "MissingPL",
        "string",
        "references a broken or non-existent PriorityLevelConfiguration",
    ),
];

pub fn flow_schema_cells(v: &Value, now: Time) -> Vec<Value> {
    let distinguisher = opt_s(v, &["spec", "distinguisherMethod", "type"]).unwrap_or("<none>");
    let dangling = arr(v, &["status", "conditions"])
        .iter()
        .filter(|c| s(c, &["type"]) == "Dangling")
        .map(|c| s(c, &["status"]))
        .next_back()
        .unwrap_or("?");
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "priorityLevelConfiguration", "name"])),
        json!(opt_int(v, &["spec", "matchingPrecedence"]).unwrap_or(0)),
        json!(distinguisher),
        json!(age(v, now)),
        json!(dangling),
    ]
}

pub const PRIORITY_LEVEL_COLUMNS: &[Column] = &[
    name_col(),
    col("Type", "string", PL_TYPE),
    col("NominalConcurrencyShares", "string", PL_SHARES),
    col("Queues", "string", PL_QUEUES),
    col("HandSize", "string", PL_HAND_SIZE),
    col("QueueLengthLimit", "string", PL_QUEUE_LENGTH),
    AGE,
];

pub fn priority_level_cells(v: &Value, now: Time) -> Vec<Value> {
    let none = || json!("<none>");
    let (mut shares, mut queues, mut hand, mut length) = (none(), none(), none(), none());
    if let Some(limited) = at(v, &["spec", "limited"]).filter(|l| l.is_object()) {
        shares = json!(opt_int(limited, &["nominalConcurrencyShares"]).unwrap_or(0));
        if let Some(q) = at(limited, &["limitResponse", "queuing"]).filter(|q| q.is_object()) {
            queues = json!(opt_int(q, &["queues"]).unwrap_or(0));
            hand = json!(opt_int(q, &["handSize"]).unwrap_or(0));
            length = json!(opt_int(q, &["queueLengthLimit"]).unwrap_or(0));
        }
    }
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "type"])),
        shares,
        queues,
        hand,
        length,
        json!(age(v, now)),
    ]
}

pub const ADMISSION_POLICY_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "Validations",
        "integer",
        "Validations indicates the number of validation rules defined in this configuration",
    ),
    col(
        "ParamKind",
        "string",
        "ParamKind specifies the kind of resources used to parameterize this policy",
    ),
    AGE,
];

pub fn admission_policy_cells(v: &Value, now: Time) -> Vec<Value> {
    let param_kind = match at(v, &["spec", "paramKind"]).filter(|p| p.is_object()) {
        Some(p) => format!("{}/{}", s(p, &["apiVersion"]), s(p, &["kind"])),
        None => "<unset>".to_string(),
    };
    vec![
        json!(name(v)),
        json!(arr(v, &["spec", "validations"]).len()),
        json!(param_kind),
        json!(age(v, now)),
    ]
}

pub const POLICY_BINDING_COLUMNS: &[Column] = &[
    name_col(),
    col(
        "PolicyName",
        "string",
        "PolicyName indicates the policy definition which the policy binding binded to",
    ),
    col(
        "ParamRef",
        "string",
        "ParamRef indicates the param resource which sets the configration param",
    ),
    AGE,
];

pub fn policy_binding_cells(v: &Value, now: Time) -> Vec<Value> {
    let param_ref = match at(v, &["spec", "paramRef"]).filter(|p| p.is_object()) {
        None => "<unset>".to_string(),
        Some(p) => {
            let target = match opt_s(p, &["name"]).filter(|n| !n.is_empty()) {
                Some(n) => n.to_string(),
                None if at(p, &["selector"]).is_some_and(Value::is_object) => "*".to_string(),
                None => String::new(),
            };
            match opt_s(p, &["namespace"]).filter(|n| !n.is_empty()) {
                Some(ns) => format!("{ns}/{target}"),
                None => target,
            }
        }
    };
    vec![
        json!(name(v)),
        json!(s(v, &["spec", "policyName"])),
        json!(param_ref),
        json!(age(v, now)),
    ]
}

pub const CSR_COLUMNS: &[Column] = &[
    name_col(),
    AGE,
    col("SignerName", "string", CSR_SIGNER),
    col("Requestor", "string", CSR_REQUEST),
    col("RequestedDuration", "string", CSR_EXPIRATION),
    col("Condition", "string", CSR_CONDITIONS),
];

/// `extractCSRStatus`: the decision (Denied over Approved, else Pending), then Failed and
/// Issued.
fn csr_condition(v: &Value) -> String {
    let types: Vec<&str> = arr(v, &["status", "conditions"])
        .iter()
        .map(|c| s(c, &["type"]))
        .collect();
    let mut out = if types.contains(&"Denied") {
        "Denied".to_string()
    } else if types.contains(&"Approved") {
        "Approved".to_string()
    } else {
        "Pending".to_string()
    };
    if types.contains(&"Failed") {
        out.push_str(",Failed");
    }
    if !s(v, &["status", "certificate"]).is_empty() {
        out.push_str(",Issued");
    }
    out
}

pub fn csr_cells(v: &Value, now: Time) -> Vec<Value> {
    let duration = match opt_int(v, &["spec", "expirationSeconds"]) {
        Some(secs) => human_duration(secs as i128 * 1_000_000_000),
        None => "<none>".to_string(),
    };
    vec![
        json!(name(v)),
        json!(age(v, now)),
        json!(opt_s(v, &["spec", "signerName"])
            .filter(|n| !n.is_empty())
            .unwrap_or("<none>")),
        json!(s(v, &["spec", "username"])),
        json!(duration),
        json!(csr_condition(v)),
    ]
}

fn flag(v: &Value, path: &[&str], default: bool) -> bool {
    at(v, path).and_then(Value::as_bool).unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        super::super::util::from_system(std::time::SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn every_row_has_a_cell_per_column() {
        let empty = json!({});
        let printers: &[(&[Column], super::super::Cells)] = &[
            (PRIORITY_CLASS_COLUMNS, priority_class_cells),
            (RUNTIME_CLASS_COLUMNS, runtime_class_cells),
            (STORAGE_CLASS_COLUMNS, storage_class_cells),
            (CSI_DRIVER_COLUMNS, csi_driver_cells),
            (CSI_NODE_COLUMNS, csi_node_cells),
            (CSI_CAPACITY_COLUMNS, csi_capacity_cells),
            (VOLUME_ATTACHMENT_COLUMNS, volume_attachment_cells),
            (FLOW_SCHEMA_COLUMNS, flow_schema_cells),
            (PRIORITY_LEVEL_COLUMNS, priority_level_cells),
            (ADMISSION_POLICY_COLUMNS, admission_policy_cells),
            (POLICY_BINDING_COLUMNS, policy_binding_cells),
            (CSR_COLUMNS, csr_cells),
        ];
        for (columns, cells) in printers {
            assert_eq!(cells(&empty, now()).len(), columns.len());
        }
    }

    #[test]
    fn csr_condition_puts_denial_first_and_adds_issued() {
        let csr =
            json!({"status": {"certificate": "Y2VydA==", "conditions": [{"type": "Approved"}]}});
        assert_eq!(csr_condition(&csr), "Approved,Issued");
        let denied = json!({"status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}]}});
        assert_eq!(csr_condition(&denied), "Denied");
        assert_eq!(csr_condition(&json!({})), "Pending");
    }

    #[test]
    fn the_default_storage_class_is_marked() {
        let sc = json!({"metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}}});
        assert_eq!(storage_class_cells(&sc, now())[0], "local (default)");
    }
}
