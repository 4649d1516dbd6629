//! Objects as upstream's typed (Go) objects hold them: read in place
//! through [`View`]s for comparisons, or copied by [`as_typed`].

use serde_json::{Map, Value};

use super::{ssa_type, Shape, EMPTY, NULL};
use crate::json_patch::json_equal;
use crate::schema::{SsaField, SsaType, Unset};

/// A value as upstream's typed (Go) object holds it, read in place: in a
/// struct, unset non-pointer structs read as `{}` and unset fields without
/// `omitempty` as null. Comparisons run on this form so that, as upstream,
/// adding a field to such a struct does not make the struct itself "added".
#[derive(Clone, Copy)]
pub(super) struct View<'a> {
    pub(super) value: &'a Value,
    pub(super) hide: Hide,
}

/// Reads an object as if its `metadata.managedFields` were absent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Hide {
    No,
    /// The object: its `metadata` child hides.
    InMetadata,
    /// The metadata: its `managedFields` key is hidden.
    Here,
}

impl<'a> View<'a> {
    pub(super) fn of(value: &'a Value) -> View<'a> {
        View {
            value,
            hide: Hide::No,
        }
    }
}

/// An object (or null, as an empty map) seen through a [`View`].
#[derive(Clone, Copy)]
pub(super) struct TypedMap<'a> {
    pub(super) real: Option<&'a Map<String, Value>>,
    /// The struct type whose unset fields the map shows.
    fills: Option<&'static SsaType>,
    hide: Hide,
}

const MANAGED_FIELDS: &str = "managedFields";

impl<'a> TypedMap<'a> {
    pub(super) fn new(view: Option<View<'a>>, shape: Shape) -> Option<TypedMap<'a>> {
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

    pub(super) fn real_get(&self, key: &str) -> Option<&'a Value> {
        if self.hide == Hide::Here && key == MANAGED_FIELDS {
            return None;
        }
        self.real?.get(key)
    }

    pub(super) fn child_hide(&self, key: &str) -> Hide {
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

    pub(super) fn hidden(&self, key: &str) -> bool {
        self.hide == Hide::Here && key == MANAGED_FIELDS
    }

    /// [`TypedMap::get`] with the field of `key` in the map's struct type
    /// (as [`Shape::lookup`] finds it) already known.
    pub(super) fn get_known(
        &self,
        key: &str,
        field: Option<&'static SsaField>,
    ) -> Option<View<'a>> {
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
    pub(super) fn fill_fields(&self) -> impl Iterator<Item = &'static SsaField> {
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

    pub(super) fn real_len(&self) -> usize {
        let Some(real) = self.real else { return 0 };
        let hidden = self.hide == Hide::Here && real.contains_key(MANAGED_FIELDS);
        real.len() - usize::from(hidden)
    }

    pub(super) fn is_empty(&self) -> bool {
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

pub(super) fn fill_of(field: &SsaField) -> Option<View<'static>> {
    match field.info.unset {
        Unset::Omitted => None,
        Unset::EmptyObject => Some(View::of(&EMPTY)),
        Unset::Null => Some(View::of(&NULL)),
    }
}

/// `json_equal` of two views (what they show, hidden keys excluded).
pub(super) fn view_equal(a: View<'_>, b: View<'_>) -> bool {
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
