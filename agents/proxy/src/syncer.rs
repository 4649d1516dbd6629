//! One sync: render the desired rules, send the kernel what differs (everything on a full
//! sync, only changed and removed chains otherwise), then delete stale UDP conntrack
//! entries. After a failed restore the next sync is full, as upstream's.
//!
//! Rendering is incremental ([`RenderCache`]): a partial sync renders only the service
//! ports whose Service or endpoints changed, and compares only their chains and the
//! top-level chains with what the kernel holds. Given the service ports that changed
//! ([`RuleSyncer::sync_changed`]), it looks at no other, so its cost follows the change,
//! not the cluster — except when a service port comes, goes or changes its rules in the
//! top-level chains (`KUBE-SERVICES` holds one per service port and is written whole).
//! A full sync (start-up, after a failure, every `--iptables-sync-period`) writes
//! everything; the periodic one renders again only the service ports whose inputs differ
//! from the cache's (at 10,000 services rendering all of them is most of the syncer's
//! own time), the others render everything.
//!
//! Which chains of ours the kernel holds is known from our own successful restores;
//! `iptables-save` (seconds for a big table) runs only at start-up and after a failed
//! restore, to find chains left by an earlier run. A full sync checks the jumps from the
//! built-in chains, as upstream's `EnsureRule` does with `iptables -C`: on nft with
//! `iptables -S <chain>` of those few chains before the restore; on legacy, where any
//! command copies the whole table from the kernel, with `-C` lines in the restore itself
//! (which reads the table anyway). A missing jump fails that restore before it changes
//! anything; then the chains are listed (one save of the table) and the restore runs
//! again, inserting what is missing.

use std::collections::BTreeSet;

use crate::conntrack::{Conntrack, UdpCleanup};
use crate::iptables::{IptablesError, IptablesRestore};
use crate::model::ServicePortName;
use crate::render::{ProxyRules, ProxyState, RenderConfig};
use crate::render_cache::RenderCache;
pub use crate::render_cache::Scope;
use crate::restore::{Applied, Saved};
use crate::ruleset::{Jump, Ruleset, TableName};
use crate::transactions::restore_transactions;

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
    /// `iptables-save` runs (start-up and after a failed restore only).
    pub saves: usize,
    /// Service ports rendered (all on a full sync, the changed ones otherwise).
    pub rendered: usize,
    /// Time spent rendering and diffing, and in iptables-save / iptables-restore.
    pub render: std::time::Duration,
    pub iptables: std::time::Duration,
}

/// A sync engine: iptables ([`Syncer`]) or nftables (`nft::syncer::NftSyncer`).
pub trait RuleSyncer: Send {
    type Error: std::fmt::Display;

    /// Brings the kernel to `state`, looking at the service ports of `scope` (a full sync
    /// whatever the scope when one is due after a failure).
    fn sync_scope(
        &mut self,
        state: &ProxyState,
        scope: Scope<'_>,
    ) -> Result<SyncReport, Self::Error>;

    /// Brings the kernel to `state`: everything when `full` (or after a failure),
    /// otherwise what differs, comparing every service port with the last sync's.
    fn sync(&mut self, state: &ProxyState, full: bool) -> Result<SyncReport, Self::Error> {
        let scope = if full { Scope::All } else { Scope::Compare };
        self.sync_scope(state, scope)
    }

    /// Brings the kernel to `state`, in which only the service ports `changed` differ
    /// from the last sync's state: no other is looked at.
    fn sync_changed(
        &mut self,
        state: &ProxyState,
        changed: &BTreeSet<ServicePortName>,
    ) -> Result<SyncReport, Self::Error> {
        self.sync_scope(state, Scope::Only(changed))
    }
}

pub struct Syncer<I, C> {
    ipt: I,
    conntrack: C,
    config: RenderConfig,
    applied: Applied,
    need_full: bool,
    /// The kernel may hold chains of ours that `applied` does not know (start-up, or a
    /// failed restore): the next full sync looks with `iptables-save`.
    need_save: bool,
    udp: UdpCleanup,
    cache: RenderCache,
    /// The top-level chains as last put together.
    top: Option<Ruleset>,
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
            need_save: true,
            udp: UdpCleanup::default(),
            cache: RenderCache::default(),
            top: None,
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
}

impl<I: IptablesRestore, C: Conntrack> RuleSyncer for Syncer<I, C> {
    type Error = IptablesError;

    fn sync_scope(
        &mut self,
        state: &ProxyState,
        scope: Scope<'_>,
    ) -> Result<SyncReport, IptablesError> {
        let full = matches!(scope, Scope::All) || self.need_full;
        // A service port's rules are a function of its inputs: at start-up and after a
        // failure every one is rendered; a periodic resync compares every one's inputs
        // with the cache's and renders those that differ (it still writes everything);
        // otherwise only the changed ones are looked at.
        let render_scope = match (self.need_full, full) {
            (true, _) => Scope::All,
            (false, true) => Scope::Compare,
            (false, false) => scope,
        };
        let scope = if full { Scope::All } else { scope };
        let started = std::time::Instant::now();
        let update = self.cache.update(&self.config, state, render_scope);
        // The top-level chains hold a rule per service port: they are put together again
        // only when a service port came, went or changed its rules there.
        if update.shared_changed || self.top.is_none() {
            self.top = Some(ProxyRules::top_level(
                &self.config,
                self.cache.in_order(state),
            ));
        }
        let top_changed = full || update.shared_changed;
        let top = self.top.take().unwrap_or_default();
        let jumps = ProxyRules::jumps(&self.config);
        let report_counts = (
            top.filter.rule_count() + self.cache.rule_total(TableName::Filter),
            top.nat.rule_count() + self.cache.rule_total(TableName::Nat),
        );
        let mut report = SyncReport {
            full,
            rendered: update.rendered.len(),
            filter_rules: report_counts.0,
            nat_rules: report_counts.1,
            ..SyncReport::default()
        };
        self.last_inputs.clear();
        for table in TableName::ALL {
            let top_chains = top.table(table).chains.iter().filter(|_| top_changed);
            let mut changes = if full {
                // Over the rules we put in place (no save due), the restore itself can
                // check that the jumps are still there.
                let check_in_restore = !self.need_save && self.ipt.checks_jumps_in_restore();
                let (stale, missing) = if check_in_restore {
                    (Vec::new(), Vec::new())
                } else {
                    let t = std::time::Instant::now();
                    let looked = self.look(table, &jumps);
                    report.iptables += t.elapsed();
                    report.saves += usize::from(self.need_save);
                    looked?
                };
                let write = top_chains
                    .chain(
                        self.cache
                            .in_order(state)
                            .flat_map(move |s| s.chains_of(table)),
                    )
                    .collect();
                let mut changes = self.applied.full_of(table, write, stale);
                changes.insert = missing;
                if check_in_restore {
                    changes.check = jumps.iter().filter(|j| j.table == table).collect();
                }
                changes
            } else {
                let cache = &self.cache;
                let candidates = top_chains.chain(
                    update
                        .rendered
                        .iter()
                        .filter_map(|n| cache.get(n))
                        .flat_map(move |s| s.chains_of(table)),
                );
                let gone = update
                    .gone
                    .iter()
                    .filter(|(t, _)| *t == table)
                    .map(|(_, c)| c.as_str());
                self.applied.changed(table, candidates, gone)
            };
            if changes.is_empty() {
                continue;
            }
            let mut input =
                restore_transactions(table, &changes, self.ipt.max_chains_per_transaction());
            let t = std::time::Instant::now();
            let mut restored = self.ipt.restore(table, &input);
            report.iptables += t.elapsed();
            if restored.is_err() && !changes.check.is_empty() {
                // A jump is missing (or the restore fails for another reason, which the
                // second try shows): look at the built-in chains, insert what is missing.
                let t = std::time::Instant::now();
                restored = self.look(table, &jumps).and_then(|(_, missing)| {
                    changes.check.clear();
                    changes.insert = missing;
                    input = restore_transactions(
                        table,
                        &changes,
                        self.ipt.max_chains_per_transaction(),
                    );
                    self.ipt.restore(table, &input)
                });
                report.iptables += t.elapsed();
            }
            if let Err(e) = restored {
                // What the kernel holds is unknown now: start over with a full sync.
                self.need_full = true;
                self.need_save = true;
                self.applied.clear();
                return Err(e);
            }
            self.applied.record(table, &changes);
            self.last_inputs.push((table, input));
            report.restores += 1;
            report.chains_written += changes.write.len();
            report.chains_deleted += changes.delete.len();
        }
        self.top = Some(top);
        self.need_full = false;
        self.need_save = false;
        report.render = started.elapsed().saturating_sub(report.iptables);

        report.conntrack_deletes = self.udp.after_sync(&self.conntrack, state, scope.only());
        Ok(report)
    }
}

impl<I: IptablesRestore, C: Conntrack> Syncer<I, C> {
    /// What a full sync needs to know of the kernel's `table`: stale service chains of
    /// ours that we did not write (only looked for when `need_save`), and which of our
    /// jumps from the built-in chains are missing there.
    fn look<'j>(
        &self,
        table: TableName,
        jumps: &'j [Jump],
    ) -> Result<(Vec<String>, Vec<&'j Jump>), IptablesError> {
        let ours = jumps.iter().filter(move |j| j.table == table);
        let (stale, present) = if self.need_save {
            let saved = Saved::parse(&self.ipt.save(table)?);
            (saved.service_chains().collect(), saved)
        } else {
            let mut from: Vec<&str> = ours.clone().map(|j| j.from).collect();
            from.sort_unstable();
            from.dedup();
            (
                Vec::new(),
                Saved::parse(&self.ipt.list_chains(table, &from)?),
            )
        };
        let missing = ours.filter(|j| !present.has_jump(j)).collect();
        Ok((stale, missing))
    }
}

#[cfg(test)]
#[path = "syncer_tests.rs"]
mod tests;
