//! RuntimeClass: a new pod naming a RuntimeClass gets that class's pod overhead and
//! scheduling constraints (mutating); a pod naming a class that does not exist, or
//! setting an overhead its class does not define, is refused with 403 (validating), as
//! upstream's plugin (plugin/pkg/admission/runtimeclass) does.

use rkube_api::validation::quantity::Quantity;
use rkube_api::{ApiError, Resource};
use serde_json::{Map, Value};

use crate::registry::{qualified, Registry};

fn runtime_class_name(pod: &Value) -> Option<&str> {
    pod.pointer("/spec/runtimeClassName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

impl Registry {
    /// The RuntimeClass a pod names, or the 403 for one that does not exist.
    async fn runtime_class_of(
        &self,
        r: &Resource,
        name: &str,
        pod: &Value,
    ) -> Result<Option<Value>, ApiError> {
        let Some(class) = runtime_class_name(pod) else {
            return Ok(None);
        };
        let classes = rkube_api::resources::find("node.k8s.io", "v1", "runtimeclasses")
            .expect("runtimeclasses are served");
        match self.get_value(classes, None, class).await {
            Ok((rc, _)) => Ok(Some(rc)),
            Err(e) if e.code == 404 => Err(ApiError::forbidden(
                qualified(r),
                name,
                &format!("pod rejected: RuntimeClass {class:?} not found"),
            )),
            Err(e) => Err(e),
        }
    }

    /// Mutating and validating phases on pod creates. Returns whether the pod changed.
    pub(crate) async fn admit_runtime_class(
        &self,
        r: &Resource,
        name: &str,
        pod: &mut Value,
    ) -> Result<bool, ApiError> {
        if !(self.admission.runtime_class && r.group.is_empty() && r.plural == "pods") {
            return Ok(false);
        }
        let class = self.runtime_class_of(r, name, pod).await?;
        let forbidden = |why: String| ApiError::forbidden(qualified(r), name, &why);
        let Some(class) = &class else {
            // Nothing to mutate (every pod create passes here: no copy of the pod).
            validate_overhead(pod, None).map_err(forbidden)?;
            return Ok(false);
        };
        let before = pod.clone();
        set_overhead(pod, class).map_err(forbidden)?;
        set_scheduling(pod, class).map_err(forbidden)?;
        validate_overhead(pod, Some(class)).map_err(forbidden)?;
        Ok(*pod != before)
    }
}

fn spec_mut(pod: &mut Value) -> Option<&mut Map<String, Value>> {
    pod.get_mut("spec").and_then(Value::as_object_mut)
}

fn class_overhead(class: &Value) -> Option<&Map<String, Value>> {
    class
        .pointer("/overhead/podFixed")
        .and_then(Value::as_object)
}

/// Resource lists equal as quantities (`1000m` is `1`).
fn same_quantities(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter().all(|(k, v)| {
            match (
                Quantity::from_json(v),
                b.get(k).and_then(Quantity::from_json),
            ) {
                (Some(x), Some(y)) => x.compare(&y).is_eq(),
                _ => false,
            }
        })
}

fn set_overhead(pod: &mut Value, class: &Value) -> Result<(), String> {
    let Some(fixed) = class_overhead(class) else {
        return Ok(());
    };
    let Some(spec) = spec_mut(pod) else {
        return Ok(());
    };
    if let Some(own) = spec
        .get("overhead")
        .and_then(Value::as_object)
        .filter(|o| !o.is_empty())
    {
        if !same_quantities(own, fixed) {
            return Err(
                "pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead".into(),
            );
        }
    }
    spec.insert("overhead".into(), Value::Object(fixed.clone()));
    Ok(())
}

fn set_scheduling(pod: &mut Value, class: &Value) -> Result<(), String> {
    let Some(scheduling) = class.get("scheduling").filter(|s| s.is_object()) else {
        return Ok(());
    };
    let Some(spec) = spec_mut(pod) else {
        return Ok(());
    };
    if let Some(required) = scheduling.get("nodeSelector").and_then(Value::as_object) {
        let selector = spec
            .entry("nodeSelector")
            .or_insert_with(|| Value::Object(Map::new()));
        if selector.is_null() {
            *selector = Value::Object(Map::new());
        }
        if let Some(selector) = selector.as_object_mut() {
            for (key, value) in required {
                if let Some(own) = selector.get(key).filter(|own| *own != value) {
                    return Err(format!(
                        "conflict: runtimeClass.scheduling.nodeSelector[{key}] = {}; pod.spec.nodeSelector[{key}] = {}",
                        value.as_str().unwrap_or(""),
                        own.as_str().unwrap_or("")
                    ));
                }
                selector.insert(key.clone(), value.clone());
            }
        }
    }
    if let Some(extra) = scheduling.get("tolerations").and_then(Value::as_array) {
        let tolerations = spec
            .entry("tolerations")
            .or_insert_with(|| Value::Array(Vec::new()));
        if tolerations.is_null() {
            *tolerations = Value::Array(Vec::new());
        }
        if let Some(list) = tolerations.as_array_mut() {
            for t in extra {
                if !list.contains(t) {
                    list.push(t.clone());
                }
            }
        }
    }
    Ok(())
}

fn validate_overhead(pod: &Value, class: Option<&Value>) -> Result<(), String> {
    let own = pod.pointer("/spec/overhead").filter(|o| !o.is_null());
    let matches = |fixed| {
        own.and_then(Value::as_object)
            .is_some_and(|o| same_quantities(o, fixed))
    };
    match class.and_then(class_overhead) {
        Some(fixed) if !matches(fixed) => {
            Err("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead".into())
        }
        None if own.is_some() => Err(
            "pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead"
                .into(),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_class_overhead_and_scheduling_are_applied() {
        let class = json!({"overhead": {"podFixed": {"cpu": "250m"}},
            "scheduling": {"nodeSelector": {"sandbox": "yes"},
                           "tolerations": [{"key": "sandbox", "operator": "Exists"}]}});
        let mut pod = json!({"spec": {"nodeSelector": {"zone": "a"}}});
        set_overhead(&mut pod, &class).unwrap();
        set_scheduling(&mut pod, &class).unwrap();
        assert_eq!(pod["spec"]["overhead"], json!({"cpu": "250m"}));
        assert_eq!(
            pod["spec"]["nodeSelector"],
            json!({"zone": "a", "sandbox": "yes"})
        );
        assert_eq!(pod["spec"]["tolerations"][0]["key"], "sandbox");
        assert!(validate_overhead(&pod, Some(&class)).is_ok());
    }

    #[test]
    fn conflicts_and_stray_overheads_are_refused() {
        let class = json!({"scheduling": {"nodeSelector": {"sandbox": "yes"}}});
        let mut pod = json!({"spec": {"nodeSelector": {"sandbox": "no"}}});
        assert_eq!(
            set_scheduling(&mut pod, &class).unwrap_err(),
            "conflict: runtimeClass.scheduling.nodeSelector[sandbox] = yes; pod.spec.nodeSelector[sandbox] = no"
        );
        let pod = json!({"spec": {"overhead": {"cpu": "1"}}});
        assert!(validate_overhead(&pod, None)
            .unwrap_err()
            .contains("without corresponding RuntimeClass"));
        let class = json!({"overhead": {"podFixed": {"cpu": "1000m"}}});
        assert!(validate_overhead(&pod, Some(&class)).is_ok());
    }
}
