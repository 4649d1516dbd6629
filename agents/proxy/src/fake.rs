//! In-memory iptables for unit tests: applies `iptables-restore --noflush` input the way
//! the kernel tools do (a chain line flushes or creates, `-A`/`-I`/`-D` edit, `-C` checks,
//! `-X` deletes; a failing line fails the whole input) and prints `iptables-save` output.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::iptables::{IptablesError, IptablesRestore};
use crate::ruleset::TableName;

const BUILT_IN: [&str; 5] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

#[derive(Clone, Debug, Default)]
pub struct FakeState {
    pub tables: BTreeMap<&'static str, BTreeMap<String, Vec<String>>>,
    /// Every restore input, in order.
    pub restores: Vec<String>,
    /// Make the next restore fail.
    pub fail_next: bool,
    /// How many `iptables-save` and `iptables -S <chain>` calls were made.
    pub saves: usize,
    pub lists: usize,
    /// What `max_chains_per_transaction` answers (the nft backend's splitting).
    pub max_chains: Option<usize>,
    /// What `checks_jumps_in_restore` answers (the legacy backend's way).
    pub checks_in_restore: bool,
}

/// Shared so a test can look inside while the syncer owns its copy.
#[derive(Clone, Debug, Default)]
pub struct FakeIptables(pub Arc<Mutex<FakeState>>);

impl FakeIptables {
    pub fn new() -> Self {
        let fake = FakeIptables::default();
        {
            let mut s = fake.0.lock().unwrap();
            for t in TableName::ALL {
                let chains = s.tables.entry(t.as_str()).or_default();
                for b in BUILT_IN {
                    chains.insert(b.to_string(), Vec::new());
                }
            }
        }
        fake
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.0.lock().unwrap()
    }

    pub fn chain(&self, table: TableName, chain: &str) -> Option<Vec<String>> {
        self.state().tables[table.as_str()].get(chain).cloned()
    }

    pub fn add_rule(&self, table: TableName, chain: &str, rule: &str) {
        let mut s = self.state();
        let chains = s.tables.get_mut(table.as_str()).unwrap();
        chains.entry(chain.into()).or_default().push(rule.into());
    }
}

fn failed(msg: String) -> IptablesError {
    IptablesError::Failed {
        program: "fake-iptables-restore".into(),
        status: "exit status: 1".into(),
        stderr: msg,
    }
}

impl IptablesRestore for FakeIptables {
    fn save(&self, table: TableName) -> Result<String, IptablesError> {
        let mut s = self.state();
        s.saves += 1;
        let mut out = format!("*{}\n", table.as_str());
        let chains = &s.tables[table.as_str()];
        for name in chains.keys() {
            let policy = if BUILT_IN.contains(&name.as_str()) {
                "ACCEPT"
            } else {
                "-"
            };
            out.push_str(&format!(":{name} {policy} [0:0]\n"));
        }
        for (name, rules) in chains {
            for r in rules {
                out.push_str(&format!("-A {name} {r}\n"));
            }
        }
        out.push_str("COMMIT\n");
        Ok(out)
    }

    fn list_chain(&self, table: TableName, chain: &str) -> Result<String, IptablesError> {
        let mut s = self.state();
        s.lists += 1;
        let Some(rules) = s.tables[table.as_str()].get(chain) else {
            return Err(failed(format!("no chain {chain:?}")));
        };
        let mut out = String::new();
        if BUILT_IN.contains(&chain) {
            out.push_str(&format!("-P {chain} ACCEPT\n"));
        } else {
            out.push_str(&format!("-N {chain}\n"));
        }
        for r in rules {
            out.push_str(&format!("-A {chain} {r}\n"));
        }
        Ok(out)
    }

    fn max_chains_per_transaction(&self) -> Option<usize> {
        self.state().max_chains
    }

    fn checks_jumps_in_restore(&self) -> bool {
        self.state().checks_in_restore
    }

    /// Each `*table … COMMIT` block is one transaction, applied in order.
    fn restore(&self, table: TableName, input: &str) -> Result<(), IptablesError> {
        let mut s = self.state();
        s.restores.push(input.to_string());
        if std::mem::take(&mut s.fail_next) {
            return Err(failed("injected failure".into()));
        }
        for block in input.split_inclusive("COMMIT\n") {
            apply(&mut s, table, block)?;
        }
        Ok(())
    }
}

/// One transaction: all of it or none of it.
fn apply(s: &mut FakeState, table: TableName, input: &str) -> Result<(), IptablesError> {
    let mut chains = s.tables[table.as_str()].clone();
    for line in input.lines() {
        if line.starts_with('*') || line == "COMMIT" {
            continue;
        }
        if let Some(rest) = line.strip_prefix(':') {
            let name = rest.split_whitespace().next().unwrap_or_default();
            chains.insert(name.to_string(), Vec::new());
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (op, chain) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let rest = parts.next().unwrap_or("").to_string();
        let Some(rules) = chains.get_mut(chain) else {
            return Err(failed(format!("no chain {chain:?}: {line}")));
        };
        match op {
            "-A" => rules.push(rest),
            "-I" => {
                let rule = rest.strip_prefix("1 ").unwrap_or(&rest).to_string();
                rules.insert(0, rule);
            }
            "-C" => {
                if !rules.contains(&rest) {
                    return Err(failed(format!(
                        "{line}: Bad rule (does a matching rule exist in that chain?)"
                    )));
                }
            }
            "-D" => {
                let Some(i) = rules.iter().position(|r| *r == rest) else {
                    return Err(failed(format!("no such rule: {line}")));
                };
                rules.remove(i);
            }
            "-X" => {
                let target = format!("-j {chain}");
                let referenced = chains
                    .values()
                    .flatten()
                    .any(|r| r.ends_with(&target) || r.contains(&format!("{target} ")));
                if referenced {
                    return Err(failed(format!("chain {chain} is still referenced")));
                }
                chains.remove(chain);
            }
            _ => return Err(failed(format!("unknown line {line}"))),
        }
    }
    // Every jump must have a target, as the kernel checks.
    for rules in chains.values() {
        for r in rules {
            if let Some(target) = format!(" {r}").split(" -j ").nth(1) {
                let target = target.split(' ').next().unwrap_or("");
                if target.starts_with("KUBE-") && !chains.contains_key(target) {
                    return Err(failed(format!("jump to missing chain {target}")));
                }
            }
        }
    }
    s.tables.insert(table.as_str(), chains);
    Ok(())
}
