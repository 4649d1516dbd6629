//! The comparison of two objects (structured-merge-diff's Compare) as
//! upstream compares their typed forms, written into a [`Sink`].

use serde_json::Value;

use super::items::{Group, Indexed};
use super::view::{fill_of, view_equal, Hide, TypedMap, View};
use super::{as_list, Shape};
use crate::apply::fieldset::{Elem, FieldSet};
use crate::json_patch::json_equal;
use crate::schema::ListInfo;

/// How a path figures in a comparison.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Marks {
    pub added: bool,
    pub modified: bool,
    pub removed: bool,
}

impl Marks {
    const NONE: Marks = Marks {
        added: false,
        modified: false,
        removed: false,
    };
    const ADDED: Marks = Marks {
        added: true,
        ..Marks::NONE
    };
    const MODIFIED: Marks = Marks {
        modified: true,
        ..Marks::NONE
    };
    const REMOVED: Marks = Marks {
        removed: true,
        ..Marks::NONE
    };
}

/// Where a comparison writes what it finds under one node.
pub(crate) trait Sink<'a>: Default {
    /// About `n` children are coming.
    fn reserve(&mut self, _n: usize) {}
    /// The child `pe` of this node: how it compares and what lies beneath.
    fn put(&mut self, pe: Elem<'a>, marks: Marks, sub: Self);
    /// Called once all children are put.
    fn finish(&mut self);
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
    pub fn exclude(mut self, excluded: &FieldSet) -> Comparison {
        self.added.remove_recursive(excluded);
        self.modified.remove_recursive(excluded);
        self.removed.remove_recursive(excluded);
        self
    }
}

impl<'a> Sink<'a> for Comparison {
    fn put(&mut self, pe: Elem<'a>, marks: Marks, sub: Self) {
        let put = |set: &mut FieldSet, mark: bool, sub: FieldSet| {
            if mark {
                set.members.push(pe.owned());
            }
            if !sub.is_empty() {
                set.children.push((pe.owned(), sub));
            }
        };
        put(&mut self.added, marks.added, sub.added);
        put(&mut self.modified, marks.modified, sub.modified);
        put(&mut self.removed, marks.removed, sub.removed);
    }

    fn finish(&mut self) {
        for set in [&mut self.added, &mut self.modified, &mut self.removed] {
            // A node's elements are distinct: sorting is all there is to do.
            if !set.members.is_sorted_by(|a, b| a < b) {
                set.members.sort_unstable();
            }
            if !set.children.is_sorted_by(|a, b| a.0 < b.0) {
                set.children.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            }
        }
    }
}

/// Compares `old` with `new` (structured-merge-diff's Compare) as upstream
/// compares their typed forms.
pub fn compare(old: &Value, new: &Value, shape: Shape) -> Result<Comparison, String> {
    compare_in::<Comparison>(old, new, shape, false)
}

/// [`compare`] with `metadata.managedFields` of both objects left out.
pub(crate) fn compare_without_managed_fields(
    old: &Value,
    new: &Value,
    shape: Shape,
) -> Result<Comparison, String> {
    compare_in::<Comparison>(old, new, shape, true)
}

/// [`compare`] into any [`Sink`].
pub(crate) fn compare_in<'a, S: Sink<'a>>(
    old: &'a Value,
    new: &'a Value,
    shape: Shape,
    hide_managed_fields: bool,
) -> Result<S, String> {
    let hide = if hide_managed_fields {
        Hide::InMetadata
    } else {
        Hide::No
    };
    let view = |value| View { value, hide };
    compare_at(Some(view(old)), Some(view(new)), shape).map(|(out, _)| out)
}

fn compare_at<'a, S: Sink<'a>>(
    l: Option<View<'a>>,
    r: Option<View<'a>>,
    shape: Shape,
) -> Result<(S, Marks), String> {
    let leaf = || match (l, r) {
        (None, _) => Marks::ADDED,
        (_, None) => Marks::REMOVED,
        (Some(a), Some(b)) if !view_equal(a, b) => Marks::MODIFIED,
        _ => Marks::NONE,
    };
    let this = || {
        if l.is_none() {
            Marks::ADDED
        } else if r.is_none() {
            Marks::REMOVED
        } else {
            Marks::NONE
        }
    };
    let mut out = S::default();
    match shape {
        Shape::Atomic => Ok((out, leaf())),
        Shape::Struct(_) | Shape::Map(_) | Shape::Deduced => {
            let (Some(lm), Some(rm)) = (TypedMap::new(l, shape), TypedMap::new(r, shape)) else {
                return Ok((out, leaf()));
            };
            if lm.is_empty() && rm.is_empty() {
                return Ok((out, leaf()));
            }
            compare_maps(&mut out, shape, lm, rm)?;
            out.finish();
            Ok((out, this()))
        }
        Shape::List(info, elem) => {
            let (Some(ll), Some(rl)) = (as_list(l.map(|v| v.value)), as_list(r.map(|v| v.value)))
            else {
                return Ok((out, leaf()));
            };
            if ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty) {
                return Ok((out, leaf()));
            }
            out.reserve(rl.map_or(0, Vec::len).max(ll.map_or(0, Vec::len)));
            compare_items(&mut out, info, Shape::element(elem), ll, rl)?;
            out.finish();
            Ok((out, this()))
        }
    }
}

/// The keys of `lm` then those only `rm` has, as upstream walks them.
fn compare_maps<'a, S: Sink<'a>>(
    out: &mut S,
    shape: Shape,
    lm: TypedMap<'a>,
    rm: TypedMap<'a>,
) -> Result<(), String> {
    out.reserve(rm.real_len().max(lm.real_len()));
    let mut child = |key: &'a str, shape, l, r| {
        let (sub, marks) = compare_at(l, r, shape)?;
        out.put(Elem::Field(key), marks, sub);
        Ok::<(), String>(())
    };
    // Objects read from the same source list their keys in the same order:
    // `rm`'s keys are taken in step while they match, and looked up after.
    let mut in_step = rm.real.map(|m| m.iter());
    let mut aligned = true;
    for (key, value) in lm.real.into_iter().flatten() {
        let next = in_step.as_mut().and_then(Iterator::next);
        let next = match next {
            Some((k, v)) if k == key => Some(v),
            _ => {
                aligned = false;
                None
            }
        };
        if lm.hidden(key) {
            continue;
        }
        let (shape, field) = shape.lookup(key);
        let r = match next {
            Some(value) => Some(View {
                value,
                hide: rm.child_hide(key),
            }),
            None => rm.get_known(key, field),
        };
        let l = View {
            value,
            hide: lm.child_hide(key),
        };
        child(key, shape, Some(l), r)?;
    }
    for field in lm.fill_fields() {
        if lm.real_get(field.name).is_some() {
            continue;
        }
        child(
            field.name,
            Shape::of_field(field),
            fill_of(field),
            rm.get_known(field.name, Some(field)),
        )?;
    }
    // `rm` has no other keys when all of `lm`'s were in step with all of its.
    let same_keys = aligned && in_step.is_some_and(|mut rest| rest.next().is_none());
    if !same_keys {
        for (key, value) in rm.real.into_iter().flatten() {
            if rm.hidden(key) {
                continue;
            }
            let (shape, field) = shape.lookup(key);
            if lm.get_known(key, field).is_some() {
                continue;
            }
            let r = View {
                value,
                hide: rm.child_hide(key),
            };
            child(key, shape, None, Some(r))?;
        }
    }
    for field in rm.fill_fields() {
        if rm.real_get(field.name).is_some() || lm.get_known(field.name, Some(field)).is_some() {
            continue;
        }
        child(field.name, Shape::of_field(field), None, fill_of(field))?;
    }
    Ok(())
}

fn compare_items<'a, S: Sink<'a>>(
    out: &mut S,
    info: &ListInfo,
    elem: Shape,
    l: Option<&'a Vec<Value>>,
    r: Option<&'a Vec<Value>>,
) -> Result<(), String> {
    let l_items = Indexed::new(info, l)?;
    let r_items = Indexed::new(info, r)?;
    let mut one = |pe: Elem<'a>, ls: Option<&Group<'a>>, rs: Option<&Group<'a>>| {
        let (l_len, r_len) = (ls.map_or(0, Group::len), rs.map_or(0, Group::len));
        let first = |g: Option<&Group<'a>>| g.map(|g| View::of(g.first));
        let (sub, marks) = match (l_len, r_len) {
            (0..=1, 0..=1) => compare_at(first(ls), first(rs), elem)?,
            (2.., 2..) => {
                let (ls, rs) = (ls.expect("items"), rs.expect("items"));
                let same =
                    l_len == r_len && ls.items().zip(rs.items()).all(|(a, b)| json_equal(a, b));
                let marks = if same { Marks::NONE } else { Marks::MODIFIED };
                (S::default(), marks)
            }
            (2.., _) => {
                let (sub, mut marks) = match first(rs) {
                    Some(first) => compare_at(None, Some(first), elem)?,
                    None => (S::default(), Marks::NONE),
                };
                marks.removed = true;
                (sub, marks)
            }
            (_, _) => {
                let (sub, mut marks) = match first(ls) {
                    Some(first) => compare_at(Some(first), None, elem)?,
                    None => (S::default(), Marks::NONE),
                };
                marks.added = true;
                (sub, marks)
            }
        };
        out.put(pe, marks, sub);
        Ok::<(), String>(())
    };
    for g in &l_items.groups {
        one(g.pe, Some(g), r_items.find(&g.pe))?;
    }
    for g in &r_items.groups {
        if l_items.find(&g.pe).is_none() {
            one(g.pe, None, Some(g))?;
        }
    }
    Ok(())
}
