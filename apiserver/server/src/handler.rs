//! Request dispatch: route, negotiate, run the verb, shape the answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use rkube_api::ApiError;
use serde_json::{json, Value};

use crate::codec::{self, BodyType, Format, Negotiated, Shape};
use crate::discovery;
use crate::query::Query;
use crate::registry::{Registry, WriteOptions};
use crate::respond::{self, Body};
use crate::router::{self, ResourceRequest, Route};
use crate::watch::{self, WatchParams};

pub struct ApiServer {
    pub registry: Arc<Registry>,
    /// `host:port` announced in `/api`.
    pub server_address: String,
}

/// How much of an oversized body is read and thrown away before answering 413, so the
/// client sees the answer instead of a reset connection.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// Read the body; more than 3 MiB is drained and refused with 413.
async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let mut body = std::pin::pin!(body);
    let mut buf = bytes::BytesMut::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            total += data.len();
            if total <= codec::MAX_BODY {
                buf.extend_from_slice(&data);
            } else if total > DRAIN_LIMIT {
                break;
            }
        }
    }
    if total > codec::MAX_BODY {
        return Err(ApiError::too_large(codec::MAX_BODY));
    }
    Ok(buf.freeze())
}

fn header<B>(req: &Request<B>, name: http::header::HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

pub async fn handle<B>(server: Arc<ApiServer>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    crate::fieldvalidation::with_warnings(async move {
        match dispatch(&server, req).await {
            Ok(resp) => resp,
            Err(e) => respond::error_response(&e),
        }
    })
    .await
}

fn aggregated_accept(accept: Option<&str>) -> Option<discovery::Aggregated> {
    let accept = accept?;
    for part in accept.split(',') {
        let p: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        if p.contains("as=APIGroupDiscoveryList") && p.contains("g=apidiscovery.k8s.io") {
            if p.contains("v=v2beta1") {
                return Some(discovery::Aggregated::V2Beta1);
            }
            if p.contains("v=v2") {
                return Some(discovery::Aggregated::V2);
            }
        } else if p.starts_with("application/json") || p.starts_with("*/*") {
            return None;
        }
    }
    None
}

async fn dispatch<B>(server: &Arc<ApiServer>, req: Request<B>) -> Result<Response<Body>, ApiError>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let (parts, body) = req.into_parts();
    let body = read_body(body).await?;
    let req = Request::from_parts(parts, body);
    let route = router::route_with(req.uri().path(), &server.registry.crds)?;
    let accept = header(&req, http::header::ACCEPT).map(str::to_string);
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let fixed = |v: Value| -> Result<Response<Body>, ApiError> {
        if !is_get {
            return Err(ApiError::method_not_allowed());
        }
        Ok(respond::json_response(200, &v))
    };
    match route {
        Route::Api | Route::Apis => {
            if !is_get {
                return Err(ApiError::method_not_allowed());
            }
            let core = route == Route::Api;
            let custom = server.registry.crds.all();
            if let Some(agg) = aggregated_accept(accept.as_deref()) {
                let doc = discovery::aggregated(agg, core, &custom);
                return Ok(respond::bytes_response(
                    200,
                    agg.content_type(),
                    serde_json::to_vec(&doc).unwrap_or_default(),
                ));
            }
            fixed(if core {
                discovery::api_versions(&server.server_address)
            } else {
                discovery::group_list(&custom)
            })
        }
        Route::ApiGroup { group } => {
            let custom = server.registry.crds.all();
            fixed(discovery::group(&group, &custom).ok_or_else(ApiError::path_not_found)?)
        }
        Route::ApiGroupVersion { group, version } => {
            let custom = server.registry.crds.all();
            fixed(
                discovery::resource_list(&group, &version, &custom)
                    .ok_or_else(ApiError::path_not_found)?,
            )
        }
        Route::Version => fixed(crate::version_info()),
        Route::Health { .. } => {
            if !is_get {
                return Err(ApiError::method_not_allowed());
            }
            Ok(respond::bytes_response(
                200,
                "text/plain; charset=utf-8",
                "ok",
            ))
        }
        Route::OpenApiV2 => {
            let protobuf = accept
                .as_deref()
                .is_some_and(rkube_openapi::wants_v2_protobuf);
            if let Some(docs) = server.registry.crds.openapi() {
                return Ok(if protobuf {
                    respond::bytes_response(
                        200,
                        rkube_openapi::V2_PROTOBUF_CONTENT_TYPE,
                        docs.v2_protobuf().to_vec(),
                    )
                } else {
                    respond::bytes_response(200, codec::JSON, docs.v2_json().to_vec())
                });
            }
            if protobuf {
                Ok(respond::bytes_response(
                    200,
                    rkube_openapi::V2_PROTOBUF_CONTENT_TYPE,
                    rkube_openapi::v2_protobuf(),
                ))
            } else {
                Ok(respond::bytes_response(
                    200,
                    codec::JSON,
                    rkube_openapi::v2_json(),
                ))
            }
        }
        Route::OpenApiV3Index => Ok(respond::bytes_response(
            200,
            codec::JSON,
            match server.registry.crds.openapi() {
                Some(docs) => docs.v3_index().to_vec(),
                None => rkube_openapi::v3_index(&openapi_group_versions()),
            },
        )),
        Route::OpenApiV3 { group_version } => {
            if let Some(docs) = server.registry.crds.openapi() {
                let doc = docs
                    .v3_document(&group_version)
                    .ok_or_else(ApiError::path_not_found)?;
                return Ok(respond::bytes_response(200, codec::JSON, doc.to_vec()));
            }
            let doc =
                rkube_openapi::v3_document(&group_version).ok_or_else(ApiError::path_not_found)?;
            Ok(respond::bytes_response(200, codec::JSON, doc))
        }
        Route::Resource(rr) => resource(server, req, rr, accept.as_deref()).await,
    }
}

fn field_manager<B>(req: &Request<B>, query: &Query) -> String {
    if let Some(m) = query.get("fieldManager").filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    // Upstream derives the manager from the user agent's program name.
    header(req, http::header::USER_AGENT)
        .map(|ua| ua.split('/').next().unwrap_or("").to_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The options object a CONNECT is admitted with (`PodExecOptions`, `NodeProxyOptions`,
/// …): the subresource's kind and what the query asked, as upstream decodes them.
fn connect_options(
    rr: &ResourceRequest,
    sub: &str,
    query: Option<&str>,
    path: Option<&str>,
) -> Value {
    let kind = rr.resource.subresource(sub).map_or("", |s| s.kind);
    let mut options = serde_json::Map::new();
    options.insert("kind".into(), json!(kind));
    options.insert("apiVersion".into(), json!("v1"));
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let value = match (key.as_ref(), value.as_ref()) {
            ("stdin" | "stdout" | "stderr" | "tty", v) => json!(v == "true" || v == "1"),
            ("ports", v) => v.parse::<u64>().map_or_else(|_| json!(v), |n| json!(n)),
            (_, v) => json!(v),
        };
        match key.as_ref() {
            // Repeated parameters are lists in these options.
            "command" | "ports" => {
                let list = options.entry(key.to_string()).or_insert_with(|| json!([]));
                if let Some(l) = list.as_array_mut() {
                    l.push(value);
                }
            }
            k => {
                options.insert(k.to_string(), value);
            }
        }
    }
    if let Some(path) = path {
        let rest = path.split_once("/proxy").map_or("", |(_, rest)| rest);
        options.insert(
            "path".into(),
            json!(if rest.is_empty() { "/" } else { rest }),
        );
    }
    Value::Object(options)
}

async fn resource(
    server: &Arc<ApiServer>,
    req: Request<Bytes>,
    rr: ResourceRequest,
    accept: Option<&str>,
) -> Result<Response<Body>, ApiError> {
    // A proxied request's query, Accept and body belong to the server behind the proxy.
    if rr.subresource.as_deref() == Some("proxy") && rr.name.is_some() {
        let (parts, body) = req.into_parts();
        let options = connect_options(&rr, "proxy", parts.uri.query(), Some(parts.uri.path()));
        server
            .registry
            .admit_connect(
                rr.resource,
                rr.namespace.as_deref(),
                rr.name.as_deref().unwrap_or(""),
                "proxy",
                options,
            )
            .await?;
        return crate::proxy::serve(
            &server.registry,
            &rr,
            &parts.method,
            &parts.headers,
            parts.uri.path(),
            parts.uri.query(),
            body,
        )
        .await;
    }
    let query = Query::parse(req.uri().query())?;
    let raw_query = req.uri().query().map(str::to_string);
    let r = rr.resource;
    let neg = if r.custom.is_some() {
        crate::crd::serve::negotiate(accept)?
    } else {
        codec::negotiate_for(accept, !r.is_review())?
    };
    if let Some(warning) = r.custom.and_then(|c| c.deprecation_warning.as_deref()) {
        crate::fieldvalidation::add_warning(warning);
    }
    let include = query.include_object()?;
    let registry = &server.registry;
    let ns = rr.namespace.as_deref();
    let method = req.method().clone();
    let content_type = header(&req, http::header::CONTENT_TYPE).map(str::to_string);
    let opts = WriteOptions {
        dry_run: query.dry_run()?,
        field_manager: field_manager(&req, &query),
        field_validation: query.field_validation()?,
        subresource: rr.subresource.clone(),
        apply: false,
        admission_webhooks: true,
    };
    let verb_ok = |verb: &str| -> Result<(), ApiError> {
        if r.has_verb(verb) {
            Ok(())
        } else {
            Err(ApiError::method_not_allowed())
        }
    };
    let body = req.into_body();
    let sub = rr.subresource.as_deref();
    match (&method, rr.name.as_deref(), sub) {
        (&Method::GET, None, None) => {
            let mut list = query.list_options(r)?;
            if rr.legacy_watch || query.is_watch()? {
                verb_ok("watch")?;
                let timeout = query
                    .int("timeoutSeconds")?
                    .filter(|t| *t > 0)
                    .map(|t| t as u64)
                    .unwrap_or(1800);
                list.limit = None;
                let params = WatchParams {
                    list,
                    allow_bookmarks: query.flag("allowWatchBookmarks")?,
                    send_initial_events: match query.get("sendInitialEvents") {
                        None | Some("") => None,
                        Some(_) => Some(query.flag("sendInitialEvents")?),
                    },
                    timeout: Duration::from_secs(timeout),
                    include,
                };
                return Ok(
                    watch::serve(registry.clone(), r, rr.namespace.clone(), params, neg).await,
                );
            }
            verb_ok("list")?;
            if r.plural == "componentstatuses" {
                return Ok(respond::json_response(200, &crate::component_statuses()));
            }
            let out = registry.list(r, ns, &list).await?;
            Ok(respond::list_response(r, &out, neg, include))
        }
        (&Method::GET, Some(name), None) => {
            if rr.legacy_watch {
                verb_ok("watch")?;
                let mut list = query.list_options(r)?;
                list.field_selector = Some(
                    rkube_api::selector::FieldSelector::parse(&format!("metadata.name={name}"))
                        .map_err(ApiError::bad_request)?,
                );
                let params = WatchParams {
                    list,
                    allow_bookmarks: query.flag("allowWatchBookmarks")?,
                    send_initial_events: None,
                    timeout: Duration::from_secs(1800),
                    include,
                };
                return Ok(
                    watch::serve(registry.clone(), r, rr.namespace.clone(), params, neg).await,
                );
            }
            verb_ok("get")?;
            if r.plural == "componentstatuses" {
                return Err(ApiError::not_found(crate::registry::qualified(r), name));
            }
            let kv = registry.get(r, ns, name).await?;
            Ok(respond::object_response(200, r, &kv.value, neg, include))
        }
        (
            &Method::GET,
            Some(name),
            Some("status" | "ephemeralcontainers" | "resize" | "approval"),
        ) => {
            let kv = registry.get(r, ns, name).await?;
            Ok(respond::object_response(200, r, &kv.value, neg, include))
        }
        (&Method::GET, Some(name), Some("scale")) => {
            let (obj, _) = registry.get_value(r, ns, name).await?;
            Ok(respond::value_response(
                200,
                &crate::scale::to_scale(r, &obj),
                neg.format,
            ))
        }
        (&Method::GET, Some(name), Some("log")) => {
            let (obj, _) = registry.get_value(r, ns, name).await?;
            crate::podlog::pod_log(registry, &obj, name, raw_query.as_deref()).await
        }
        (_, Some(name), Some(sub @ ("exec" | "attach" | "portforward"))) => {
            let (obj, _) = registry.get_value(r, ns, name).await?;
            let options = connect_options(&rr, sub, raw_query.as_deref(), None);
            registry.admit_connect(r, ns, name, sub, options).await?;
            Err(crate::scale::node_side(r, &obj, name, sub))
        }
        (&Method::POST, None, None) => {
            verb_ok("create")?;
            if registry.crds.is_terminating(r) {
                return Err(crate::crd::serve::refuse_create_while_terminating(r));
            }
            let obj = decode(&body, content_type.as_deref(), r, &opts)?;
            if r.plural == "bindings" {
                return crate::scale::bind(registry, ns, obj, &opts).await;
            }
            if r.is_review() {
                let answered = crate::review::answer(r, ns, obj)?;
                return Ok(respond::value_response(201, &answered, neg.format));
            }
            let written = registry.create(r, ns, obj, &opts).await?;
            Ok(respond::object_response(
                201,
                r,
                &written.body,
                plain(neg),
                include,
            ))
        }
        (&Method::POST, Some(name), Some("binding")) => {
            let obj = decode(&body, content_type.as_deref(), r, &opts)?;
            if crate::registry::meta::meta_str(&obj, "name").is_some_and(|n| n != name) {
                return Err(ApiError::bad_request(
                    "name in URL does not match name in Binding object",
                ));
            }
            crate::scale::bind(registry, ns, obj, &opts).await
        }
        (&Method::POST, Some(name), Some("eviction")) => {
            let del = crate::registry::DeleteOptions {
                dry_run: opts.dry_run,
                ..Default::default()
            };
            registry.delete(r, ns, name, &del).await?;
            Ok(respond::json_response(
                201,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}),
            ))
        }
        (
            &Method::PUT,
            Some(name),
            None | Some("status" | "ephemeralcontainers" | "resize" | "approval"),
        ) => {
            verb_ok("update")?;
            let obj = decode(&body, content_type.as_deref(), r, &opts)?;
            let written = registry.update(r, ns, name, obj, &opts).await?;
            Ok(respond::object_response(
                if written.created { 201 } else { 200 },
                r,
                &written.body,
                plain(neg),
                include,
            ))
        }
        (&Method::PUT, Some(name), Some("finalize")) if r.plural == "namespaces" => {
            let obj = decode(&body, content_type.as_deref(), r, &opts)?;
            let out = registry.finalize_namespace(r, name, obj, &opts).await?;
            Ok(respond::object_response(200, r, &out, plain(neg), include))
        }
        (&Method::PUT, Some(name), Some("scale")) => {
            let obj = decode(&body, content_type.as_deref(), r, &opts)?;
            crate::scale::update_scale(
                registry,
                r,
                ns,
                name,
                ScaleChange::Replace(obj),
                &opts,
                neg.format,
            )
            .await
        }
        (&Method::PATCH, Some(name), Some("scale")) => {
            let kind = codec::body_type(content_type.as_deref())?;
            if r.custom.is_some() {
                crate::crd::serve::check_body(kind, true)?;
            }
            let patch = crate::patch::parse_patch(&body, kind)?;
            crate::scale::update_scale(
                registry,
                r,
                ns,
                name,
                ScaleChange::Patch(kind, patch),
                &opts,
                neg.format,
            )
            .await
        }
        (
            &Method::PATCH,
            Some(name),
            None | Some("status" | "ephemeralcontainers" | "resize" | "approval"),
        ) => {
            verb_ok("patch")?;
            let kind = codec::body_type(content_type.as_deref())?;
            if r.custom.is_some() {
                crate::crd::serve::check_body(kind, true)?;
            }
            let force = query.flag("force")?;
            let written =
                crate::patch::patch(registry, r, ns, name, &body, kind, force, &opts).await?;
            Ok(respond::object_response(
                if written.created { 201 } else { 200 },
                r,
                &written.body,
                plain(neg),
                include,
            ))
        }
        (&Method::DELETE, Some(name), None) => {
            verb_ok("delete")?;
            let mut del = query.delete_options()?;
            if !body.is_empty() {
                del.merge_body(&codec::parse_json(&body)?)?;
            }
            let out = registry.delete(r, ns, name, &del).await?;
            Ok(respond::object_response(200, r, &out, plain(neg), include))
        }
        (&Method::DELETE, None, None) => {
            verb_ok("deletecollection")?;
            let mut del = query.delete_options()?;
            if !body.is_empty() {
                del.merge_body(&codec::parse_json(&body)?)?;
            }
            let list = query.list_options(r)?;
            let deleted = registry.delete_collection(r, ns, &list, &del).await?;
            let items: Vec<Value> = deleted
                .iter()
                .filter_map(|b| serde_json::from_slice(b).ok())
                .collect();
            let rev = registry_revision(registry);
            Ok(respond::json_response(
                200,
                &json!({"kind": r.list_kind(), "apiVersion": r.api_version(), "metadata": {"resourceVersion": rev.to_string()}, "items": items}),
            ))
        }
        (&Method::HEAD, _, _) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn openapi_group_versions() -> Vec<rkube_openapi::GroupVersion<'static>> {
    rkube_api::resources::group_versions()
        .into_iter()
        .map(|gv| rkube_openapi::GroupVersion {
            group: gv.group,
            version: gv.version,
        })
        .collect()
}

pub enum ScaleChange {
    Replace(Value),
    Patch(BodyType, Value),
}

fn registry_revision(registry: &Registry) -> u64 {
    use rkube_storage::Storage as _;
    registry.store.current_revision()
}

/// Writes answer with the object itself unless a Table or metadata was asked for.
fn plain(neg: Negotiated) -> Negotiated {
    match neg.shape {
        Shape::Table { .. } => Negotiated {
            format: Format::Json,
            shape: Shape::Plain,
        },
        _ => neg,
    }
}

fn decode(
    body: &[u8],
    content_type: Option<&str>,
    r: &rkube_api::Resource,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let kind = codec::body_type(content_type)?;
    if r.custom.is_some() {
        crate::crd::serve::check_body(kind, false)?;
        let obj = codec::decode_object(body, kind)?;
        return crate::crd::serve::field_validation(r, obj, opts, false);
    }
    if kind == BodyType::Json {
        // One parse for the common body; anything unusual takes the general path.
        if let Some(decoded) = crate::fieldvalidation::decode_json(body, r, opts) {
            return decoded;
        }
    }
    let obj = codec::decode_object(body, kind)?;
    crate::fieldvalidation::decoded(body, kind, obj, r, opts)
}
