//! What the pod spec means for the processes, with no I/O: QoS class, cgroup limits,
//! the command line, the environment, runAsNonRoot and capabilities.

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::cgroups::Limits;

pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The parts of the image config that decide how a container runs.
#[derive(Debug, Clone, Default)]
pub struct ImageRun {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }

    /// The pod's cgroup below the cgroup root, by class as upstream lays them out.
    pub fn pod_cgroup(self, uid: &str) -> String {
        match self {
            QosClass::Guaranteed => format!("kubepods/pod{uid}"),
            QosClass::Burstable => format!("kubepods/burstable/pod{uid}"),
            QosClass::BestEffort => format!("kubepods/besteffort/pod{uid}"),
        }
    }
}

fn containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    spec.map(|s| s.containers.iter())
        .into_iter()
        .flatten()
        .chain(
            spec.and_then(|s| s.init_containers.as_ref())
                .into_iter()
                .flatten(),
        )
}

fn resource<'a>(c: &'a Container, kind: &str, name: &str) -> Option<&'a Quantity> {
    let r = c.resources.as_ref()?;
    let map = if kind == "limits" {
        r.limits.as_ref()
    } else {
        r.requests.as_ref()
    };
    map?.get(name)
}

/// Requests default to limits, as the apiserver defaults them.
fn request<'a>(c: &'a Container, name: &str) -> Option<&'a Quantity> {
    resource(c, "requests", name).or_else(|| resource(c, "limits", name))
}

/// The pod's QoS class, by upstream's rules over cpu and memory.
pub fn qos_class(pod: &Pod) -> QosClass {
    let mut any = false;
    let mut guaranteed = true;
    for c in containers(pod) {
        for name in ["cpu", "memory"] {
            let (req, lim) = (request(c, name), resource(c, "limits", name));
            any |= req.is_some_and(|q| !is_zero(q)) || lim.is_some_and(|q| !is_zero(q));
            match (req, lim) {
                (Some(r), Some(l)) if parse_quantity(&r.0) == parse_quantity(&l.0) => {}
                _ => guaranteed = false,
            }
        }
    }
    if !any {
        QosClass::BestEffort
    } else if guaranteed {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}

fn is_zero(q: &Quantity) -> bool {
    parse_quantity(&q.0) == Some(0.0)
}

fn milli_cpu(q: Option<&Quantity>) -> Option<u64> {
    Some((parse_quantity(&q?.0)? * 1000.0).ceil() as u64)
}

fn bytes(q: Option<&Quantity>) -> Option<i64> {
    Some(parse_quantity(&q?.0)?.ceil() as i64)
}

/// One container's cgroup limits.
pub fn container_limits(c: &Container, qos: QosClass) -> Limits {
    Limits {
        cpu_shares: Some(match qos {
            QosClass::BestEffort => 2,
            _ => Limits::shares_for(milli_cpu(request(c, "cpu")).unwrap_or(0)),
        }),
        cpu_quota_us: milli_cpu(resource(c, "limits", "cpu")).map(Limits::quota_for),
        memory_bytes: bytes(resource(c, "limits", "memory")),
        pids_max: None,
    }
}

/// The pod cgroup's limits: sums over the containers, a limit only when every container
/// has one (upstream's pod-level cgroup).
pub fn pod_limits(pod: &Pod, qos: QosClass) -> Limits {
    let app: Vec<&Container> = pod.spec.iter().flat_map(|s| s.containers.iter()).collect();
    let sum_limits = |name: &str, convert: &dyn Fn(Option<&Quantity>) -> Option<i64>| {
        app.iter()
            .map(|c| convert(resource(c, "limits", name)))
            .sum::<Option<i64>>()
    };
    let cpu_requests: u64 = app
        .iter()
        .filter_map(|c| milli_cpu(request(c, "cpu")))
        .sum();
    Limits {
        cpu_shares: Some(match qos {
            QosClass::BestEffort => 2,
            _ => Limits::shares_for(cpu_requests),
        }),
        cpu_quota_us: sum_limits("cpu", &|q| milli_cpu(q).map(|m| m as i64))
            .map(|m| Limits::quota_for(m as u64)),
        memory_bytes: sum_limits("memory", &bytes),
        pids_max: None,
    }
}

/// A resource.Quantity as a number (`100m` → 0.1, `64Mi` → 67108864, `1e3` → 1000).
pub fn parse_quantity(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * factor)
}

/// argv: the container's command (else the image's entrypoint) followed by the
/// container's args (else, when the command was not overridden, the image's cmd). Both
/// come already `$(VAR)`-expanded.
pub fn command_line(command: &[String], args: &[String], image: &ImageRun) -> Vec<String> {
    if command.is_empty() {
        let args = if args.is_empty() { &image.cmd } else { args };
        image.entrypoint.iter().chain(args).cloned().collect()
    } else {
        command.iter().chain(args).cloned().collect()
    }
}

/// The environment: the image's, PATH if it has none, HOSTNAME, then the container's
/// resolved variables (later entries win, as in a shell).
pub fn environment(vars: &[(String, String)], image: &ImageRun, hostname: &str) -> Vec<String> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| {
        env.retain(|(n, _)| n != name);
        env.push((name.to_string(), value));
    };
    for pair in &image.env {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        set(n, v.to_string());
    }
    if !image.env.iter().any(|e| e.starts_with("PATH=")) {
        set("PATH", DEFAULT_PATH.to_string());
    }
    set("HOSTNAME", hostname.to_string());
    for (name, value) in vars {
        set(name, value.clone());
    }
    env.into_iter().map(|(n, v)| format!("{n}={v}")).collect()
}

/// `env` with HOME added when neither the image nor the pod set it, as runc adds it.
pub fn with_home(mut env: Vec<String>, home: &str) -> Vec<String> {
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={home}"));
    }
    env
}

/// The container's securityContext fields that the pod's can also set: the container's
/// value wins, as upstream's DetermineEffectiveSecurityContext.
fn effective<T: Clone>(
    pod: &Pod,
    c: &Container,
    from_container: impl Fn(&k8s_openapi::api::core::v1::SecurityContext) -> Option<T>,
    from_pod: impl Fn(&k8s_openapi::api::core::v1::PodSecurityContext) -> Option<T>,
) -> Option<T> {
    let pod_sc = pod.spec.as_ref().and_then(|s| s.security_context.as_ref());
    c.security_context
        .as_ref()
        .and_then(from_container)
        .or_else(|| pod_sc.and_then(from_pod))
}

/// `name_namespace(uid)`, as upstream's format.Pod names a pod in messages.
pub fn pod_label(pod: &Pod) -> String {
    let m = &pod.metadata;
    format!(
        "{}_{}({})",
        m.name.as_deref().unwrap_or(""),
        m.namespace.as_deref().unwrap_or("default"),
        m.uid.as_deref().unwrap_or("")
    )
}

/// runAsNonRoot: refuses a container that would run as uid 0, or whose image names a
/// user that cannot be checked, with upstream's CreateContainerConfigError messages.
pub fn verify_run_as_non_root(pod: &Pod, c: &Container, image: &ImageRun) -> Result<(), String> {
    if effective(pod, c, |s| s.run_as_non_root, |s| s.run_as_non_root) != Some(true) {
        return Ok(());
    }
    let who = format!("(pod: {:?}, container: {})", pod_label(pod), c.name);
    if let Some(uid) = effective(pod, c, |s| s.run_as_user, |s| s.run_as_user) {
        return match uid {
            0 => Err(format!(
                "container's runAsUser breaks non-root policy {who}"
            )),
            _ => Ok(()),
        };
    }
    let user = image.user.split(':').next().unwrap_or("");
    match user.parse::<u32>() {
        Ok(0) => Err(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        Ok(_) => Ok(()),
        // No USER in the image: root.
        Err(_) if user.is_empty() => Err(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        Err(_) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root {who}"
        )),
    }
}

/// securityContext.readOnlyRootFilesystem (container-level only).
pub fn readonly_rootfs(c: &Container) -> bool {
    c.security_context
        .as_ref()
        .and_then(|s| s.read_only_root_filesystem)
        == Some(true)
}

/// securityContext.privileged (container-level only).
pub fn privileged(c: &Container) -> bool {
    c.security_context.as_ref().and_then(|s| s.privileged) == Some(true)
}

/// no_new_privs only when allowPrivilegeEscalation is explicitly false, as upstream.
pub fn no_new_privs(c: &Container) -> bool {
    c.security_context
        .as_ref()
        .and_then(|s| s.allow_privilege_escalation)
        == Some(false)
}

/// Capability names by number, as the kernel numbers them.
const CAPABILITIES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// containerd's default set for containers that are not privileged.
const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

fn capability_bit(name: &str) -> Result<u64, String> {
    let bare = name.strip_prefix("CAP_").unwrap_or(name);
    CAPABILITIES
        .iter()
        .position(|c| c.eq_ignore_ascii_case(bare))
        .map(|n| 1u64 << n)
        .ok_or_else(|| format!("unknown capability {name:?}"))
}

/// The container's capability mask: every capability when privileged, else containerd's
/// default set with `drop` removed and then `add` added (`ALL` in either meaning all).
pub fn capabilities(c: &Container) -> Result<u64, String> {
    let sc = c.security_context.as_ref();
    if privileged(c) {
        return Ok(u64::MAX);
    }
    let listed = |pick: fn(&k8s_openapi::api::core::v1::Capabilities) -> Option<&Vec<String>>| {
        sc.and_then(|s| s.capabilities.as_ref())
            .and_then(pick)
            .cloned()
            .unwrap_or_default()
    };
    let (add, drop) = (listed(|c| c.add.as_ref()), listed(|c| c.drop.as_ref()));
    let mut mask = 0u64;
    for name in DEFAULT_CAPABILITIES {
        mask |= capability_bit(name)?;
    }
    if add.iter().any(|a| a == "ALL") {
        mask = u64::MAX;
    }
    if drop.iter().any(|d| d == "ALL") {
        mask = 0;
    }
    for name in drop.iter().filter(|d| *d != "ALL") {
        mask &= !capability_bit(name)?;
    }
    for name in add.iter().filter(|a| *a != "ALL") {
        mask |= capability_bit(name)?;
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(containers: serde_json::Value) -> Pod {
        serde_json::from_value(
            json!({"metadata": {"name": "p"}, "spec": {"containers": containers}}),
        )
        .unwrap()
    }

    #[test]
    fn qos_classes() {
        assert_eq!(
            qos_class(&pod(json!([{"name": "a"}]))),
            QosClass::BestEffort
        );
        let g =
            pod(json!([{"name": "a", "resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}]));
        assert_eq!(qos_class(&g), QosClass::Guaranteed);
        let b = pod(
            json!([{"name": "a", "resources": {"requests": {"memory": "32Mi"}, "limits": {"memory": "64Mi"}}}]),
        );
        assert_eq!(qos_class(&b), QosClass::Burstable);
        assert_eq!(
            QosClass::Burstable.pod_cgroup("u"),
            "kubepods/burstable/podu"
        );
    }

    #[test]
    fn limits_from_resources() {
        let p = pod(json!([
            {"name": "a", "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m", "memory": "64Mi"}}},
            {"name": "b", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}},
        ]));
        let qos = qos_class(&p);
        assert_eq!(qos, QosClass::Burstable);
        let c = container_limits(&p.spec.as_ref().unwrap().containers[0], qos);
        assert_eq!(c.cpu_shares, Some(256));
        assert_eq!(c.cpu_quota_us, Some(50_000));
        assert_eq!(c.memory_bytes, Some(64 << 20));
        let l = pod_limits(&p, qos);
        assert_eq!(l.memory_bytes, Some((64 << 20) + (1 << 30)));
        assert_eq!(l.cpu_quota_us, Some(150_000));
        assert_eq!(l.cpu_shares, Some(Limits::shares_for(1250)));
        let partial =
            pod(json!([{"name": "a", "resources": {"limits": {"memory": "64Mi"}}}, {"name": "b"}]));
        assert_eq!(pod_limits(&partial, QosClass::Burstable).memory_bytes, None);
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("100m"), Some(0.1));
        assert_eq!(parse_quantity("64Mi"), Some(67108864.0));
        assert_eq!(parse_quantity("1e3"), Some(1000.0));
        assert_eq!(parse_quantity("2G"), Some(2e9));
        assert_eq!(parse_quantity("x"), None);
        assert_eq!(parse_quantity("5Qi"), None);
    }

    #[test]
    fn command_and_env() {
        let image = ImageRun {
            entrypoint: vec!["/entry".into()],
            cmd: vec!["default".into()],
            env: vec!["A=image".into(), "B=image".into()],
            working_dir: String::new(),
            user: "1000:1001".into(),
        };
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(command_line(&[], &strings(&["x"]), &image), ["/entry", "x"]);
        assert_eq!(command_line(&[], &[], &image), ["/entry", "default"]);
        assert_eq!(command_line(&strings(&["sh"]), &[], &image), ["sh"]);
        let vars = vec![
            ("B".to_string(), "pod".to_string()),
            ("ME".to_string(), "p".to_string()),
        ];
        let env = environment(&vars, &image, "p");
        assert_eq!(
            env,
            [
                "A=image",
                &format!("PATH={DEFAULT_PATH}"),
                "HOSTNAME=p",
                "B=pod",
                "ME=p"
            ]
        );
    }

    #[test]
    fn capability_masks() {
        let with = |sc: serde_json::Value| {
            let c: Container =
                serde_json::from_value(json!({"name": "a", "securityContext": sc})).unwrap();
            capabilities(&c)
        };
        // Docker's and containerd's well-known default CapEff.
        assert_eq!(with(json!({})), Ok(0xa80425fb));
        assert_eq!(with(json!({"privileged": true})), Ok(u64::MAX));
        assert_eq!(
            with(json!({"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN", "CAP_SYS_TIME"]}})),
            Ok((1 << 12) | (1 << 25))
        );
        assert_eq!(
            with(json!({"capabilities": {"drop": ["KILL", "CAP_CHOWN"]}})),
            Ok(0xa80425fb & !(1 << 5) & !1)
        );
        assert!(with(json!({"capabilities": {"add": ["FLY"]}})).is_err());
    }

    #[test]
    fn run_as_non_root() {
        let image = |user: &str| ImageRun {
            user: user.into(),
            ..ImageRun::default()
        };
        let strict: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
            "spec": {"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]}}))
        .unwrap();
        let c = strict.spec.as_ref().unwrap().containers[0].clone();
        assert_eq!(
            verify_run_as_non_root(&strict, &c, &image("")).unwrap_err(),
            "container has runAsNonRoot and image will run as root (pod: \"p_ns(u)\", container: a)"
        );
        assert!(verify_run_as_non_root(&strict, &c, &image("0:0")).is_err());
        assert!(verify_run_as_non_root(&strict, &c, &image("1000")).is_ok());
        assert!(verify_run_as_non_root(&strict, &c, &image("nobody"))
            .unwrap_err()
            .contains("image has non-numeric user (nobody), cannot verify user is non-root"));
        let as_user: Container =
            serde_json::from_value(json!({"name": "a", "securityContext": {"runAsUser": 1000}}))
                .unwrap();
        assert!(verify_run_as_non_root(&strict, &as_user, &image("")).is_ok());
        let allowed: Container = serde_json::from_value(
            json!({"name": "a", "securityContext": {"runAsNonRoot": false}}),
        )
        .unwrap();
        assert!(verify_run_as_non_root(&strict, &allowed, &image("")).is_ok());
    }
}
