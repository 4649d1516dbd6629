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
            merge_items(&info, Shape::element(elem), ll, rl).map(|items| Some(Value::Array(items)))
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
