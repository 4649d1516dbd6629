//! The API client of an agent: `--master` and/or `--kubeconfig`, like upstream's
//! components (`--master` overrides the kubeconfig's server; with neither, the in-cluster
//! or `$KUBECONFIG` configuration).

use std::path::PathBuf;

use clap::Args;
use kube::config::{KubeConfigOptions, Kubeconfig};

/// Flags naming the apiserver, upstream's names.
#[derive(Debug, Clone, Default, Args)]
pub struct ClientFlags {
    /// Path to a kubeconfig file with the apiserver's address and credentials.
    #[arg(long, value_name = "string")]
    pub kubeconfig: Option<PathBuf>,

    /// The address of the Kubernetes API server (overrides any value in kubeconfig).
    #[arg(long, value_name = "string")]
    pub master: Option<String>,
}

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("--master {master:?}: {reason}")]
    Master { master: String, reason: String },
    #[error("reading the kubeconfig: {0}")]
    Kubeconfig(#[from] kube::config::KubeconfigError),
    #[error("finding the apiserver: {0}")]
    InferConfig(#[from] kube::config::InferConfigError),
    #[error("building the API client: {0}")]
    Client(#[from] kube::Error),
}

impl ClientFlags {
    /// The client configuration these flags describe.
    pub async fn config(&self) -> Result<kube::Config, ClientError> {
        let mut config = match (&self.kubeconfig, &self.master) {
            (Some(path), _) => {
                let kc = Kubeconfig::read_from(path)?;
                kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?
            }
            (None, Some(master)) => kube::Config::new(parse_master(master)?),
            (None, None) => kube::Config::infer().await?,
        };
        if let Some(master) = &self.master {
            config.cluster_url = parse_master(master)?;
        }
        Ok(config)
    }

    /// A kube-rs client for these flags.
    pub async fn build(&self) -> Result<kube::Client, ClientError> {
        Ok(kube::Client::try_from(self.config().await?)?)
    }
}

/// An URL, or `host:port` meaning plain HTTP (client-go's DefaultServerURL without TLS).
fn parse_master(master: &str) -> Result<http::Uri, ClientError> {
    let with_scheme = if master.contains("://") {
        master.to_string()
    } else {
        format!("http://{master}")
    };
    let uri: http::Uri = with_scheme.parse().map_err(|e| ClientError::Master {
        master: master.into(),
        reason: format!("{e}"),
    })?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(ClientError::Master {
            master: master.into(),
            reason: "no host in it".into(),
        });
    }
    Ok(uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn master_alone_is_the_server() {
        let flags = ClientFlags {
            kubeconfig: None,
            master: Some("http://127.0.0.1:8080".into()),
        };
        let config = flags.config().await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:8080/");
    }

    #[tokio::test]
    async fn host_and_port_mean_plain_http() {
        let flags = ClientFlags {
            kubeconfig: None,
            master: Some("127.0.0.1:8080".into()),
        };
        let config = flags.config().await.unwrap();
        assert_eq!(config.cluster_url.to_string(), "http://127.0.0.1:8080/");
    }

    #[tokio::test]
    async fn a_master_that_is_no_url_is_refused() {
        let flags = ClientFlags {
            kubeconfig: None,
            master: Some("not a url".into()),
        };
        let err = flags.config().await.unwrap_err().to_string();
        assert!(err.starts_with("--master \"not a url\""), "{err}");
    }
}
