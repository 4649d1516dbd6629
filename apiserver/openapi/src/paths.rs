//! The REST paths and operations of the served resources, in an
//! OpenAPI-version-neutral form rendered by `v2` and `v3`.

use serde_json::{Map, Value};

/// The definition name of a top-level kind by group, version and kind (the catalog's,
/// and those of custom resources).
pub(crate) type KindLookup<'a> = &'a dyn Fn(&str, &str, &str) -> Option<String>;
use crate::params::{self, Param};
use crate::schema::META;
use crate::Resource;

pub(crate) const JSON: &str = "application/json";
pub(crate) const YAML: &str = "application/yaml";
pub(crate) const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";
pub(crate) const OBJECT_TYPES: &[&str] = &[JSON, YAML, PROTOBUF];
pub(crate) const STREAM_TYPES: &[&str] = &[
    JSON,
    YAML,
    PROTOBUF,
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
pub(crate) const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
pub(crate) const TEXT_TYPES: &[&str] = &["*/*"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Method {
    Get,
    Put,
    Post,
    Delete,
    Patch,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Patch => "patch",
        }
    }
}

/// What a request or response body holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// An object of the named definition.
    Def(String),
    /// Plain text (logs, connect streams).
    Text,
}

#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub method: Method,
    pub id: String,
    pub description: String,
    pub tag: String,
    /// `x-kubernetes-action`.
    pub action: &'static str,
    /// `x-kubernetes-group-version-kind`: (group, version, kind).
    pub gvk: Option<(String, String, String)>,
    pub params: Vec<Param>,
    /// The request body and whether it is required.
    pub body: Option<(Body, bool)>,
    pub consumes: &'static [&'static str],
    pub produces: &'static [&'static str],
    /// Status codes and what they return.
    pub responses: Vec<(u16, Body)>,
}

#[derive(Debug, Clone)]
pub(crate) struct PathItem {
    pub path: String,
    /// Parameters shared by every operation of the path.
    pub params: Vec<Param>,
    pub ops: Vec<Operation>,
}

/// The `paths` object of a document, keys sorted at every level, with the
/// shared parameters and operations rendered by the OpenAPI version's own
/// functions.
pub(crate) fn render_paths(
    items: &[PathItem],
    param: fn(&Param) -> Value,
    operation: fn(&Operation) -> Value,
) -> Value {
    let mut paths = Map::new();
    for item in items {
        let mut pi = Map::new();
        if !item.params.is_empty() {
            pi.insert(
                "parameters".into(),
                item.params.iter().map(param).collect::<Vec<_>>().into(),
            );
        }
        for op in &item.ops {
            pi.insert(op.method.name().into(), operation(op));
        }
        paths.insert(item.path.clone(), Value::Object(pi));
    }
    let mut paths = Value::Object(paths);
    crate::schema::sort_keys(&mut paths);
    paths
}

/// `""` → `Core`, `rbac.authorization.k8s.io` → `RbacAuthorization`.
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let g = group.strip_suffix(".k8s.io").unwrap_or(group);
    g.split('.').map(capitalize).collect()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The OpenAPI tag of a group-version: `core_v1`, `rbacAuthorization_v1`.
fn tag(group: &str, version: &str) -> String {
    let camel = group_camel(group);
    let mut c = camel.chars();
    let lower: String = c
        .next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default();
    format!("{lower}_{version}")
}

/// The URL prefix of a group-version: `/api/v1`, `/apis/apps/v1`.
pub(crate) fn gv_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// Builds operations of one resource; shared naming state.
struct Builder<'a> {
    res: &'a Resource,
    def: String,
    gv: String,
    tag: String,
    /// `Namespaced` or empty.
    scope: &'static str,
    base: String,
}

impl Builder<'_> {
    fn op(
        &self,
        method: Method,
        id: String,
        description: String,
        action: &'static str,
    ) -> Operation {
        Operation {
            method,
            id,
            description,
            tag: self.tag.clone(),
            action,
            gvk: Some((
                self.res.group.clone(),
                self.res.version.clone(),
                self.res.kind.clone(),
            )),
            params: Vec::new(),
            body: None,
            consumes: &[],
            produces: OBJECT_TYPES,
            responses: Vec::new(),
        }
    }

    fn obj(&self) -> Body {
        Body::Def(self.def.clone())
    }

    /// `list`, `create`, `deletecollection` on the collection path.
    fn collection(&self, out: &mut Vec<PathItem>) {
        let r = self.res;
        let (kind, gv, scope) = (&r.kind, &self.gv, self.scope);
        let mut ops = Vec::new();
        if r.has("list") {
            if let Some(list) = &r.list_def {
                let mut op = self.op(
                    Method::Get,
                    format!("list{gv}{scope}{kind}"),
                    format!("list or watch objects of kind {kind}"),
                    "list",
                );
                op.params = params::list_params();
                op.produces = STREAM_TYPES;
                op.responses = vec![(200, Body::Def(list.clone()))];
                ops.push(op);
            }
        }
        if r.has("create") {
            let mut op = self.op(
                Method::Post,
                format!("create{gv}{scope}{kind}"),
                format!("create a {kind}"),
                "post",
            );
            op.params = params::write_params();
            op.body = Some((self.obj(), true));
            op.consumes = OBJECT_TYPES;
            op.responses = vec![(200, self.obj()), (201, self.obj()), (202, self.obj())];
            ops.push(op);
        }
        if r.has("deletecollection") {
            let mut op = self.op(
                Method::Delete,
                format!("delete{gv}Collection{scope}{kind}"),
                format!("delete a collection of {kind}"),
                "deletecollection",
            );
            op.params = params::delete_params();
            op.params.extend(
                params::list_params()
                    .into_iter()
                    .filter(|p| p.name != "watch" && p.name != "allowWatchBookmarks"),
            );
            op.params.sort_by_key(|p| p.name);
            op.body = Some((Body::Def(format!("{META}.DeleteOptions")), false));
            op.consumes = OBJECT_TYPES;
            op.responses = vec![(200, Body::Def(format!("{META}.Status")))];
            ops.push(op);
        }
        self.push(out, self.base.clone(), false, ops);
    }

    /// `get`, `update`, `patch`, `delete` on the object path.
    fn item(&self, out: &mut Vec<PathItem>) {
        let r = self.res;
        let (kind, gv, scope) = (&r.kind, &self.gv, self.scope);
        let mut ops = Vec::new();
        if r.has("get") {
            let mut op = self.op(
                Method::Get,
                format!("read{gv}{scope}{kind}"),
                format!("read the specified {kind}"),
                "get",
            );
            op.responses = vec![(200, self.obj())];
            ops.push(op);
        }
        if r.has("update") {
            ops.push(self.replace(
                format!("replace{gv}{scope}{kind}"),
                format!("replace the specified {kind}"),
                self.obj(),
            ));
        }
        if r.has("patch") {
            ops.push(self.patch(
                format!("patch{gv}{scope}{kind}"),
                format!("partially update the specified {kind}"),
                self.obj(),
            ));
        }
        if r.has("delete") {
            let mut op = self.op(
                Method::Delete,
                format!("delete{gv}{scope}{kind}"),
                format!("delete a {kind}"),
                "delete",
            );
            op.params = params::delete_params();
            op.body = Some((Body::Def(format!("{META}.DeleteOptions")), false));
            op.consumes = OBJECT_TYPES;
            let status = Body::Def(format!("{META}.Status"));
            op.responses = vec![(200, status.clone()), (202, status)];
            ops.push(op);
        }
        self.push(out, format!("{}/{{name}}", self.base), true, ops);
    }

    fn replace(&self, id: String, description: String, body: Body) -> Operation {
        let mut op = self.op(Method::Put, id, description, "put");
        op.params = params::write_params();
        op.body = Some((body.clone(), true));
        op.consumes = OBJECT_TYPES;
        op.responses = vec![(200, body.clone()), (201, body)];
        op
    }

    fn patch(&self, id: String, description: String, body: Body) -> Operation {
        let mut op = self.op(Method::Patch, id, description, "patch");
        op.params = params::patch_params();
        op.body = Some((Body::Def(format!("{META}.Patch")), true));
        op.consumes = PATCH_TYPES;
        op.responses = vec![(200, body.clone()), (201, body)];
        op
    }

    /// The deprecated `/watch/` paths.
    fn watch(&self, out: &mut Vec<PathItem>) {
        let r = self.res;
        if !r.has("watch") {
            return;
        }
        let (kind, gv, scope) = (&r.kind, &self.gv, self.scope);
        let event = Body::Def(format!("{META}.WatchEvent"));
        let prefix = gv_prefix(&r.group, &r.version);
        let rest = self.base.strip_prefix(&prefix).unwrap_or(&self.base);
        let watch_base = format!("{prefix}/watch{rest}");
        let mk = |id: String, description: String, action| {
            let mut op = self.op(Method::Get, id, description, action);
            op.params = params::list_params();
            op.produces = STREAM_TYPES;
            op.responses = vec![(200, event.clone())];
            op
        };
        let list = mk(
            format!("watch{gv}{scope}{kind}List"),
            format!("watch individual changes to a list of {kind} (deprecated: use the list operation with 'watch=true')"),
            "watchlist",
        );
        self.push(out, watch_base.clone(), false, vec![list]);
        let one = mk(
            format!("watch{gv}{scope}{kind}"),
            format!("watch changes to one {kind} (deprecated: use the list operation with 'watch=true' and a 'metadata.name' field selector)"),
            "watch",
        );
        self.push(out, format!("{watch_base}/{{name}}"), true, vec![one]);
        if r.namespaced && r.has("list") {
            let all = mk(
                format!("watch{gv}{kind}ListForAllNamespaces"),
                format!("watch individual changes to a list of {kind} in all namespaces (deprecated: use the list operation with 'watch=true')"),
                "watchlist",
            );
            let path = format!("{prefix}/watch/{}", r.plural);
            out.push(PathItem {
                path,
                params: vec![params::pretty()],
                ops: vec![all],
            });
        }
    }

    /// `GET /api/v1/pods`: the list of a namespaced resource across namespaces.
    fn all_namespaces(&self, out: &mut Vec<PathItem>) {
        let r = self.res;
        let (Some(list), true, true) = (&r.list_def, r.namespaced, r.has("list")) else {
            return;
        };
        let mut op = self.op(
            Method::Get,
            format!("list{}{}ForAllNamespaces", self.gv, r.kind),
            format!("list or watch objects of kind {} in all namespaces", r.kind),
            "list",
        );
        op.params = params::list_params();
        op.produces = STREAM_TYPES;
        op.responses = vec![(200, Body::Def(list.clone()))];
        let path = format!("{}/{}", gv_prefix(&r.group, &r.version), r.plural);
        out.push(PathItem {
            path,
            params: vec![params::pretty()],
            ops: vec![op],
        });
    }

    fn subresources(&self, kinds: KindLookup<'_>, out: &mut Vec<PathItem>) {
        for sub in &self.res.subresources {
            self.subresource(kinds, sub, out);
        }
    }

    fn subresource(
        &self,
        kinds: KindLookup<'_>,
        sub: &crate::Subresource,
        out: &mut Vec<PathItem>,
    ) {
        let r = self.res;
        let (kind, gv, scope) = (&r.kind, &self.gv, self.scope);
        let sub_camel = capitalize(&sub.name);
        let path = format!("{}/{{name}}/{}", self.base, sub.name);
        let def = kinds(&sub.group, &sub.version, &sub.kind).map(Body::Def);
        let gvk = Some((sub.group.clone(), sub.version.clone(), sub.kind.clone()));
        let has = |v: &str| sub.verbs.iter().any(|s| s == v);
        let mut ops = Vec::new();
        match (sub.name.as_str(), def) {
            ("log", _) => {
                let mut op = self.op(
                    Method::Get,
                    format!("read{gv}{scope}{kind}Log"),
                    format!("read the log of the specified {kind}"),
                    "get",
                );
                op.params = params::log_params();
                op.produces = &["text/plain", JSON, YAML, PROTOBUF];
                op.responses = vec![(200, Body::Text)];
                ops.push(op);
            }
            ("exec" | "attach" | "portforward" | "proxy", _) | (_, None) => {
                let methods = [
                    ("get", Method::Get, "Get"),
                    ("create", Method::Post, "Post"),
                    ("update", Method::Put, "Put"),
                    ("patch", Method::Patch, "Patch"),
                    ("delete", Method::Delete, "Delete"),
                ];
                let connect = |suffix: &str, params: Vec<Param>| -> Vec<Operation> {
                    methods
                        .iter()
                        .filter(|(verb, ..)| has(verb))
                        .map(|(_, method, m)| {
                            let mut op = self.op(
                                *method,
                                format!("connect{gv}{m}{scope}{kind}{sub_camel}{suffix}"),
                                format!(
                                    "connect {} requests to {} of {kind}",
                                    m.to_uppercase(),
                                    sub.name
                                ),
                                "connect",
                            );
                            op.gvk = gvk.clone();
                            op.params = params.clone();
                            op.produces = TEXT_TYPES;
                            op.consumes = TEXT_TYPES;
                            op.responses = vec![(200, Body::Text)];
                            op
                        })
                        .collect()
                };
                ops = connect("", params::connect_params(&sub.name));
                if sub.name == "proxy" {
                    let with_path = connect("WithPath", Vec::new());
                    let mut item = PathItem {
                        path: format!("{path}/{{path}}"),
                        params: Vec::new(),
                        ops: with_path,
                    };
                    item.params = self.path_params(true);
                    item.params.insert(1, params::proxy_path());
                    out.push(item);
                }
            }
            (_, Some(body)) => {
                if has("get") {
                    let mut op = self.op(
                        Method::Get,
                        format!("read{gv}{scope}{kind}{sub_camel}"),
                        format!("read {} of the specified {kind}", sub.name),
                        "get",
                    );
                    op.gvk = gvk.clone();
                    op.responses = vec![(200, body.clone())];
                    ops.push(op);
                }
                if has("create") {
                    let mut op = self.op(
                        Method::Post,
                        format!("create{gv}{scope}{kind}{sub_camel}"),
                        format!("create {} of a {kind}", sub.name),
                        "post",
                    );
                    op.gvk = gvk.clone();
                    op.params = params::write_params();
                    op.body = Some((body.clone(), true));
                    op.consumes = OBJECT_TYPES;
                    op.responses = vec![
                        (200, body.clone()),
                        (201, body.clone()),
                        (202, body.clone()),
                    ];
                    ops.push(op);
                }
                if has("update") {
                    let mut op = self.replace(
                        format!("replace{gv}{scope}{kind}{sub_camel}"),
                        format!("replace {} of the specified {kind}", sub.name),
                        body.clone(),
                    );
                    op.gvk = gvk.clone();
                    ops.push(op);
                }
                if has("patch") {
                    let mut op = self.patch(
                        format!("patch{gv}{scope}{kind}{sub_camel}"),
                        format!("partially update {} of the specified {kind}", sub.name),
                        body.clone(),
                    );
                    op.gvk = gvk.clone();
                    ops.push(op);
                }
            }
        }
        self.push(out, path, true, ops);
    }

    fn path_params(&self, named: bool) -> Vec<Param> {
        let mut p = Vec::new();
        if named {
            p.push(params::name(&self.res.kind));
        }
        if self.res.namespaced {
            p.push(params::namespace());
        }
        p.push(params::pretty());
        p
    }

    fn push(&self, out: &mut Vec<PathItem>, path: String, named: bool, ops: Vec<Operation>) {
        if !ops.is_empty() {
            out.push(PathItem {
                path,
                params: self.path_params(named),
                ops,
            });
        }
    }
}

/// Every path of a resource. Resources whose kind has no Rust type are skipped.
pub(crate) fn resource_paths(kinds: KindLookup<'_>, res: &Resource, out: &mut Vec<PathItem>) {
    let prefix = gv_prefix(&res.group, &res.version);
    let b = Builder {
        res,
        def: res.def.clone(),
        gv: format!("{}{}", group_camel(&res.group), capitalize(&res.version)),
        tag: tag(&res.group, &res.version),
        scope: if res.namespaced { "Namespaced" } else { "" },
        base: if res.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", res.plural)
        } else {
            format!("{prefix}/{}", res.plural)
        },
    };
    b.collection(out);
    b.item(out);
    b.all_namespaces(out);
    b.watch(out);
    b.subresources(kinds, out);
}

/// `GET /api/v1/`: the APIResourceList of a group-version.
pub(crate) fn resources_path(group: &str, version: &str) -> PathItem {
    let gv = format!("{}{}", group_camel(group), capitalize(version));
    let op = Operation {
        method: Method::Get,
        id: format!("get{gv}APIResources"),
        description: "get available resources".into(),
        tag: tag(group, version),
        action: "",
        gvk: None,
        params: Vec::new(),
        body: None,
        consumes: OBJECT_TYPES,
        produces: OBJECT_TYPES,
        responses: vec![(200, Body::Def(format!("{META}.APIResourceList")))],
    };
    PathItem {
        path: format!("{}/", gv_prefix(group, version)),
        params: Vec::new(),
        ops: vec![op],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(group_camel(""), "Core");
        assert_eq!(
            group_camel("rbac.authorization.k8s.io"),
            "RbacAuthorization"
        );
        assert_eq!(group_camel("apps"), "Apps");
        assert_eq!(
            tag("rbac.authorization.k8s.io", "v1"),
            "rbacAuthorization_v1"
        );
        assert_eq!(tag("", "v1"), "core_v1");
    }
}
