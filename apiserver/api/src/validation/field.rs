//! Field paths and the constructors of upstream's `field.Error` kinds, rendered the way
//! `(*field.Error).Error()` renders them: `<path>: <Type>[: <value>][: <detail>]`.

use rkube_patch::go_format::go_quote;

use crate::status::Cause;

/// A field path as `field.Path.String()` prints it: `spec.containers[0].name`,
/// `metadata.labels[app]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn new(root: &str) -> Path {
        Path(root.to_string())
    }

    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{}", self.0, name))
        }
    }

    /// `child` for several nested names.
    pub fn at(&self, names: &[&str]) -> Path {
        names.iter().fold(self.clone(), |p, n| p.child(n))
    }

    pub fn index(&self, i: usize) -> Path {
        Path(format!("{}[{}]", self.0, i))
    }

    pub fn key(&self, k: &str) -> Path {
        Path(format!("{}[{}]", self.0, k))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A bad value as `ErrorBody` prints it: strings quoted (`%q`), numbers and booleans bare,
/// anything else pre-rendered (`%#v` of the Go value).
#[derive(Debug, Clone, PartialEq)]
pub enum Bad {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Already rendered (a Go `%#v` rendering, `null`, ...).
    Raw(String),
}

impl Bad {
    pub fn render(&self) -> String {
        match self {
            Bad::Str(s) => go_quote(s),
            Bad::Int(i) => i.to_string(),
            Bad::Float(f) => format_float(*f),
            Bad::Bool(b) => b.to_string(),
            Bad::Raw(r) => r.clone(),
        }
    }
}

fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

impl From<&str> for Bad {
    fn from(s: &str) -> Bad {
        Bad::Str(s.to_string())
    }
}
impl From<String> for Bad {
    fn from(s: String) -> Bad {
        Bad::Str(s)
    }
}
impl From<&String> for Bad {
    fn from(s: &String) -> Bad {
        Bad::Str(s.clone())
    }
}
impl From<i64> for Bad {
    fn from(i: i64) -> Bad {
        Bad::Int(i)
    }
}
impl From<i32> for Bad {
    fn from(i: i32) -> Bad {
        Bad::Int(i as i64)
    }
}
impl From<usize> for Bad {
    fn from(i: usize) -> Bad {
        Bad::Int(i as i64)
    }
}
impl From<bool> for Bad {
    fn from(b: bool) -> Bad {
        Bad::Bool(b)
    }
}

/// A JSON value as the bad value of a typed Go field: strings quoted, numbers bare.
pub fn bad_json(v: &serde_json::Value) -> Bad {
    use serde_json::Value;
    match v {
        Value::String(s) => Bad::Str(s.clone()),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Bad::Int(i),
            None => Bad::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::Bool(b) => Bad::Bool(*b),
        Value::Null => Bad::Raw("null".into()),
        other => Bad::Raw(other.to_string()),
    }
}

fn cause(reason: &str, path: &Path, body: String) -> Cause {
    Cause::new(
        reason,
        format!("{}: {}", path.as_str(), body),
        path.as_str(),
    )
}

fn with_detail(mut body: String, detail: &str) -> String {
    if !detail.is_empty() {
        body.push_str(": ");
        body.push_str(detail);
    }
    body
}

/// `field.Required`.
pub fn required(path: &Path, detail: &str) -> Cause {
    cause(
        "FieldValueRequired",
        path,
        with_detail("Required value".into(), detail),
    )
}

/// `field.Forbidden`.
pub fn forbidden(path: &Path, detail: &str) -> Cause {
    cause(
        "FieldValueForbidden",
        path,
        with_detail("Forbidden".into(), detail),
    )
}

/// `field.Invalid`.
pub fn invalid(path: &Path, value: impl Into<Bad>, detail: &str) -> Cause {
    cause(
        "FieldValueInvalid",
        path,
        with_detail(format!("Invalid value: {}", value.into().render()), detail),
    )
}

/// `field.NotSupported`.
pub fn not_supported(path: &Path, value: impl Into<Bad>, valid: &[&str]) -> Cause {
    let detail = if valid.is_empty() {
        String::new()
    } else {
        let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
        format!("supported values: {}", quoted.join(", "))
    };
    cause(
        "FieldValueNotSupported",
        path,
        with_detail(
            format!("Unsupported value: {}", value.into().render()),
            &detail,
        ),
    )
}

/// `field.Duplicate`.
pub fn duplicate(path: &Path, value: impl Into<Bad>) -> Cause {
    cause(
        "FieldValueDuplicate",
        path,
        format!("Duplicate value: {}", value.into().render()),
    )
}

/// `field.NotFound`.
pub fn not_found(path: &Path, value: impl Into<Bad>) -> Cause {
    cause(
        "FieldValueNotFound",
        path,
        format!("Not found: {}", value.into().render()),
    )
}

/// `field.TooLong` (1.32+ wording).
pub fn too_long(path: &Path, max: usize) -> Cause {
    let unit = if max == 1 { "byte" } else { "bytes" };
    cause(
        "FieldValueTooLong",
        path,
        format!("Too long: may not be more than {max} {unit}"),
    )
}

/// `field.TooMany`.
pub fn too_many(path: &Path, actual: usize, max: usize) -> Cause {
    let unit = if max == 1 { "item" } else { "items" };
    cause(
        "FieldValueTooMany",
        path,
        format!("Too many: {actual}: must have at most {max} {unit}"),
    )
}

/// `field.InternalError`.
pub fn internal(path: &Path, detail: &str) -> Cause {
    cause("InternalError", path, format!("Internal error: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_field_path() {
        let p = Path::new("spec").child("containers").index(0).child("name");
        assert_eq!(p.as_str(), "spec.containers[0].name");
        let k = Path::new("metadata").child("labels").key("app");
        assert_eq!(k.as_str(), "metadata.labels[app]");
        assert_eq!(Path::new("").child("data").as_str(), "data");
    }

    #[test]
    fn error_bodies_match_upstream() {
        let p = Path::new("spec").child("replicas");
        assert_eq!(
            invalid(&p, -1i64, "must be greater than or equal to 0").message,
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        assert_eq!(
            required(&Path::new("spec").child("containers"), "").message,
            "spec.containers: Required value"
        );
        assert_eq!(
            not_supported(&Path::new("spec.restartPolicy"), "x", &["Always", "Never"]).message,
            "spec.restartPolicy: Unsupported value: \"x\": supported values: \"Always\", \"Never\""
        );
        assert_eq!(
            too_long(&Path::new("metadata.annotations"), 262144).message,
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
        assert_eq!(
            duplicate(&Path::new("a"), "b").reason,
            "FieldValueDuplicate"
        );
        assert_eq!(go_quote("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
