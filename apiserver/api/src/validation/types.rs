//! Decode-time type errors (placeholder, filled below).

use serde_json::Value;

use crate::resources::Resource;
use crate::status::Cause;

pub fn type_errors(_resource: &Resource, _obj: &Value) -> Vec<Cause> {
    Vec::new()
}

pub fn decode_error_message(resource: &Resource, cause: &Cause) -> String {
    format!(
        "{} in version \"{}\" cannot be handled as a {}: {}",
        resource.kind, resource.version, resource.kind, cause.message
    )
}
