//! Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) for
//! the rkube apiserver, converting to and from the JSON form of the objects.
//!
//! A body is the 4-byte magic `k8s\0` followed by a `runtime.Unknown` message
//! whose `typeMeta` names the apiVersion/kind and whose `raw` field holds the
//! object's own protobuf message. Conversion is driven by a built-in schema of
//! the Kubernetes v1.33 messages (see [`supports`]); the JSON produced follows
//! the Kubernetes JSON encoding: JSON field names, Go `omitempty` rules,
//! Time/MicroTime as RFC 3339 strings, Quantity as string, IntOrString as
//! number or string, bytes as base64, RawExtension/FieldsV1 as embedded JSON.
//!
//! Decoding omits fields that are unset or hold a zero value, except Go
//! pointer fields (`replicas: 0`, `automountServiceAccountToken: false`,
//! `emptyDir: {}` stay) and scalar fields Go writes without `omitempty`
//! (`ready: false`, `restartCount: 0`), which are always present.

mod decode;
mod encode;
mod sample;
mod schema;
mod time;
mod wire;

use serde_json::{Map, Value};
use std::fmt;

pub use sample::sample_object;
use schema::SCHEMA;
use wire::{put_bytes, WireVal};

/// The prefix of every Kubernetes protobuf body: `k8s\0`.
pub const MAGIC: [u8; 4] = *b"k8s\0";

/// The media type of the Kubernetes protobuf encoding.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Errors converting between the protobuf and JSON forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The body does not start with the `k8s\0` magic.
    #[error("not a Kubernetes protobuf body: missing the \"k8s\\0\" prefix")]
    MissingMagic,
    /// The object has no (string) apiVersion or kind.
    #[error("object has no apiVersion and kind")]
    MissingTypeMeta,
    /// No protobuf message is known for this apiVersion/kind.
    #[error("no protobuf encoding for apiVersion {api_version:?} kind {kind:?}")]
    UnsupportedKind { api_version: String, kind: String },
    /// An envelope this crate does not handle (content encoding, content type).
    #[error("unsupported protobuf envelope: {0}")]
    Unsupported(String),
    /// The protobuf bytes are malformed or do not match the schema.
    #[error("malformed protobuf at {path}: {message}")]
    Malformed { path: String, message: String },
    /// A JSON value does not fit the field it is in.
    #[error("cannot encode {path} as protobuf: {message}")]
    InvalidJson { path: String, message: String },
}

/// Decodes a protobuf request body (magic + `runtime.Unknown` envelope) into
/// the JSON object Kubernetes' JSON encoding would produce, with `kind` and
/// `apiVersion` set.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let rest = body.strip_prefix(&MAGIC).ok_or(ProtoError::MissingMagic)?;
    let root = Path::Root("Unknown");
    let malformed = |e: String| ProtoError::Malformed {
        path: root.to_string(),
        message: e,
    };
    let (mut api_version, mut kind) = (String::new(), String::new());
    let (mut raw, mut encoding, mut content_type): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
    for (num, val) in wire::parse_fields(rest).map_err(malformed)? {
        let WireVal::Bytes(b) = val else {
            return Err(malformed(format!("field {num} is not length-delimited")));
        };
        match num {
            1 => {
                for (n, v) in wire::parse_fields(b).map_err(malformed)? {
                    match (n, v) {
                        (1, WireVal::Bytes(s)) => api_version = String::from_utf8_lossy(s).into(),
                        (2, WireVal::Bytes(s)) => kind = String::from_utf8_lossy(s).into(),
                        _ => {}
                    }
                }
            }
            2 => raw = b,
            3 => encoding = b,
            4 => content_type = b,
            _ => {}
        }
    }
    if !encoding.is_empty() {
        let e = String::from_utf8_lossy(encoding);
        return Err(ProtoError::Unsupported(format!("content encoding {e:?}")));
    }
    let content_type = String::from_utf8_lossy(content_type);
    let object = match content_type.as_ref() {
        "" | CONTENT_TYPE => {
            let id =
                SCHEMA
                    .kind(&api_version, &kind)
                    .ok_or_else(|| ProtoError::UnsupportedKind {
                        api_version: api_version.clone(),
                        kind: kind.clone(),
                    })?;
            decode::object(id, raw, &Path::Root(&kind))?.0
        }
        "application/json" => match serde_json::from_slice(raw) {
            Ok(Value::Object(o)) => o,
            _ => return Err(malformed("raw is not a JSON object".into())),
        },
        other => return Err(ProtoError::Unsupported(format!("content type {other:?}"))),
    };
    let mut out = Map::with_capacity(object.len() + 2);
    out.insert("kind".into(), Value::String(kind));
    out.insert("apiVersion".into(), Value::String(api_version));
    for (k, v) in object {
        if k != "kind" && k != "apiVersion" {
            out.insert(k, v);
        }
    }
    Ok(Value::Object(out))
}

/// Encodes a JSON object carrying `apiVersion` and `kind` into a protobuf
/// body (magic + `runtime.Unknown` envelope), as the Kubernetes apiserver
/// writes responses. JSON fields unknown to the message are ignored.
pub fn encode(obj: &Value) -> Result<Vec<u8>, ProtoError> {
    let map = obj.as_object().ok_or(ProtoError::MissingTypeMeta)?;
    let field = |k: &str| map.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        return Err(ProtoError::MissingTypeMeta);
    };
    let id = SCHEMA
        .kind(api_version, kind)
        .ok_or_else(|| ProtoError::UnsupportedKind {
            api_version: api_version.into(),
            kind: kind.into(),
        })?;
    let mut raw = Vec::new();
    encode::object(id, map, &Path::Root(kind), &mut raw)?;
    let mut type_meta = Vec::new();
    put_bytes(&mut type_meta, 1, api_version.as_bytes());
    put_bytes(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + type_meta.len() + 16);
    out.extend_from_slice(&MAGIC);
    put_bytes(&mut out, 1, &type_meta);
    put_bytes(&mut out, 2, &raw);
    put_bytes(&mut out, 3, b"");
    put_bytes(&mut out, 4, b"");
    Ok(out)
}

/// Encodes one event of a protobuf watch stream: a 4-byte big-endian length
/// followed by a `meta/v1 WatchEvent` message (without envelope) whose
/// `object.raw` holds the object encoded by [`encode`] — what the apiserver
/// writes for `application/vnd.kubernetes.protobuf;stream=watch`.
pub fn encode_watch_event(event_type: &str, object: &Value) -> Result<Vec<u8>, ProtoError> {
    let mut raw_ext = Vec::new();
    put_bytes(&mut raw_ext, 1, &encode(object)?);
    let mut event = Vec::new();
    put_bytes(&mut event, 1, event_type.as_bytes());
    put_bytes(&mut event, 2, &raw_ext);
    let len = u32::try_from(event.len())
        .map_err(|_| ProtoError::Unsupported("watch event larger than 4 GiB".into()))?;
    let mut frame = Vec::with_capacity(event.len() + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&event);
    Ok(frame)
}

/// Decodes one frame written by [`encode_watch_event`] (or an apiserver's
/// protobuf watch stream) into the event type and the object as JSON.
pub fn decode_watch_event(frame: &[u8]) -> Result<(String, Value), ProtoError> {
    let malformed = |e: &str| ProtoError::Malformed {
        path: "WatchEvent".into(),
        message: e.into(),
    };
    let (len, body) = frame
        .split_at_checked(4)
        .ok_or_else(|| malformed("short frame"))?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if body.len() != len {
        return Err(malformed("frame length does not match its prefix"));
    }
    let id = SCHEMA.by_name["meta.v1.WatchEvent"];
    let event = decode::object(id, body, &Path::Root("WatchEvent"))?.0;
    let event_type = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let object = event.get("object").cloned().unwrap_or(Value::Null);
    Ok((event_type.to_string(), object))
}

/// Whether objects of this apiVersion/kind can be encoded and decoded.
/// `Status`, `WatchEvent`, `DeleteOptions` and the other meta/v1 option and
/// discovery kinds are accepted under any apiVersion, as upstream registers
/// them in every group version.
pub fn supports(api_version: &str, kind: &str) -> bool {
    SCHEMA.kind(api_version, kind).is_some()
}

/// All supported (apiVersion, kind) pairs, sorted; apiVersion `"*"` marks the
/// kinds accepted under any apiVersion.
pub fn supported_kinds() -> Vec<(String, String)> {
    SCHEMA.all_kinds()
}

/// Where in an object a conversion is, for error messages
/// (`Pod.spec.containers[0].ports[1].containerPort`).
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(k) => write!(f, "{k}"),
            Path::Field(p, name) => write!(f, "{p}.{name}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
            Path::Key(p, k) => write!(f, "{p}[{k:?}]"),
        }
    }
}
