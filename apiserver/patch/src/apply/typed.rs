//! Schema-driven walks over objects for server-side apply: the field set of
//! an object, the comparison of two objects, merging an applied
//! configuration and removing paths, with structured-merge-diff's rules.
//!
//! The walks borrow what they read: comparisons see objects as upstream's
//! typed (Go) objects hold them through [`View`]s instead of copies, and
//! path elements are [`Elem`]s borrowed from the objects until a result
//! needs them owned.

use std::cmp::Ordering;
use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::fieldset::{path_string, Elem, FieldSet, KeyFields, PathElement, MAX_KEYS};
use crate::json_patch::json_equal;
use crate::schema::{self, ListInfo, SsaField, SsaType, Unset};

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

static TCP: LazyLock<Value> = LazyLock::new(|| Value::String("TCP".to_string()));
static NULL: Value = Value::Null;
static EMPTY: LazyLock<Value> = LazyLock::new(|| Value::Object(Map::new()));

/// The path element of a list item: its keys for a list-map (a missing
/// `protocol` defaults to "TCP" as the schema says), its value for a set.
pub fn item_element(info: &ListInfo, item: &Value) -> Result<PathElement, String> {
    item_elem(info, item).map(Elem::owned)
}

/// [`item_element`], borrowed from the item.
pub(crate) fn item_elem<'a>(info: &ListInfo, item: &'a Value) -> Result<Elem<'a>, String> {
    if info.list_type == "map" {
        let Value::Object(map) = item else {
            return Err(if item.is_null() {
                "associative list with keys may not have a null element".to_string()
            } else {
                "associative list with keys may not have non-map elements".to_string()
            });
        };
        if info.list_map_keys.len() > MAX_KEYS {
            return Err(format!(
                "associative list with more than {MAX_KEYS} keys is not supported"
            ));
        }
        let mut fields: [(&'a str, &'a Value); MAX_KEYS] = [("", &NULL); MAX_KEYS];
        for (slot, key) in fields.iter_mut().zip(info.list_map_keys) {
            match map.get(*key) {
                Some(v) => *slot = (*key, v),
                None if *key == "protocol" => *slot = ("protocol", &*TCP),
                None => {
                    return Err(format!(
                        "associative list with keys has an element that omits key field {key:?} (and doesn't have default value)"
                    ))
                }
            }
        }
        return Ok(Elem::Key(KeyFields::new(
            &fields[..info.list_map_keys.len()],
        )));
    }
    match item {
        Value::Object(_) => {
            Err("associative list without keys has an element that's a map type".to_string())
        }
        Value::Array(_) => {
            Err("associative list without keys has an element that's a list type".to_string())
        }
        Value::Null => Err("associative list without keys may not have a null element".to_string()),
        scalar => Ok(Elem::Value(scalar)),
    }
}

/// The items of a list grouped by path element, groups in the order of
/// their first item.
struct Indexed<'a> {
    groups: Vec<Group<'a>>,
    /// Group indices sorted by element, for long lists.
    sorted: Vec<usize>,
}

struct Group<'a> {
    pe: Elem<'a>,
    first: &'a Value,
    /// The items after the first with the same element.
    more: Vec<&'a Value>,
}

impl Group<'_> {
    fn len(&self) -> usize {
        1 + self.more.len()
    }

    fn items(&self) -> impl Iterator<Item = &Value> {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// Lists up to this long are grouped and searched linearly.
const SHORT_LIST: usize = 8;

impl<'a> Indexed<'a> {
    /// Groups the items; the first item whose element fails is the error.
    fn new(info: &ListInfo, items: Option<&'a Vec<Value>>) -> Result<Indexed<'a>, String> {
        let items = items.map_or(&[][..], Vec::as_slice);
        if items.len() <= SHORT_LIST {
            let mut groups: Vec<Group<'a>> = Vec::with_capacity(items.len());
            for item in items {
                let pe = item_elem(info, item)?;
                match groups.iter_mut().find(|g| g.pe.cmp(&pe) == Ordering::Equal) {
                    Some(g) => g.more.push(item),
                    None => groups.push(Group {
                        pe,
                        first: item,
                        more: Vec::new(),
                    }),
                }
            }
            return Ok(Indexed {
                groups,
                sorted: Vec::new(),
            });
        }
        let mut pes = Vec::with_capacity(items.len());
        for item in items {
            pes.push(item_elem(info, item)?);
        }
        Ok(Indexed::group(&pes, items))
    }

    fn group(pes: &[Elem<'a>], items: &'a [Value]) -> Indexed<'a> {
        let mut groups: Vec<Group<'a>> = Vec::with_capacity(items.len());
        if items.len() <= SHORT_LIST {
            for (pe, item) in pes.iter().zip(items) {
                match groups.iter_mut().find(|g| g.pe.cmp(pe) == Ordering::Equal) {
                    Some(g) => g.more.push(item),
                    None => groups.push(Group {
                        pe: *pe,
                        first: item,
                        more: Vec::new(),
                    }),
                }
            }
            return Indexed {
                groups,
                sorted: Vec::new(),
            };
        }
        // Sort the items by element (stably: each run keeps item order).
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| pes[a].cmp(&pes[b]));
        let mut runs: Vec<(usize, Group<'a>)> = Vec::new();
        for i in order {
            match runs.last_mut() {
                Some((_, g)) if g.pe.cmp(&pes[i]) == Ordering::Equal => g.more.push(&items[i]),
                _ => runs.push((
                    i,
                    Group {
                        pe: pes[i],
                        first: &items[i],
                        more: Vec::new(),
                    },
                )),
            }
        }
        // `runs` is sorted by element; the groups go in first-item order.
        let mut by_first: Vec<usize> = (0..runs.len()).collect();
        by_first.sort_by_key(|&r| runs[r].0);
        let mut sorted = vec![0; runs.len()];
        for (at, &r) in by_first.iter().enumerate() {
            sorted[r] = at;
        }
        let mut slots: Vec<Option<Group<'a>>> = runs.into_iter().map(|(_, g)| Some(g)).collect();
        groups.extend(by_first.iter().filter_map(|&r| slots[r].take()));
        Indexed { groups, sorted }
    }

    fn find(&self, pe: &Elem<'_>) -> Option<&Group<'a>> {
        if self.sorted.is_empty() {
            return self.groups.iter().find(|g| g.pe.cmp(pe) == Ordering::Equal);
        }
        self.sorted
            .binary_search_by(|&g| self.groups[g].pe.cmp(pe))
            .ok()
            .map(|at| &self.groups[self.sorted[at]])
    }
}

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

/// A value as upstream's typed (Go) object holds it, read in place: in a
/// struct, unset non-pointer structs read as `{}` and unset fields without
/// `omitempty` as null. Comparisons run on this form so that, as upstream,
/// adding a field to such a struct does not make the struct itself "added".
#[derive(Clone, Copy)]
struct View<'a> {
    value: &'a Value,
    hide: Hide,
}

/// Reads an object as if its `metadata.managedFields` were absent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hide {
    No,
    /// The object: its `metadata` child hides.
    InMetadata,
    /// The metadata: its `managedFields` key is hidden.
    Here,
}

impl<'a> View<'a> {
    fn of(value: &'a Value) -> View<'a> {
        View {
            value,
            hide: Hide::No,
        }
    }
}

/// An object (or null, as an empty map) seen through a [`View`].
#[derive(Clone, Copy)]
struct TypedMap<'a> {
    real: Option<&'a Map<String, Value>>,
    /// The struct type whose unset fields the map shows.
    fills: Option<&'static SsaType>,
    hide: Hide,
}

const MANAGED_FIELDS: &str = "managedFields";

impl<'a> TypedMap<'a> {
    fn new(view: Option<View<'a>>, shape: Shape) -> Option<TypedMap<'a>> {
        match view.map(|v| v.value) {
            None | Some(Value::Null) => Some(TypedMap {
                real: None,
                fills: None,
                hide: Hide::No,
            }),
            Some(Value::Object(m)) => Some(TypedMap {
                real: Some(m),
                fills: match shape {
                    Shape::Struct(t) => Some(ssa_type(t)),
                    _ => None,
                },
                hide: view.map_or(Hide::No, |v| v.hide),
            }),
            Some(_) => None,
        }
    }

    fn real_get(&self, key: &str) -> Option<&'a Value> {
        if self.hide == Hide::Here && key == MANAGED_FIELDS {
            return None;
        }
        self.real?.get(key)
    }

    fn child_hide(&self, key: &str) -> Hide {
        if self.hide == Hide::InMetadata && key == "metadata" {
            Hide::Here
        } else {
            Hide::No
        }
    }

    /// What an unset field reads as.
    fn fill(&self, key: &str) -> Option<View<'a>> {
        fill_of(self.fills?.field(key)?)
    }

    fn hidden(&self, key: &str) -> bool {
        self.hide == Hide::Here && key == MANAGED_FIELDS
    }

    /// [`TypedMap::get`] with the field of `key` in the map's struct type
    /// (as [`Shape::lookup`] finds it) already known.
    fn get_known(&self, key: &str, field: Option<&'static SsaField>) -> Option<View<'a>> {
        match self.real_get(key) {
            Some(value) => Some(View {
                value,
                hide: self.child_hide(key),
            }),
            None if self.fills.is_some() => field.and_then(fill_of),
            None => None,
        }
    }

    /// The struct's fields that read as something while unset.
    fn fill_fields(&self) -> impl Iterator<Item = &'static SsaField> {
        self.fills
            .filter(|t| t.has_fills)
            .into_iter()
            .flat_map(|t| t.fields.iter())
            .filter(|f| f.info.unset != Unset::Omitted)
    }

    fn get(&self, key: &str) -> Option<View<'a>> {
        match self.real_get(key) {
            Some(value) => Some(View {
                value,
                hide: self.child_hide(key),
            }),
            None => self.fill(key),
        }
    }

    fn real_len(&self) -> usize {
        let Some(real) = self.real else { return 0 };
        let hidden = self.hide == Hide::Here && real.contains_key(MANAGED_FIELDS);
        real.len() - usize::from(hidden)
    }

    fn is_empty(&self) -> bool {
        self.real_len() == 0 && !self.fills.is_some_and(|t| t.has_fills)
    }

    /// Every key with its value: the object's keys in order, then the
    /// struct's unset fields that read as something, in declaration order.
    fn for_each(
        &self,
        mut f: impl FnMut(&'a str, View<'a>) -> Result<(), String>,
    ) -> Result<(), String> {
        if let Some(real) = self.real {
            for (key, value) in real {
                if self.hide == Hide::Here && key == MANAGED_FIELDS {
                    continue;
                }
                let hide = self.child_hide(key);
                f(key, View { value, hide })?;
            }
        }
        if let Some(t) = self.fills.filter(|t| t.has_fills) {
            for field in t.fields.iter() {
                if field.info.unset == Unset::Omitted || self.real_get(field.name).is_some() {
                    continue;
                }
                let value = match field.info.unset {
                    Unset::EmptyObject => &*EMPTY,
                    _ => &NULL,
                };
                f(field.name, View::of(value))?;
            }
        }
        Ok(())
    }
}

fn fill_of(field: &SsaField) -> Option<View<'static>> {
    match field.info.unset {
        Unset::Omitted => None,
        Unset::EmptyObject => Some(View::of(&EMPTY)),
        Unset::Null => Some(View::of(&NULL)),
    }
}

/// `json_equal` of two views (what they show, hidden keys excluded).
fn view_equal(a: View<'_>, b: View<'_>) -> bool {
    if a.hide == Hide::No && b.hide == Hide::No {
        return json_equal(a.value, b.value);
    }
    match (a.value, b.value) {
        (Value::Object(_), Value::Object(_)) => {
            let shape = Shape::Deduced;
            let (Some(x), Some(y)) = (TypedMap::new(Some(a), shape), TypedMap::new(Some(b), shape))
            else {
                return false;
            };
            x.real_len() == y.real_len()
                && x.for_each(|key, v| match y.get(key) {
                    Some(w) if view_equal(v, w) => Ok(()),
                    _ => Err(String::new()),
                })
                .is_ok()
        }
        _ => json_equal(a.value, b.value),
    }
}

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

    fn find<'s>(set: &'s FieldSet, pe: &Elem<'_>) -> (bool, Option<&'s FieldSet>) {
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
/// null ([`compare`] reads objects this way without copying them).
pub fn as_typed(value: &Value, shape: Shape) -> Value {
    let mut out = value.clone();
    fill_unset(&mut out, shape);
    out
}

fn fill_unset(value: &mut Value, shape: Shape) {
    match (shape, value) {
        (Shape::Struct(t), Value::Object(map)) => {
            for field in ssa_type(t).fields.iter() {
                if !map.contains_key(field.name) {
                    match field.info.unset {
                        Unset::EmptyObject => {
                            map.insert(field.name.to_string(), Value::Object(Map::new()));
                        }
                        Unset::Null => {
                            map.insert(field.name.to_string(), Value::Null);
                        }
                        Unset::Omitted => {}
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
