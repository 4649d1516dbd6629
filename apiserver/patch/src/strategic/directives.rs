//! Cleaning patch values before they land in the object: upstream decodes
//! the merged map into a typed object, which drops nulls and the directive
//! keys; we keep JSON, so we drop them here.

use serde_json::Value;

use super::{DELETE_FROM_PRIMITIVE_LIST, DIRECTIVE, RETAIN_KEYS, SET_ELEMENT_ORDER};

fn is_directive_key(key: &str) -> bool {
    key == DIRECTIVE
        || key == RETAIN_KEYS
        || key.starts_with(SET_ELEMENT_ORDER)
        || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
}

/// Upstream's removeDirectives: a map carrying `$patch` disappears (from
/// its parent map or list); other directive keys are dropped.
pub(super) fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE) {
                return None;
            }
            Some(Value::Object(
                map.into_iter()
                    .filter(|(k, _)| !is_directive_key(k))
                    .filter_map(|(k, v)| remove_directives(v).map(|v| (k, v)))
                    .collect(),
            ))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// What decoding into a typed object leaves of a raw patch value: no null
/// members, no directive keys.
pub(super) fn decode_clean(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, v)| !v.is_null() && !is_directive_key(k))
                .map(|(k, v)| (k, decode_clean(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(decode_clean).collect()),
        other => other,
    }
}
