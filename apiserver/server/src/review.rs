//! authentication.k8s.io and authorization.k8s.io reviews: a POST asks a question and
//! gets the object back with the answer in `status`; nothing is stored.
//!
//! rkube serves the insecure port only, where upstream authenticated and authorized
//! nothing (every request was a cluster admin's, as with `--authorization-mode=
//! AlwaysAllow`): every access is allowed, the rules are "everything", the user is the
//! insecure port's, and with no token authenticator a TokenReview comes back without a
//! verdict, as upstream answers then. RBAC objects are stored but not enforced until the
//! secure port exists.

use rkube_api::{ApiError, Resource};
use serde_json::{json, Value};

use crate::registry::write::check_type;

/// Answer a review POSTed to `r` (in namespace `ns` for the local kind).
pub fn answer(r: &Resource, ns: Option<&str>, mut review: Value) -> Result<Value, ApiError> {
    check_type(&mut review, r.kind, r.group, r.version)?;
    if r.kind == "LocalSubjectAccessReview" {
        check_namespace(ns.unwrap_or(""), &review)?;
    }
    let status = match r.kind {
        "TokenReview" => {
            if review
                .pointer("/spec/token")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                return Err(ApiError::bad_request(
                    "token is required for TokenReview in authentication",
                ));
            }
            json!({})
        }
        "SelfSubjectReview" => {
            json!({"userInfo": {
                "username": rkube_api::defaults::INSECURE_USER,
                "groups": rkube_api::defaults::INSECURE_GROUPS,
            }})
        }
        "SelfSubjectRulesReview" => {
            if review
                .pointer("/spec/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                return Err(ApiError::bad_request("no namespace on request"));
            }
            json!({
                "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
                "incomplete": false,
            })
        }
        kind => {
            let causes = rkube_api::validation::validate_access_review(kind, &review);
            if !causes.is_empty() {
                return Err(ApiError::invalid(r.group, r.kind, "", causes));
            }
            json!({"allowed": true})
        }
    };
    if let Some(o) = review.as_object_mut() {
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            // Upstream stamps the one review it builds itself.
            if r.kind == "SelfSubjectReview" {
                m.insert("creationTimestamp".into(), json!(crate::clock::now()));
            } else {
                m.entry("creationTimestamp").or_insert(Value::Null);
            }
        }
        if r.kind == "SelfSubjectAccessReview" || r.kind == "SelfSubjectRulesReview" {
            o.entry("spec").or_insert_with(|| json!({}));
        }
        o.insert("status".into(), status);
    }
    Ok(review)
}

/// A LocalSubjectAccessReview asks about its own namespace only.
fn check_namespace(ns: &str, review: &Value) -> Result<(), ApiError> {
    let meta_ns = review
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !meta_ns.is_empty() && meta_ns != ns {
        return Err(ApiError::bad_request(format!(
            "namespace of request does not match the namespace of the review: {meta_ns}"
        )));
    }
    if let Some(attrs) = review
        .pointer("/spec/resourceAttributes")
        .filter(|a| a.is_object())
    {
        let asked = attrs["namespace"].as_str().unwrap_or("");
        if asked != ns {
            return Err(ApiError::bad_request(format!(
                "spec.resourceAttributes.namespace must match namespace: {ns}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(plural: &str) -> &'static Resource {
        rkube_api::resources::find("authorization.k8s.io", "v1", plural).expect("served")
    }

    #[test]
    fn every_access_is_allowed_on_the_insecure_port() {
        let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                            "spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}});
        let answered = answer(kind("selfsubjectaccessreviews"), None, review).unwrap();
        assert_eq!(answered["status"], json!({"allowed": true}));
        assert_eq!(answered["metadata"], json!({"creationTimestamp": null}));
    }

    #[test]
    fn who_am_i_is_the_insecure_ports_user() {
        let r = rkube_api::resources::find("authentication.k8s.io", "v1", "selfsubjectreviews")
            .expect("served");
        let answered = answer(r, None, json!({})).unwrap();
        assert_eq!(
            answered["status"]["userInfo"]["username"],
            rkube_api::defaults::INSECURE_USER
        );
        let r = rkube_api::resources::find("authentication.k8s.io", "v1", "tokenreviews")
            .expect("served");
        assert_eq!(answer(r, None, json!({"spec": {}})).unwrap_err().code, 400);
    }

    #[test]
    fn a_question_without_attributes_is_invalid() {
        let review = json!({"spec": {"user": "alice"}});
        let e = answer(kind("subjectaccessreviews"), None, review).unwrap_err();
        assert_eq!(e.code, 422);
    }

    #[test]
    fn a_local_review_stays_in_its_namespace() {
        let review = json!({"spec": {"user": "a", "resourceAttributes": {"namespace": "other", "verb": "get"}}});
        let e = answer(kind("localsubjectaccessreviews"), Some("mine"), review).unwrap_err();
        assert_eq!(e.code, 400);
    }
}
