//! `rkube server` flags: the apiserver's, plus k3s-style switches and pass-through
//! arguments for the agents that run beside it.

use std::path::PathBuf;

use clap::{Args, Parser};
use rkube_apiserver::ApiserverFlags;
use rkube_controllers::ControllerManagerFlags;

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
}

/// Parses a component's own flags from pass-through `name=value` arguments, so every flag
/// the component has (now or later) is available with its own defaults and checks.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct Component<T: Args> {
    #[command(flatten)]
    flags: T,
}

fn component_flags<T: Args>(what: &str, args: &[String]) -> anyhow::Result<T> {
    let argv = args
        .iter()
        .map(|a| format!("--{}", a.trim_start_matches('-')));
    Component::<T>::try_parse_from(argv)
        .map(|c| c.flags)
        .map_err(|e| anyhow::anyhow!("--{what}-arg: {e}"))
}

impl ServerFlags {
    /// `<data-dir>/kubeconfig.yaml`: the admin kubeconfig for users and the agents.
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.apiserver.data_dir.join("kubeconfig.yaml")
    }

    /// The controller-manager's flags, or `None` when it is disabled.
    pub fn controller_manager_flags(&self) -> anyhow::Result<Option<ControllerManagerFlags>> {
        if self.disable_controller_manager {
            return Ok(None);
        }
        let flags: ControllerManagerFlags =
            component_flags("kube-controller-manager", &self.kube_controller_manager_arg)?;
        if flags.kubeconfig.is_some() || flags.master.is_some() {
            anyhow::bail!(
                "--kube-controller-manager-arg: kubeconfig and master are set by rkube server"
            );
        }
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
    fn a_disabled_component_has_no_flags() {
        let flags = parse(&["--disable-controller-manager"]);
        assert!(flags.controller_manager_flags().unwrap().is_none());
        assert!(flags.kubeconfig_path().ends_with("rkube/kubeconfig.yaml"));
    }
}
