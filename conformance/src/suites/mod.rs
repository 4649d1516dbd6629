//! The harness tests: each is an async function over a `Ctx` (the cluster, its own
//! namespace, the snapshot store), registered with its area, name and what it needs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::client::Api;
use crate::cluster::Component;
use crate::snapshot::Snapshots;

mod apiservices;
mod chunking;
mod clients;
mod configmaps;
mod crd;
mod crud;
mod discovery;
mod endpoints;
mod errors;
mod events;
mod gc;
mod kubelet;
mod namespaces;
mod pods;
mod proxy;
mod quota;
mod resources;
mod running;
mod services;
mod table;
mod validation;
mod watch;
mod workloads;

pub type TestFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;
pub type TestFn = fn(Ctx) -> TestFuture;

/// One harness test.
#[derive(Clone, Copy)]
pub struct Test {
    pub area: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Components the test cannot run without; missing ones make it a named skip.
    pub needs: &'static [Component],
    /// Exercises an rkube extension that upstream Kubernetes does not serve.
    pub rkube_only: bool,
    pub run: TestFn,
}

impl Test {
    pub fn new(
        area: &'static str,
        name: &'static str,
        description: &'static str,
        run: TestFn,
    ) -> Test {
        Test {
            area,
            name,
            description,
            needs: &[],
            rkube_only: false,
            run,
        }
    }

    pub fn needs(mut self, components: &'static [Component]) -> Test {
        self.needs = components;
        self
    }

    pub fn rkube_only(mut self) -> Test {
        self.rkube_only = true;
        self
    }

    /// `area/name`, what `--focus`, `--skip` and coverage.yaml refer to.
    pub fn id(&self) -> String {
        format!("{}/{}", self.area, self.name)
    }
}

/// Every test, in run order.
pub fn all() -> Vec<Test> {
    let mut tests = Vec::new();
    tests.extend(discovery::tests());
    tests.extend(apiservices::tests());
    tests.extend(endpoints::tests());
    tests.extend(errors::tests());
    tests.extend(resources::tests());
    tests.extend(configmaps::tests());
    tests.extend(events::tests());
    tests.extend(namespaces::tests());
    tests.extend(services::tests());
    tests.extend(pods::tests());
    tests.extend(workloads::tests());
    tests.extend(gc::tests());
    tests.extend(quota::tests());
    tests.extend(watch::tests());
    tests.extend(chunking::tests());
    tests.extend(table::tests());
    tests.extend(validation::tests());
    tests.extend(crd::tests());
    tests.extend(clients::tests());
    tests.extend(proxy::tests());
    tests.extend(kubelet::tests());
    tests
}

/// What a running test has: the cluster, its own namespace, the snapshot store.
#[derive(Clone)]
pub struct Ctx {
    pub api: Api,
    /// The namespace generated for this test; deleted when it ends.
    pub ns: String,
    /// `area/name` of the running test.
    pub id: String,
    pub snapshots: Arc<Snapshots>,
    /// A Ready node's name, when the cluster has one.
    pub node: Option<String>,
    /// `--image`: what the pods that must run run (see `running.rs`).
    pub image: Option<String>,
    /// Paths of cluster-scoped objects to delete when the test ends (the namespace's
    /// deletion takes care of the rest).
    pub cleanup: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Ctx {
    /// Path of a namespaced collection in this test's namespace, e.g.
    /// `ns_path("", "v1", "configmaps")` → `/api/v1/namespaces/{ns}/configmaps`.
    pub fn ns_path(&self, group: &str, version: &str, plural: &str) -> String {
        format!(
            "{}/namespaces/{}/{plural}",
            group_prefix(group, version),
            self.ns
        )
    }

    /// Delete the object at `path` when the test ends, however it ends.
    pub fn delete_afterwards(&self, path: impl Into<String>) {
        self.cleanup.lock().expect("not poisoned").push(path.into());
    }

    /// Compare `value`, redacted, with the stored snapshot `name` of this test (or record
    /// it). `expression` says in the snapshot file what was asked, e.g. `GET /api`.
    pub fn snapshot(&self, name: &str, expression: &str, value: &Value) -> anyhow::Result<()> {
        let key = format!("{}__{name}", self.id.replace('/', "__"));
        let redacted = crate::snapshot::redact(value, &[self.ns.as_str()]);
        self.snapshots
            .check(&key, &expression.replace(&self.ns, "{ns}"), &redacted)
    }
}

/// `/api/v1` for the core group, `/apis/{group}/{version}` otherwise.
pub fn group_prefix(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    }
}

/// A test that cannot run here; the runner reports it as skipped with this reason.
#[derive(Debug)]
pub struct Skip(pub String);

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Skip {}

/// Return from a test with a named skip: `return skip("needs …")`.
pub fn skip(reason: impl Into<String>) -> anyhow::Result<()> {
    Err(Skip(reason.into()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for t in all() {
            let id = t.id();
            assert!(seen.insert(id.clone()), "duplicate test id {id}");
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-/".contains(c)),
                "{id}: ids are lowercase words joined by - and one /"
            );
            assert!(!t.description.is_empty(), "{id} has no description");
        }
    }
}
