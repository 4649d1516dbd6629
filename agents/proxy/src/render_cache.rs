//! Incremental rendering: the rules of every service port from the last sync, kept with
//! the Service port and endpoints they were rendered from. A sync re-renders only the
//! service ports whose inputs differ (a full sync re-renders all of them), so a
//! one-service change at 10,000 services renders one service, not 10,000.
//!
//! Comparing a service port's inputs with the cached ones is level-triggered: nothing
//! depends on having seen every watch event, and a missed one cannot leave stale rules.

use std::collections::HashMap;

use crate::model::{Endpoint, ServicePort, ServicePortName};
use crate::render::{is_large_cluster, ProxyRules, ProxyState, RenderConfig, ServiceRules};
use crate::ruleset::TableName;

/// What a service port's rendering puts into the kernel, as far as a later change may
/// have to remove it: chains, and in nftables mode map elements and sets.
pub trait Rendered {
    type Part: PartialEq + Clone + std::fmt::Debug;
    fn parts(&self) -> Vec<Self::Part>;
    /// Whether anything outside the service's own chains differs from `other`'s
    /// (iptables: its rules in the top-level chains).
    fn shared_differs(&self, other: &Self) -> bool;
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
}

impl<R> Default for RenderCache<R> {
    fn default() -> Self {
        RenderCache {
            large_cluster: None,
            entries: HashMap::new(),
        }
    }
}

impl RenderCache<ServiceRules> {
    /// Brings the cache to `state` with iptables rules; `all` re-renders everything.
    pub fn update(
        &mut self,
        config: &RenderConfig,
        state: &ProxyState,
        all: bool,
    ) -> Update<(TableName, String)> {
        self.update_with(state, all, |svc, eps, large| {
            ProxyRules::render_service(config, large, svc, eps)
        })
    }
}

impl<R: Rendered> RenderCache<R> {
    /// Brings the cache to `state`, rendering with `render(service port, endpoints,
    /// large cluster)`; `all` re-renders every service port.
    pub fn update_with(
        &mut self,
        state: &ProxyState,
        all: bool,
        render: impl Fn(&ServicePort, &[Endpoint], bool) -> R,
    ) -> Update<R::Part> {
        let large = is_large_cluster(state);
        let all = all || self.large_cluster != Some(large);
        self.large_cluster = Some(large);
        let mut out = Update {
            rendered: Vec::new(),
            gone: Vec::new(),
            shared_changed: all,
        };
        self.entries.retain(|name, entry| {
            let keep = state.services.contains_key(name);
            if !keep {
                out.gone.extend(entry.rules.parts());
                out.shared_changed = true;
            }
            keep
        });
        for (name, svc) in &state.services {
            let endpoints = state.endpoints_of(name);
            let old = self.entries.get(name);
            if !all && old.is_some_and(|e| e.svc == *svc && e.endpoints == endpoints) {
                continue;
            }
            let rules = render(svc, endpoints, large);
            out.shared_changed |= old.is_none_or(|o| o.rules.shared_differs(&rules));
            if let Some(old) = old {
                let new = rules.parts();
                out.gone
                    .extend(old.rules.parts().into_iter().filter(|p| !new.contains(p)));
            }
            self.entries.insert(
                name.clone(),
                Entry {
                    svc: svc.clone(),
                    endpoints: endpoints.to_vec(),
                    rules,
                },
            );
            out.rendered.push(name.clone());
        }
        out
    }

    pub fn get(&self, name: &ServicePortName) -> Option<&R> {
        self.entries.get(name).map(|e| &e.rules)
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
        let first = cache.update(&config, &state, false);
        assert_eq!(first.rendered.len(), state.services.len());
        assert!(cache.update(&config, &state, false).rendered.is_empty());
        assert_eq!(
            cache.update(&config, &state, true).rendered.len(),
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
        let update = cache.update(&config, &state, false);
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
        let update = cache.update(&config, &state, false);
        assert!(update.rendered.is_empty());
        assert!(update.gone.len() >= 2, "{:?}", update.gone);
    }
}
