//! Custom resources served from CustomResourceDefinitions: the live table of what the
//! established CRDs serve (read by routing, discovery and OpenAPI) and the controller
//! that keeps it and the CRDs' status up to date.

mod controller;
pub mod openapi;
pub mod serve;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use parking_lot::RwLock;
use rkube_api::Resource;
use serde_json::Value;

pub use controller::{load, spawn};

/// The custom resources served right now.
#[derive(Default)]
pub struct CustomResources {
    state: RwLock<Served>,
    /// The OpenAPI documents with the custom resources, for one generation.
    documents: parking_lot::Mutex<Option<(u64, Arc<rkube_openapi::OpenApi>)>>,
}

#[derive(Default)]
struct Served {
    by_path: HashMap<(String, String, String), &'static Resource>,
    /// Every served version, groups by name, versions by priority (highest first).
    all: Vec<&'static Resource>,
    /// CRD names whose custom resources are being deleted: no new ones.
    terminating: HashSet<String>,
    /// Bumped whenever what is served changes (OpenAPI documents are rebuilt).
    generation: u64,
}

/// Upstream's kube-aware version order: GA before beta before alpha, higher numbers
/// first, anything else after, by name.
pub fn version_priority(v: &str) -> (u8, i64, i64, String) {
    let parse = |rest: &str| -> Option<(u8, i64, i64)> {
        let (major, tail) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let major: i64 = major.parse().ok()?;
        if tail.is_empty() {
            return Some((0, -major, 0));
        }
        for (level, prefix) in [(1u8, "beta"), (2u8, "alpha")] {
            if let Some(n) = tail.strip_prefix(prefix) {
                let minor: i64 = n.parse().ok()?;
                return Some((level, -major, -minor));
            }
        }
        None
    };
    match v.strip_prefix('v').and_then(parse) {
        Some((level, major, minor)) => (level, major, minor, String::new()),
        None => (3, 0, 0, v.to_string()),
    }
}

impl CustomResources {
    /// The served version `group/version` `plural`, if a CRD serves it.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        self.state
            .read()
            .by_path
            .get(&(group.to_string(), version.to_string(), plural.to_string()))
            .copied()
    }

    /// Every served custom resource version.
    pub fn all(&self) -> Vec<&'static Resource> {
        self.state.read().all.clone()
    }

    pub fn generation(&self) -> u64 {
        self.state.read().generation
    }

    /// The OpenAPI documents including the custom resources; None while there are none
    /// (the built-in documents are served then).
    pub fn openapi(&self) -> Option<Arc<rkube_openapi::OpenApi>> {
        let (generation, all) = {
            let state = self.state.read();
            (state.generation, state.all.clone())
        };
        if all.is_empty() {
            return None;
        }
        let mut cached = self.documents.lock();
        if let Some((g, docs)) = cached.as_ref() {
            if *g == generation {
                return Some(docs.clone());
            }
        }
        let docs = openapi::build(&all);
        *cached = Some((generation, docs.clone()));
        Some(docs)
    }

    /// Whether the CRD of `r` is terminating (its objects are being deleted).
    pub fn is_terminating(&self, r: &Resource) -> bool {
        r.custom
            .is_some_and(|c| self.state.read().terminating.contains(&c.crd_name))
    }

    /// Serve what `crds` (every CRD, as stored) define: the versions of the established
    /// ones.
    pub fn replace(&self, crds: &[Value]) {
        let mut all: Vec<&'static Resource> = Vec::new();
        let mut terminating = HashSet::new();
        for crd in crds {
            if rkube_api::crd::condition_true(crd, "Terminating")
                || crate::registry::meta::is_deleting(crd)
            {
                if let Some(n) = crd.pointer("/metadata/name").and_then(Value::as_str) {
                    terminating.insert(n.to_string());
                }
            }
            if rkube_api::crd::condition_true(crd, "Established") {
                all.extend(rkube_api::crd::served_resources(crd));
            }
        }
        all.sort_by(|a, b| {
            (a.group, version_priority(a.version), a.plural).cmp(&(
                b.group,
                version_priority(b.version),
                b.plural,
            ))
        });
        let by_path = all
            .iter()
            .map(|r| {
                (
                    (
                        r.group.to_string(),
                        r.version.to_string(),
                        r.plural.to_string(),
                    ),
                    *r,
                )
            })
            .collect();
        let mut state = self.state.write();
        let changed = state.all.len() != all.len()
            || state
                .all
                .iter()
                .zip(&all)
                .any(|(a, b)| !std::ptr::eq(*a, *b));
        state.by_path = by_path;
        state.all = all;
        state.terminating = terminating;
        if changed {
            state.generation += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_aware_version_order() {
        let mut vs = vec!["v1alpha1", "v2", "foo", "v1", "v2beta1", "v1beta2", "v10"];
        vs.sort_by_key(|v| version_priority(v));
        assert_eq!(
            vs,
            ["v10", "v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]
        );
    }
}
