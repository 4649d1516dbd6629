//! Synthetic objects with every schema field set to a non-zero value, for
//! exhaustive round-trip tests (here and in rkube's other crates).

use serde_json::{json, Map, Value};

use crate::schema::{Label, MsgId, Scalar, Special, Ty, SCHEMA};

/// Nesting depth past which message fields are left out (guards recursion).
const MAX_DEPTH: usize = 24;

/// An object of this apiVersion/kind with every field the protobuf schema
/// knows set to a non-zero sample value (one element per array, one entry
/// per map). `None` if the kind is not supported.
pub fn sample_object(api_version: &str, kind: &str) -> Option<Value> {
    let id = SCHEMA.kind(api_version, kind)?;
    let mut out = Map::new();
    out.insert("kind".into(), kind.into());
    out.insert("apiVersion".into(), api_version.into());
    out.extend(object(id, 0));
    Some(Value::Object(out))
}

fn object(id: MsgId, depth: usize) -> Map<String, Value> {
    let mut out = Map::new();
    for f in &SCHEMA.msg(id).fields {
        if let (true, Ty::Msg(m)) = (f.inline, f.ty) {
            out.extend(object(m, depth + 1));
            continue;
        }
        let Some(v) = value(f.ty, f.num, &f.json, depth) else {
            continue;
        };
        let v = match f.label {
            Label::Single => v,
            Label::Repeated => Value::Array(vec![v]),
            Label::Map(_) => json!({ format!("{}-key", f.json): v }),
        };
        out.insert(f.json.clone(), v);
    }
    out
}

fn value(ty: Ty, num: u32, name: &str, depth: usize) -> Option<Value> {
    Some(match ty {
        Ty::Scalar(Scalar::Str) => Value::String(format!("{name}-value")),
        Ty::Scalar(Scalar::Bytes) => Value::String("Ynl0ZXMAAf8=".into()),
        Ty::Scalar(Scalar::Bool) => Value::Bool(true),
        Ty::Scalar(Scalar::I32) => json!(-(num as i32) - 1),
        Ty::Scalar(Scalar::I64) => json!(1_700_000_000_000_i64 + i64::from(num)),
        Ty::Msg(_) if depth >= MAX_DEPTH => return None,
        Ty::Msg(m) => match SCHEMA.msg(m).special {
            Special::None => Value::Object(object(m, depth + 1)),
            Special::Time => json!("2024-01-02T03:04:05Z"),
            Special::MicroTime => json!("2024-01-02T03:04:05.123456Z"),
            Special::Quantity => json!("1500m"),
            Special::IntOrString if num & 1 == 0 => json!(8080),
            Special::IntOrString => json!("http-port"),
            Special::Raw | Special::Unknown => {
                json!({"apiVersion": "v1", "kind": "X", "n": [1, 2.5]})
            }
            Special::Wrapper => json!(["item"]),
        },
    })
}
