//! `metav1.Status` errors shaped exactly like upstream's (`k8s.io/apimachinery/pkg/api/errors`).

use serde_json::{json, Map, Value};

/// One cause of an error, as in `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueDuplicate`, ...
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, message: impl Into<String>, field: impl Into<String>) -> Self {
        Cause {
            reason: reason.to_string(),
            message: message.into(),
            field: field.into(),
        }
    }
}

/// An error answer: the HTTP code and the Status body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

/// Qualified resource: what messages and `details` name.
#[derive(Debug, Clone, Copy)]
pub struct Qualified<'a> {
    pub group: &'a str,
    pub resource: &'a str,
}

impl Qualified<'_> {
    fn display(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    fn details(&self, name: &str) -> Value {
        let mut d = Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !self.group.is_empty() {
            d.insert("group".into(), json!(self.group));
        }
        d.insert("kind".into(), json!(self.resource));
        Value::Object(d)
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    pub fn not_found(q: Qualified<'_>, name: &str) -> Self {
        ApiError {
            details: Some(q.details(name)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{}\" not found", q.display(), name),
            )
        }
    }

    pub fn already_exists(q: Qualified<'_>, name: &str) -> Self {
        ApiError {
            details: Some(q.details(name)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{}\" already exists", q.display(), name),
            )
        }
    }

    pub fn conflict(q: Qualified<'_>, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(q.details(name)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{}\": {}",
                    q.display(),
                    name,
                    why
                ),
            )
        }
    }

    /// The optimistic-concurrency conflict of an update with a stale resourceVersion.
    pub fn stale(q: Qualified<'_>, name: &str) -> Self {
        Self::conflict(
            q,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid. `kind` is the object's kind (`Pod`), as upstream reports it.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let list: Vec<String> = causes.iter().map(|c| c.message.clone()).collect();
        let joined = match list.len() {
            0 => String::new(),
            1 => list[0].clone(),
            _ => format!("[{}]", list.join(", ")),
        };
        let mut details = Map::new();
        if !name.is_empty() {
            details.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            details.insert("group".into(), json!(group));
        }
        details.insert("kind".into(), json!(kind));
        details.insert(
            "causes".into(),
            Value::Array(
                causes
                    .iter()
                    .map(|c| json!({"reason": c.reason, "message": cause_detail(&c.message, &c.field), "field": c.field}))
                    .collect(),
            ),
        );
        ApiError {
            details: Some(Value::Object(details)),
            ..Self::new(
                422,
                "Invalid",
                format!(
                    "{} \"{name}\" is invalid: {joined}",
                    group_kind(kind, group)
                ),
            )
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn forbidden(q: Qualified<'_>, name: &str, why: &str) -> Self {
        let message = if name.is_empty() {
            format!("{} is forbidden: {}", q.display(), why)
        } else {
            format!("{} \"{}\" is forbidden: {}", q.display(), name, why)
        };
        ApiError {
            details: Some(q.details(name)),
            ..Self::new(403, "Forbidden", message)
        }
    }

    pub fn method_not_allowed() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            )
        }
    }

    /// A path the server has no route for.
    pub fn path_not_found() -> Self {
        ApiError {
            details: Some(json!({})),
            ..Self::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
        }
    }

    pub fn not_acceptable() -> Self {
        Self::new(
            406,
            "NotAcceptable",
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        )
    }

    pub fn unsupported_media_type(_content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 410 for a list or watch from a resourceVersion that has been compacted.
    pub fn expired(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Gone", message)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// A status another party chose (an admission webhook's denial): its code, reason
    /// and details are passed on as they are.
    pub fn with_reason(code: u16, reason: &str, message: String, details: Option<Value>) -> Self {
        ApiError {
            code,
            reason: intern_reason(reason),
            message,
            details,
        }
    }

    /// The Status object.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        });
        if !self.reason.is_empty() {
            s["reason"] = json!(self.reason);
        }
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        s["code"] = json!(self.code);
        s
    }
}

/// Distinct reasons kept for the life of the process; a webhook inventing more than this
/// many gets its further ones dropped (an empty reason, as upstream allows).
const MAX_INTERNED_REASONS: usize = 256;

fn intern_reason(reason: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static REASONS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    if reason.is_empty() {
        return "";
    }
    let mut set = REASONS
        .get_or_init(|| Mutex::new(HashSet::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(known) = set.get(reason) {
        return known;
    }
    if set.len() >= MAX_INTERNED_REASONS {
        return "";
    }
    let leaked: &'static str = Box::leak(reason.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// `Kind.group`, as upstream's GroupKind prints (just `Kind` for the core group).
fn group_kind(kind: &str, group: &str) -> String {
    if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    }
}

/// Upstream's causes carry the message without the leading `field: ` that the joined
/// message has.
fn cause_detail(message: &str, field: &str) -> String {
    message
        .strip_prefix(field)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
        .to_string()
}

/// The Status of a successful delete of an object with no body to return.
pub fn success_status(q: Qualified<'_>, name: &str, uid: &str) -> Value {
    let mut details = q.details(name);
    if !uid.is_empty() {
        details["uid"] = json!(uid);
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_upstream_shaped() {
        let e = ApiError::not_found(
            Qualified {
                group: "",
                resource: "pods",
            },
            "foo",
        );
        assert_eq!(
            e.to_status(),
            json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                "message":"pods \"foo\" not found","reason":"NotFound",
                "details":{"name":"foo","kind":"pods"},"code":404})
        );
        let e = ApiError::not_found(
            Qualified {
                group: "apps",
                resource: "deployments",
            },
            "d",
        );
        assert_eq!(e.message, "deployments.apps \"d\" not found");
        assert_eq!(e.details.unwrap()["group"], "apps");
    }

    #[test]
    fn invalid_joins_causes() {
        let e = ApiError::invalid(
            "",
            "Pod",
            "x",
            vec![
                Cause::new(
                    "FieldValueRequired",
                    "spec.containers: Required value",
                    "spec.containers",
                ),
                Cause::new(
                    "FieldValueInvalid",
                    "metadata.name: Invalid value: \"X\": bad",
                    "metadata.name",
                ),
            ],
        );
        assert_eq!(
            e.message,
            "Pod \"x\" is invalid: [spec.containers: Required value, metadata.name: Invalid value: \"X\": bad]"
        );
        let causes = &e.details.as_ref().unwrap()["causes"];
        assert_eq!(causes[0]["message"], "Required value");
        assert_eq!(causes[1]["field"], "metadata.name");
        assert_eq!(e.code, 422);
    }
}
