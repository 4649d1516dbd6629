//! The pod template as the deployment controller sees it: upstream's
//! `pod-template-hash` (FNV-32a of the template plus the collision count, spelled with
//! `SafeEncodeString`'s alphabet), the template and selector of a new ReplicaSet, and
//! template equality that ignores the hash label.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use serde_json::Value;

/// The label that ties a ReplicaSet and its pods to one template.
pub const HASH_LABEL: &str = "pod-template-hash";

/// Upstream's alphabet for names: no vowels (no words) and no look-alike characters.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn fnv32a(hash: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

const FNV32_OFFSET: u32 = 0x811c_9dc5;

/// Each character of `s` replaced by the alphabet's character at its code modulo 27.
fn safe_encode(s: &str) -> String {
    s.chars()
        .map(|c| ALPHANUMS[c as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// The hash that names a deployment's ReplicaSet for this template. Upstream hashes
/// Go's dump of the struct; this hashes the template's JSON, so values differ from
/// upstream's but follow the same rules: stable for a template, changed by the
/// collision count.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let json = serde_json::to_vec(template).unwrap_or_default();
    let mut hash = fnv32a(FNV32_OFFSET, &json);
    if let Some(count) = collision_count {
        hash = fnv32a(hash, &(count as u32).to_le_bytes());
    }
    safe_encode(&hash.to_string())
}

/// The template with the hash label added.
pub fn with_hash_label(template: &PodTemplateSpec, hash: &str) -> PodTemplateSpec {
    let mut out = template.clone();
    out.metadata
        .get_or_insert_with(Default::default)
        .labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.into());
    out
}

/// The deployment's selector narrowed to one template's pods.
pub fn selector_with_hash(selector: &LabelSelector, hash: &str) -> LabelSelector {
    let mut out = selector.clone();
    out.match_labels
        .get_or_insert_with(Default::default)
        .insert(HASH_LABEL.into(), hash.into());
    out
}

/// Whether two templates are the same apart from the hash label (nil and empty
/// collections count as equal, as in Go's semantic equality).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(template: &PodTemplateSpec) -> Value {
    let mut value = serde_json::to_value(template).unwrap_or(Value::Null);
    if let Some(labels) = value
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    prune(&mut value);
    value
}

/// Drop nulls and empty objects and arrays, recursively.
fn prune(value: &mut Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(map) => {
            map.retain(|_, v| prune(v));
            !map.is_empty()
        }
        Value::Array(items) => {
            items.iter_mut().for_each(|v| {
                prune(v);
            });
            !items.is_empty()
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}
        }))
        .unwrap()
    }

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        assert_eq!(fnv32a(FNV32_OFFSET, b""), 0x811c_9dc5);
        assert_eq!(fnv32a(FNV32_OFFSET, b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(FNV32_OFFSET, b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn hash_is_stable_uses_the_safe_alphabet_and_changes_with_collisions() {
        let t = template("nginx:1");
        let h = template_hash(&t, None);
        assert_eq!(h, template_hash(&t, None));
        assert!(h.bytes().all(|b| ALPHANUMS.contains(&b)), "{h}");
        assert!((1..=10).contains(&h.len()));
        assert_ne!(h, template_hash(&t, Some(1)));
        assert_ne!(h, template_hash(&template("nginx:2"), None));
        assert_eq!(safe_encode("0123"), "4567");
    }

    #[test]
    fn equality_ignores_the_hash_label_and_empty_collections() {
        let t = template("nginx:1");
        let labelled = with_hash_label(&t, "abc");
        assert!(equal_ignore_hash(&t, &labelled));
        let mut with_empty = t.clone();
        with_empty.metadata.as_mut().unwrap().annotations = Some(Default::default());
        assert!(equal_ignore_hash(&t, &with_empty));
        assert!(!equal_ignore_hash(&t, &template("nginx:2")));
    }
}
