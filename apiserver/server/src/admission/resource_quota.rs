//! ResourceQuota: a write that would take a namespace over one of its quotas is
//! refused, and an admitted one is charged to `status.used` before it is stored —
//! compare-and-swap on each quota, so concurrent writes can never share the last unit.
//! A charge whose write then fails is given back; the resourcequota controller
//! recomputes usage from the objects (and so also frees what deletes release).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use rkube_api::quota::evaluate::{self, Charged};
use rkube_api::quota::{usage, ResourceList};
use rkube_api::{ApiError, Resource};
use rkube_storage::Storage as _;
use serde_json::Value;

use crate::registry::{decode_stored, qualified, storage_error, Registry, WriteOptions};

/// What an admitted write was charged, to give back if the write does not happen.
#[derive(Debug, Default)]
#[must_use = "a charge is kept or refunded"]
pub struct QuotaCharge {
    namespace: String,
    charged: Vec<(String, ResourceList)>,
}

fn quotas_resource() -> &'static Resource {
    rkube_api::resources::find("", "v1", "resourcequotas").expect("resourcequotas are served")
}

fn status_write() -> WriteOptions {
    WriteOptions {
        subresource: Some("status".into()),
        field_manager: "kube-apiserver".into(),
        ..WriteOptions::default()
    }
}

/// How one compare-and-swap attempt on a quota ended, besides writing it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Skipped {
    No,
    Unchanged,
    UsageUnknown,
}

/// Upstream evaluates usage on creates of anything and on updates only of the kinds
/// whose usage an update can change.
fn evaluated_on_update(r: &Resource) -> bool {
    r.group.is_empty() && matches!(r.plural, "pods" | "services" | "persistentvolumeclaims")
}

impl Registry {
    async fn list_values(&self, r: &Resource, ns: &str) -> Result<Vec<Value>, ApiError> {
        let listed = self
            .store
            .list(&self.list_prefix(r, Some(ns)), None)
            .await
            .map_err(|e| storage_error(r, "", e))?;
        listed.items.iter().map(decode_stored).collect()
    }

    /// Charge the write of `obj` (replacing `old` on updates) to the quotas that cover
    /// it. With `dry_run` the quotas are checked, not charged.
    pub(crate) async fn charge_quotas(
        &self,
        r: &Resource,
        ns: &str,
        name: &str,
        obj: &Value,
        old: Option<&Value>,
        dry_run: bool,
    ) -> Result<QuotaCharge, ApiError> {
        let mut charge = QuotaCharge {
            namespace: ns.to_string(),
            charged: Vec::new(),
        };
        if !self.admission.resource_quota
            || !r.namespaced
            || (old.is_some() && !evaluated_on_update(r))
        {
            return Ok(charge);
        }
        let quotas = self.list_values(quotas_resource(), ns).await?;
        if quotas.is_empty() {
            return Ok(charge);
        }
        let refused =
            |refusal: evaluate::Refusal| ApiError::forbidden(qualified(r), name, &refusal.0);
        let covering =
            evaluate::covering_quotas(&quotas, r.group, r.plural, obj).map_err(refused)?;
        if covering.is_empty() {
            return Ok(charge);
        }
        let delta = evaluate::charge(r.group, r.plural, obj, old).map_err(refused)?;
        if delta.is_empty() {
            return Ok(charge);
        }
        for (i, limited) in covering {
            let quota_name = evaluate::name_of(&quotas[i]).to_string();
            let result = if dry_run {
                self.check_quota(r, name, &quotas[i], &limited, &delta)
                    .await
            } else {
                self.charge_quota(r, ns, name, &quota_name, &limited, &delta)
                    .await
            };
            match result {
                Ok(true) if !dry_run => charge.charged.push((quota_name, delta.clone())),
                Ok(_) => {}
                Err(e) => {
                    self.refund_quotas(charge).await;
                    return Err(e);
                }
            }
        }
        Ok(charge)
    }

    /// A dry run's check of one quota as read, without writing it.
    async fn check_quota(
        &self,
        r: &Resource,
        name: &str,
        quota: &Value,
        limited: &[String],
        delta: &ResourceList,
    ) -> Result<bool, ApiError> {
        let refused =
            |refusal: evaluate::Refusal| ApiError::forbidden(qualified(r), name, &refusal.0);
        match evaluate::charge_quota(quota, limited, delta, None).map_err(refused)? {
            Charged::UsageUnknown => {
                let ns = quota
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let known = self.count_usage(ns, quota).await?;
                evaluate::charge_quota(quota, limited, delta, Some(&known)).map_err(refused)?;
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// Add `delta` to one quota's usage by compare-and-swap; false when the quota is
    /// gone or does not limit what the write consumes.
    async fn charge_quota(
        &self,
        r: &Resource,
        ns: &str,
        name: &str,
        quota_name: &str,
        limited: &[String],
        delta: &ResourceList,
    ) -> Result<bool, ApiError> {
        let mut known: Option<ResourceList> = None;
        loop {
            let mut skipped = Skipped::No;
            let result = self
                .guaranteed_update(
                    quotas_resource(),
                    Some(ns),
                    quota_name,
                    &status_write(),
                    |current| {
                        skipped = Skipped::No;
                        let Some(current) = current else {
                            skipped = Skipped::Unchanged;
                            return Err(ApiError::internal("quota gone"));
                        };
                        match evaluate::charge_quota(current, limited, delta, known.as_ref()) {
                            Ok(Charged::Updated(next)) => Ok(next),
                            Ok(Charged::Unchanged) => {
                                skipped = Skipped::Unchanged;
                                Err(ApiError::internal("nothing to charge"))
                            }
                            Ok(Charged::UsageUnknown) => {
                                skipped = Skipped::UsageUnknown;
                                Err(ApiError::internal("usage unknown"))
                            }
                            Err(refusal) => {
                                Err(ApiError::forbidden(qualified(r), name, &refusal.0))
                            }
                        }
                    },
                )
                .await;
            match (result, skipped) {
                (Ok(_), _) => return Ok(true),
                (Err(_), Skipped::Unchanged) => return Ok(false),
                (Err(_), Skipped::UsageUnknown) if known.is_none() => {
                    let (quota, _) = self
                        .get_value(quotas_resource(), Some(ns), quota_name)
                        .await?;
                    known = Some(self.count_usage(ns, &quota).await?);
                }
                (Err(e), _) => return Err(e),
            }
        }
    }

    /// What the objects in `ns` use of everything `quota` limits, counted from storage
    /// (for a quota the controller has not synced yet).
    async fn count_usage(&self, ns: &str, quota: &Value) -> Result<ResourceList, ApiError> {
        let mut objects: HashMap<(String, String), Vec<Value>> = HashMap::new();
        for name in evaluate::hard(quota).keys() {
            let Some((group, plural)) = usage::tracked_resource(name) else {
                continue;
            };
            if objects.contains_key(&(group.clone(), plural.clone())) {
                continue;
            }
            let listed = match rkube_api::RESOURCES
                .iter()
                .find(|r| r.group == group && r.plural == plural && r.namespaced)
            {
                Some(r) => self.list_values(r, ns).await?,
                None => Vec::new(),
            };
            objects.insert((group, plural), listed);
        }
        Ok(evaluate::recompute(quota, |group, plural| {
            objects
                .get(&(group.to_string(), plural.to_string()))
                .map(|v| v.iter().collect())
                .unwrap_or_default()
        }))
    }

    /// Give a charge back (best effort: the controller's recount corrects what fails).
    /// Boxed: it writes through the write path that calls it.
    pub(crate) fn refund_quotas(
        &self,
        charge: QuotaCharge,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            for (quota_name, delta) in &charge.charged {
                let result = self
                    .guaranteed_update(
                        quotas_resource(),
                        Some(&charge.namespace),
                        quota_name,
                        &status_write(),
                        |current| {
                            current
                                .and_then(|q| evaluate::refund_quota(q, delta))
                                .ok_or_else(|| ApiError::internal("nothing to refund"))
                        },
                    )
                    .await;
                if let Err(e) = result {
                    tracing::debug!(quota = %quota_name, "refund not written: {e}");
                }
            }
        })
    }
}
