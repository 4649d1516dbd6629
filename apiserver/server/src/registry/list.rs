//! List with selectors, `limit`/`continue`, and resourceVersion semantics.

use base64::Engine as _;
use bytes::Bytes;
use rkube_api::selector::{FieldSelector, LabelSelector};
use rkube_api::{ApiError, Resource};
use rkube_storage::Storage as _;
use serde_json::{json, Value};

use super::{storage_error, Registry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RvMatch {
    NotOlderThan,
    Exact,
}

#[derive(Debug, Default)]
pub struct ListOptions {
    pub label_selector: Option<LabelSelector>,
    pub field_selector: Option<FieldSelector>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<RvMatch>,
}

pub struct ListOutcome {
    pub items: Vec<Bytes>,
    pub revision: u64,
    pub continue_token: Option<String>,
    pub remaining: Option<u64>,
}

impl ListOutcome {
    /// The list object, built by splicing the stored bytes of each item.
    pub fn to_json(&self, r: &Resource) -> Vec<u8> {
        let mut meta = serde_json::Map::new();
        meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
        if let Some(c) = &self.continue_token {
            meta.insert("continue".into(), json!(c));
        }
        if let Some(n) = self.remaining {
            meta.insert("remainingItemCount".into(), json!(n));
        }
        let head = format!(
            "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
            r.list_kind(),
            r.api_version(),
            Value::Object(meta)
        );
        let size = head.len() + self.items.iter().map(|i| i.len() + 1).sum::<usize>() + 2;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(head.as_bytes());
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(item);
        }
        out.extend_from_slice(b"]}");
        out
    }
}

/// The continue token: the revision of the first page and the key to start after.
fn encode_continue(revision: u64, start_after: &str) -> String {
    let raw = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start_after}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(token: &str) -> Result<(u64, String), ApiError> {
    let bad = || {
        ApiError::bad_request("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let start = v
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(bad)?
        .to_string();
    if start.contains("..") {
        return Err(bad());
    }
    Ok((rv, start))
}

fn parse_rv(rv: &str) -> Result<u64, ApiError> {
    rv.parse::<u64>()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))
}

impl ListOptions {
    pub fn has_selectors(&self) -> bool {
        self.label_selector.as_ref().is_some_and(|s| !s.is_empty())
            || self.field_selector.as_ref().is_some_and(|s| !s.is_empty())
    }

    /// Whether an object passes the selectors.
    pub fn matches(&self, r: &Resource, obj: &Value) -> bool {
        if let Some(ls) = &self.label_selector {
            if !ls.matches(obj.pointer("/metadata/labels").and_then(Value::as_object)) {
                return false;
            }
        }
        if let Some(fs) = &self.field_selector {
            if !fs.matches(r, obj) {
                return false;
            }
        }
        true
    }
}

impl Registry {
    pub async fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListOutcome, ApiError> {
        let prefix = self.list_prefix(r, namespace);
        let (at, start_after) = match &opts.continue_token {
            Some(token) => {
                if opts
                    .resource_version
                    .as_deref()
                    .is_some_and(|rv| !rv.is_empty())
                {
                    return Err(ApiError::bad_request(
                        "specifying resource version is not allowed when using continue",
                    ));
                }
                let (rv, start) = decode_continue(token)?;
                (Some(rv), Some(start))
            }
            None => match (
                opts.resource_version.as_deref(),
                opts.resource_version_match,
            ) {
                (None | Some(""), Some(_)) => {
                    return Err(ApiError::bad_request(
                        "resourceVersionMatch is forbidden unless resourceVersion is provided",
                    ))
                }
                (None | Some("") | Some("0"), _) => (None, None),
                (Some(rv), Some(RvMatch::Exact)) => (Some(parse_rv(rv)?), None),
                (Some(rv), _) => {
                    let wanted = parse_rv(rv)?;
                    let current = self.store.current_revision();
                    if wanted > current {
                        return Err(ApiError::timeout(format!(
                            "Too large resource version: {wanted}, current: {current}"
                        )));
                    }
                    (None, None)
                }
            },
        };
        let listed = self.store.list(&prefix, at).await.map_err(|e| match (&opts.continue_token, e) {
            (Some(_), rkube_storage::StorageError::Compacted { .. }) => ApiError {
                code: 410,
                reason: "Expired",
                message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
                details: None,
            },
            (_, e) => storage_error(r, "", e),
        })?;
        // A limit is ignored for resourceVersion=0, as upstream's watch cache does.
        let limit = if opts.resource_version.as_deref() == Some("0") {
            None
        } else {
            opts.limit.filter(|l| *l > 0)
        };
        let filtering = opts.has_selectors();
        let mut items = Vec::new();
        let mut last_key: Option<String> = None;
        let mut remaining: u64 = 0;
        let mut more = false;
        for kv in listed.items.iter() {
            if let Some(start) = &start_after {
                if kv.key.as_str() <= start.as_str() {
                    continue;
                }
            }
            if more {
                remaining += 1;
                continue;
            }
            if filtering {
                let Ok(obj) = serde_json::from_slice::<Value>(&kv.value) else {
                    continue;
                };
                if !opts.matches(r, &obj) {
                    continue;
                }
            }
            items.push(super::convert::bytes_from_storage(r, &kv.value));
            last_key = Some(kv.key.clone());
            if limit.is_some_and(|l| items.len() >= l) {
                more = true;
            }
        }
        let has_more = more && remaining > 0;
        let continue_token = if has_more {
            last_key.map(|k| encode_continue(listed.revision, &k))
        } else {
            None
        };
        Ok(ListOutcome {
            items,
            revision: listed.revision,
            continue_token,
            remaining: if has_more && !filtering {
                Some(remaining)
            } else {
                None
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_round_trip() {
        let t = encode_continue(42, "/registry/pods/default/a");
        assert_eq!(
            decode_continue(&t).unwrap(),
            (42, "/registry/pods/default/a".to_string())
        );
        assert!(decode_continue("!!!").is_err());
    }
}
