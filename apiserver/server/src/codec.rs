//! Content negotiation and body decoding.

use rkube_api::ApiError;
use serde_json::Value;

pub const JSON: &str = "application/json";
pub const YAML: &str = "application/yaml";
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// The largest request body accepted, like upstream's 3 MiB limit.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Protobuf,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => JSON,
            Format::Yaml => YAML,
            Format::Protobuf => PROTOBUF,
        }
    }
}

/// What shape the client wants the answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The object or list as stored.
    Plain,
    /// `as=Table` (meta.k8s.io v1 or v1beta1).
    Table { v1beta1: bool },
    /// `as=PartialObjectMetadata` / `PartialObjectMetadataList`.
    Metadata { v1beta1: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub format: Format,
    pub shape: Shape,
}

struct MediaRange<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

fn parse_ranges(accept: &str) -> Vec<MediaRange<'_>> {
    accept
        .split(',')
        .map(|part| {
            let mut it = part.split(';').map(str::trim);
            let essence = it.next().unwrap_or("");
            let params = it
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim(), v.trim()))
                .collect();
            MediaRange { essence, params }
        })
        .collect()
}

fn format_of(essence: &str) -> Option<Format> {
    match essence.to_ascii_lowercase().as_str() {
        "application/json" | "*/*" | "application/*" | "" => Some(Format::Json),
        "application/yaml" => Some(Format::Yaml),
        "application/vnd.kubernetes.protobuf" => Some(Format::Protobuf),
        _ => None,
    }
}

/// Pick the first acceptable media range of `Accept` (in the client's order).
pub fn negotiate(accept: Option<&str>) -> Result<Negotiated, ApiError> {
    negotiate_for(accept, true)
}

/// [`negotiate`] for a resource that may have no table form (`tables: false`): then a
/// Table is not among the acceptable types, as upstream's negotiation skips it for a
/// resource without a table convertor.
pub fn negotiate_for(accept: Option<&str>, tables: bool) -> Result<Negotiated, ApiError> {
    let accept = match accept {
        None => {
            return Ok(Negotiated {
                format: Format::Json,
                shape: Shape::Plain,
            })
        }
        Some(a) if a.trim().is_empty() => {
            return Ok(Negotiated {
                format: Format::Json,
                shape: Shape::Plain,
            })
        }
        Some(a) => a,
    };
    for range in parse_ranges(accept) {
        let Some(format) = format_of(range.essence) else {
            continue;
        };
        let param = |k: &str| {
            range
                .params
                .iter()
                .find(|(pk, _)| *pk == k)
                .map(|(_, v)| *v)
        };
        let shape = match param("as") {
            None => Shape::Plain,
            Some(kind) => {
                if param("g") != Some("meta.k8s.io") {
                    continue;
                }
                let v1beta1 = match param("v") {
                    Some("v1") => false,
                    Some("v1beta1") => true,
                    _ => continue,
                };
                match kind {
                    "Table" if tables => Shape::Table { v1beta1 },
                    "PartialObjectMetadata" | "PartialObjectMetadataList" => {
                        Shape::Metadata { v1beta1 }
                    }
                    _ => continue,
                }
            }
        };
        // Tables and metadata are served as JSON (and YAML) only, like upstream.
        if format == Format::Protobuf && shape != Shape::Plain {
            continue;
        }
        return Ok(Negotiated { format, shape });
    }
    Err(ApiError::not_acceptable())
}

/// The kinds of request body, from Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    Json,
    Yaml,
    Protobuf,
    JsonPatch,
    MergePatch,
    StrategicMergePatch,
    ApplyPatch,
}

pub fn body_type(content_type: Option<&str>) -> Result<BodyType, ApiError> {
    let raw = content_type.unwrap_or("application/json");
    let essence = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    Ok(match essence.as_str() {
        "application/json" | "" => BodyType::Json,
        "application/yaml" => BodyType::Yaml,
        "application/vnd.kubernetes.protobuf" => BodyType::Protobuf,
        "application/json-patch+json" => BodyType::JsonPatch,
        "application/merge-patch+json" => BodyType::MergePatch,
        "application/strategic-merge-patch+json" => BodyType::StrategicMergePatch,
        "application/apply-patch+yaml" => BodyType::ApplyPatch,
        _ => return Err(ApiError::unsupported_media_type(raw)),
    })
}

fn json_error(e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("json parse error: {e}"))
}

/// Parse JSON text, refusing duplicate keys when `strict_duplicates` (they are reported
/// as warnings or errors by field validation instead of silently keeping the last).
pub fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

pub fn parse_yaml(body: &[u8]) -> Result<Value, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("yaml: invalid UTF-8"))?;
    // A repeated key keeps its last value, as yaml.v2 does; field validation reports it.
    let options = serde_saphyr::Options {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        ..serde_saphyr::Options::default()
    };
    serde_saphyr::from_str_with_options::<Value>(text, options)
        .map_err(|e| ApiError::bad_request(format!("yaml: {e}")))
}

/// Decode an object body of a create or update.
pub fn decode_object(body: &[u8], body_type: BodyType) -> Result<Value, ApiError> {
    let v = match body_type {
        BodyType::Json => parse_json(body)?,
        BodyType::Yaml | BodyType::ApplyPatch => parse_yaml(body)?,
        BodyType::Protobuf => rkube_protobuf_decode(body)?,
        _ => {
            return Err(ApiError::unsupported_media_type(
                "patch content type on a non-patch request",
            ))
        }
    };
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the object provided is not a JSON object: Object 'Kind' is missing",
        ));
    }
    Ok(v)
}

fn rkube_protobuf_decode(body: &[u8]) -> Result<Value, ApiError> {
    rkube_protobuf::decode(body).map_err(|e| ApiError::bad_request(format!("protobuf: {e}")))
}

/// Encode a response value.
pub fn encode(value: &Value, format: Format) -> Result<Vec<u8>, ApiError> {
    match format {
        Format::Json | Format::Protobuf => {
            serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))
        }
        Format::Yaml => serde_saphyr::to_string(value)
            .map(String::into_bytes)
            .map_err(|e| ApiError::internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_table_accept() {
        let n = negotiate(Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")).unwrap();
        assert_eq!(
            n,
            Negotiated {
                format: Format::Json,
                shape: Shape::Table { v1beta1: false }
            }
        );
        let n = negotiate(Some(
            "application/json;as=Foo;v=v1;g=meta.k8s.io,application/json",
        ))
        .unwrap();
        assert_eq!(n.shape, Shape::Plain);
        assert!(negotiate(Some("text/html")).is_err());
        assert_eq!(
            negotiate(Some("application/yaml")).unwrap().format,
            Format::Yaml
        );
    }

    #[test]
    fn body_types() {
        assert_eq!(
            body_type(Some("application/json; charset=utf-8")).unwrap(),
            BodyType::Json
        );
        assert_eq!(
            body_type(Some("application/apply-patch+yaml")).unwrap(),
            BodyType::ApplyPatch
        );
        assert_eq!(body_type(Some("text/plain")).unwrap_err().code, 415);
    }
}
