//! The kinds the garbage collector watches and acts on, from discovery: every resource
//! that can be listed, watched and deleted (upstream's deletable resources), minus
//! events, and how an ownerReference's apiVersion/kind maps to one of them.

use std::collections::HashMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DynamicObject};
use kube::discovery::{verbs, ApiResource, Discovery, Scope};

/// Upstream's ignored resources: events are many and never own anything.
const IGNORED: &[(&str, &str)] = &[("", "events"), ("events.k8s.io", "events")];

#[derive(Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

pub struct Resources {
    /// By (group, kind): an ownerReference may name another version of the group.
    by_kind: HashMap<(String, String), Kind>,
}

fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(group, _)| group)
        .unwrap_or("")
}

impl Resources {
    pub async fn discover(client: &kube::Client) -> Result<Resources, kube::Error> {
        let discovery = Discovery::new(client.clone()).run().await?;
        let mut by_kind = HashMap::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                let wanted = [verbs::LIST, verbs::WATCH, verbs::DELETE]
                    .iter()
                    .all(|v| caps.supports_operation(v));
                let ignored = IGNORED
                    .iter()
                    .any(|(g, plural)| resource.group == *g && resource.plural == *plural);
                if !wanted || ignored {
                    continue;
                }
                let key = (resource.group.clone(), resource.kind.clone());
                let namespaced = caps.scope == Scope::Namespaced;
                by_kind.insert(
                    key,
                    Kind {
                        resource,
                        namespaced,
                    },
                );
            }
        }
        Ok(Resources { by_kind })
    }

    pub fn all(&self) -> impl Iterator<Item = &Kind> {
        self.by_kind.values()
    }

    pub fn find(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        self.by_kind
            .get(&(group_of(api_version).to_string(), kind.to_string()))
    }

    /// Where an owner named by a dependent in `dependent_namespace` lives: owners of
    /// namespaced dependents are in the same namespace, or cluster-scoped.
    pub fn owner_namespace(
        &self,
        reference: &OwnerReference,
        dependent_namespace: Option<&str>,
    ) -> Option<String> {
        match self.find(&reference.api_version, &reference.kind) {
            Some(kind) if !kind.namespaced => None,
            _ => dependent_namespace.map(str::to_string),
        }
    }

    /// A client for one object of this kind; None for a kind not served, or a
    /// namespaced kind without a namespace.
    pub fn api(
        &self,
        client: &kube::Client,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Option<Api<DynamicObject>> {
        let found = self.find(api_version, kind)?;
        match (found.namespaced, namespace) {
            (true, Some(ns)) => Some(Api::namespaced_with(client.clone(), ns, &found.resource)),
            (true, None) => None,
            (false, _) => Some(Api::all_with(client.clone(), &found.resource)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::group_of;

    #[test]
    fn groups_of_api_versions() {
        assert_eq!(group_of("v1"), "");
        assert_eq!(group_of("apps/v1"), "apps");
        assert_eq!(group_of("example.com/v1beta1"), "example.com");
    }
}
