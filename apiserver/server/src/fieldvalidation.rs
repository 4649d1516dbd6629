//! Field validation (`fieldValidation=Strict|Warn|Ignore`, KEP-2885): fields of a
//! request body its type does not have, and fields given twice, found against
//! the OpenAPI definitions of the types and reported as upstream's strict
//! decoding does:
//!
//! - `Strict`: the request fails: 400 `Deployment in version "v1" cannot be handled
//!   as a Deployment: strict decoding error: unknown field "spec.foo", duplicate
//!   field "metadata.name"` for creates and updates (create.go, update.go,
//!   `transformDecodeError`), 422 `patch: Invalid value: ...` for patches (patch.go).
//! - `Warn` (the default): one `Warning: 299 - "unknown field \"spec.foo\""` header
//!   per problem.
//! - `Ignore`: nothing is said.
//!
//! Whatever the mode, unknown fields are dropped from what is stored, as decoding
//! into the Go types drops them; values decoded by custom unmarshalers
//! (RawExtension, FieldsV1, ...) and maps (labels, data, ...) keep their keys.
//! Protobuf bodies cannot carry unknown fields and are not checked.

mod json;
mod schema;
#[cfg(test)]
mod tests;
mod walk;
mod yaml;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::future::Future;

use http::{HeaderValue, Response};
use rkube_api::{ApiError, Resource};
use rkube_patch::go_format::go_quote;
use serde_json::{json, Value};

use crate::codec::BodyType;
use crate::registry::{FieldValidation, WriteOptions};
use crate::respond::Body;
use schema::Kind;

/// What one decode reports: sigs.k8s.io/json keeps the first 100, each once.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Problems {
    fn push(&mut self, message: String) {
        if self.list.len() < 100 && self.seen.insert(message.clone()) {
            self.list.push(message);
        }
    }

    /// `unknown field "spec.foo"`.
    pub(crate) fn unknown(&mut self, path: &str, key: &str) {
        self.push(format!("unknown field {}", go_quote(&joined(path, key))));
    }

    /// `duplicate field "metadata.name"`.
    pub(crate) fn duplicate(&mut self, path: &str, key: &str) {
        self.push(format!("duplicate field {}", go_quote(&joined(path, key))));
    }

    pub(crate) fn into_messages(self) -> Vec<String> {
        self.list
    }
}

fn joined(path: &str, key: &str) -> String {
    let mut p = path.to_string();
    push_key(&mut p, key);
    p
}

/// sigs.k8s.io/json's field stack: keys joined by `.`, indexes as `[i]`.
pub(crate) fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

pub(crate) fn push_index(path: &mut String, i: usize) {
    let _ = write!(path, "[{i}]");
}

/// The type a body of `r` (through `subresource`) decodes into, with the group,
/// version and kind it is named by; `None` when there is no schema for it.
struct Target {
    version: &'static str,
    kind_name: &'static str,
    kind: Kind,
}

impl Target {
    fn of(r: &Resource, subresource: Option<&str>) -> Option<Target> {
        let (group, version, kind_name) = match subresource.and_then(|s| r.subresource(s)) {
            Some(s) if !s.version.is_empty() => (s.group, s.version, s.kind),
            Some(s) => (r.group, r.version, s.kind),
            None => (r.group, r.version, r.kind),
        };
        let name = rkube_openapi::kind_definition(group, version, kind_name)?;
        let schema = schema::definition(name)?;
        Some(Target {
            version,
            kind_name,
            kind: Kind::Schema(schema),
        })
    }

    /// The body names this type or nothing (anything else is refused later, by
    /// the type check of the registry).
    fn names(&self, obj: &Value, r: &Resource, subresource: Option<&str>) -> bool {
        let (group, version) = match subresource.and_then(|s| r.subresource(s)) {
            Some(s) if !s.version.is_empty() => (s.group, s.version),
            _ => (r.group, r.version),
        };
        let expected = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
        let api_version = field("apiVersion");
        let kind = field("kind");
        (api_version.is_empty() || api_version == expected)
            && (kind.is_empty() || kind == self.kind_name)
    }
}

/// `runtime.NewStrictDecodingError(errs).Error()`.
fn strict_decoding_error(problems: &[String]) -> String {
    format!("strict decoding error: {}", problems.join(", "))
}

/// yaml.v2's error for repeated keys: `yaml: unmarshal errors:\n  line 4: ...`.
fn yaml_unmarshal_errors(lines: &[String]) -> String {
    format!("yaml: unmarshal errors:\n  {}", lines.join("\n  "))
}

const YAML_SHORT_PREFIX: &str = "yaml: unmarshal errors:\n";
const YAML_LONG_PREFIX: &str = "error converting YAML to JSON: yaml: unmarshal errors:\n";

/// upstream's `addStrictDecodingWarnings`: one warning per problem, a YAML
/// unmarshal error split into one per line (`parseYAMLWarnings`).
fn add_strict_warnings(problems: &[String]) {
    for p in problems {
        match p
            .strip_prefix(YAML_LONG_PREFIX)
            .or_else(|| p.strip_prefix(YAML_SHORT_PREFIX))
        {
            Some(rest) => rest.split('\n').for_each(|l| add_warning(l.trim())),
            None => add_warning(p),
        }
    }
}

/// A JSON create or update body decoded once, by the strict decoder alone (what
/// [`decoded`] gives for it, without serde_json's parse before). `None` when the
/// general path must decide: malformed JSON (serde_json words the error), no
/// schema for the type, a body naming another type, or not an object.
pub fn decode_json(
    body: &[u8],
    r: &Resource,
    opts: &WriteOptions,
) -> Option<Result<Value, ApiError>> {
    let sub = opts.subresource.as_deref();
    let target = Target::of(r, sub)?;
    let (obj, problems) = json::decode(body, target.kind)?;
    if !obj.is_object() || !target.names(&obj, r, sub) {
        return None;
    }
    Some(report(obj, problems.into_messages(), &target, r, opts))
}

/// A create or update body (POST, PUT, also of `status`, `scale`, `binding`,
/// `finalize`) after decoding: unknown fields dropped; for Warn and Strict the
/// unknown and duplicate fields are reported. JSON is decoded again from the
/// bytes, so repeated fields are seen and merged as Go merges them.
pub fn decoded(
    body: &[u8],
    body_type: BodyType,
    obj: Value,
    r: &Resource,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let sub = opts.subresource.as_deref();
    let Some(target) = Target::of(r, sub) else {
        return Ok(obj);
    };
    if !target.names(&obj, r, sub) {
        return Ok(obj);
    }
    let directive = opts.field_validation;
    let (obj, problems) = match body_type {
        BodyType::Json => match json::decode(body, target.kind) {
            Some((v, problems)) if v.is_object() => (v, problems.into_messages()),
            _ => {
                let mut obj = obj;
                let mut problems = Problems::default();
                walk::prune(&mut obj, target.kind, false, &mut problems);
                (obj, problems.into_messages())
            }
        },
        BodyType::Yaml => {
            // sigs.k8s.io/yaml turns YAML into JSON with Go's map encoding (keys
            // sorted); in strict mode the YAML is read again for repeated keys.
            let mut messages = Vec::new();
            if directive != FieldValidation::Ignore {
                let lines = yaml::duplicates(body);
                if !lines.is_empty() {
                    messages.push(yaml_unmarshal_errors(&lines));
                }
            }
            let mut obj = obj;
            let mut problems = Problems::default();
            walk::prune(&mut obj, target.kind, true, &mut problems);
            messages.extend(problems.into_messages());
            (obj, messages)
        }
        _ => return Ok(obj),
    };
    report(obj, problems, &target, r, opts)
}

/// What the decoding of a body found, as `fieldValidation` asks it reported.
fn report(
    obj: Value,
    problems: Vec<String>,
    target: &Target,
    r: &Resource,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let sub = opts.subresource.as_deref();
    let directive = opts.field_validation;
    if problems.is_empty() || directive == FieldValidation::Ignore {
        return Ok(obj);
    }
    // A value of the wrong JSON type fails the decoding itself, and that error is
    // the answer (the registry's type check gives it), without strict errors.
    if matches!(sub, None | Some("status"))
        && !rkube_api::validation::type_errors(r, &obj).is_empty()
    {
        return Ok(obj);
    }
    match directive {
        FieldValidation::Ignore => Ok(obj),
        FieldValidation::Warn => {
            add_strict_warnings(&problems);
            Ok(obj)
        }
        FieldValidation::Strict => {
            let (kind, version) = (target.kind_name, target.version);
            Err(ApiError::bad_request(format!(
                "{kind} in version \"{version}\" cannot be handled as a {kind}: {}",
                strict_decoding_error(&problems)
            )))
        }
    }
}

/// The result of a JSON, merge or strategic merge patch (not apply): unknown
/// fields dropped; for Warn and Strict, repeated keys of the patch and unknown
/// fields of the result are reported (patch.go: `applyJSPatch`,
/// `applyPatchToObject`); Strict answers 422 with the patched object (the patch
/// map for strategic merge) as the invalid value of `patch`.
pub fn patched(
    body: &[u8],
    body_type: BodyType,
    patched: Value,
    r: &Resource,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    if r.custom.is_some() {
        return crate::crd::serve::field_validation(r, patched, opts, true);
    }
    let Some(target) = Target::of(r, opts.subresource.as_deref()) else {
        return Ok(patched);
    };
    let directive = opts.field_validation;
    let mut pruned = patched;
    let mut result = Problems::default();
    if directive == FieldValidation::Ignore {
        walk::prune(&mut pruned, target.kind, true, &mut result);
        return Ok(pruned);
    }
    let original = pruned.clone();
    walk::prune(&mut pruned, target.kind, true, &mut result);
    let mut problems: Vec<String> = match body_type {
        BodyType::JsonPatch => json::decode(body, Kind::JsonPatchOps)
            .map(|(_, p)| {
                p.into_messages()
                    .into_iter()
                    .map(|m| format!("json patch {m}"))
                    .collect()
            })
            .unwrap_or_default(),
        BodyType::MergePatch | BodyType::StrategicMergePatch => json::decode(body, Kind::Untyped)
            .map(|(_, p)| p.into_messages())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if body_type == BodyType::StrategicMergePatch {
        problems.extend(walk::converter_unknowns(&original, target.kind));
    } else {
        problems.extend(result.into_messages());
    }
    if problems.is_empty() {
        return Ok(pruned);
    }
    if directive == FieldValidation::Warn {
        add_strict_warnings(&problems);
        return Ok(pruned);
    }
    let value = if body_type == BodyType::StrategicMergePatch {
        let patch: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        walk::go_value(&patch)
    } else {
        walk::go_json(&original)
    };
    Err(invalid_patch(&value, &strict_decoding_error(&problems)))
}

/// A strict patch of a custom resource whose result has unknown fields (`original` is
/// the patched object before pruning).
pub fn strict_patch_error(original: &Value, problems: &[String]) -> ApiError {
    invalid_patch(&walk::go_json(original), &strict_decoding_error(problems))
}

/// `errors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{field.Invalid(
/// field.NewPath("patch"), value, detail)})`.
fn invalid_patch(value: &str, detail: &str) -> ApiError {
    let body = format!("Invalid value: {}: {detail}", go_quote(value));
    ApiError {
        code: 422,
        reason: "Invalid",
        message: format!(" \"\" is invalid: patch: {body}"),
        details: Some(json!({
            "causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}],
        })),
    }
}

/// Server-side apply: structured-merge-diff refuses a configuration with fields
/// the schema does not declare, whatever fieldValidation says, with upstream's
/// 500 `failed to create typed patch object (ns/name; apps/v1, Kind=Deployment):
/// .spec.foo: field not declared in schema` (structuredmerge.go).
pub fn apply_config(config: &Value, r: &Resource) -> Result<(), ApiError> {
    let Some(target) = Target::of(r, None) else {
        return Ok(());
    };
    if !target.names(config, r, None) {
        return Ok(());
    }
    let errors = walk::undeclared(config, target.kind);
    if errors.is_empty() {
        return Ok(());
    }
    let text = |path: &str| -> String {
        let mut v = config;
        for part in path.split('.') {
            v = v.get(part).unwrap_or(&Value::Null);
        }
        v.as_str().unwrap_or("").to_string()
    };
    let api_version = text("apiVersion");
    let (group, version) = api_version
        .rsplit_once('/')
        .unwrap_or(("", api_version.as_str()));
    let message = if errors.len() == 1 {
        errors[0].clone()
    } else {
        format!("errors:\n  {}", errors.join("\n  "))
    };
    Err(ApiError {
        code: 500,
        reason: "",
        message: format!(
            "failed to create typed patch object ({}/{}; {group}/{version}, Kind={}): {message}",
            text("metadata.namespace"),
            text("metadata.name"),
            text("kind"),
        ),
        details: None,
    })
}

/// Server-side apply, once the configuration is applied: repeated keys of the
/// YAML body (`yaml.UnmarshalStrict`) fail a Strict request with 400 `error
/// strict decoding YAML: ...` and are warnings for Warn.
pub fn applied(body: &[u8], opts: &WriteOptions) -> Result<(), ApiError> {
    if opts.field_validation == FieldValidation::Ignore {
        return Ok(());
    }
    let lines = yaml::duplicates(body);
    if lines.is_empty() {
        return Ok(());
    }
    let error = format!(
        "error converting YAML to JSON: {}",
        yaml_unmarshal_errors(&lines)
    );
    if opts.field_validation == FieldValidation::Strict {
        return Err(ApiError::bad_request(format!(
            "error strict decoding YAML: {error}"
        )));
    }
    add_strict_warnings(&[error]);
    Ok(())
}

tokio::task_local! {
    static WARNINGS: RefCell<Vec<String>>;
}

/// Record a warning for the response of the request being served (upstream's
/// `warning.AddWarning`): empty and repeated texts are dropped.
pub fn add_warning(text: &str) {
    let _ = WARNINGS.try_with(|w| {
        let mut w = w.borrow_mut();
        if !text.is_empty() && !w.iter().any(|t| t == text) {
            w.push(text.to_string());
        }
    });
}

/// Serve a request with a warning recorder; what was recorded becomes its
/// response's `Warning` headers.
pub async fn with_warnings<F>(serve: F) -> Response<Body>
where
    F: Future<Output = Response<Body>>,
{
    let (mut resp, warnings) = WARNINGS
        .scope(RefCell::new(Vec::new()), async {
            let resp = serve.await;
            let warnings = WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
            (resp, warnings)
        })
        .await;
    for value in warning_headers(&warnings) {
        resp.headers_mut().append(http::header::WARNING, value);
    }
    resp
}

/// Upstream's warning recorder: the texts as `299 - "<text>"` (`"` and `\`
/// escaped); past 4096 characters in all, each is cut to 256 and what still
/// does not fit is left out. Texts with control characters are not sent.
fn warning_headers(warnings: &[String]) -> Vec<HeaderValue> {
    const TOTAL: usize = 4 * 1024;
    const ITEM: usize = 256;
    let usable: Vec<&String> = warnings
        .iter()
        .filter(|t| !t.chars().any(char::is_control))
        .collect();
    let cut = |t: &str| -> String { t.chars().take(ITEM).collect() };
    let mut out: Vec<String> = Vec::new();
    let mut written = 0usize;
    let mut truncating = false;
    for (i, text) in usable.iter().enumerate() {
        if truncating && written >= TOTAL {
            break;
        }
        let text = if truncating {
            cut(text)
        } else {
            text.to_string()
        };
        let runes = text.chars().count();
        if written + runes <= TOTAL || truncating {
            written += runes;
            out.push(text);
            continue;
        }
        truncating = true;
        written = 0;
        out.clear();
        for earlier in &usable[..=i] {
            let t = cut(earlier);
            written += t.chars().count();
            out.push(t);
        }
    }
    out.iter()
        .filter_map(|text| {
            let mut v = String::from("299 - \"");
            for c in text.chars() {
                if c == '"' || c == '\\' {
                    v.push('\\');
                }
                v.push(c);
            }
            v.push('"');
            HeaderValue::from_bytes(v.as_bytes()).ok()
        })
        .collect()
}
