//! JSON accessors for validation (missing or mistyped fields read as Go zero values:
//! type mismatches are reported separately by `type_errors`) and Go `%#v` renderings
//! of the values upstream prints in messages.

use serde_json::{Map, Value};

use rkube_patch::go_format::go_quote;

static EMPTY: Vec<Value> = Vec::new();

/// `v[k]` as a string, "" when absent or not a string.
pub fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// An integer field, `None` when absent/null.
pub fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k).and_then(|x| {
        x.as_i64()
            .or_else(|| x.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
    })
}

pub fn boolean(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

pub fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k).and_then(Value::as_array).unwrap_or(&EMPTY)
}

pub fn obj<'a>(v: &'a Value, k: &str) -> Option<&'a Map<String, Value>> {
    v.get(k).and_then(Value::as_object)
}

/// Present and not null.
pub fn has(v: &Value, k: &str) -> bool {
    v.get(k).is_some_and(|x| !x.is_null())
}

/// Go `%#v` of a `map[string]string`: keys sorted, `(nil)` when absent.
pub fn go_string_map(v: Option<&Value>) -> String {
    match v.and_then(Value::as_object) {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let mut pairs: Vec<(String, String)> = m
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            pairs.sort();
            let inner: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", inner.join(", "))
        }
    }
}

fn go_string_slice(v: Option<&Value>) -> String {
    match v.and_then(Value::as_array) {
        None => "[]string(nil)".to_string(),
        Some(a) => {
            let inner: Vec<String> = a
                .iter()
                .map(|x| go_quote(x.as_str().unwrap_or_default()))
                .collect();
            format!("[]string{{{}}}", inner.join(", "))
        }
    }
}

/// Go `%#v` of a `metav1.LabelSelector` value:
/// `v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}`.
pub fn go_label_selector(sel: &Value) -> String {
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(a) => {
            let inner: Vec<String> = a
                .iter()
                .map(|r| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(s(r, "key")),
                        go_quote(s(r, "operator")),
                        go_string_slice(r.get("values"))
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", inner.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.get("matchLabels")),
        exprs
    )
}

/// A rough Go `%#v` rendering of an arbitrary JSON value for messages that print whole
/// structs (upstream prints the internal Go type; exact field-by-field parity is not
/// attempted for those).
pub fn go_struct(type_name: &str, v: &Value) -> String {
    fn render(v: &Value) -> String {
        match v {
            Value::Null => "nil".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => go_quote(s),
            Value::Array(a) => format!(
                "[]{{{}}}",
                a.iter().map(render).collect::<Vec<_>>().join(", ")
            ),
            Value::Object(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{}:{}", upper_first(k), render(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    format!("{type_name}{}", render(v))
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Does a label selector (`matchLabels` + `matchExpressions`) match these labels?
/// Selector validity is checked separately.
pub fn selector_matches(sel: &Value, labels: &Map<String, Value>) -> bool {
    let label = |k: &str| labels.get(k).and_then(Value::as_str);
    if let Some(ml) = sel.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if label(k) != v.as_str() {
                return false;
            }
        }
    }
    for r in arr(sel, "matchExpressions") {
        let key = s(r, "key");
        let values: Vec<&str> = arr(r, "values").iter().filter_map(Value::as_str).collect();
        let ok = match s(r, "operator") {
            "In" => label(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => !label(key).is_some_and(|v| values.contains(&v)),
            "Exists" => label(key).is_some(),
            "DoesNotExist" => label(key).is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Whether a label selector selects nothing-in-particular (`{}`), i.e. `selector.Empty()`.
pub fn selector_is_empty(sel: &Value) -> bool {
    obj(sel, "matchLabels").is_none_or(|m| m.is_empty()) && arr(sel, "matchExpressions").is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selector_renders_like_go() {
        assert_eq!(
            go_label_selector(&json!({"matchLabels": {"b": "2", "a": "1"}})),
            "v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"1\", \"b\":\"2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
        );
        assert_eq!(go_string_map(None), "map[string]string(nil)");
    }

    #[test]
    fn selectors_match() {
        let labels = json!({"app": "x", "tier": "web"});
        let labels = labels.as_object().unwrap();
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "x"}}),
            labels
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "y"}}),
            labels
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}),
            labels
        ));
        assert!(selector_is_empty(&json!({})));
    }
}
