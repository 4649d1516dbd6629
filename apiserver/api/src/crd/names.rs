//! Which names a CRD is served under (upstream's naming controller): its spec names,
//! unless another CRD of the same group already holds one of them; and the conditions
//! that say so (`NamesAccepted`, `Established`).

use serde_json::{json, Map, Value};

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

fn strings(v: &Value, path: &str) -> Vec<String> {
    super::string_list(v.pointer(path))
}

/// What the other CRDs of the group use: their accepted plural, singular, short names,
/// kinds and list kinds.
#[derive(Default)]
struct Taken {
    resources: Vec<String>,
    kinds: Vec<String>,
}

fn taken_by_others(crd: &Value, all: &[Value]) -> Taken {
    let group = s(crd, "/spec/group");
    let name = s(crd, "/metadata/name");
    let mut t = Taken::default();
    for other in all {
        if s(other, "/spec/group") != group || s(other, "/metadata/name") == name {
            continue;
        }
        let a = "/status/acceptedNames";
        t.resources
            .push(s(other, &format!("{a}/plural")).to_string());
        t.resources
            .push(s(other, &format!("{a}/singular")).to_string());
        t.resources
            .extend(strings(other, &format!("{a}/shortNames")));
        t.kinds.push(s(other, &format!("{a}/kind")).to_string());
        t.kinds.push(s(other, &format!("{a}/listKind")).to_string());
    }
    t.resources.retain(|x| !x.is_empty());
    t.kinds.retain(|x| !x.is_empty());
    t
}

/// The names to accept and the NamesAccepted condition's (status, reason, message).
/// A conflicting name keeps what was accepted before, as upstream does.
pub fn accept(crd: &Value, all: &[Value]) -> (Value, &'static str, &'static str, String) {
    let taken = taken_by_others(crd, all);
    let spec = crd.pointer("/spec/names").cloned().unwrap_or(json!({}));
    let old = crd
        .pointer("/status/acceptedNames")
        .cloned()
        .unwrap_or(json!({}));
    let mut accepted = Map::new();
    let mut problem: Option<(&'static str, String)> = None;
    let mut take = |key: &str, in_use: bool, reason: &'static str| {
        let wanted = s(&spec, &format!("/{key}"));
        if in_use {
            problem.get_or_insert((reason, format!("{wanted:?} is already in use")));
            if let Some(v) = old.get(key) {
                accepted.insert(key.to_string(), v.clone());
            }
        } else if !wanted.is_empty() {
            accepted.insert(key.to_string(), json!(wanted));
        }
    };
    let used = |list: &[String], v: &str| !v.is_empty() && list.iter().any(|x| x == v);
    take(
        "plural",
        used(&taken.resources, s(&spec, "/plural")),
        "PluralConflict",
    );
    take(
        "singular",
        used(&taken.resources, s(&spec, "/singular")),
        "SingularConflict",
    );
    take(
        "kind",
        used(&taken.kinds, s(&spec, "/kind")),
        "KindConflict",
    );
    take(
        "listKind",
        used(&taken.kinds, s(&spec, "/listKind")),
        "ListKindConflict",
    );
    let shorts = strings(&spec, "/shortNames");
    let short_conflict = shorts.iter().find(|x| used(&taken.resources, x)).cloned();
    match short_conflict {
        Some(x) => {
            problem.get_or_insert(("ShortNamesConflict", format!("{x:?} is already in use")));
            if let Some(v) = old.get("shortNames") {
                accepted.insert("shortNames".into(), v.clone());
            }
        }
        None if !shorts.is_empty() => {
            accepted.insert("shortNames".into(), json!(shorts));
        }
        None => {}
    }
    let categories = strings(&spec, "/categories");
    if !categories.is_empty() {
        accepted.insert("categories".into(), json!(categories));
    }
    // acceptedNames always carries plural and kind (not omitempty upstream).
    accepted.entry("plural").or_insert(json!(""));
    accepted.entry("kind").or_insert(json!(""));
    let accepted = order(accepted);
    match problem {
        None => (accepted, "True", "NoConflicts", "no conflicts found".into()),
        Some((reason, message)) => (accepted, "False", reason, message),
    }
}

/// acceptedNames in upstream's field order.
fn order(mut m: Map<String, Value>) -> Value {
    let mut out = Map::new();
    for k in [
        "plural",
        "singular",
        "shortNames",
        "kind",
        "listKind",
        "categories",
    ] {
        if let Some(v) = m.remove(k) {
            out.insert(k.to_string(), v);
        }
    }
    Value::Object(out)
}

/// Set (or replace) a condition in `status.conditions`, keeping its
/// lastTransitionTime when the status did not change.
pub fn set_condition(
    status: &mut Value,
    kind: &str,
    cond_status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    if !status.is_object() {
        *status = json!({});
    }
    let list = status
        .as_object_mut()
        .map(|m| m.entry("conditions").or_insert_with(|| json!([])))
        .and_then(Value::as_array_mut);
    let Some(list) = list else { return };
    let existing = list
        .iter()
        .position(|c| c.get("type").and_then(Value::as_str) == Some(kind));
    let transition = existing
        .and_then(|i| list.get(i))
        .filter(|c| c.get("status").and_then(Value::as_str) == Some(cond_status))
        .and_then(|c| c.get("lastTransitionTime").cloned())
        .unwrap_or_else(|| json!(now));
    let cond = json!({"type": kind, "status": cond_status, "lastTransitionTime": transition, "reason": reason, "message": message});
    match existing {
        Some(i) => list[i] = cond,
        None => list.push(cond),
    }
}

/// The status the naming controller wants for `crd` given every CRD: accepted names,
/// NamesAccepted, and Established once names were accepted.
pub fn desired_status(crd: &Value, all: &[Value], now: &str) -> Value {
    let mut status = crd.get("status").cloned().unwrap_or(json!({}));
    let (accepted, ok, reason, message) = accept(crd, all);
    status["acceptedNames"] = accepted;
    set_condition(&mut status, "NamesAccepted", ok, reason, &message, now);
    if ok == "True" && !super::condition_true(crd, "Established") {
        set_condition(
            &mut status,
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
            now,
        );
    } else if ok != "True" && !crate::crd::condition_true(crd, "Established") {
        set_condition(
            &mut status,
            "Established",
            "False",
            "NotAccepted",
            "not all names are accepted",
            now,
        );
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(name: &str, plural: &str, kind: &str, accepted: bool) -> Value {
        let names = json!({"plural": plural, "singular": plural.trim_end_matches('s'), "kind": kind, "listKind": format!("{kind}List")});
        json!({"metadata": {"name": format!("{plural}.{name}")}, "spec": {"group": "g.example.com", "names": names},
            "status": if accepted { json!({"acceptedNames": names}) } else { json!({}) }})
    }

    #[test]
    fn conflicts_are_refused_and_free_names_accepted() {
        let a = crd("g.example.com", "foos", "Foo", true);
        let b = crd("g.example.com", "bars", "Foo", false);
        let all = vec![a.clone(), b.clone()];
        let (names, ok, reason, message) = accept(&b, &all);
        assert_eq!(
            (ok, reason, message.as_str()),
            ("False", "KindConflict", "\"Foo\" is already in use")
        );
        assert_eq!(names["plural"], "bars");
        assert_eq!(names["kind"], "");
        let st = desired_status(&a, &all, "t");
        assert_eq!(st["conditions"][0]["type"], "NamesAccepted");
        assert_eq!(st["conditions"][1]["reason"], "InitialNamesAccepted");
    }
}
