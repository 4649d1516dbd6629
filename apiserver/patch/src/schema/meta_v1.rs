//! Patch metadata for meta.v1, transcribed from the upstream Go struct tags
//! (k8s.io/api and k8s.io/apimachinery at v1.33): only fields that are
//! objects, maps or lists are listed; scalars need no metadata.

use super::{list, map, obj, TypeEntry};

#[rustfmt::skip]
pub(super) static TYPES: &[TypeEntry] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Condition", false, &[]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", false, &[
        ("preconditions", obj("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions").omitted()),
        ("dryRun", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", false, &[
        ("values", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector", true, &[
        ("matchLabels", map(None)),
        ("matchExpressions", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", false, &[
        ("values", list(None, None, None, "atomic", &[])),
    ]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", false, &[]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry", false, &[]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", false, &[
        ("labels", map(None)),
        ("annotations", map(None)),
        ("ownerReferences", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference"), Some("merge"), Some("uid"), "map", &["uid"])),
        ("finalizers", list(None, Some("merge"), None, "set", &[])),
        ("managedFields", list(Some("io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"), None, None, "atomic", &[])),
    ]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", true, &[]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions", false, &[]),
];
