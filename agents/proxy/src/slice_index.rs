//! Which EndpointSlices belong to which Service, kept from the watch events, so that a
//! sync converting one Service again reads that Service's slices from the cache instead
//! of going through every slice, and so that a slice moving from one Service to another
//! makes both be converted again.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::convert::slice_service;

/// (namespace, name) of a Service.
pub type ServiceKey = (String, String);

#[derive(Debug, Default)]
pub struct SliceIndex {
    /// Each Service's slices, by name (slices live in their Service's namespace).
    by_service: HashMap<ServiceKey, BTreeSet<String>>,
    /// (namespace, slice name) → its Service.
    service_of: HashMap<(String, String), ServiceKey>,
    /// During a relist: the index being built from the listed slices.
    relisting: Option<Box<SliceIndex>>,
}

fn slice_key(slice: &EndpointSlice) -> Option<(String, String)> {
    Some((
        slice.metadata.namespace.clone()?,
        slice.metadata.name.clone()?,
    ))
}

impl SliceIndex {
    /// A slice was added or changed. Returns the Service it belonged to before when that
    /// was another one (it has lost endpoints).
    pub fn apply(&mut self, slice: &EndpointSlice) -> Option<ServiceKey> {
        let before = self.delete(slice);
        let (Some(key), Some(service)) = (slice_key(slice), slice_service(slice)) else {
            return before;
        };
        self.by_service
            .entry(service.clone())
            .or_default()
            .insert(key.1.clone());
        self.service_of.insert(key, service.clone());
        before.filter(|b| *b != service)
    }

    /// A slice was deleted. Returns the Service it belonged to.
    pub fn delete(&mut self, slice: &EndpointSlice) -> Option<ServiceKey> {
        let key = slice_key(slice)?;
        let service = self.service_of.remove(&key)?;
        if let Some(names) = self.by_service.get_mut(&service) {
            names.remove(&key.1);
            if names.is_empty() {
                self.by_service.remove(&service);
            }
        }
        Some(service)
    }

    /// A relist began: the slices it lists replace the index when it is done.
    pub fn relist_started(&mut self) {
        self.relisting = Some(Box::default());
    }

    pub fn relist_apply(&mut self, slice: &EndpointSlice) {
        self.relisting.get_or_insert_with(Box::default).apply(slice);
    }

    pub fn relist_done(&mut self) {
        if let Some(new) = self.relisting.take() {
            *self = *new;
        }
    }

    /// The names of `service`'s slices.
    pub fn slices_of<'a>(&'a self, service: &ServiceKey) -> impl Iterator<Item = &'a String> {
        self.by_service.get(service).into_iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(name: &str, service: &str) -> EndpointSlice {
        let mut s = EndpointSlice::default();
        s.metadata.namespace = Some("ns".into());
        s.metadata.name = Some(name.into());
        s.metadata.labels = Some(
            [(
                crate::convert::SERVICE_NAME_LABEL.to_string(),
                service.to_string(),
            )]
            .into(),
        );
        s
    }

    fn key(service: &str) -> ServiceKey {
        ("ns".into(), service.into())
    }

    #[test]
    fn slices_are_found_by_service_and_a_move_names_the_old_service() {
        let mut index = SliceIndex::default();
        assert_eq!(index.apply(&slice("web-1", "web")), None);
        assert_eq!(index.apply(&slice("web-2", "web")), None);
        assert_eq!(index.apply(&slice("web-1", "web")), None, "same service");
        let names: Vec<&String> = index.slices_of(&key("web")).collect();
        assert_eq!(names, ["web-1", "web-2"]);
        // web-2 is relabelled to db: web lost endpoints.
        assert_eq!(index.apply(&slice("web-2", "db")), Some(key("web")));
        assert_eq!(index.slices_of(&key("db")).count(), 1);
        assert_eq!(index.delete(&slice("web-1", "web")), Some(key("web")));
        assert_eq!(index.slices_of(&key("web")).count(), 0);

        // A relist replaces everything once it is done.
        index.relist_started();
        index.relist_apply(&slice("api-1", "api"));
        assert_eq!(index.slices_of(&key("db")).count(), 1, "until done");
        index.relist_done();
        assert_eq!(index.slices_of(&key("db")).count(), 0);
        assert_eq!(index.slices_of(&key("api")).count(), 1);
    }
}
