//! The API client: `--kubeconfig`, else the in-cluster or default configuration.

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::{Error, KubeletFlags};

pub async fn build(flags: &KubeletFlags) -> Result<kube::Client, Error> {
    let config = match &flags.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)?;
            kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}
