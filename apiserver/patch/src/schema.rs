//! Patch and server-side-apply metadata of the built-in types: for every list
//! field its strategic-merge-patch strategy and merge key and its SSA list
//! type; for every object or map field the type to descend into.
//!
//! Types and fields absent from the table behave as upstream treats an
//! unknown schema: lists are atomic (replaced), objects and maps merge.

mod cluster;
mod core_v1;
mod core_v1_volumes;
mod kinds;
mod meta_v1;
mod workloads;

use std::collections::HashMap;
use std::sync::OnceLock;

/// How a list field is patched and applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListInfo {
    /// `patchStrategy` struct tag: "merge", "replace", "retainKeys", "merge,retainKeys".
    pub patch_strategy: Option<&'static str>,
    /// `patchMergeKey` struct tag.
    pub patch_merge_key: Option<&'static str>,
    /// SSA `x-kubernetes-list-type`: "atomic", "set" or "map".
    pub list_type: &'static str,
    /// SSA `x-kubernetes-list-map-keys` (empty unless `list_type == "map"`).
    pub list_map_keys: &'static [&'static str],
}

impl ListInfo {
    /// Strategic merge patch merges this list (by merge key, or as a set of
    /// primitives) instead of replacing it; `$setElementOrder` applies.
    pub fn merges(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "merge"))
    }

    /// Elements carry `$retainKeys` semantics in a strategic merge patch.
    pub fn retains_keys(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "retainKeys"))
    }
}

/// What the table knows about one field of an object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The object type of the field, or of its list or map elements.
    pub type_name: Option<&'static str>,
    /// Set when the field is a list.
    pub list: Option<ListInfo>,
    /// The field is a map (`map[string]X`), its elements of `type_name` if objects.
    pub map_of: bool,
    /// SSA element relationship of an object or map field is atomic
    /// (`+structType=atomic` / `+mapType=atomic`): owned and replaced as a whole.
    pub atomic: bool,
    /// `patchStrategy` of an object field (lists carry theirs in `list`):
    /// `retainKeys` for a Deployment's `spec.strategy`, `replace` for a
    /// PodDisruptionBudget's `spec.selector`.
    pub patch_strategy: Option<&'static str>,
    /// What a typed object holds for the field when it is not set: a
    /// non-pointer struct is `{}`, a pointer, list or map without
    /// `omitempty` is `null`, others are absent.
    pub unset: Unset,
}

/// How a typed (Go) object renders an unset field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unset {
    Omitted,
    Null,
    EmptyObject,
}

impl FieldInfo {
    const fn omitted(self) -> Self {
        FieldInfo {
            unset: Unset::Omitted,
            ..self
        }
    }

    const fn null(self) -> Self {
        FieldInfo {
            unset: Unset::Null,
            ..self
        }
    }
}

/// (definition name, the type itself is `+structType=atomic`, fields).
type TypeEntry = (&'static str, bool, &'static [(&'static str, FieldInfo)]);

const fn obj(type_name: &'static str) -> FieldInfo {
    FieldInfo {
        type_name: Some(type_name),
        list: None,
        map_of: false,
        atomic: false,
        patch_strategy: None,
        unset: Unset::EmptyObject,
    }
}

const fn obj_with_strategy(type_name: &'static str, patch_strategy: &'static str) -> FieldInfo {
    FieldInfo {
        patch_strategy: Some(patch_strategy),
        ..obj(type_name)
    }
}

const fn atomic_obj(type_name: &'static str) -> FieldInfo {
    FieldInfo {
        atomic: true,
        ..obj(type_name)
    }
}

const fn map(type_name: Option<&'static str>) -> FieldInfo {
    FieldInfo {
        type_name,
        list: None,
        map_of: true,
        atomic: false,
        patch_strategy: None,
        unset: Unset::Omitted,
    }
}

const fn atomic_map(type_name: Option<&'static str>) -> FieldInfo {
    FieldInfo {
        atomic: true,
        ..map(type_name)
    }
}

const fn list(
    type_name: Option<&'static str>,
    patch_strategy: Option<&'static str>,
    patch_merge_key: Option<&'static str>,
    list_type: &'static str,
    list_map_keys: &'static [&'static str],
) -> FieldInfo {
    FieldInfo {
        type_name,
        list: Some(ListInfo {
            patch_strategy,
            patch_merge_key,
            list_type,
            list_map_keys,
        }),
        map_of: false,
        atomic: false,
        patch_strategy: None,
        unset: Unset::Omitted,
    }
}

struct Index {
    types: HashMap<&'static str, &'static TypeEntry>,
    kinds: HashMap<(&'static str, &'static str), &'static str>,
}

/// Every table of type entries, one per group of API types.
const TABLES: [&[TypeEntry]; 5] = [
    meta_v1::TYPES,
    core_v1::TYPES,
    core_v1_volumes::TYPES,
    workloads::TYPES,
    cluster::TYPES,
];

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let types = TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|e| (e.0, e))
            .collect();
        let kinds = kinds::KINDS
            .iter()
            .map(|(av, k, t)| ((*av, *k), *t))
            .collect();
        Index { types, kinds }
    })
}

/// A type of the table resolved for the server-side apply walks: field
/// lookups by a hash of the name and element types by index, so that a walk over
/// an object hashes no type names.
#[derive(Debug)]
pub(crate) struct SsaType {
    /// `+structType=atomic`.
    pub(crate) atomic: bool,
    /// Some field's unset value is `{}` or null (a typed object is never empty).
    pub(crate) has_fills: bool,
    /// The fields in declaration order.
    pub(crate) fields: Box<[SsaField]>,
    /// Open-addressing table of `fields` by name hash: index + 1, 0 if free.
    slots: Box<[u16]>,
}

/// A field of an [`SsaType`]: its [`FieldInfo`] as [`field_type`] returns
/// it, with the element type as an index into [`ssa_types`].
#[derive(Debug)]
pub(crate) struct SsaField {
    pub(crate) name: &'static str,
    pub(crate) info: FieldInfo,
    pub(crate) elem: Option<u16>,
}

/// FNV-1a: field names are short, and this needs no seed.
fn name_hash(name: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h ^ (h >> 29)) as usize
}

impl SsaType {
    fn new(atomic: bool, fields: Vec<SsaField>) -> SsaType {
        let size = (fields.len() * 2).next_power_of_two().max(4);
        let mut slots = vec![0u16; size];
        for (i, f) in fields.iter().enumerate() {
            let mut at = name_hash(f.name) & (size - 1);
            while slots[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = u16::try_from(i + 1).expect("fewer than 65535 fields");
        }
        SsaType {
            atomic,
            has_fills: fields.iter().any(|f| f.info.unset != Unset::Omitted),
            fields: fields.into_boxed_slice(),
            slots: slots.into_boxed_slice(),
        }
    }

    pub(crate) fn field(&self, name: &str) -> Option<&SsaField> {
        let mask = self.slots.len() - 1;
        let mut at = name_hash(name) & mask;
        loop {
            match self.slots[at] {
                0 => return None,
                i => {
                    let f = &self.fields[usize::from(i) - 1];
                    if f.name == name {
                        return Some(f);
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }
}

struct SsaIndex {
    types: Vec<SsaType>,
    by_name: HashMap<&'static str, u16>,
}

fn ssa_index() -> &'static SsaIndex {
    static INDEX: OnceLock<SsaIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        // The table's types in a fixed order, each once (as `index` holds them).
        let mut entries: Vec<&'static TypeEntry> = index().types.values().copied().collect();
        entries.sort_by_key(|e| e.0);
        let mut names: Vec<&'static str> = Vec::new();
        let mut by_name: HashMap<&'static str, u16> = HashMap::new();
        let mut id = |name: &'static str, names: &mut Vec<&'static str>| -> u16 {
            *by_name.entry(name).or_insert_with(|| {
                names.push(name);
                u16::try_from(names.len() - 1).expect("fewer than 65536 types")
            })
        };
        for e in &entries {
            id(e.0, &mut names);
        }
        let mut resolved: Vec<Option<(bool, Vec<SsaField>)>> = Vec::new();
        for e in &entries {
            let mut fields: Vec<SsaField> = Vec::with_capacity(e.2.len());
            for (name, _) in e.2.iter() {
                if fields.iter().any(|f| f.name == *name) {
                    continue;
                }
                let Some(info) = field_type(e.0, name) else {
                    continue;
                };
                let elem = info.type_name.map(|t| id(t, &mut names));
                fields.push(SsaField { name, info, elem });
            }
            let at = usize::from(id(e.0, &mut names));
            if resolved.len() <= at {
                resolved.resize_with(at + 1, || None);
            }
            resolved[at] = Some((e.1, fields));
        }
        resolved.resize_with(names.len(), || None);
        let types = resolved
            .into_iter()
            .map(|r| {
                // Types the table refers to but does not list have no fields.
                let (atomic, fields) = r.unwrap_or_default();
                SsaType::new(atomic, fields)
            })
            .collect();
        SsaIndex {
            types,
            by_name: by_name.into_iter().collect(),
        }
    })
}

/// Every type resolved for server-side apply (see [`SsaType`]).
pub(crate) fn ssa_types() -> &'static [SsaType] {
    &ssa_index().types
}

/// The index in [`ssa_types`] of a type the table knows.
pub(crate) fn ssa_type_id(type_name: &str) -> Option<u16> {
    ssa_index().by_name.get(type_name).copied()
}

/// The OpenAPI definition name of a top-level kind, e.g.
/// `("v1", "Pod") → "io.k8s.api.core.v1.Pod"`.
pub fn type_of(api_version: &str, kind: &str) -> Option<&'static str> {
    index().kinds.get(&(api_version, kind)).copied()
}

/// Metadata of `field` in the object type `type_name`; `None` for scalars and
/// for types or fields the table does not know.
pub fn field_type(type_name: &str, field: &str) -> Option<FieldInfo> {
    let entry = index().types.get(type_name)?;
    let (_, mut info) = *entry.2.iter().find(|(name, _)| *name == field)?;
    if info.list.is_none() && !info.map_of {
        info.atomic |= info.type_name.is_some_and(is_atomic_struct);
    }
    Some(info)
}

/// The non-scalar fields of an object type, in declaration order.
pub fn fields_of(type_name: &str) -> impl Iterator<Item = (&'static str, FieldInfo)> {
    let fields: &'static [(&'static str, FieldInfo)] =
        index().types.get(type_name).map_or(&[], |e| e.2);
    fields.iter().copied()
}

/// The table's own name for `type_name`, if it knows the type.
pub fn known_type(type_name: &str) -> Option<&'static str> {
    index().types.get(type_name).map(|e| e.0)
}

/// The type is `+structType=atomic`: SSA owns and replaces it as a whole.
pub fn is_atomic_struct(type_name: &str) -> bool {
    index().types.get(type_name).is_some_and(|e| e.1)
}

/// Every definition name in the table, for the OpenAPI generator.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().flat_map(|t| t.iter()).map(|e| e.0)
}

/// Every top-level kind: (apiVersion, kind, definition name).
pub fn kinds() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    kinds::KINDS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_resolve() {
        assert_eq!(type_of("v1", "Pod"), Some("io.k8s.api.core.v1.Pod"));
        assert_eq!(
            type_of("apps/v1", "Deployment"),
            Some("io.k8s.api.apps.v1.Deployment")
        );
        assert_eq!(
            type_of("autoscaling/v1", "Scale"),
            Some("io.k8s.api.autoscaling.v1.Scale")
        );
        assert_eq!(
            type_of("coordination.k8s.io/v1", "Lease"),
            Some("io.k8s.api.coordination.v1.Lease")
        );
        assert_eq!(type_of("v1", "Deployment"), None);
    }

    #[test]
    fn pod_spec_lists() {
        let pod_spec = "io.k8s.api.core.v1.PodSpec";
        let containers = field_type(pod_spec, "containers").unwrap();
        assert_eq!(containers.type_name, Some("io.k8s.api.core.v1.Container"));
        let list = containers.list.unwrap();
        assert_eq!(
            (list.patch_strategy, list.patch_merge_key),
            (Some("merge"), Some("name"))
        );
        assert_eq!((list.list_type, list.list_map_keys), ("map", &["name"][..]));
        let volumes = field_type(pod_spec, "volumes").unwrap().list.unwrap();
        assert!(volumes.merges() && volumes.retains_keys());
        let tolerations = field_type(pod_spec, "tolerations").unwrap().list.unwrap();
        assert_eq!(
            (tolerations.patch_strategy, tolerations.list_type),
            (None, "atomic")
        );
        let ports = field_type("io.k8s.api.core.v1.Container", "ports")
            .unwrap()
            .list
            .unwrap();
        assert_eq!(ports.patch_merge_key, Some("containerPort"));
        assert_eq!(ports.list_map_keys, &["containerPort", "protocol"]);
        let svc_ports = field_type("io.k8s.api.core.v1.ServiceSpec", "ports")
            .unwrap()
            .list
            .unwrap();
        assert_eq!(svc_ports.patch_merge_key, Some("port"));
        assert!(field_type(pod_spec, "nodeSelector").unwrap().map_of);
        assert_eq!(field_type(pod_spec, "restartPolicy"), None);
    }

    #[test]
    fn object_meta_lists() {
        let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
        let finalizers = field_type(meta, "finalizers").unwrap().list.unwrap();
        assert_eq!(
            (finalizers.patch_strategy, finalizers.list_type),
            (Some("merge"), "set")
        );
        let owners = field_type(meta, "ownerReferences").unwrap().list.unwrap();
        assert_eq!(owners.patch_merge_key, Some("uid"));
        let managed = field_type(meta, "managedFields").unwrap().list.unwrap();
        assert_eq!(managed.list_type, "atomic");
        assert!(field_type(meta, "labels").unwrap().map_of);
    }

    #[test]
    fn every_referenced_type_is_in_the_table() {
        let names: Vec<_> = type_names().collect();
        for name in &names {
            for (field, info) in fields_of(name) {
                if let Some(t) = info.type_name {
                    assert!(names.contains(&t), "{name}.{field} refers to missing {t}");
                }
            }
        }
        for (av, kind, t) in kinds() {
            assert!(names.contains(&t), "{av} {kind} → missing {t}");
        }
        assert!(is_atomic_struct(
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
        ));
    }
}
