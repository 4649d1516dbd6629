//! The OpenAPI documents of rkube: `/openapi/v2` (Swagger 2.0 as JSON and as
//! gnostic protobuf) and `/openapi/v3` (the discovery index and one OpenAPI
//! 3.0 document per group-version).
//!
//! The schemas are generated from Rust types: k8s-openapi's `schemars` impls
//! give the JSON Schema of every type (with the upstream doc comments as
//! descriptions), `k8s_openapi::Resource` gives the group/version/kind, and
//! rkube-patch's table gives the patch and list extensions. The served
//! resources come from the apiserver's registry as [`ResourceSpec`]s.
//!
//! Documents are built once, on first use, and kept.
//!
//! The apiserver installs its registry once at startup, e.g. from
//! `rkube_api::resources::RESOURCES`:
//!
//! ```text
//! let subs: Vec<Vec<SubresourceSpec>> = RESOURCES.iter()
//!     .map(|r| r.subresources.iter().map(|s| SubresourceSpec {
//!         name: s.name, group: s.group, version: s.version, kind: s.kind, verbs: s.verbs,
//!     }).collect())
//!     .collect();
//! let specs: Vec<ResourceSpec> = RESOURCES.iter().zip(&subs).map(|(r, subs)| ResourceSpec {
//!     group: r.group, version: r.version, kind: r.kind, plural: r.plural,
//!     namespaced: r.namespaced, verbs: r.verbs, subresources: subs,
//! }).collect();
//! rkube_openapi::install(&specs);
//! ```
//!
//! and serves `GET /openapi/v2` with [`v2_json`] or, when
//! [`wants_v2_protobuf`]`(accept)`, [`v2_protobuf`] as
//! [`V2_PROTOBUF_CONTENT_TYPE`]; `GET /openapi/v3` with [`v3_index`] and
//! `GET /openapi/v3/{gv}` with [`v3_document`] (ETag: [`OpenApi::v3_hash`]).

mod catalog;
mod custom;
mod defaults;
mod params;
mod paths;
pub mod proto;
mod proto_conv;
mod schema;
mod v2;
mod v3;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;
use sha2::{Digest, Sha512};

pub use defaults::DEFAULT_RESOURCES;

/// `info.version` of the documents.
pub const KUBERNETES_VERSION: &str = "v1.33.0";

/// The media type kubectl 1.27/1.28 ask `/openapi/v2` for (`Accept`).
pub const V2_PROTOBUF_ACCEPT: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

/// The `Content-Type` to answer a protobuf `/openapi/v2` request with: upstream's
/// dotted form, since Go's `mime.ParseMediaType` in kubectl rejects the `@` of
/// [`V2_PROTOBUF_ACCEPT`] ("mime: unexpected content after media subtype").
pub const V2_PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// Whether an `Accept` header of `/openapi/v2` asks for [`v2_protobuf`]
/// (either spelling of the gnostic media type) rather than JSON.
pub fn wants_v2_protobuf(accept: &str) -> bool {
    accept.split(',').any(|t| {
        let t = t.split(';').next().unwrap_or_default().trim();
        t == V2_PROTOBUF_ACCEPT || t == V2_PROTOBUF_CONTENT_TYPE
    })
}

/// A served resource, as the apiserver's registry describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSpec<'a> {
    /// `""` for the core group.
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub plural: &'a str,
    pub namespaced: bool,
    /// Kubernetes verbs: get, list, watch, create, update, patch, delete, deletecollection.
    pub verbs: &'a [&'a str],
    pub subresources: &'a [SubresourceSpec<'a>],
}

/// A subresource `{plural}/{name}/{subresource}`.
///
/// Empty `group`/`version` mean the parent's; an empty `kind` or empty `verbs`
/// are inferred from the name (`status` → the parent's kind with get/update/patch,
/// `scale` → autoscaling/v1 Scale, `binding` → Binding, `eviction` → policy/v1
/// Eviction, `log` → the parent's kind with get, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubresourceSpec<'a> {
    pub name: &'a str,
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub verbs: &'a [&'a str],
}

impl<'a> SubresourceSpec<'a> {
    /// A subresource whose kind and verbs are inferred from its name.
    pub const fn named(name: &'a str) -> Self {
        SubresourceSpec {
            name,
            group: "",
            version: "",
            kind: "",
            verbs: &[],
        }
    }
}

/// A custom resource served from a CustomResourceDefinition version: its resource and
/// the version's `openAPIV3Schema` (`Value::Null` when it has none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomResourceSpec<'a> {
    pub resource: ResourceSpec<'a>,
    pub list_kind: &'a str,
    pub schema: &'a Value,
}

/// A group-version, as listed in the v3 index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupVersion<'a> {
    /// `""` for the core group.
    pub group: &'a str,
    pub version: &'a str,
}

impl GroupVersion<'_> {
    /// The v3 document key: `api/v1`, `apis/apps/v1`.
    pub fn path(&self) -> String {
        gv_path(self.group, self.version)
    }
}

fn gv_path(group: &str, version: &str) -> String {
    paths::gv_prefix(group, version)[1..].to_string()
}

/// A resource resolved against the Rust types.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    verbs: Vec<String>,
    subresources: Vec<Subresource>,
    /// Definition of the kind and of its list.
    def: String,
    list_def: Option<String>,
}

impl Resource {
    fn has(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Subresource {
    name: String,
    group: String,
    version: String,
    kind: String,
    verbs: Vec<String>,
}

fn resolve_sub(parent: &ResourceSpec, s: &SubresourceSpec) -> Subresource {
    const GET_UPDATE_PATCH: &[&str] = &["get", "update", "patch"];
    let (group, version, kind, verbs): (&str, &str, &str, &[&str]) = match s.name {
        "scale" => ("autoscaling", "v1", "Scale", GET_UPDATE_PATCH),
        "eviction" => ("policy", "v1", "Eviction", &["create"]),
        "binding" => ("", "v1", "Binding", &["create"]),
        "token" => ("authentication.k8s.io", "v1", "TokenRequest", &["create"]),
        "log" => ("", "", parent.kind, &["get"]),
        "finalize" => ("", "", parent.kind, &["update"]),
        "exec" | "attach" | "portforward" => ("", "", "", &["get", "create"]),
        "proxy" => ("", "", "", &["get", "create", "update", "patch", "delete"]),
        _ => ("", "", parent.kind, GET_UPDATE_PATCH),
    };
    let (group, version, kind) = if s.kind.is_empty() {
        (group, version, kind)
    } else {
        (s.group, s.version, s.kind)
    };
    // An empty version means the parent's group-version.
    let (group, version) = if version.is_empty() {
        (parent.group, parent.version)
    } else {
        (group, version)
    };
    Subresource {
        name: s.name.to_string(),
        group: group.to_string(),
        version: version.to_string(),
        kind: kind.to_string(),
        verbs: if s.verbs.is_empty() { verbs } else { s.verbs }
            .iter()
            .map(|v| v.to_string())
            .collect(),
    }
}

/// The Rust types' definitions, generated once per process.
fn type_definitions() -> &'static (catalog::Catalog, BTreeMap<String, Value>) {
    static DEFS: OnceLock<(catalog::Catalog, BTreeMap<String, Value>)> = OnceLock::new();
    DEFS.get_or_init(|| {
        let catalog = catalog::generate();
        let defs = schema::definitions(&catalog);
        (catalog, defs)
    })
}

/// The documents of one set of served resources. Each is built on first use.
pub struct OpenApi {
    /// v3 document key (`api/v1`) → its paths.
    groups: BTreeMap<String, Vec<paths::PathItem>>,
    /// Definitions in a neutral form, and rendered for v2 and for v3.
    defs: BTreeMap<String, Value>,
    defs_v2: OnceLock<BTreeMap<String, Value>>,
    defs_v3: OnceLock<BTreeMap<String, Value>>,
    v3_docs: BTreeMap<String, OnceLock<(Vec<u8>, String)>>,
    v3_index: OnceLock<Vec<u8>>,
    v2_json: OnceLock<Vec<u8>>,
    v2_proto: OnceLock<Vec<u8>>,
    v2_etag: OnceLock<String>,
}

impl OpenApi {
    /// Resolves `resources` against the Rust types; resources whose kind has no
    /// k8s-openapi type are left out of the documents.
    pub fn new(resources: &[ResourceSpec]) -> OpenApi {
        OpenApi::with_custom(resources, &[])
    }

    /// [`OpenApi::new`] plus the custom resources of CustomResourceDefinitions, their
    /// definitions made from their schemas.
    pub fn with_custom(resources: &[ResourceSpec], custom: &[CustomResourceSpec]) -> OpenApi {
        let (catalog, defs) = type_definitions();
        let mut defs = defs.clone();
        let mut groups: BTreeMap<String, Vec<paths::PathItem>> = BTreeMap::new();
        let mut gvs = BTreeSet::new();
        let custom_kinds: BTreeMap<(String, String, String), String> = custom
            .iter()
            .map(|c| {
                let r = &c.resource;
                let key = (
                    r.group.to_string(),
                    r.version.to_string(),
                    r.kind.to_string(),
                );
                (key, custom::definition_name(r.group, r.version, r.kind))
            })
            .collect();
        let kinds = |g: &str, v: &str, k: &str| -> Option<String> {
            catalog.kind(g, v, k).map(|kt| kt.name.clone()).or_else(|| {
                custom_kinds
                    .get(&(g.to_string(), v.to_string(), k.to_string()))
                    .cloned()
            })
        };
        let mut resolved: Vec<(&ResourceSpec, String, Option<String>)> = Vec::new();
        for spec in resources {
            if let Some(kt) = catalog.kind(spec.group, spec.version, spec.kind) {
                resolved.push((spec, kt.name.clone(), kt.list_name()));
            }
        }
        for c in custom {
            let (def, list_def) = custom::add_definitions(c, &mut defs);
            resolved.push((&c.resource, def, Some(list_def)));
        }
        for (spec, def, list_def) in resolved {
            let res = Resource {
                group: spec.group.to_string(),
                version: spec.version.to_string(),
                kind: spec.kind.to_string(),
                plural: spec.plural.to_string(),
                namespaced: spec.namespaced,
                verbs: spec.verbs.iter().map(|v| v.to_string()).collect(),
                subresources: spec
                    .subresources
                    .iter()
                    .map(|s| resolve_sub(spec, s))
                    .collect(),
                def,
                list_def,
            };
            let items = groups
                .entry(gv_path(spec.group, spec.version))
                .or_insert_with(|| vec![paths::resources_path(spec.group, spec.version)]);
            paths::resource_paths(&kinds, &res, items);
            gvs.insert((spec.group, spec.version));
        }
        // Like upstream, the shared option and event types name every
        // group-version they are used in.
        for shared in ["DeleteOptions", "WatchEvent"] {
            if let Some(serde_json::Value::Object(obj)) =
                defs.get_mut(&format!("{}.{shared}", schema::META))
            {
                let list: Vec<Value> = gvs.iter().map(|(g, v)| schema::gvk(g, v, shared)).collect();
                obj.insert("x-kubernetes-group-version-kind".into(), list.into());
            }
        }
        let v3_docs = groups
            .keys()
            .map(|k| (k.clone(), OnceLock::new()))
            .collect();
        OpenApi {
            groups,
            defs,
            defs_v2: OnceLock::new(),
            defs_v3: OnceLock::new(),
            v3_docs,
            v3_index: OnceLock::new(),
            v2_json: OnceLock::new(),
            v2_proto: OnceLock::new(),
            v2_etag: OnceLock::new(),
        }
    }

    /// The keys of the v3 documents: `api/v1`, `apis/apps/v1`, ...
    pub fn group_versions(&self) -> impl Iterator<Item = &str> {
        self.groups.keys().map(String::as_str)
    }

    fn v3_entry(&self, group_version: &str) -> Option<&(Vec<u8>, String)> {
        let cell = self.v3_docs.get(group_version.trim_matches('/'))?;
        let items = &self.groups[group_version.trim_matches('/')];
        Some(cell.get_or_init(|| {
            let defs = self
                .defs_v3
                .get_or_init(|| schema::render_all(&self.defs, schema::Flavor::V3));
            let doc = v3::document(group_version, items, defs);
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            let hash = hash(&bytes);
            (bytes, hash)
        }))
    }

    /// The v3 document of `group_version` (`api/v1`, `apis/apps/v1`).
    pub fn v3_document(&self, group_version: &str) -> Option<&[u8]> {
        self.v3_entry(group_version).map(|e| e.0.as_slice())
    }

    /// The hash of a v3 document, as in its `serverRelativeURL`; serve it as
    /// the ETag of the document.
    pub fn v3_hash(&self, group_version: &str) -> Option<&str> {
        self.v3_entry(group_version).map(|e| e.1.as_str())
    }

    /// `/openapi/v3`: every group-version's document with its hash.
    pub fn v3_index(&self) -> &[u8] {
        self.v3_index
            .get_or_init(|| self.index_of(self.groups.keys().map(String::as_str)))
    }

    fn index_of<'a>(&self, keys: impl Iterator<Item = &'a str>) -> Vec<u8> {
        let mut paths = serde_json::Map::new();
        for key in keys {
            if let Some(h) = self.v3_hash(key) {
                let url = format!("/openapi/v3/{key}?hash={h}");
                paths.insert(
                    key.to_string(),
                    serde_json::json!({"serverRelativeURL": url}),
                );
            }
        }
        serde_json::to_vec(&serde_json::json!({"paths": paths})).unwrap_or_default()
    }

    fn v2_value(&self) -> Value {
        let items: Vec<paths::PathItem> = self.groups.values().flatten().cloned().collect();
        let defs = self
            .defs_v2
            .get_or_init(|| schema::render_all(&self.defs, schema::Flavor::V2));
        v2::document(&items, defs)
    }

    /// `/openapi/v2` as JSON.
    pub fn v2_json(&self) -> &[u8] {
        self.v2_json
            .get_or_init(|| serde_json::to_vec(&self.v2_value()).unwrap_or_default())
    }

    /// The ETag of `/openapi/v2` (both encodings): hex SHA-512 of the JSON.
    pub fn v2_etag(&self) -> &str {
        self.v2_etag.get_or_init(|| hash(self.v2_json()))
    }

    /// `/openapi/v2` as the gnostic `openapi.v2.Document` protobuf message
    /// (`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
    pub fn v2_protobuf(&self) -> &[u8] {
        self.v2_proto.get_or_init(|| {
            let value: Value = serde_json::from_slice(self.v2_json()).unwrap_or_default();
            prost::Message::encode_to_vec(&proto_conv::document(&value))
        })
    }
}

/// Upstream's etag-like hash of a document: hex SHA-512 of its bytes.
fn hash(bytes: &[u8]) -> String {
    Sha512::digest(bytes)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

static GLOBAL: OnceLock<OpenApi> = OnceLock::new();

/// Sets the served resources of the process-wide documents. Call it once at
/// startup, before serving; returns false if they were already set (or
/// already used, in which case [`DEFAULT_RESOURCES`] were taken).
pub fn install(resources: &[ResourceSpec]) -> bool {
    let mut installed = false;
    GLOBAL.get_or_init(|| {
        installed = true;
        OpenApi::new(resources)
    });
    installed
}

/// The process-wide documents: those of [`install`], else of [`DEFAULT_RESOURCES`].
pub fn global() -> &'static OpenApi {
    GLOBAL.get_or_init(|| OpenApi::new(DEFAULT_RESOURCES))
}

/// The definition of a type by name (`io.k8s.api.apps.v1.DeploymentSpec`) in the
/// flavor-neutral form the documents are rendered from (`$ref`s into
/// `#/definitions/`), for checks of request bodies against the schemas.
pub fn definition(name: &str) -> Option<&'static Value> {
    type_definitions().1.get(name)
}

/// The definition name of a top-level kind, e.g. `("apps", "v1", "Deployment")` →
/// `io.k8s.api.apps.v1.Deployment`.
pub fn kind_definition(group: &str, version: &str, kind: &str) -> Option<&'static str> {
    type_definitions()
        .0
        .kind(group, version, kind)
        .map(|k| k.name.as_str())
}

/// `/openapi/v3`: the index of the given group-versions that have a document.
pub fn v3_index(resources: &[GroupVersion]) -> Vec<u8> {
    let keys: Vec<String> = resources.iter().map(GroupVersion::path).collect();
    global().index_of(keys.iter().map(String::as_str))
}

/// `/openapi/v3/{group_version}` (`api/v1`, `apis/apps/v1`).
pub fn v3_document(group_version: &str) -> Option<Vec<u8>> {
    global().v3_document(group_version).map(<[u8]>::to_vec)
}

/// `/openapi/v2` as JSON.
pub fn v2_json() -> Vec<u8> {
    global().v2_json().to_vec()
}

/// `/openapi/v2` as gnostic protobuf.
pub fn v2_protobuf() -> Vec<u8> {
    global().v2_protobuf().to_vec()
}
