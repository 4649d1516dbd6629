//! A CustomResourceDefinition version's `openAPIV3Schema`, parsed once into the form
//! validation, pruning and defaulting walk (upstream's structural schema plus the value
//! validations of go-openapi).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How deep a schema may nest before the rest is treated as free-form: bounds the work
/// a hostile CRD can ask of every write.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// `type`: object, array, string, integer, number, boolean (empty: any).
    pub kind: String,
    pub format: String,
    pub properties: BTreeMap<String, Schema>,
    /// `additionalProperties` as a schema (a map); `additionalProperties: true` is kept as
    /// an empty schema with `preserve_unknown`.
    pub additional: Option<Box<Schema>>,
    pub items: Option<Box<Schema>>,
    pub required: Vec<String>,
    pub enumeration: Vec<Value>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: bool,
    pub exclusive_maximum: bool,
    pub multiple_of: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
    pub unique_items: bool,
    pub pattern: Option<Pattern>,
    pub nullable: bool,
    pub default: Option<Value>,
    pub preserve_unknown: bool,
    pub int_or_string: bool,
    pub embedded_resource: bool,
    pub all_of: Vec<Schema>,
    pub any_of: Vec<Schema>,
    pub one_of: Vec<Schema>,
    pub not: Option<Box<Schema>>,
    pub list_type: String,
    pub list_map_keys: Vec<String>,
}

/// A `pattern`, compiled when the schema is parsed.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub source: String,
    pub regex: Option<regex::Regex>,
}

fn u(m: &Map<String, Value>, k: &str) -> Option<u64> {
    m.get(k).and_then(Value::as_u64)
}

fn f(m: &Map<String, Value>, k: &str) -> Option<f64> {
    m.get(k).and_then(Value::as_f64)
}

fn b(m: &Map<String, Value>, k: &str) -> bool {
    m.get(k).and_then(Value::as_bool).unwrap_or(false)
}

fn text(m: &Map<String, Value>, k: &str) -> String {
    m.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

impl Schema {
    /// Parse an `openAPIV3Schema`. Never fails: what is not understood is ignored, as
    /// the CRD's own validation has refused what upstream refuses.
    pub fn parse(v: &Value) -> Schema {
        Self::parse_at(v, 0)
    }

    fn parse_at(v: &Value, depth: usize) -> Schema {
        let Some(m) = v.as_object() else {
            return Schema::default();
        };
        if depth > MAX_DEPTH {
            return Schema {
                preserve_unknown: true,
                ..Schema::default()
            };
        }
        let child = |x: &Value| Schema::parse_at(x, depth + 1);
        let list = |k: &str| -> Vec<Schema> {
            m.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(child).collect())
                .unwrap_or_default()
        };
        let strings = |k: &str| super::string_list(m.get(k));
        let mut s = Schema {
            kind: text(m, "type"),
            format: text(m, "format"),
            properties: m
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| p.iter().map(|(k, v)| (k.clone(), child(v))).collect())
                .unwrap_or_default(),
            additional: None,
            items: m
                .get("items")
                .filter(|i| i.is_object())
                .map(|i| Box::new(child(i))),
            required: strings("required"),
            enumeration: m
                .get("enum")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            minimum: f(m, "minimum"),
            maximum: f(m, "maximum"),
            exclusive_minimum: b(m, "exclusiveMinimum"),
            exclusive_maximum: b(m, "exclusiveMaximum"),
            multiple_of: f(m, "multipleOf"),
            min_length: u(m, "minLength"),
            max_length: u(m, "maxLength"),
            min_items: u(m, "minItems"),
            max_items: u(m, "maxItems"),
            min_properties: u(m, "minProperties"),
            max_properties: u(m, "maxProperties"),
            unique_items: b(m, "uniqueItems"),
            pattern: m.get("pattern").and_then(Value::as_str).map(|p| Pattern {
                source: p.to_string(),
                regex: regex::Regex::new(p).ok(),
            }),
            nullable: b(m, "nullable"),
            default: m.get("default").cloned(),
            preserve_unknown: b(m, "x-kubernetes-preserve-unknown-fields"),
            int_or_string: b(m, "x-kubernetes-int-or-string"),
            embedded_resource: b(m, "x-kubernetes-embedded-resource"),
            all_of: list("allOf"),
            any_of: list("anyOf"),
            one_of: list("oneOf"),
            not: m
                .get("not")
                .filter(|n| n.is_object())
                .map(|n| Box::new(child(n))),
            list_type: text(m, "x-kubernetes-list-type"),
            list_map_keys: strings("x-kubernetes-list-map-keys"),
        };
        match m.get("additionalProperties") {
            Some(ap @ Value::Object(_)) => s.additional = Some(Box::new(child(ap))),
            Some(Value::Bool(true)) => {
                s.additional = Some(Box::new(Schema {
                    preserve_unknown: true,
                    ..Schema::default()
                }))
            }
            _ => {}
        }
        s
    }

    /// The schema of `key`'s value in an object of this schema, if it is declared.
    pub fn field(&self, key: &str) -> Option<&Schema> {
        self.properties.get(key).or(self.additional.as_deref())
    }

    /// Whether unknown fields of an object here are kept.
    pub fn keeps_unknown(&self) -> bool {
        self.preserve_unknown || self.additional.is_some()
    }

    /// The schema at a dotted path of properties (`.spec.replicas`), for the scale
    /// subresource and printer columns.
    pub fn at_path(&self, path: &str) -> Option<&Schema> {
        let mut s = self;
        for part in path.trim_start_matches('.').split('.') {
            if part.is_empty() {
                continue;
            }
            s = s.properties.get(part)?;
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_common_keywords() {
        let s = Schema::parse(&json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "required": ["image"], "properties": {
                    "image": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10},
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 5, "default": 1},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "port": {"x-kubernetes-int-or-string": true},
                }},
            },
        }));
        let spec = s.field("spec").unwrap();
        assert_eq!(spec.required, vec!["image"]);
        let image = spec.field("image").unwrap();
        assert!(image.pattern.as_ref().unwrap().regex.is_some());
        assert_eq!(image.max_length, Some(10));
        assert_eq!(spec.at_path(".replicas").unwrap().default, Some(json!(1)));
        assert!(spec.field("labels").unwrap().field("anything").is_some());
        assert!(spec.field("port").unwrap().int_or_string);
        assert!(s.field("nope").is_none());
    }
}
