//! Removing paths from an object, and the fields whose removal goes with
//! their children's.

use serde_json::{Map, Value};

use super::fresh::Fresh;
use super::items::item_elem;
use super::{node, Node, Shape};
use crate::apply::fieldset::{Elem, FieldSet, PathElement};

/// Removes the paths of `set` from `value` (structured-merge-diff's
/// RemoveItems). `None` when nothing is left of a map or list.
pub fn remove_items(value: &Value, set: &FieldSet, shape: Shape) -> Option<Value> {
    match node(shape, Some(value), None) {
        Node::Leaf => Some(value.clone()),
        Node::Map(Some(map), _) => {
            let mut out = Map::new();
            for (key, child) in map {
                let (member, below) = Fresh::find(set, &Elem::Field(key));
                if member {
                    continue;
                }
                match below {
                    Some(sub) => {
                        if let Some(v) = remove_items(child, sub, shape.field(key).0) {
                            out.insert(key.clone(), v);
                        }
                    }
                    None => {
                        out.insert(key.clone(), child.clone());
                    }
                }
            }
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Node::List(info, elem, Some(items), _) => {
            let mut out = Vec::new();
            for item in items {
                let Ok(pe) = item_elem(info, item) else {
                    out.push(item.clone());
                    continue;
                };
                let (member, below) = Fresh::find(set, &pe);
                if member {
                    continue;
                }
                match below {
                    Some(sub) => out.extend(remove_items(item, sub, Shape::element(elem))),
                    None => out.push(item.clone()),
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        _ => Some(value.clone()),
    }
}

/// Adds the declared fields that have children in `set` as members, so that
/// removing the set removes those fields too.
pub fn with_named_fields_as_members(set: &FieldSet, shape: Shape) -> FieldSet {
    let mut members = set.members.clone();
    let mut children = Vec::with_capacity(set.children.len());
    for (pe, child) in &set.children {
        if let (PathElement::Field(name), Shape::Struct(_)) = (pe, shape) {
            if shape.field(name).1 {
                if let Err(at) = members.binary_search(pe) {
                    members.insert(at, pe.clone());
                }
            }
        }
        children.push((
            pe.clone(),
            with_named_fields_as_members(child, shape.child(pe)),
        ));
    }
    FieldSet { members, children }
}
