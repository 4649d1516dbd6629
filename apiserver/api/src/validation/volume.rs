//! Pod volumes (`ValidateVolumes`, `validateVolumeSource`).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::container::{
    local_non_reserved_path, no_backsteps, validate_object_field_selector, validate_pull_policy,
    validate_resource_field_selector,
};
use super::field::{duplicate, forbidden, invalid, required, Path};
use super::names::is_dns1123_label;
use super::quantity::Quantity;
use super::util::{arr, has, int, s};
use crate::status::Cause;

const FILE_MODE_ERROR: &str = "must be a number between 0 and 0777 (octal), both inclusive";

/// Volume source keys in upstream's checking order, with the path name upstream uses in
/// its "more than 1 volume type" error.
const SOURCES: &[(&str, &str)] = &[
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
];

const VOLUME_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

/// `ValidateVolumes`: the valid volumes by name, and the errors.
pub fn validate_volumes(volumes: &[Value], path: &Path) -> (HashMap<String, Value>, Vec<Cause>) {
    let mut out = Vec::new();
    let mut names = HashSet::new();
    let mut valid = HashMap::new();
    for (i, vol) in volumes.iter().enumerate() {
        let p = path.index(i);
        let name = s(vol, "name");
        let name_path = p.child("name");
        let mut el = validate_volume_source(vol, &p);
        if name.is_empty() {
            el.push(required(&name_path, ""));
        } else {
            for m in is_dns1123_label(name) {
                el.push(invalid(&name_path, name, &m));
            }
        }
        if names.contains(name) {
            el.push(duplicate(&name_path, name));
        }
        if el.is_empty() {
            names.insert(name.to_string());
            valid.insert(name.to_string(), vol.clone());
        } else {
            out.extend(el);
        }
    }
    (valid, out)
}

fn file_mode(v: &Value, key: &str, path: &Path, out: &mut Vec<Cause>) {
    if let Some(m) = int(v, key) {
        if !(0..=0o777).contains(&m) {
            out.push(invalid(&path.child(key), m, FILE_MODE_ERROR));
        }
    }
}

fn key_to_path(kp: &Value, path: &Path, out: &mut Vec<Cause>) {
    if s(kp, "key").is_empty() {
        out.push(required(&path.child("key"), ""));
    }
    let p = s(kp, "path");
    if p.is_empty() {
        out.push(required(&path.child("path"), ""));
    }
    out.extend(local_non_reserved_path(p, &path.child("path")));
    file_mode(kp, "mode", path, out);
}

fn validate_volume_source(vol: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut n = 0;
    for &(key, err_name) in SOURCES {
        let Some(src) = vol.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        if n > 0 {
            out.push(forbidden(
                &path.child(err_name),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        n += 1;
        let p = path.child(key);
        match key {
            "emptyDir" => {
                if let Some(q) = src.get("sizeLimit").and_then(Quantity::from_json) {
                    if q.is_negative() {
                        out.push(forbidden(
                            &p.child("sizeLimit"),
                            "SizeLimit field must be a valid resource quantity",
                        ));
                    }
                }
            }
            "hostPath" => {
                let hp = s(src, "path");
                if hp.is_empty() {
                    out.push(required(&p.child("path"), ""));
                } else {
                    out.extend(no_backsteps(hp, &p.child("path")));
                    if let Some(t) = src.get("type").and_then(Value::as_str) {
                        let valid = [
                            "",
                            "BlockDevice",
                            "CharDevice",
                            "Directory",
                            "DirectoryOrCreate",
                            "File",
                            "FileOrCreate",
                            "Socket",
                        ];
                        if !valid.contains(&t) {
                            out.push(super::field::not_supported(&p.child("type"), t, &valid));
                        }
                    }
                }
            }
            "secret" => {
                if s(src, "secretName").is_empty() {
                    out.push(required(&p.child("secretName"), ""));
                }
                file_mode(src, "defaultMode", &p, &mut out);
                for (j, kp) in arr(src, "items").iter().enumerate() {
                    key_to_path(kp, &p.child("items").index(j), &mut out);
                }
            }
            "configMap" => {
                if s(src, "name").is_empty() {
                    out.push(required(&p.child("name"), ""));
                }
                file_mode(src, "defaultMode", &p, &mut out);
                for (j, kp) in arr(src, "items").iter().enumerate() {
                    key_to_path(kp, &p.child("items").index(j), &mut out);
                }
            }
            "persistentVolumeClaim" if s(src, "claimName").is_empty() => {
                out.push(required(&p.child("claimName"), ""));
            }
            "nfs" => {
                if s(src, "server").is_empty() {
                    out.push(required(&p.child("server"), ""));
                }
                let np = s(src, "path");
                if np.is_empty() {
                    out.push(required(&p.child("path"), ""));
                }
                if !np.starts_with('/') {
                    out.push(invalid(&p.child("path"), np, "must be an absolute path"));
                }
            }
            "gitRepo" => {
                if s(src, "repository").is_empty() {
                    out.push(required(&p.child("repository"), ""));
                }
                out.extend(super::container::local_descending_path(
                    s(src, "directory"),
                    &p.child("directory"),
                ));
            }
            "downwardAPI" => {
                file_mode(src, "defaultMode", &p, &mut out);
                for item in arr(src, "items") {
                    out.extend(downward_api_file(item, &p));
                }
            }
            "projected" => out.extend(validate_projected(src, &p)),
            "csi" if s(src, "driver").is_empty() => {
                out.push(required(&p.child("driver"), ""));
            }
            "ephemeral" if !has(src, "volumeClaimTemplate") => {
                out.push(required(&p.child("volumeClaimTemplate"), ""));
            }
            "image" => {
                out.extend(validate_pull_policy(
                    s(src, "pullPolicy"),
                    &p.child("pullPolicy"),
                ));
            }
            _ => {}
        }
    }
    if n == 0 {
        out.push(required(path, "must specify a volume type"));
    }
    out
}

fn downward_api_file(file: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let fp = s(file, "path");
    if fp.is_empty() {
        out.push(required(&path.child("path"), ""));
    }
    out.extend(local_non_reserved_path(fp, &path.child("path")));
    if let Some(fr) = file.get("fieldRef").filter(|v| !v.is_null()) {
        out.extend(validate_object_field_selector(
            fr,
            VOLUME_FIELD_PATHS,
            &path.child("fieldRef"),
        ));
        if has(file, "resourceFieldRef") {
            out.push(invalid(
                path,
                "resource",
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(rf) = file.get("resourceFieldRef").filter(|v| !v.is_null()) {
        out.extend(validate_resource_field_selector(
            rf,
            true,
            &path.child("resourceFieldRef"),
        ));
    } else {
        out.push(required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    file_mode(file, "mode", path, &mut out);
    out
}

fn validate_projected(src: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    file_mode(src, "defaultMode", path, &mut out);
    let mut all_paths = HashSet::new();
    for (i, source) in arr(src, "sources").iter().enumerate() {
        let sp = path.child("sources").index(i);
        let mut n = 0;
        for key in ["secret", "configMap"] {
            if let Some(r) = source.get(key).filter(|v| !v.is_null()) {
                n += 1;
                let pp = sp.child(key);
                if s(r, "name").is_empty() {
                    out.push(required(&pp.child("name"), ""));
                }
                for (j, kp) in arr(r, "items").iter().enumerate() {
                    key_to_path(kp, &pp.child("items").index(j), &mut out);
                    let kpath = s(kp, "path");
                    if !kpath.is_empty() && !all_paths.insert(kpath.to_string()) {
                        out.push(invalid(path, s(r, "name"), "conflicting duplicate paths"));
                    }
                }
            }
        }
        if let Some(d) = source.get("downwardAPI").filter(|v| !v.is_null()) {
            n += 1;
            let pp = sp.child("downwardAPI");
            for item in arr(d, "items") {
                out.extend(downward_api_file(item, &pp));
                let kpath = s(item, "path");
                if !kpath.is_empty() && !all_paths.insert(kpath.to_string()) {
                    out.push(invalid(path, "", "conflicting duplicate paths"));
                }
            }
        }
        if let Some(t) = source.get("serviceAccountToken").filter(|v| !v.is_null()) {
            n += 1;
            let pp = sp.child("serviceAccountToken");
            if let Some(exp) = int(t, "expirationSeconds") {
                if exp < 10 * 60 {
                    out.push(invalid(
                        &pp.child("expirationSeconds"),
                        exp,
                        "may not specify a duration less than 10 minutes",
                    ));
                }
                if exp > 1 << 32 {
                    out.push(invalid(
                        &pp.child("expirationSeconds"),
                        exp,
                        "may not specify a duration larger than 2^32 seconds",
                    ));
                }
            }
            let tp = s(t, "path");
            if tp.is_empty() {
                out.push(required(&pp.child("path"), ""));
            }
        }
        if source
            .get("clusterTrustBundle")
            .is_some_and(|v| !v.is_null())
        {
            n += 1;
        }
        if n > 1 {
            out.push(forbidden(
                &sp,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
    out
}
