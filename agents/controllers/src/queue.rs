//! The work queue every controller shares: kube-runtime's applier (deduplicated keys,
//! one reconcile per object at a time, a bounded number at once) fed by reflector
//! streams, with upstream's per-item exponential backoff on failure.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use kube::runtime::controller::{self, Action};
use kube::runtime::reflector::ObjectRef;
use kube::Resource;

/// Why one reconcile failed; the object is retried with backoff.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("{0}")]
    Other(String),
}

/// HTTP status of an API error, if the error is one.
pub fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

/// Failures per object key: 5 ms doubling up to 1000 s, like client-go's
/// ItemExponentialFailureRateLimiter; a success forgets the key.
#[derive(Default)]
pub struct Retries {
    failures: Mutex<HashMap<String, u32>>,
}

const BASE_DELAY: Duration = Duration::from_millis(5);
const MAX_DELAY: Duration = Duration::from_secs(1000);

impl Retries {
    pub fn failed(&self, key: String) -> Action {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = failures.entry(key).or_insert(0);
        let delay = BASE_DELAY
            .checked_mul(1u32.checked_shl(*n).unwrap_or(u32::MAX))
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY);
        *n = n.saturating_add(1);
        Action::requeue(delay)
    }

    pub fn forget(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// `namespace/name` (or `name`) of an object, the queue's key.
pub fn key_of<K: Resource>(obj: &K) -> String {
    match obj.meta().namespace.as_deref() {
        Some(ns) => format!("{ns}/{}", obj.meta().name.as_deref().unwrap_or("")),
        None => obj.meta().name.clone().unwrap_or_default(),
    }
}

/// Consume an applier's results, logging failures; returns when the queue ends.
pub async fn drive<K, QE>(
    controller: &'static str,
    results: impl Stream<Item = Result<(ObjectRef<K>, Action), controller::Error<SyncError, QE>>>,
) where
    K: Resource,
    K::DynamicType: Debug,
    QE: std::error::Error + 'static,
{
    results
        .for_each(|result| async move {
            match result {
                Ok((obj, _)) => tracing::debug!(controller, %obj, "synced"),
                // A trigger for an object already gone: nothing to do.
                Err(controller::Error::ObjectNotFound(obj)) => {
                    tracing::debug!(controller, %obj, "gone before its sync")
                }
                // A write from a cache that lagged: retried once the cache catches up.
                Err(controller::Error::ReconcilerFailed(SyncError::Api(e), obj))
                    if api_code(&e) == Some(409) =>
                {
                    tracing::debug!(controller, %obj, "conflict, retrying: {e}")
                }
                Err(e) => tracing::warn!(controller, "{e}"),
            }
        })
        .await;
}
