//! ObjectMeta as upstream declares it.

/// The fields of ObjectMeta in upstream's declaration order: what a custom resource's
/// `metadata` may hold, and the order stored objects list them in.
pub const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];
