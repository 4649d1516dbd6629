//! Splitting one table's restore input into several transactions (`*table … COMMIT`
//! blocks) for one `iptables-restore` process.
//!
//! Why: iptables-nft 1.8.9 records, for every line of a transaction, the chain it names
//! in a sorted linked list (`cache_chain_list_insert`), so one transaction costs
//! O(lines × chains): the 230,000 lines and 60,000 chains of 10,000 services took more
//! than six minutes, while the same rules in transactions of ~1,000 chains take seconds.
//! The legacy backend replaces the whole table once per transaction, so it gets one.
//!
//! Each transaction is consistent on its own: chains are written after the chains they
//! jump to (a service's endpoint chains before its service chain, service chains before
//! `KUBE-SERVICES`), the jumps from built-in chains come with the last writes (the
//! checks that they are there with the first), and deleted chains go last, those that
//! jump before those they jump to. Between two transactions some services have their
//! new rules and others their old ones, as between two partial syncs.

use std::collections::{HashMap, HashSet};

use crate::restore::{restore_input, TableChanges};
use crate::ruleset::{Chain, TableName};

/// The chain a rule jumps to (`-j NAME`), if any; targets such as DNAT come back too,
/// and are simply not found among the chains.
fn jump_target(rule: &str) -> Option<&str> {
    let at = if rule.starts_with("-j ") {
        0
    } else {
        rule.rfind(" -j ")? + 1
    };
    rule[at + 3..].split(' ').next()
}

/// `write` reordered so that every chain comes after the written chains it jumps to.
fn targets_first<'a>(write: &[&'a Chain]) -> Vec<&'a Chain> {
    let by_name: HashMap<&str, &'a Chain> = write.iter().map(|c| (c.name.as_str(), *c)).collect();
    let mut done: HashSet<&str> = HashSet::with_capacity(write.len());
    let mut out = Vec::with_capacity(write.len());
    for chain in write {
        // Depth-first, iteratively: (chain, index of the next rule to look at).
        let mut stack = vec![(*chain, 0usize)];
        while let Some((c, i)) = stack.pop() {
            if i == 0 && !done.insert(c.name.as_str()) {
                continue;
            }
            match c.rules.get(i) {
                Some(rule) => {
                    stack.push((c, i + 1));
                    if let Some(t) = jump_target(rule).and_then(|t| by_name.get(t)) {
                        if !done.contains(t.name.as_str()) {
                            stack.push((t, 0));
                        }
                    }
                }
                None => out.push(c),
            }
        }
    }
    out
}

/// Deletion order: chains that jump (firewall, external, service) before the endpoint
/// chains they jump to.
fn delete_rank(name: &str) -> u8 {
    const RANKS: [(&str, u8); 5] = [
        ("KUBE-FW-", 0),
        ("KUBE-EXT-", 1),
        ("KUBE-SVC-", 2),
        ("KUBE-SVL-", 2),
        ("KUBE-SEP-", 3),
    ];
    RANKS
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or(4, |(_, rank)| *rank)
}

/// The restore input for `changes`: one transaction, or (with `max_chains`) as many as
/// needed for each to name at most that many chains.
pub fn restore_transactions(
    name: TableName,
    changes: &TableChanges<'_>,
    max_chains: Option<usize>,
) -> String {
    let max = match max_chains {
        Some(max) if changes.write.len() + changes.delete.len() > max => max.max(1),
        _ => return restore_input(name, changes),
    };
    let mut out = String::new();
    let ordered = targets_first(&changes.write);
    let mut chunks: Vec<&[&Chain]> = ordered.chunks(max).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        let part = TableChanges {
            write: chunk.to_vec(),
            delete: Vec::new(),
            insert: if i == last {
                changes.insert.clone()
            } else {
                Vec::new()
            },
            // Checked before anything is committed.
            check: if i == 0 {
                changes.check.clone()
            } else {
                Vec::new()
            },
        };
        if !part.is_empty() {
            out.push_str(&restore_input(name, &part));
        }
    }
    let mut delete = changes.delete.clone();
    delete.sort_by_key(|c| delete_rank(c));
    for chunk in delete.chunks(max) {
        let part = TableChanges {
            delete: chunk.to_vec(),
            ..TableChanges::default()
        };
        out.push_str(&restore_input(name, &part));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chains::is_service_chain;
    use crate::fake::FakeIptables;
    use crate::iptables::IptablesRestore;
    use crate::render::{ProxyRules, RenderConfig};
    use crate::restore::Applied;

    #[test]
    fn jump_targets_are_found_after_comments_and_matches() {
        assert_eq!(jump_target("-j KUBE-SEP-A"), Some("KUBE-SEP-A"));
        assert_eq!(
            jump_target("-m comment --comment \"a -> b\" -m statistic --mode random -j KUBE-SEP-B"),
            Some("KUBE-SEP-B")
        );
        assert_eq!(
            jump_target("-m tcp -p tcp -j DNAT --to-destination 10.0.0.1:80"),
            Some("DNAT")
        );
        assert_eq!(jump_target("-m mark --mark 0x4000/0x4000"), None);
    }

    #[test]
    fn small_changes_stay_one_transaction() {
        let rules = ProxyRules::render(
            &RenderConfig::default(),
            &crate::render_tests::fixed_state(),
        );
        let changes = Applied::default().full(TableName::Nat, &rules.nat, Vec::new());
        let one = restore_transactions(TableName::Nat, &changes, None);
        assert_eq!(one.matches("COMMIT").count(), 1);
        assert_eq!(
            one,
            restore_transactions(TableName::Nat, &changes, Some(1000))
        );
    }

    #[test]
    fn jump_checks_lead_the_first_transaction_only() {
        let config = RenderConfig::default();
        let rules = ProxyRules::render(&config, &crate::render_tests::fixed_state());
        let jumps = ProxyRules::jumps(&config);
        let mut changes = Applied::default().full(TableName::Nat, &rules.nat, Vec::new());
        changes.check = jumps.iter().filter(|j| j.table == TableName::Nat).collect();
        for max in [None, Some(2)] {
            let input = restore_transactions(TableName::Nat, &changes, max);
            let blocks: Vec<&str> = input.split_inclusive("COMMIT\n").collect();
            let checks = |b: &str| b.lines().filter(|l| l.starts_with("-C ")).count();
            assert_eq!(checks(blocks[0]), 3, "{input}");
            assert!(blocks[0].lines().nth(1).unwrap().starts_with("-C "));
            assert_eq!(checks(&input), 3, "{input}");
        }
    }

    /// Every transaction must apply on its own, in order, and the end result must be
    /// what one transaction gives; the fake rejects a jump to a missing chain and the
    /// deletion of a chain still jumped to, like the kernel.
    #[test]
    fn split_transactions_apply_in_order_and_end_where_one_would() {
        let config = RenderConfig::default();
        let state = crate::render_tests::fixed_state();
        let rules = ProxyRules::render(&config, &state);
        let jumps = ProxyRules::jumps(&config);
        let mut changes = Applied::default().full(TableName::Nat, &rules.nat, Vec::new());
        changes.insert = jumps.iter().filter(|j| j.table == TableName::Nat).collect();

        let whole = FakeIptables::new();
        whole
            .restore(
                TableName::Nat,
                &restore_transactions(TableName::Nat, &changes, None),
            )
            .unwrap();
        let split = FakeIptables::new();
        let input = restore_transactions(TableName::Nat, &changes, Some(2));
        assert!(input.matches("COMMIT").count() > 5, "{input}");
        for block in input.split_inclusive("COMMIT\n") {
            split.restore(TableName::Nat, block).unwrap();
        }
        assert_eq!(
            split.save(TableName::Nat).unwrap(),
            whole.save(TableName::Nat).unwrap()
        );

        // Now everything goes: referrers are deleted before what they jump to.
        let mut applied = Applied::default();
        applied.record(TableName::Nat, &changes);
        // Desired: the top-level chains without their jumps to service chains.
        let mut top = crate::ruleset::Table::default();
        for c in rules
            .nat
            .chains
            .iter()
            .filter(|c| !is_service_chain(&c.name))
        {
            top.declare(&c.name);
            for r in &c.rules {
                if !jump_target(r).is_some_and(is_service_chain) {
                    top.rule(&c.name, r.clone());
                }
            }
        }
        let removal = applied.partial(TableName::Nat, &top);
        assert!(removal.delete.len() > 4);
        for block in
            restore_transactions(TableName::Nat, &removal, Some(2)).split_inclusive("COMMIT\n")
        {
            split.restore(TableName::Nat, block).unwrap();
        }
        let left = split.save(TableName::Nat).unwrap();
        assert!(
            !left.contains("KUBE-SVC-") && !left.contains("KUBE-SEP-"),
            "{left}"
        );
    }
}
