//! Which webhooks a request goes to (upstream's `webhook/predicates`): the rules'
//! operations, groups, versions, resources (`*`, `res/sub`, `*/*`) and scope, then the
//! namespace and object selectors.

use rkube_api::selector::LabelSelector;
use serde_json::{Map, Value};

use super::Attributes;

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn has_or_star(list: &[String], want: &str) -> bool {
    list.iter().any(|x| x == "*" || x == want)
}

/// `pods` is (`pods`, ``), `pods/*` is (`pods`, `*`), `*/*` matches every resource and
/// subresource, `*` every resource without one.
fn resource_matches(entries: &[String], resource: &str, subresource: &str) -> bool {
    entries.iter().any(|entry| {
        let (res, sub) = entry.split_once('/').unwrap_or((entry.as_str(), ""));
        (res == "*" || res == resource) && (sub == "*" || sub == subresource)
    })
}

/// One RuleWithOperations against the request.
pub fn rule_matches(rule: &Value, a: &Attributes<'_>) -> bool {
    if !has_or_star(&strings(rule, "operations"), a.operation.as_str()) {
        return false;
    }
    if !has_or_star(&strings(rule, "apiGroups"), a.resource.group)
        || !has_or_star(&strings(rule, "apiVersions"), a.resource.version)
    {
        return false;
    }
    if !resource_matches(
        &strings(rule, "resources"),
        a.resource.plural,
        a.subresource.unwrap_or(""),
    ) {
        return false;
    }
    match rule.get("scope").and_then(Value::as_str).unwrap_or("*") {
        "Cluster" => a.namespace.is_empty(),
        "Namespaced" => !a.namespace.is_empty(),
        _ => true,
    }
}

fn labels(obj: Option<&Value>) -> Option<&Map<String, Value>> {
    obj?.pointer("/metadata/labels")?.as_object()
}

/// A selector of the webhook (`{}` when unset: everything).
fn selector(hook: &Value, key: &str) -> LabelSelector {
    match hook.get(key) {
        None | Some(Value::Null) => LabelSelector::everything(),
        Some(v) => {
            LabelSelector::from_label_selector_json(v).unwrap_or_else(|_| LabelSelector::nothing())
        }
    }
}

/// The objectSelector: the new or the old object's labels match.
pub fn object_selected(hook: &Value, obj: Option<&Value>, old: Option<&Value>) -> bool {
    let sel = selector(hook, "objectSelector");
    if sel.is_empty() {
        return true;
    }
    [obj, old]
        .into_iter()
        .flatten()
        .any(|o| sel.matches(labels(Some(o))))
}

/// The namespaceSelector, given the labels of the request's namespace (for a Namespace
/// itself, its own labels); cluster-scoped objects other than namespaces are never
/// filtered by it.
pub fn namespace_selected(
    hook: &Value,
    namespace_labels: Option<&Map<String, Value>>,
    applies: bool,
) -> bool {
    if !applies {
        return true;
    }
    selector(hook, "namespaceSelector").matches(namespace_labels)
}

/// Whether any rule of the webhook matches.
pub fn rules_match(hook: &Value, a: &Attributes<'_>) -> bool {
    hook.get("rules")
        .and_then(Value::as_array)
        .is_some_and(|rules| rules.iter().any(|r| rule_matches(r, a)))
}

#[cfg(test)]
mod tests {
    use super::super::Operation;
    use super::*;
    use serde_json::json;

    fn attrs(plural: &str, sub: Option<&'static str>, op: Operation) -> Attributes<'static> {
        let r = rkube_api::resources::RESOURCES
            .iter()
            .find(|r| r.plural == plural && r.group.is_empty())
            .unwrap();
        Attributes {
            resource: r,
            subresource: sub,
            operation: op,
            namespace: if r.namespaced { "ns" } else { "" },
            name: "x",
            dry_run: false,
            kind: None,
        }
    }

    #[test]
    fn rules_follow_upstreams_wildcards() {
        let rule = json!({"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]});
        assert!(rule_matches(&rule, &attrs("pods", None, Operation::Create)));
        assert!(!rule_matches(
            &rule,
            &attrs("pods", Some("status"), Operation::Update)
        ));
        assert!(!rule_matches(
            &rule,
            &attrs("pods", None, Operation::Update)
        ));
        assert!(!rule_matches(
            &rule,
            &attrs("configmaps", None, Operation::Create)
        ));
        let any = json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]});
        assert!(rule_matches(
            &any,
            &attrs("pods", Some("exec"), Operation::Connect)
        ));
        let star = json!({"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"]});
        assert!(rule_matches(
            &star,
            &attrs("configmaps", None, Operation::Delete)
        ));
        assert!(!rule_matches(
            &star,
            &attrs("pods", Some("status"), Operation::Update)
        ));
        let subs = json!({"operations": ["*"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods/*"], "scope": "Cluster"});
        assert!(!rule_matches(
            &subs,
            &attrs("pods", Some("status"), Operation::Update)
        ));
        let nodes = json!({"operations": ["*"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["*"], "scope": "Cluster"});
        assert!(rule_matches(
            &nodes,
            &attrs("nodes", None, Operation::Create)
        ));
    }

    #[test]
    fn selectors() {
        let hook = json!({"objectSelector": {"matchLabels": {"deny": "yes"}}});
        let obj = json!({"metadata": {"labels": {"deny": "yes"}}});
        let other = json!({"metadata": {}});
        assert!(object_selected(&hook, Some(&obj), None));
        assert!(object_selected(&hook, Some(&other), Some(&obj)));
        assert!(!object_selected(&hook, Some(&other), None));
        let ns_hook = json!({"namespaceSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}});
        let skip = json!({"skip": "1"});
        assert!(!namespace_selected(&ns_hook, skip.as_object(), true));
        assert!(namespace_selected(&ns_hook, skip.as_object(), false));
        assert!(namespace_selected(&ns_hook, None, true));
    }
}
