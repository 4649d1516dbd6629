//! RFC 6902 JSON patch with the behaviour of the library upstream's apiserver
//! uses (evanphx/json-patch v4): negative array indices count from the end,
//! `replace` of a missing object member adds it, `copy` from a missing member
//! copies null, and the error texts follow its wording.

use serde_json::{Map, Value};

use crate::PatchError;

/// Upstream refuses JSON patches with more operations than this (413).
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// Applies an RFC 6902 patch (`patch` must be an array of operations).
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = decode(patch)?;
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooManyOperations {
            max: MAX_JSON_PATCH_OPERATIONS,
            got: ops.len(),
        });
    }
    let mut doc = doc.clone();
    for op in ops {
        apply_operation(&mut doc, op).map_err(PatchError::Unprocessable)?;
    }
    Ok(doc)
}

fn decode(patch: &Value) -> Result<Vec<&Map<String, Value>>, PatchError> {
    let items = patch.as_array().ok_or_else(|| {
        PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
            json_kind(patch)
        ))
    })?;
    items
        .iter()
        .map(|item| {
            item.as_object().ok_or_else(|| {
                PatchError::BadRequest(format!(
                    "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                    json_kind(item)
                ))
            })
        })
        .collect()
}

/// The JSON type name encoding/json uses in its unmarshal errors.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn apply_operation(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let kind = match op.get("op") {
        Some(Value::String(s)) => s.as_str(),
        _ => "unknown",
    };
    match kind {
        "add" => add(doc, op),
        "remove" => remove(doc, op),
        "replace" => replace(doc, op),
        "move" => move_value(doc, op),
        "test" => test(doc, op),
        "copy" => copy(doc, op),
        other => Err(format!("Unexpected kind: {other}")),
    }
}

const MISSING: &str = "missing value";
const INVALID_INDEX: &str = "invalid index referenced";

fn string_field(op: &Map<String, Value>, field: &str) -> Result<String, String> {
    match op.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Null) | None if field == "path" => {
            Err(format!("operation missing path field: {MISSING}"))
        }
        Some(Value::Null) | None => Err(format!("operation, missing from field: {MISSING}")),
        Some(other) => Err(format!(
            "json: cannot unmarshal {} into Go value of type string",
            json_kind(other)
        )),
    }
}

/// The operation's value; absent and null both add a JSON null.
fn op_value(op: &Map<String, Value>) -> Value {
    op.get("value").cloned().unwrap_or(Value::Null)
}

fn add(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")
        .map_err(|_| format!("add operation failed to decode path: {MISSING}"))?;
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "add operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    container_add(con, &key, op_value(op))
        .map_err(|e| format!("error in add for path: '{path}': {e}"))
}

fn remove(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")
        .map_err(|_| format!("remove operation failed to decode path: {MISSING}"))?;
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "remove operation does not apply: doc is missing path: \"{path}\": {MISSING}"
        ));
    };
    container_remove(con, &key)
        .map(drop)
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn replace(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")
        .map_err(|e| format!("replace operation failed to decode path: {e}"))?;
    if path.is_empty() {
        // Upstream's library silently ignores a root replacement by a scalar.
        let value = op_value(op);
        if value.is_object() || value.is_array() {
            *doc = value;
        }
        return Ok(());
    }
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "replace operation does not apply: doc is missing path: {path}: {MISSING}"
        ));
    };
    if container_get(con, &key).is_err() {
        return Err(format!(
            "replace operation does not apply: doc is missing key: {path}: {MISSING}"
        ));
    }
    container_set(con, &key, op_value(op))
        .map_err(|e| format!("error in remove for path: '{path}': {e}"))
}

fn move_value(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let from = string_field(op, "from")
        .map_err(|e| format!("move operation failed to decode from: {e}"))?;
    let Some((con, key)) = find_container(doc, &from) else {
        return Err(format!(
            "move operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    container_get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let value =
        container_remove(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
    let path = string_field(op, "path")
        .map_err(|e| format!("move operation failed to decode path: {e}"))?;
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "move operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    container_add(con, &key, value).map_err(|e| format!("error in move for path: '{path}': {e}"))
}

fn test(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let path = string_field(op, "path")
        .map_err(|e| format!("test operation failed to decode path: {e}"))?;
    let failed = || format!("testing value {path} failed: test failed");
    let expected = op.get("value");
    if path.is_empty() {
        return match expected {
            Some(v) if json_equal(doc, v) => Ok(()),
            _ => Err(failed()),
        };
    }
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "test operation does not apply: is missing path: {path}: {MISSING}"
        ));
    };
    let actual =
        container_get(con, &key).map_err(|e| format!("error in test for path: '{path}': {e}"))?;
    match (actual, expected) {
        (None, None | Some(Value::Null)) => Ok(()),
        (Some(a), Some(e)) if json_equal(a, e) => Ok(()),
        _ => Err(failed()),
    }
}

fn copy(doc: &mut Value, op: &Map<String, Value>) -> Result<(), String> {
    let from = string_field(op, "from")
        .map_err(|e| format!("copy operation failed to decode from: {e}"))?;
    let Some((con, key)) = find_container(doc, &from) else {
        return Err(format!(
            "copy operation does not apply: doc is missing from path: {from}: {MISSING}"
        ));
    };
    let value = container_get(con, &key)
        .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
        .cloned()
        .unwrap_or(Value::Null);
    let path = string_field(op, "path")
        .map_err(|_| format!("copy operation failed to decode path: {MISSING}"))?;
    let Some((con, key)) = find_container(doc, &path) else {
        return Err(format!(
            "copy operation does not apply: doc is missing destination path: {path}: {MISSING}"
        ));
    };
    container_add(con, &key, value)
        .map_err(|e| format!("error while adding value during copy: {e}"))
}

/// RFC 6901 unescaping of one reference token.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// The object or array holding the last token of `path`, and that token.
/// Like upstream, the text before the first `/` is ignored and a path with
/// no `/` at all refers to nothing.
fn find_container<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let tokens: Vec<&str> = path.split('/').collect();
    if tokens.len() < 2 {
        return None;
    }
    let mut current = doc;
    for token in &tokens[1..tokens.len() - 1] {
        let token = unescape(token);
        current = match current {
            Value::Object(map) => map.get_mut(&token)?,
            Value::Array(items) => {
                let len = items.len();
                let idx = resolve_index(&token, len).ok()?;
                if idx >= len {
                    return None;
                }
                &mut items[idx]
            }
            _ => return None,
        };
        if !current.is_object() && !current.is_array() {
            return None;
        }
    }
    if !current.is_object() && !current.is_array() {
        return None;
    }
    Some((current, unescape(tokens[tokens.len() - 1])))
}

fn parse_index(token: &str) -> Result<i64, String> {
    token.parse::<i64>().map_err(|e| {
        let why = if matches!(
            e.kind(),
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow
        ) {
            "value out of range"
        } else {
            "invalid syntax"
        };
        format!("strconv.Atoi: parsing \"{token}\": {why}")
    })
}

/// An index into a list of `len` items; negative indices count from the end.
fn resolve_index(token: &str, len: usize) -> Result<usize, String> {
    let idx = parse_index(token)?;
    let invalid = || format!("Unable to access invalid index: {idx}: {INVALID_INDEX}");
    if idx < 0 {
        let from_end = idx.checked_add(len as i64).ok_or_else(invalid)?;
        return usize::try_from(from_end).map_err(|_| invalid());
    }
    usize::try_from(idx).map_err(|_| invalid())
}

fn container_get<'a>(con: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match con {
        Value::Object(map) => Ok(map.get(key)),
        Value::Array(items) => {
            let idx = resolve_index(key, items.len())?;
            items
                .get(idx)
                .map(Some)
                .ok_or_else(|| format!("Unable to access invalid index: {idx}: {INVALID_INDEX}"))
        }
        _ => Ok(None),
    }
}

fn container_set(con: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match con {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            let idx = resolve_index(key, items.len())?;
            match items.get_mut(idx) {
                Some(slot) => {
                    *slot = value;
                    Ok(())
                }
                None => Err(format!(
                    "Unable to access invalid index: {idx}: {INVALID_INDEX}"
                )),
            }
        }
        _ => Err(MISSING.to_string()),
    }
}

fn container_add(con: &mut Value, key: &str, value: Value) -> Result<(), String> {
    match con {
        Value::Object(map) => {
            map.insert(key.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            if key == "-" {
                items.push(value);
                return Ok(());
            }
            let raw = parse_index(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            // One more slot than the list has: index len appends.
            let size = items.len() as i64 + 1;
            let invalid = || format!("Unable to access invalid index: {raw}: {INVALID_INDEX}");
            if raw >= size || raw < -size {
                return Err(invalid());
            }
            let idx = if raw < 0 { raw + size } else { raw } as usize;
            items.insert(idx, value);
            Ok(())
        }
        _ => Err(MISSING.to_string()),
    }
}

fn container_remove(con: &mut Value, key: &str) -> Result<Value, String> {
    match con {
        Value::Object(map) => map
            .shift_remove(key)
            .ok_or_else(|| format!("Unable to remove nonexistent key: {key}: {MISSING}")),
        Value::Array(items) => {
            let raw = parse_index(key)?;
            let len = items.len() as i64;
            let invalid = || format!("Unable to access invalid index: {raw}: {INVALID_INDEX}");
            if raw >= len || raw < -len {
                return Err(invalid());
            }
            let idx = if raw < 0 { raw + len } else { raw } as usize;
            Ok(items.remove(idx))
        }
        _ => Err(MISSING.to_string()),
    }
}

/// Structural equality with numbers compared by value (1 == 1.0), as the
/// upstream library compares decoded documents.
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(doc: Value, patch: Value) -> Result<Value, PatchError> {
        json_patch(&doc, &patch)
    }

    #[test]
    fn rfc6902_operations() {
        let doc =
            json!({"metadata": {"labels": {"a/b": "1", "x~y": "2"}}, "spec": {"list": [1, 2, 3]}});
        let out = apply(
            doc,
            json!([
                {"op": "add", "path": "/spec/list/1", "value": 9},
                {"op": "add", "path": "/spec/list/-", "value": 4},
                {"op": "remove", "path": "/metadata/labels/a~1b"},
                {"op": "replace", "path": "/metadata/labels/x~0y", "value": "3"},
                {"op": "copy", "from": "/spec/list/0", "path": "/spec/first"},
                {"op": "move", "from": "/spec/first", "path": "/spec/moved"},
                {"op": "test", "path": "/spec/moved", "value": 1.0}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"metadata": {"labels": {"x~y": "3"}}, "spec": {"list": [1, 9, 2, 3, 4], "moved": 1}})
        );
    }

    #[test]
    fn negative_indices_and_replace_of_missing_member() {
        let out = apply(
            json!({"l": [1, 2, 3]}),
            json!([{"op": "remove", "path": "/l/-1"}, {"op": "replace", "path": "/new", "value": true}]),
        )
        .unwrap();
        assert_eq!(out, json!({"l": [1, 2], "new": true}));
    }

    #[test]
    fn failures_are_422_with_upstream_detail() {
        let err = apply(json!({"a": {}}), json!([{"op": "remove", "path": "/a/b"}])).unwrap_err();
        assert_eq!(err.http_status(), 422);
        assert_eq!(err.reason(), "Invalid");
        assert_eq!(
            err.message(),
            "the server rejected our request due to an error in our request"
        );
        assert_eq!(
            err.detail(),
            "error in remove for path: '/a/b': Unable to remove nonexistent key: b: missing value"
        );

        let err = apply(
            json!({}),
            json!([{"op": "add", "path": "/a/b", "value": 1}]),
        )
        .unwrap_err();
        assert_eq!(
            err.detail(),
            "add operation does not apply: doc is missing path: \"/a/b\": missing value"
        );
        let err = apply(
            json!({"l": []}),
            json!([{"op": "add", "path": "/l/5", "value": 1}]),
        )
        .unwrap_err();
        assert_eq!(err.detail(), "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index referenced");
        let err = apply(
            json!({"a": 1}),
            json!([{"op": "test", "path": "/a", "value": 2}]),
        )
        .unwrap_err();
        assert_eq!(err.detail(), "testing value /a failed: test failed");
        let err = apply(json!({}), json!([{"op": "frob", "path": "/a"}])).unwrap_err();
        assert_eq!(err.detail(), "Unexpected kind: frob");
    }

    #[test]
    fn malformed_patches_are_400() {
        let err = apply(json!({}), json!({"op": "add"})).unwrap_err();
        assert_eq!(err.http_status(), 400);
        assert_eq!(
            err.message(),
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        );
        let many = Value::Array(vec![
            json!({"op": "test", "path": "/a"});
            MAX_JSON_PATCH_OPERATIONS + 1
        ]);
        assert_eq!(apply(json!({}), many).unwrap_err().http_status(), 413);
    }

    #[test]
    fn test_of_missing_member_against_null_passes() {
        assert!(apply(
            json!({}),
            json!([{"op": "test", "path": "/a", "value": null}])
        )
        .is_ok());
    }
}
