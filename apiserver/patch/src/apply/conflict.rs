//! Apply errors, with the messages and Status causes upstream sends.

use serde_json::{json, Value};

use super::fieldset::{path_string, PathElement};
use super::managers::ManagerKey;

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// "Apply" or "Update".
    pub operation: String,
    /// The apiVersion of an Update manager (Apply managers are named without).
    pub api_version: Option<String>,
    pub subresource: Option<String>,
    /// The path, like `.spec.replicas` or `.spec.containers[name="nginx"].image`.
    pub field: String,
    identifier: String,
    description: String,
}

impl Conflict {
    pub(super) fn from_path((key, path): (ManagerKey, Vec<PathElement>)) -> Conflict {
        Conflict {
            manager: key.manager.clone(),
            operation: key.operation.to_string(),
            api_version: (key.operation == "Update").then(|| key.api_version.clone()),
            subresource: (!key.subresource.is_empty()).then(|| key.subresource.clone()),
            field: path_string(&path),
            identifier: key.identifier(),
            description: key.describe(),
        }
    }

    /// `conflict with "kubectl-client-side-apply" using apps/v1`.
    pub fn message(&self) -> String {
        format!("conflict with {}", self.description)
    }

    /// The `metav1.StatusCause` upstream lists for this conflict.
    pub fn cause(&self) -> Value {
        json!({"type": "FieldManagerConflict", "message": self.message(), "field": self.field})
    }
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Other managers own fields the configuration changes (409 Conflict).
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The configuration cannot be applied as sent (400 BadRequest).
    #[error("{0}")]
    BadRequest(String),
    /// The object or configuration does not fit its schema; upstream
    /// answers 500 with the text.
    #[error("{0}")]
    Internal(String),
}

impl ApplyError {
    pub fn http_status(&self) -> u16 {
        match self {
            ApplyError::Conflicts(_) => 409,
            ApplyError::BadRequest(_) => 400,
            ApplyError::Internal(_) => 500,
        }
    }

    /// The `metav1.Status` reason ("" is upstream's StatusReasonUnknown).
    pub fn reason(&self) -> &'static str {
        match self {
            ApplyError::Conflicts(_) => "Conflict",
            ApplyError::BadRequest(_) => "BadRequest",
            ApplyError::Internal(_) => "",
        }
    }

    /// The `metav1.Status` message.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The `details.causes` of the Status (one per conflict).
    pub fn causes(&self) -> Vec<Value> {
        match self {
            ApplyError::Conflicts(conflicts) => conflicts.iter().map(Conflict::cause).collect(),
            _ => Vec::new(),
        }
    }
}

/// `Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas`,
/// or for several, one line per field grouped by manager.
fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: {}: {}",
            only.message(),
            only.field
        );
    }
    let mut managers: Vec<&Conflict> = Vec::new();
    for c in conflicts {
        if !managers.iter().any(|m| m.identifier == c.identifier) {
            managers.push(c);
        }
    }
    managers.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    let mut lines = Vec::new();
    for m in managers {
        lines.push(format!("conflicts with {}:", m.description));
        lines.extend(
            conflicts
                .iter()
                .filter(|c| c.identifier == m.identifier)
                .map(|c| format!("- {}", c.field)),
        );
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}
