//! `rkube server` flags: the apiserver's, plus k3s-style switches and pass-through
//! arguments for the agents that run beside it.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser};
use rkube_apiserver::ApiserverFlags;
use rkube_controllers::ControllerManagerFlags;
use rkube_kubelet::KubeletFlags;
use rkube_proxy::ProxyFlags;
use rkube_scheduler::SchedulerFlags;

/// Flags of `rkube server`.
#[derive(Debug, Clone, Args)]
pub struct ServerFlags {
    #[command(flatten)]
    pub apiserver: ApiserverFlags,

    /// Do not run the controller-manager in this process.
    #[arg(long)]
    pub disable_controller_manager: bool,

    /// A flag for the controller-manager, as `name=value` (repeatable), e.g.
    /// `--kube-controller-manager-arg controllers=*,-serviceaccount`.
    #[arg(long, value_name = "name=value")]
    pub kube_controller_manager_arg: Vec<String>,

    /// Do not run the scheduler in this process.
    #[arg(long)]
    pub disable_scheduler: bool,

    /// A flag for the scheduler, as `name=value` (repeatable).
    #[arg(long, value_name = "name=value")]
    pub kube_scheduler_arg: Vec<String>,

    /// Do not run the node agents (kubelet and kube-proxy): a control plane only.
    #[arg(long)]
    pub disable_agent: bool,

    /// Do not run kube-proxy in this process.
    #[arg(long)]
    pub disable_kube_proxy: bool,

    /// A flag for the kubelet, as `name=value` (repeatable). The kubelet's `--root-dir`
    /// defaults to `<data-dir>/kubelet` here.
    #[arg(long, value_name = "name=value")]
    pub kubelet_arg: Vec<String>,

    /// A flag for kube-proxy, as `name=value` (repeatable).
    #[arg(long, value_name = "name=value")]
    pub kube_proxy_arg: Vec<String>,

    /// The pods' IPv4 range. The local node's pods get its first /24; kube-proxy
    /// masquerades service traffic from outside it.
    #[arg(long, default_value = "10.42.0.0/16", value_name = "cidr", value_parser = parse_cluster_cidr)]
    pub cluster_cidr: (Ipv4Addr, u8),
}

/// `a.b.c.d/n` with n ≤ 24, so that a node's /24 fits in it.
fn parse_cluster_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not a CIDR (a.b.c.d/n)"))?;
    let addr: Ipv4Addr = addr.parse().map_err(|e| format!("{s:?}: {e}"))?;
    let prefix: u8 = prefix.parse().map_err(|e| format!("{s:?}: {e}"))?;
    if !(1..=24).contains(&prefix) {
        return Err(format!("{s:?}: the prefix must be between 1 and 24"));
    }
    let mask = u32::MAX << (32 - prefix);
    Ok((Ipv4Addr::from(u32::from(addr) & mask), prefix))
}

/// Parses a component's own flags from pass-through `name=value` arguments, so every flag
/// the component has (now or later) is available with its own defaults and checks.
/// `rkube server`'s own defaults come first, so the user's arguments override them.
#[derive(Parser)]
#[command(no_binary_name = true, args_override_self = true)]
struct Component<T: Args> {
    #[command(flatten)]
    flags: T,
}

fn component_flags<T: Args>(what: &str, defaults: &[String], args: &[String]) -> anyhow::Result<T> {
    let argv = defaults
        .iter()
        .chain(args)
        .map(|a| format!("--{}", a.trim_start_matches('-')));
    Component::<T>::try_parse_from(argv)
        .map(|c| c.flags)
        .map_err(|e| anyhow::anyhow!("--{what}-arg: {e}"))
}

fn refuse_connection_flags(what: &str, kubeconfig: bool, master: bool) -> anyhow::Result<()> {
    if kubeconfig || master {
        anyhow::bail!("--{what}-arg: kubeconfig and master are set by rkube server");
    }
    Ok(())
}

impl ServerFlags {
    /// `<data-dir>/kubeconfig.yaml`: the admin kubeconfig for users and the agents.
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.apiserver.data_dir.join("kubeconfig.yaml")
    }

    /// The apiserver's flags. As in k3s, the apiserver advertises the local node's
    /// address (the kubelet's `--node-ip`) unless `--advertise-address` says otherwise:
    /// that is where the `kubernetes` Service's endpoints point.
    pub fn apiserver_flags(&self, kubelet: Option<&KubeletFlags>) -> ApiserverFlags {
        let mut flags = self.apiserver.clone();
        if flags.advertise_address.is_none() {
            flags.advertise_address = kubelet.and_then(|k| k.node_ip);
        }
        flags
    }

    /// The controller-manager's flags, or `None` when it is disabled.
    pub fn controller_manager_flags(&self) -> anyhow::Result<Option<ControllerManagerFlags>> {
        if self.disable_controller_manager {
            return Ok(None);
        }
        let what = "kube-controller-manager";
        // One embedded store means one server: nobody to elect a leader against, and a
        // Lease left by the previous run would only delay the controllers by its duration.
        // Nodes that join later (kubelets on other machines) get their podCIDR from the
        // node-ipam controller; the local node's is the range's first /24.
        let (network, prefix) = self.cluster_cidr;
        let defaults = [
            "leader-elect=false".to_string(),
            "allocate-node-cidrs=true".to_string(),
            format!("cluster-cidr={network}/{prefix}"),
        ];
        let flags: ControllerManagerFlags =
            component_flags(what, &defaults, &self.kube_controller_manager_arg)?;
        refuse_connection_flags(
            what,
            flags.client.kubeconfig.is_some(),
            flags.client.master.is_some(),
        )?;
        Ok(Some(flags))
    }

    /// The scheduler's flags, or `None` when it is disabled.
    pub fn scheduler_flags(&self) -> anyhow::Result<Option<SchedulerFlags>> {
        if self.disable_scheduler {
            return Ok(None);
        }
        let what = "kube-scheduler";
        // Leader election stays on, as upstream's and k3s's schedulers run: its Lease in
        // kube-system is how clients (the conformance harness among them) see that a
        // scheduler runs. The price: after a crash it waits out the old Lease (15 s).
        let flags: SchedulerFlags = component_flags(what, &[], &self.kube_scheduler_arg)?;
        refuse_connection_flags(
            what,
            flags.client.kubeconfig.is_some(),
            flags.client.master.is_some(),
        )?;
        Ok(Some(flags))
    }

    /// The local node's kubelet flags, or `None` with `--disable-agent`.
    pub fn kubelet_flags(&self) -> anyhow::Result<Option<KubeletFlags>> {
        if self.disable_agent {
            return Ok(None);
        }
        let (network, _) = self.cluster_cidr;
        let defaults = [
            format!(
                "root-dir={}",
                self.apiserver.data_dir.join("kubelet").display()
            ),
            format!("pod-cidr={network}/24"),
        ];
        let flags: KubeletFlags = component_flags("kubelet", &defaults, &self.kubelet_arg)?;
        refuse_connection_flags("kubelet", flags.kubeconfig.is_some(), false)?;
        Ok(Some(flags))
    }

    /// kube-proxy's flags for the node named `node_name`, or `None` when it is disabled.
    pub fn proxy_flags(&self, node_name: &str) -> anyhow::Result<Option<ProxyFlags>> {
        if self.disable_agent || self.disable_kube_proxy {
            return Ok(None);
        }
        let (network, prefix) = self.cluster_cidr;
        let defaults = [
            format!("hostname-override={node_name}"),
            format!("cluster-cidr={network}/{prefix}"),
        ];
        let flags: ProxyFlags = component_flags("kube-proxy", &defaults, &self.kube_proxy_arg)?;
        refuse_connection_flags(
            "kube-proxy",
            flags.client.kubeconfig.is_some(),
            flags.client.master.is_some(),
        )?;
        Ok(Some(flags))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerFlags,
    }

    fn parse(args: &[&str]) -> ServerFlags {
        Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
            .unwrap()
            .server
    }

    #[test]
    fn pass_through_arguments_reach_the_controller_manager() {
        let flags = parse(&[
            "--kube-controller-manager-arg",
            "concurrent-rc-syncs=9",
            "--kube-controller-manager-arg=--controllers=namespace",
        ]);
        let cm = flags.controller_manager_flags().unwrap().unwrap();
        assert_eq!(cm.concurrent_rc_syncs, 9);
        assert_eq!(cm.controllers, vec!["namespace".to_string()]);
    }

    #[test]
    fn unknown_or_reserved_pass_through_arguments_are_refused() {
        let flags = parse(&["--kube-controller-manager-arg", "no-such-flag=1"]);
        assert!(flags.controller_manager_flags().is_err());
        let flags = parse(&["--kube-controller-manager-arg", "master=http://x"]);
        let err = flags.controller_manager_flags().unwrap_err().to_string();
        assert!(err.contains("set by rkube server"), "{err}");
    }

    #[test]
    fn the_node_agents_get_the_data_dir_and_the_cluster_cidr_unless_told_otherwise() {
        let flags = parse(&["--data-dir", "/d", "--cluster-cidr", "10.9.8.7/16"]);
        let kubelet = flags.kubelet_flags().unwrap().unwrap();
        assert_eq!(kubelet.root_dir, PathBuf::from("/d/kubelet"));
        assert_eq!(kubelet.pod_cidr.as_deref(), Some("10.9.0.0/24"));
        let proxy = flags.proxy_flags("n1").unwrap().unwrap();
        assert_eq!(proxy.hostname_override.as_deref(), Some("n1"));
        assert_eq!(proxy.cluster_cidr.unwrap().to_string(), "10.9.0.0/16");

        let flags = parse(&[
            "--kubelet-arg",
            "root-dir=/elsewhere",
            "--kubelet-arg=max-pods=7",
        ]);
        let kubelet = flags.kubelet_flags().unwrap().unwrap();
        assert_eq!(kubelet.root_dir, PathBuf::from("/elsewhere"));
        assert_eq!(kubelet.max_pods, 7);
        assert!(parse(&["--kubelet-arg", "kubeconfig=/k"])
            .kubelet_flags()
            .is_err());
        assert!(Cli::try_parse_from(["server", "--cluster-cidr", "10.0.0.0/25"]).is_err());
    }

    #[test]
    fn the_apiserver_advertises_the_node_ip_unless_told_otherwise() {
        let flags = parse(&["--kubelet-arg", "node-ip=10.1.2.3"]);
        let kubelet = flags.kubelet_flags().unwrap();
        let advertised = flags.apiserver_flags(kubelet.as_ref()).advertise_address;
        assert_eq!(advertised, Some("10.1.2.3".parse().unwrap()));
        let flags = parse(&[
            "--advertise-address",
            "10.9.9.9",
            "--kubelet-arg",
            "node-ip=10.1.2.3",
        ]);
        let kubelet = flags.kubelet_flags().unwrap();
        let advertised = flags.apiserver_flags(kubelet.as_ref()).advertise_address;
        assert_eq!(advertised, Some("10.9.9.9".parse().unwrap()));
        assert_eq!(parse(&[]).apiserver_flags(None).advertise_address, None);
    }

    #[test]
    fn a_disabled_component_has_no_flags() {
        let flags = parse(&[
            "--disable-controller-manager",
            "--disable-kube-proxy",
            "--disable-scheduler",
        ]);
        assert!(flags.controller_manager_flags().unwrap().is_none());
        assert!(flags.scheduler_flags().unwrap().is_none());
        assert!(flags.proxy_flags("n").unwrap().is_none());
        assert!(flags.kubelet_flags().unwrap().is_some());
        let flags = parse(&["--disable-agent"]);
        assert!(flags.kubelet_flags().unwrap().is_none());
        assert!(flags.proxy_flags("n").unwrap().is_none());
        assert!(flags.kubeconfig_path().ends_with("rkube/kubeconfig.yaml"));
    }
}
