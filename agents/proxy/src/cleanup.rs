//! `rkube proxy --cleanup`: remove the jumps, chains and rules kube-proxy creates, and
//! nothing else. One `iptables-restore --noflush` per table that has something of ours.

use std::fmt::Write;

use crate::chains;
use crate::iptables::{IptablesError, IptablesRestore};
use crate::render::{ProxyRules, RenderConfig};
use crate::restore::Saved;
use crate::ruleset::TableName;

/// The restore input that removes ours from a table, given its `iptables-save`; `None`
/// when there is nothing of ours.
pub fn cleanup_input(table: TableName, saved_text: &str) -> Option<String> {
    let saved = Saved::parse(saved_text);
    let all_jumps = ProxyRules::jumps(&RenderConfig {
        localhost_nodeports: true,
        ..RenderConfig::default()
    });
    let jumps: Vec<String> = all_jumps
        .iter()
        .filter(|j| j.table == table && saved.has_jump(j))
        .map(|j| format!("-D {} {}", j.from, j.rule))
        .collect();
    let mut ours: Vec<String> = chains::top_level(table)
        .iter()
        .filter(|c| saved.chains.contains(**c))
        .map(|c| c.to_string())
        .collect();
    let mut service: Vec<String> = saved.service_chains().collect();
    service.sort();
    ours.extend(service);
    if jumps.is_empty() && ours.is_empty() {
        return None;
    }
    let mut out = format!("*{}\n", table.as_str());
    for c in &ours {
        let _ = writeln!(out, ":{c} - [0:0]");
    }
    for j in &jumps {
        let _ = writeln!(out, "{j}");
    }
    for c in &ours {
        let _ = writeln!(out, "-X {c}");
    }
    out.push_str("COMMIT\n");
    Some(out)
}

/// Removes ours from both tables; returns how many tables were changed.
pub fn cleanup(ipt: &dyn IptablesRestore) -> Result<usize, IptablesError> {
    let mut changed = 0;
    for table in TableName::ALL {
        if let Some(input) = cleanup_input(table, &ipt.save(table)?) {
            ipt.restore(table, &input)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntrack::Conntrack;
    use crate::fake::FakeIptables;
    use crate::syncer::{RuleSyncer, Syncer};

    struct NoConntrack;
    impl Conntrack for NoConntrack {
        fn delete(&self, _: &[String]) {}
    }

    #[test]
    fn cleanup_leaves_exactly_the_foreign_rules() {
        let fake = FakeIptables::new();
        fake.add_rule(TableName::Nat, "POSTROUTING", "-s 10.0.0.0/8 -j MASQUERADE");
        fake.add_rule(TableName::Filter, "INPUT", "-p tcp --dport 22 -j ACCEPT");
        let before_nat = fake.save(TableName::Nat).unwrap();
        let before_filter = fake.save(TableName::Filter).unwrap();
        let mut syncer = Syncer::new(fake.clone(), NoConntrack, RenderConfig::default());
        let state = crate::render_tests::fixed_state();
        syncer.sync(&state, false).unwrap();
        assert!(fake.save(TableName::Nat).unwrap().contains("KUBE-SEP-"));
        assert_eq!(cleanup(&fake).unwrap(), 2);
        assert_eq!(fake.save(TableName::Nat).unwrap(), before_nat);
        assert_eq!(fake.save(TableName::Filter).unwrap(), before_filter);
        // A second cleanup has nothing to do.
        assert_eq!(cleanup(&fake).unwrap(), 0);
    }
}
