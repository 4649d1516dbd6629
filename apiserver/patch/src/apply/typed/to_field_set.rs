//! The field set of an object (structured-merge-diff's ToFieldSet): the
//! paths it sets, with the path of the first bad list item as the error.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::items::{item_elem, Indexed};
use super::{node, Node, Shape};
use crate::apply::fieldset::{path_string, Elem, FieldSet, PathElement};

/// The paths an object sets (structured-merge-diff's ToFieldSet); list
/// items with the same key are owned as a whole.
pub fn field_set(value: &Value, shape: Shape) -> Result<FieldSet, String> {
    collect(value, shape, false)
        .map(|(set, _)| set)
        .map_err(PathError::into_message)
}

/// The field set of an applied configuration, which may not repeat a key.
pub fn config_field_set(value: &Value, shape: Shape) -> Result<FieldSet, String> {
    collect(value, shape, true)
        .map(|(set, _)| set)
        .map_err(PathError::into_message)
}

/// An error at a list, with the path to it gathered on the way out.
struct PathError {
    /// The path, innermost element first.
    reversed: Vec<PathElement>,
    message: String,
}

impl PathError {
    fn at(message: String) -> PathError {
        PathError {
            reversed: Vec::new(),
            message,
        }
    }

    fn under(mut self, pe: PathElement) -> PathError {
        self.reversed.push(pe);
        self
    }

    fn into_message(mut self) -> String {
        self.reversed.reverse();
        format!("{}: {}", path_string(&self.reversed), self.message)
    }
}

/// The field set beneath `value` and whether `value` itself is a leaf.
fn collect(value: &Value, shape: Shape, strict: bool) -> Result<(FieldSet, bool), PathError> {
    match node(shape, Some(value), None) {
        Node::Leaf => Ok((FieldSet::new(), true)),
        Node::Map(Some(map), _) => {
            let mut members = Vec::new();
            let mut children = Vec::new();
            for (key, child) in map {
                let (child_shape, declared) = shape.field(key);
                let (sub, leaf) = collect(child, child_shape, strict)
                    .map_err(|e| e.under(PathElement::Field(key.clone())))?;
                let empty_map = child.as_object().is_some_and(Map::is_empty);
                let member = leaf || child.is_null() || empty_map || !declared;
                if sub.is_empty() {
                    if member {
                        members.push(PathElement::Field(key.clone()));
                    }
                } else {
                    if member {
                        members.push(PathElement::Field(key.clone()));
                    }
                    children.push((PathElement::Field(key.clone()), sub));
                }
            }
            Ok((FieldSet::from_unsorted(members, children), false))
        }
        Node::List(info, elem, Some(items), _) => {
            let mut pes = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                pes.push(
                    item_elem(info, item)
                        .map_err(|e| PathError::at(format!("element {i}: {e}")))?,
                );
            }
            let indexed = Indexed::group(&pes, items);
            let unique = |pe: &Elem<'_>| indexed.find(pe).is_none_or(|g| g.len() == 1);
            if strict {
                // The first item that repeats an earlier one's key.
                let mut seen: Vec<Elem<'_>> = Vec::new();
                for pe in &pes {
                    if !unique(pe) {
                        if seen.iter().any(|s| s.cmp(pe) == Ordering::Equal) {
                            return Err(PathError::at(format!(
                                "duplicate entries for key {}",
                                pe.owned()
                            )));
                        }
                        seen.push(*pe);
                    }
                }
            }
            let mut members = Vec::with_capacity(pes.len());
            let mut children = Vec::new();
            for (pe, item) in pes.iter().zip(items) {
                if unique(pe) {
                    let (sub, _) = collect(item, Shape::element(elem), strict)
                        .map_err(|e| e.under(pe.owned()))?;
                    if !sub.is_empty() {
                        children.push((pe.owned(), sub));
                    }
                }
                members.push(pe.owned());
            }
            Ok((FieldSet::from_unsorted(members, children), false))
        }
        _ => Ok((FieldSet::new(), false)),
    }
}
