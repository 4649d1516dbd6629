//! One nftables sync: a single `nft -f -` transaction. A full sync declares and flushes
//! the table's fixed part and every map, and writes every service port; a partial sync
//! writes only the chains, map elements and sets of the service ports whose inputs
//! changed (the render cache says which), so a one-service change is a handful of lines.
//! Given the service ports that changed ([`RuleSyncer::sync_changed`]), a partial sync
//! looks at no other: its work follows the change, not the number of services.
//!
//! What the table holds is known from our own successful transactions. At start-up and
//! after a failure the first full sync replaces the table whole (`add table` + `delete
//! table` in the same transaction), so nothing left by an earlier run survives.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::fmt::Write;
use std::hash::{Hash, Hasher};

use super::render::{render_service, setup, NftServiceRules, Part, TABLE};
use super::{Nft, NftError};
use crate::conntrack::{Conntrack, UdpCleanup};
use crate::render::{ProxyState, RenderConfig};
use crate::render_cache::{RenderCache, Scope};
use crate::ruleset::{Chain, TableName};
use crate::syncer::{RuleSyncer, SyncReport};

/// What our transactions left in the table.
#[derive(Debug, Default)]
struct Applied {
    chains: HashMap<String, u64>,
    elements: HashMap<(&'static str, String), String>,
    sets: HashMap<String, u32>,
}

fn rules_hash(chain: &Chain) -> u64 {
    let mut h = DefaultHasher::new();
    chain.rules.hash(&mut h);
    h.finish()
}

/// A transaction in the order nft needs it: elements that go away and chain flushes
/// first (so nothing still refers to what is deleted), then sets, rules and elements,
/// deletions of chains last.
#[derive(Default)]
struct Tx {
    head: String,
    delete_elements: String,
    flush: String,
    delete_sets: String,
    add_sets: String,
    rules: String,
    add_elements: HashMap<&'static str, Vec<String>>,
    delete_chains: String,
}

impl Tx {
    fn text(self) -> String {
        let t = format!("ip {TABLE}");
        let mut out = self.head;
        out.push_str(&self.delete_elements);
        out.push_str(&self.flush);
        out.push_str(&self.delete_sets);
        out.push_str(&self.add_sets);
        out.push_str(&self.rules);
        let mut maps: Vec<_> = self.add_elements.into_iter().collect();
        maps.sort();
        for (map, elements) in maps {
            let _ = writeln!(out, "add element {t} {map} {{ {} }}", elements.join(", "));
        }
        out.push_str(&self.delete_chains);
        out
    }

    fn write_chain(&mut self, chain: &Chain) {
        let t = format!("ip {TABLE}");
        let _ = writeln!(self.flush, "add chain {t} {}", chain.name);
        let _ = writeln!(self.flush, "flush chain {t} {}", chain.name);
        for r in &chain.rules {
            let _ = writeln!(self.rules, "add rule {t} {} {r}", chain.name);
        }
    }

    fn remove_chain(&mut self, name: &str) {
        let t = format!("ip {TABLE}");
        let _ = writeln!(self.flush, "flush chain {t} {name}");
        let _ = writeln!(self.delete_chains, "delete chain {t} {name}");
    }
}

pub struct NftSyncer<N, C> {
    nft: N,
    conntrack: C,
    config: RenderConfig,
    cache: RenderCache<NftServiceRules>,
    applied: Applied,
    need_full: bool,
    /// The table may hold things we did not write: the next full sync replaces it.
    need_fresh: bool,
    udp: UdpCleanup,
    last_input: String,
}

impl<N: Nft, C: Conntrack> NftSyncer<N, C> {
    pub fn new(nft: N, conntrack: C, config: RenderConfig) -> Self {
        NftSyncer {
            nft,
            conntrack,
            config,
            cache: RenderCache::default(),
            applied: Applied::default(),
            need_full: true,
            need_fresh: true,
            udp: UdpCleanup::default(),
            last_input: String::new(),
        }
    }

    /// The `nft -f` input of the last sync that sent one (for benchmarks and debugging).
    pub fn last_input(&self) -> &str {
        &self.last_input
    }

    fn mark(&self) -> u32 {
        1u32 << self.config.masquerade_bit.min(31)
    }
}

impl<N: Nft, C: Conntrack> RuleSyncer for NftSyncer<N, C> {
    type Error = NftError;

    fn sync_scope(&mut self, state: &ProxyState, scope: Scope<'_>) -> Result<SyncReport, NftError> {
        let full = matches!(scope, Scope::All) || self.need_full;
        let scope = if full { Scope::All } else { scope };
        let started = std::time::Instant::now();
        let config = &self.config;
        let update = self
            .cache
            .update_with(state, scope, |svc, eps, _| render_service(config, svc, eps));
        let mut tx = Tx::default();
        let mut next = Applied::default();
        let mut report = SyncReport {
            full,
            rendered: update.rendered.len(),
            ..SyncReport::default()
        };
        let t = format!("ip {TABLE}");
        if full {
            if self.need_fresh {
                let _ = writeln!(tx.head, "add table {t}\ndelete table {t}");
                self.applied = Applied::default();
            }
            tx.head.push_str(&setup(&self.config, self.mark()));
            for rules in self.cache.in_order(state) {
                for c in &rules.chains {
                    tx.write_chain(c);
                    next.chains.insert(c.name.clone(), rules_hash(c));
                    report.chains_written += 1;
                }
                for e in &rules.elements {
                    tx.add_elements
                        .entry(e.map)
                        .or_default()
                        .push(format!("{} : {}", e.key, e.verdict));
                    next.elements
                        .insert((e.map, e.key.clone()), e.verdict.clone());
                }
                for s in &rules.sets {
                    next.sets.insert(s.name.clone(), s.timeout_seconds);
                }
            }
            for name in self.applied.chains.keys() {
                if !next.chains.contains_key(name) {
                    tx.remove_chain(name);
                    report.chains_deleted += 1;
                }
            }
            for (name, timeout) in &self.applied.sets {
                if next.sets.get(name) != Some(timeout) {
                    let _ = writeln!(tx.delete_sets, "delete set {t} {name}");
                }
            }
            for (name, timeout) in &next.sets {
                if self.applied.sets.get(name) != Some(timeout) {
                    add_set(&mut tx, name, *timeout);
                }
            }
        } else {
            next = std::mem::take(&mut self.applied);
            for part in &update.gone {
                match part {
                    Part::Chain(name) if next.chains.remove(name).is_some() => {
                        tx.remove_chain(name);
                        report.chains_deleted += 1;
                    }
                    Part::Element(map, key)
                        if next.elements.remove(&(*map, key.clone())).is_some() =>
                    {
                        let _ =
                            writeln!(tx.delete_elements, "delete element {t} {map} {{ {key} }}");
                    }
                    Part::Set(name) if next.sets.remove(name).is_some() => {
                        let _ = writeln!(tx.delete_sets, "delete set {t} {name}");
                    }
                    _ => {}
                }
            }
            for name in &update.rendered {
                let Some(rules) = self.cache.get(name) else {
                    continue;
                };
                for s in &rules.sets {
                    match next.sets.insert(s.name.clone(), s.timeout_seconds) {
                        Some(old) if old == s.timeout_seconds => {}
                        Some(_) => {
                            let _ = writeln!(tx.delete_sets, "delete set {t} {}", s.name);
                            add_set(&mut tx, &s.name, s.timeout_seconds);
                        }
                        None => add_set(&mut tx, &s.name, s.timeout_seconds),
                    }
                }
                for c in &rules.chains {
                    let hash = rules_hash(c);
                    if next.chains.insert(c.name.clone(), hash) != Some(hash) {
                        tx.write_chain(c);
                        report.chains_written += 1;
                    }
                }
                for e in &rules.elements {
                    let key = (e.map, e.key.clone());
                    match next.elements.insert(key, e.verdict.clone()) {
                        Some(old) if old == e.verdict => continue,
                        Some(_) => {
                            let _ = writeln!(
                                tx.delete_elements,
                                "delete element {t} {} {{ {} }}",
                                e.map, e.key
                            );
                        }
                        None => {}
                    }
                    tx.add_elements
                        .entry(e.map)
                        .or_default()
                        .push(format!("{} : {}", e.key, e.verdict));
                }
            }
        }
        report.nat_rules = self.cache.rule_total(TableName::Nat);
        let input = tx.text();
        if !input.is_empty() {
            let t0 = std::time::Instant::now();
            let result = self.nft.run(&input);
            report.iptables = t0.elapsed();
            if let Err(e) = result {
                self.need_full = true;
                self.need_fresh = true;
                self.applied = Applied::default();
                return Err(e);
            }
            report.restores = 1;
            self.last_input = input;
        }
        self.applied = next;
        self.need_full = false;
        self.need_fresh = false;
        report.render = started.elapsed().saturating_sub(report.iptables);

        report.conntrack_deletes = self.udp.after_sync(&self.conntrack, state, scope.only());
        Ok(report)
    }
}

fn add_set(tx: &mut Tx, name: &str, timeout: u32) {
    let _ = writeln!(
        tx.add_sets,
        "add set ip {TABLE} {name} {{ type ipv4_addr ; flags dynamic,timeout ; timeout {timeout}s ; }}"
    );
}

#[cfg(test)]
#[path = "syncer_tests.rs"]
mod tests;
