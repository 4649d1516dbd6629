//! Merging lists: by merge key for lists of objects, as sets for lists of
//! scalars, then ordering the result the way upstream does (patch order for
//! the patched items, live order for the others, interleaved).

use serde_json::{Map, Value};

use super::directives::decode_clean;
use super::{bad_arg_type, bad_patch_type, merge_map, no_merge_key, FieldMeta, DIRECTIVE};
use crate::go_format::{go_type, go_value};
use crate::PatchError;

/// Whether list elements are objects (merged by key) or scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Scalar,
}

/// Merges `patch` into `original` if the field's strategy is merge (or the
/// patch is a `$deleteFromPrimitiveList`), otherwise the patch replaces it.
pub(super) fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: &FieldMeta,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if field.strategy == "merge" || is_delete_list {
        merge_slice(original, patch, field, is_delete_list)
    } else {
        Ok(patch.into_iter().map(decode_clean).collect())
    }
}

fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    field: &FieldMeta,
    is_delete_list: bool,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&original, &patch)?;
    let key = field.merge_key;
    let (server_order, patch, merged) = if kind == Kind::Scalar {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|v| !patch.contains(v))
                .collect());
        }
        let both: Vec<Value> = original.iter().chain(patch.iter()).cloned().collect();
        (original, patch, deduplicate_scalars(both))
    } else {
        if key.is_empty() {
            return Err(PatchError::Internal(format!(
                "cannot merge lists without merge key for {}",
                field.child.name()
            )));
        }
        let (original, patch) = apply_special_elements(original, patch, key)?;
        let merged = merge_by_key(original.clone(), &patch, key, field)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = partition(merged, &patch, key, kind)?;
    normalize_element_order(patch_items, server_only, &patch, &server_order, key, kind)
}

/// Orders a list merged under `$setElementOrder`: the directive orders the
/// items it names, the live list orders the others.
pub(super) fn order_by_set_element_order(
    merged: Vec<Value>,
    order: &[Value],
    original: &[Value],
    patch: &[Value],
    key: &str,
) -> Result<Vec<Value>, PatchError> {
    let kind = element_kind(original, patch)?;
    let partition_kind = if key.is_empty() {
        Kind::Scalar
    } else {
        Kind::Map
    };
    let (patch_items, server_only) = partition(merged, order, key, partition_kind)?;
    normalize_element_order(patch_items, server_only, order, original, key, kind)
}

/// All elements must share one type; lists of lists are refused.
fn element_kind(original: &[Value], patch: &[Value]) -> Result<Kind, PatchError> {
    let mut first: Option<&'static str> = None;
    for v in original.iter().chain(patch) {
        let t = go_type(v);
        match first {
            None if v.is_null() => {}
            None => {
                if v.is_array() {
                    return Err(PatchError::Unprocessable(
                        "lists of lists are not supported".to_string(),
                    ));
                }
                first = Some(t);
            }
            Some(f) if f != t => {
                let both = Value::Array(vec![
                    Value::Array(original.to_vec()),
                    Value::Array(patch.to_vec()),
                ]);
                return Err(PatchError::Internal(format!(
                    "list element types are not identical: {}",
                    go_value(&both)
                )));
            }
            Some(_) => {}
        }
    }
    match first {
        None => Err(PatchError::Internal(
            "no elements in any of the given slices".to_string(),
        )),
        Some("map[string]interface {}") => Ok(Kind::Map),
        Some(_) => Ok(Kind::Scalar),
    }
}

/// Upstream's in-place deduplication: a duplicate is overwritten by the last
/// element (the order is restored by the normalisation afterwards).
fn deduplicate_scalars(mut s: Vec<Value>) -> Vec<Value> {
    let mut length = s.len() as isize - 1;
    let mut i = 0isize;
    while i < length {
        let mut j = i + 1;
        while j <= length {
            if s[i as usize] == s[j as usize] {
                s[j as usize] = s[length as usize].clone();
                s.truncate(length as usize);
                length -= 1;
                j -= 1;
            }
            j += 1;
        }
        i += 1;
    }
    s
}

/// Handles the `$patch` elements of a patch list: `delete` removes the live
/// items with the same key, `replace` makes the rest of the patch the list.
fn apply_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut plain = Vec::new();
    let mut replace = false;
    for item in patch {
        let Value::Object(map) = &item else {
            return Err(bad_arg_type("map[string]interface {}", &item));
        };
        match map.get(DIRECTIVE) {
            None => plain.push(item),
            Some(Value::String(d)) if d == "delete" => {
                let Some(key_value) = map.get(key) else {
                    return Err(no_merge_key(map, key));
                };
                for (i, v) in original.iter().enumerate() {
                    if !v.is_object() {
                        return Err(PatchError::Internal(format!(
                            "value for key {i} is not a map"
                        )));
                    }
                }
                original.retain(|v| v.get(key) != Some(key_value));
            }
            Some(Value::String(d)) if d == "replace" => replace = true,
            Some(Value::String(d)) if d == "merge" => {
                return Err(PatchError::Internal(
                    "merging lists cannot yet be specified in the patch".to_string(),
                ))
            }
            Some(other) => return Err(bad_patch_type(other, map)),
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// Merges each patch item into the live item with the same key, or appends it.
fn merge_by_key(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    field: &FieldMeta,
) -> Result<Vec<Value>, PatchError> {
    for item in patch {
        let Value::Object(map) = item else {
            return Err(bad_arg_type("map[string]interface {}", item));
        };
        let Some(key_value) = map.get(key) else {
            return Err(no_merge_key(map, key));
        };
        match find_by_key(&original, key, key_value)? {
            Some(i) => {
                let live = match std::mem::take(&mut original[i]) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                original[i] = Value::Object(merge_map(live, map.clone(), field.child)?);
            }
            None => original.push(decode_clean(item.clone())),
        }
    }
    Ok(original)
}

fn find_by_key(list: &[Value], key: &str, value: &Value) -> Result<Option<usize>, PatchError> {
    for (i, v) in list.iter().enumerate() {
        let Value::Object(map) = v else {
            return Err(PatchError::Internal(format!(
                "value for key {i} is not a map"
            )));
        };
        if map.get(key) == Some(value) {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// Splits `merged` into the items present in `by` and the others.
fn partition(
    merged: Vec<Value>,
    by: &[Value],
    key: &str,
    kind: Kind,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut present = Vec::new();
    let mut others = Vec::new();
    for item in merged {
        let found = if kind == Kind::Map && !key.is_empty() {
            let Value::Object(map) = &item else {
                return Err(bad_arg_type("map[string]interface {}", &item));
            };
            let Some(key_value) = map.get(key) else {
                return Err(no_merge_key(map, key));
            };
            find_by_key(by, key, key_value)?.is_some()
        } else {
            by.contains(&item)
        };
        if found {
            present.push(item);
        } else {
            others.push(item);
        }
    }
    Ok((present, others))
}

/// Sorts the patched items by the patch order and the server-only items by
/// the live order, then interleaves them.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let patch_items = normalize_slice_order(patch_items, patch_order, key, kind)?;
    let server_only = normalize_slice_order(server_only, server_order, key, kind)?;
    Ok(merge_sorted(
        server_only,
        patch_items,
        server_order,
        key,
        kind,
    ))
}

fn normalize_slice_order(
    to_sort: Vec<Value>,
    order: &[Value],
    key: &str,
    kind: Kind,
) -> Result<Vec<Value>, PatchError> {
    let (mut to_sort, to_delete) = if kind == Kind::Map {
        for item in to_sort.iter().chain(order) {
            let Value::Object(map) = item else {
                return Err(bad_arg_type("map[string]interface {}", item));
            };
            if !map.contains_key(key) {
                return Err(no_merge_key(map, key));
            }
        }
        to_sort
            .into_iter()
            .partition(|v| v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
    } else {
        (to_sort, Vec::new())
    };
    // Upstream sorts with this comparator through a stable insertion sort;
    // an item missing from `order` compares as "less", as there.
    let less =
        |a: &Value, b: &Value| match (index_of(order, a, key, kind), index_of(order, b, key, kind))
        {
            (Some(ia), Some(ib)) => ia < ib,
            _ => true,
        };
    for i in 1..to_sort.len() {
        let mut j = i;
        while j > 0 && less(&to_sort[j], &to_sort[j - 1]) {
            to_sort.swap(j, j - 1);
            j -= 1;
        }
    }
    to_sort.extend(to_delete);
    Ok(to_sort)
}

/// Inserts the server-only items (`left`) among the patch items (`right`):
/// each goes before the first patch item that follows it in the live list.
fn merge_sorted(
    left: Vec<Value>,
    right: Vec<Value>,
    server_order: &[Value],
    key: &str,
    kind: Kind,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    index_of(server_order, l, key, kind),
                    index_of(server_order, r, key, kind),
                ) {
                    (Some(li), Some(ri)) => li < ri,
                    _ => false,
                }
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    out
}

/// Position of `item` in `list`: by merge key for objects, by value otherwise.
fn index_of(list: &[Value], item: &Value, key: &str, kind: Kind) -> Option<usize> {
    if kind == Kind::Map {
        let wanted = item.as_object().and_then(|m| m.get(key));
        list.iter()
            .position(|v| v.as_object().and_then(|m| m.get(key)) == wanted)
    } else {
        list.iter().position(|v| v == item)
    }
}

/// The items of the patch list must appear in `$setElementOrder` in the
/// same relative order.
pub(super) fn validate_patch_with_set_order(
    patch: &[Value],
    order: &[Value],
    key: &str,
) -> Result<(), PatchError> {
    if order.is_empty() || patch.is_empty() {
        return Ok(());
    }
    let mut non_delete = Vec::new();
    for item in patch {
        if key.is_empty() {
            non_delete.push(item);
            continue;
        }
        let Value::Object(map) = item else {
            return Err(bad_arg_type("map[string]interface {}", item));
        };
        if map.get(DIRECTIVE).and_then(Value::as_str) != Some("delete") {
            non_delete.push(item);
        }
    }
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        if non_delete[pi].get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        if merge_key_value_equal(non_delete[pi], &order[si], key)? {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(PatchError::Internal(format!(
            "The order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}\n",
            go_value(&Value::Array(patch.to_vec())),
            go_value(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

fn merge_key_value_equal(left: &Value, right: &Value, key: &str) -> Result<bool, PatchError> {
    if key.is_empty() {
        return Ok(left == right);
    }
    let Value::Object(l) = left else {
        return Err(bad_arg_type("map[string]interface {}", left));
    };
    let Value::Object(r) = right else {
        return Err(bad_arg_type("map[string]interface {}", right));
    };
    let lv = l.get(key).ok_or_else(|| no_merge_key(l, key))?;
    let rv = r.get(key).ok_or_else(|| no_merge_key(r, key))?;
    Ok(lv == rv)
}
