//! Schema-driven walks over objects for server-side apply, with
//! structured-merge-diff's rules: how a value is owned and merged (its
//! [`Shape`], here), the path elements of list items ([`items`]), the field
//! set of an object ([`to_field_set`]), the comparison of two objects
//! ([`compare`], [`fresh`]) and removing paths ([`remove`]).
//!
//! The walks borrow what they read: comparisons see objects as upstream's
//! typed (Go) objects hold them through [`view`]s instead of copies, and
//! path elements are [`Elem`](super::fieldset::Elem)s borrowed from the
//! objects until a result needs them owned.

mod compare;
mod fresh;
mod items;
mod remove;
mod to_field_set;
mod view;

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::fieldset::PathElement;
use crate::schema::{self, ListInfo, SsaField, SsaType};

pub(crate) use compare::compare_without_managed_fields;
pub use compare::{compare, Comparison};
pub(crate) use fresh::Fresh;
pub use items::item_element;
pub use remove::{remove_items, with_named_fields_as_members};
pub use to_field_set::{config_field_set, field_set};
pub use view::{as_typed, strip_nulls};

/// How a value is owned and merged.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// An object type of the table (an index into [`schema::ssa_types`]):
    /// its keys are declared fields.
    Struct(u16),
    /// `map[string]X`: keys are owned one by one; X is an object type or a scalar.
    Map(Option<u16>),
    /// A type the table does not know: objects merge key by key, lists are atomic.
    Deduced,
    /// A set or list-map.
    List(&'static ListInfo, Option<u16>),
    /// Owned and replaced as a whole: scalars, atomic lists, maps and structs.
    Atomic,
}

fn ssa_type(id: u16) -> &'static SsaType {
    &schema::ssa_types()[usize::from(id)]
}

impl Shape {
    pub fn root(type_name: &str) -> Shape {
        schema::known_type(type_name)
            .and_then(schema::ssa_type_id)
            .map_or(Shape::Deduced, Shape::of_type)
    }

    fn of_type(id: u16) -> Shape {
        if ssa_type(id).atomic {
            Shape::Atomic
        } else {
            Shape::Struct(id)
        }
    }

    pub(super) fn element(elem: Option<u16>) -> Shape {
        elem.map_or(Shape::Atomic, Shape::of_type)
    }

    /// The shape of `key`'s value and whether `key` is a declared field.
    pub fn field(self, key: &str) -> (Shape, bool) {
        match self {
            Shape::Struct(t) => match ssa_type(t).field(key) {
                Some(field) => (Shape::of_field(field), true),
                None => (Shape::Atomic, true),
            },
            Shape::Map(elem) => (Shape::element(elem), false),
            Shape::Deduced => (Shape::Deduced, false),
            Shape::List(..) | Shape::Atomic => (Shape::Atomic, false),
        }
    }

    /// [`Shape::field`] without the declared flag, with the struct's field.
    fn lookup(self, key: &str) -> (Shape, Option<&'static SsaField>) {
        match self {
            Shape::Struct(t) => match ssa_type(t).field(key) {
                Some(field) => (Shape::of_field(field), Some(field)),
                None => (Shape::Atomic, None),
            },
            _ => (self.field(key).0, None),
        }
    }

    fn of_field(field: &'static SsaField) -> Shape {
        let info = &field.info;
        if let Some(list) = &info.list {
            if list.list_type == "atomic" {
                Shape::Atomic
            } else {
                Shape::List(list, field.elem)
            }
        } else if info.atomic {
            Shape::Atomic
        } else if info.map_of {
            Shape::Map(field.elem)
        } else {
            Shape::element(field.elem)
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
        &'static ListInfo,
        Option<u16>,
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
        Shape::List(info, elem) => match (as_list(l), as_list(r)) {
            (Some(ll), Some(rl)) => Node::List(info, elem, ll, rl),
            _ => Node::Leaf,
        },
    }
}

fn as_list(v: Option<&Value>) -> Option<Option<&Vec<Value>>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::Array(items)) => Some(Some(items)),
        Some(_) => None,
    }
}

// Values the walks lend as `&'static`: what unset fields read as (see
// `view`), and the filler of unused key slots in `items`.
static NULL: Value = Value::Null;
static EMPTY: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));
