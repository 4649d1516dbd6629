//! Server-side apply and managedFields tracking, as upstream's field manager
//! does them (k8s.io/apimachinery managedfields over structured-merge-diff).

mod conflict;
mod fast;
mod fields_v1;
mod fieldset;
mod managers;
mod merge;
mod reset;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_track;
mod typed;
mod updater;

use serde_json::{Map, Value};

pub use conflict::{ApplyError, Conflict};
pub use fields_v1::{from_fields_v1, to_fields_v1};
pub use fieldset::{path_string, FieldSet, PathElement};
pub use managers::MAX_UPDATE_MANAGERS;
pub use reset::reset_fields;

use managers::{Managed, ManagerKey};
use typed::Shape;
use updater::{Context, UpdateError};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The manager that owns what existed before the first apply.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";
/// Stands for the writer while its changes are computed.
const CURRENT_OPERATION: &str = "current-operation";

/// Applies `config` (a server-side apply patch) for `manager` to the main
/// resource. `live` is `None` when the object does not exist yet; `now` is
/// the RFC 3339 time recorded in managedFields.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    type_name: &str,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    apply_to(live, config, type_name, manager, None, force, now)
}

/// [`apply`] through a subresource endpoint (`Some("status")`), which owns
/// only what its strategy does not reset.
pub fn apply_to(
    live: Option<&Value>,
    config: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    let Value::Object(config_map) = config else {
        return Err(ApplyError::BadRequest(
            "error decoding YAML: the apply patch must be an object".to_string(),
        ));
    };
    if config_map
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".to_string(),
        ));
    }
    check_kind(live, config, type_name)?;
    let api_version = text(config, "apiVersion");
    let empty = Value::Object(Map::new());
    let live = live.unwrap_or(&empty);
    let managed = Managed::decode(managed_fields(live))
        .map_err(|e| ApplyError::Internal(format!("failed to decode managed fields: {e}")))?;
    let ctx = Context {
        shape: Shape::root(type_name),
        ignored: reset_fields(type_name, subresource),
    };
    let config_set = match typed::config_field_set(config, ctx.shape) {
        Ok(set) => set.recursive_difference(&ctx.ignored),
        Err(e) => {
            let object = describe_object(config);
            return Err(ApplyError::Internal(format!(
                "failed to create typed patch object ({object}): {e}"
            )));
        }
    };
    let key = ManagerKey::apply(manager, subresource.unwrap_or(""));
    let live = without_managed_fields(live);
    let request = ApplyRequest {
        ctx: &ctx,
        config,
        config_set: &config_set,
        key: &key,
        api_version: &api_version,
        now,
        subresource,
    };

    // Only kubectl may retry, from the managers as they were.
    let retry = (manager == "kubectl").then(|| managed.clone());
    let (mut object, managed) = match (request.run(&live, managed, force), retry) {
        (Err(UpdateError::Conflicts(conflicts)), Some(managed)) => {
            // kubectl may take over fields it set with client-side apply.
            let all = updater::conflict_paths(&conflicts);
            let allowed = allowed_by_last_applied(&ctx, &live, &api_version);
            let remaining: Vec<_> = all
                .into_iter()
                .filter(|(_, p)| !allowed.as_ref().is_some_and(|a| a.has(p)))
                .collect();
            if remaining.is_empty() {
                request.run(&live, managed, true)
            } else {
                return Err(ApplyError::Conflicts(
                    remaining.into_iter().map(Conflict::from_path).collect(),
                ));
            }
        }
        (other, _) => other,
    }
    .map_err(|e| match e {
        UpdateError::Conflicts(conflicts) => ApplyError::Conflicts(
            updater::conflict_paths(&conflicts)
                .into_iter()
                .map(Conflict::from_path)
                .collect(),
        ),
        UpdateError::Invalid(e) => ApplyError::Internal(e),
    })?;

    if manager == "kubectl" {
        refresh_last_applied(&mut object, config);
    }
    set_managed_fields(&mut object, managed.encode());
    Ok(object)
}

struct ApplyRequest<'a> {
    ctx: &'a Context,
    config: &'a Value,
    /// The fields of `config` its applier owns.
    config_set: &'a FieldSet,
    key: &'a ManagerKey,
    api_version: &'a str,
    now: &'a str,
    subresource: Option<&'a str>,
}

impl ApplyRequest<'_> {
    /// The apply below the last-applied handling: first-apply bookkeeping,
    /// the merge, metadata stripping and the manager's time.
    fn run(
        &self,
        live: &Value,
        mut managed: Managed,
        force: bool,
    ) -> Result<(Value, Managed), UpdateError> {
        if managed.fields.is_empty() {
            // Whatever exists before the first apply belongs to someone.
            let before = ManagerKey::update(
                BEFORE_FIRST_APPLY,
                self.api_version,
                self.subresource.unwrap_or(""),
            );
            let empty = Value::Object(Map::new());
            track_changes(
                self.ctx,
                &empty,
                live,
                &mut managed,
                &before,
                self.api_version,
                self.now,
                false,
            )?;
            managed.cap_update_managers();
        }
        let mut object = updater::record_apply(
            self.ctx,
            live,
            self.config,
            self.config_set.clone(),
            &mut managed,
            self.key,
            self.api_version,
            force,
        )?;
        typed::strip_nulls(&mut object);
        let id = self.key.identifier();
        managed.strip_meta(&id);
        if object != *live {
            managed.times.insert(id, self.now.to_string());
        }
        Ok((object, managed))
    }
}

/// Records an ordinary create, update or patch by `manager`: returns `new`
/// with managedFields updated. `old` is `None` on create. Never fails: when
/// the fields cannot be tracked, managedFields are dropped, as upstream does.
pub fn track_update(
    old: Option<&Value>,
    new: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Value {
    let mut object = without_managed_fields(new);
    let write = Write {
        type_name,
        manager,
        subresource,
        now,
    };
    write.track(old, managed_fields(new), &mut object);
    object
}

/// [`track_update`] on the object itself: `object` (the `new` of
/// [`track_update`]) gets its managedFields updated in place, which spares
/// copying it. The result is the same.
pub fn track_update_in_place(
    old: Option<&Value>,
    object: &mut Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) {
    let sent = match object {
        Value::Object(map) => match map.get_mut("metadata") {
            Some(Value::Object(meta)) => meta.shift_remove("managedFields"),
            _ => None,
        },
        _ => None,
    };
    let write = Write {
        type_name,
        manager,
        subresource,
        now,
    };
    write.track(old, sent.as_ref(), object);
}

/// An ordinary write to track.
struct Write<'a> {
    type_name: &'a str,
    manager: &'a str,
    subresource: Option<&'a str>,
    now: &'a str,
}

impl Write<'_> {
    /// Sets the managedFields of `object` (the written object without its
    /// managedFields; `sent` are those it came with).
    fn track(&self, old: Option<&Value>, sent: Option<&Value>, object: &mut Value) {
        let Write {
            type_name,
            manager,
            subresource,
            now,
        } = *self;
        let new_object = &*object;
        let fast = match old {
            None if fast::starts_untracked(sent, subresource) => Some(fast::track_create(
                new_object,
                type_name,
                manager,
                subresource,
                now,
            )),
            None => None,
            Some(old) => {
                fast::track_existing(old, sent, new_object, type_name, manager, subresource, now)
            }
        };
        let managed = match fast {
            Some(managed) => managed,
            None => try_track_update(old, sent, new_object, type_name, manager, subresource, now),
        };
        set_managed_fields(object, managed.unwrap_or(None));
    }
}

/// [`track_update`] without its fast paths.
#[cfg(test)]
pub(crate) fn track_update_general(
    old: Option<&Value>,
    new: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Value {
    let mut object = without_managed_fields(new);
    let sent = managed_fields(new);
    match try_track_update(old, sent, &object, type_name, manager, subresource, now) {
        Ok(managed) => set_managed_fields(&mut object, managed),
        Err(_) => set_managed_fields(&mut object, None),
    }
    object
}

/// The general path: `sent` are the managedFields the object came with,
/// `new_object` the object without them.
fn try_track_update(
    old: Option<&Value>,
    sent: Option<&Value>,
    new_object: &Value,
    type_name: &str,
    manager: &str,
    subresource: Option<&str>,
    now: &str,
) -> Result<Option<Value>, String> {
    let empty = Value::Object(Map::new());
    let live = old.unwrap_or(&empty);
    let mut managed = decode_live_or_new(live, sent, subresource.is_some());
    if managed.fields.is_empty() && !str_at(live, "metadata.uid").is_empty() {
        // Objects that never had managedFields stay untracked until an apply.
        return Ok(None);
    }
    let api_version = match str_at(new_object, "apiVersion") {
        "" => str_at(live, "apiVersion"),
        v => v,
    };
    let ctx = Context {
        shape: Shape::root(type_name),
        ignored: reset::endpoint_resets(type_name, subresource).into_owned(),
    };
    let key = ManagerKey::update(manager, api_version, subresource.unwrap_or(""));
    // Both objects are compared without their managedFields.
    track_changes(
        &ctx,
        live,
        new_object,
        &mut managed,
        &key,
        api_version,
        now,
        true,
    )?;
    managed.cap_update_managers();
    Ok(managed.encode())
}

/// The Update path below the manager capping: the writer gains what it
/// changed, others lose it, and its time is refreshed if it owns anything.
/// `tracked` compares the objects without their managedFields.
#[allow(clippy::too_many_arguments)]
fn track_changes(
    ctx: &Context,
    live: &Value,
    new: &Value,
    managed: &mut Managed,
    key: &ManagerKey,
    api_version: &str,
    now: &str,
    tracked: bool,
) -> Result<(), String> {
    updater::record_update(
        ctx,
        live,
        new,
        managed,
        CURRENT_OPERATION,
        key,
        api_version,
        tracked,
    )?;
    managed.strip_meta(CURRENT_OPERATION);
    if let Some(mut current) = managed.fields.remove(CURRENT_OPERATION) {
        let id = key.identifier();
        if let Some(previous) = managed.fields.remove(&id) {
            current.set = current.set.union_owned(previous.set);
        }
        current.key = key.clone();
        managed.fields.insert(id.clone(), current);
        managed.times.insert(id, now.to_string());
    }
    Ok(())
}

/// Which managedFields an update starts from: the request's unless it
/// resets them (`[]` or `[{}]`) or they are absent or broken, then the
/// live object's. Subresources always use the live object's.
fn decode_live_or_new(live: &Value, sent: Option<&Value>, is_subresource: bool) -> Managed {
    let from_live = || Managed::decode(managed_fields(live)).unwrap_or_default();
    if is_subresource {
        return from_live();
    }
    match sent {
        Some(Value::Array(entries)) if entries.is_empty() => return Managed::default(),
        Some(Value::Array(entries))
            if entries.len() == 1 && entries[0].as_object().is_some_and(Map::is_empty) =>
        {
            return Managed::default()
        }
        _ => {}
    }
    match Managed::decode(sent) {
        Ok(managed) if !managed.fields.is_empty() => managed,
        _ => from_live(),
    }
}

/// The apply must be for the endpoint's kind.
fn check_kind(live: Option<&Value>, config: &Value, type_name: &str) -> Result<(), ApplyError> {
    let (api_version, kind) = (text(config, "apiVersion"), text(config, "kind"));
    let expected: Vec<(String, String)> = match live {
        Some(live) if !text(live, "kind").is_empty() => {
            vec![(text(live, "apiVersion"), text(live, "kind"))]
        }
        _ => crate::schema::kinds()
            .filter(|(_, _, t)| *t == type_name)
            .map(|(av, k, _)| (av.to_string(), k.to_string()))
            .collect(),
    };
    if expected.is_empty()
        || expected
            .iter()
            .any(|(av, k)| *av == api_version && *k == kind)
    {
        return Ok(());
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    Err(ApplyError::BadRequest(format!(
        "invalid object type: {group}/{version}, Kind={kind}"
    )))
}

/// `namespace/name; group/version, Kind=kind`, as upstream names objects in errors.
fn describe_object(object: &Value) -> String {
    let api_version = text(object, "apiVersion");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    format!(
        "{}/{}; {group}/{version}, Kind={}",
        text(object, "metadata.namespace"),
        text(object, "metadata.name"),
        text(object, "kind")
    )
}

/// The fields kubectl's last client-side apply set and that still hold
/// the values it set: kubectl may take them over without a conflict.
fn allowed_by_last_applied(ctx: &Context, live: &Value, api_version: &str) -> Option<FieldSet> {
    let text = live
        .get("metadata")?
        .get("annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    if text.is_empty() {
        return None;
    }
    let last: Value = serde_json::from_str(text).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let set = typed::field_set(&last, ctx.shape).ok()?;
    let cmp = typed::compare(&last, &typed::as_typed(live, ctx.shape), ctx.shape).ok()?;
    Some(
        set.difference(&cmp.modified)
            .difference(&cmp.added)
            .difference(&cmp.removed),
    )
}

/// After a server-side apply by kubectl, an existing last-applied annotation
/// is rewritten to the applied configuration.
fn refresh_last_applied(object: &mut Value, config: &Value) {
    let has = object
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has {
        return;
    }
    let mut applied = config.clone();
    if let Some(annotations) = applied
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        annotations.shift_remove(LAST_APPLIED);
    }
    let encoded = format!("{}\n", crate::go_format::go_json(&applied));
    if let Some(annotations) = object
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        annotations.insert(LAST_APPLIED.to_string(), Value::String(encoded));
    }
}

fn managed_fields(object: &Value) -> Option<&Value> {
    object.get("metadata")?.get("managedFields")
}

fn without_managed_fields(object: &Value) -> Value {
    let Value::Object(map) = object else {
        return object.clone();
    };
    let has = |meta: &Value| {
        meta.as_object()
            .is_some_and(|m| m.contains_key("managedFields"))
    };
    if !map.get("metadata").is_some_and(has) {
        return object.clone();
    }
    // Copies all but the managedFields, which can be most of the object.
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = match value {
            Value::Object(meta) if key == "metadata" => {
                let mut copy = Map::with_capacity(meta.len());
                for (k, v) in meta {
                    if k != "managedFields" {
                        copy.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(copy)
            }
            other => other.clone(),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn set_managed_fields(object: &mut Value, managed: Option<Value>) {
    let Value::Object(map) = object else { return };
    match managed {
        Some(entries) => {
            let meta = map
                .entry("metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(meta) = meta {
                meta.insert("managedFields".to_string(), entries);
            }
        }
        None => {
            if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                meta.shift_remove("managedFields");
            }
        }
    }
}

/// A string at a dotted path ("" if absent).
fn text(object: &Value, path: &str) -> String {
    str_at(object, path).to_string()
}

/// [`text`], borrowed.
fn str_at<'a>(object: &'a Value, path: &str) -> &'a str {
    path.split('.')
        .try_fold(object, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or_default()
}
