//! The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: every write (and
//! connect) that a registered webhook's rules and selectors match is sent to it as an
//! `admission.k8s.io/v1` AdmissionReview. Mutating webhooks run first, one after another
//! in configuration-name order, each seeing the object as the previous one patched it;
//! validating webhooks run after the object validated. A denial answers the client with
//! the webhook's status; a webhook that cannot be reached fails the request or is skipped
//! per its `failurePolicy`. CONNECTs (`exec`, `attach`, `portforward`, `proxy`) are sent
//! with their options object. Not evaluated: `matchConditions` (CEL) — a webhook with
//! them is called as if they all held.

mod client;
mod configurations;
mod matching;
mod review;
mod target;

use std::sync::Arc;
use std::time::Duration;

use rkube_api::{resources, ApiError, Resource};
use serde_json::{Map, Value};

pub use configurations::{load, spawn, Configurations};
use configurations::{MUTATING, VALIDATING};

use crate::registry::Registry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    fn options_kind(self) -> &'static str {
        match self {
            Operation::Create => "CreateOptions",
            Operation::Update => "UpdateOptions",
            Operation::Delete => "DeleteOptions",
            Operation::Connect => "",
        }
    }
}

/// What a request does, as admission sees it.
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    pub resource: &'static Resource,
    pub subresource: Option<&'a str>,
    pub operation: Operation,
    /// "" for cluster-scoped objects.
    pub namespace: &'a str,
    pub name: &'a str,
    pub dry_run: bool,
    /// The kind of the request's object when it is not the resource's own: a
    /// subresource's (`PodExecOptions` for `pods/exec`).
    pub kind: Option<&'static str>,
}

/// Upstream never sends the admission configuration kinds themselves to webhooks, so a
/// webhook cannot lock the cluster out of fixing it.
fn exempt(r: &Resource) -> bool {
    r.group == "admissionregistration.k8s.io"
}

fn configuration_resource(plural: &str) -> &'static Resource {
    resources::find("admissionregistration.k8s.io", "v1", plural)
        .expect("webhook configurations are served")
}

/// One webhook of a configuration.
#[derive(Clone)]
struct Hook {
    webhook: Arc<Value>,
}

impl Hook {
    fn name(&self) -> &str {
        self.webhook
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    fn timeout(&self) -> Duration {
        let secs = self
            .webhook
            .get("timeoutSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(10);
        Duration::from_secs(secs.clamp(1, 30))
    }

    fn fails_open(&self) -> bool {
        self.webhook.get("failurePolicy").and_then(Value::as_str) == Some("Ignore")
    }

    fn reinvoked_if_needed(&self) -> bool {
        self.webhook
            .get("reinvocationPolicy")
            .and_then(Value::as_str)
            == Some("IfNeeded")
    }

    fn no_side_effects_on_dry_run(&self) -> bool {
        matches!(
            self.webhook.get("sideEffects").and_then(Value::as_str),
            Some("None" | "NoneOnDryRun")
        )
    }
}

impl Registry {
    /// The labels the namespaceSelector is matched against, and whether it applies.
    async fn namespace_labels(
        &self,
        a: &Attributes<'_>,
        obj: Option<&Value>,
    ) -> (Option<Map<String, Value>>, bool) {
        if a.resource.group.is_empty() && a.resource.plural == "namespaces" {
            let labels = obj
                .and_then(|o| o.pointer("/metadata/labels"))
                .and_then(Value::as_object)
                .cloned();
            return (labels, true);
        }
        if a.namespace.is_empty() {
            return (None, false);
        }
        let namespaces = resources::find("", "v1", "namespaces").expect("namespaces are served");
        let labels = match self.get_value(namespaces, None, a.namespace).await {
            Ok((ns, _)) => ns
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned(),
            Err(_) => None,
        };
        (labels, true)
    }

    /// The webhooks of `plural`'s configurations that the request goes to.
    async fn matching(
        &self,
        plural: &str,
        a: &Attributes<'_>,
        obj: Option<&Value>,
        old: Option<&Value>,
    ) -> Vec<Hook> {
        if exempt(a.resource) {
            return Vec::new();
        }
        let hooks = self.webhooks.hooks(plural);
        if hooks.is_empty() {
            return Vec::new();
        }
        let (ns_labels, ns_applies) = self.namespace_labels(a, obj.or(old)).await;
        hooks
            .iter()
            .filter(|h| matching::rules_match(&h.webhook, a))
            .filter(|h| matching::namespace_selected(&h.webhook, ns_labels.as_ref(), ns_applies))
            .filter(|h| matching::object_selected(&h.webhook, obj, old))
            .cloned()
            .collect()
    }

    /// Send one review; `Ok(None)` when the call failed and the webhook fails open.
    async fn call(
        &self,
        hook: &Hook,
        a: &Attributes<'_>,
        obj: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<Option<review::Verdict>, ApiError> {
        if a.dry_run && !hook.no_side_effects_on_dry_run() {
            return Err(ApiError::bad_request(format!(
                "admission webhook {:?} does not support dry run",
                hook.name()
            )));
        }
        let timeout = hook.timeout();
        let outcome = async {
            let config = hook
                .webhook
                .get("clientConfig")
                .cloned()
                .unwrap_or(Value::Null);
            let (target, ca) = target::resolve(self, &config, timeout).await?;
            let (uid, body) = review::request(a, obj, old);
            let answer = client::post(&target, ca.as_deref(), body, timeout).await?;
            review::verdict(&answer, &uid, a.operation)
        }
        .await;
        match outcome {
            Ok(v) => Ok(Some(v)),
            Err(e) if hook.fails_open() => {
                tracing::warn!(
                    "failed calling webhook {:?} (failurePolicy Ignore): {e}",
                    hook.name()
                );
                Ok(None)
            }
            Err(e) => Err(ApiError::internal(format!(
                "failed calling webhook {:?}: failed to call webhook: {e}",
                hook.name()
            ))),
        }
    }

    /// Call one mutating webhook and apply its patch; whether the object changed.
    async fn mutate_once(
        &self,
        hook: &Hook,
        a: &Attributes<'_>,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<bool, ApiError> {
        let Some(verdict) = self.call(hook, a, Some(obj), old).await? else {
            return Ok(false);
        };
        verdict.add_warnings();
        if !verdict.allowed {
            return Err(verdict.denial(hook.name()));
        }
        let Some(patch) = &verdict.patch else {
            return Ok(false);
        };
        let patched = rkube_patch::json_patch(obj, patch).map_err(|e| {
            ApiError::internal(format!(
                "failed calling webhook {:?}: the patch could not be applied: {e}",
                hook.name()
            ))
        })?;
        let changed = patched != *obj;
        *obj = patched;
        Ok(changed)
    }

    /// Run the mutating webhooks that match, applying each one's JSONPatch in turn.
    /// Returns whether the object changed.
    pub(crate) async fn mutate_by_webhooks(
        &self,
        a: &Attributes<'_>,
        obj: &mut Value,
        old: Option<&Value>,
    ) -> Result<bool, ApiError> {
        if !self.admission.mutating_webhooks {
            return Ok(false);
        }
        let hooks = self.matching(MUTATING, a, Some(obj), old).await;
        // Upstream's reinvocation: a webhook with `reinvocationPolicy: IfNeeded` is called
        // once more when a later one changed the object after it ran.
        let mut changed = false;
        let mut changed_after = vec![false; hooks.len()];
        for (i, hook) in hooks.iter().enumerate() {
            if self.mutate_once(hook, a, obj, old).await? {
                changed = true;
                changed_after[..i].iter_mut().for_each(|c| *c = true);
            }
        }
        for (i, hook) in hooks.iter().enumerate() {
            if changed_after[i] && hook.reinvoked_if_needed() {
                changed |= self.mutate_once(hook, a, obj, old).await?;
            }
        }
        Ok(changed)
    }

    /// A CONNECT to a subresource (`exec`, `attach`, `portforward`, `proxy`): mutating
    /// webhooks are called but cannot change a connect, then the validating ones.
    pub(crate) async fn admit_connect(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        name: &str,
        subresource: &str,
        options: Value,
    ) -> Result<(), ApiError> {
        let kind = r.subresource(subresource).map(|s| s.kind);
        let attrs = Attributes {
            resource: r,
            subresource: Some(subresource),
            operation: Operation::Connect,
            namespace: namespace.filter(|_| r.namespaced).unwrap_or(""),
            name,
            dry_run: false,
            kind,
        };
        let mut object = options;
        self.mutate_by_webhooks(&attrs, &mut object, None).await?;
        self.validate_by_webhooks(&attrs, Some(&object), None).await
    }

    /// A DELETE: mutating webhooks see the object being deleted (as `oldObject`) and may
    /// refuse but not change it; then the validating ones.
    pub(crate) async fn admit_delete(
        &self,
        a: &Attributes<'_>,
        old: &Value,
    ) -> Result<(), ApiError> {
        if self.admission.mutating_webhooks {
            for hook in &self.matching(MUTATING, a, None, Some(old)).await {
                let Some(verdict) = self.call(hook, a, None, Some(old)).await? else {
                    continue;
                };
                verdict.add_warnings();
                if !verdict.allowed {
                    return Err(verdict.denial(hook.name()));
                }
            }
        }
        self.validate_by_webhooks(a, None, Some(old)).await
    }

    /// Run the validating webhooks that match; the first denial refuses the request.
    pub(crate) async fn validate_by_webhooks(
        &self,
        a: &Attributes<'_>,
        obj: Option<&Value>,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        if !self.admission.validating_webhooks {
            return Ok(());
        }
        let hooks = self.matching(VALIDATING, a, obj, old).await;
        for hook in &hooks {
            let Some(verdict) = self.call(hook, a, obj, old).await? else {
                continue;
            };
            verdict.add_warnings();
            if !verdict.allowed {
                return Err(verdict.denial(hook.name()));
            }
        }
        Ok(())
    }
}
