//! JSON -> protobuf message bytes, driven by the schema.

use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::schema::{Label, MsgId, Scalar, Special, Ty, SCHEMA};
use crate::wire::{put_bytes, put_uint};
use crate::{time, Path, ProtoError};

/// Standard alphabet, padding optional (Go writes it, some clients do not).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn invalid(path: &Path, message: impl Into<String>) -> ProtoError {
    ProtoError::InvalidJson {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Encodes the fields of `obj` as message `id`, appending to `out`. Fields
/// are written in field-number order; null and unknown JSON fields are
/// skipped.
pub(crate) fn object(
    id: MsgId,
    obj: &Map<String, Value>,
    path: &Path,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    let msg = SCHEMA.msg(id);
    for &i in &msg.by_num {
        let f = &msg.fields[i];
        let p = Path::Field(path, &f.json);
        if f.inline {
            let Ty::Msg(m) = f.ty else {
                return Err(invalid(&p, "inline field of scalar type"));
            };
            let mut sub = Vec::new();
            object(m, obj, path, &mut sub)?;
            if !sub.is_empty() {
                put_bytes(out, f.num, &sub);
            }
            continue;
        }
        let Some(v) = obj.get(&f.json).filter(|v| !v.is_null()) else {
            continue;
        };
        match f.label {
            Label::Single => put_value(f.ty, f.num, v, &p, out)?,
            Label::Repeated => {
                let items = v
                    .as_array()
                    .ok_or_else(|| invalid(&p, "expected an array"))?;
                for (n, item) in items.iter().enumerate() {
                    put_value(f.ty, f.num, item, &Path::Index(&p, n), out)?;
                }
            }
            Label::Map(key) => {
                if key != Scalar::Str {
                    return Err(invalid(&p, "only string map keys are supported"));
                }
                let map = v
                    .as_object()
                    .ok_or_else(|| invalid(&p, "expected an object"))?;
                // Go writes map entries sorted by key.
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                for k in keys {
                    let mut entry = Vec::new();
                    put_bytes(&mut entry, 1, k.as_bytes());
                    put_value(f.ty, 2, &map[k], &Path::Key(&p, k), &mut entry)?;
                    put_bytes(out, f.num, &entry);
                }
            }
        }
    }
    Ok(())
}

/// Writes one value of type `ty` as field `num`. A null (possible inside
/// arrays and maps) is written as the type's zero value.
fn put_value(
    ty: Ty,
    num: u32,
    v: &Value,
    path: &Path,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    match ty {
        Ty::Scalar(s) => put_scalar(s, num, v, path, out),
        Ty::Msg(m) => {
            let mut sub = Vec::new();
            if !v.is_null() {
                message(m, v, path, &mut sub)?;
            }
            put_bytes(out, num, &sub);
            Ok(())
        }
    }
}

fn integer(v: &Value, path: &Path) -> Result<i64, ProtoError> {
    match v {
        Value::Null => Ok(0),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(f as i64),
                _ => Err(invalid(path, format!("{n} is not a 64-bit integer"))),
            }
        }
        other => Err(invalid(path, format!("expected an integer, got {other}"))),
    }
}

fn put_scalar(
    s: Scalar,
    num: u32,
    v: &Value,
    path: &Path,
    out: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    match s {
        Scalar::Str => match v {
            Value::String(t) => put_bytes(out, num, t.as_bytes()),
            Value::Null => put_bytes(out, num, b""),
            other => return Err(invalid(path, format!("expected a string, got {other}"))),
        },
        Scalar::Bytes => match v {
            Value::String(t) => {
                let data = BASE64
                    .decode(t.trim_end_matches(['\r', '\n']))
                    .map_err(|e| invalid(path, format!("invalid base64: {e}")))?;
                put_bytes(out, num, &data);
            }
            Value::Null => put_bytes(out, num, b""),
            other => {
                return Err(invalid(
                    path,
                    format!("expected a base64 string, got {other}"),
                ))
            }
        },
        Scalar::Bool => match v {
            Value::Bool(b) => put_uint(out, num, u64::from(*b)),
            Value::Null => put_uint(out, num, 0),
            other => return Err(invalid(path, format!("expected a boolean, got {other}"))),
        },
        Scalar::I32 => {
            let n = integer(v, path)?;
            let n = i32::try_from(n)
                .map_err(|_| invalid(path, format!("{n} does not fit in int32")))?;
            // Negative int32 values are sign-extended to 64 bits on the wire.
            put_uint(out, num, i64::from(n) as u64);
        }
        Scalar::I64 => put_uint(out, num, integer(v, path)? as u64),
    }
    Ok(())
}

/// Encodes a non-null JSON value of message type `id` (without its key).
fn message(id: MsgId, v: &Value, path: &Path, out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let msg = SCHEMA.msg(id);
    match msg.special {
        Special::None => {
            let obj = v
                .as_object()
                .ok_or_else(|| invalid(path, format!("expected a {} object, got {v}", msg.name)))?;
            object(id, obj, path, out)
        }
        Special::Time | Special::MicroTime => {
            let s = v
                .as_str()
                .ok_or_else(|| invalid(path, format!("expected a time string, got {v}")))?;
            let (seconds, nanos) = time::parse(s).map_err(|e| invalid(path, e))?;
            put_uint(out, 1, seconds as u64);
            put_uint(out, 2, i64::from(nanos) as u64);
            Ok(())
        }
        Special::Quantity => {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => return Err(invalid(path, format!("expected a quantity, got {other}"))),
            };
            put_bytes(out, 1, s.as_bytes());
            Ok(())
        }
        Special::IntOrString => {
            let (kind, int, s) = match v {
                Value::String(s) => (1, 0, s.as_str()),
                Value::Number(_) => {
                    let n = integer(v, path)?;
                    let n = i32::try_from(n)
                        .map_err(|_| invalid(path, format!("{n} does not fit in int32")))?;
                    (0, n, "")
                }
                other => {
                    return Err(invalid(
                        path,
                        format!("expected an integer or string, got {other}"),
                    ))
                }
            };
            put_uint(out, 1, kind);
            put_uint(out, 2, i64::from(int) as u64);
            put_bytes(out, 3, s.as_bytes());
            Ok(())
        }
        Special::Raw | Special::Unknown => {
            let raw = serde_json::to_vec(v).map_err(|e| invalid(path, e.to_string()))?;
            put_bytes(out, if msg.special == Special::Raw { 1 } else { 2 }, &raw);
            Ok(())
        }
        Special::Wrapper => {
            let mut obj = Map::new();
            obj.insert("items".into(), v.clone());
            object(id, &obj, path, out)
        }
    }
}
