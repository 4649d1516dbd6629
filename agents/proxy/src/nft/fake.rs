//! An in-memory `ip kube-proxy` table for unit tests: applies `nft -f` transactions the
//! way the kernel does as far as the syncer relies on it (all or nothing; a rule cannot
//! jump to a missing chain; a chain, set or element must exist to be deleted, and a
//! chain or set still referred to cannot be), so tests can compare what partial syncs
//! leave with what one full sync writes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::render::TABLE;
use super::{Nft, NftError};

/// What the table holds: chains and their rules, map and set elements (a set's elements
/// have an empty value), and which names are sets or maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub chains: BTreeMap<String, Vec<String>>,
    pub elements: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Clone, Default)]
pub struct FakeNft(pub Arc<Mutex<Option<Table>>>);

fn fail(line: &str, why: &str) -> NftError {
    NftError::Failed {
        status: "exit status: 1".into(),
        stderr: format!("{why}: {line}"),
    }
}

/// The chain a verdict jumps to (`jump X`, `goto X`), if any.
fn targets(text: &str) -> impl Iterator<Item = &str> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    for pair in words.windows(2) {
        if pair[0] == "jump" || pair[0] == "goto" {
            out.push(pair[1].trim_end_matches([',', '}']));
        }
    }
    out.into_iter()
}

fn referred(table: &Table, name: &str) -> bool {
    let rules = table.chains.values().flatten();
    let verdicts = table.elements.values().flat_map(|m| m.values());
    rules.chain(verdicts).any(|text| {
        targets(text).any(|t| t == name)
            || text.contains(&format!("@{name} "))
            || text.ends_with(&format!("@{name}"))
    })
}

/// `{ a : b, c : d }` → [(a, b), (c, d)]; a set's `{ a, c }` → [(a, ""), (c, "")].
fn elements(braced: &str) -> Vec<(String, String)> {
    let inner = braced.trim().trim_start_matches('{').trim_end_matches('}');
    inner
        .split(", ")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once(" : ") {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e.to_string(), String::new()),
        })
        .collect()
}

fn apply_line(table: &mut Option<Table>, line: &str) -> Result<(), NftError> {
    let prefix = format!("ip {TABLE}");
    let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
    let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let rest = rest
        .strip_prefix(&prefix)
        .ok_or_else(|| fail(line, "another table"))?
        .trim();
    if kind == "table" {
        match verb {
            "add" => {
                table.get_or_insert_with(Table::default);
            }
            "delete" => *table = None,
            _ => return Err(fail(line, "unknown")),
        }
        return Ok(());
    }
    let t = table.as_mut().ok_or_else(|| fail(line, "no table"))?;
    let (name, body) = rest.split_once(' ').unwrap_or((rest, ""));
    match (verb, kind) {
        ("add", "chain") => {
            t.chains.entry(name.to_string()).or_default();
        }
        ("add", "map" | "set") => {
            t.elements.entry(name.to_string()).or_default();
        }
        ("flush", "chain") => t
            .chains
            .get_mut(name)
            .ok_or_else(|| fail(line, "no such chain"))?
            .clear(),
        ("flush", "map" | "set") => t
            .elements
            .get_mut(name)
            .ok_or_else(|| fail(line, "no such map"))?
            .clear(),
        ("delete", "chain") => {
            let rules = t
                .chains
                .get(name)
                .ok_or_else(|| fail(line, "no such chain"))?;
            if !rules.is_empty() || referred(t, name) {
                return Err(fail(line, "chain busy"));
            }
            t.chains.remove(name);
        }
        ("delete", "set") => {
            t.elements
                .get(name)
                .ok_or_else(|| fail(line, "no such set"))?;
            if referred(t, name) {
                return Err(fail(line, "set busy"));
            }
            t.elements.remove(name);
        }
        ("add", "rule") => {
            if let Some(missing) = targets(body).find(|c| !t.chains.contains_key(*c)) {
                return Err(fail(line, &format!("no chain {missing}")));
            }
            t.chains
                .get_mut(name)
                .ok_or_else(|| fail(line, "no such chain"))?
                .push(body.to_string());
        }
        ("add", "element") => {
            for (k, v) in elements(body) {
                if let Some(missing) = targets(&v).find(|c| !t.chains.contains_key(*c)) {
                    return Err(fail(line, &format!("no chain {missing}")));
                }
                let map = t
                    .elements
                    .get_mut(name)
                    .ok_or_else(|| fail(line, "no such map"))?;
                if map.get(&k).is_some_and(|old| *old != v) {
                    return Err(fail(line, "element exists"));
                }
                map.insert(k, v);
            }
        }
        ("delete", "element") => {
            let map = t
                .elements
                .get_mut(name)
                .ok_or_else(|| fail(line, "no such map"))?;
            for (k, _) in elements(body) {
                map.remove(&k)
                    .ok_or_else(|| fail(line, "no such element"))?;
            }
        }
        _ => return Err(fail(line, "unknown command")),
    }
    Ok(())
}

impl FakeNft {
    pub fn table(&self) -> Option<Table> {
        self.0.lock().unwrap().clone()
    }
}

impl Nft for FakeNft {
    fn run(&self, input: &str) -> Result<(), NftError> {
        let mut current = self.0.lock().unwrap();
        let mut next = current.clone();
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            apply_line(&mut next, line)?;
        }
        *current = next;
        Ok(())
    }
}
