//! The `FieldsV1` encoding of a field set, as managedFields store it:
//! `{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}}}`.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement};
use crate::go_format::{write_go_json, write_json_string};

/// Encodes a set; members and children come out in path-element order, a
/// node that is both a member and a parent carries `".": {}`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    Value::Object(encode_node(set, false))
}

fn encode_node(set: &FieldSet, include_self: bool) -> Map<String, Value> {
    let include_self = include_self && !set.is_empty();
    let mut out =
        Map::with_capacity(set.members.len() + set.children.len() + usize::from(include_self));
    if include_self {
        out.insert(".".to_string(), Value::Object(Map::new()));
    }
    // Members and children are both sorted: merge them.
    let mut members = set.members.iter().peekable();
    for (pe, child) in &set.children {
        while let Some(m) = members.next_if(|m| *m < pe) {
            out.insert(encode_element(m), Value::Object(Map::new()));
        }
        let is_member = members.next_if(|m| *m == pe).is_some();
        out.insert(
            encode_element(pe),
            Value::Object(encode_node(child, is_member)),
        );
    }
    for m in members {
        out.insert(encode_element(m), Value::Object(Map::new()));
    }
    out
}

/// `f:<name>`, `k:<json object>`, `v:<json>` or `i:<index>`.
pub fn encode_element(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(name) => {
            let mut out = String::with_capacity(name.len() + 2);
            out.push_str("f:");
            out.push_str(name);
            out
        }
        PathElement::Key(fields) => {
            let mut out = String::with_capacity(32);
            out.push_str("k:{");
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, name);
                out.push(':');
                write_go_json(&mut out, value);
            }
            out.push('}');
            out
        }
        PathElement::Value(v) => {
            let mut out = String::from("v:");
            write_go_json(&mut out, v);
            out
        }
        PathElement::Index(i) => format!("i:{i}"),
    }
}

/// Decodes a `FieldsV1` object. Unknown element kinds are skipped, as
/// upstream does; malformed ones are errors.
pub fn from_fields_v1(value: &Value) -> Result<FieldSet, String> {
    let (children, _) = decode_node(value)?;
    Ok(children.unwrap_or_default())
}

/// Returns the node's children and whether the node itself is a member.
fn decode_node(value: &Value) -> Result<(Option<FieldSet>, bool), String> {
    let Value::Object(map) = value else {
        return Err(format!("expected an object in fieldsV1, got {value}"));
    };
    let mut any = false;
    let mut is_member = false;
    let mut members = Vec::new();
    let mut children = Vec::new();
    for (key, child) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = decode_element(key)? else {
            continue;
        };
        let (grandchildren, child_is_member) = decode_node(child)?;
        any = true;
        match (grandchildren, child_is_member) {
            (Some(grandchildren), true) => {
                members.push(pe.clone());
                children.push((pe, grandchildren));
            }
            (Some(grandchildren), false) => children.push((pe, grandchildren)),
            (None, _) => members.push(pe),
        }
    }
    if !any {
        return Ok((None, true));
    }
    Ok((Some(FieldSet::from_unsorted(members, children)), is_member))
}

/// The fieldsV1 `value` is a non-empty set written exactly as
/// [`to_fields_v1`] writes it back (so that decoding and encoding it again
/// is a copy), and its elements hold no numbers but integers (so that
/// elements are equal exactly when their encodings are).
pub(crate) fn is_canonical(value: &Value) -> bool {
    match value {
        Value::Object(map) => canonical_node(map, true),
        _ => false,
    }
}

/// An element seen while checking order: field names borrowed.
enum Seen<'a> {
    Field(&'a str),
    Other(PathElement),
}

impl Seen<'_> {
    fn before(&self, next: &Seen<'_>) -> bool {
        match (self, next) {
            (Seen::Field(a), Seen::Field(b)) => a < b,
            (Seen::Field(_), Seen::Other(_)) => true,
            (Seen::Other(_), Seen::Field(_)) => false,
            (Seen::Other(a), Seen::Other(b)) => a < b,
        }
    }
}

fn canonical_node(map: &Map<String, Value>, root: bool) -> bool {
    let mut previous: Option<Seen<'_>> = None;
    for (i, (key, child)) in map.iter().enumerate() {
        if key == "." {
            // Only first in a member that has children, and as `{}`.
            if root || i > 0 || map.len() == 1 || !is_empty_object(child) {
                return false;
            }
            continue;
        }
        let Value::Object(child) = child else {
            return false;
        };
        let seen = match key.strip_prefix("f:") {
            Some(name) => Seen::Field(name),
            None => match decode_element(key) {
                Ok(Some(pe)) if is_plain(&pe) && encode_element(&pe) == *key => Seen::Other(pe),
                _ => return false,
            },
        };
        if previous.as_ref().is_some_and(|p| !p.before(&seen)) {
            return false;
        }
        if !child.is_empty() && !canonical_node(child, false) {
            return false;
        }
        previous = Some(seen);
    }
    previous.is_some()
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// The element holds no number but 64-bit integers: it equals another
/// plain element exactly when their encodings are the same.
fn is_plain(pe: &PathElement) -> bool {
    fn plain(v: &Value) -> bool {
        match v {
            Value::Number(n) => n.is_i64(),
            Value::Array(items) => items.iter().all(plain),
            Value::Object(map) => map.values().all(plain),
            _ => true,
        }
    }
    match pe {
        PathElement::Field(_) | PathElement::Index(_) => true,
        PathElement::Key(fields) => fields.iter().all(|(_, v)| plain(v)),
        PathElement::Value(v) => plain(v),
    }
}

/// Whether removing `set`'s paths (as [`FieldSet::difference`] does) could
/// change the set that the canonical fieldsV1 `value` encodes: some path of
/// `set` is a member there, or an element is not plain.
pub(crate) fn may_hold_any(value: &Value, set: &FieldSet) -> bool {
    match value {
        Value::Object(map) => may_hold(map, set),
        _ => true,
    }
}

fn may_hold(map: &Map<String, Value>, set: &FieldSet) -> bool {
    for m in &set.members {
        if !is_plain(m) {
            return true;
        }
        if let Some(Value::Object(child)) = map.get(&encode_element(m)) {
            if child.is_empty() || child.contains_key(".") {
                return true;
            }
        }
    }
    for (pe, sub) in &set.children {
        if !is_plain(pe) {
            return true;
        }
        if let Some(Value::Object(child)) = map.get(&encode_element(pe)) {
            if !child.is_empty() && may_hold(child, sub) {
                return true;
            }
        }
    }
    false
}

/// Every element of `set` is plain (see [`may_hold_any`]).
pub(crate) fn all_plain(set: &FieldSet) -> bool {
    set.members.iter().all(is_plain)
        && set
            .children
            .iter()
            .all(|(pe, sub)| is_plain(pe) && all_plain(sub))
}

/// [`FieldSet::difference`] on canonical fieldsV1, which stays canonical:
/// `to_fields_v1(&from_fields_v1(value)?.difference(set))` without decoding.
/// The elements of `set` must be [`all_plain`]. An emptied root is `{}`.
pub(crate) fn remove_canonical(value: &mut Value, set: &FieldSet) {
    if let Value::Object(map) = value {
        remove_in(map, set);
    }
}

fn remove_in(map: &mut Map<String, Value>, set: &FieldSet) {
    for m in &set.members {
        let key = encode_element(m);
        let Some(Value::Object(child)) = map.get_mut(&key) else {
            continue;
        };
        if child.is_empty() {
            map.shift_remove(&key);
        } else {
            // A member with children: it stays for them.
            child.shift_remove(".");
        }
    }
    for (pe, sub) in &set.children {
        let key = encode_element(pe);
        let Some(Value::Object(child)) = map.get_mut(&key) else {
            continue;
        };
        if child.is_empty() {
            continue;
        }
        remove_in(child, sub);
        if child.is_empty() {
            map.shift_remove(&key);
        } else if child.len() == 1 && child.contains_key(".") {
            // Only the member itself is left.
            child.shift_remove(".");
        }
    }
}

/// [`FieldSet::union`] into canonical fieldsV1, which stays canonical:
/// `to_fields_v1(&from_fields_v1(value)?.union(set))` without decoding.
/// The elements of `set` must be [`all_plain`].
pub(crate) fn insert_canonical(value: &mut Value, set: &FieldSet) {
    if let Value::Object(map) = value {
        insert_in(map, set);
    }
}

fn insert_in(map: &mut Map<String, Value>, set: &FieldSet) {
    for m in &set.members {
        let key = encode_element(m);
        match map.get_mut(&key) {
            // Children only: it becomes a member too.
            Some(Value::Object(child)) if !child.is_empty() && !child.contains_key(".") => {
                child.shift_insert(0, ".".to_string(), Value::Object(Map::new()));
            }
            Some(_) => {}
            None => {
                let at = position(map, m);
                map.shift_insert(at, key, Value::Object(Map::new()));
            }
        }
    }
    for (pe, sub) in &set.children {
        let key = encode_element(pe);
        match map.get_mut(&key) {
            Some(Value::Object(child)) if child.is_empty() => {
                // A member: it gets children (`sub` is not empty).
                *child = encode_node(sub, true);
            }
            Some(Value::Object(child)) => insert_in(child, sub),
            Some(_) => {}
            None => {
                let at = position(map, pe);
                map.shift_insert(at, key, Value::Object(encode_node(sub, false)));
            }
        }
    }
}

/// Where `pe` goes among the sorted keys of a canonical node.
fn position(map: &Map<String, Value>, pe: &PathElement) -> usize {
    map.keys()
        .take_while(|key| {
            if *key == "." {
                return true;
            }
            let before = match (key.strip_prefix("f:"), pe) {
                (Some(name), PathElement::Field(field)) => name < field.as_str(),
                (Some(_), _) => true,
                (None, PathElement::Field(_)) => false,
                (None, _) => decode_element(key).ok().flatten().is_some_and(|e| e < *pe),
            };
            before
        })
        .count()
}

fn decode_element(key: &str) -> Result<Option<PathElement>, String> {
    if key.len() < 2 {
        return Err("key must be 2 characters long:".to_string());
    }
    // A key from a client may start with any character: split only on a char boundary.
    let Some((kind, rest)) = key.is_char_boundary(1).then(|| key.split_at(1)) else {
        return Err(format!("missing colon: {key}"));
    };
    let Some(rest) = rest.strip_prefix(':') else {
        return Err(format!("missing colon: {key}"));
    };
    match kind {
        "f" => Ok(Some(PathElement::Field(rest.to_string()))),
        "v" => serde_json::from_str(rest)
            .map(|v| Some(PathElement::Value(v)))
            .map_err(|e| e.to_string()),
        "k" => {
            let parsed: Map<String, Value> =
                serde_json::from_str(rest).map_err(|e| e.to_string())?;
            let mut fields: Vec<(String, Value)> = parsed.into_iter().collect();
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(Some(PathElement::Key(fields)))
        }
        "i" => rest
            .parse::<i64>()
            .map(|i| Some(PathElement::Index(i)))
            .map_err(|e| e.to_string()),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::fieldset::field_path;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_members_and_dots() {
        let fields = json!({
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {"f:containers": {"k:{\"name\":\"nginx\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {
                "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}
            }}}},
            "f:finalizers": {"v:\"a<b\"": {}}
        });
        let set = from_fields_v1(&fields).unwrap();
        let mut image = field_path(&["spec", "containers"]);
        image.push(PathElement::Key(vec![("name".into(), json!("nginx"))]));
        image.push(PathElement::Field("image".into()));
        assert!(set.has(&image));
        assert!(set.has(&image[..3]), "the list item is a member");
        assert!(!set.has(&field_path(&["spec"])));
        let encoded = to_fields_v1(&set);
        // Fields sort by name; HTML characters are escaped as Go does.
        let text = serde_json::to_string(&encoded).unwrap();
        assert!(
            text.starts_with(r#"{"f:finalizers":{"v:\"a\\u003cb\"":{}},"f:metadata""#),
            "{text}"
        );
        assert_eq!(from_fields_v1(&encoded).unwrap(), set);
        assert_eq!(
            encoded["f:spec"]["f:containers"]["k:{\"name\":\"nginx\"}"]["."],
            json!({})
        );
    }

    #[test]
    fn key_fields_are_sorted_when_decoding() {
        let set =
            from_fields_v1(&json!({"k:{\"protocol\":\"TCP\",\"containerPort\":80}": {}})).unwrap();
        let encoded = to_fields_v1(&set);
        assert!(
            encoded
                .get("k:{\"containerPort\":80,\"protocol\":\"TCP\"}")
                .is_some(),
            "{encoded}"
        );
    }

    #[test]
    fn malformed_input_is_an_error_and_unknown_kinds_are_skipped() {
        assert!(from_fields_v1(&json!({"f:a": 1})).is_err());
        assert!(from_fields_v1(&json!({"fa": {}})).is_err());
        assert!(from_fields_v1(&json!({"x:a": {}})).unwrap().is_empty());
    }
}

#[cfg(test)]
mod client_keys {
    #[test]
    fn a_key_starting_with_a_multibyte_character_is_an_error_not_a_panic() {
        assert!(super::decode_element("é:x").is_err());
        assert!(super::decode_element("f:é").is_ok());
    }
}
