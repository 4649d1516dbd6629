//! The `FieldsV1` encoding of a field set, as managedFields store it:
//! `{"f:spec":{"f:containers":{"k:{\"name\":\"nginx\"}":{".":{},"f:image":{}}}}}`.

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement};
use crate::go_format::{go_json, write_json_string};

/// Encodes a set; members and children come out in path-element order, a
/// node that is both a member and a parent carries `".": {}`.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    Value::Object(encode_node(set, false))
}

fn encode_node(set: &FieldSet, include_self: bool) -> Map<String, Value> {
    let mut out = Map::new();
    if include_self && !set.is_empty() {
        out.insert(".".to_string(), Value::Object(Map::new()));
    }
    let mut elements: Vec<&PathElement> = set.members.iter().chain(set.children.keys()).collect();
    elements.sort();
    elements.dedup();
    for pe in elements {
        let value = match set.children.get(pe) {
            Some(child) => encode_node(child, set.members.contains(pe)),
            None => Map::new(),
        };
        out.insert(encode_element(pe), Value::Object(value));
    }
    out
}

/// `f:<name>`, `k:<json object>`, `v:<json>` or `i:<index>`.
pub fn encode_element(pe: &PathElement) -> String {
    match pe {
        PathElement::Field(name) => format!("f:{name}"),
        PathElement::Key(fields) => {
            let mut out = String::from("k:{");
            for (i, (name, value)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(&mut out, name);
                out.push(':');
                out.push_str(&go_json(value));
            }
            out.push('}');
            out
        }
        PathElement::Value(v) => format!("v:{}", go_json(v)),
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
    let mut children: Option<FieldSet> = None;
    let mut is_member = false;
    for (key, child) in map {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = decode_element(key)? else {
            continue;
        };
        let (grandchildren, child_is_member) = decode_node(child)?;
        let node = children.get_or_insert_with(FieldSet::new);
        if child_is_member {
            node.members.insert(pe.clone());
        }
        if let Some(grandchildren) = grandchildren {
            let slot = node.children.entry(pe).or_default();
            *slot = slot.union(&grandchildren);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

fn decode_element(key: &str) -> Result<Option<PathElement>, String> {
    if key.len() < 2 {
        return Err("key must be 2 characters long:".to_string());
    }
    let (kind, rest) = key.split_at(1);
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
