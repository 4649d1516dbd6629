//! Keeping what the apiserver holds in memory in step with one stored resource: a pass
//! runs, then runs again after every write to the resource (or once the time the pass
//! asked for has gone by). The CRD controller and the admission webhook configurations
//! follow their resources this way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rkube_api::Resource;
use rkube_storage::Storage as _;

use crate::registry::Registry;

/// How long to wait when the store refuses a watch (it is shutting down).
const WATCH_RETRY: Duration = Duration::from_secs(1);

/// Run `pass` for as long as the process lives: now, and again after each write to
/// `r` (in every namespace), or at the latest once the duration it returned has passed.
pub fn spawn<F, Fut>(registry: Arc<Registry>, r: &'static Resource, mut pass: F)
where
    F: FnMut(Arc<Registry>) -> Fut + Send + 'static,
    Fut: Future<Output = Duration> + Send + 'static,
{
    tokio::spawn(async move {
        let prefix = registry.list_prefix(r, None);
        loop {
            // Watch from before the pass: a write it did not see wakes the next one.
            let rev = registry.store.current_revision();
            let wait = pass(registry.clone()).await;
            match registry.store.watch(&prefix, rev) {
                Ok(mut w) => {
                    tokio::select! {
                        _ = w.events.recv() => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Err(_) => tokio::time::sleep(WATCH_RETRY).await,
            }
        }
    });
}
