//! Fast paths of [`track_update`](super::track_update) for the common
//! writes, with the general path's results (tests pin them equal):
//!
//! - a create that starts with no managers: the writer's fields are what
//!   the object adds to an empty one, walked once and encoded from borrowed
//!   elements;
//! - a write to an object whose managedFields are in canonical form (what
//!   encoding them again gives back): the managers the write takes nothing
//!   from keep their fieldsV1 as they are, without decoding and encoding
//!   them.
//!
//! Anything else (reset, broken or non-canonical managedFields, too many
//! managers) takes the general path.

use serde_json::{Map, Value};

use super::fields_v1::{
    all_plain, from_fields_v1, insert_canonical, is_canonical, may_hold_any, remove_canonical,
    to_fields_v1,
};
use super::fieldset::FieldSet;
use super::managers::{self, unix_seconds, EntryHead, ManagerKey, MAX_UPDATE_MANAGERS};
use super::typed::{self, Comparison, Shape};
use super::{managed_fields, reset, str_at};

/// A create whose managedFields start empty: those of the request are
/// absent or reset (see `decode_live_or_new`), or ignored (subresources).
pub(super) fn starts_untracked(sent: Option<&Value>, subresource: Option<&str>) -> bool {
    if subresource.is_some() {
        return true;
    }
    match sent {
        None | Some(Value::Null) => true,
        Some(Value::Array(entries)) => match entries.as_slice() {
            [] => true,
            [only] => only.as_object().is_some_and(Map::is_empty),
            _ => false,
        },
        _ => false,
    }
}

/// `try_track_update` for a create that [`starts_untracked`]: the writer
/// owns the fields of `new_object` (what it adds to an empty object), less
/// those its endpoint resets and the identity metadata.
pub(super) fn track_create(
    new_object: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Result<Option<Value>, String> {
    let api_version = str_at(new_object, "apiVersion");
    let shape = Shape::root(type_name);
    let mut fields = typed::Fresh::of(new_object, shape)?;
    fields.remove_recursive(&reset::endpoint_resets(type_name, subresource));
    fields.remove(managers::stripped_paths());
    if fields.is_empty() {
        return Ok(None);
    }
    let head = EntryHead {
        manager: managers::manager_name(manager),
        applied: false,
        api_version,
        time: Some(now),
        subresource: subresource.unwrap_or(""),
    };
    Ok(Some(Value::Array(vec![head.encode(fields.to_fields_v1())])))
}

/// A manager read from canonical managedFields.
struct Entry<'a> {
    key: ManagerKey,
    id: String,
    api_version: &'a str,
    applied: bool,
    time: Option<&'a str>,
    fields: Fields<'a>,
}

enum Fields<'a> {
    /// Canonical fieldsV1, unchanged.
    Raw(&'a Value),
    /// Canonical fieldsV1, edited.
    Edited(Value),
    Set(FieldSet),
}

impl Fields<'_> {
    fn into_set(self) -> FieldSet {
        match self {
            Fields::Raw(raw) => from_fields_v1(raw).unwrap_or_default(),
            Fields::Edited(value) => from_fields_v1(&value).unwrap_or_default(),
            Fields::Set(set) => set,
        }
    }

    fn encode(self) -> Value {
        match self {
            Fields::Raw(raw) => raw.clone(),
            Fields::Edited(value) => value,
            Fields::Set(set) => to_fields_v1(&set),
        }
    }
}

/// The managers of `entries` when every one of them is canonical: the
/// fields `Managed::decode` reads are well-formed, its fieldsV1 is
/// [`is_canonical`] and its identifier is unique. `None` otherwise.
fn read_entries(entries: &Value) -> Option<Vec<Entry<'_>>> {
    let Value::Array(entries) = entries else {
        return None;
    };
    let mut out: Vec<Entry<'_>> = Vec::with_capacity(entries.len() + 1);
    for entry in entries {
        let Value::Object(entry) = entry else {
            return None;
        };
        let text = |name: &str| -> Option<&str> {
            match entry.get(name) {
                None | Some(Value::Null) => Some(""),
                Some(Value::String(s)) => Some(s),
                Some(_) => None,
            }
        };
        let operation = match text("operation")? {
            "Apply" => "Apply",
            "Update" => "Update",
            _ => return None,
        };
        let api_version = text("apiVersion")?;
        if api_version.is_empty() || text("fieldsType")? != "FieldsV1" {
            return None;
        }
        let raw = entry.get("fieldsV1")?;
        if !is_canonical(raw) {
            return None;
        }
        let key = ManagerKey {
            manager: text("manager")?.to_string(),
            operation,
            api_version: if operation == "Apply" {
                String::new()
            } else {
                api_version.to_string()
            },
            subresource: text("subresource")?.to_string(),
        };
        let id = key.identifier();
        if out.iter().any(|e| e.id == id) {
            return None;
        }
        out.push(Entry {
            key,
            id,
            api_version,
            applied: operation == "Apply",
            time: match entry.get("time") {
                Some(Value::String(t)) => Some(t),
                _ => None,
            },
            fields: Fields::Raw(raw),
        });
    }
    Some(out)
}

/// `try_track_update` for a write to an existing object whose managers
/// (those `sent` with the object or, as `decode_live_or_new` chooses, those
/// of `live`) are canonical. `None` when this path does not apply.
#[allow(clippy::too_many_arguments)]
pub(super) fn track_existing(
    live: &Value,
    sent: Option<&Value>,
    new_object: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Option<Result<Option<Value>, String>> {
    let source = if subresource.is_some() {
        managed_fields(live)?
    } else {
        match sent {
            None | Some(Value::Null) => managed_fields(live)?,
            // Entries the general path would decode; if they are not
            // canonical, it decides (they may be broken or reset).
            Some(entries) => entries,
        }
    };
    let mut entries = read_entries(source)?;
    if entries.is_empty() {
        return None;
    }
    // The cap could fold managers: leave that to the general path.
    if entries.iter().filter(|e| !e.applied).count() >= MAX_UPDATE_MANAGERS {
        return None;
    }
    let api_version = match str_at(new_object, "apiVersion") {
        "" => str_at(live, "apiVersion"),
        v => v,
    };
    let shape = Shape::root(type_name);
    let ignored = reset::endpoint_resets(type_name, subresource);
    let compare = match typed::compare_without_managed_fields(live, new_object, shape) {
        Ok(compare) => compare,
        Err(e) => return Some(Err(e)),
    };
    let Comparison {
        added,
        modified,
        removed,
    } = compare.exclude(&ignored);
    let changed = modified.union_owned(added);

    // The writer gains what it changed, less what is never owned.
    let mut owned = changed.clone();
    owned.remove_recursive(&ignored);
    owned.remove(managers::stripped_paths());
    let writer = (!owned.is_empty()).then(|| {
        let key = ManagerKey::update(manager, api_version, subresource.unwrap_or(""));
        let id = key.identifier();
        (key, id)
    });

    // Everyone (the writer too) loses what the writer changed or removed.
    if !changed.is_empty() || !removed.is_empty() {
        let plain = all_plain(&changed) && all_plain(&removed);
        entries.retain_mut(|e| {
            if let Fields::Raw(raw) = e.fields {
                if !may_hold_any(raw, &changed) && !may_hold_any(raw, &removed) {
                    return true;
                }
                if plain {
                    let mut value = raw.clone();
                    remove_canonical(&mut value, &changed);
                    remove_canonical(&mut value, &removed);
                    let keep = value.as_object().is_some_and(|m| !m.is_empty());
                    e.fields = Fields::Edited(value);
                    return keep;
                }
            }
            let mut set = std::mem::replace(&mut e.fields, Fields::Set(FieldSet::new())).into_set();
            set.remove(&changed);
            set.remove(&removed);
            let keep = !set.is_empty();
            e.fields = Fields::Set(set);
            keep
        });
    }

    if let Some((key, id)) = writer {
        let fields = match entries.iter().position(|e| e.id == id) {
            None => Fields::Set(owned),
            Some(at) => match entries.remove(at).fields {
                // Canonical fields take the new ones in place.
                Fields::Raw(raw) if all_plain(&owned) => {
                    let mut value = raw.clone();
                    insert_canonical(&mut value, &owned);
                    Fields::Edited(value)
                }
                Fields::Edited(mut value) if all_plain(&owned) => {
                    insert_canonical(&mut value, &owned);
                    Fields::Edited(value)
                }
                previous => Fields::Set(owned.union_owned(previous.into_set())),
            },
        };
        entries.push(Entry {
            key,
            id,
            api_version,
            applied: false,
            time: Some(now),
            fields,
        });
    }
    if entries.is_empty() {
        return Some(Ok(None));
    }

    // As `Managed::encode` orders them.
    entries.sort_by_cached_key(|e| {
        (
            if e.applied { "Apply" } else { "Update" },
            e.time.map_or(0, unix_seconds),
            e.key.manager.clone(),
            e.api_version,
            e.key.subresource.clone(),
        )
    });
    let encoded = entries
        .into_iter()
        .map(|e| {
            let head = EntryHead {
                manager: &e.key.manager,
                applied: e.applied,
                api_version: e.api_version,
                time: e.time,
                subresource: &e.key.subresource,
            };
            head.encode(e.fields.encode())
        })
        .collect();
    Some(Ok(Some(Value::Array(encoded))))
}
