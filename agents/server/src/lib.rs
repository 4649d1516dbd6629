//! `rkube server`: the one-command cluster (like k3s). The apiserver on its embedded store
//! and the agents run in one process, yet the agents reach the apiserver only through its
//! HTTP API with the admin kubeconfig written to `<data-dir>/kubeconfig.yaml` — exactly as
//! they would as separate processes on other machines.

mod flags;
mod kubeconfig;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

pub use flags::ServerFlags;

/// Start the apiserver, write the admin kubeconfig, then start the agents; return when
/// any of them stops (which is an error: they all run until the process is killed).
pub async fn run(flags: ServerFlags) -> anyhow::Result<()> {
    let controller_manager = flags.controller_manager_flags()?;
    let scheduler = flags.scheduler_flags()?;
    let kubelet = flags.kubelet_flags()?;
    let node_name = match &kubelet {
        Some(k) => k.node_name()?,
        None => String::new(),
    };
    let proxy = flags.proxy_flags(&node_name)?;
    let apiserver = rkube_apiserver::build(&flags.apiserver_flags(kubelet.as_ref())).await?;
    let addr = SocketAddr::new(
        flags.apiserver.insecure_bind_address,
        flags.apiserver.insecure_port,
    );
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!("serving the insecure port on http://{local}");

    let mut components = tokio::task::JoinSet::new();
    components.spawn(async move {
        (
            "apiserver",
            rkube_apiserver::serve(apiserver, listener).await,
        )
    });

    let path = flags.kubeconfig_path();
    kubeconfig::write_admin(&path, &kubeconfig::server_url(local))?;
    tracing::info!("admin kubeconfig written to {}", path.display());

    if let Some(mut cm) = controller_manager {
        cm.client.kubeconfig = Some(path.clone());
        components.spawn(async move {
            let result = rkube_controllers::run(cm)
                .await
                .map_err(anyhow::Error::from);
            ("controller-manager", result)
        });
    }

    if let Some(mut scheduler) = scheduler {
        scheduler.client.kubeconfig = Some(path.clone());
        components.spawn(async move {
            let result = rkube_scheduler::run(scheduler)
                .await
                .map_err(anyhow::Error::from);
            ("scheduler", result)
        });
    }
    if let Some(mut kubelet) = kubelet {
        kubelet.kubeconfig = Some(path.clone());
        components.spawn(async move {
            let result = rkube_kubelet::run(kubelet)
                .await
                .map_err(anyhow::Error::from);
            ("kubelet", result)
        });
    }
    if let Some(mut proxy) = proxy {
        proxy.client.kubeconfig = Some(path.clone());
        components.spawn(async move {
            let result = rkube_proxy::run(proxy).await.map_err(anyhow::Error::from);
            ("kube-proxy", result)
        });
    }

    match components.join_next().await {
        Some(Ok((name, Ok(())))) => anyhow::bail!("{name} stopped"),
        Some(Ok((name, Err(e)))) => Err(e.context(format!("{name} failed"))),
        Some(Err(e)) => anyhow::bail!("a component panicked: {e}"),
        None => Ok(()),
    }
}
