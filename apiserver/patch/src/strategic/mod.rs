//! Strategic merge patch (`application/strategic-merge-patch+json`) as
//! upstream's apimachinery applies it: lists merge by the patch merge key of
//! the schema table, and the directives `$patch`, `$retainKeys`,
//! `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` steer it.

mod directives;
mod list;
#[cfg(test)]
mod tests;

use serde_json::{Map, Value};

use crate::go_format::{go_type, go_value};
use crate::schema;
use crate::PatchError;

use directives::{decode_clean, remove_directives};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";

/// Applies a strategic merge patch to `doc`, an object of the OpenAPI type
/// `type_name` (unknown types merge objects and replace lists).
pub fn strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    type_name: &str,
) -> Result<Value, PatchError> {
    let Value::Object(patch) = patch else {
        return Err(PatchError::BadRequest(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(patch)
        )));
    };
    let original = match doc {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let meta = schema::known_type(type_name).map_or(Meta::Unknown, Meta::Struct);
    merge_map(original, patch.clone(), meta).map(Value::Object)
}

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

/// Where a value sits in the schema, for looking up its fields' strategies.
#[derive(Debug, Clone, Copy)]
enum Meta {
    /// An object type of the table.
    Struct(&'static str),
    /// A `map[string]X`: every key holds an X (an object type, or a scalar).
    MapOf(Option<&'static str>),
    /// Not in the table.
    Unknown,
}

/// The patch metadata of one field.
#[derive(Debug, Clone, Copy)]
struct FieldMeta {
    /// "merge", "replace" or "" (retainKeys removed, as upstream does).
    strategy: &'static str,
    merge_key: &'static str,
    /// The schema of the field's value, or of its list elements.
    child: Meta,
}

impl Meta {
    fn field(self, key: &str) -> FieldMeta {
        let unknown = FieldMeta {
            strategy: "",
            merge_key: "",
            child: Meta::Unknown,
        };
        match self {
            Meta::Unknown => unknown,
            Meta::MapOf(elem) => FieldMeta {
                child: elem.map_or(Meta::Unknown, Meta::Struct),
                ..unknown
            },
            Meta::Struct(t) => match schema::field_type(t, key) {
                None => unknown,
                Some(info) => {
                    let strategies = info
                        .list
                        .and_then(|l| l.patch_strategy)
                        .or(info.patch_strategy)
                        .unwrap_or("");
                    let strategy = strategies
                        .split(',')
                        .find(|s| *s != "retainKeys")
                        .unwrap_or("");
                    let strategy = match strategy {
                        "merge" => "merge",
                        "replace" => "replace",
                        _ => "",
                    };
                    let child = if info.map_of {
                        Meta::MapOf(info.type_name)
                    } else {
                        info.type_name.map_or(Meta::Unknown, Meta::Struct)
                    };
                    let merge_key = info.list.and_then(|l| l.patch_merge_key).unwrap_or("");
                    FieldMeta {
                        strategy,
                        merge_key,
                        child,
                    }
                }
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Meta::Struct(t) => t,
            _ => "",
        }
    }
}

/// Merges `patch` into `original`, both objects.
fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    meta: Meta,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                match decode_clean(Value::Object(patch)) {
                    Value::Object(map) => Ok(map),
                    _ => Ok(Map::new()),
                }
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(directive, &patch)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_ordered_lists(&mut original, &mut patch, meta)?;

    for (key, patch_value) in patch {
        let (key, is_delete_list) = if key.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            (extract_key(&key, DELETE_FROM_PRIMITIVE_LIST)?, true)
        } else {
            (key, false)
        };
        if patch_value.is_null() {
            original.shift_remove(&key);
            continue;
        }
        let Some(original_value) = original.get_mut(&key) else {
            if !is_delete_list {
                if let Some(v) = remove_directives(crate::merge_patch::without_nulls(patch_value)) {
                    original.insert(key, v);
                }
            }
            continue;
        };
        match (original_value, patch_value) {
            (Value::Object(o), Value::Object(p)) => {
                let field = meta.field(&key);
                let merged = if field.strategy == "replace" {
                    match decode_clean(Value::Object(p)) {
                        Value::Object(map) => map,
                        _ => Map::new(),
                    }
                } else {
                    merge_map(std::mem::take(o), p, field.child)?
                };
                *o = merged;
            }
            (Value::Array(o), Value::Array(p)) => {
                let field = meta.field(&key);
                *o = list::merge_slice_handler(std::mem::take(o), p, &field, is_delete_list)?;
            }
            (slot, patch_value) => {
                let same_type = go_type(slot) == go_type(&patch_value);
                if is_delete_list && !same_type {
                    continue;
                }
                match remove_directives(crate::merge_patch::without_nulls(patch_value)) {
                    Some(v) => *slot = v,
                    None => {
                        original.shift_remove(&key);
                    }
                }
            }
        }
    }
    Ok(original)
}

/// `$retainKeys`: keep only the listed fields of the original; every field
/// the patch sets must be listed.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let bad = || PatchError::BadRequest("invalid patch format of retainKeys".to_string());
    let retain = retain.as_array().ok_or_else(bad)?;
    let listed = |k: &str| retain.iter().any(|r| r.as_str() == Some(k));
    for (k, v) in patch.iter() {
        if v.is_null()
            || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || k.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        if !listed(k) {
            return Err(bad());
        }
    }
    original.retain(|k, _| listed(k));
    Ok(())
}

/// `$setElementOrder/<list>`: merges the list it names and orders the result
/// by the directive first, then the patch, then the live list.
fn merge_ordered_lists(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    meta: Meta,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in keys {
        let Some(order) = patch.shift_remove(&key) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(bad_arg_type("[]interface {}", &order));
        };
        let list_key = extract_key(&key, SET_ELEMENT_ORDER)?;
        let original_list = match original.get(&list_key) {
            None => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let patch_list = match patch.get(&list_key) {
            None => None,
            Some(Value::Array(items)) => Some(items.clone()),
            Some(other) => return Err(bad_arg_type("[]interface {}", other)),
        };
        let field = meta.field(&list_key);
        list::validate_patch_with_set_order(
            patch_list.as_deref().unwrap_or(&[]),
            &order,
            field.merge_key,
        )?;
        let merged = match (&original_list, patch_list) {
            (Some(o), None) => o.clone(),
            (None, Some(p)) => match remove_directives(Value::Array(p)) {
                Some(Value::Array(items)) => items,
                _ => continue,
            },
            (Some(o), Some(p)) => list::merge_slice_handler(o.clone(), p, &field, false)?,
            (None, None) => continue,
        };
        let patch_list = match patch.get(&list_key) {
            Some(Value::Array(items)) => items.as_slice(),
            _ => &[],
        };
        let original_list = original_list.unwrap_or_default();
        let ordered = list::order_by_set_element_order(
            merged,
            &order,
            &original_list,
            patch_list,
            field.merge_key,
        )?;
        original.insert(list_key.clone(), Value::Array(ordered));
        patch.shift_remove(&list_key);
    }
    Ok(())
}

/// The list name after `<prefix>/`.
fn extract_key(key: &str, prefix: &str) -> Result<String, PatchError> {
    match key.split_once('/') {
        Some((p, rest)) if p == prefix => Ok(rest.to_string()),
        _ => Err(PatchError::BadRequest(
            if prefix == DELETE_FROM_PRIMITIVE_LIST {
                "invalid patch format of primitive list"
            } else {
                "invalid patch format of setElementOrder list"
            }
            .to_string(),
        )),
    }
}

fn bad_patch_type(directive: &Value, map: &Map<String, Value>) -> PatchError {
    PatchError::Internal(format!(
        "unknown patch type: {} in map: {}",
        go_value(directive),
        go_value(&Value::Object(map.clone()))
    ))
}

fn bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::Internal(format!(
        "expected a {expected}, but received a {}",
        go_type(actual)
    ))
}

fn no_merge_key(map: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_value(&Value::Object(map.clone()))
    ))
}
