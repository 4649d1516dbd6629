//! The fields a new object gives its writer, kept borrowed from the object
//! until they are encoded as fieldsV1.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::compare::{compare_in, Marks, Sink};
use super::{Shape, EMPTY};
use crate::apply::fieldset::{Elem, FieldSet};

/// The fields a new object gives its writer: what [`compare`] finds added
/// or modified from an empty object, borrowed from the object.
#[derive(Debug, Default)]
pub(crate) struct Fresh<'a> {
    /// Sorted by element: (element, is a member, what lies beneath).
    entries: Vec<(Elem<'a>, bool, Fresh<'a>)>,
}

impl<'a> Sink<'a> for Fresh<'a> {
    fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    fn put(&mut self, pe: Elem<'a>, marks: Marks, sub: Self) {
        let member = marks.added || marks.modified;
        if member || !sub.entries.is_empty() {
            self.entries.push((pe, member, sub));
        }
    }

    fn finish(&mut self) {
        if !self
            .entries
            .is_sorted_by(|a, b| a.0.cmp(&b.0) == Ordering::Less)
        {
            self.entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
    }
}

impl<'a> Fresh<'a> {
    /// The fields of `new` against an empty object (the paths of
    /// `compare({}, new)`'s added and modified sets).
    pub(crate) fn of(new: &'a Value, shape: Shape) -> Result<Fresh<'a>, String> {
        compare_in::<Fresh<'a>>(&EMPTY, new, shape, false)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn find<'s>(set: &'s FieldSet, pe: &Elem<'_>) -> (bool, Option<&'s FieldSet>) {
        let member = set
            .members
            .binary_search_by(|m| pe.cmp_owned(m).reverse())
            .is_ok();
        let child = set
            .children
            .binary_search_by(|(c, _)| pe.cmp_owned(c).reverse())
            .ok()
            .map(|at| &set.children[at].1);
        (member, child)
    }

    /// [`FieldSet::recursive_difference`] in place.
    pub(crate) fn remove_recursive(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        self.entries.retain_mut(|(pe, member, sub)| {
            let (theirs, below) = Fresh::find(other, pe);
            if theirs {
                return false;
            }
            if let Some(below) = below {
                sub.remove_recursive(below);
            }
            *member || !sub.is_empty()
        });
    }

    /// [`FieldSet::difference`] in place.
    pub(crate) fn remove(&mut self, other: &FieldSet) {
        if other.is_empty() {
            return;
        }
        self.entries.retain_mut(|(pe, member, sub)| {
            let (theirs, below) = Fresh::find(other, pe);
            if theirs {
                *member = false;
            }
            if let Some(below) = below {
                sub.remove(below);
            }
            *member || !sub.is_empty()
        });
    }

    /// The fieldsV1 of the set, as `to_fields_v1` encodes it.
    pub(crate) fn to_fields_v1(&self) -> Value {
        Value::Object(self.encode(false))
    }

    fn encode(&self, include_self: bool) -> Map<String, Value> {
        let include_self = include_self && !self.is_empty();
        let mut out = Map::with_capacity(self.entries.len() + usize::from(include_self));
        if include_self {
            out.insert(".".to_string(), Value::Object(Map::new()));
        }
        for (pe, member, sub) in &self.entries {
            let value = if sub.is_empty() {
                Map::new()
            } else {
                sub.encode(*member)
            };
            out.insert(pe.encode(), Value::Object(value));
        }
        out
    }
}
