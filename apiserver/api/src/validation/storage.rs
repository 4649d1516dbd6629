//! PersistentVolumeClaims and PersistentVolumes.

use super::container::validate_quantity_value;
use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    immutable, validate_label_selector, validate_object_meta, validate_object_meta_update,
};
use super::names::{check_name, NameRule};
use super::pod::semantic_eq;
use super::quantity::Quantity;
use super::util::{arr, has, obj, s};
use crate::status::Cause;
use serde_json::Value;

pub const ACCESS_MODES: &[&str] = &[
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// `ValidatePersistentVolumeClaimSpec`.
pub fn validate_pvc_spec(spec: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        out.push(required(
            &path.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    if let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) {
        out.extend(validate_label_selector(sel, &path.child("selector")));
    }
    let (mut rwop, mut other) = (false, false);
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            out.push(not_supported(&path.child("accessModes"), m, ACCESS_MODES));
        }
        if m == "ReadWriteOncePod" {
            rwop = true;
        } else if ACCESS_MODES.contains(&m) {
            other = true;
        }
    }
    if rwop && other {
        out.push(forbidden(
            &path.child("accessModes"),
            "may not use ReadWriteOncePod with other access modes",
        ));
    }
    let sp = path.child("resources").key("storage");
    match spec
        .get("resources")
        .and_then(|r| r.get("requests"))
        .and_then(|r| r.get("storage"))
    {
        None => out.push(required(&sp, "")),
        Some(q) => {
            if let Some(qq) = Quantity::from_json(q) {
                if qq.sign() <= 0 {
                    out.push(invalid(&sp, qq.canonical(), "must be greater than zero"));
                }
            }
        }
    }
    if let Some(sc) = spec.get("storageClassName").and_then(Value::as_str) {
        if !sc.is_empty() {
            for m in check_name(NameRule::Subdomain, sc, false) {
                out.push(invalid(&path.child("storageClassName"), sc, &m));
            }
        }
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(not_supported(
                &path.child("volumeMode"),
                vm,
                &["Block", "Filesystem"],
            ));
        }
    }
    out
}

/// `ValidatePersistentVolumeClaim` (+ update rules).
pub fn validate_pvc(pvc: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(pvc, old));
    }
    out.extend(validate_object_meta(pvc, true, NameRule::Subdomain));
    let null = Value::Null;
    out.extend(validate_pvc_spec(
        pvc.get("spec").unwrap_or(&null),
        &Path::new("spec"),
    ));
    if let Some(old) = old {
        let mut ns = pvc.get("spec").cloned().unwrap_or(Value::Null);
        let os = old.get("spec").cloned().unwrap_or(Value::Null);
        if s(&os, "volumeName").is_empty() {
            if let Some(m) = ns.as_object_mut() {
                match os.get("volumeName") {
                    Some(v) => m.insert("volumeName".into(), v.clone()),
                    None => m.remove("volumeName"),
                };
            }
        }
        let bound = pvc.get("status").map(|st| s(st, "phase")) == Some("Bound");
        if bound {
            if let (Some(m), Some(storage)) = (
                ns.get_mut("resources")
                    .and_then(|r| r.get_mut("requests"))
                    .and_then(Value::as_object_mut),
                os.get("resources")
                    .and_then(|r| r.get("requests"))
                    .and_then(|r| r.get("storage")),
            ) {
                m.insert("storage".into(), storage.clone());
            }
            if let Some(m) = ns.as_object_mut() {
                match os.get("volumeAttributesClassName") {
                    Some(v) => m.insert("volumeAttributesClassName".into(), v.clone()),
                    None => m.remove("volumeAttributesClassName"),
                };
            }
        }
        if !semantic_eq(&ns, &os) {
            out.push(forbidden(
                &Path::new("spec"),
                "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n",
            ));
        }
        let q = |v: &Value| {
            v.get("spec")
                .and_then(|sp| sp.get("resources"))
                .and_then(|r| r.get("requests"))
                .and_then(|r| r.get("storage"))
                .and_then(Quantity::from_json)
        };
        if let (Some(n), Some(o)) = (q(pvc), q(old)) {
            if n.compare(&o) == std::cmp::Ordering::Less {
                let cap = old
                    .get("status")
                    .and_then(|st| st.get("capacity"))
                    .and_then(|c| c.get("storage"))
                    .and_then(Quantity::from_json);
                if cap.is_none_or(|c| n.compare(&c) != std::cmp::Ordering::Greater) {
                    out.push(forbidden(
                        &Path::new("spec.resources.requests.storage"),
                        "field can not be less than status.capacity",
                    ));
                }
            }
        }
        out.extend(immutable(
            pvc.get("spec").and_then(|sp| sp.get("volumeMode")),
            old.get("spec").and_then(|sp| sp.get("volumeMode")),
            Bad::Raw(format!(
                "\"{}\"",
                pvc.get("spec")
                    .map(|sp| s(sp, "volumeMode"))
                    .unwrap_or_default()
            )),
            &Path::new("volumeMode"),
        ));
    }
    out
}

pub const PV_SOURCES: &[&str] = &[
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "hostPath",
    "glusterfs",
    "nfs",
    "rbd",
    "iscsi",
    "cinder",
    "cephfs",
    "fc",
    "flocker",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "local",
    "storageos",
    "csi",
];

/// `ValidatePersistentVolume` (light).
pub fn validate_pv(pv: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(pv, old));
    }
    out.extend(validate_object_meta(pv, false, NameRule::Subdomain));
    let null = Value::Null;
    let spec = pv.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let modes = arr(spec, "accessModes");
    if modes.is_empty() {
        out.push(required(&sp.child("accessModes"), ""));
    }
    for m in modes {
        let m = m.as_str().unwrap_or_default();
        if !ACCESS_MODES.contains(&m) {
            out.push(not_supported(&sp.child("accessModes"), m, ACCESS_MODES));
        }
    }
    match obj(spec, "capacity") {
        None => out.push(required(&sp.child("capacity"), "")),
        Some(c) => {
            if !c.contains_key("storage") || c.len() > 1 {
                out.push(not_supported(
                    &sp.child("capacity"),
                    Bad::Raw(super::util::go_struct(
                        "core.ResourceList",
                        &Value::Object(c.clone()),
                    )),
                    &["storage"],
                ));
            }
            for (k, v) in c {
                out.extend(validate_quantity_value(k, v, &sp.child("capacity").key(k)));
            }
        }
    }
    if let Some(p) = spec
        .get("persistentVolumeReclaimPolicy")
        .and_then(Value::as_str)
    {
        if !["Delete", "Recycle", "Retain"].contains(&p) {
            out.push(not_supported(
                &sp.child("persistentVolumeReclaimPolicy"),
                p,
                &["Delete", "Recycle", "Retain"],
            ));
        }
    }
    let mut n = 0;
    for src in PV_SOURCES {
        if has(spec, src) {
            if n > 0 {
                out.push(forbidden(
                    &sp.child(src),
                    "may not specify more than 1 volume type",
                ));
            }
            n += 1;
        }
    }
    if n == 0 {
        out.push(required(&sp, "must specify a volume type"));
    }
    if let Some(vm) = spec.get("volumeMode").and_then(Value::as_str) {
        if vm != "Block" && vm != "Filesystem" {
            out.push(not_supported(
                &sp.child("volumeMode"),
                vm,
                &["Block", "Filesystem"],
            ));
        }
    }
    out
}
