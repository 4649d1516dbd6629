//! Merging an applied configuration into the live object, with
//! structured-merge-diff's rules: the configuration wins on leaves, objects
//! merge key by key, list-maps and sets merge by element.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::fieldset::PathElement;
use super::typed::{item_element, node, Node, Shape};
use crate::schema::ListInfo;

/// Merges the applied configuration `config` into `live`: the
/// configuration wins on leaves, objects merge, list-maps and sets merge by
/// element with the configuration's order for the items it names.
pub fn merge(live: &Value, config: &Value, shape: Shape) -> Result<Value, String> {
    Ok(merge_at(Some(live), Some(config), shape)?.unwrap_or(Value::Object(Map::new())))
}

fn merge_at(l: Option<&Value>, r: Option<&Value>, shape: Shape) -> Result<Option<Value>, String> {
    match node(shape, l, r) {
        Node::Leaf => Ok(r.or(l).cloned()),
        Node::Map(lm, rm) => {
            if lm.is_none_or(Map::is_empty) && rm.is_none_or(Map::is_empty) {
                return Ok(r.or(l).cloned());
            }
            let mut out = Map::new();
            for (key, lv) in lm.into_iter().flatten() {
                let rv = rm.and_then(|m| m.get(key));
                if let Some(v) = merge_at(Some(lv), rv, shape.field(key).0)? {
                    out.insert(key.clone(), v);
                }
            }
            for (key, rv) in rm.into_iter().flatten() {
                if lm.is_some_and(|m| m.contains_key(key)) {
                    continue;
                }
                if let Some(v) = merge_at(None, Some(rv), shape.field(key).0)? {
                    out.insert(key.clone(), v);
                }
            }
            Ok(Some(Value::Object(out)))
        }
        Node::List(info, elem, ll, rl) => {
            if ll.is_none_or(Vec::is_empty) && rl.is_none_or(Vec::is_empty) {
                return Ok(r.or(l).cloned());
            }
            merge_items(info, Shape::element(elem), ll, rl).map(|items| Some(Value::Array(items)))
        }
    }
}

/// structured-merge-diff's list merge: live items keep their place, the
/// configuration's items are emitted in its order, items the configuration
/// shares with the live list move to where the configuration puts them.
fn merge_items(
    info: &ListInfo,
    elem: Shape,
    l: Option<&Vec<Value>>,
    r: Option<&Vec<Value>>,
) -> Result<Vec<Value>, String> {
    let empty = Vec::new();
    let (l, r) = (l.unwrap_or(&empty), r.unwrap_or(&empty));
    let mut r_pes = Vec::with_capacity(r.len());
    let mut r_items: BTreeMap<PathElement, &Value> = BTreeMap::new();
    for item in r {
        let pe = item_element(info, item)?;
        if r_items.insert(pe.clone(), item).is_some() {
            return Err(format!("duplicate entries for key {pe}"));
        }
        r_pes.push(pe);
    }
    let mut l_pes = Vec::with_capacity(l.len());
    let mut l_items: BTreeMap<PathElement, Option<&Value>> = BTreeMap::new();
    for item in l {
        let pe = item_element(info, item)?;
        l_items
            .entry(pe.clone())
            .and_modify(|v| *v = None)
            .or_insert(Some(item));
        l_pes.push(pe);
    }
    let mut shared = r_pes.iter().filter(|pe| l_items.contains_key(*pe));
    let mut next_shared = shared.next();
    let mut merged_r = BTreeSet::new();
    let mut out = Vec::with_capacity(l.len().max(r.len()));
    let (mut li, mut ri) = (0, 0);
    let merge_item = |pe: &PathElement, out: &mut Vec<Value>| -> Result<(), String> {
        let lv = l_items.get(pe).copied().flatten();
        let rv = r_items.get(pe).copied();
        if let Some(v) = merge_at(lv, rv, elem)? {
            out.push(v);
        }
        Ok(())
    };
    while li < l_pes.len() || ri < r_pes.len() {
        if li < l_pes.len() && ri < r_pes.len() {
            let pe = &l_pes[li];
            if *pe == r_pes[ri] {
                merged_r.insert(pe.clone());
                merge_item(pe, &mut out)?;
                li += 1;
                ri += 1;
                next_shared = shared.next();
                continue;
            }
            if r_items.contains_key(pe) && next_shared.is_some_and(|s| s != pe) {
                li += 1;
                continue;
            }
        }
        if li < l_pes.len() {
            let pe = &l_pes[li];
            if !r_items.contains_key(pe) {
                if let Some(v) = merge_at(Some(&l[li]), None, elem)? {
                    out.push(v);
                }
                li += 1;
                continue;
            } else if merged_r.contains(pe) {
                li += 1;
            }
        }
        if ri < r_pes.len() {
            let pe = &r_pes[ri];
            merged_r.insert(pe.clone());
            merge_item(pe, &mut out)?;
            ri += 1;
            if next_shared == Some(pe) {
                next_shared = shared.next();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Merges sets the way structured-merge-diff's own merge tests expect.
    #[test]
    fn set_merge_order_matches_upstream() {
        let shape = Shape::root("io.k8s.api.core.v1.Pod");
        let cases = [
            (
                json!(["a", "b", "c"]),
                json!(["a", "b"]),
                json!(["a", "b", "c"]),
            ),
            (json!(["a", "b"]), json!(["b", "a"]), json!(["b", "a"])),
            (
                json!(["a", "b", "c", "g", "f"]),
                json!(["c", "d", "e", "f"]),
                json!(["a", "b", "c", "g", "d", "e", "f"]),
            ),
            (
                json!(["c", "d", "e", "f"]),
                json!(["a", "c", "e"]),
                json!(["a", "c", "d", "e", "f"]),
            ),
            (
                json!(["a", "b", "c", "d"]),
                json!(["d", "e", "f", "a"]),
                json!(["b", "c", "d", "e", "f", "a"]),
            ),
            (
                json!(["c", "d", "e", "f", "g", "h", "i", "j"]),
                json!(["2", "h", "3", "e", "4", "k", "l"]),
                json!(["c", "d", "f", "g", "2", "h", "i", "j", "3", "e", "4", "k", "l"]),
            ),
            (
                json!(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]),
                json!(["1", "b", "2", "h", "3", "e", "4", "k", "l"]),
                json!([
                    "a", "1", "b", "c", "d", "f", "g", "2", "h", "i", "j", "3", "e", "4", "k", "l"
                ]),
            ),
            (json!(["a", "b", "b"]), json!(["b"]), json!(["a", "b"])),
            (json!(["a", "b", "b"]), json!(["a"]), json!(["a", "b", "b"])),
            (
                json!(["a", "b", "c", "d", "e", "c"]),
                json!(["1", "b", "2", "e", "d"]),
                json!(["a", "1", "b", "c", "2", "e", "c", "d"]),
            ),
            (
                json!(["a", "a", "b", "b"]),
                json!(["b", "c", "d"]),
                json!(["a", "a", "b", "c", "d"]),
            ),
            (json!([1, 2, 2.5]), json!([1, 2, 3]), json!([1, 2, 2.5, 3])),
            (
                json!([true, false, true]),
                json!([true]),
                json!([true, false]),
            ),
        ];
        for (live, config, expected) in cases {
            let live_obj = json!({"metadata": {"finalizers": live}});
            let config_obj = json!({"metadata": {"finalizers": config}});
            let out = merge(&live_obj, &config_obj, shape).unwrap();
            assert_eq!(out["metadata"]["finalizers"], expected, "{live} + {config}");
        }
    }

    #[test]
    fn config_wins_on_leaves_and_atomic_lists() {
        let shape = Shape::root("io.k8s.api.core.v1.Pod");
        let live = json!({"spec": {"tolerations": [{"key": "a"}], "nodeName": "n1", "containers": [{"name": "c", "image": "1"}]}});
        let config = json!({"spec": {"tolerations": [{"key": "b"}], "containers": [{"name": "c", "args": ["x"]}]}});
        let out = merge(&live, &config, shape).unwrap();
        assert_eq!(
            out,
            json!({"spec": {"tolerations": [{"key": "b"}], "nodeName": "n1", "containers": [{"name": "c", "image": "1", "args": ["x"]}]}})
        );
        let dup = json!({"spec": {"containers": [{"name": "c"}, {"name": "c"}]}});
        assert!(merge(&live, &dup, shape).is_err());
    }
}
