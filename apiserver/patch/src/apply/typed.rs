//! Schema-driven walks over objects for server-side apply: the field set of
//! an object, the comparison of two objects, merging an applied
//! configuration and removing paths, with structured-merge-diff's rules.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fieldset::{FieldSet, PathElement};
use crate::json_patch::json_equal;
use crate::schema::{self, ListInfo};

/// How a value is owned and merged.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// An object type of the table: its keys are declared fields.
    Struct(&'static str),
    /// `map[string]X`: keys are owned one by one; X is an object type or a scalar.
    Map(Option<&'static str>),
    /// A type the table does not know: objects merge key by key, lists are atomic.
    Deduced,
    /// A set or list-map.
    List(ListInfo, Option<&'static str>),
    /// Owned and replaced as a whole: scalars, atomic lists, maps and structs.
    Atomic,
}

impl Shape {
    pub fn root(type_name: &str) -> Shape {
        schema::known_type(type_name).map_or(Shape::Deduced, Shape::of_type)
    }

    fn of_type(type_name: &'static str) -> Shape {
        if schema::is_atomic_struct(type_name) {
            Shape::Atomic
        } else {
            Shape::Struct(type_name)
        }
    }

    pub(super) fn element(type_name: Option<&'static str>) -> Shape {
        type_name.map_or(Shape::Atomic, Shape::of_type)
    }

    /// The shape of `key`'s value and whether `key` is a declared field.
    pub fn field(self, key: &str) -> (Shape, bool) {
        match self {
            Shape::Struct(t) => {
                let Some(info) = schema::field_type(t, key) else {
                    return (Shape::Atomic, true);
                };
                let shape = if let Some(list) = info.list {
                    if list.list_type == "atomic" {
                        Shape::Atomic
                    } else {
                        Shape::List(list, info.type_name)
                    }
                } else if info.atomic {
                    Shape::Atomic
                } else if info.map_of {
                    Shape::Map(info.type_name)
                } else {
                    Shape::element(info.type_name)
                };
                (shape, true)
            }
            Shape::Map(elem) => (Shape::element(elem), false),
            Shape::Deduced => (Shape::Deduced, false),
            Shape::List(..) | Shape::Atomic => (Shape::Atomic, false),
        }
    }

    /// The shape of a child path element (a field, or a list item).
    pub fn child(self, pe: &PathElement) -> Shape {
        match (self, pe) {
            (Shape::List(_, elem), PathElement::Key(_)) => Shape::element(elem),
            (_, PathElement::Field(name)) => self.field(name).0,
            _ => Shape::Atomic,
        }
    }
}

/// What a walk does with a node, from its shape and the values present.
pub(super) enum Node<'a> {
    Leaf,
    Map(
        Option<&'a Map<String, Value>>,
        Option<&'a Map<String, Value>>,
    ),
    List(
        ListInfo,
        Option<&'static str>,
        Option<&'a Vec<Value>>,
        Option<&'a Vec<Value>>,
    ),
}

pub(super) fn node<'a>(shape: Shape, l: Option<&'a Value>, r: Option<&'a Value>) -> Node<'a> {
    match shape {
        Shape::Atomic => Node::Leaf,
        Shape::Struct(_) | Shape::Map(_) | Shape::Deduced => {
            // A null is a map with nothing in it, as upstream reads it.
            let as_map = |v: Option<&'a Value>| match v {
                None | Some(Value::Null) => Some(None),
                Some(Value::Object(m)) => Some(Some(m)),
                Some(_) => None,
            };
            match (as_map(l), as_map(r)) {
                (Some(lm), Some(rm)) => Node::Map(lm, rm),
                _ => Node::Leaf,
            }
        }
        Shape::List(info, elem) => {
            let as_list = |v: Option<&'a Value>| match v {
                None | Some(Value::Null) => Some(None),
                Some(Value::Array(items)) => Some(Some(items)),
                Some(_) => None,
            };
            match (as_list(l), as_list(r)) {
                (Some(ll), Some(rl)) => Node::List(info, elem, ll, rl),
                _ => Node::Leaf,
            }
        }
    }
}

/// The path element of a list item: its keys for a list-map (a missing
/// `protocol` defaults to "TCP" as the schema says), its value for a set.
pub fn item_element(info: &ListInfo, item: &Value) -> Result<PathElement, String> {
    if info.list_type == "map" {
        let Value::Object(map) = item else {
            return Err(if item.is_null() {
                "associative list with keys may not have a null element".to_string()
            } else {
                "associative list with keys may not have non-map elements".to_string()
            });
        };
        let mut fields = Vec::with_capacity(info.list_map_keys.len());
        for key in info.list_map_keys {
            match map.get(*key) {
                Some(v) => fields.push(((*key).to_string(), v.clone())),
                None if *key == "protocol" => fields.push(("protocol".to_string(), Value::String("TCP".into()))),
                None => {
                    return Err(format!(
                        "associative list with keys has an element that omits key field {key:?} (and doesn't have default value)"
                    ))
                }
            }
        }
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok(PathElement::Key(fields));
    }
    match item {
        Value::Object(_) => {
            Err("associative list without keys has an element that's a map type".to_string())
        }
        Value::Array(_) => {
            Err("associative list without keys has an element that's a list type".to_string())
        }
        Value::Null => Err("associative list without keys may not have a null element".to_string()),
        scalar => Ok(PathElement::Value(scalar.clone())),
    }
}

/// The paths an object sets (structured-merge-diff's ToFieldSet); list
/// items with the same key are owned as a whole.
pub fn field_set(value: &Value, shape: Shape) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    collect(&mut Vec::new(), value, shape, &mut set, false)?;
    Ok(set)
}

/// The field set of an applied configuration, which may not repeat a key.
pub fn config_field_set(value: &Value, shape: Shape) -> Result<FieldSet, String> {
    let mut set = FieldSet::new();
    collect(&mut Vec::new(), value, shape, &mut set, true)?;
    Ok(set)
}

fn collect(
    path: &mut Vec<PathElement>,
    value: &Value,
    shape: Shape,
    set: &mut FieldSet,
    strict: bool,
) -> Result<(), String> {
    match node(shape, Some(value), None) {
        Node::Leaf => set.insert(path),
        Node::Map(Some(map), _) => {
            for (key, child) in map {
                let (child_shape, declared) = shape.field(key);
                path.push(PathElement::Field(key.clone()));
                collect(path, child, child_shape, set, strict)?;
                let empty_map = child.as_object().is_some_and(Map::is_empty);
                if child.is_null() || empty_map || !declared {
                    set.insert(path);
                }
                path.pop();
            }
        }
        Node::List(info, elem, Some(items), _) => {
            let at = |path: &[PathElement], e: String| {
                format!("{}: {e}", super::fieldset::path_string(path))
            };
            let elements = items
                .iter()
                .enumerate()
                .map(|(i, item)| item_element(&info, item).map_err(|e| format!("element {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| at(path, e))?;
            let mut counts: BTreeMap<&PathElement, usize> = BTreeMap::new();
            for pe in &elements {
                *counts.entry(pe).or_default() += 1;
                if strict && counts[pe] == 2 {
                    return Err(at(path, format!("duplicate entries for key {pe}")));
                }
            }
            for (pe, item) in elements.iter().zip(items) {
                path.push(pe.clone());
                if counts[pe] == 1 {
                    collect(path, item, Shape::element(elem), set, strict)?;
                }
                set.insert(path);
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Paths added, modified and removed between two objects.
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: FieldSet,
    pub modified: FieldSet,
    pub removed: FieldSet,
}

impl Comparison {
    /// Drops `excluded` paths and everything beneath them.
    pub fn exclude(self, excluded: &FieldSet) -> Comparison {
        Comparison {
            added: self.added.recursive_difference(excluded),
            modified: self.modified.recursive_difference(excluded),
            removed: self.removed.recursive_difference(excluded),
        }
    }
}

/// Compares `old` with `new` (structured-merge-diff's Compare).
pub fn compare(old: &Value, new: &Value, shape: Shape) -> Result<Comparison, String> {
    let mut out = Comparison::default();
    compare_at(&mut Vec::new(), Some(old), Some(new), shape, &mut out)?;
    Ok(out)
}

fn compare_at(
    path: &mut Vec<PathElement>,
    l: Option<&Value>,
    r: Option<&Value>,
    shape: Shape,
    out: &mut Comparison,
) -> Result<(), String> {
    let leaf = |out: &mut Comparison, path: &[PathElement]| match (l, r) {
        (None, _) => out.added.insert(path),
        (_, None) => out.removed.insert(path),
        (Some(a), Some(b)) if !json_equal(a, b) => out.modified.insert(path),
        _ => {}
    };
    match node(shape, l, r) {
        Node::Leaf => {
            leaf(out, path);
            return Ok(());
        }
        Node::Map(lm, rm) => {
            if lm.is_none_or(Map::is_empty) && rm.is_none_or(Map::is_empty) {
                leaf(out, path);
                return Ok(());
            }
            let mut keys: Vec<&String> = lm.iter().flat_map(|m| m.keys()).collect();
            keys.extend(
                rm.iter()
                    .flat_map(|m| m.keys())
                    .filter(|k| !lm.is_some_and(|m| m.contains_key(*k))),
            );
            for key in keys {
                path.push(PathElement::Field(key.clone()));
                let child = shape.field(key).0;
                compare_at(
                    path,
                    lm.and_then(|m| m.get(key)),
                    rm.and_then(|m| m.get(key)),
                    child,
                    out,
                )?;
                path.pop();
            }
        }
        Node::List(info, elem, ll, rl) => {
            if ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty) {
                leaf(out, path);
                return Ok(());
            }
            compare_items(path, &info, Shape::element(elem), ll, rl, out)?;
        }
    }
    if l.is_none() {
        out.added.insert(path);
    } else if r.is_none() {
        out.removed.insert(path);
    }
    Ok(())
}

type Indexed<'a> = (Vec<PathElement>, BTreeMap<PathElement, Vec<&'a Value>>);

fn index_items<'a>(info: &ListInfo, items: Option<&'a Vec<Value>>) -> Result<Indexed<'a>, String> {
    let mut order = Vec::new();
    let mut by_element: BTreeMap<PathElement, Vec<&Value>> = BTreeMap::new();
    for item in items.into_iter().flatten() {
        let pe = item_element(info, item)?;
        let slot = by_element.entry(pe.clone()).or_default();
        if slot.is_empty() {
            order.push(pe);
        }
        slot.push(item);
    }
    Ok((order, by_element))
}

fn compare_items(
    path: &mut Vec<PathElement>,
    info: &ListInfo,
    elem: Shape,
    l: Option<&Vec<Value>>,
    r: Option<&Vec<Value>>,
    out: &mut Comparison,
) -> Result<(), String> {
    let (l_order, l_items) = index_items(info, l)?;
    let (r_order, r_items) = index_items(info, r)?;
    let mut all = l_order;
    all.extend(r_order.into_iter().filter(|pe| !l_items.contains_key(pe)));
    for pe in all {
        let ls = l_items.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
        let rs = r_items.get(&pe).map(Vec::as_slice).unwrap_or(&[]);
        path.push(pe);
        match (ls.len(), rs.len()) {
            (0..=1, 0..=1) => {
                compare_at(path, ls.first().copied(), rs.first().copied(), elem, out)?
            }
            (2.., 2..) => {
                let same = ls.len() == rs.len() && ls.iter().zip(rs).all(|(a, b)| json_equal(a, b));
                if !same {
                    out.modified.insert(path);
                }
            }
            (2.., _) => {
                if let Some(first) = rs.first() {
                    compare_at(path, None, Some(first), elem, out)?;
                }
                out.removed.insert(path);
            }
            (_, _) => {
                if let Some(first) = ls.first() {
                    compare_at(path, Some(first), None, elem, out)?;
                }
                out.added.insert(path);
            }
        }
        path.pop();
    }
    Ok(())
}

/// Removes the paths of `set` from `value` (structured-merge-diff's
/// RemoveItems). `None` when nothing is left of a map or list.
pub fn remove_items(value: &Value, set: &FieldSet, shape: Shape) -> Option<Value> {
    match node(shape, Some(value), None) {
        Node::Leaf => Some(value.clone()),
        Node::Map(Some(map), _) => {
            let mut out = Map::new();
            for (key, child) in map {
                let pe = PathElement::Field(key.clone());
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
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
                let Ok(pe) = item_element(&info, item) else {
                    out.push(item.clone());
                    continue;
                };
                if set.members.contains(&pe) {
                    continue;
                }
                match set.child(&pe) {
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
    let mut out = FieldSet::new();
    out.members = set.members.clone();
    for (pe, child) in &set.children {
        if let (PathElement::Field(name), Shape::Struct(_)) = (pe, shape) {
            if shape.field(name).1 {
                out.members.insert(pe.clone());
            }
        }
        out.children.insert(
            pe.clone(),
            with_named_fields_as_members(child, shape.child(pe)),
        );
    }
    out
}

/// Drops null members of objects (a typed object has no nulls).
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// The object as upstream sees it after decoding into its Go type: unset
/// non-pointer structs are `{}` and unset fields without `omitempty` are
/// null. Comparisons run on this form so that, as upstream, adding a field
/// to such a struct does not make the struct itself "added".
pub fn as_typed(value: &Value, shape: Shape) -> Value {
    let mut out = value.clone();
    fill_unset(&mut out, shape);
    out
}

fn fill_unset(value: &mut Value, shape: Shape) {
    match (shape, value) {
        (Shape::Struct(t), Value::Object(map)) => {
            for (name, info) in schema::fields_of(t) {
                if !map.contains_key(name) {
                    match info.unset {
                        schema::Unset::EmptyObject => {
                            map.insert(name.to_string(), Value::Object(Map::new()));
                        }
                        schema::Unset::Null => {
                            map.insert(name.to_string(), Value::Null);
                        }
                        schema::Unset::Omitted => {}
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                fill_unset(child, shape.field(key).0);
            }
        }
        (Shape::Map(Some(elem)), Value::Object(map)) => {
            map.values_mut()
                .for_each(|v| fill_unset(v, Shape::element(Some(elem))));
        }
        (Shape::List(_, Some(elem)), Value::Array(items)) => {
            items
                .iter_mut()
                .for_each(|v| fill_unset(v, Shape::element(Some(elem))));
        }
        _ => {}
    }
}
