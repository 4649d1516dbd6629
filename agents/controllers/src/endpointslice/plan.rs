//! From a Service's existing slices of one address type and the endpoints they should
//! hold, the fewest writes that get there (upstream's reconciler): endpoints stay in the
//! slice that has them, changed ones are updated in place, new ones fill slices that are
//! written anyway, then a slice with room for all of them, then new slices of at most
//! `max` endpoints. A slice left empty is deleted; a Service with no endpoints keeps one
//! empty placeholder slice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::ObjectMeta;

use super::desired::{endpoint_id, ports_key, Group, PortsKey};

/// What every slice of this Service and address type carries.
pub struct SliceMeta {
    pub namespace: String,
    pub generate_name: String,
    pub address_type: String,
    pub labels: BTreeMap<String, String>,
    pub owner: OwnerReference,
}

#[derive(Default)]
pub struct Plan {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<Arc<EndpointSlice>>,
}

fn is_placeholder(slice: &EndpointSlice) -> bool {
    slice.endpoints.is_empty() && slice.ports.as_ref().is_none_or(Vec::is_empty)
}

fn new_slice(
    meta: &SliceMeta,
    group_ports: Vec<k8s_openapi::api::discovery::v1::EndpointPort>,
    endpoints: Vec<Endpoint>,
) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(meta.generate_name.clone()),
            namespace: Some(meta.namespace.clone()),
            labels: Some(meta.labels.clone()),
            owner_references: Some(vec![meta.owner.clone()]),
            ..Default::default()
        },
        address_type: meta.address_type.clone(),
        endpoints,
        ports: Some(group_ports),
    }
}

/// An existing slice being worked on: its new endpoints and whether it changed.
struct Kept {
    slice: Arc<EndpointSlice>,
    key: PortsKey,
    endpoints: Vec<Endpoint>,
    changed: bool,
}

pub fn plan(
    existing: Vec<Arc<EndpointSlice>>,
    mut desired: BTreeMap<PortsKey, Group>,
    meta: &SliceMeta,
    max: usize,
) -> Plan {
    let mut plan = Plan::default();
    let mut kept: Vec<Kept> = Vec::new();
    let mut placeholder: Option<Arc<EndpointSlice>> = None;
    let mut placed: BTreeSet<(PortsKey, String)> = BTreeSet::new();
    for slice in existing {
        let key = ports_key(slice.ports.as_deref().unwrap_or(&[]));
        let Some(group) = desired.get(&key) else {
            if is_placeholder(&slice) && placeholder.is_none() {
                placeholder = Some(slice);
            } else {
                plan.delete.push(slice);
            }
            continue;
        };
        let mut endpoints = Vec::new();
        let mut changed = slice.metadata.labels.as_ref() != Some(&meta.labels)
            || slice.metadata.owner_references.as_deref() != Some(&[meta.owner.clone()][..]);
        for current in &slice.endpoints {
            let id = endpoint_id(current);
            match group.endpoints.get(&id) {
                Some(want) if placed.insert((key.clone(), id)) => {
                    changed |= want != current;
                    endpoints.push(want.clone());
                }
                _ => changed = true,
            }
        }
        if endpoints.is_empty() {
            plan.delete.push(slice);
        } else {
            kept.push(Kept {
                slice,
                key,
                endpoints,
                changed,
            });
        }
    }
    // What no existing slice holds yet, per port list.
    let mut missing: BTreeMap<PortsKey, (Group, Vec<Endpoint>)> = BTreeMap::new();
    for (key, mut group) in std::mem::take(&mut desired) {
        let endpoints: Vec<Endpoint> = std::mem::take(&mut group.endpoints)
            .into_iter()
            .filter(|(id, _)| !placed.contains(&(key.clone(), id.clone())))
            .map(|(_, e)| e)
            .collect();
        if !endpoints.is_empty() {
            missing.insert(key, (group, endpoints));
        }
    }
    for (key, (group, mut endpoints)) in missing {
        // 1. Slices written anyway.
        for k in kept.iter_mut().filter(|k| k.key == key && k.changed) {
            let room = max.saturating_sub(k.endpoints.len()).min(endpoints.len());
            k.endpoints.extend(endpoints.drain(..room));
        }
        // 2. One unchanged slice that can take all that is left.
        if !endpoints.is_empty() {
            if let Some(k) = kept
                .iter_mut()
                .filter(|k| k.key == key && !k.changed)
                .find(|k| k.endpoints.len() + endpoints.len() <= max)
            {
                k.endpoints.append(&mut endpoints);
                k.changed = true;
            }
        }
        // 3. New slices.
        while !endpoints.is_empty() {
            let take = endpoints.len().min(max.max(1));
            let chunk: Vec<Endpoint> = endpoints.drain(..take).collect();
            plan.create
                .push(new_slice(meta, group.ports.clone(), chunk));
        }
    }
    // Slices that keep endpoints make a placeholder unnecessary.
    let has_endpoints = !kept.is_empty() || !plan.create.is_empty();
    for k in kept {
        if k.changed {
            let mut slice = (*k.slice).clone();
            slice.endpoints = k.endpoints;
            slice.metadata.labels = Some(meta.labels.clone());
            slice.metadata.owner_references = Some(vec![meta.owner.clone()]);
            plan.update.push(slice);
        }
    }
    match placeholder {
        Some(p) if has_endpoints => plan.delete.push(p),
        Some(_) => {}
        None if !has_endpoints => plan.create.push(new_slice(meta, Vec::new(), Vec::new())),
        None => {}
    }
    plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
