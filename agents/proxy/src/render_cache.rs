//! Incremental rendering: the rules of every service port from the last sync, kept with
//! the Service port and endpoints they were rendered from. A sync re-renders only the
//! service ports whose inputs differ (a full sync re-renders all of them), so a
//! one-service change at 10,000 services renders one service, not 10,000.
//!
//! Which service ports a sync looks at is its [`Scope`]. With [`Scope::Compare`] every
//! service port's inputs are compared with the cached ones: level-triggered, nothing
//! depends on having seen every watch event. With [`Scope::Only`] the caller names the
//! service ports that may have changed (the proxier knows them from the watch events)
//! and only those are looked at, so a one-service change costs the same at 10 services
//! as at 10,000; the totals a sync reports (endpoints for the large-cluster mode, rules
//! for the metrics) are kept up to date entry by entry for that. Every
//! `--iptables-sync-period` the sync is full, so a change the caller failed to name
//! cannot outlive one period.

use std::collections::{BTreeSet, HashMap};

use crate::model::{Endpoint, ServicePort, ServicePortName};
use crate::render::{
    is_large_cluster, ProxyRules, ProxyState, RenderConfig, ServiceRules, LARGE_CLUSTER_ENDPOINTS,
};
use crate::ruleset::TableName;

/// What a service port's rendering puts into the kernel, as far as a later change may
/// have to remove it: chains, and in nftables mode map elements and sets.
pub trait Rendered {
    type Part: PartialEq + Clone + std::fmt::Debug;
    fn parts(&self) -> Vec<Self::Part>;
    /// Whether anything outside the service's own chains differs from `other`'s
    /// (iptables: its rules in the top-level chains).
    fn shared_differs(&self, other: &Self) -> bool;
    /// Rules in the service port's own chains in `table` (for the sync's report).
    fn rule_count(&self, table: TableName) -> usize;
}

impl Rendered for ServiceRules {
    type Part = (TableName, String);
    fn parts(&self) -> Vec<Self::Part> {
        self.chains
            .iter()
            .map(|(t, c)| (*t, c.name.clone()))
            .collect()
    }

    fn shared_differs(&self, other: &Self) -> bool {
        self.top != other.top
    }

    fn rule_count(&self, table: TableName) -> usize {
        self.chains_of(table).map(|c| c.rules.len()).sum()
    }
}

/// Which service ports a sync renders or compares.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    /// Every service port is rendered again (a full sync).
    All,
    /// Every service port's inputs are compared with the cached ones.
    Compare,
    /// Only these service ports may differ from the cache; no other is looked at. A name
    /// that `state` no longer has is a removed service port.
    Only(&'a BTreeSet<ServicePortName>),
}

impl<'a> Scope<'a> {
    /// The named service ports, with [`Scope::Only`].
    pub fn only(self) -> Option<&'a BTreeSet<ServicePortName>> {
        match self {
            Scope::Only(names) => Some(names),
            Scope::All | Scope::Compare => None,
        }
    }
}

struct Entry<R> {
    svc: ServicePort,
    endpoints: Vec<Endpoint>,
    rules: R,
}

/// What one [`RenderCache::update`] changed.
#[derive(Debug)]
pub struct Update<P> {
    /// Service ports rendered anew (new, or their Service or endpoints changed).
    pub rendered: Vec<ServicePortName>,
    /// What a re-rendered or removed service port had and no longer has.
    pub gone: Vec<P>,
    /// A service port came, went, or changed what it puts outside its own chains.
    pub shared_changed: bool,
}

pub struct RenderCache<R = ServiceRules> {
    /// Upstream's large cluster mode changes every service's rules: when it flips,
    /// everything is rendered again.
    large_cluster: Option<bool>,
    entries: HashMap<ServicePortName, Entry<R>>,
    /// Endpoints over all entries, and rules per table ([`TableName::ALL`]'s order).
    endpoints: usize,
    rules: [usize; 2],
}

impl<R> Default for RenderCache<R> {
    fn default() -> Self {
        RenderCache {
            large_cluster: None,
            entries: HashMap::new(),
            endpoints: 0,
            rules: [0; 2],
        }
    }
}

fn table_index(table: TableName) -> usize {
    match table {
        TableName::Filter => 0,
        TableName::Nat => 1,
    }
}

impl RenderCache<ServiceRules> {
    /// Brings the cache to `state` with iptables rules.
    pub fn update(
        &mut self,
        config: &RenderConfig,
        state: &ProxyState,
        scope: Scope<'_>,
    ) -> Update<(TableName, String)> {
        self.update_with(state, scope, |svc, eps, large| {
            ProxyRules::render_service(config, large, svc, eps)
        })
    }
}

impl<R: Rendered> RenderCache<R> {
    /// Brings the cache to `state` within `scope`, rendering with `render(service port,
    /// endpoints, large cluster)`.
    pub fn update_with(
        &mut self,
        state: &ProxyState,
        scope: Scope<'_>,
        render: impl Fn(&ServicePort, &[Endpoint], bool) -> R,
    ) -> Update<R::Part> {
        let large = match scope {
            Scope::Only(names) => self.endpoints_after(state, names) > LARGE_CLUSTER_ENDPOINTS,
            Scope::All | Scope::Compare => is_large_cluster(state),
        };
        let scope = if self.large_cluster == Some(large) {
            scope
        } else {
            Scope::All
        };
        self.large_cluster = Some(large);
        let all = matches!(scope, Scope::All);
        let mut out = Update {
            rendered: Vec::new(),
            gone: Vec::new(),
            shared_changed: all,
        };
        match scope {
            Scope::Only(names) => {
                for name in names {
                    self.update_one(state, name, false, large, &render, &mut out);
                }
            }
            Scope::All | Scope::Compare => {
                let removed: Vec<ServicePortName> = self
                    .entries
                    .keys()
                    .filter(|n| !state.services.contains_key(*n))
                    .cloned()
                    .collect();
                for name in removed.iter().chain(state.services.keys()) {
                    self.update_one(state, name, all, large, &render, &mut out);
                }
            }
        }
        out
    }

    /// The endpoint total once the entries of `names` follow `state`.
    fn endpoints_after(&self, state: &ProxyState, names: &BTreeSet<ServicePortName>) -> usize {
        let (mut added, mut removed) = (0, 0);
        for name in names {
            removed += self.entries.get(name).map_or(0, |e| e.endpoints.len());
            if state.services.contains_key(name) {
                added += state.endpoints_of(name).len();
            }
        }
        (self.endpoints + added).saturating_sub(removed)
    }

    /// Brings `name`'s entry to `state` (rendering it when `all` or its inputs differ).
    fn update_one(
        &mut self,
        state: &ProxyState,
        name: &ServicePortName,
        all: bool,
        large: bool,
        render: &impl Fn(&ServicePort, &[Endpoint], bool) -> R,
        out: &mut Update<R::Part>,
    ) {
        let Some(svc) = state.services.get(name) else {
            if let Some(old) = self.entries.remove(name) {
                self.count(&old, false);
                out.gone.extend(old.rules.parts());
                out.shared_changed = true;
            }
            return;
        };
        let endpoints = state.endpoints_of(name);
        let old = self.entries.get(name);
        if !all && old.is_some_and(|e| e.svc == *svc && e.endpoints == endpoints) {
            return;
        }
        let rules = render(svc, endpoints, large);
        out.shared_changed |= old.is_none_or(|o| o.rules.shared_differs(&rules));
        let new = rules.parts();
        let entry = Entry {
            svc: svc.clone(),
            endpoints: endpoints.to_vec(),
            rules,
        };
        self.count(&entry, true);
        if let Some(old) = self.entries.insert(name.clone(), entry) {
            self.count(&old, false);
            out.gone
                .extend(old.rules.parts().into_iter().filter(|p| !new.contains(p)));
        }
        out.rendered.push(name.clone());
    }

    /// Adds `entry` to the totals, or takes it out.
    fn count(&mut self, entry: &Entry<R>, add: bool) {
        let apply = |total: &mut usize, n: usize| {
            *total = if add {
                *total + n
            } else {
                total.saturating_sub(n)
            }
        };
        apply(&mut self.endpoints, entry.endpoints.len());
        for table in TableName::ALL {
            apply(
                &mut self.rules[table_index(table)],
                entry.rules.rule_count(table),
            );
        }
    }

    pub fn get(&self, name: &ServicePortName) -> Option<&R> {
        self.entries.get(name).map(|e| &e.rules)
    }

    /// Rules of every cached service port's own chains in `table`.
    pub fn rule_total(&self, table: TableName) -> usize {
        self.rules[table_index(table)]
    }

    /// The cached rules of `state`'s service ports, in its order.
    pub fn in_order<'a>(&'a self, state: &'a ProxyState) -> impl Iterator<Item = &'a R> + 'a {
        state.services.keys().filter_map(|n| self.get(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render_tests::fixed_state;

    #[test]
    fn only_changed_services_are_rendered_again_and_the_result_is_a_full_render() {
        let config = RenderConfig::default();
        let mut state = fixed_state();
        let mut cache = RenderCache::default();
        let first = cache.update(&config, &state, Scope::Compare);
        assert_eq!(first.rendered.len(), state.services.len());
        assert!(cache
            .update(&config, &state, Scope::Compare)
            .rendered
            .is_empty());
        assert_eq!(
            cache.update(&config, &state, Scope::All).rendered.len(),
            state.services.len()
        );

        // One service's endpoint moves: only it is rendered, its old endpoint chain goes.
        let name = state
            .services
            .keys()
            .find(|n| n.name == "svc1")
            .unwrap()
            .clone();
        let eps = state.endpoints.get_mut(&name).unwrap();
        eps[0].ip = "10.9.9.9".parse().unwrap();
        let update = cache.update(&config, &state, Scope::Compare);
        assert_eq!(update.rendered, std::slice::from_ref(&name));
        assert_eq!(update.gone.len(), 1, "{:?}", update.gone);
        assert!(update.gone[0].1.starts_with("KUBE-SEP-"));

        // The cached pieces put together are exactly what a full render gives.
        let whole = ProxyRules::render(&config, &state);
        let mut top = ProxyRules::top_level(&config, cache.in_order(&state));
        for rules in cache.in_order(&state) {
            for (t, c) in &rules.chains {
                top.table_mut(*t).declare(&c.name);
                for r in &c.rules {
                    top.table_mut(*t).rule(&c.name, r.clone());
                }
            }
        }
        assert_eq!(top, whole);

        // A removed service's chains are all gone.
        state.services.remove(&name);
        let update = cache.update(&config, &state, Scope::Compare);
        assert!(update.rendered.is_empty());
        assert!(update.gone.len() >= 2, "{:?}", update.gone);
    }
}
