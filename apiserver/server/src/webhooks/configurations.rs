//! The webhook configurations, kept in memory: every client write (and connect) asks
//! which webhooks match, so reading them from storage each time would cost every write.
//! A follower reads a kind's configurations again after each write to it, and the write
//! of a configuration is acknowledged only once the view includes it: the next request
//! is admitted by what it says. (Upstream's informer catches up a moment later; clients
//! that create a webhook and then the object it guards expect it to hold right away.)

use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use rkube_api::{ApiError, Resource};
use serde_json::Value;
use tokio::sync::watch;

use super::{configuration_resource, Hook};
use crate::registry::{ListOptions, Registry};

pub const MUTATING: &str = "mutatingwebhookconfigurations";
pub const VALIDATING: &str = "validatingwebhookconfigurations";

/// How often the configurations are read again with no write to them.
const RESYNC: Duration = Duration::from_secs(60);
/// How soon a failed read is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// The longest a configuration's write waits for the view (several read retries).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(5);

/// The webhooks of both kinds of configuration.
#[derive(Default)]
pub struct Configurations {
    mutating: View,
    validating: View,
}

struct View {
    /// Every webhook of every configuration, in configuration-name order.
    hooks: RwLock<Arc<[Hook]>>,
    /// The store revision `hooks` were read at.
    revision: watch::Sender<u64>,
}

impl Default for View {
    fn default() -> View {
        View {
            hooks: RwLock::new(Arc::from([])),
            revision: watch::Sender::new(0),
        }
    }
}

impl Configurations {
    fn view(&self, plural: &str) -> Option<&View> {
        match plural {
            MUTATING => Some(&self.mutating),
            VALIDATING => Some(&self.validating),
            _ => None,
        }
    }

    /// The webhooks of every configuration of `plural`, in configuration-name order.
    pub(super) fn hooks(&self, plural: &str) -> Arc<[Hook]> {
        self.view(plural)
            .map(|v| v.hooks.read().clone())
            .unwrap_or_else(|| Arc::from([]))
    }

    /// Returns once the view includes a write of `r` at `revision`; at once for every
    /// resource but the webhook configurations.
    pub async fn include_write(&self, r: &Resource, revision: u64) {
        if r.group != "admissionregistration.k8s.io" {
            return;
        }
        let Some(view) = self.view(r.plural) else {
            return;
        };
        let mut seen = view.revision.subscribe();
        let caught_up = tokio::time::timeout(CATCH_UP_LIMIT, async {
            seen.wait_for(|rev| *rev >= revision).await.is_ok()
        })
        .await
        .unwrap_or(false);
        if !caught_up {
            tracing::warn!(
                "{}: revision {revision} is not yet in effect for admission",
                r.plural
            );
        }
    }

    fn replace(&self, plural: &str, hooks: Vec<Hook>, revision: u64) {
        let Some(view) = self.view(plural) else {
            return;
        };
        // The start-up read and the follower may finish out of order: keep the newer.
        view.revision.send_if_modified(|seen| {
            if revision < *seen {
                return false;
            }
            *view.hooks.write() = hooks.into();
            let advanced = revision > *seen;
            *seen = revision;
            advanced
        });
    }
}

/// Read the configurations of `plural` into the view.
async fn refresh(registry: &Registry, plural: &'static str) -> Result<(), ApiError> {
    let listed = registry
        .list(
            configuration_resource(plural),
            None,
            &ListOptions::default(),
        )
        .await?;
    let mut hooks = Vec::new();
    for bytes in &listed.items {
        let Ok(config) = serde_json::from_slice::<Value>(bytes) else {
            continue;
        };
        if let Some(Value::Array(webhooks)) = config.get("webhooks") {
            hooks.extend(webhooks.iter().map(|w| Hook {
                webhook: Arc::new(w.clone()),
            }));
        }
    }
    registry.webhooks.replace(plural, hooks, listed.revision);
    Ok(())
}

/// Read both kinds of configuration; called once at start, before serving.
pub async fn load(registry: &Registry) -> Result<(), ApiError> {
    for plural in [MUTATING, VALIDATING] {
        refresh(registry, plural).await?;
    }
    Ok(())
}

/// Keep the view in step with the stored configurations for as long as the process lives.
pub fn spawn(registry: Arc<Registry>) {
    for plural in [MUTATING, VALIDATING] {
        crate::follow::spawn(
            registry.clone(),
            configuration_resource(plural),
            move |registry| async move {
                match refresh(&registry, plural).await {
                    Ok(()) => RESYNC,
                    Err(e) => {
                        tracing::warn!("{plural}: {}", e.message);
                        RETRY
                    }
                }
            },
        );
    }
}
