//! Runs the selected tests, `--parallel` at a time, each in a namespace generated for it
//! and deleted when it ends (passed, failed, panicked or timed out).

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;

use crate::client::Api;
use crate::cluster::ClusterFacts;
use crate::snapshot::Snapshots;
use crate::suites::{Ctx, Skip, Test};

/// How long one test may run before it fails as hung.
const TEST_TIMEOUT: Duration = Duration::from_secs(180);

/// Label on every namespace the harness creates, so leftovers can be found.
pub const NAMESPACE_LABEL: &str = "rkube-conformance";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    pub id: String,
    pub area: String,
    pub name: String,
    pub description: String,
    pub status: Status,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    pub seconds: f64,
    pub rkube_only: bool,
    /// Upstream conformance tests this harness test stands for (from coverage.yaml).
    pub upstream: Vec<String>,
}

#[derive(Clone)]
pub struct Runner {
    pub api: Api,
    pub facts: Arc<ClusterFacts>,
    pub snapshots: Arc<Snapshots>,
    pub parallel: usize,
    /// `--image`, for the pods that must run.
    pub image: Option<String>,
    /// Namespaces created and not yet deleted, for cleanup on Ctrl-C.
    live: Arc<Mutex<BTreeSet<String>>>,
}

impl Runner {
    pub fn new(api: Api, facts: ClusterFacts, snapshots: Snapshots, parallel: usize) -> Runner {
        Runner {
            api,
            facts: Arc::new(facts),
            snapshots: Arc::new(snapshots),
            parallel: parallel.max(1),
            image: None,
            live: Arc::default(),
        }
    }

    /// Run `tests`, calling `progress` as each ends; results come back in `tests` order.
    pub async fn run(
        &self,
        tests: &[Test],
        mut progress: impl FnMut(&TestResult),
    ) -> Vec<TestResult> {
        let mut running = JoinSet::new();
        let mut results: Vec<Option<TestResult>> = vec![None; tests.len()];
        let mut next = 0;
        loop {
            while running.len() < self.parallel && next < tests.len() {
                let runner = self.clone();
                let test = tests[next];
                let index = next;
                running.spawn(async move { (index, runner.run_one(test).await) });
                next += 1;
            }
            match running.join_next().await {
                Some(Ok((index, result))) => {
                    progress(&result);
                    results[index] = Some(result);
                }
                Some(Err(e)) => tracing::error!("a test task ended abnormally: {e}"),
                None => break,
            }
        }
        results.into_iter().flatten().collect()
    }

    async fn run_one(&self, test: Test) -> TestResult {
        let started = Instant::now();
        let (status, message) = match self.facts.missing(test.needs) {
            Some(reason) => (Status::Skipped, Some(reason)),
            None => self.run_in_namespace(&test).await,
        };
        TestResult {
            id: test.id(),
            area: test.area.to_string(),
            name: test.name.to_string(),
            description: test.description.to_string(),
            status,
            message,
            seconds: started.elapsed().as_secs_f64(),
            rkube_only: test.rkube_only,
            upstream: Vec::new(),
        }
    }

    async fn run_in_namespace(&self, test: &Test) -> (Status, Option<String>) {
        let ns = match self.create_namespace(test.area).await {
            Ok(ns) => ns,
            Err(e) => {
                return (
                    Status::Failed,
                    Some(format!("creating the test namespace: {e:#}")),
                )
            }
        };
        let cx = Ctx {
            api: self.api.clone(),
            ns: ns.clone(),
            id: test.id(),
            snapshots: self.snapshots.clone(),
            node: self.facts.ready_nodes.first().cloned(),
            image: self.image.clone(),
            cleanup: Arc::default(),
        };
        let cleanup = cx.cleanup.clone();
        let body = AssertUnwindSafe((test.run)(cx)).catch_unwind();
        let outcome = match tokio::time::timeout(TEST_TIMEOUT, body).await {
            Err(_) => (
                Status::Failed,
                Some(format!("timed out after {TEST_TIMEOUT:?}")),
            ),
            Ok(Err(panic)) => (
                Status::Failed,
                Some(format!("panicked: {}", panic_message(&panic))),
            ),
            Ok(Ok(Ok(()))) => (Status::Passed, None),
            Ok(Ok(Err(e))) => match e.downcast_ref::<Skip>() {
                Some(skip) => (Status::Skipped, Some(skip.0.clone())),
                None => (Status::Failed, Some(format!("{e:#}"))),
            },
        };
        let leftovers: Vec<String> = std::mem::take(&mut *cleanup.lock().expect("not poisoned"));
        for path in leftovers.iter().rev() {
            let _ = self.api.delete(path).send().await;
        }
        self.delete_namespace(&ns).await;
        outcome
    }

    async fn create_namespace(&self, area: &str) -> anyhow::Result<String> {
        let body = json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"generateName": format!("rkc-{area}-"), "labels": {NAMESPACE_LABEL: "true"}},
        });
        let created = self
            .api
            .post("/api/v1/namespaces", &body)
            .send()
            .await?
            .expect(201)?;
        let name = created["metadata"]["name"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the created namespace has no name: {created}"))?
            .to_string();
        self.live.lock().expect("not poisoned").insert(name.clone());
        Ok(name)
    }

    async fn delete_namespace(&self, ns: &str) {
        let path = format!("/api/v1/namespaces/{ns}");
        match self.api.delete(&path).send().await {
            Ok(r) if r.status == 200 || r.status == 202 || r.status == 404 => {}
            Ok(r) => eprintln!("warning: DELETE {path} answered {}: {}", r.status, r.text()),
            Err(e) => eprintln!("warning: DELETE {path}: {e:#}"),
        }
        self.live.lock().expect("not poisoned").remove(ns);
    }

    /// Delete every namespace still live (after Ctrl-C aborted the tests).
    pub async fn cleanup(&self) {
        let live: Vec<String> = self
            .live
            .lock()
            .expect("not poisoned")
            .iter()
            .cloned()
            .collect();
        for ns in live {
            self.delete_namespace(&ns).await;
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".into()
    }
}
