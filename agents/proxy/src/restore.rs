//! `iptables-restore --noflush` input from a rendered [`Table`]: the whole table (full
//! sync) or only the chains whose rules changed since the last successful restore,
//! plus the deletion of chains that are no longer wanted. Foreign chains and rules are
//! never named, so `--noflush` leaves them alone.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::hash::{Hash, Hasher};

use crate::chains;
use crate::ruleset::{Chain, Jump, Table, TableName};

/// What the last successful restores left in the kernel: each chain of ours and a hash
/// of its rules.
#[derive(Debug, Default)]
pub struct Applied {
    tables: HashMap<TableName, HashMap<String, u64>>,
}

/// The changes one restore makes to one table.
#[derive(Debug, Default)]
pub struct TableChanges<'a> {
    /// Chains (re)written whole: declared (which flushes them) and filled.
    pub write: Vec<&'a Chain>,
    /// Chains flushed and deleted.
    pub delete: Vec<String>,
    /// Jumps from built-in chains inserted at the top.
    pub insert: Vec<&'a Jump>,
    /// Jumps from built-in chains that must already be there: `-C` lines at the start of
    /// the transaction, which fail the whole restore (before it changes anything) when
    /// one is missing.
    pub check: Vec<&'a Jump>,
}

impl TableChanges<'_> {
    pub fn is_empty(&self) -> bool {
        self.write.is_empty()
            && self.delete.is_empty()
            && self.insert.is_empty()
            && self.check.is_empty()
    }
}

fn rules_hash(chain: &Chain) -> u64 {
    let mut h = DefaultHasher::new();
    chain.rules.hash(&mut h);
    h.finish()
}

impl Applied {
    /// Every chain of `table`, and the deletion of `stale` chains (found in the kernel)
    /// and of chains we wrote before that are no longer wanted.
    pub fn full<'a>(
        &self,
        name: TableName,
        table: &'a Table,
        stale: impl IntoIterator<Item = String>,
    ) -> TableChanges<'a> {
        let mut delete: HashSet<String> = stale
            .into_iter()
            .filter(|c| table.get(c).is_none())
            .collect();
        delete.extend(self.removed(name, table));
        let mut delete: Vec<String> = delete.into_iter().collect();
        delete.sort();
        TableChanges {
            write: table.chains.iter().collect(),
            delete,
            ..TableChanges::default()
        }
    }

    /// Only the chains whose rules differ from the last restore, and the deletions.
    pub fn partial<'a>(&self, name: TableName, table: &'a Table) -> TableChanges<'a> {
        let known = self.tables.get(&name);
        let write = table
            .chains
            .iter()
            .filter(|c| known.and_then(|k| k.get(&c.name)) != Some(&rules_hash(c)))
            .collect();
        let mut delete = self.removed(name, table);
        delete.sort();
        TableChanges {
            write,
            delete,
            ..TableChanges::default()
        }
    }

    /// A full sync's changes from the chains it writes: every chain of ours the kernel
    /// holds (`stale`, or known from earlier restores) that is not written is deleted.
    pub fn full_of<'a>(
        &self,
        name: TableName,
        write: Vec<&'a Chain>,
        stale: impl IntoIterator<Item = String>,
    ) -> TableChanges<'a> {
        let wanted: HashSet<&str> = write.iter().map(|c| c.name.as_str()).collect();
        let mut delete: HashSet<String> = stale
            .into_iter()
            .filter(|c| !wanted.contains(c.as_str()))
            .collect();
        if let Some(known) = self.tables.get(&name) {
            delete.extend(
                known
                    .keys()
                    .filter(|c| !wanted.contains(c.as_str()))
                    .cloned(),
            );
        }
        let mut delete: Vec<String> = delete.into_iter().collect();
        delete.sort();
        TableChanges {
            write,
            delete,
            ..TableChanges::default()
        }
    }

    /// A partial sync's changes: of the `candidates`, the chains whose rules differ from
    /// the last restore, and the deletion of the `gone` chains the kernel holds.
    pub fn changed<'a, 'g>(
        &self,
        name: TableName,
        candidates: impl Iterator<Item = &'a Chain>,
        gone: impl Iterator<Item = &'g str>,
    ) -> TableChanges<'a> {
        let known = self.tables.get(&name);
        let write = candidates
            .filter(|c| known.and_then(|k| k.get(&c.name)) != Some(&rules_hash(c)))
            .collect();
        let mut delete: Vec<String> = gone
            .filter(|c| known.is_some_and(|k| k.contains_key(*c)))
            .map(str::to_string)
            .collect();
        delete.sort();
        delete.dedup();
        TableChanges {
            write,
            delete,
            ..TableChanges::default()
        }
    }

    fn removed(&self, name: TableName, table: &Table) -> Vec<String> {
        self.tables
            .get(&name)
            .map(|k| {
                k.keys()
                    .filter(|c| table.get(c).is_none())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Remembers what a successful restore of `changes` left in `name`.
    pub fn record(&mut self, name: TableName, changes: &TableChanges<'_>) {
        let known = self.tables.entry(name).or_default();
        for c in &changes.delete {
            known.remove(c);
        }
        for c in &changes.write {
            known.insert(c.name.clone(), rules_hash(c));
        }
    }

    /// Forget everything (after a failed restore the kernel's state is unknown).
    pub fn clear(&mut self) {
        self.tables.clear();
    }

    pub fn chain_count(&self, name: TableName) -> usize {
        self.tables.get(&name).map_or(0, HashMap::len)
    }
}

/// The `iptables-restore --noflush` input for one table.
pub fn restore_input(name: TableName, changes: &TableChanges<'_>) -> String {
    let rules: usize = changes.write.iter().map(|c| c.rules.len()).sum();
    let mut out = String::with_capacity(64 + rules * 120);
    let _ = writeln!(out, "*{}", name.as_str());
    for j in &changes.check {
        let _ = writeln!(out, "-C {} {}", j.from, j.rule);
    }
    for c in &changes.write {
        let _ = writeln!(out, ":{} - [0:0]", c.name);
    }
    for c in &changes.delete {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    for j in &changes.insert {
        let _ = writeln!(out, "-I {} 1 {}", j.from, j.rule);
    }
    for c in &changes.write {
        for r in &c.rules {
            let _ = writeln!(out, "-A {} {r}", c.name);
        }
    }
    for c in &changes.delete {
        let _ = writeln!(out, "-X {c}");
    }
    out.push_str("COMMIT\n");
    out
}

/// What `iptables-save -t <table>` shows: the chain names and the rule lines.
#[derive(Debug, Default)]
pub struct Saved {
    pub chains: HashSet<String>,
    pub rules: HashSet<String>,
}

impl Saved {
    pub fn parse(text: &str) -> Saved {
        let mut out = Saved::default();
        out.add(text);
        out
    }

    /// Adds the chains and rules of more `iptables-save` or `iptables -S` output.
    pub fn add(&mut self, text: &str) {
        let out = self;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix(':') {
                if let Some(name) = rest.split_whitespace().next() {
                    out.chains.insert(name.to_string());
                }
            } else if line.starts_with("-A ") {
                out.rules.insert(line.to_string());
            }
        }
    }

    /// Per-service chains in the kernel (ours by their prefix).
    pub fn service_chains(&self) -> impl Iterator<Item = String> + '_ {
        self.chains
            .iter()
            .filter(|c| chains::is_service_chain(c))
            .cloned()
    }

    pub fn has_jump(&self, jump: &Jump) -> bool {
        self.rules
            .contains(&format!("-A {} {}", jump.from, jump.rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(chains: &[(&str, &[&str])]) -> Table {
        let mut t = Table::default();
        for (name, rules) in chains {
            t.declare(name);
            for r in *rules {
                t.rule(name, r.to_string());
            }
        }
        t
    }

    #[test]
    fn partial_sends_only_changed_chains_and_deletes_removed_ones() {
        let mut applied = Applied::default();
        let first = table(&[("KUBE-SERVICES", &["-j A"]), ("KUBE-SVC-A", &["-j X"])]);
        let changes = applied.full(TableName::Nat, &first, Vec::new());
        assert_eq!(changes.write.len(), 2);
        applied.record(TableName::Nat, &changes);

        let same = applied.partial(TableName::Nat, &first);
        assert!(same.is_empty());

        let second = table(&[("KUBE-SERVICES", &["-j B"]), ("KUBE-SVC-B", &["-j Y"])]);
        let changes = applied.partial(TableName::Nat, &second);
        let written: Vec<&str> = changes.write.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(written, ["KUBE-SERVICES", "KUBE-SVC-B"]);
        assert_eq!(changes.delete, ["KUBE-SVC-A"]);
        assert_eq!(
            restore_input(TableName::Nat, &changes),
            "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-B - [0:0]\n:KUBE-SVC-A - [0:0]\n\
             -A KUBE-SERVICES -j B\n-A KUBE-SVC-B -j Y\n-X KUBE-SVC-A\nCOMMIT\n"
        );
        applied.record(TableName::Nat, &changes);
        assert_eq!(applied.chain_count(TableName::Nat), 2);
    }

    #[test]
    fn full_deletes_stale_service_chains_found_in_the_kernel_only() {
        let saved = Saved::parse(
            "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SVC-OLD - [0:0]\n:KUBE-SERVICES - [0:0]\n\
             :MY-CHAIN - [0:0]\n-A PREROUTING -j MY-CHAIN\nCOMMIT\n",
        );
        let desired = table(&[("KUBE-SERVICES", &[])]);
        let changes = Applied::default().full(TableName::Nat, &desired, saved.service_chains());
        assert_eq!(changes.delete, ["KUBE-SVC-OLD"]);
        assert!(saved.rules.contains("-A PREROUTING -j MY-CHAIN"));
    }
}
