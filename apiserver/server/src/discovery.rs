//! Discovery documents: legacy (`/api`, `/api/v1`, `/apis`, `/apis/{g}`, `/apis/{g}/{v}`)
//! and aggregated (`as=APIGroupDiscoveryList`, v2 and v2beta1).

use base64::Engine as _;
use rkube_api::resources::{self, GroupVersion, Resource};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Upstream's storageVersionHash: the first 8 bytes of sha256("group/version/kind") of
/// the version objects are stored in.
fn storage_version_hash(r: &Resource) -> String {
    let stored = r.storage_version();
    let digest = Sha256::digest(format!("{}/{}/{}", stored.group, stored.version, r.kind));
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn legacy_resource(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(r.plural));
    m.insert("singularName".into(), json!(r.singular));
    m.insert("namespaced".into(), json!(r.namespaced));
    m.insert("kind".into(), json!(r.kind));
    m.insert("verbs".into(), json!(r.verbs));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    if r.is_stored() {
        m.insert("storageVersionHash".into(), json!(storage_version_hash(r)));
    }
    Value::Object(m)
}

fn legacy_subresource(r: &Resource, s: &rkube_api::Subresource) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(format!("{}/{}", r.plural, s.name)));
    m.insert("singularName".into(), json!(""));
    m.insert("namespaced".into(), json!(r.namespaced));
    if !s.group.is_empty() {
        m.insert("group".into(), json!(s.group));
        m.insert("version".into(), json!(s.version));
    }
    m.insert("kind".into(), json!(s.kind));
    m.insert("verbs".into(), json!(s.verbs));
    Value::Object(m)
}

/// The served group-versions: the built-in ones in discovery order, then those of
/// custom resources (groups by name, versions by priority, as upstream's aggregator
/// orders the CRD groups it registers at priority 1000).
fn group_versions(custom: &[&'static Resource]) -> Vec<GroupVersion> {
    let mut out = resources::group_versions();
    for r in custom {
        let gv = r.group_version();
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

/// Resources of one group-version, built-in or custom.
fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
    custom: &'a [&'static Resource],
) -> impl Iterator<Item = &'static Resource> + 'a {
    resources::in_group_version(group, version).chain(
        custom
            .iter()
            .copied()
            .filter(move |r| r.group == group && r.version == version),
    )
}

/// `/api/v1` or `/apis/{g}/{v}`; None for an unknown group-version.
pub fn resource_list(group: &str, version: &str, custom: &[&'static Resource]) -> Option<Value> {
    let mut entries: Vec<(String, Value)> = Vec::new();
    for r in in_group_version(group, version, custom) {
        entries.push((r.plural.to_string(), legacy_resource(r)));
        for s in r.subresources {
            entries.push((format!("{}/{}", r.plural, s.name), legacy_subresource(r, s)));
        }
    }
    if entries.is_empty() {
        return None;
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let list: Vec<Value> = entries.into_iter().map(|(_, v)| v).collect();
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let mut doc = Map::new();
    doc.insert("kind".into(), json!("APIResourceList"));
    if !group.is_empty() {
        doc.insert("apiVersion".into(), json!("v1"));
    }
    doc.insert("groupVersion".into(), json!(gv));
    doc.insert("resources".into(), Value::Array(list));
    Some(Value::Object(doc))
}

/// `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_entry(group: &str, custom: &[&'static Resource]) -> Value {
    let versions: Vec<Value> = group_versions(custom)
        .into_iter()
        .filter(|gv| gv.group == group)
        .map(|gv| json!({"groupVersion": gv.api_version(), "version": gv.version}))
        .collect();
    let preferred = versions[0].clone();
    json!({"name": group, "versions": versions, "preferredVersion": preferred})
}

fn named_groups(custom: &[&'static Resource]) -> Vec<&'static str> {
    let mut groups: Vec<&'static str> = Vec::new();
    for gv in group_versions(custom) {
        if !gv.group.is_empty() && !groups.contains(&gv.group) {
            groups.push(gv.group);
        }
    }
    groups
}

/// `/apis`.
pub fn group_list(custom: &[&'static Resource]) -> Value {
    let groups: Vec<Value> = named_groups(custom)
        .into_iter()
        .map(|g| group_entry(g, custom))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`.
pub fn group(group: &str, custom: &[&'static Resource]) -> Option<Value> {
    if group.is_empty() || !named_groups(custom).contains(&group) {
        return None;
    }
    let mut entry = group_entry(group, custom);
    let obj = entry.as_object_mut()?;
    let mut doc = Map::new();
    doc.insert("kind".into(), json!("APIGroup"));
    doc.insert("apiVersion".into(), json!("v1"));
    doc.append(obj);
    Some(Value::Object(doc))
}

/// The aggregated discovery versions clients may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregated {
    V2,
    V2Beta1,
}

impl Aggregated {
    pub fn content_type(self) -> &'static str {
        match self {
            Aggregated::V2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            Aggregated::V2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Aggregated::V2 => "apidiscovery.k8s.io/v2",
            Aggregated::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }
}

fn aggregated_resource(r: &Resource) -> Value {
    let mut m = Map::new();
    m.insert("resource".into(), json!(r.plural));
    m.insert(
        "responseKind".into(),
        json!({"group": r.group, "version": r.version, "kind": r.kind}),
    );
    m.insert(
        "scope".into(),
        json!(if r.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }),
    );
    m.insert("singularResource".into(), json!(r.singular));
    m.insert("verbs".into(), json!(r.verbs));
    if !r.short_names.is_empty() {
        m.insert("shortNames".into(), json!(r.short_names));
    }
    if !r.categories.is_empty() {
        m.insert("categories".into(), json!(r.categories));
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                let (g, v) = if s.group.is_empty() { (r.group, r.version) } else { (s.group, s.version) };
                json!({"subresource": s.name, "responseKind": {"group": g, "version": v, "kind": s.kind}, "verbs": s.verbs})
            })
            .collect();
        m.insert("subresources".into(), Value::Array(subs));
    }
    Value::Object(m)
}

fn aggregated_group(group: &str, custom: &[&'static Resource]) -> Value {
    let versions: Vec<Value> = group_versions(custom)
        .into_iter()
        .filter(|gv| gv.group == group)
        .map(|gv| {
            let mut rs: Vec<&Resource> = in_group_version(gv.group, gv.version, custom).collect();
            rs.sort_by_key(|r| r.plural);
            let list: Vec<Value> = rs.into_iter().map(aggregated_resource).collect();
            json!({"version": gv.version, "resources": list, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({"creationTimestamp": null})
    } else {
        json!({"name": group, "creationTimestamp": null})
    };
    json!({"metadata": metadata, "versions": versions})
}

/// Aggregated discovery for `/api` (core only) or `/apis` (every named group).
pub fn aggregated(version: Aggregated, core: bool, custom: &[&'static Resource]) -> Value {
    let items: Vec<Value> = if core {
        vec![aggregated_group("", custom)]
    } else {
        named_groups(custom)
            .into_iter()
            .map(|g| aggregated_group(g, custom))
            .collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": version.api_version(),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_list_is_sorted_and_has_subresources() {
        let v = resource_list("", "v1", &[]).unwrap();
        let names: Vec<&str> = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.contains(&"pods/log"));
        assert!(names.contains(&"replicationcontrollers/scale"));
        assert!(v.get("apiVersion").is_none());
    }

    #[test]
    fn apps_scale_names_autoscaling() {
        let v = resource_list("apps", "v1", &[]).unwrap();
        let scale = v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "deployments/scale")
            .unwrap();
        assert_eq!(scale["group"], "autoscaling");
        assert_eq!(scale["kind"], "Scale");
        assert!(resource_list("apps", "v2", &[]).is_none());
    }

    #[test]
    fn group_list_orders_groups() {
        let v = group_list(&[]);
        assert_eq!(v["groups"][0]["name"], "apiregistration.k8s.io");
        assert_eq!(v["groups"][1]["name"], "apps");
        assert!(group("nope", &[]).is_none());
    }
}
