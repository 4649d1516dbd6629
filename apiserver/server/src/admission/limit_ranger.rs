//! LimitRanger: the namespace's LimitRanges default the resources of new pods'
//! containers (mutating) and bound containers, pods and claims (validating).

use rkube_api::quota::limit_range;
use rkube_api::{ApiError, Resource};
use rkube_storage::Storage as _;
use serde_json::Value;

use crate::registry::{decode_stored, qualified, storage_error, Registry};

fn is_core(r: &Resource, plural: &str) -> bool {
    r.group.is_empty() && r.plural == plural
}

impl Registry {
    async fn limit_ranges(&self, ns: &str) -> Result<Vec<Value>, ApiError> {
        let lr = rkube_api::resources::find("", "v1", "limitranges").expect("served");
        let listed = self
            .store
            .list(&self.list_prefix(lr, Some(ns)), None)
            .await
            .map_err(|e| storage_error(lr, "", e))?;
        listed.items.iter().map(decode_stored).collect()
    }

    /// Mutating phase, on pod creates: fill in the Container defaults. The pod was
    /// defaulted already; its QoS class follows the new resources. Returns the pod as it
    /// was when something changed.
    pub(crate) async fn apply_limit_range_defaults(
        &self,
        r: &Resource,
        ns: &str,
        obj: &mut Value,
    ) -> Result<Option<Value>, ApiError> {
        if !self.admission.limit_ranger || !is_core(r, "pods") {
            return Ok(None);
        }
        let ranges = self.limit_ranges(ns).await?;
        if ranges.is_empty() {
            return Ok(None);
        }
        let before = obj.clone();
        if !limit_range::apply_pod_defaults(obj, &ranges) {
            return Ok(None);
        }
        rkube_api::defaults::apply(r, obj);
        let qos = rkube_api::defaults::qos_class(obj.get("spec").unwrap_or(&Value::Null));
        if let Some(status) = obj.get_mut("status").and_then(Value::as_object_mut) {
            status.insert("qosClass".into(), Value::String(qos.into()));
        }
        Ok(Some(before))
    }

    /// Validating phase: pods on create, claims on create and update.
    pub(crate) async fn validate_limit_ranges(
        &self,
        r: &Resource,
        ns: &str,
        name: &str,
        obj: &Value,
    ) -> Result<(), ApiError> {
        let pods = is_core(r, "pods");
        if !self.admission.limit_ranger || !(pods || is_core(r, "persistentvolumeclaims")) {
            return Ok(());
        }
        for range in self.limit_ranges(ns).await? {
            let checked = if pods {
                limit_range::validate_pod(obj, &range)
            } else {
                limit_range::validate_claim(obj, &range)
            };
            if let Err(refusal) = checked {
                return Err(ApiError::forbidden(qualified(r), name, &refusal.0));
            }
        }
        Ok(())
    }
}
