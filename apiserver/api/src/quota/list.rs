//! `ResourceList` arithmetic as upstream's `quota` helpers do it: named quantities
//! added, subtracted, masked and compared key by key.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::validation::quantity::{Format, Quantity};

/// Resource name → quantity, sorted by name (upstream sorts before printing).
pub type ResourceList = BTreeMap<String, Quantity>;

pub fn quantity(n: i128) -> Quantity {
    Quantity {
        num: n,
        scale: 0,
        format: Format::DecimalSI,
    }
}

/// A JSON `ResourceList` (`{"cpu": "500m", ...}`); entries that do not parse are left out
/// (validation has refused them before admission sees the object).
pub fn from_json(v: Option<&Value>) -> ResourceList {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), Quantity::from_json(v)?)))
        .collect()
}

pub fn to_json(list: &ResourceList) -> Value {
    Value::Object(
        list.iter()
            .map(|(k, q)| (k.clone(), Value::String(q.canonical())))
            .collect::<Map<String, Value>>(),
    )
}

pub fn add(a: &ResourceList, b: &ResourceList) -> ResourceList {
    let mut out = a.clone();
    add_into(&mut out, b);
    out
}

pub fn add_into(into: &mut ResourceList, b: &ResourceList) {
    for (k, q) in b {
        let sum = match into.get(k) {
            Some(have) => have.add(q),
            None => *q,
        };
        into.insert(k.clone(), sum);
    }
}

/// `a - b` where each key's result is at least zero (a key only in `b` is dropped).
pub fn subtract_non_negative(a: &ResourceList, b: &ResourceList) -> ResourceList {
    a.iter()
        .map(|(k, q)| {
            let diff = match b.get(k) {
                Some(sub) => q.add(&negate(sub)),
                None => *q,
            };
            let diff = if diff.is_negative() {
                quantity(0)
            } else {
                diff
            };
            (k.clone(), diff)
        })
        .collect()
}

/// For each key of `a`, `max(a, b)` (keys only in `b` are added).
pub fn max_into(into: &mut ResourceList, b: &ResourceList) {
    for (k, q) in b {
        match into.get(k) {
            Some(have) if have.compare(q) != std::cmp::Ordering::Less => {}
            _ => {
                into.insert(k.clone(), *q);
            }
        }
    }
}

pub fn negate(q: &Quantity) -> Quantity {
    Quantity { num: -q.num, ..*q }
}

/// Only the entries of `list` whose names are in `names`.
pub fn mask<'a>(list: &ResourceList, names: impl IntoIterator<Item = &'a String>) -> ResourceList {
    let names: BTreeSet<&String> = names.into_iter().collect();
    list.iter()
        .filter(|(k, _)| names.contains(k))
        .map(|(k, q)| (k.clone(), *q))
        .collect()
}

pub fn remove_zeros(list: ResourceList) -> ResourceList {
    list.into_iter().filter(|(_, q)| !q.is_zero()).collect()
}

/// The names whose quantity in `a` exceeds the one in `b` (names missing from `b` are
/// not limited).
pub fn exceeded(a: &ResourceList, b: &ResourceList) -> Vec<String> {
    a.iter()
        .filter(|(k, q)| {
            b.get(*k)
                .is_some_and(|limit| q.compare(limit) == std::cmp::Ordering::Greater)
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// `cpu=500m,pods=1`: upstream's `prettyPrint`.
pub fn pretty(list: &ResourceList) -> String {
    list.iter()
        .map(|(k, q)| format!("{k}={}", q.canonical()))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arithmetic_and_printing() {
        let a = from_json(Some(&json!({"cpu": "500m", "pods": "1"})));
        let b = from_json(Some(&json!({"cpu": "1", "memory": "1Gi"})));
        assert_eq!(pretty(&add(&a, &b)), "cpu=1500m,memory=1Gi,pods=1");
        assert_eq!(pretty(&subtract_non_negative(&a, &b)), "cpu=0,pods=1");
        assert_eq!(
            pretty(&remove_zeros(subtract_non_negative(&a, &b))),
            "pods=1"
        );
        assert_eq!(exceeded(&b, &a), vec!["cpu".to_string()]);
        assert_eq!(
            to_json(&a),
            json!({"cpu": "500m", "pods": "1"}),
            "canonical strings"
        );
        let mut m = a.clone();
        max_into(&mut m, &b);
        assert_eq!(pretty(&m), "cpu=1,memory=1Gi,pods=1");
    }
}
