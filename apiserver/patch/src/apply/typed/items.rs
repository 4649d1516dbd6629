//! List items by path element: the element of one item (its keys in a
//! list-map, its value in a set), and a list's items grouped by element.

use std::cmp::Ordering;
use std::sync::LazyLock;

use serde_json::Value;

use super::NULL;
use crate::apply::fieldset::{Elem, KeyFields, PathElement, MAX_KEYS};
use crate::schema::ListInfo;

/// What a list-map item without `protocol` reads as (the schema's default).
static TCP: LazyLock<Value> = LazyLock::new(|| Value::String("TCP".to_string()));

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
pub(super) struct Indexed<'a> {
    pub(super) groups: Vec<Group<'a>>,
    /// Group indices sorted by element, for long lists.
    sorted: Vec<usize>,
}

pub(super) struct Group<'a> {
    pub(super) pe: Elem<'a>,
    pub(super) first: &'a Value,
    /// The items after the first with the same element.
    more: Vec<&'a Value>,
}

impl Group<'_> {
    pub(super) fn len(&self) -> usize {
        1 + self.more.len()
    }

    pub(super) fn items(&self) -> impl Iterator<Item = &Value> {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }
}

/// Lists up to this long are grouped and searched linearly.
const SHORT_LIST: usize = 8;

impl<'a> Indexed<'a> {
    /// Groups the items; the first item whose element fails is the error.
    pub(super) fn new(
        info: &ListInfo,
        items: Option<&'a Vec<Value>>,
    ) -> Result<Indexed<'a>, String> {
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

    pub(super) fn group(pes: &[Elem<'a>], items: &'a [Value]) -> Indexed<'a> {
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

    pub(super) fn find(&self, pe: &Elem<'_>) -> Option<&Group<'a>> {
        if self.sorted.is_empty() {
            return self.groups.iter().find(|g| g.pe.cmp(pe) == Ordering::Equal);
        }
        self.sorted
            .binary_search_by(|&g| self.groups[g].pe.cmp(pe))
            .ok()
            .map(|at| &self.groups[self.sorted[at]])
    }
}
