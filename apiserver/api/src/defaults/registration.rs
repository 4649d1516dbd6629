//! Defaults of the kinds that register extensions of the API: admission webhook
//! configurations (upstream's `pkg/apis/admissionregistration/v1/defaults.go`) and
//! APIServices (kube-aggregator's `apiregistration/v1/defaults.go`).

use serde_json::{json, Value};

use super::set_default;

/// A ValidatingWebhookConfiguration or MutatingWebhookConfiguration.
pub fn webhook_configuration(obj: &mut Value, mutating: bool) {
    let Some(hooks) = obj.get_mut("webhooks").and_then(Value::as_array_mut) else {
        return;
    };
    for hook in hooks.iter_mut().filter_map(Value::as_object_mut) {
        set_default(hook, "failurePolicy", json!("Fail"));
        set_default(hook, "matchPolicy", json!("Equivalent"));
        set_default(hook, "namespaceSelector", json!({}));
        set_default(hook, "objectSelector", json!({}));
        set_default(hook, "timeoutSeconds", json!(10));
        if mutating {
            set_default(hook, "reinvocationPolicy", json!("Never"));
        }
        if let Some(rules) = hook.get_mut("rules").and_then(Value::as_array_mut) {
            for rule in rules.iter_mut().filter_map(Value::as_object_mut) {
                set_default(rule, "scope", json!("*"));
            }
        }
        if let Some(service) = hook
            .get_mut("clientConfig")
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut)
        {
            set_default(service, "port", json!(443));
        }
    }
}

/// An APIService: a service it points at listens on 443 unless told otherwise; a local
/// one shows `service: null` (the field has no omitempty upstream).
pub fn api_service(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    match spec.get_mut("service").and_then(Value::as_object_mut) {
        Some(service) => set_default(service, "port", json!(443)),
        None => {
            spec.insert("service".into(), Value::Null);
        }
    }
}
