//! NamespaceLifecycle: no new objects in a missing or terminating namespace.

use rkube_api::{ApiError, Resource};
use rkube_storage::Storage as _;
use serde_json::{json, Value};

use crate::registry::{decode_stored, meta, qualified, storage_error, Registry};

impl Registry {
    /// Refuse creates in a missing or terminating namespace.
    pub(crate) async fn admit_namespace(
        &self,
        r: &Resource,
        ns: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        if !self.admission.namespace_lifecycle {
            return Ok(());
        }
        let ns_res =
            rkube_api::resources::find("", "v1", "namespaces").expect("namespaces are served");
        let kv = self
            .store
            .get(&self.key(ns_res, None, ns))
            .await
            .map_err(|e| storage_error(ns_res, ns, e))?;
        let Some(kv) = kv else {
            return Err(ApiError::not_found(qualified(ns_res), ns));
        };
        // Every create passes here: skip parsing a namespace that cannot be terminating.
        let contains = |needle: &[u8]| memchr::memmem::find(&kv.value, needle).is_some();
        if !contains(b"\"deletionTimestamp\"") && !contains(b"\"Terminating\"") {
            return Ok(());
        }
        let nsobj = decode_stored(&kv)?;
        if meta::is_deleting(&nsobj)
            || nsobj.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating")
        {
            let mut e = ApiError::forbidden(
                qualified(r),
                name,
                &format!(
                    "unable to create new content in namespace {ns} because it is being terminated"
                ),
            );
            if let Some(d) = e.details.as_mut() {
                d["causes"] = json!([{
                    "reason": "NamespaceTerminating",
                    "message": format!("namespace {ns} is being terminated"),
                    "field": "metadata.namespace",
                }]);
            }
            return Err(e);
        }
        Ok(())
    }
}
