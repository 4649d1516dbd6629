//! Protobuf message bytes -> JSON, driven by the schema.

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

use crate::schema::{Label, MsgId, Scalar, Special, Ty, SCHEMA};
use crate::wire::{parse_fields, read_varint, WireVal};
use crate::{time, Path, ProtoError};

fn malformed(path: &Path, message: impl Into<String>) -> ProtoError {
    ProtoError::Malformed {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Decodes a message into its JSON object. The flag says whether anything
/// beyond zero values was present (Go would consider the struct non-zero).
pub(crate) fn object(
    id: MsgId,
    bytes: &[u8],
    path: &Path,
) -> Result<(Map<String, Value>, bool), ProtoError> {
    let msg = SCHEMA.msg(id);
    let mut vals: Vec<Vec<WireVal>> = vec![Vec::new(); msg.fields.len()];
    for (num, v) in parse_fields(bytes).map_err(|e| malformed(path, e))? {
        // Fields this schema does not know are skipped, as Go does.
        if let Some(i) = msg.index_of(num) {
            vals[i].push(v);
        }
    }
    let mut out = Map::new();
    let mut content = false;
    for (f, vs) in msg.fields.iter().zip(&vals) {
        let p = Path::Field(path, &f.json);
        match (f.label, f.ty) {
            (Label::Repeated, ty) => {
                let mut items = Vec::new();
                for v in vs {
                    match (ty, *v) {
                        (Ty::Scalar(s), WireVal::Bytes(b))
                            if s != Scalar::Str && s != Scalar::Bytes =>
                        {
                            // packed encoding
                            let mut pos = 0;
                            while pos < b.len() {
                                let n = read_varint(b, &mut pos).map_err(|e| malformed(&p, e))?;
                                items.push(scalar(s, WireVal::Varint(n), &p)?);
                            }
                        }
                        (Ty::Scalar(s), v) => items.push(scalar(s, v, &p)?),
                        (Ty::Msg(m), v) => items.push(value(m, bytes_of(v, &p)?, &p)?.0),
                    }
                }
                if !items.is_empty() {
                    out.insert(f.json.clone(), Value::Array(items));
                    content = true;
                }
            }
            (Label::Map(key), ty) => {
                let mut map = Map::new();
                for v in vs {
                    let (k, v) = map_entry(key, ty, bytes_of(*v, &p)?, &p)?;
                    map.insert(k, v);
                }
                if !map.is_empty() {
                    out.insert(f.json.clone(), Value::Object(map));
                    content = true;
                }
            }
            (Label::Single, Ty::Scalar(s)) => match vs.last() {
                Some(v) => {
                    let v = scalar(s, *v, &p)?;
                    let zero = is_zero_scalar(&v);
                    if !zero || f.ptr || f.required {
                        out.insert(f.json.clone(), v);
                    }
                    content |= !zero || f.ptr;
                }
                None if f.required => {
                    out.insert(f.json.clone(), zero_scalar(s));
                }
                None => {}
            },
            (Label::Single, Ty::Msg(m)) => {
                let data = merged(vs, &p)?;
                if f.inline {
                    let (sub, c) = object(m, &data, &p)?;
                    out.extend(sub);
                    content |= c;
                } else if !vs.is_empty() {
                    let (v, nonzero) = value(m, &data, &p)?;
                    if nonzero || (f.ptr && !v.is_null()) {
                        out.insert(f.json.clone(), v);
                        content = true;
                    }
                }
            }
        }
    }
    Ok((out, content))
}

/// The bytes of a non-repeated message field; several occurrences merge,
/// which for protobuf means concatenating them.
fn merged<'a>(vs: &[WireVal<'a>], path: &Path) -> Result<Cow<'a, [u8]>, ProtoError> {
    match vs {
        [] => Ok(Cow::Borrowed(&[])),
        [v] => Ok(Cow::Borrowed(bytes_of(*v, path)?)),
        _ => {
            let mut all = Vec::new();
            for v in vs {
                all.extend_from_slice(bytes_of(*v, path)?);
            }
            Ok(Cow::Owned(all))
        }
    }
}

fn bytes_of<'a>(v: WireVal<'a>, path: &Path) -> Result<&'a [u8], ProtoError> {
    match v {
        WireVal::Bytes(b) => Ok(b),
        other => Err(malformed(
            path,
            format!("expected a length-delimited value, got {other:?}"),
        )),
    }
}

fn scalar(s: Scalar, v: WireVal, path: &Path) -> Result<Value, ProtoError> {
    Ok(match (s, v) {
        (Scalar::Str, WireVal::Bytes(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
        (Scalar::Bytes, WireVal::Bytes(b)) => {
            Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        (Scalar::Bool, WireVal::Varint(n)) => Value::Bool(n != 0),
        (Scalar::I32, WireVal::Varint(n)) => Value::Number((n as i32).into()),
        (Scalar::I64, WireVal::Varint(n)) => Value::Number((n as i64).into()),
        (s, v) => return Err(malformed(path, format!("expected {s:?}, got {v:?}"))),
    })
}

fn zero_scalar(s: Scalar) -> Value {
    match s {
        Scalar::Str | Scalar::Bytes => Value::String(String::new()),
        Scalar::Bool => Value::Bool(false),
        Scalar::I32 | Scalar::I64 => Value::Number(0.into()),
    }
}

fn is_zero_scalar(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        _ => false,
    }
}

fn map_entry(
    key: Scalar,
    ty: Ty,
    bytes: &[u8],
    path: &Path,
) -> Result<(String, Value), ProtoError> {
    let (mut k, mut v) = (None, None);
    for (num, val) in parse_fields(bytes).map_err(|e| malformed(path, e))? {
        match num {
            1 => k = Some(val),
            2 => v = Some(val),
            _ => {}
        }
    }
    let k = match k {
        Some(k) => scalar(key, k, path)?,
        None => zero_scalar(key),
    };
    let k = match k {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let p = Path::Key(path, &k);
    let v = match (ty, v) {
        (Ty::Scalar(s), Some(v)) => scalar(s, v, &p)?,
        (Ty::Scalar(s), None) => zero_scalar(s),
        (Ty::Msg(m), v) => {
            let b = match v {
                Some(v) => bytes_of(v, &p)?,
                None => &[],
            };
            value(m, b, &p)?.0
        }
    };
    Ok((k, v))
}

/// Single-value fields of small messages (Time, IntOrString, ...), by number.
fn small_fields<'a>(bytes: &'a [u8], path: &Path) -> Result<[Option<WireVal<'a>>; 4], ProtoError> {
    let mut out = [None; 4];
    for (num, v) in parse_fields(bytes).map_err(|e| malformed(path, e))? {
        if let Some(slot) = out.get_mut(num as usize) {
            *slot = Some(v);
        }
    }
    Ok(out)
}

fn varint_of(v: Option<WireVal>, path: &Path) -> Result<u64, ProtoError> {
    match v {
        None => Ok(0),
        Some(WireVal::Varint(n)) => Ok(n),
        Some(other) => Err(malformed(path, format!("expected a varint, got {other:?}"))),
    }
}

fn raw_json(raw: &[u8], path: &Path) -> Result<Value, ProtoError> {
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(&crate::MAGIC) {
        return crate::decode(raw);
    }
    serde_json::from_slice(raw)
        .map_err(|e| malformed(path, format!("embedded raw object is not JSON: {e}")))
}

/// Decodes a message-typed value: its JSON and whether it is non-zero.
pub(crate) fn value(id: MsgId, bytes: &[u8], path: &Path) -> Result<(Value, bool), ProtoError> {
    let msg = SCHEMA.msg(id);
    match msg.special {
        Special::None => {
            let (obj, content) = object(id, bytes, path)?;
            Ok((Value::Object(obj), content))
        }
        Special::Time | Special::MicroTime => {
            // A zero Time marshals to an empty message.
            if bytes.is_empty() {
                return Ok((Value::Null, false));
            }
            let f = small_fields(bytes, path)?;
            let seconds = varint_of(f[1], path)? as i64;
            let nanos = varint_of(f[2], path)? as i32;
            let s = time::format(seconds, nanos, msg.special == Special::MicroTime);
            Ok((Value::String(s), true))
        }
        Special::Quantity => {
            let f = small_fields(bytes, path)?;
            let s = match f[1] {
                Some(v) => bytes_of(v, path)?,
                None => &[],
            };
            if s.is_empty() {
                return Ok((Value::String("0".into()), false));
            }
            Ok((Value::String(String::from_utf8_lossy(s).into_owned()), true))
        }
        Special::IntOrString => {
            let f = small_fields(bytes, path)?;
            if varint_of(f[1], path)? == 1 {
                let s = match f[3] {
                    Some(v) => String::from_utf8_lossy(bytes_of(v, path)?).into_owned(),
                    None => String::new(),
                };
                Ok((Value::String(s), true))
            } else {
                let n = varint_of(f[2], path)? as i32;
                Ok((Value::Number(Number::from(n)), n != 0))
            }
        }
        Special::Raw | Special::Unknown => {
            let field = if msg.special == Special::Raw { 1 } else { 2 };
            let f = small_fields(bytes, path)?;
            let raw = match f[field] {
                Some(v) => bytes_of(v, path)?,
                None => &[],
            };
            let v = raw_json(raw, path)?;
            let nonzero = !v.is_null();
            Ok((v, nonzero))
        }
        Special::Wrapper => {
            let (mut obj, content) = object(id, bytes, path)?;
            let items = obj.remove("items").unwrap_or(Value::Array(Vec::new()));
            Ok((items, content))
        }
    }
}
