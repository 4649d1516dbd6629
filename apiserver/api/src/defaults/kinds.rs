//! Defaults of the non-pod kinds.

use serde_json::{json, Map, Value};

use super::pod::{pod_template, template_meta};
use super::{obj_mut, set_default};

fn template_labels(spec: &Value) -> Option<Map<String, Value>> {
    spec.get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .cloned()
}

fn labels_empty(obj: &Value) -> bool {
    obj.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .is_none_or(|l| l.is_empty())
}

fn set_labels(obj: &mut Value, labels: Map<String, Value>) {
    if let Some(meta) = obj_mut(obj, "metadata") {
        meta.insert("labels".into(), Value::Object(labels));
    }
}

fn spec_template(obj: &mut Value) {
    if let Some(spec) = obj_mut(obj, "spec") {
        let t = spec.entry("template").or_insert_with(|| json!({}));
        if t.is_null() {
            *t = json!({});
        }
        pod_template(t);
    }
}

/// `SetDefaults_ReplicationController`.
pub fn replication_controller(obj: &mut Value) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(labels) = template_labels(&spec).filter(|l| !l.is_empty()) {
        let sel_empty = spec
            .get("selector")
            .and_then(Value::as_object)
            .is_none_or(|s| s.is_empty());
        if sel_empty {
            if let Some(s) = obj_mut(obj, "spec") {
                s.insert("selector".into(), Value::Object(labels.clone()));
            }
        }
        if labels_empty(obj) {
            set_labels(obj, labels);
        }
    }
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "replicas", json!(1));
    }
    if obj
        .get("spec")
        .and_then(|s| s.get("template"))
        .is_some_and(|t| !t.is_null())
    {
        spec_template(obj);
    }
}

/// `SetDefaults_ReplicaSet`.
pub fn replica_set(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "replicas", json!(1));
    }
    spec_template(obj);
}

/// `SetDefaults_Deployment`.
pub fn deployment(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "replicas", json!(1));
        let strategy = s.entry("strategy").or_insert_with(|| json!({}));
        if let Some(st) = strategy.as_object_mut() {
            set_default(st, "type", json!("RollingUpdate"));
            if st.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let ru = st.entry("rollingUpdate").or_insert_with(|| json!({}));
                if ru.is_null() {
                    *ru = json!({});
                }
                if let Some(r) = ru.as_object_mut() {
                    set_default(r, "maxUnavailable", json!("25%"));
                    set_default(r, "maxSurge", json!("25%"));
                }
            }
        }
        set_default(s, "revisionHistoryLimit", json!(10));
        set_default(s, "progressDeadlineSeconds", json!(600));
    }
    spec_template(obj);
}

/// `SetDefaults_DaemonSet`.
pub fn daemon_set(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        let us = s.entry("updateStrategy").or_insert_with(|| json!({}));
        if let Some(u) = us.as_object_mut() {
            set_default(u, "type", json!("RollingUpdate"));
            if u.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let ru = u.entry("rollingUpdate").or_insert_with(|| json!({}));
                if ru.is_null() {
                    *ru = json!({});
                }
                if let Some(r) = ru.as_object_mut() {
                    set_default(r, "maxUnavailable", json!(1));
                    set_default(r, "maxSurge", json!(0));
                }
            }
        }
        set_default(s, "revisionHistoryLimit", json!(10));
    }
    spec_template(obj);
}

/// `SetDefaults_StatefulSet`.
pub fn stateful_set(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "podManagementPolicy", json!("OrderedReady"));
        let us = s.entry("updateStrategy").or_insert_with(|| json!({}));
        if let Some(u) = us.as_object_mut() {
            if u.get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                u.insert("type".into(), json!("RollingUpdate"));
                set_default(u, "rollingUpdate", json!({}));
            }
            if u.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                if let Some(r) = u.get_mut("rollingUpdate").and_then(Value::as_object_mut) {
                    set_default(r, "partition", json!(0));
                }
            }
        }
        let p = s
            .entry("persistentVolumeClaimRetentionPolicy")
            .or_insert_with(|| json!({}));
        if let Some(pm) = p.as_object_mut() {
            set_default(pm, "whenDeleted", json!("Retain"));
            set_default(pm, "whenScaled", json!("Retain"));
        }
        set_default(s, "replicas", json!(1));
        set_default(s, "revisionHistoryLimit", json!(10));
        if let Some(vcts) = s
            .get_mut("volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for t in vcts.iter_mut() {
                if let Some(tm) = t.as_object_mut() {
                    set_default(tm, "apiVersion", json!("v1"));
                    set_default(tm, "kind", json!("PersistentVolumeClaim"));
                    template_meta(tm);
                }
                pvc(t);
            }
        }
    }
    spec_template(obj);
}

/// Job labels default to the template labels (`SetDefaults_Job`).
pub fn job_labels_from_template(obj: &mut Value) {
    let spec = obj.get("spec").cloned().unwrap_or(Value::Null);
    if let Some(labels) = template_labels(&spec) {
        if labels_empty(obj) {
            set_labels(obj, labels);
        }
    }
}

/// `SetDefaults_Job`.
pub fn job(obj: &mut Value) {
    job_labels_from_template(obj);
    if let Some(s) = obj_mut(obj, "spec") {
        if s.get("completions").is_none_or(Value::is_null)
            && s.get("parallelism").is_none_or(Value::is_null)
        {
            s.insert("completions".into(), json!(1));
            s.insert("parallelism".into(), json!(1));
        }
        set_default(s, "parallelism", json!(1));
        let per_index = s.get("backoffLimitPerIndex").is_some_and(|v| !v.is_null());
        set_default(
            s,
            "backoffLimit",
            json!(if per_index { i32::MAX as i64 } else { 6 }),
        );
        set_default(s, "completionMode", json!("NonIndexed"));
        set_default(s, "suspend", json!(false));
        let pfp = s.get("podFailurePolicy").is_some_and(|v| !v.is_null());
        set_default(
            s,
            "podReplacementPolicy",
            json!(if pfp { "Failed" } else { "TerminatingOrFailed" }),
        );
        if let Some(rules) = s
            .get_mut("podFailurePolicy")
            .and_then(|p| p.get_mut("rules"))
            .and_then(Value::as_array_mut)
        {
            for r in rules.iter_mut() {
                if let Some(conds) = r.get_mut("onPodConditions").and_then(Value::as_array_mut) {
                    for c in conds.iter_mut() {
                        if let Some(cm) = c.as_object_mut() {
                            set_default(cm, "status", json!("True"));
                        }
                    }
                }
            }
        }
    }
    spec_template(obj);
}

/// `SetDefaults_CronJob` (the job template's pod spec gets pod defaults; the job spec
/// itself is not defaulted inside a CronJob).
pub fn cron_job(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "concurrencyPolicy", json!("Allow"));
        set_default(s, "suspend", json!(false));
        set_default(s, "successfulJobsHistoryLimit", json!(3));
        set_default(s, "failedJobsHistoryLimit", json!(1));
        let jt = s.entry("jobTemplate").or_insert_with(|| json!({}));
        if let Some(jtm) = jt.as_object_mut() {
            template_meta(jtm);
            let js = jtm.entry("spec").or_insert_with(|| json!({}));
            if let Some(jsm) = js.as_object_mut() {
                let t = jsm.entry("template").or_insert_with(|| json!({}));
                pod_template(t);
            }
        }
    }
}

/// `SetDefaults_Namespace` / `SetDefaults_NamespaceStatus`.
pub fn namespace(obj: &mut Value) {
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(meta) = obj_mut(obj, "metadata") {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if labels.is_null() {
            *labels = json!({});
        }
        if let Some(l) = labels.as_object_mut() {
            let cur = l
                .get("kubernetes.io/metadata.name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if cur.is_empty() && !name.is_empty() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
        }
    }
    if let Some(st) = obj_mut(obj, "status") {
        set_default(st, "phase", json!("Active"));
    }
}

fn base64_encode(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// `SetDefaults_Secret` and the v1 conversion of `stringData` into `data`.
pub fn secret(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else { return };
    set_default(m, "type", json!("Opaque"));
    if let Some(Value::Object(sd)) = m.remove("stringData") {
        let data = m.entry("data").or_insert_with(|| json!({}));
        if data.is_null() {
            *data = json!({});
        }
        if let Some(d) = data.as_object_mut() {
            for (k, v) in sd {
                let raw = v.as_str().unwrap_or("").as_bytes().to_vec();
                d.insert(k, json!(base64_encode(&raw)));
            }
        }
    }
}

/// `SetDefaults_PersistentVolumeClaim` (+ spec).
pub fn pvc(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "volumeMode", json!("Filesystem"));
    }
    if let Some(st) = obj_mut(obj, "status") {
        set_default(st, "phase", json!("Pending"));
    }
}

/// `SetDefaults_PersistentVolume`.
pub fn pv(obj: &mut Value) {
    if let Some(s) = obj_mut(obj, "spec") {
        set_default(s, "persistentVolumeReclaimPolicy", json!("Retain"));
        set_default(s, "volumeMode", json!("Filesystem"));
    }
    if let Some(st) = obj_mut(obj, "status") {
        set_default(st, "phase", json!("Pending"));
    }
}

/// `SetDefaults_EndpointPort`.
pub fn endpoints(obj: &mut Value) {
    if let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) {
        for ss in subsets.iter_mut() {
            if let Some(ports) = ss.get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports.iter_mut() {
                    if let Some(pm) = p.as_object_mut() {
                        set_default(pm, "protocol", json!("TCP"));
                    }
                }
            }
        }
    }
}

/// discovery/v1 `SetDefaults_EndpointPort`.
pub fn endpoint_slice(obj: &mut Value) {
    if let Some(ports) = obj.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if let Some(pm) = p.as_object_mut() {
                set_default(pm, "name", json!(""));
                set_default(pm, "protocol", json!("TCP"));
            }
        }
    }
}

/// `SetDefaults_NodeStatus`: allocatable defaults to capacity.
pub fn node(obj: &mut Value) {
    if let Some(st) = obj.get_mut("status").and_then(Value::as_object_mut) {
        if st.get("allocatable").is_none_or(Value::is_null) {
            if let Some(c) = st.get("capacity").cloned().filter(|c| c.is_object()) {
                st.insert("allocatable".into(), c);
            }
        }
    }
}

/// `SetDefaults_LimitRangeItem`.
pub fn limit_range(obj: &mut Value) {
    let Some(limits) = obj
        .get_mut("spec")
        .and_then(|s| s.get_mut("limits"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for item in limits.iter_mut() {
        let Some(m) = item.as_object_mut() else {
            continue;
        };
        if m.get("type").and_then(Value::as_str) != Some("Container") {
            continue;
        }
        let get = |m: &Map<String, Value>, k: &str| {
            m.get(k)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let max = get(m, "max");
        let min = get(m, "min");
        let mut def = get(m, "default");
        for (k, v) in &max {
            def.entry(k.clone()).or_insert(v.clone());
        }
        let mut defreq = get(m, "defaultRequest");
        for (k, v) in def.iter().chain(min.iter()) {
            defreq.entry(k.clone()).or_insert(v.clone());
        }
        if !def.is_empty() {
            m.insert("default".into(), Value::Object(def));
        }
        if !defreq.is_empty() {
            m.insert("defaultRequest".into(), Value::Object(defreq));
        }
    }
}

/// `SetDefaults_NetworkPolicy`.
pub fn network_policy(obj: &mut Value) {
    let Some(s) = obj_mut(obj, "spec") else {
        return;
    };
    for dir in ["ingress", "egress"] {
        if let Some(rules) = s.get_mut(dir).and_then(Value::as_array_mut) {
            for r in rules.iter_mut() {
                if let Some(ports) = r.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports.iter_mut() {
                        if let Some(pm) = p.as_object_mut() {
                            set_default(pm, "protocol", json!("TCP"));
                        }
                    }
                }
            }
        }
    }
    let types_empty = s
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if types_empty {
        let mut types = vec![json!("Ingress")];
        if s.get("egress")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            types.push(json!("Egress"));
        }
        s.insert("policyTypes".into(), Value::Array(types));
    }
}

/// RBAC `SetDefaults_RoleBinding`/`ClusterRoleBinding` and `SetDefaults_Subject`.
pub fn role_binding(obj: &mut Value) {
    if let Some(rr) = obj_mut(obj, "roleRef") {
        let empty = rr
            .get("apiGroup")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty();
        if empty {
            rr.insert("apiGroup".into(), json!("rbac.authorization.k8s.io"));
        }
    }
    if let Some(subjects) = obj.get_mut("subjects").and_then(Value::as_array_mut) {
        for sub in subjects.iter_mut() {
            let Some(sm) = sub.as_object_mut() else {
                continue;
            };
            let empty = sm
                .get("apiGroup")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty();
            if empty {
                match sm.get("kind").and_then(Value::as_str) {
                    Some("User") | Some("Group") => {
                        sm.insert("apiGroup".into(), json!("rbac.authorization.k8s.io"));
                    }
                    _ => {}
                }
            }
        }
    }
}
