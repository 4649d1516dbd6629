//! A rendered ruleset: for each table the chains kube-proxy owns and their rules, in
//! order, plus the jumps into them from the built-in chains. Turning it into
//! `iptables-restore` input (whole, or only what changed) lives in `restore.rs`.

use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TableName {
    Filter,
    Nat,
}

impl TableName {
    pub const ALL: [TableName; 2] = [TableName::Filter, TableName::Nat];

    pub fn as_str(self) -> &'static str {
        match self {
            TableName::Filter => "filter",
            TableName::Nat => "nat",
        }
    }
}

/// One chain and its rules; a rule is the text after `-A <chain> `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub rules: Vec<String>,
}

/// The chains of one table, in the order they were declared.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    pub chains: Vec<Chain>,
    index: HashMap<String, usize>,
}

impl Table {
    /// Declares `name` (once; later calls are no-ops).
    pub fn declare(&mut self, name: &str) {
        if !self.index.contains_key(name) {
            self.index.insert(name.to_string(), self.chains.len());
            self.chains.push(Chain {
                name: name.to_string(),
                rules: Vec::new(),
            });
        }
    }

    /// Appends a rule to `chain`, declaring it if needed.
    pub fn rule(&mut self, chain: &str, rule: String) {
        self.declare(chain);
        let i = self.index[chain];
        self.chains[i].rules.push(rule);
    }

    pub fn get(&self, name: &str) -> Option<&Chain> {
        self.index.get(name).map(|&i| &self.chains[i])
    }

    pub fn rule_count(&self) -> usize {
        self.chains.iter().map(|c| c.rules.len()).sum()
    }
}

/// A rule in a built-in chain (`PREROUTING`, `INPUT`, …) that jumps into one of ours.
/// iptables-restore cannot replace a built-in chain without flushing foreign rules, so
/// these are inserted one by one when missing and deleted one by one by `--cleanup`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jump {
    pub table: TableName,
    pub from: &'static str,
    /// The rule's text after `-A <from> `, as iptables-save prints it.
    pub rule: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub filter: Table,
    pub nat: Table,
}

impl Ruleset {
    pub fn table(&self, name: TableName) -> &Table {
        match name {
            TableName::Filter => &self.filter,
            TableName::Nat => &self.nat,
        }
    }

    pub fn table_mut(&mut self, name: TableName) -> &mut Table {
        match name {
            TableName::Filter => &mut self.filter,
            TableName::Nat => &mut self.nat,
        }
    }
}

/// `-m comment --comment …`, quoted when it has spaces (iptables-restore splits words).
pub fn comment(text: &str) -> String {
    if text.contains(' ') {
        format!("-m comment --comment \"{text}\"")
    } else {
        format!("-m comment --comment {text}")
    }
}
