//! Admission: the plugins a write passes after decoding and before storage, chosen with
//! `--enable-admission-plugins` / `--disable-admission-plugins` (or the deprecated
//! `--admission-control`, which names the whole list). Mutating plugins run before
//! validation, validating ones after it, as upstream orders them.

mod limit_ranger;
mod namespace_lifecycle;
mod resource_quota;
mod runtime_class;

pub use resource_quota::QuotaCharge;

/// The plugins rkube implements, in upstream's order.
pub const IMPLEMENTED: &[&str] = &[
    "AlwaysAdmit",
    "NamespaceLifecycle",
    "LimitRanger",
    "DefaultTolerationSeconds",
    "RuntimeClass",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
];

/// Enabled when no flag says otherwise (those of upstream's defaults rkube implements).
const DEFAULT_ON: &[&str] = &[
    "NamespaceLifecycle",
    "LimitRanger",
    "DefaultTolerationSeconds",
    "RuntimeClass",
    "MutatingAdmissionWebhook",
    "ValidatingAdmissionWebhook",
    "ResourceQuota",
];

/// Upstream plugins rkube does not implement yet: naming one to enable is refused,
/// disabling one is accepted (there is nothing to turn off).
const NOT_YET: &[&str] = &[
    "AlwaysDeny",
    "AlwaysPullImages",
    "CertificateApproval",
    "CertificateSigning",
    "CertificateSubjectRestriction",
    "ClusterTrustBundleAttest",
    "DefaultIngressClass",
    "DefaultStorageClass",
    "DenyServiceExternalIPs",
    "EventRateLimit",
    "ExtendedResourceToleration",
    "ImagePolicyWebhook",
    "LimitPodHardAntiAffinityTopology",
    "MutatingAdmissionPolicy",
    "NamespaceAutoProvision",
    "NamespaceExists",
    "NodeRestriction",
    "OwnerReferencesPermissionEnforcement",
    "PersistentVolumeClaimResize",
    "PodNodeSelector",
    "PodSecurity",
    "PodTolerationRestriction",
    "Priority",
    "ServiceAccount",
    "StorageObjectInUseProtection",
    "TaintNodesByCondition",
    "ValidatingAdmissionPolicy",
];

/// Which admission plugins run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub namespace_lifecycle: bool,
    pub limit_ranger: bool,
    /// Pods get 300 s not-ready / unreachable NoExecute tolerations unless they have some.
    pub default_toleration_seconds: bool,
    /// Pods get their RuntimeClass's overhead and scheduling; a missing class refuses them.
    pub runtime_class: bool,
    pub resource_quota: bool,
    /// Requests go to the registered mutating / validating admission webhooks.
    pub mutating_webhooks: bool,
    pub validating_webhooks: bool,
    /// `--allow-privileged`: otherwise a pod with a privileged container is invalid.
    pub allow_privileged: bool,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            namespace_lifecycle: true,
            limit_ranger: true,
            default_toleration_seconds: true,
            runtime_class: true,
            resource_quota: true,
            mutating_webhooks: true,
            validating_webhooks: true,
            allow_privileged: false,
        }
    }
}

fn check_name(flag: &str, name: &str, enabling: bool) -> Result<(), String> {
    if IMPLEMENTED.contains(&name) {
        return Ok(());
    }
    if NOT_YET.contains(&name) {
        if enabling {
            return Err(format!(
                "{flag}: admission plugin {name:?} is not implemented yet (implemented: {})",
                IMPLEMENTED.join(", ")
            ));
        }
        return Ok(());
    }
    Err(format!("{flag}: unknown admission plugin {name:?}"))
}

impl Admission {
    /// Upstream's rules: `--admission-control` alone names every plugin that runs; the
    /// newer flags add to and remove from the defaults; mixing them is an error.
    pub fn from_flags(
        admission_control: &[String],
        enable: &[String],
        disable: &[String],
    ) -> Result<Admission, String> {
        let clean = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (legacy, enable, disable) = (clean(admission_control), clean(enable), clean(disable));
        for name in &legacy {
            check_name("--admission-control", name, true)?;
        }
        for name in &enable {
            check_name("--enable-admission-plugins", name, true)?;
        }
        for name in &disable {
            check_name("--disable-admission-plugins", name, false)?;
            if enable.contains(name) {
                return Err(format!(
                    "{name} is in both --enable-admission-plugins and --disable-admission-plugins"
                ));
            }
        }
        let on: Vec<&str> = if legacy.is_empty() {
            DEFAULT_ON
                .iter()
                .copied()
                .chain(enable.iter().map(String::as_str))
                .filter(|n| !disable.iter().any(|d| d == n))
                .collect()
        } else {
            if !enable.is_empty() || !disable.is_empty() {
                return Err("--admission-control is deprecated and may not be combined with --enable-admission-plugins or --disable-admission-plugins".into());
            }
            legacy.iter().map(String::as_str).collect()
        };
        Ok(Admission {
            namespace_lifecycle: on.contains(&"NamespaceLifecycle"),
            limit_ranger: on.contains(&"LimitRanger"),
            default_toleration_seconds: on.contains(&"DefaultTolerationSeconds"),
            runtime_class: on.contains(&"RuntimeClass"),
            resource_quota: on.contains(&"ResourceQuota"),
            mutating_webhooks: on.contains(&"MutatingAdmissionWebhook"),
            validating_webhooks: on.contains(&"ValidatingAdmissionWebhook"),
            allow_privileged: false,
        })
    }
}

/// Where a kind holds the pod spec that `--allow-privileged` governs: the pod's own spec,
/// or its template's (upstream validates every pod template with the same rules).
fn pod_spec_path(r: &rkube_api::Resource) -> Option<&'static [&'static str]> {
    Some(match (r.group, r.plural) {
        ("", "pods") => &["spec"],
        ("", "podtemplates") => &["template", "spec"],
        ("", "replicationcontrollers")
        | ("apps", "replicasets" | "deployments" | "daemonsets" | "statefulsets")
        | ("batch", "jobs") => &["spec", "template", "spec"],
        ("batch", "cronjobs") => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// Upstream's cluster policy check on privileged containers (when `--allow-privileged`
/// is off): a Forbidden cause per privileged container of the pod spec found at `at`.
pub fn privileged_causes(object: &serde_json::Value, at: &[&str]) -> Vec<rkube_api::status::Cause> {
    use rkube_api::validation::field::{forbidden, Path};
    let Some((root, rest)) = at.split_first() else {
        return Vec::new();
    };
    let spec_path = Path::new(root).at(rest);
    let spec = at.iter().fold(object, |v, key| &v[*key]);
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let containers = spec[list].as_array().into_iter().flatten();
        for (i, c) in containers.enumerate() {
            if c["securityContext"]["privileged"] == serde_json::Value::Bool(true) {
                let path = spec_path
                    .child(list)
                    .index(i)
                    .at(&["securityContext", "privileged"]);
                out.push(forbidden(&path, "disallowed by cluster policy"));
            }
        }
    }
    out
}

impl crate::registry::Registry {
    /// Creates and updates of pods and of the kinds with pod templates: privileged
    /// containers only with `--allow-privileged`.
    pub(crate) fn admit_privileged(
        &self,
        r: &rkube_api::Resource,
        name: &str,
        object: &serde_json::Value,
    ) -> Result<(), rkube_api::ApiError> {
        let Some(at) = pod_spec_path(r).filter(|_| !self.admission.allow_privileged) else {
            return Ok(());
        };
        let causes = privileged_causes(object, at);
        if causes.is_empty() {
            Ok(())
        } else {
            Err(rkube_api::ApiError::invalid(r.group, r.kind, name, causes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_additions_removals_and_the_legacy_list() {
        assert_eq!(
            Admission::from_flags(&[], &[], &[]),
            Ok(Admission::default())
        );
        let no_quota =
            Admission::from_flags(&[], &[], &v(&["ResourceQuota", "PodSecurity"])).unwrap();
        assert!(!no_quota.resource_quota && no_quota.limit_ranger);
        assert!(no_quota.default_toleration_seconds);
        let no_tolerations =
            Admission::from_flags(&[], &[], &v(&["DefaultTolerationSeconds"])).unwrap();
        assert!(!no_tolerations.default_toleration_seconds && no_tolerations.limit_ranger);
        let legacy = Admission::from_flags(&v(&["AlwaysAdmit"]), &[], &[]).unwrap();
        assert!(!legacy.namespace_lifecycle && !legacy.limit_ranger && !legacy.resource_quota);
        let legacy =
            Admission::from_flags(&v(&["NamespaceLifecycle", "ResourceQuota"]), &[], &[]).unwrap();
        assert!(legacy.namespace_lifecycle && !legacy.limit_ranger && legacy.resource_quota);
        assert!(Admission::from_flags(&[], &v(&["Bogus"]), &[])
            .unwrap_err()
            .contains("unknown"));
        assert!(Admission::from_flags(&[], &v(&["PodSecurity"]), &[])
            .unwrap_err()
            .contains("not implemented"));
        assert!(Admission::from_flags(&v(&["AlwaysAdmit"]), &v(&["LimitRanger"]), &[]).is_err());
    }
}
