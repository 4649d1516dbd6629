//! Pod and pod-template defaulting: `SetDefaults_Pod`, `SetDefaults_PodSpec`,
//! `SetDefaults_Container`, probes, volumes, ports, and the v1 conversion of the deprecated
//! `serviceAccount` field.

use serde_json::{json, Map, Value};

use super::set_default;
use crate::validation::quantity::Quantity;

/// The ObjectMeta of an embedded template: a zero `creationTimestamp` serializes as `null`.
pub fn template_meta(template: &mut Map<String, Value>) {
    let meta = template
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(m) = meta.as_object_mut() {
        m.entry("creationTimestamp").or_insert(Value::Null);
    }
}

/// Defaults of a `PodTemplateSpec` inside a controller.
pub fn pod_template(template: &mut Value) {
    let Some(t) = template.as_object_mut() else {
        return;
    };
    template_meta(t);
    let spec = t.entry("spec").or_insert_with(|| Value::Object(Map::new()));
    pod_spec(spec);
}

/// `SetDefaults_Pod` + `SetDefaults_PodSpec` for a Pod object.
pub fn pod(pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec") else {
        return;
    };
    pod_spec(spec);
    let Some(s) = spec.as_object_mut() else {
        return;
    };
    for key in ["containers", "initContainers"] {
        if let Some(list) = s.get_mut(key).and_then(Value::as_array_mut) {
            for c in list.iter_mut() {
                requests_from_limits(c);
            }
        }
    }
    set_default(s, "enableServiceLinks", json!(true));
    if s.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for key in ["containers", "initContainers"] {
            if let Some(list) = s.get_mut(key).and_then(Value::as_array_mut) {
                for c in list.iter_mut() {
                    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                        for p in ports.iter_mut() {
                            if let Some(pm) = p.as_object_mut() {
                                let zero =
                                    pm.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0;
                                if zero {
                                    if let Some(cp) = pm.get("containerPort").cloned() {
                                        pm.insert("hostPort".into(), cp);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // The Priority admission plugin resolves the (absent) priority class to 0.
    if s.get("priorityClassName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        set_default(s, "priority", json!(0));
    }
    set_default(s, "preemptionPolicy", json!("PreemptLowerPriority"));
}

/// If limits are set but requests are not, requests default to the limits.
fn requests_from_limits(c: &mut Value) {
    let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut) else {
        return;
    };
    let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    if limits.is_empty() {
        return;
    }
    let req = res
        .entry("requests")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(r) = req.as_object_mut() {
        for (k, v) in limits {
            r.entry(k).or_insert(v);
        }
    }
}

/// `SetDefaults_PodSpec` and everything nested in it.
pub fn pod_spec(spec: &mut Value) {
    let Some(s) = spec.as_object_mut() else {
        return;
    };
    set_default(s, "dnsPolicy", json!("ClusterFirst"));
    set_default(s, "restartPolicy", json!("Always"));
    set_default(s, "securityContext", json!({}));
    set_default(s, "terminationGracePeriodSeconds", json!(30));
    set_default(s, "schedulerName", json!("default-scheduler"));
    // v1 conversion: serviceAccount is the deprecated alias of serviceAccountName.
    let san = s
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sa = s
        .get("serviceAccount")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if san.is_empty() && !sa.is_empty() {
        s.insert("serviceAccountName".into(), json!(sa));
    } else if !san.is_empty() {
        s.insert("serviceAccount".into(), json!(san));
    }
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        if let Some(list) = s.get_mut(key).and_then(Value::as_array_mut) {
            for c in list.iter_mut() {
                container(c);
            }
        }
    }
    if let Some(vols) = s.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in vols.iter_mut() {
            volume(v);
        }
    }
}

/// The image pull policy default: `Always` for `:latest` or untagged images.
pub fn pull_policy_for(image: &str) -> &'static str {
    // Upstream parses the reference; a digest, or an unparsable/empty reference, has no
    // "latest" tag.
    if image.is_empty()
        || image.contains('@')
        || image
            .chars()
            .any(|c| c.is_ascii_uppercase() || c.is_whitespace())
    {
        return "IfNotPresent";
    }
    // The tag follows the last ':' after the last '/'.
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None => "Always",
        Some((_, "latest")) => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// `SetDefaults_Container` and nested defaults.
pub fn container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else {
        return;
    };
    let image = m
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if m.get("imagePullPolicy")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty()
    {
        m.insert("imagePullPolicy".into(), json!(pull_policy_for(&image)));
    }
    set_default(m, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(m, "terminationMessagePolicy", json!("File"));
    set_default(m, "resources", json!({}));
    if let Some(ports) = m.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut() {
            if let Some(pm) = p.as_object_mut() {
                set_default(pm, "protocol", json!("TCP"));
            }
        }
    }
    if let Some(env) = m.get_mut("env").and_then(Value::as_array_mut) {
        for e in env.iter_mut() {
            if let Some(fr) = e
                .get_mut("valueFrom")
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                set_default(fr, "apiVersion", json!("v1"));
            }
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe).and_then(Value::as_object_mut) {
            set_default(p, "timeoutSeconds", json!(1));
            set_default(p, "periodSeconds", json!(10));
            set_default(p, "successThreshold", json!(1));
            set_default(p, "failureThreshold", json!(3));
            http_get(p);
            if let Some(g) = p.get_mut("grpc").and_then(Value::as_object_mut) {
                let _ = g;
            }
        }
    }
    if let Some(l) = m.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for h in ["postStart", "preStop"] {
            if let Some(hm) = l.get_mut(h).and_then(Value::as_object_mut) {
                http_get(hm);
            }
        }
    }
}

fn http_get(handler: &mut Map<String, Value>) {
    if let Some(h) = handler.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default(h, "path", json!("/"));
        set_default(h, "scheme", json!("HTTP"));
    }
}

const VOLUME_SOURCES: &[&str] = &[
    "hostPath",
    "emptyDir",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// `SetDefaults_Volume` and the per-source defaults.
pub fn volume(v: &mut Value) {
    let Some(m) = v.as_object_mut() else {
        return;
    };
    if !VOLUME_SOURCES
        .iter()
        .any(|k| m.get(*k).is_some_and(|x| !x.is_null()))
    {
        m.insert("emptyDir".into(), json!({}));
    }
    for key in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(src) = m.get_mut(key).and_then(Value::as_object_mut) {
            set_default(src, "defaultMode", json!(420));
        }
    }
    if let Some(hp) = m.get_mut("hostPath").and_then(Value::as_object_mut) {
        set_default(hp, "type", json!(""));
    }
    if let Some(items) = m
        .get_mut("downwardAPI")
        .and_then(|d| d.get_mut("items"))
        .and_then(Value::as_array_mut)
    {
        for it in items.iter_mut() {
            if let Some(fr) = it.get_mut("fieldRef").and_then(Value::as_object_mut) {
                set_default(fr, "apiVersion", json!("v1"));
            }
        }
    }
    if let Some(sources) = m
        .get_mut("projected")
        .and_then(|p| p.get_mut("sources"))
        .and_then(Value::as_array_mut)
    {
        for src in sources.iter_mut() {
            if let Some(t) = src
                .get_mut("serviceAccountToken")
                .and_then(Value::as_object_mut)
            {
                set_default(t, "expirationSeconds", json!(3600));
            }
            if let Some(items) = src
                .get_mut("downwardAPI")
                .and_then(|d| d.get_mut("items"))
                .and_then(Value::as_array_mut)
            {
                for it in items.iter_mut() {
                    if let Some(fr) = it.get_mut("fieldRef").and_then(Value::as_object_mut) {
                        set_default(fr, "apiVersion", json!("v1"));
                    }
                }
            }
        }
    }
    for key in ["iscsi"] {
        if let Some(src) = m.get_mut(key).and_then(Value::as_object_mut) {
            set_default(src, "iscsiInterface", json!("default"));
        }
    }
    if let Some(rbd) = m.get_mut("rbd").and_then(Value::as_object_mut) {
        set_default(rbd, "pool", json!("rbd"));
        set_default(rbd, "user", json!("admin"));
        set_default(rbd, "keyring", json!("/etc/ceph/keyring"));
    }
    if let Some(ad) = m.get_mut("azureDisk").and_then(Value::as_object_mut) {
        set_default(ad, "cachingMode", json!("ReadWrite"));
        set_default(ad, "fsType", json!("ext4"));
        set_default(ad, "readOnly", json!(false));
        set_default(ad, "kind", json!("Shared"));
    }
    if let Some(eph) = m
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(Value::as_object_mut)
    {
        super::template_meta_only(eph);
        if let Some(spec) = eph.get_mut("spec").and_then(Value::as_object_mut) {
            set_default(spec, "volumeMode", json!("Filesystem"));
        }
    }
}

/// `qos.GetPodQOS` on a (defaulted) pod spec.
pub fn qos_class(spec: &Value) -> &'static str {
    let mut requests: Map<String, Value> = Map::new();
    let mut limits: Map<String, Value> = Map::new();
    let mut req_q: std::collections::HashMap<String, Quantity> = Default::default();
    let mut lim_q: std::collections::HashMap<String, Quantity> = Default::default();
    let mut guaranteed = true;
    let empty = Vec::new();
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let inits = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    for c in containers.iter().chain(inits) {
        let res = c.get("resources");
        let mut found = std::collections::HashSet::new();
        if let Some(r) = res
            .and_then(|r| r.get("requests"))
            .and_then(Value::as_object)
        {
            for (k, v) in r {
                if k != "cpu" && k != "memory" {
                    continue;
                }
                if let Some(q) = Quantity::from_json(v).filter(|q| q.sign() > 0) {
                    requests.insert(k.clone(), Value::Null);
                    let e = req_q
                        .entry(k.clone())
                        .or_insert(Quantity::parse("0").unwrap_or(q));
                    *e = e.add(&q);
                }
            }
        }
        if let Some(l) = res.and_then(|r| r.get("limits")).and_then(Value::as_object) {
            for (k, v) in l {
                if k != "cpu" && k != "memory" {
                    continue;
                }
                if let Some(q) = Quantity::from_json(v).filter(|q| q.sign() > 0) {
                    found.insert(k.clone());
                    limits.insert(k.clone(), Value::Null);
                    let e = lim_q
                        .entry(k.clone())
                        .or_insert(Quantity::parse("0").unwrap_or(q));
                    *e = e.add(&q);
                }
            }
        }
        if !(found.contains("cpu") && found.contains("memory")) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        for (k, r) in &req_q {
            match lim_q.get(k) {
                Some(l) if l.compare(r) == std::cmp::Ordering::Equal => {}
                _ => guaranteed = false,
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Upstream's DefaultTolerationSeconds admission plugin, run on pod create after
/// defaulting (so it is not recorded in managedFields): a pod that does not tolerate the
/// NoExecute `node.kubernetes.io/not-ready` or `node.kubernetes.io/unreachable` taint
/// gets a toleration of 300 s for it, so it survives a short node outage and is evicted
/// after a long one.
pub fn default_toleration_seconds(pod: &mut Value) {
    const SECONDS: i64 = 300;
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let tolerations = spec
        .entry("tolerations")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(list) = tolerations.as_array_mut() else {
        return;
    };
    let tolerates = |list: &[Value], key: &str| {
        list.iter().any(|t| {
            let field = |name: &str| t.get(name).and_then(Value::as_str).unwrap_or("");
            (field("key") == key || field("key").is_empty())
                && (field("effect") == "NoExecute" || field("effect").is_empty())
        })
    };
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        if !tolerates(list, key) {
            list.push(
                json!({"key": key, "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": SECONDS}),
            );
        }
    }
    if list.is_empty() {
        spec.remove("tolerations");
    }
}
