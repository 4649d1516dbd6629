//! What the kubelet asks of the store for each container: the image, pulled or not
//! according to `imagePullPolicy`, and errors named by the container waiting reasons
//! upstream reports.

use crate::reference::Reference;
use crate::{Image, ImageError, ImageStore, RegistryAuth};

/// `imagePullPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

impl PullPolicy {
    /// The policy in a container spec; unset, upstream's default: `Always` for `:latest`
    /// or an untagged name (unless pinned by digest), else `IfNotPresent`.
    pub fn from_spec(policy: Option<&str>, reference: &str) -> PullPolicy {
        match policy {
            Some("Always") => PullPolicy::Always,
            Some("IfNotPresent") => PullPolicy::IfNotPresent,
            Some("Never") => PullPolicy::Never,
            _ => match Reference::parse(reference) {
                Ok(r) if r.digest.is_none() && r.tag.as_deref() == Some("latest") => {
                    PullPolicy::Always
                }
                _ => PullPolicy::IfNotPresent,
            },
        }
    }
}

/// The image for a container, and whether it was pulled for it (for the "Pulled" /
/// "already present on machine" events).
#[derive(Debug, Clone)]
pub struct EnsuredImage {
    pub image: Image,
    pub pulled: bool,
}

impl ImageStore {
    /// The image `reference` names, pulled when `policy` says so. With `Never` and the
    /// image absent the error is [`ImageError::NeverPull`].
    pub async fn ensure_image(
        &self,
        reference: &str,
        policy: PullPolicy,
        auth: &RegistryAuth,
        insecure_registries: &[String],
    ) -> Result<EnsuredImage, ImageError> {
        let present = match policy {
            PullPolicy::Always => None,
            PullPolicy::IfNotPresent | PullPolicy::Never => self.lookup(reference)?,
        };
        match (present, policy) {
            (Some(image), _) => Ok(EnsuredImage {
                image,
                pulled: false,
            }),
            (None, PullPolicy::Never) => Err(ImageError::NeverPull(reference.to_string())),
            (None, _) => Ok(EnsuredImage {
                image: self.pull(reference, auth, insecure_registries).await?,
                pulled: true,
            }),
        }
    }
}

impl ImageError {
    /// The container's waiting reason for this error, as upstream names it:
    /// `InvalidImageName`, `ErrImageNeverPull`, else `ErrImagePull` (which becomes
    /// `ImagePullBackOff` while the kubelet waits to retry).
    pub fn waiting_reason(&self) -> &'static str {
        match self {
            ImageError::InvalidReference { .. } => "InvalidImageName",
            ImageError::NeverPull(_) => "ErrImageNeverPull",
            _ => "ErrImagePull",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_follows_the_tag() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(PullPolicy::from_spec(None, "busybox"), PullPolicy::Always);
        assert_eq!(
            PullPolicy::from_spec(None, "busybox:latest"),
            PullPolicy::Always
        );
        assert_eq!(
            PullPolicy::from_spec(None, "busybox:1.36"),
            PullPolicy::IfNotPresent
        );
        assert_eq!(
            PullPolicy::from_spec(None, &format!("busybox@{d}")),
            PullPolicy::IfNotPresent
        );
        assert_eq!(
            PullPolicy::from_spec(Some("Never"), "busybox"),
            PullPolicy::Never
        );
        assert_eq!(
            PullPolicy::from_spec(Some("Always"), "busybox:1"),
            PullPolicy::Always
        );
    }

    #[test]
    fn waiting_reasons_match_upstream() {
        let invalid = ImageError::InvalidReference {
            reference: "X".into(),
            reason: "r".into(),
        };
        assert_eq!(invalid.waiting_reason(), "InvalidImageName");
        assert_eq!(
            ImageError::NeverPull("x".into()).waiting_reason(),
            "ErrImageNeverPull"
        );
        assert_eq!(
            ImageError::NotFound("x".into()).waiting_reason(),
            "ErrImagePull"
        );
    }
}
