//! The OpenAPI documents once CRDs serve custom resources: the built-in resources plus
//! the custom ones, rebuilt (on the next request) whenever what is served changes.

use std::sync::Arc;

use rkube_api::Resource;
use rkube_openapi::{CustomResourceSpec, OpenApi, ResourceSpec, SubresourceSpec};

/// A resource's subresources as the OpenAPI documents describe them.
pub(crate) fn subresources(r: &Resource) -> Vec<SubresourceSpec<'static>> {
    r.subresources
        .iter()
        .map(|s| SubresourceSpec {
            name: s.name,
            group: s.group,
            version: s.version,
            kind: s.kind,
            verbs: s.verbs,
        })
        .collect()
}

/// A resource as the OpenAPI documents describe it.
pub(crate) fn spec<'a>(
    r: &'static Resource,
    subs: &'a [SubresourceSpec<'static>],
) -> ResourceSpec<'a> {
    ResourceSpec {
        group: r.group,
        version: r.version,
        kind: r.kind,
        plural: r.plural,
        namespaced: r.namespaced,
        verbs: r.verbs,
        subresources: subs,
    }
}

/// The documents of the built-in resources and `custom`.
pub fn build(custom: &[&'static Resource]) -> Arc<OpenApi> {
    let builtin_subs: Vec<Vec<SubresourceSpec<'static>>> =
        rkube_api::RESOURCES.iter().map(subresources).collect();
    let builtin: Vec<ResourceSpec<'_>> = rkube_api::RESOURCES
        .iter()
        .zip(&builtin_subs)
        .map(|(r, subs)| spec(r, subs))
        .collect();
    let custom_subs: Vec<Vec<SubresourceSpec<'static>>> =
        custom.iter().map(|r| subresources(r)).collect();
    let custom_specs: Vec<CustomResourceSpec<'_>> = custom
        .iter()
        .zip(&custom_subs)
        .filter_map(|(r, subs)| {
            let c = r.custom?;
            Some(CustomResourceSpec {
                resource: spec(r, subs),
                list_kind: &c.list_kind,
                schema: &c.raw_schema,
            })
        })
        .collect();
    Arc::new(OpenApi::with_custom(&builtin, &custom_specs))
}
