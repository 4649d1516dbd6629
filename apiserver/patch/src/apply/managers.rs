//! The managedFields of an object: decoding, encoding, manager identity and
//! the bookkeeping upstream's field manager layers do around the merge.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::fields_v1::{from_fields_v1, to_fields_v1};
use super::fieldset::{field_path, FieldSet};
use crate::go_format::{go_quote, write_json_string};

/// Upstream keeps at most this many Update managers; older ones are merged
/// into an "ancient-changes" entry per apiVersion.
pub const MAX_UPDATE_MANAGERS: usize = 10;

/// The name a writer is recorded under ("unknown" when it gives none).
pub(super) fn manager_name(manager: &str) -> &str {
    if manager.is_empty() {
        "unknown"
    } else {
        manager
    }
}

/// One manager: (manager, operation, apiVersion, subresource). Apply
/// entries are identified without their apiVersion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerKey {
    pub manager: String,
    pub operation: &'static str,
    pub api_version: String,
    pub subresource: String,
}

impl ManagerKey {
    pub fn update(manager: &str, api_version: &str, subresource: &str) -> Self {
        let manager = manager_name(manager);
        ManagerKey {
            manager: manager.to_string(),
            operation: "Update",
            api_version: api_version.to_string(),
            subresource: subresource.to_string(),
        }
    }

    pub fn apply(manager: &str, subresource: &str) -> Self {
        let manager = manager_name(manager);
        ManagerKey {
            manager: manager.to_string(),
            operation: "Apply",
            api_version: String::new(),
            subresource: subresource.to_string(),
        }
    }

    /// Upstream's identifier: the entry's JSON without time and fields.
    pub fn identifier(&self) -> String {
        // Go marshals the struct in field order: manager, operation, apiVersion, subresource.
        let mut out = String::with_capacity(
            48 + self.manager.len() + self.api_version.len() + self.subresource.len(),
        );
        out.push('{');
        if !self.manager.is_empty() {
            out.push_str("\"manager\":");
            write_json_string(&mut out, &self.manager);
            out.push(',');
        }
        out.push_str("\"operation\":");
        write_json_string(&mut out, self.operation);
        if !self.api_version.is_empty() {
            out.push_str(",\"apiVersion\":");
            write_json_string(&mut out, &self.api_version);
        }
        if !self.subresource.is_empty() {
            out.push_str(",\"subresource\":");
            write_json_string(&mut out, &self.subresource);
        }
        out.push('}');
        out
    }

    /// How upstream names the manager in conflict messages.
    pub fn describe(&self) -> String {
        let mut out = go_quote(&self.manager);
        if !self.subresource.is_empty() {
            out.push_str(&format!(
                " with subresource {}",
                go_quote(&self.subresource)
            ));
        }
        if self.operation == "Update" {
            out.push_str(&format!(" using {}", self.api_version));
        }
        out
    }
}

/// The fields a manager owns, at the apiVersion it last wrote.
#[derive(Debug, Clone)]
pub struct VersionedSet {
    pub key: ManagerKey,
    pub set: FieldSet,
    pub api_version: String,
    pub applied: bool,
}

/// All managers of an object, by identifier, with their times.
#[derive(Debug, Clone, Default)]
pub struct Managed {
    pub fields: BTreeMap<String, VersionedSet>,
    pub times: HashMap<String, String>,
}

impl Managed {
    /// Decodes `metadata.managedFields`; absent means none.
    pub fn decode(entries: Option<&Value>) -> Result<Managed, String> {
        let mut managed = Managed::default();
        let entries = match entries {
            None | Some(Value::Null) => return Ok(managed),
            Some(Value::Array(entries)) => entries,
            Some(other) => return Err(format!("managedFields must be a list, got {other}")),
        };
        for (i, entry) in entries.iter().enumerate() {
            let Value::Object(entry) = entry else {
                return Err(format!("managed fields entry {i} is not an object"));
            };
            let text = |name: &str| -> Result<String, String> {
                match entry.get(name) {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(format!("{name} must be a string, got {other}")),
                }
            };
            let operation = match text("operation")?.as_str() {
                "Apply" => "Apply",
                "Update" => "Update",
                _ => return Err("operation must be `Apply` or `Update`".to_string()),
            };
            let api_version = text("apiVersion")?;
            if api_version.is_empty() {
                return Err("apiVersion must not be empty".to_string());
            }
            match text("fieldsType")?.as_str() {
                "FieldsV1" => {}
                "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
                other => {
                    return Err(format!(
                        "invalid fieldsType {other:?} in managed fields entry {i}"
                    ))
                }
            }
            let set = match entry.get("fieldsV1") {
                None | Some(Value::Null) => FieldSet::new(),
                Some(fields) => {
                    from_fields_v1(fields).map_err(|e| format!("error decoding set: {e}"))?
                }
            };
            let key = ManagerKey {
                manager: text("manager")?,
                operation,
                api_version: if operation == "Apply" {
                    String::new()
                } else {
                    api_version.clone()
                },
                subresource: text("subresource")?,
            };
            let id = key.identifier();
            match entry.get("time") {
                Some(Value::String(t)) => managed.times.insert(id.clone(), t.clone()),
                _ => managed.times.remove(&id),
            };
            managed.fields.insert(
                id,
                VersionedSet {
                    key,
                    set,
                    api_version,
                    applied: operation == "Apply",
                },
            );
        }
        Ok(managed)
    }

    /// Encodes the managers as upstream sorts them: Apply before Update, then
    /// by time, manager, apiVersion and subresource. `None` when empty.
    pub fn encode(&self) -> Option<Value> {
        if self.fields.is_empty() {
            return None;
        }
        let mut entries: Vec<(&VersionedSet, Option<&String>)> = self
            .fields
            .iter()
            .map(|(id, vs)| (vs, self.times.get(id)))
            .collect();
        entries.sort_by(|(a, at), (b, bt)| {
            let seconds = |t: Option<&String>| t.map_or(0, |t| unix_seconds(t));
            let op = |vs: &VersionedSet| if vs.applied { "Apply" } else { "Update" };
            op(a)
                .cmp(op(b))
                .then_with(|| seconds(*at).cmp(&seconds(*bt)))
                .then_with(|| a.key.manager.cmp(&b.key.manager))
                .then_with(|| a.api_version.cmp(&b.api_version))
                .then_with(|| a.key.subresource.cmp(&b.key.subresource))
        });
        let encoded = entries
            .into_iter()
            .map(|(vs, time)| {
                EntryHead::of(vs, time.map(String::as_str)).encode(to_fields_v1(&vs.set))
            })
            .collect();
        Some(Value::Array(encoded))
    }

    pub fn remove_empty(&mut self) {
        self.fields.retain(|_, vs| !vs.set.is_empty());
    }

    /// Upstream never records identity and bookkeeping metadata as owned.
    pub fn strip_meta(&mut self, id: &str) {
        let Some(vs) = self.fields.get_mut(id) else {
            return;
        };
        vs.set.remove(stripped_paths());
        if vs.set.is_empty() {
            self.fields.remove(id);
        }
    }

    /// Keeps at most [`MAX_UPDATE_MANAGERS`] Update managers: the oldest are
    /// folded into an "ancient-changes" manager per apiVersion.
    pub fn cap_update_managers(&mut self) {
        if self.fields.values().filter(|vs| !vs.applied).count() <= MAX_UPDATE_MANAGERS {
            return;
        }
        let mut updaters: Vec<String> = self
            .fields
            .iter()
            .filter(|(_, vs)| !vs.applied)
            .map(|(id, _)| id.clone())
            .collect();
        if updaters.len() <= MAX_UPDATE_MANAGERS {
            return;
        }
        let seconds = |id: &String| self.times.get(id).map_or(0, |t| unix_seconds(t));
        updaters.sort_by(|a, b| seconds(a).cmp(&seconds(b)).then_with(|| a.cmp(b)));
        let mut first_by_version: HashMap<String, String> = HashMap::new();
        let mut length = updaters.len();
        for id in updaters {
            if length <= MAX_UPDATE_MANAGERS {
                break;
            }
            let Some(vs) = self.fields.get(&id).cloned() else {
                continue;
            };
            let time = self.times.get(&id).cloned();
            let bucket_key = ManagerKey::update("ancient-changes", &vs.api_version, "");
            let bucket = bucket_key.identifier();
            match first_by_version.get(&vs.api_version) {
                Some(first) => {
                    if !self.fields.contains_key(&bucket) {
                        if let Some(mut moved) = self.fields.remove(first) {
                            moved.key = bucket_key.clone();
                            self.fields.insert(bucket.clone(), moved);
                        }
                    }
                    let existing = self
                        .fields
                        .get(&bucket)
                        .map(|b| b.set.clone())
                        .unwrap_or_default();
                    self.fields.insert(
                        bucket.clone(),
                        VersionedSet {
                            key: bucket_key,
                            set: vs.set.union(&existing),
                            api_version: vs.api_version.clone(),
                            applied: vs.applied,
                        },
                    );
                    self.fields.remove(&id);
                    length -= 1;
                    match time {
                        Some(t) => self.times.insert(bucket, t),
                        None => self.times.remove(&bucket),
                    };
                }
                None => {
                    first_by_version.insert(vs.api_version.clone(), id.clone());
                }
            }
        }
    }
}

/// What a managedFields entry says besides its fields.
pub(super) struct EntryHead<'a> {
    pub manager: &'a str,
    pub applied: bool,
    pub api_version: &'a str,
    pub time: Option<&'a str>,
    pub subresource: &'a str,
}

impl<'a> EntryHead<'a> {
    pub fn of(vs: &'a VersionedSet, time: Option<&'a str>) -> EntryHead<'a> {
        EntryHead {
            manager: &vs.key.manager,
            applied: vs.applied,
            api_version: &vs.api_version,
            time,
            subresource: &vs.key.subresource,
        }
    }

    /// The entry, its keys in upstream's order.
    pub fn encode(&self, fields_v1: Value) -> Value {
        let mut entry = Map::with_capacity(7);
        if !self.manager.is_empty() {
            entry.insert("manager".into(), Value::String(self.manager.to_string()));
        }
        let operation = if self.applied { "Apply" } else { "Update" };
        entry.insert("operation".into(), Value::String(operation.into()));
        entry.insert(
            "apiVersion".into(),
            Value::String(self.api_version.to_string()),
        );
        if let Some(time) = self.time {
            entry.insert("time".into(), Value::String(time.to_string()));
        }
        entry.insert("fieldsType".into(), Value::String("FieldsV1".into()));
        entry.insert("fieldsV1".into(), fields_v1);
        if !self.subresource.is_empty() {
            entry.insert(
                "subresource".into(),
                Value::String(self.subresource.to_string()),
            );
        }
        Value::Object(entry)
    }
}

/// [`STRIPPED_PATHS`] as a set.
pub(super) fn stripped_paths() -> &'static FieldSet {
    static SET: OnceLock<FieldSet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut strip = FieldSet::new();
        for path in STRIPPED_PATHS {
            strip.insert(&field_path(path));
        }
        strip
    })
}

const STRIPPED_PATHS: &[&[&str]] = &[
    &["apiVersion"],
    &["kind"],
    &["metadata"],
    &["metadata", "name"],
    &["metadata", "namespace"],
    &["metadata", "creationTimestamp"],
    &["metadata", "selfLink"],
    &["metadata", "uid"],
    &["metadata", "clusterName"],
    &["metadata", "generation"],
    &["metadata", "managedFields"],
    &["metadata", "resourceVersion"],
];

/// Seconds since the epoch of an RFC 3339 time; 0 if it does not parse.
pub fn unix_seconds(time: &str) -> i64 {
    parse_rfc3339(time).unwrap_or(0)
}

fn parse_rfc3339(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let h = rest.get(1..3)?.parse::<i64>().ok()?;
            let m = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (h * 3600 + m * 60)
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_and_descriptions() {
        let key = ManagerKey::update("kubectl-client-side-apply", "apps/v1", "");
        assert_eq!(
            key.identifier(),
            r#"{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"apps/v1"}"#
        );
        assert_eq!(
            key.describe(),
            r#""kubectl-client-side-apply" using apps/v1"#
        );
        let key = ManagerKey::apply("kubectl", "status");
        assert_eq!(
            key.identifier(),
            r#"{"manager":"kubectl","operation":"Apply","subresource":"status"}"#
        );
        assert_eq!(key.describe(), r#""kubectl" with subresource "status""#);
    }

    #[test]
    fn rfc3339_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), 0);
        assert_eq!(unix_seconds("2024-02-29T12:00:00Z"), 1_709_208_000);
        assert_eq!(unix_seconds("2024-02-29T13:00:00+01:00"), 1_709_208_000);
        assert_eq!(unix_seconds("garbage"), 0);
    }

    #[test]
    fn decode_rejects_what_upstream_rejects() {
        let bad_op = json!([{"manager": "m", "operation": "Patch", "apiVersion": "v1", "fieldsType": "FieldsV1"}]);
        assert!(Managed::decode(Some(&bad_op)).is_err());
        let no_type = json!([{"manager": "m", "operation": "Update", "apiVersion": "v1"}]);
        assert_eq!(
            Managed::decode(Some(&no_type)).unwrap_err(),
            "missing fieldsType in managed fields entry 0"
        );
        assert!(Managed::decode(Some(&json!("x"))).is_err());
        assert!(Managed::decode(Some(&json!([{}]))).is_err());
    }
}
