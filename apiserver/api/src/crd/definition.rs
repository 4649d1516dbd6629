//! The CustomResourceDefinition kind itself: defaults, the create/update strategy
//! (status reset, storedVersions) and validation with upstream's messages.

use serde_json::{json, Value};

use crate::status::Cause;
use crate::validation::field::{duplicate, forbidden, invalid, not_supported, required, Bad, Path};
use crate::validation::names::{is_dns1035_label, is_dns1123_subdomain};

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

fn arr<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    v.pointer(path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Upstream's v1 defaults: singular and listKind from the kind, conversion None.
pub fn apply_defaults(crd: &mut Value) {
    let Some(spec) = crd.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if names
            .get("singular")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
            && !kind.is_empty()
        {
            names.insert("singular".into(), json!(kind.to_lowercase()));
        }
        if names
            .get("listKind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
            && !kind.is_empty()
        {
            names.insert("listKind".into(), json!(format!("{kind}List")));
        }
    }
    let conversion = spec.entry("conversion").or_insert_with(|| json!({}));
    if let Some(c) = conversion.as_object_mut() {
        c.entry("strategy").or_insert(json!("None"));
    }
    if let Some(versions) = spec.get_mut("versions").and_then(Value::as_array_mut) {
        for v in versions {
            for col in v
                .get_mut("additionalPrinterColumns")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if let Some(c) = col.as_object_mut() {
                    c.entry("priority").or_insert(json!(0));
                }
            }
        }
    }
}

/// The status a new CRD starts with: no names accepted yet, its storage version stored.
pub fn prepare_create(crd: &mut Value) {
    let stored: Vec<Value> = super::storage_version(crd)
        .map(|v| json!(v))
        .into_iter()
        .collect();
    crd["status"] = json!({"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": stored});
    if let Some(meta) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("generation".into(), json!(1));
    }
}

/// Updates keep the status (it is a subresource), bump the generation on spec changes
/// and record a new storage version in storedVersions.
pub fn prepare_update(crd: &mut Value, old: &Value) {
    crd["status"] = old.get("status").cloned().unwrap_or(json!({}));
    let old_gen = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let changed = crd.get("spec") != old.get("spec");
    if let Some(meta) = crd.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert(
            "generation".into(),
            json!(if changed { old_gen + 1 } else { old_gen }),
        );
    }
    add_stored_version(crd);
}

/// The storage version joins `status.storedVersions` (upstream's strategy does it on
/// every write).
pub fn add_stored_version(crd: &mut Value) {
    let Some(v) = super::storage_version(crd).map(str::to_string) else {
        return;
    };
    if !crd.get("status").is_some_and(Value::is_object) {
        crd["status"] = json!({});
    }
    let list = crd["status"]
        .as_object_mut()
        .map(|m| m.entry("storedVersions").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = list {
        if !list.iter().any(|x| x == &json!(v)) {
            list.push(json!(v));
        }
    }
}

/// Validate a CRD on create (`old` None) or update.
pub fn validate(crd: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out =
        crate::validation::validate_meta(crd, old, false, crate::validation::NameRule::Subdomain);
    let spec_path = Path::new("spec");
    let group = s(crd, "/spec/group");
    let plural = s(crd, "/spec/names/plural");
    let name = s(crd, "/metadata/name");
    if name != format!("{plural}.{group}") {
        out.push(invalid(
            &Path::new("metadata.name"),
            name,
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        out.push(required(&spec_path.child("group"), ""));
    } else if let Some(e) = is_dns1123_subdomain(group).first() {
        out.push(invalid(&spec_path.child("group"), group, e));
    } else if group.split('.').count() < 2 {
        out.push(invalid(
            &spec_path.child("group"),
            group,
            "should be a domain with at least one dot",
        ));
    }
    match s(crd, "/spec/scope") {
        "" => out.push(required(&spec_path.child("scope"), "")),
        "Cluster" | "Namespaced" => {}
        other => out.push(not_supported(
            &spec_path.child("scope"),
            other,
            &["Cluster", "Namespaced"],
        )),
    }
    out.extend(validate_names(
        crd.pointer("/spec/names").unwrap_or(&Value::Null),
        &spec_path.child("names"),
    ));
    out.extend(validate_versions(crd, &spec_path));
    match s(crd, "/spec/conversion/strategy") {
        "" | "None" => {}
        "Webhook" => {
            if crd
                .pointer("/spec/conversion/webhook/clientConfig")
                .is_none()
            {
                out.push(required(
                    &spec_path.at(&["conversion", "webhook", "clientConfig"]),
                    "required when strategy is set to Webhook",
                ));
            }
        }
        other => out.push(not_supported(
            &spec_path.at(&["conversion", "strategy"]),
            other,
            &["None", "Webhook"],
        )),
    }
    if let Some(old) = old {
        out.extend(validate_update(crd, old));
    }
    out
}

fn validate_names(names: &Value, path: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let mut dns_label = |field: &str, value: &str, lower: bool| {
        if value.is_empty() {
            return;
        }
        let checked = if lower {
            value.to_lowercase()
        } else {
            value.to_string()
        };
        let errs = is_dns1035_label(&checked);
        if !errs.is_empty() {
            out.push(invalid(&path.child(field), value, &errs.join(",")));
        }
    };
    dns_label("plural", s(names, "/plural"), false);
    dns_label("singular", s(names, "/singular"), false);
    dns_label("kind", s(names, "/kind"), true);
    dns_label("listKind", s(names, "/listKind"), true);
    for (i, short) in arr(names, "/shortNames").iter().enumerate() {
        let v = short.as_str().unwrap_or("");
        let errs = is_dns1035_label(v);
        if !errs.is_empty() {
            out.push(invalid(
                &path.child("shortNames").index(i),
                v,
                &errs.join(","),
            ));
        }
    }
    for (i, cat) in arr(names, "/categories").iter().enumerate() {
        let v = cat.as_str().unwrap_or("");
        let errs = is_dns1035_label(v);
        if !errs.is_empty() {
            out.push(invalid(
                &path.child("categories").index(i),
                v,
                &errs.join(","),
            ));
        }
    }
    if s(names, "/plural").is_empty() {
        out.push(required(&path.child("plural"), ""));
    }
    if s(names, "/singular").is_empty() {
        out.push(required(&path.child("singular"), ""));
    }
    let kind = s(names, "/kind");
    if kind.is_empty() {
        out.push(required(&path.child("kind"), ""));
    }
    let list_kind = s(names, "/listKind");
    if list_kind.is_empty() {
        out.push(required(&path.child("listKind"), ""));
    } else if list_kind == kind {
        out.push(invalid(
            &path.child("listKind"),
            list_kind,
            "kind and listKind may not be the same or parsing become ambiguous",
        ));
    }
    out
}

fn validate_versions(crd: &Value, spec: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    let versions = arr(crd, "/spec/versions");
    let vpath = spec.child("versions");
    if versions.is_empty() {
        out.push(invalid(
            &vpath,
            Bad::Raw("null".into()),
            "must have exactly one version marked as storage version",
        ));
        return out;
    }
    let storage = versions
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if storage != 1 {
        out.push(invalid(
            &vpath,
            Bad::Raw(render_versions(versions)),
            "must have exactly one version marked as storage version",
        ));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (i, v) in versions.iter().enumerate() {
        let p = vpath.index(i);
        let name = s(v, "/name");
        if seen.contains(&name) {
            out.push(duplicate(&p.child("name"), name));
        }
        seen.push(name);
        if name.is_empty() {
            out.push(required(&p.child("name"), ""));
        } else {
            let errs = is_dns1035_label(name);
            if !errs.is_empty() {
                out.push(invalid(&p.child("name"), name, &errs.join(",")));
            }
        }
        match v.pointer("/schema/openAPIV3Schema") {
            None => out.push(required(
                &p.at(&["schema", "openAPIV3Schema"]),
                "schemas are required",
            )),
            Some(schema) => out.extend(structural(
                schema,
                &p.at(&["schema", "openAPIV3Schema"]),
                true,
            )),
        }
        if let Some(scale) = v.pointer("/subresources/scale") {
            let sp = p.at(&["subresources", "scale"]);
            let spec_path = s(scale, "/specReplicasPath");
            if spec_path.is_empty() {
                out.push(required(&sp.child("specReplicasPath"), ""));
            } else if !spec_path.starts_with(".spec.") {
                out.push(invalid(
                    &sp.child("specReplicasPath"),
                    spec_path,
                    "should be a json path under .spec",
                ));
            }
            let status_path = s(scale, "/statusReplicasPath");
            if status_path.is_empty() {
                out.push(required(&sp.child("statusReplicasPath"), ""));
            } else if !status_path.starts_with(".status.") {
                out.push(invalid(
                    &sp.child("statusReplicasPath"),
                    status_path,
                    "should be a json path under .status",
                ));
            }
        }
        for (j, col) in arr(v, "/additionalPrinterColumns").iter().enumerate() {
            let cp = p.child("additionalPrinterColumns").index(j);
            if s(col, "/name").is_empty() {
                out.push(required(&cp.child("name"), ""));
            }
            match s(col, "/type") {
                "" => out.push(required(&cp.child("type"), "")),
                "integer" | "number" | "string" | "boolean" | "date" => {}
                other => out.push(not_supported(
                    &cp.child("type"),
                    other,
                    &["integer", "number", "string", "boolean", "date"],
                )),
            }
            if s(col, "/jsonPath").is_empty() {
                out.push(required(&cp.child("jsonPath"), ""));
            }
        }
    }
    out
}

/// `[]apiextensions.CustomResourceDefinitionVersion{...}`, shortened to the names and
/// flags that decide the error.
fn render_versions(versions: &[Value]) -> String {
    let items: Vec<String> = versions
        .iter()
        .map(|v| {
            format!(
                "apiextensions.CustomResourceDefinitionVersion{{Name:\"{}\", Served:{}, Storage:{}}}",
                s(v, "/name"),
                v.get("served").and_then(Value::as_bool).unwrap_or(false),
                v.get("storage").and_then(Value::as_bool).unwrap_or(false)
            )
        })
        .collect();
    format!(
        "[]apiextensions.CustomResourceDefinitionVersion{{{}}}",
        items.join(", ")
    )
}

/// The structural-schema checks of the common cases: every node has a type (unless it
/// preserves unknown fields or is int-or-string), arrays have items, and the root
/// declares only what a custom resource may have at its metadata.
fn structural(schema: &Value, path: &Path, root: bool) -> Vec<Cause> {
    let mut out = Vec::new();
    walk(schema, path, root, 0, &mut out);
    out
}

fn walk(schema: &Value, path: &Path, root: bool, depth: usize, out: &mut Vec<Cause>) {
    if depth > 64 {
        return;
    }
    let flag = |k: &str| schema.get(k).and_then(Value::as_bool) == Some(true);
    let typ = s(schema, "/type");
    if root {
        if typ.is_empty() {
            out.push(required(
                &path.child("type"),
                "must not be empty at the root",
            ));
        } else if typ != "object" {
            out.push(invalid(
                &path.child("type"),
                typ,
                "must be object at the root",
            ));
        }
        if let Some(meta) = schema.pointer("/properties/metadata") {
            let extra = meta.as_object().is_some_and(|m| {
                m.keys()
                    .any(|k| !matches!(k.as_str(), "type" | "properties" | "description"))
            }) || meta
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.keys().any(|k| k != "name" && k != "generateName"));
            if extra {
                out.push(forbidden(&path.at(&["properties[metadata]"]), "must not specify anything other than name and generateName, but metadata is implicitly specified"));
            }
        }
    } else if typ.is_empty()
        && !flag("x-kubernetes-preserve-unknown-fields")
        && !flag("x-kubernetes-int-or-string")
    {
        out.push(required(
            &path.child("type"),
            "must not be empty for specified object fields",
        ));
    }
    match typ {
        "" | "object" | "array" | "string" | "integer" | "number" | "boolean" => {}
        other => out.push(not_supported(
            &path.child("type"),
            other,
            &["array", "boolean", "integer", "number", "object", "string"],
        )),
    }
    if typ == "array" && schema.get("items").is_none() {
        out.push(required(&path.child("items"), "must be specified"));
    }
    if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
        if regex::Regex::new(p).is_err() {
            out.push(invalid(
                &path.child("pattern"),
                p,
                "must be a valid regular expression",
            ));
        }
    }
    if schema.get("additionalProperties").is_some() && schema.get("properties").is_some() {
        out.push(forbidden(
            &path.child("additionalProperties"),
            "additionalProperties and properties are mutual exclusive",
        ));
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            if root && k == "metadata" {
                continue;
            }
            walk(
                v,
                &Path::new(&format!("{path}.properties[{k}]")),
                false,
                depth + 1,
                out,
            );
        }
    }
    if let Some(items) = schema.get("items").filter(|i| i.is_object()) {
        walk(items, &path.child("items"), false, depth + 1, out);
    }
    if let Some(ap) = schema.get("additionalProperties").filter(|i| i.is_object()) {
        walk(
            ap,
            &path.child("additionalProperties"),
            false,
            depth + 1,
            out,
        );
    }
}

fn validate_update(crd: &Value, old: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let spec = Path::new("spec");
    for (field, ptr) in [
        ("group", "/spec/group"),
        ("names.plural", "/spec/names/plural"),
    ] {
        let (new, was) = (s(crd, ptr), s(old, ptr));
        if new != was {
            let mut p = spec.clone();
            for part in field.split('.') {
                p = p.child(part);
            }
            out.push(invalid(&p, new, "field is immutable"));
        }
    }
    let versions: Vec<&str> = arr(crd, "/spec/versions")
        .iter()
        .map(|v| s(v, "/name"))
        .collect();
    for (i, stored) in arr(old, "/status/storedVersions").iter().enumerate() {
        let v = stored.as_str().unwrap_or("");
        if !versions.contains(&v) {
            out.push(invalid(
                &Path::new("status.storedVersions").index(i),
                v,
                "must appear in spec.versions",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(crd: &Value) -> Vec<String> {
        validate(crd, None).into_iter().map(|c| c.message).collect()
    }

    #[test]
    fn a_valid_crd_passes_and_mistakes_are_named() {
        let mut crd = crate::crd::tests::crontab_crd();
        crd["spec"]["versions"][1]["schema"] = json!({"openAPIV3Schema": {"type": "object"}});
        apply_defaults(&mut crd);
        assert_eq!(messages(&crd), Vec::<String>::new());
        assert_eq!(crd["spec"]["conversion"]["strategy"], "None");
        let mut bad = crd.clone();
        bad["metadata"]["name"] = json!("crontab.stable.example.com");
        bad["spec"]["versions"][1]["storage"] = json!(true);
        bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
            ["properties"]["x"] = json!({"description": "no type"});
        let m = messages(&bad);
        assert!(m[0].starts_with("metadata.name: Invalid value: \"crontab.stable.example.com\": must be spec.names.plural"), "{m:?}");
        assert!(
            m.iter()
                .any(|x| x.ends_with("must have exactly one version marked as storage version")),
            "{m:?}"
        );
        assert!(m.iter().any(|x| x == "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[x].type: Required value: must not be empty for specified object fields"), "{m:?}");
        let mut nodot = crd.clone();
        nodot["spec"]["group"] = json!("example");
        nodot["metadata"]["name"] = json!("crontabs.example");
        assert_eq!(
            messages(&nodot),
            ["spec.group: Invalid value: \"example\": should be a domain with at least one dot"]
        );
    }
}
