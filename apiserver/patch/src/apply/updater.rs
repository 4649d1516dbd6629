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

/// What an update changed: the paths it removed, and those it added or
/// modified.
pub struct Changes {
    pub removed: FieldSet,
    pub changed: FieldSet,
}

/// Takes the fields `new` changes from `live` away from the other managers
/// (or reports them as conflicts when not forced). `tracked` compares the
/// objects without their `metadata.managedFields`.
fn update(
    ctx: &Context,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    workflow: &str,
    force: bool,
    tracked: bool,
) -> Result<Changes, UpdateError> {
    let compare = if tracked {
        typed::compare_without_managed_fields(live, new, ctx.shape)?
    } else {
        typed::compare(live, new, ctx.shape)?
    };
    let Comparison {
        added,
        modified,
        removed,
    } = compare.exclude(&ctx.ignored);
    let changed = modified.union_owned(added);
    if !force {
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
        if !conflicts.is_empty() {
            return Err(UpdateError::Conflicts(conflicts));
        }
    }
    for (id, vs) in managed.fields.iter_mut() {
        if id == workflow {
            continue;
        }
        vs.set.remove(&changed);
        vs.set.remove(&removed);
    }
    managed.remove_empty();
    Ok(Changes { removed, changed })
}

/// An ordinary write by `id`: it owns what it changed, the others lose it.
/// `tracked` as for [`update`].
#[allow(clippy::too_many_arguments)]
pub fn record_update(
    ctx: &Context,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    id: &str,
    key: &ManagerKey,
    api_version: &str,
    tracked: bool,
) -> Result<(), String> {
    let Changes { removed, changed } = match update(ctx, live, new, managed, id, true, tracked) {
        Ok(c) => c,
        Err(UpdateError::Invalid(e)) => return Err(e),
        Err(UpdateError::Conflicts(_)) => {
            return Err("forced update reported conflicts".to_string())
        }
    };
    let mut previous = managed
        .fields
        .get(id)
        .map(|vs| vs.set.clone())
        .unwrap_or_default();
    previous.remove(&removed);
    let mut set = previous.union_owned(changed);
    set.remove_recursive(&ctx.ignored);
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
/// the fields of its configuration (`set`, less what the endpoint resets)
/// and prunes what it applied before and nobody owns now.
#[allow(clippy::too_many_arguments)]
pub fn record_apply(
    ctx: &Context,
    live: &Value,
    config: &Value,
    set: FieldSet,
    managed: &mut Managed,
    key: &ManagerKey,
    api_version: &str,
    force: bool,
) -> Result<Value, UpdateError> {
    let merged = super::merge::merge(live, config, ctx.shape)?;
    let id = key.identifier();
    let last = managed.fields.get(&id).map(|vs| vs.set.clone());
    let vs = VersionedSet {
        key: key.clone(),
        set,
        api_version: api_version.to_string(),
        applied: true,
    };
    managed.fields.insert(id.clone(), vs);
    let new = prune(ctx, merged, managed, last.as_ref())?;
    update(ctx, live, &new, managed, &id, force, false)?;
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
        .fold(FieldSet::new(), |acc, vs| acc.union_owned(vs.set.clone()));
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
