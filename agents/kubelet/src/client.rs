//! The API client: `--kubeconfig`, else the in-cluster or default configuration, built
//! by the client code every agent shares (the kubelet has no `--master`, like upstream's).

use rkube_agent::ClientFlags;

use crate::{Error, KubeletFlags};

pub async fn build(flags: &KubeletFlags) -> Result<kube::Client, Error> {
    let client = ClientFlags {
        kubeconfig: flags.kubeconfig.clone(),
        master: None,
    };
    Ok(client.build().await?)
}
