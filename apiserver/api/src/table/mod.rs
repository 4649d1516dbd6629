//! Server-side printing: `meta.k8s.io/v1` Tables with upstream's columns and cells
//! (`pkg/printers/internalversion`), and the default Name/Created At table of resources
//! without a printer.
//!
//! The apiserver always generates the wide columns (`priority: 1`); clients hide them
//! unless asked for `-o wide`. So every row has one cell per column.

use std::time::SystemTime;

use rkube_patch::go_format::go_quote;
use serde_json::{json, Map, Value};

use crate::resources::Resource;

mod autoscaling;
mod cluster;
mod core;
pub(crate) mod docs;
mod docs_cluster;
mod other;
mod pods;
mod registration;
pub mod util;
mod workloads;

#[cfg(test)]
mod tests;

pub use util::human_duration;

/// The table builders under the name the apiserver asked for (`table::build::table`, ...).
pub mod build {
    pub use super::{columns, row, row_cells, row_conditions, table, IncludeObject};
}

/// One column definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// OpenAPI type: `string`, `integer`, `boolean`, `date`.
    pub typ: &'static str,
    /// `name` for the primary identifier column.
    pub format: &'static str,
    pub description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: i32,
}

impl Column {
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.typ,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

pub(crate) const fn col(
    name: &'static str,
    typ: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        typ,
        format: "",
        description,
        priority: 0,
    }
}

pub(crate) const fn wide(
    name: &'static str,
    typ: &'static str,
    description: &'static str,
) -> Column {
    Column {
        name,
        typ,
        format: "",
        description,
        priority: 1,
    }
}

pub(crate) const fn name_col() -> Column {
    Column {
        name: "Name",
        typ: "string",
        format: "name",
        description: docs::META_NAME,
        priority: 0,
    }
}

pub(crate) const AGE: Column = col("Age", "string", docs::META_CREATED);

/// Columns of upstream's default table convertor (resources without a printer).
pub const DEFAULT_COLUMNS: &[Column] = &[name_col(), col("Created At", "date", docs::META_CREATED)];

pub(crate) type Cells = fn(&Value, util::Time) -> Vec<Value>;

fn default_cells(v: &Value, _now: util::Time) -> Vec<Value> {
    vec![
        json!(util::name(v)),
        json!(util::format_rfc3339(util::time_at(
            v,
            &["metadata", "creationTimestamp"]
        ))),
    ]
}

/// The printer of a resource: its columns and cell function. `None`: the default table.
fn printer(resource: &Resource) -> Option<(&'static [Column], Cells)> {
    use self::core as c;
    use cluster as k;
    use other as o;
    use workloads as w;
    let p: (&'static [Column], Cells) = match (resource.group, resource.plural) {
        ("", "pods") => (pods::COLUMNS, pods::cells),
        ("", "podtemplates") => (w::PODTEMPLATE_COLUMNS, w::podtemplate_cells),
        ("", "replicationcontrollers") => (w::RC_COLUMNS, w::rc_cells),
        ("", "services") => (c::SERVICE_COLUMNS, c::service_cells),
        ("", "endpoints") => (c::ENDPOINTS_COLUMNS, c::endpoints_cells),
        ("", "nodes") => (c::NODE_COLUMNS, c::node_cells),
        ("", "events") | ("events.k8s.io", "events") => (c::EVENT_COLUMNS, c::event_cells),
        ("", "namespaces") => (c::NAMESPACE_COLUMNS, c::namespace_cells),
        ("", "secrets") => (c::SECRET_COLUMNS, c::secret_cells),
        ("", "serviceaccounts") => (c::SA_COLUMNS, c::sa_cells),
        ("", "persistentvolumes") => (c::PV_COLUMNS, c::pv_cells),
        ("", "persistentvolumeclaims") => (c::PVC_COLUMNS, c::pvc_cells),
        ("", "componentstatuses") => (c::COMPONENT_COLUMNS, c::component_cells),
        ("", "configmaps") => (c::CONFIGMAP_COLUMNS, c::configmap_cells),
        ("", "resourcequotas") => (c::QUOTA_COLUMNS, c::quota_cells),
        ("apps", "replicasets") => (w::RS_COLUMNS, w::rs_cells),
        ("apps", "deployments") => (w::DEPLOY_COLUMNS, w::deploy_cells),
        ("apps", "daemonsets") => (w::DS_COLUMNS, w::ds_cells),
        ("apps", "statefulsets") => (w::STS_COLUMNS, w::sts_cells),
        ("apps", "controllerrevisions") => (w::REVISION_COLUMNS, w::revision_cells),
        ("batch", "jobs") => (w::JOB_COLUMNS, w::job_cells),
        ("batch", "cronjobs") => (w::CRONJOB_COLUMNS, w::cronjob_cells),
        ("policy", "poddisruptionbudgets") => (w::PDB_COLUMNS, w::pdb_cells),
        ("coordination.k8s.io", "leases") => (o::LEASE_COLUMNS, o::lease_cells),
        ("discovery.k8s.io", "endpointslices") => (o::SLICE_COLUMNS, o::slice_cells),
        ("networking.k8s.io", "ingresses") => (o::INGRESS_COLUMNS, o::ingress_cells),
        ("networking.k8s.io", "ingressclasses") => {
            (o::INGRESS_CLASS_COLUMNS, o::ingress_class_cells)
        }
        ("networking.k8s.io", "networkpolicies") => (o::NETPOL_COLUMNS, o::netpol_cells),
        ("rbac.authorization.k8s.io", "rolebindings") => (o::RB_COLUMNS, o::binding_cells),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => (o::CRB_COLUMNS, o::binding_cells),
        ("scheduling.k8s.io", "priorityclasses") => {
            (k::PRIORITY_CLASS_COLUMNS, k::priority_class_cells)
        }
        ("node.k8s.io", "runtimeclasses") => (k::RUNTIME_CLASS_COLUMNS, k::runtime_class_cells),
        ("storage.k8s.io", "storageclasses") => (k::STORAGE_CLASS_COLUMNS, k::storage_class_cells),
        ("storage.k8s.io", "csidrivers") => (k::CSI_DRIVER_COLUMNS, k::csi_driver_cells),
        ("storage.k8s.io", "csinodes") => (k::CSI_NODE_COLUMNS, k::csi_node_cells),
        ("storage.k8s.io", "csistoragecapacities") => {
            (k::CSI_CAPACITY_COLUMNS, k::csi_capacity_cells)
        }
        ("storage.k8s.io", "volumeattachments") => {
            (k::VOLUME_ATTACHMENT_COLUMNS, k::volume_attachment_cells)
        }
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => {
            (k::FLOW_SCHEMA_COLUMNS, k::flow_schema_cells)
        }
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => {
            (k::PRIORITY_LEVEL_COLUMNS, k::priority_level_cells)
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => {
            (k::ADMISSION_POLICY_COLUMNS, k::admission_policy_cells)
        }
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => {
            (k::POLICY_BINDING_COLUMNS, k::policy_binding_cells)
        }
        ("certificates.k8s.io", "certificatesigningrequests") => (k::CSR_COLUMNS, k::csr_cells),
        ("autoscaling", "horizontalpodautoscalers") => {
            (autoscaling::HPA_COLUMNS, autoscaling::hpa_cells)
        }
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations")
        | ("admissionregistration.k8s.io", "mutatingwebhookconfigurations") => {
            (registration::WEBHOOK_COLUMNS, registration::webhook_cells)
        }
        ("apiregistration.k8s.io", "apiservices") => (
            registration::API_SERVICE_COLUMNS,
            registration::api_service_cells,
        ),
        _ => return None,
    };
    Some(p)
}

/// Whether `resource` has a dedicated printer (otherwise: the default Name/Created At table).
pub fn has_printer(resource: &Resource) -> bool {
    resource.custom.is_some() || printer(resource).is_some()
}

fn column_defs(resource: &Resource) -> &'static [Column] {
    printer(resource).map_or(DEFAULT_COLUMNS, |p| p.0)
}

/// The `columnDefinitions` of `resource`'s table.
pub fn columns(resource: &Resource) -> Vec<Value> {
    if let Some(c) = resource.custom {
        return crate::crd::columns::definitions(&c.columns);
    }
    column_defs(resource).iter().map(Column::to_json).collect()
}

/// The cells of one object's row (one per column, wide ones included). Never panics,
/// whatever the JSON: missing or mistyped fields print as upstream prints zero values.
pub fn row_cells(resource: &Resource, obj: &Value, now: SystemTime) -> Vec<Value> {
    let now = util::from_system(now);
    if let Some(c) = resource.custom {
        return crate::crd::columns::cells(&c.columns, obj, now);
    }
    match printer(resource) {
        Some((_, cells)) => cells(obj, now),
        None => default_cells(obj, now),
    }
}

/// The row `conditions` upstream sets (pods that have completed), if any.
pub fn row_conditions(resource: &Resource, obj: &Value) -> Option<Value> {
    match (resource.group, resource.plural) {
        ("", "pods") => pods::conditions(obj),
        _ => None,
    }
}

/// The `includeObject` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `"object": null`.
    None,
    /// A `PartialObjectMetadata` (the default).
    #[default]
    Metadata,
    /// The full object.
    Object,
}

impl IncludeObject {
    /// Parse the query value; the error is upstream's BadRequest message.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(format!(
                "Unable to convert to Table as requested: includeObject: Invalid value: {}: must be 'Metadata', 'Object', 'None', or empty",
                go_quote(other)
            )),
        }
    }
}

fn row_object(obj: &Value, include: IncludeObject) -> Value {
    match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Object => obj.clone(),
        IncludeObject::Metadata => {
            let metadata = obj
                .get("metadata")
                .filter(|m| m.is_object())
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new()));
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            })
        }
    }
}

/// One `TableRow`: cells, conditions (when set) and the object.
pub fn row(resource: &Resource, obj: &Value, include: IncludeObject, now: SystemTime) -> Value {
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(row_cells(resource, obj, now)));
    if let Some(c) = row_conditions(resource, obj) {
        r.insert("conditions".into(), c);
    }
    r.insert("object".into(), row_object(obj, include));
    Value::Object(r)
}

/// The full `meta.k8s.io/v1` Table for `objects` (one for a get, the items for a list).
/// `list_metadata` is the Table's `metadata` (`resourceVersion`, `continue`,
/// `remainingItemCount`); anything but an object becomes `{}`.
pub fn table(
    resource: &Resource,
    objects: &[&Value],
    include_object: IncludeObject,
    list_metadata: Value,
    now: SystemTime,
) -> Value {
    let metadata = if list_metadata.is_object() {
        list_metadata
    } else {
        Value::Object(Map::new())
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| row(resource, o, include_object, now))
        .collect();
    // The default convertor appends to a nil slice: no rows encode as null upstream.
    let rows = if rows.is_empty() && !has_printer(resource) {
        Value::Null
    } else {
        Value::Array(rows)
    };
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": columns(resource),
        "rows": rows,
    })
}
