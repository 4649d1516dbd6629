//! The API client: `--master` and/or `--kubeconfig`, as every node agent.

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::{Error, ProxyFlags};

pub async fn build(flags: &ProxyFlags) -> Result<kube::Client, Error> {
    let mut config = match (&flags.kubeconfig, &flags.master) {
        (Some(path), _) => {
            let kc = Kubeconfig::read_from(path)?;
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?
        }
        (None, Some(master)) => kube::Config::new(parse_master(master)?),
        (None, None) => kube::Config::infer().await?,
    };
    if let Some(master) = &flags.master {
        config.cluster_url = parse_master(master)?;
    }
    Ok(kube::Client::try_from(config)?)
}

fn parse_master(master: &str) -> Result<http::Uri, Error> {
    master
        .parse()
        .map_err(|e| Error::Flags(format!("--master {master:?}: {e}")))
}
