//! The `admission.k8s.io/v1` AdmissionReview sent to a webhook and the verdict read
//! from its answer (upstream's `webhook/request` package).

use base64::Engine as _;
use rkube_api::ApiError;
use serde_json::{json, Map, Value};

use super::client::CallError;
use super::{Attributes, Operation};

/// The review for one call: its uid and JSON body.
pub fn request(a: &Attributes<'_>, obj: Option<&Value>, old: Option<&Value>) -> (String, Vec<u8>) {
    let uid = uuid::Uuid::new_v4().to_string();
    let r = a.resource;
    let kind = json!({"group": r.group, "version": r.version, "kind": a.kind.unwrap_or(r.kind)});
    let resource = json!({"group": r.group, "version": r.version, "resource": r.plural});
    let mut req = Map::new();
    req.insert("uid".into(), json!(uid));
    req.insert("kind".into(), kind.clone());
    req.insert("resource".into(), resource.clone());
    if let Some(sub) = a.subresource {
        req.insert("subResource".into(), json!(sub));
    }
    req.insert("requestKind".into(), kind);
    req.insert("requestResource".into(), resource);
    if let Some(sub) = a.subresource {
        req.insert("requestSubResource".into(), json!(sub));
    }
    if !a.name.is_empty() {
        req.insert("name".into(), json!(a.name));
    }
    if !a.namespace.is_empty() {
        req.insert("namespace".into(), json!(a.namespace));
    }
    req.insert("operation".into(), json!(a.operation.as_str()));
    req.insert(
        "userInfo".into(),
        json!({"username": rkube_api::defaults::INSECURE_USER, "groups": rkube_api::defaults::INSECURE_GROUPS}),
    );
    req.insert("object".into(), obj.cloned().unwrap_or(Value::Null));
    req.insert("oldObject".into(), old.cloned().unwrap_or(Value::Null));
    req.insert("dryRun".into(), json!(a.dry_run));
    let options = match a.operation.options_kind() {
        "" => Value::Null,
        kind => json!({"kind": kind, "apiVersion": "meta.k8s.io/v1"}),
    };
    req.insert("options".into(), options);
    let review =
        json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": req});
    (uid, serde_json::to_vec(&review).unwrap_or_default())
}

/// What a webhook answered.
#[derive(Debug)]
pub struct Verdict {
    pub allowed: bool,
    pub status: Option<Value>,
    /// A decoded JSONPatch (mutating webhooks only).
    pub patch: Option<Value>,
    pub warnings: Vec<String>,
}

/// Check the answer is a v1 AdmissionReview for this request and read it.
pub fn verdict(answer: &Value, uid: &str, op: Operation) -> Result<Verdict, CallError> {
    let bad = |m: String| CallError::Response(m);
    if answer.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || answer.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        return Err(bad(format!(
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {}, Kind={}",
            answer.get("apiVersion").and_then(Value::as_str).unwrap_or(""),
            answer.get("kind").and_then(Value::as_str).unwrap_or("")
        )));
    }
    let resp = answer
        .get("response")
        .filter(|r| r.is_object())
        .ok_or_else(|| bad("webhook response was absent".into()))?;
    let got = resp.get("uid").and_then(Value::as_str).unwrap_or("");
    if got != uid {
        return Err(bad(format!("expected response.uid={uid:?}, got {got:?}")));
    }
    let allowed = resp
        .get("allowed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let patch = match resp
        .get("patch")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(_) if op == Operation::Connect => None,
        Some(encoded) => {
            match resp.get("patchType").and_then(Value::as_str) {
                Some("JSONPatch") => {}
                other => {
                    return Err(bad(format!(
                        "expected patchType \"JSONPatch\", got {:?}",
                        other.unwrap_or("")
                    )))
                }
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| bad(format!("patch: {e}")))?;
            Some(serde_json::from_slice(&raw).map_err(|e| bad(format!("patch: {e}")))?)
        }
    };
    let warnings = resp
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    Ok(Verdict {
        allowed,
        status: resp.get("status").filter(|s| s.is_object()).cloned(),
        patch,
        warnings,
    })
}

impl Verdict {
    /// Each warning goes to the client in a `Warning` header, as upstream adds them.
    pub fn add_warnings(&self) {
        for w in &self.warnings {
            crate::fieldvalidation::add_warning(w);
        }
    }

    /// The client's error for a denial (upstream's `webhookerrors.ToStatusErr`): the
    /// webhook's code (at least 400) and reason, its message after `admission webhook
    /// "name" denied the request`.
    pub fn denial(&self, webhook: &str) -> ApiError {
        let denied_by = format!("admission webhook {webhook:?} denied the request");
        let status = self.status.clone().unwrap_or(Value::Null);
        let code = status
            .get("code")
            .and_then(Value::as_u64)
            .filter(|c| (400..600).contains(c))
            .unwrap_or(400);
        let reason = status
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let message = match status
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
        {
            Some(m) => format!("{denied_by}: {m}"),
            None if !reason.is_empty() => format!("{denied_by}: {reason}"),
            None => format!("{denied_by} without explanation"),
        };
        ApiError::with_reason(
            code as u16,
            &reason,
            message,
            status.get("details").cloned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked_and_read() {
        let ok = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "u1", "allowed": true, "patchType": "JSONPatch",
                "patch": base64::engine::general_purpose::STANDARD.encode(r#"[{"op":"add","path":"/metadata/labels/x","value":"y"}]"#),
                "warnings": ["careful"]}});
        let v = verdict(&ok, "u1", Operation::Create).unwrap();
        assert!(v.allowed);
        assert_eq!(v.patch.unwrap()[0]["path"], "/metadata/labels/x");
        assert_eq!(v.warnings, ["careful"]);
        assert!(verdict(&ok, "other", Operation::Create).is_err());
        let mut v1beta1 = ok.clone();
        v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
        assert!(verdict(&v1beta1, "u1", Operation::Create).is_err());
    }

    #[test]
    fn denials_read_like_upstream() {
        let v = Verdict {
            allowed: false,
            status: Some(
                json!({"code": 403, "reason": "Forbidden", "message": "no deny-me configmaps"}),
            ),
            patch: None,
            warnings: vec![],
        };
        let e = v.denial("deny.rkube.io");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "admission webhook \"deny.rkube.io\" denied the request: no deny-me configmaps"
        );
        let bare = Verdict {
            allowed: false,
            status: None,
            patch: None,
            warnings: vec![],
        };
        let e = bare.denial("x.y.z");
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "admission webhook \"x.y.z\" denied the request without explanation"
        );
    }
}
