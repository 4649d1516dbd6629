//! Resources that share storage with another group-version: events.k8s.io/v1 Events are
//! stored as core/v1 Events and autoscaling/v1 HorizontalPodAutoscalers as autoscaling/v2
//! ones (as upstream does), so reads convert out and writes convert in.

use bytes::Bytes;
use rkube_api::{resources, Resource};
use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field) for fields whose names differ.
const EVENT_FIELDS: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
];

/// The resource whose form objects are stored in, and whether requests for `r` need
/// conversion to and from it.
pub fn storage_form(r: &'static Resource) -> (&'static Resource, bool) {
    if r.group == "events.k8s.io" {
        (
            resources::find("", "v1", "events").expect("core events are served"),
            true,
        )
    } else if is_hpa_v1(r) {
        (
            resources::find("autoscaling", "v2", r.plural).expect("autoscaling/v2 is served"),
            true,
        )
    } else {
        (r, false)
    }
}

fn is_hpa_v1(r: &Resource) -> bool {
    r.group == "autoscaling" && r.version == "v1" && r.kind == "HorizontalPodAutoscaler"
}

/// Whether objects of `r` are stored in another form.
fn converts(r: &Resource) -> bool {
    r.group == "events.k8s.io" || is_hpa_v1(r)
}

fn rename(obj: Value, api_version: &str, to_core: bool) -> Value {
    let Value::Object(m) = obj else { return obj };
    let mut out = Map::new();
    for (k, v) in m {
        let key = match k.as_str() {
            "apiVersion" => {
                out.insert(k, Value::String(api_version.to_string()));
                continue;
            }
            other => EVENT_FIELDS
                .iter()
                .find(|(ev, core)| {
                    if to_core {
                        *ev == other
                    } else {
                        *core == other
                    }
                })
                .map(|(ev, core)| {
                    if to_core {
                        core.to_string()
                    } else {
                        ev.to_string()
                    }
                })
                .unwrap_or(k),
        };
        out.insert(key, v);
    }
    Value::Object(out)
}

/// A custom resource as stored: in its CRD's storage version. Conversion between
/// versions is `None` (upstream's default strategy): only apiVersion changes.
pub fn custom_to_storage(r: &Resource, mut obj: Value) -> Value {
    if let (Some(c), Some(m)) = (r.custom, obj.as_object_mut()) {
        if let Some(v) = m.get_mut("apiVersion") {
            *v = Value::String(format!("{}/{}", r.group, c.storage_version));
        }
    }
    obj
}

/// The stored bytes of a custom resource begin with its kind and apiVersion
/// (`meta::canonicalize`); whether they already are in `r`'s version.
fn custom_in_version(r: &Resource, stored: &Bytes) -> bool {
    let head = format!(
        "{{\"kind\":{},\"apiVersion\":\"{}\"",
        serde_json::to_string(r.kind).unwrap_or_default(),
        r.api_version()
    );
    stored.starts_with(head.as_bytes())
}

/// A request's object (in `r`'s form) in the stored form.
pub fn to_storage(r: &Resource, obj: Value) -> Value {
    if r.group == "events.k8s.io" {
        rename(obj, "v1", true)
    } else if is_hpa_v1(r) {
        let mut obj = obj;
        // autoscaling/v1's own defaulting, before the conversion (upstream decodes,
        // defaults in the request's version, then converts).
        if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
            if spec.get("minReplicas").is_none_or(Value::is_null) {
                spec.insert("minReplicas".into(), Value::from(1));
            }
        }
        rkube_api::conversion::hpa::v1_to_v2(obj)
    } else {
        obj
    }
}

/// A stored object in `r`'s form.
pub fn from_storage(r: &Resource, mut obj: Value) -> Value {
    if r.custom.is_some() {
        if let Some(v) = obj.get_mut("apiVersion") {
            *v = Value::String(r.api_version());
        }
        return obj;
    }
    if r.group == "events.k8s.io" {
        rename(obj, "events.k8s.io/v1", false)
    } else if is_hpa_v1(r) {
        rkube_api::conversion::hpa::v2_to_v1(obj)
    } else {
        obj
    }
}

/// Stored bytes in `r`'s form; the bytes themselves when no conversion is needed.
pub fn bytes_from_storage(r: &Resource, stored: &Bytes) -> Bytes {
    if let Some(c) = r.custom {
        if c.has_defaults {
            let Ok(mut v) = serde_json::from_slice::<Value>(stored) else {
                return stored.clone();
            };
            rkube_api::crd::strategy::default_stored(c, &mut v);
            let v = from_storage(r, v);
            return Bytes::from(serde_json::to_vec(&v).unwrap_or_default());
        }
        if custom_in_version(r, stored) {
            return stored.clone();
        }
    }
    if !converts(r) && r.custom.is_none() {
        return stored.clone();
    }
    match serde_json::from_slice::<Value>(stored) {
        Ok(v) => Bytes::from(serde_json::to_vec(&from_storage(r, v)).unwrap_or_default()),
        Err(_) => stored.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_round_trip() {
        let r = resources::find("events.k8s.io", "v1", "events").unwrap();
        let ev = json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e"},
            "regarding": {"kind": "Pod", "name": "p"}, "note": "hi", "reason": "Started",
            "reportingController": "kubelet", "deprecatedCount": 2});
        let core = to_storage(r, ev.clone());
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "p");
        assert_eq!(core["message"], "hi");
        assert_eq!(core["reportingComponent"], "kubelet");
        assert_eq!(core["count"], 2);
        assert_eq!(from_storage(r, core), ev);
    }
}
