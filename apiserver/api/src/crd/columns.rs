//! Server-side printing of custom resources: the Name column, then the version's
//! `additionalPrinterColumns` (or an Age column when it has none), as upstream's CRD
//! table convertor prints them.

use serde_json::{json, Value};

use crate::table::util::{self, Time};

/// One `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PrinterColumn {
    pub name: String,
    /// integer, number, string, boolean or date.
    pub typ: String,
    pub format: String,
    pub description: String,
    pub priority: i64,
    pub json_path: String,
}

impl PrinterColumn {
    pub fn parse(v: &Value) -> PrinterColumn {
        let t = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        PrinterColumn {
            name: t("name"),
            typ: t("type"),
            format: t("format"),
            description: t("description"),
            priority: v.get("priority").and_then(Value::as_i64).unwrap_or(0),
            json_path: t("jsonPath"),
        }
    }

    /// The column a version without printer columns gets (upstream's
    /// `serveDefaultColumnsIfEmpty`).
    pub fn age() -> PrinterColumn {
        PrinterColumn {
            name: "Age".into(),
            typ: "date".into(),
            format: String::new(),
            description: crate::table::docs::META_CREATED.into(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        }
    }
}

/// The `columnDefinitions` of a custom resource's Table.
pub fn definitions(columns: &[PrinterColumn]) -> Vec<Value> {
    let mut out = vec![json!({
        "name": "Name", "type": "string", "format": "name",
        "description": crate::table::docs::META_NAME, "priority": 0,
    })];
    out.extend(columns.iter().map(|c| {
        json!({"name": c.name, "type": c.typ, "format": c.format, "description": c.description, "priority": c.priority})
    }));
    out
}

/// One object's cells: its name, then each column's value (null when the path finds
/// nothing or a value of another type).
pub fn cells(columns: &[PrinterColumn], obj: &Value, now: Time) -> Vec<Value> {
    let mut out = vec![json!(util::name(obj))];
    out.extend(columns.iter().map(|c| cell(c, obj, now)));
    out
}

fn cell(c: &PrinterColumn, obj: &Value, now: Time) -> Value {
    let Some(v) = lookup(obj, &c.json_path) else {
        return Value::Null;
    };
    match c.typ.as_str() {
        "date" => match v.as_str().and_then(util::parse_time) {
            Some(t) => json!(util::since(Some(t), now)),
            None => Value::Null,
        },
        "integer" => v.as_i64().map(Value::from).unwrap_or(Value::Null),
        "number" => {
            if v.is_number() {
                v.clone()
            } else {
                Value::Null
            }
        }
        "boolean" => v.as_bool().map(Value::from).unwrap_or(Value::Null),
        // Strings print as JSONPath prints the value: text as it is, others as JSON.
        _ => match v {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
    }
}

/// The value at a simple JSONPath (`.spec.replicas`, `{.status.conditions[0].type}`,
/// `.metadata.labels['app']`), the subset upstream allows in printer columns.
pub fn lookup<'a>(obj: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    let path = path
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .unwrap_or(path);
    let mut cur = obj;
    for step in steps(path)? {
        cur = match step {
            Step::Field(name) => cur.get(name.as_str())?,
            Step::Index(i) => cur.as_array()?.get(i)?,
        };
    }
    Some(cur)
}

enum Step {
    Field(String),
    Index(usize),
}

fn steps(path: &str) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    let mut rest = path.strip_prefix('.').unwrap_or(path);
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let inner = &after[..end];
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            match quoted {
                Some(key) => out.push(Step::Field(key.to_string())),
                None => out.push(Step::Index(inner.parse().ok()?)),
            }
            rest = &after[end + 1..];
            rest = rest.strip_prefix('.').unwrap_or(rest);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        out.push(Step::Field(rest[..end].to_string()));
        rest = &rest[end..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        let obj = json!({"metadata": {"name": "n", "labels": {"a.b/c": "x"}},
            "spec": {"replicas": 3, "ports": [{"port": 80}]}});
        assert_eq!(lookup(&obj, ".spec.replicas"), Some(&json!(3)));
        assert_eq!(lookup(&obj, "{.spec.ports[0].port}"), Some(&json!(80)));
        assert_eq!(lookup(&obj, ".metadata.labels['a.b/c']"), Some(&json!("x")));
        assert_eq!(lookup(&obj, ".spec.nope"), None);
    }

    #[test]
    fn cells_follow_column_types() {
        let cols = vec![
            PrinterColumn {
                name: "Replicas".into(),
                typ: "integer".into(),
                format: String::new(),
                description: String::new(),
                priority: 0,
                json_path: ".spec.replicas".into(),
            },
            PrinterColumn {
                name: "Image".into(),
                typ: "string".into(),
                format: String::new(),
                description: String::new(),
                priority: 0,
                json_path: ".spec.image".into(),
            },
            PrinterColumn::age(),
        ];
        let obj = json!({"metadata": {"name": "n", "creationTimestamp": "2020-01-01T00:00:00Z"}, "spec": {"replicas": 2}});
        let now = util::parse_time("2020-01-01T00:05:00Z").unwrap();
        assert_eq!(
            cells(&cols, &obj, now),
            vec![json!("n"), json!(2), Value::Null, json!("5m")]
        );
        assert_eq!(definitions(&cols).len(), 4);
    }
}
