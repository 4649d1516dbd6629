//! One sync: render the desired rules, send the kernel what differs (everything on a full
//! sync, only changed and removed chains otherwise), then delete stale UDP conntrack
//! entries. After a failed restore the next sync is full, as upstream's.

use crate::conntrack::{Conntrack, UdpView};
use crate::iptables::{IptablesError, IptablesRestore};
use crate::render::{ProxyRules, ProxyState, RenderConfig};
use crate::restore::{restore_input, Applied, Saved, TableChanges};
use crate::ruleset::{Jump, TableName};

/// What a sync did, for logs and metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub full: bool,
    /// `iptables-restore` runs (0 when nothing changed).
    pub restores: usize,
    pub chains_written: usize,
    pub chains_deleted: usize,
    /// Rules of the whole desired ruleset, per table (filter, nat).
    pub filter_rules: usize,
    pub nat_rules: usize,
    pub conntrack_deletes: usize,
    /// Time spent rendering and diffing, and in iptables-save / iptables-restore.
    pub render: std::time::Duration,
    pub iptables: std::time::Duration,
}

pub struct Syncer<I, C> {
    ipt: I,
    conntrack: C,
    config: RenderConfig,
    applied: Applied,
    need_full: bool,
    udp: Option<UdpView>,
    last_inputs: Vec<(TableName, String)>,
}

impl<I: IptablesRestore, C: Conntrack> Syncer<I, C> {
    pub fn new(ipt: I, conntrack: C, config: RenderConfig) -> Self {
        Syncer {
            ipt,
            conntrack,
            config,
            applied: Applied::default(),
            need_full: true,
            udp: None,
            last_inputs: Vec::new(),
        }
    }

    pub fn config(&self) -> &RenderConfig {
        &self.config
    }

    /// The `iptables-restore` inputs of the last sync (for benchmarks and debugging).
    pub fn last_inputs(&self) -> &[(TableName, String)] {
        &self.last_inputs
    }

    /// The next sync will be full (a failure, or the periodic resync).
    pub fn needs_full(&self) -> bool {
        self.need_full
    }

    pub fn sync(
        &mut self,
        state: &ProxyState,
        force_full: bool,
    ) -> Result<SyncReport, IptablesError> {
        let full = force_full || self.need_full;
        let started = std::time::Instant::now();
        let rules = ProxyRules::render(&self.config, state);
        let jumps = ProxyRules::jumps(&self.config);
        let mut report = SyncReport {
            full,
            filter_rules: rules.filter.rule_count(),
            nat_rules: rules.nat.rule_count(),
            ..SyncReport::default()
        };
        self.last_inputs.clear();
        for table in TableName::ALL {
            let desired = rules.table(table);
            let changes = if full {
                let t = std::time::Instant::now();
                let saved = self.ipt.save(table)?;
                report.iptables += t.elapsed();
                self.full_changes(table, desired, &jumps, &saved)
            } else {
                self.applied.partial(table, desired)
            };
            if changes.is_empty() {
                continue;
            }
            let input = restore_input(table, &changes);
            let t = std::time::Instant::now();
            let restored = self.ipt.restore(table, &input);
            report.iptables += t.elapsed();
            if let Err(e) = restored {
                // What the kernel holds is unknown now: start over with a full sync.
                self.need_full = true;
                self.applied.clear();
                return Err(e);
            }
            self.applied.record(table, &changes);
            self.last_inputs.push((table, input));
            report.restores += 1;
            report.chains_written += changes.write.len();
            report.chains_deleted += changes.delete.len();
        }
        self.need_full = false;
        report.render = started.elapsed().saturating_sub(report.iptables);

        let udp = UdpView::of(state);
        if let Some(old) = &self.udp {
            for args in old.stale_entries(&udp) {
                self.conntrack.delete(&args);
                report.conntrack_deletes += 1;
            }
        }
        self.udp = Some(udp);
        Ok(report)
    }

    /// Every chain, the deletion of stale service chains left in the kernel (by an
    /// earlier run, say), and the jumps from built-in chains that are missing.
    fn full_changes<'a>(
        &self,
        table: TableName,
        desired: &'a crate::ruleset::Table,
        jumps: &'a [Jump],
        saved: &str,
    ) -> TableChanges<'a> {
        let saved = Saved::parse(saved);
        let mut changes = self.applied.full(table, desired, saved.service_chains());
        changes.insert = jumps
            .iter()
            .filter(|j| j.table == table && !saved.has_jump(j))
            .collect();
        changes
    }
}

#[cfg(test)]
#[path = "syncer_tests.rs"]
mod tests;
