//! `rkube kubelet` flags: the kubelet's upstream names and defaults.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;

use crate::Error;

/// Flags of `rkube kubelet`.
#[derive(Debug, Clone, Args)]
pub struct KubeletFlags {
    /// Path to a kubeconfig file with the apiserver's address and credentials.
    #[arg(long, value_name = "string")]
    pub kubeconfig: Option<PathBuf>,

    /// If non-empty, use this string as identification instead of the actual hostname.
    #[arg(long, value_name = "string")]
    pub hostname_override: Option<String>,

    /// IP address of the node: its InternalIP, the pods' hostIP, and (unless --address is
    /// given) where the kubelet server listens.
    #[arg(long, value_name = "string")]
    pub node_ip: Option<IpAddr>,

    /// Directory path for managing kubelet files (pod state, IP allocations).
    #[arg(long, default_value = "/var/lib/kubelet", value_name = "string")]
    pub root_dir: PathBuf,

    /// Directory the pods' container logs are written under (the KubeletConfiguration
    /// field podLogsDir).
    #[arg(long, default_value = "/var/log/pods", value_name = "string")]
    pub pod_logs_dir: PathBuf,

    /// Driver that the kubelet uses to manipulate cgroups on the host. Only cgroupfs.
    #[arg(long, default_value = "cgroupfs", value_name = "string")]
    pub cgroup_driver: String,

    /// Root cgroup to use for pods ('' means the root of each hierarchy).
    #[arg(long, default_value = "", value_name = "string")]
    pub cgroup_root: String,

    /// Number of pods that can run on this kubelet.
    #[arg(long, default_value_t = 110, value_name = "int32")]
    pub max_pods: u32,

    /// Maximum number of processes per pod (pids.max of the pod cgroup); -1 is unlimited.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true, value_name = "int")]
    pub pod_max_pids: i64,

    /// Labels to add when registering the node (key=value pairs, comma separated).
    #[arg(long, value_delimiter = ',', value_name = "mapStringString")]
    pub node_labels: Vec<String>,

    /// Register the node with the given taints (key=value:Effect, comma separated).
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub register_with_taints: Vec<String>,

    /// Register the node with the apiserver.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub register_node: bool,

    /// The IP address for the kubelet server to serve on. Default: --node-ip, else
    /// 127.0.0.1 (upstream's 0.0.0.0 waits for the authentication of this port).
    #[arg(long, value_name = "ip")]
    pub address: Option<IpAddr>,

    /// The port for the kubelet server to serve on.
    #[arg(long, default_value_t = 10250, value_name = "int32")]
    pub port: u16,

    /// The read-only port for the kubelet to serve on with no authentication (0 disables).
    #[arg(long, default_value_t = 10255, value_name = "int32")]
    pub read_only_port: u16,

    /// Enables server endpoints for log collection and local running of containers.
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set, value_name = "bool")]
    pub enable_debugging_handlers: bool,

    /// The node's log directory, served read-only under the kubelet's `/logs/` (with
    /// debugging handlers). rkube's: upstream always serves /var/log.
    #[arg(long, default_value = "/var/log", value_name = "string")]
    pub node_logs_dir: PathBuf,

    /// Path to the directory containing static pod files to run (YAML or JSON, files
    /// starting with a dot ignored); each runs here and is mirrored into the API.
    #[arg(long, value_name = "string")]
    pub pod_manifest_path: Option<PathBuf>,

    /// Duration between checking the static pod files for new data.
    #[arg(long, default_value = "20s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub file_check_frequency: std::time::Duration,

    /// Comma-separated list of DNS server IP addresses for the pods' /etc/resolv.conf.
    #[arg(long, value_delimiter = ',', value_name = "strings")]
    pub cluster_dns: Vec<IpAddr>,

    /// Domain for this cluster: containers search it as well as the host's search domains.
    #[arg(long, default_value = "", value_name = "string")]
    pub cluster_domain: String,

    /// The CIDR to use for pod IP addresses when the Node object has none.
    #[arg(long, value_name = "string")]
    pub pod_cidr: Option<String>,

    /// A registry reached over plain HTTP (host:port; repeatable). Registries on loopback
    /// are plain HTTP by default.
    #[arg(long = "insecure-registry", value_name = "host:port")]
    pub insecure_registries: Vec<String>,

    /// A quantity (e.g. 10Mi) defining the maximum size of a container log file before
    /// it is rotated.
    #[arg(long, default_value = "10Mi", value_parser = parse_size, value_name = "quantity")]
    pub container_log_max_size: u64,

    /// The maximum number of container log files that can be present for a container
    /// (the current one included; at least 2).
    #[arg(long, default_value_t = 5, value_name = "int32")]
    pub container_log_max_files: usize,

    /// How often the container logs are checked for rotation (the KubeletConfiguration
    /// field containerLogMonitorInterval).
    #[arg(long, default_value = "10s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub container_log_monitor_interval: std::time::Duration,

    /// The percent of disk usage after which image garbage collection is always run
    /// (100 disables it).
    #[arg(long, default_value_t = 85, value_name = "int32")]
    pub image_gc_high_threshold: u8,

    /// The percent of disk usage before which image garbage collection is never run:
    /// the lowest disk usage to garbage collect to. Less than --image-gc-high-threshold.
    #[arg(long, default_value_t = 80, value_name = "int32")]
    pub image_gc_low_threshold: u8,

    /// Minimum age for an unused image before it is garbage collected.
    #[arg(long, default_value = "2m0s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub minimum_image_ttl_duration: std::time::Duration,

    /// How often image garbage collection measures the image filesystem (rkube's: upstream
    /// fixes it at 5m).
    #[arg(long, default_value = "5m0s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub image_gc_period: std::time::Duration,

    /// How often the kubelet posts node status (conditions, addresses) to the apiserver.
    #[arg(long, default_value = "10s", value_parser = rkube_agent::duration::parse_duration, value_name = "duration")]
    pub node_status_update_frequency: std::time::Duration,
}

impl KubeletFlags {
    /// The node's name: --hostname-override, else the host name, lower-cased.
    pub fn node_name(&self) -> Result<String, Error> {
        let name = match &self.hostname_override {
            Some(name) => name.clone(),
            None => nix::unistd::gethostname()
                .map_err(|e| Error::Flags(format!("reading the host name: {e}")))?
                .to_string_lossy()
                .into_owned(),
        };
        let name = name.trim().to_lowercase();
        if name.is_empty() {
            return Err(Error::Flags("the node name is empty".into()));
        }
        Ok(name)
    }

    /// Checks what parsing alone cannot, before anything is started.
    pub fn validate(&self) -> Result<(), Error> {
        if self.cgroup_driver != "cgroupfs" {
            return Err(Error::Flags(format!(
                "--cgroup-driver={:?}: only \"cgroupfs\" is supported",
                self.cgroup_driver
            )));
        }
        if let Some(cidr) = &self.pod_cidr {
            crate::network::ipam::Cidr::parse(cidr)
                .map_err(|e| Error::Flags(format!("--pod-cidr={cidr:?}: {e}")))?;
        }
        if self.container_log_max_files < 2 {
            return Err(Error::Flags(format!(
                "--container-log-max-files={}: must be at least 2",
                self.container_log_max_files
            )));
        }
        if self.container_log_monitor_interval < std::time::Duration::from_secs(3) {
            return Err(Error::Flags(
                "--container-log-monitor-interval must be at least 3s".into(),
            ));
        }
        let (high, low) = (self.image_gc_high_threshold, self.image_gc_low_threshold);
        if high > 100 {
            return Err(Error::Flags(format!(
                "--image-gc-high-threshold={high}: must be between 0 and 100"
            )));
        }
        if low >= high {
            return Err(Error::Flags(format!(
                "--image-gc-low-threshold={low}: must be less than --image-gc-high-threshold={high}"
            )));
        }
        if self.image_gc_period.is_zero() {
            return Err(Error::Flags("--image-gc-period must be positive".into()));
        }
        self.labels()?;
        self.taints()?;
        Ok(())
    }

    /// The image garbage collection flags together (None: disabled by a 100% threshold).
    pub fn image_gc(&self) -> Option<crate::image_gc::ImageGcPolicy> {
        (self.image_gc_high_threshold < 100).then_some(crate::image_gc::ImageGcPolicy {
            high_threshold_percent: self.image_gc_high_threshold,
            low_threshold_percent: self.image_gc_low_threshold,
            min_age: self.minimum_image_ttl_duration,
            period: self.image_gc_period,
        })
    }

    /// The container log rotation flags together.
    pub fn log_rotation(&self) -> crate::log_rotation::RotationPolicy {
        crate::log_rotation::RotationPolicy {
            max_size: self.container_log_max_size,
            max_files: self.container_log_max_files,
        }
    }

    /// --node-labels as a map.
    pub fn labels(&self) -> Result<BTreeMap<String, String>, Error> {
        self.node_labels
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| match l.split_once('=') {
                Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
                _ => Err(Error::Flags(format!(
                    "--node-labels: {l:?} is not key=value"
                ))),
            })
            .collect()
    }

    /// --register-with-taints as Taints (`key[=value]:Effect`).
    pub fn taints(&self) -> Result<Vec<k8s_openapi::api::core::v1::Taint>, Error> {
        self.register_with_taints
            .iter()
            .filter(|t| !t.is_empty())
            .map(|t| {
                let bad = || {
                    Error::Flags(format!(
                        "--register-with-taints: {t:?} is not key[=value]:Effect"
                    ))
                };
                let (kv, effect) = t.rsplit_once(':').ok_or_else(bad)?;
                if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect) {
                    return Err(bad());
                }
                let (key, value) = match kv.split_once('=') {
                    Some((k, v)) => (k, Some(v.to_string())),
                    None => (kv, None),
                };
                if key.is_empty() {
                    return Err(bad());
                }
                Ok(k8s_openapi::api::core::v1::Taint {
                    key: key.to_string(),
                    value,
                    effect: effect.to_string(),
                    time_added: None,
                })
            })
            .collect()
    }
}

/// A byte size as a resource quantity (`10Mi`, `100Ki`, `1G`), greater than zero.
fn parse_size(text: &str) -> Result<u64, String> {
    match crate::runtime::spec::parse_quantity(text) {
        Some(bytes) if bytes >= 1.0 => Ok(bytes as u64),
        _ => Err(format!("{text:?} is not a positive quantity of bytes")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use rkube_agent::duration::parse_duration;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        flags: KubeletFlags,
    }

    fn parse(args: &[&str]) -> Result<KubeletFlags, clap::Error> {
        Cli::try_parse_from(std::iter::once("kubelet").chain(args.iter().copied())).map(|c| c.flags)
    }

    #[test]
    fn upstream_defaults() {
        let f = parse(&[]).unwrap();
        assert_eq!(f.root_dir, PathBuf::from("/var/lib/kubelet"));
        assert_eq!((f.port, f.read_only_port, f.max_pods), (10250, 10255, 110));
        assert_eq!(f.cgroup_driver, "cgroupfs");
        assert!(f.register_node && f.enable_debugging_handlers);
        assert_eq!(
            f.node_status_update_frequency,
            std::time::Duration::from_secs(10)
        );
        assert_eq!(
            (f.container_log_max_size, f.container_log_max_files),
            (10 << 20, 5)
        );
        assert_eq!(
            f.container_log_monitor_interval,
            std::time::Duration::from_secs(10)
        );
        let gc = f.image_gc().unwrap();
        assert_eq!(
            (gc.high_threshold_percent, gc.low_threshold_percent),
            (85, 80)
        );
        assert_eq!(gc.min_age, std::time::Duration::from_secs(120));
        assert_eq!(gc.period, std::time::Duration::from_secs(300));
    }

    #[test]
    fn unknown_flags_and_bad_values_are_errors() {
        assert!(parse(&["--no-such-flag"]).is_err());
        assert!(parse(&["--max-pods", "many"]).is_err());
        let f = parse(&["--cgroup-driver", "systemd"]).unwrap();
        assert!(f.validate().is_err());
        let f = parse(&["--node-labels", "a=b,c"]).unwrap();
        assert!(f.validate().is_err());
        let f = parse(&["--register-with-taints", "k=v:Sometimes"]).unwrap();
        assert!(f.validate().is_err());
        let f = parse(&["--pod-cidr", "10.1.0.0/33"]).unwrap();
        assert!(f.validate().is_err());
        assert!(parse(&["--container-log-max-size", "lots"]).is_err());
        assert_eq!(
            parse(&["--container-log-max-size=100Ki"])
                .unwrap()
                .container_log_max_size,
            102400
        );
        let f = parse(&["--container-log-max-files", "1"]).unwrap();
        assert!(f.validate().is_err());
        let f = parse(&[
            "--image-gc-high-threshold=50",
            "--image-gc-low-threshold=60",
        ])
        .unwrap();
        assert!(f.validate().is_err());
        assert!(parse(&["--image-gc-high-threshold=101"])
            .unwrap()
            .validate()
            .is_err());
        assert!(parse(&["--image-gc-high-threshold=100"])
            .unwrap()
            .image_gc()
            .is_none());
    }

    #[test]
    fn labels_taints_and_durations() {
        let f = parse(&[
            "--node-labels=a=b,zone=z1",
            "--register-with-taints=dedicated=gpu:NoSchedule,x:NoExecute",
            "--register-node=false",
            "--node-status-update-frequency=1m30s",
        ])
        .unwrap();
        f.validate().unwrap();
        assert_eq!(f.labels().unwrap()["zone"], "z1");
        let taints = f.taints().unwrap();
        assert_eq!(taints[0].value.as_deref(), Some("gpu"));
        assert_eq!(
            (taints[1].key.as_str(), taints[1].value.as_deref()),
            ("x", None)
        );
        assert!(!f.register_node);
        assert_eq!(
            f.node_status_update_frequency,
            std::time::Duration::from_secs(90)
        );
        assert!(parse_duration("10").is_err());
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
    }
}
