//! Label selectors (`metav1.LabelSelector`) and node selectors (`v1.NodeSelectorTerm`),
//! matched against labels and a node's name. Unknown operators and malformed values
//! match nothing: an object the apiserver let through must not widen a selector.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

pub type Labels = BTreeMap<String, String>;

fn values_contain(values: Option<&Vec<String>>, value: &str) -> bool {
    values.is_some_and(|vs| vs.iter().any(|v| v == value))
}

fn expression_matches(expr: &LabelSelectorRequirement, labels: &Labels) -> bool {
    let value = labels.get(&expr.key);
    match expr.operator.as_str() {
        "In" => value.is_some_and(|v| values_contain(expr.values.as_ref(), v)),
        "NotIn" => !value.is_some_and(|v| values_contain(expr.values.as_ref(), v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// Whether `labels` satisfy a LabelSelector; `{}` selects everything.
pub fn label_selector_matches(selector: &LabelSelector, labels: &Labels) -> bool {
    selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
        && selector
            .match_expressions
            .iter()
            .flatten()
            .all(|e| expression_matches(e, labels))
}

/// Whether `labels` contain every pair of a `nodeSelector` map.
pub fn map_selector_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn parse_single_int(values: Option<&Vec<String>>) -> Option<i64> {
    match values.map(Vec::as_slice) {
        Some([one]) => one.parse().ok(),
        _ => None,
    }
}

fn node_expression_matches(req: &NodeSelectorRequirement, labels: &Labels) -> bool {
    let value = labels.get(&req.key);
    let values = req.values.as_ref();
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values_contain(values, v)),
        "NotIn" => !value.is_some_and(|v| values_contain(values, v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(have), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                parse_single_int(values),
            ) else {
                return false;
            };
            if req.operator == "Gt" {
                have > bound
            } else {
                have < bound
            }
        }
        _ => false,
    }
}

/// matchFields supports one field, `metadata.name`, with In and NotIn.
fn field_expression_matches(req: &NodeSelectorRequirement, node_name: &str) -> bool {
    if req.key != "metadata.name" {
        return false;
    }
    match req.operator.as_str() {
        "In" => values_contain(req.values.as_ref(), node_name),
        "NotIn" => !values_contain(req.values.as_ref(), node_name),
        _ => false,
    }
}

/// One NodeSelectorTerm: all its expressions and fields; an empty term matches nothing.
pub fn node_term_matches(term: &NodeSelectorTerm, node_name: &str, labels: &Labels) -> bool {
    let expressions = term.match_expressions.as_deref().unwrap_or_default();
    let fields = term.match_fields.as_deref().unwrap_or_default();
    if expressions.is_empty() && fields.is_empty() {
        return false;
    }
    expressions
        .iter()
        .all(|e| node_expression_matches(e, labels))
        && fields
            .iter()
            .all(|f| field_expression_matches(f, node_name))
}

/// Terms are ORed; no terms match nothing.
pub fn node_terms_match(terms: &[NodeSelectorTerm], node_name: &str, labels: &Labels) -> bool {
    terms
        .iter()
        .any(|t| node_term_matches(t, node_name, labels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn label_selector(v: serde_json::Value) -> LabelSelector {
        serde_json::from_value(v).unwrap()
    }

    fn term(v: serde_json::Value) -> NodeSelectorTerm {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn label_selector_operators() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let m = |v| label_selector_matches(&label_selector(v), &l);
        assert!(m(json!({})));
        assert!(m(json!({"matchLabels": {"app": "web"}})));
        assert!(!m(json!({"matchLabels": {"app": "db"}})));
        assert!(m(
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "web"]}]})
        ));
        assert!(!m(
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]})
        ));
        assert!(!m(
            json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]})
        ));
    }

    #[test]
    fn node_terms_with_every_operator_and_fields() {
        let l = labels(&[("zone", "a"), ("cores", "8")]);
        let m = |v| node_term_matches(&term(v), "node-1", &l);
        assert!(m(
            json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["b"]}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "gpu", "operator": "DoesNotExist"}]})
        ));
        assert!(m(
            json!({"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]})
        ));
        assert!(!m(
            json!({"matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["4"]}]})
        ));
        assert!(!m(
            json!({"matchExpressions": [{"key": "zone", "operator": "Gt", "values": ["1"]}]})
        ));
        assert!(!m(
            json!({"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["1", "2"]}]})
        ));
        assert!(m(
            json!({"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-1"]}]})
        ));
        assert!(!m(
            json!({"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["node-1"]}]})
        ));
        assert!(!m(
            json!({"matchFields": [{"key": "metadata.uid", "operator": "In", "values": ["node-1"]}]})
        ));
        assert!(!m(json!({})), "an empty term matches nothing");
        assert!(!node_terms_match(&[], "node-1", &l));
    }
}
