//! The one generic store: every resource goes through these operations; what differs
//! per resource comes from its strategy (defaults, validation, status split, tables).

pub mod alloc;
pub mod convert;
mod delete;
pub mod list;
pub mod meta;
pub mod write;

use bytes::Bytes;
use rkube_api::{ApiError, Qualified, Resource};
use rkube_storage::{EmbeddedStore, KeyValue, Render, StorageError};
use serde_json::{json, Value};

pub use delete::DeleteOptions;
pub use list::{ListOptions, ListOutcome};
pub use write::{FieldValidation, WriteOptions};

pub type Store = EmbeddedStore;

/// The generic registry over one storage backend.
pub struct Registry {
    pub store: Store,
    prefix: String,
    pub services: alloc::ServiceAllocator,
    pub admission: crate::admission::Admission,
    /// What the established CustomResourceDefinitions serve.
    pub crds: crate::crd::CustomResources,
    /// The admission webhook configurations.
    pub(crate) webhooks: crate::webhooks::Configurations,
}

pub fn qualified(r: &Resource) -> Qualified<'static> {
    Qualified {
        group: r.group,
        resource: r.plural,
    }
}

/// Map a storage error to the upstream Status of the operation on `name`.
pub fn storage_error(r: &Resource, name: &str, e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound(_) => ApiError::not_found(qualified(r), name),
        StorageError::AlreadyExists(_) => ApiError::already_exists(qualified(r), name),
        StorageError::Conflict { .. } => ApiError::stale(qualified(r), name),
        StorageError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(requested, compacted),
        StorageError::FutureRevision { requested, current } => ApiError::timeout(format!(
            "Too large resource version: {requested}, current: {current}"
        )),
        StorageError::Io(msg) => ApiError::internal(msg),
        StorageError::Closed => ApiError::service_unavailable("storage is shutting down"),
    }
}

/// Stands in for the resourceVersion until the write's revision is known. The NULs make
/// it impossible to confuse with a real value (JSON escapes them).
const RV_PLACEHOLDER: &str = "\u{0}rkube-rv\u{0}";

/// Store an object with its resourceVersion set to the revision of the write.
///
/// The object is encoded here, on the writer's task; the store's single committer
/// thread only splices the revision into the bytes.
pub fn render(mut obj: Value) -> Render {
    meta::meta_mut(&mut obj).insert("resourceVersion".into(), json!(RV_PLACEHOLDER));
    let bytes = serde_json::to_vec(&obj).unwrap_or_default();
    let needle = serde_json::to_vec(RV_PLACEHOLDER).unwrap_or_default();
    match memchr::memmem::find(&bytes, &needle) {
        Some(at) => Box::new(move |rev| {
            let rev = rev.to_string();
            let mut out = Vec::with_capacity(bytes.len() - needle.len() + rev.len() + 2);
            out.extend_from_slice(&bytes[..at]);
            out.push(b'"');
            out.extend_from_slice(rev.as_bytes());
            out.push(b'"');
            out.extend_from_slice(&bytes[at + needle.len()..]);
            Bytes::from(out)
        }),
        None => Box::new(move |rev| encode_with_rv(obj, rev)),
    }
}

pub fn encode_with_rv(mut obj: Value, rev: u64) -> Bytes {
    meta::meta_mut(&mut obj).insert("resourceVersion".into(), json!(rev.to_string()));
    Bytes::from(serde_json::to_vec(&obj).unwrap_or_default())
}

pub fn decode_stored(kv: &KeyValue) -> Result<Value, ApiError> {
    serde_json::from_slice(&kv.value)
        .map_err(|e| ApiError::internal(format!("decoding {}: {e}", kv.key)))
}

impl Registry {
    pub fn new(
        store: Store,
        prefix: &str,
        services: alloc::ServiceAllocator,
        admission: crate::admission::Admission,
    ) -> Registry {
        Registry {
            store,
            prefix: prefix.trim_end_matches('/').to_string(),
            services,
            admission,
            crds: crate::crd::CustomResources::default(),
            webhooks: crate::webhooks::Configurations::default(),
        }
    }

    /// `{prefix}/{resource}/{namespace}/{name}`, without the namespace when cluster-scoped.
    pub fn key(&self, r: &Resource, namespace: Option<&str>, name: &str) -> String {
        match namespace.filter(|_| r.namespaced) {
            Some(ns) => format!("{}/{}/{}/{}", self.prefix, r.storage_resource, ns, name),
            None => format!("{}/{}/{}", self.prefix, r.storage_resource, name),
        }
    }

    /// The prefix that lists a resource, in one namespace or all of them.
    pub fn list_prefix(&self, r: &Resource, namespace: Option<&str>) -> String {
        match namespace.filter(|_| r.namespaced) {
            Some(ns) => format!("{}/{}/{}/", self.prefix, r.storage_resource, ns),
            None => format!("{}/{}/", self.prefix, r.storage_resource),
        }
    }

    pub async fn get(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<KeyValue, ApiError> {
        match self.store.get(&self.key(r, namespace, name)).await {
            Ok(Some(mut kv)) => {
                kv.value = convert::bytes_from_storage(r, &kv.value);
                Ok(kv)
            }
            Ok(None) => Err(ApiError::not_found(qualified(r), name)),
            Err(e) => Err(storage_error(r, name, e)),
        }
    }

    pub async fn get_value(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(Value, KeyValue), ApiError> {
        let kv = self.get(r, namespace, name).await?;
        Ok((decode_stored(&kv)?, kv))
    }
}

use rkube_storage::Storage as _;

#[cfg(test)]
mod render_tests {
    use super::*;

    #[test]
    fn spliced_revision_equals_a_full_encode() {
        let obj = json!({"kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "c", "uid": "u", "annotations": {"a": "resourceVersion"}},
            "data": {"k": "v\u{0}rkube"}});
        let spliced = render(obj.clone())(12345);
        let mut expected = obj;
        meta::meta_mut(&mut expected).insert("resourceVersion".into(), json!("12345"));
        assert_eq!(spliced, Bytes::from(serde_json::to_vec(&expected).unwrap()));
    }
}
