//! structured-merge-diff's Updater: who owns what after an update or an
//! apply, conflicts, and pruning the fields an applier stopped applying.

use serde_json::Value;

use super::fieldset::{FieldSet, PathElement};
use super::managers::{Managed, ManagerKey, VersionedSet};
use super::typed::{self, Comparison, Shape};

/// The object's shape and the fields its endpoint resets (never owned).
pub struct Context {
    pub shape: Shape,
    pub ignored: FieldSet,
}

/// Other managers' fields an operation would change.
pub type ConflictSets = Vec<(ManagerKey, FieldSet)>;

pub enum UpdateError {
    Conflicts(ConflictSets),
    Invalid(String),
}

impl From<String> for UpdateError {
    fn from(e: String) -> Self {
        UpdateError::Invalid(e)
    }
}

/// Takes the fields `new` changes from `live` away from the other managers
/// (or reports them as conflicts when not forced).
fn update(
    ctx: &Context,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    workflow: &str,
    force: bool,
) -> Result<Comparison, UpdateError> {
    let (live, new) = (
        typed::as_typed(live, ctx.shape),
        typed::as_typed(new, ctx.shape),
    );
    let compare = typed::compare(&live, &new, ctx.shape)?.exclude(&ctx.ignored);
    let changed = compare.modified.union(&compare.added);
    let mut conflicts: ConflictSets = Vec::new();
    for (id, vs) in &managed.fields {
        if id == workflow {
            continue;
        }
        let conflict = vs.set.intersection(&changed);
        if !conflict.is_empty() {
            conflicts.push((vs.key.clone(), conflict));
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(UpdateError::Conflicts(conflicts));
    }
    for (id, vs) in managed.fields.iter_mut() {
        if id == workflow {
            continue;
        }
        vs.set = vs.set.difference(&changed).difference(&compare.removed);
    }
    managed.remove_empty();
    Ok(compare)
}

/// An ordinary write by `id`: it owns what it changed, the others lose it.
pub fn record_update(
    ctx: &Context,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    id: &str,
    key: &ManagerKey,
    api_version: &str,
) -> Result<(), String> {
    let compare = match update(ctx, live, new, managed, id, true) {
        Ok(c) => c,
        Err(UpdateError::Invalid(e)) => return Err(e),
        Err(UpdateError::Conflicts(_)) => {
            return Err("forced update reported conflicts".to_string())
        }
    };
    let previous = managed
        .fields
        .get(id)
        .map(|vs| vs.set.clone())
        .unwrap_or_default();
    let set = previous
        .difference(&compare.removed)
        .union(&compare.modified)
        .union(&compare.added)
        .recursive_difference(&ctx.ignored);
    if set.is_empty() {
        managed.fields.remove(id);
    } else {
        let vs = VersionedSet {
            key: key.clone(),
            set,
            api_version: api_version.to_string(),
            applied: false,
        };
        managed.fields.insert(id.to_string(), vs);
    }
    Ok(())
}

/// An apply by `key`: merges `config` into `live`, gives the applier exactly
/// the fields of its configuration and prunes what it applied before and
/// nobody owns now.
pub fn record_apply(
    ctx: &Context,
    live: &Value,
    config: &Value,
    managed: &mut Managed,
    key: &ManagerKey,
    api_version: &str,
    force: bool,
) -> Result<Value, UpdateError> {
    let merged = super::merge::merge(live, config, ctx.shape)?;
    let id = key.identifier();
    let last = managed.fields.get(&id).map(|vs| vs.set.clone());
    let set = typed::config_field_set(config, ctx.shape)?.recursive_difference(&ctx.ignored);
    let vs = VersionedSet {
        key: key.clone(),
        set,
        api_version: api_version.to_string(),
        applied: true,
    };
    managed.fields.insert(id.clone(), vs);
    let new = prune(ctx, merged, managed, last.as_ref())?;
    update(ctx, live, &new, managed, &id, force)?;
    Ok(new)
}

fn prune(
    ctx: &Context,
    merged: Value,
    managed: &Managed,
    last: Option<&FieldSet>,
) -> Result<Value, String> {
    let Some(last) = last.filter(|s| !s.is_empty()) else {
        return Ok(merged);
    };
    let named = |set: &FieldSet| typed::with_named_fields_as_members(set, ctx.shape);
    let remove =
        |set: &FieldSet| typed::remove_items(&merged, set, ctx.shape).unwrap_or_else(empty_object);
    let last = named(last);
    let pruned = remove(&last);

    // Add back what any manager still owns.
    let owned = managed
        .fields
        .values()
        .fold(FieldSet::new(), |acc, vs| acc.union(&vs.set));
    let merged_set = named(&typed::field_set(&merged, ctx.shape)?);
    let pruned_set = named(&typed::field_set(&pruned, ctx.shape)?);
    let pruned = remove(&merged_set.difference(&pruned_set.union(&named(&owned))));

    // Add back what nobody owns but the applier never applied.
    let pruned_set = named(&typed::field_set(&pruned, ctx.shape)?);
    Ok(remove(
        &merged_set.difference(&pruned_set).intersection(&last),
    ))
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// Each conflicting path with its manager, managers in identifier order.
pub fn conflict_paths(conflicts: &ConflictSets) -> Vec<(ManagerKey, Vec<PathElement>)> {
    let mut sorted: Vec<&(ManagerKey, FieldSet)> = conflicts.iter().collect();
    sorted.sort_by_key(|(key, _)| key.identifier());
    sorted
        .into_iter()
        .flat_map(|(key, set)| set.paths().into_iter().map(move |p| (key.clone(), p)))
        .collect()
}
