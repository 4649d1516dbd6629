//! Patch errors shaped like the apiserver's answers: each knows the HTTP code,
//! the `metav1.Status` reason and the message upstream puts in the Status.

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch document cannot be decoded, or breaks a directive's format
    /// (400 BadRequest; the message is the error text).
    #[error("{0}")]
    BadRequest(String),
    /// A well-formed patch does not apply to the object (RFC 6902 operation
    /// failed, list of lists, retainKeys mismatch). Upstream answers 422
    /// Invalid with a generic message and drops the detail.
    #[error("{0}")]
    Unprocessable(String),
    /// A JSON patch with more operations than upstream accepts (413).
    #[error("The allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// A strategic merge patch failure upstream does not classify: it
    /// reaches the client as a 500 with the raw error text.
    #[error("{0}")]
    Internal(String),
}

impl PatchError {
    /// The HTTP status code of the upstream answer.
    pub fn http_status(&self) -> u16 {
        match self {
            PatchError::BadRequest(_) => 400,
            PatchError::Unprocessable(_) => 422,
            PatchError::TooManyOperations { .. } => 413,
            PatchError::Internal(_) => 500,
        }
    }

    /// The `metav1.Status` reason ("" is upstream's StatusReasonUnknown).
    pub fn reason(&self) -> &'static str {
        match self {
            PatchError::BadRequest(_) => "BadRequest",
            PatchError::Unprocessable(_) => "Invalid",
            PatchError::TooManyOperations { .. } => "RequestEntityTooLarge",
            PatchError::Internal(_) => "",
        }
    }

    /// The `metav1.Status` message upstream sends for this error.
    pub fn message(&self) -> String {
        match self {
            PatchError::Unprocessable(_) => {
                "the server rejected our request due to an error in our request".to_string()
            }
            other => other.to_string(),
        }
    }

    /// The underlying error text (for logs; upstream hides it for 422).
    pub fn detail(&self) -> String {
        self.to_string()
    }
}
