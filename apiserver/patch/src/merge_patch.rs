//! RFC 7386 JSON merge patch (`application/merge-patch+json`).

use serde_json::Value;

/// Applies a JSON merge patch: objects merge recursively, `null` deletes a
/// member, anything else replaces. A patch that is not an object replaces
/// the whole document.
pub fn merge_patch(doc: &Value, patch: &Value) -> Value {
    let Value::Object(patch_map) = patch else {
        return without_nulls(patch.clone());
    };
    let mut out = match doc {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    for (key, value) in patch_map {
        if value.is_null() {
            out.shift_remove(key);
            continue;
        }
        let merged = match out.get(key) {
            Some(current) if current.is_object() && value.is_object() => {
                merge_patch(current, value)
            }
            _ => without_nulls(value.clone()),
        };
        out.insert(key.clone(), merged);
    }
    Value::Object(out)
}

/// Drops null members of objects, at any depth (also inside lists), as the
/// upstream library does for values it inserts.
pub(crate) fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc7386_examples() {
        let doc = json!({"title": "Goodbye!", "author": {"givenName": "John", "familyName": "Doe"}, "tags": ["example", "sample"], "content": "text"});
        let patch = json!({"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": null}, "tags": ["example"]});
        let out = merge_patch(&doc, &patch);
        assert_eq!(
            out,
            json!({"title": "Hello!", "author": {"givenName": "John"}, "tags": ["example"], "content": "text", "phoneNumber": "+01-123-456-7890"})
        );
        assert_eq!(
            merge_patch(&json!({"a": "b"}), &json!({"a": {"b": "c", "d": null}})),
            json!({"a": {"b": "c"}})
        );
        assert_eq!(
            merge_patch(&json!({"a": "foo"}), &json!(["bar"])),
            json!(["bar"])
        );
        assert_eq!(
            merge_patch(&json!({"a": [{"b": 1}]}), &json!({"a": [{"b": null}]})),
            json!({"a": [{}]})
        );
    }
}
