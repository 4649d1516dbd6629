//! Parse a request path into what it addresses, like upstream's RequestInfo.

use rkube_api::resources::{self, Resource};
use rkube_api::ApiError;

/// Namespace subresources: `/api/v1/namespaces/{name}/status` addresses the namespace
/// itself, not a resource called "status" inside it.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Fixed endpoints: `/api`, `/version`, `/healthz`, ...
    Api,
    ApiGroupVersion {
        group: String,
        version: String,
    },
    Apis,
    ApiGroup {
        group: String,
    },
    Version,
    Health {
        check: String,
    },
    OpenApiV2,
    OpenApiV3Index,
    OpenApiV3 {
        group_version: String,
    },
    /// A resource request.
    Resource(ResourceRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceRequest {
    pub resource: &'static Resource,
    /// Namespace from the path (None for cluster-scoped or all-namespace requests).
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// What follows the subresource (proxy paths).
    pub rest: Vec<String>,
    /// Legacy `/api/v1/watch/...` prefix.
    pub legacy_watch: bool,
    /// The documents' `/api/v1/proxy/...` form of a proxy request (rkube keeps it as an
    /// alias; upstream removed it in 1.10).
    pub legacy_proxy: bool,
}

impl ResourceRequest {
    /// How many path segments come before what a proxy request forwards:
    /// `/api/v1/namespaces/{ns}/pods/{name}/proxy/` or `/api/v1/proxy/nodes/{name}/`.
    pub fn proxied_path_offset(&self) -> usize {
        let prefix = if self.resource.group.is_empty() { 2 } else { 3 };
        let namespace = if self.namespace.is_some() { 2 } else { 0 };
        if self.legacy_proxy {
            prefix + 1 + namespace + 2
        } else {
            prefix + namespace + 3
        }
    }
}

/// Split a raw path into decoded segments. Empty segments, `.` and `..`, and encoded
/// slashes are refused: they are how path tricks reach handlers.
fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for raw in trimmed.split('/') {
        if raw.is_empty() {
            return Err(ApiError::path_not_found());
        }
        let decoded = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ApiError::bad_request("invalid path: not UTF-8"))?;
        if decoded == "." || decoded == ".." || decoded.contains('/') || decoded.contains('\0') {
            return Err(ApiError::path_not_found());
        }
        out.push(decoded.into_owned());
    }
    Ok(out)
}

/// Route a path among the built-in resources only.
pub fn route(path: &str) -> Result<Route, ApiError> {
    route_with(path, &crate::crd::CustomResources::default())
}

/// Route a path among the built-in resources and the custom ones served now.
pub fn route_with(path: &str, custom: &crate::crd::CustomResources) -> Result<Route, ApiError> {
    let segs = segments(path)?;
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["api"] => Ok(Route::Api),
        ["apis"] => Ok(Route::Apis),
        ["version"] => Ok(Route::Version),
        [check @ ("healthz" | "livez" | "readyz")] => Ok(Route::Health {
            check: check.to_string(),
        }),
        [check @ ("healthz" | "livez" | "readyz"), _] => Ok(Route::Health {
            check: check.to_string(),
        }),
        ["openapi", "v2"] => Ok(Route::OpenApiV2),
        ["openapi", "v3"] => Ok(Route::OpenApiV3Index),
        ["openapi", "v3", rest @ ..] => Ok(Route::OpenApiV3 {
            group_version: rest.join("/"),
        }),
        ["api", "v1"] => Ok(Route::ApiGroupVersion {
            group: String::new(),
            version: "v1".into(),
        }),
        ["api", "v1", "proxy", rest @ ..] => legacy_proxy_route(rest),
        ["api", "v1", rest @ ..] => resource_route("", "v1", rest, custom),
        ["api", _] | ["api", _, ..] => Err(ApiError::path_not_found()),
        ["apis", group] => Ok(Route::ApiGroup {
            group: group.to_string(),
        }),
        ["apis", group, version] => Ok(Route::ApiGroupVersion {
            group: group.to_string(),
            version: version.to_string(),
        }),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest, custom),
        _ => Err(ApiError::path_not_found()),
    }
}

fn resource_route(
    group: &str,
    version: &str,
    rest: &[&str],
    custom: &crate::crd::CustomResources,
) -> Result<Route, ApiError> {
    let (legacy_watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let (namespace, rest): (Option<String>, &[&str]) = match rest {
        ["namespaces", ns, tail @ ..]
            if !tail.is_empty() && !NAMESPACE_SUBRESOURCES.contains(&tail[0]) =>
        {
            (Some(ns.to_string()), tail)
        }
        _ => (None, rest),
    };
    let (plural, tail) = match rest.split_first() {
        Some((p, t)) => (*p, t),
        None => return Err(ApiError::path_not_found()),
    };
    let resource = resources::find(group, version, plural)
        .or_else(|| custom.find(group, version, plural))
        .ok_or_else(ApiError::path_not_found)?;
    if namespace.is_some() && !resource.namespaced {
        return Err(ApiError::path_not_found());
    }
    let name = tail.first().map(|s| s.to_string());
    let subresource = tail.get(1).map(|s| s.to_string());
    let rest: Vec<String> = tail.iter().skip(2).map(|s| s.to_string()).collect();
    if let Some(sub) = &subresource {
        let known = resource
            .subresource(sub)
            .ok_or_else(ApiError::path_not_found)?;
        if !rest.is_empty() && known.name != "proxy" {
            return Err(ApiError::path_not_found());
        }
    }
    Ok(Route::Resource(ResourceRequest {
        resource,
        namespace,
        name,
        subresource,
        rest,
        legacy_watch,
        legacy_proxy: false,
    }))
}

/// `/api/v1/proxy/nodes/{name}/…` and `/api/v1/proxy/namespaces/{ns}/{pods|services}/{name}/…`
/// address what `…/{name}/proxy/…` does.
fn legacy_proxy_route(rest: &[&str]) -> Result<Route, ApiError> {
    let (plural, namespace, name, tail) = match rest {
        ["nodes", name, tail @ ..] => ("nodes", None, *name, tail),
        ["namespaces", ns, plural @ ("pods" | "services"), name, tail @ ..] => {
            (*plural, Some(ns.to_string()), *name, tail)
        }
        _ => return Err(ApiError::path_not_found()),
    };
    let resource = resources::find("", "v1", plural).ok_or_else(ApiError::path_not_found)?;
    Ok(Route::Resource(ResourceRequest {
        resource,
        namespace,
        name: Some(name.to_string()),
        subresource: Some("proxy".into()),
        rest: tail.iter().map(|s| s.to_string()).collect(),
        legacy_watch: false,
        legacy_proxy: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourceRequest {
        match route(path).unwrap() {
            Route::Resource(r) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn resource_paths() {
        let r = res("/api/v1/namespaces/default/pods/foo");
        assert_eq!(
            (r.resource.plural, r.namespace.as_deref(), r.name.as_deref()),
            ("pods", Some("default"), Some("foo"))
        );
        let r = res("/api/v1/pods");
        assert_eq!((r.namespace, r.name), (None, None));
        let r = res("/api/v1/namespaces/kube-system");
        assert_eq!(
            (r.resource.plural, r.name.as_deref()),
            ("namespaces", Some("kube-system"))
        );
        let r = res("/api/v1/namespaces/foo/status");
        assert_eq!(
            (
                r.resource.plural,
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("namespaces", Some("foo"), Some("status"))
        );
        let r = res("/apis/apps/v1/namespaces/default/deployments/d/scale");
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        let r = res("/api/v1/watch/namespaces/default/pods");
        assert!(r.legacy_watch);
        let r = res("/api/v1/namespaces/default/pods/p/proxy/a/b");
        assert_eq!(r.rest, vec!["a", "b"]);
        assert_eq!(r.proxied_path_offset(), 7);
        let r = res("/api/v1/nodes/n:10250/proxy");
        assert_eq!(
            (r.name.as_deref(), r.proxied_path_offset()),
            (Some("n:10250"), 5)
        );
    }

    #[test]
    fn legacy_proxy_paths_are_aliases() {
        let r = res("/api/v1/proxy/nodes/n1/stats/summary");
        assert_eq!(
            (
                r.resource.plural,
                r.name.as_deref(),
                r.subresource.as_deref()
            ),
            ("nodes", Some("n1"), Some("proxy"))
        );
        assert_eq!(
            (r.rest.clone(), r.proxied_path_offset()),
            (vec!["stats".to_string(), "summary".to_string()], 5)
        );
        let r = res("/api/v1/proxy/namespaces/ns/services/http:front:web/echo");
        assert_eq!(
            (r.resource.plural, r.namespace.as_deref(), r.name.as_deref()),
            ("services", Some("ns"), Some("http:front:web"))
        );
        assert_eq!(r.proxied_path_offset(), 7);
        for p in [
            "/api/v1/proxy",
            "/api/v1/proxy/namespaces/ns/configmaps/c",
            "/api/v1/proxy/nodes",
        ] {
            assert!(route(p).is_err(), "{p}");
        }
    }

    #[test]
    fn tricks_are_refused() {
        for p in [
            "/api/v1/namespaces/default/pods/..",
            "/api/v1/namespaces/default/pods/a%2Fb",
            "/api/v1//pods",
            "/api/v1/namespaces/default/nodes/x",
            "/api/v1/namespaces/default/pods/x/nope",
            "/api/v2/pods",
            "/apis/apps/v1/nope",
        ] {
            assert!(route(p).is_err(), "{p}");
        }
    }
}
