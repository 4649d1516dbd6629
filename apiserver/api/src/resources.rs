//! The resources the apiserver serves: one static table, read by routing, discovery,
//! OpenAPI and the conformance harness.

/// The verbs of a resource with full storage.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const GET_PATCH_UPDATE: &[&str] = &["get", "patch", "update"];

/// A subresource: `{resource}/{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subresource {
    pub name: &'static str,
    /// Kind of the subresource's body (for `status`, the parent's kind).
    pub kind: &'static str,
    /// Group/version of `kind` when it differs from the parent (e.g. autoscaling/v1 Scale).
    pub group: &'static str,
    pub version: &'static str,
    pub verbs: &'static [&'static str],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// Where objects are stored: `{prefix}/{storage_resource}/...`. Two group-versions may
    /// share storage (core/v1 events and events.k8s.io/v1 events).
    pub storage_resource: &'static str,
    /// Set for the versions of custom resources a CustomResourceDefinition serves.
    pub custom: Option<&'static crate::crd::CustomResource>,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_version(&self) -> GroupVersion {
        GroupVersion {
            group: self.group,
            version: self.version,
        }
    }

    pub fn list_kind(&self) -> String {
        if let Some(c) = self.custom {
            return c.list_kind.clone();
        }
        format!("{}List", self.kind)
    }

    /// A qualified name as used in messages: `pods`, `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn subresource(&self, name: &str) -> Option<&'static Subresource> {
        self.subresources.iter().find(|s| s.name == name)
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Objects of this resource live in storage (bindings and componentstatuses do not).
    pub fn is_stored(&self) -> bool {
        !self.storage_resource.is_empty()
    }

    /// The group-version objects of this resource are stored in (upstream's storage
    /// version): autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2.
    pub fn storage_version(&self) -> GroupVersion {
        match (self.group, self.kind) {
            ("autoscaling", "HorizontalPodAutoscaler") => GroupVersion {
                group: "autoscaling",
                version: "v2",
            },
            _ => self.group_version(),
        }
    }

    /// A review (authentication.k8s.io, authorization.k8s.io): created to get an answer,
    /// never stored; it has no table form, so a Table asked of it is not acceptable (406).
    pub fn is_review(&self) -> bool {
        matches!(self.group, "authentication.k8s.io" | "authorization.k8s.io")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupVersion {
    pub group: &'static str,
    pub version: &'static str,
}

impl GroupVersion {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

const fn sub(
    name: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Subresource {
    Subresource {
        name,
        kind,
        group: "",
        version: "",
        verbs,
    }
}

const fn status(kind: &'static str) -> Subresource {
    sub("status", kind, GET_PATCH_UPDATE)
}

const fn scale() -> Subresource {
    Subresource {
        name: "scale",
        kind: "Scale",
        group: "autoscaling",
        version: "v1",
        verbs: GET_PATCH_UPDATE,
    }
}

#[allow(clippy::too_many_arguments)]
const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    singular: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    subresources: &'static [Subresource],
) -> Resource {
    Resource {
        group,
        version,
        kind,
        plural,
        singular,
        namespaced,
        short_names,
        categories,
        verbs: ALL_VERBS,
        subresources,
        storage_resource: plural,
        custom: None,
    }
}

const ALL: &[&str] = &["all"];
const PROXY_VERBS: &[&str] = &["create", "delete", "get", "patch", "update"];
const NONE: &[&str] = &[];
const NO_SUBS: &[Subresource] = &[];

/// Every served resource, in discovery order (groups in upstream's priority order,
/// resources by name within a group-version). One entry a line: it is a table.
#[rustfmt::skip]
pub static RESOURCES: &[Resource] = &[
    // core/v1
    Resource { verbs: &["create"], storage_resource: "", ..res("", "v1", "Binding", "bindings", "binding", true, NONE, NONE, NO_SUBS) },
    Resource { verbs: &["get", "list"], storage_resource: "", ..res("", "v1", "ComponentStatus", "componentstatuses", "componentstatus", false, &["cs"], NONE, NO_SUBS) },
    res("", "v1", "ConfigMap", "configmaps", "configmap", true, &["cm"], NONE, NO_SUBS),
    res("", "v1", "Endpoints", "endpoints", "endpoints", true, &["ep"], NONE, NO_SUBS),
    res("", "v1", "Event", "events", "event", true, &["ev"], NONE, NO_SUBS),
    res("", "v1", "LimitRange", "limitranges", "limitrange", true, &["limits"], NONE, NO_SUBS),
    Resource {
        verbs: &["create", "delete", "get", "list", "patch", "update", "watch"],
        ..res("", "v1", "Namespace", "namespaces", "namespace", false, &["ns"], NONE, &[sub("finalize", "Namespace", &["update"]), status("Namespace")])
    },
    res("", "v1", "Node", "nodes", "node", false, &["no"], NONE, &[sub("proxy", "NodeProxyOptions", PROXY_VERBS), status("Node")]),
    res("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", true, &["pvc"], NONE, &[status("PersistentVolumeClaim")]),
    res("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, &["pv"], NONE, &[status("PersistentVolume")]),
    res("", "v1", "Pod", "pods", "pod", true, &["po"], ALL, &[
        sub("attach", "PodAttachOptions", &["create", "get"]),
        sub("binding", "Binding", &["create"]),
        sub("ephemeralcontainers", "Pod", GET_PATCH_UPDATE),
        Subresource { name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: &["create"] },
        sub("exec", "PodExecOptions", &["create", "get"]),
        sub("log", "Pod", &["get"]),
        sub("portforward", "PodPortForwardOptions", &["create", "get"]),
        sub("proxy", "PodProxyOptions", PROXY_VERBS),
        sub("resize", "Pod", GET_PATCH_UPDATE),
        status("Pod"),
    ]),
    res("", "v1", "PodTemplate", "podtemplates", "podtemplate", true, NONE, NONE, NO_SUBS),
    res("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", true, &["rc"], ALL, &[scale(), status("ReplicationController")]),
    res("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, &["quota"], NONE, &[status("ResourceQuota")]),
    res("", "v1", "Secret", "secrets", "secret", true, NONE, NONE, NO_SUBS),
    res("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, &["sa"], NONE, NO_SUBS),
    res("", "v1", "Service", "services", "service", true, &["svc"], ALL, &[sub("proxy", "ServiceProxyOptions", PROXY_VERBS), status("Service")]),
    // apiregistration.k8s.io/v1: stored under upstream's key, /registry/apiregistration.k8s.io/apiservices/.
    Resource { storage_resource: "apiregistration.k8s.io/apiservices", ..res("apiregistration.k8s.io", "v1", "APIService", "apiservices", "apiservice", false, NONE, &["api-extensions"], &[status("APIService")]) },
    // apps/v1
    res("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true, NONE, NONE, NO_SUBS),
    res("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, &["ds"], ALL, &[status("DaemonSet")]),
    res("apps", "v1", "Deployment", "deployments", "deployment", true, &["deploy"], ALL, &[scale(), status("Deployment")]),
    res("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, &["rs"], ALL, &[scale(), status("ReplicaSet")]),
    res("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, &["sts"], ALL, &[scale(), status("StatefulSet")]),
    // events.k8s.io/v1 shares storage with core/v1 events.
    Resource { storage_resource: "events", ..res("events.k8s.io", "v1", "Event", "events", "event", true, &["ev"], NONE, NO_SUBS) },
    // autoscaling/v2 and autoscaling/v1: one stored form (v2), converted for v1.
    res("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", true, &["hpa"], ALL, &[status("HorizontalPodAutoscaler")]),
    res("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", true, &["hpa"], ALL, &[status("HorizontalPodAutoscaler")]),
    // batch/v1
    res("batch", "v1", "CronJob", "cronjobs", "cronjob", true, &["cj"], ALL, &[status("CronJob")]),
    res("batch", "v1", "Job", "jobs", "job", true, NONE, ALL, &[status("Job")]),
    // coordination.k8s.io/v1
    res("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, NONE, NONE, NO_SUBS),
    // discovery.k8s.io/v1
    res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, NONE, NONE, NO_SUBS),
    // networking.k8s.io/v1
    res("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", false, NONE, NONE, NO_SUBS),
    res("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, &["ing"], NONE, &[status("Ingress")]),
    res("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true, &["netpol"], NONE, NO_SUBS),
    // policy/v1
    res("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", true, &["pdb"], NONE, &[status("PodDisruptionBudget")]),
    // rbac.authorization.k8s.io/v1
    res("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", false, NONE, NONE, NO_SUBS),
    res("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, NONE, NONE, NO_SUBS),
    res("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, NONE, NONE, NO_SUBS),
    res("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, NONE, NONE, NO_SUBS),
    // authentication.k8s.io/v1 and authorization.k8s.io/v1: reviews, answered and never
    // stored.
    review(res("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", false, NONE, NONE, NO_SUBS)),
    review(res("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", false, NONE, NONE, NO_SUBS)),
    review(res("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", "localsubjectaccessreview", true, NONE, NONE, NO_SUBS)),
    review(res("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", "selfsubjectaccessreview", false, NONE, NONE, NO_SUBS)),
    review(res("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", "selfsubjectrulesreview", false, NONE, NONE, NO_SUBS)),
    review(res("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "subjectaccessreview", false, NONE, NONE, NO_SUBS)),
    // certificates.k8s.io/v1
    res("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", false, &["csr"], NONE, &[
        sub("approval", "CertificateSigningRequest", GET_PATCH_UPDATE),
        status("CertificateSigningRequest"),
    ]),
    // storage.k8s.io/v1
    res("storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", false, NONE, NONE, NO_SUBS),
    res("storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", false, NONE, NONE, NO_SUBS),
    res("storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", "csistoragecapacity", true, NONE, NONE, NO_SUBS),
    res("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, &["sc"], NONE, NO_SUBS),
    res("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", false, NONE, NONE, &[status("VolumeAttachment")]),
    // admissionregistration.k8s.io/v1
    res("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", false, NONE, &["api-extensions"], NO_SUBS),
    res("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "validatingwebhookconfiguration", false, NONE, &["api-extensions"], NO_SUBS),
    res("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", "validatingadmissionpolicy", false, NONE, &["api-extensions"], &[status("ValidatingAdmissionPolicy")]),
    res("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", false, NONE, &["api-extensions"], NO_SUBS),
    // apiextensions.k8s.io/v1
    res("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition", false, &["crd", "crds"], &["api-extensions"], &[status("CustomResourceDefinition")]),
    // scheduling.k8s.io/v1
    res("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, &["pc"], NONE, NO_SUBS),
    // node.k8s.io/v1
    res("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", false, NONE, NONE, NO_SUBS),
    // flowcontrol.apiserver.k8s.io/v1
    res("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", "flowschema", false, NONE, NONE, &[status("FlowSchema")]),
    res("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", "prioritylevelconfiguration", false, NONE, NONE, &[status("PriorityLevelConfiguration")]),
];

/// A review kind: `create` only, not stored, no table form.
const fn review(r: Resource) -> Resource {
    Resource {
        verbs: &["create"],
        storage_resource: "",
        ..r
    }
}

/// Group names in discovery order (core first, then upstream's priority order).
pub static GROUP_ORDER: &[&str] = &[
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "flowcontrol.apiserver.k8s.io",
];

/// Look a resource up by group, version and plural name.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        // The plural first: it tells most resources apart at once (every request
        // looks its resource up, and admission a few more).
        .find(|r| r.plural == plural && r.version == version && r.group == group)
}

/// Look a resource up by apiVersion and kind.
pub fn find_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The served group-versions in discovery order (within a group, the preferred version
/// first: the table lists it first).
pub fn group_versions() -> Vec<GroupVersion> {
    let mut out: Vec<GroupVersion> = Vec::new();
    for group in GROUP_ORDER {
        for r in RESOURCES.iter().filter(|r| r.group == *group) {
            let gv = r.group_version();
            if !out.contains(&gv) {
                out.push(gv);
            }
        }
    }
    out
}

/// Resources of one group-version, in table order.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static Resource> + 'a {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_is_unique_and_findable() {
        for r in RESOURCES {
            assert_eq!(find(r.group, r.version, r.plural), Some(r));
            assert_eq!(find_kind(&r.api_version(), r.kind), Some(r));
        }
    }

    #[test]
    fn core_group_comes_first() {
        let gvs = group_versions();
        assert_eq!(gvs[0].api_version(), "v1");
        assert!(gvs.iter().any(|g| g.api_version() == "apps/v1"));
    }

    #[test]
    fn pods_have_documented_subresources() {
        let pods = find("", "v1", "pods").unwrap();
        for s in [
            "attach",
            "binding",
            "eviction",
            "exec",
            "log",
            "portforward",
            "proxy",
            "status",
        ] {
            assert!(pods.subresource(s).is_some(), "pods/{s}");
        }
    }
}
