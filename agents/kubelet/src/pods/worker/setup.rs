//! What a pod worker prepares before a container starts: the pod's volumes, the
//! container's environment and mounts, registry credentials; and the warnings it records
//! when one of them fails.

use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::Api;
use rkube_images::RegistryAuth;

use super::{Next, PodWorker, RETRY};
use crate::runtime::container::Prepared;
use crate::runtime::env;
use crate::volumes::PodVolumes;

impl PodWorker {
    /// Records a Warning event, unless it repeats the last one.
    pub(super) fn warn_once(
        &mut self,
        pod: &Pod,
        container: Option<&str>,
        reason: &str,
        message: String,
    ) {
        let key = (reason.to_string(), message);
        if self.last_warning.as_ref() != Some(&key) {
            self.rt.events.warn(pod, container, reason, &key.1);
            self.last_warning = Some(key);
        }
    }

    /// Sets up the pod's volumes or brings them up to date (a changed ConfigMap or Secret,
    /// new labels for a downwardAPI file). Until they are first set up no container
    /// starts; a later failure keeps what the containers already see, as upstream.
    pub(super) async fn sync_volumes(&mut self, pod: &Pod) -> Result<(), Next> {
        // Static pods run without the apiserver (they refer to no API objects).
        if self.statics.is_none() {
            self.rt.objects.ready().await;
        }
        let facts = self.rt.facts(self.pod_ip);
        match PodVolumes::sync(&self.rt.pod_dir(&self.uid), pod, &self.rt.objects, &facts) {
            Ok(volumes) => {
                self.volumes = Some(volumes);
                Ok(())
            }
            Err(e) if self.volumes.is_some() => {
                tracing::warn!(pod = self.name, "updating the pod's volumes: {e}");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(pod = self.name, "{e}");
                self.warn_once(pod, None, "FailedMount", e.to_string());
                for slot in self.slots.iter_mut().chain(self.init_slots.iter_mut()) {
                    slot.volumes_pending();
                }
                self.report(pod).await;
                Err(Next::Wait(Some(RETRY)))
            }
        }
    }

    /// The container's environment, expanded command and args, and mounts; an error is
    /// its CreateContainerConfigError message.
    pub(super) fn prepare(
        &self,
        pod: &Pod,
        c: &k8s_openapi::api::core::v1::Container,
    ) -> Result<Prepared, String> {
        let facts = self.rt.facts(self.pod_ip);
        let vars =
            env::container_env(pod, c, &self.rt.objects, &facts).map_err(|e| e.to_string())?;
        let (command, args) = env::expand_command_and_args(c, &vars);
        let binds = match &self.volumes {
            Some(volumes) => volumes.binds(c, &vars).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        Ok(Prepared {
            run: 0,
            env: vars,
            command: command.unwrap_or_default(),
            args: args.unwrap_or_default(),
            binds,
        })
    }
}

/// Registry credentials from the pod's imagePullSecrets (dockerconfigjson or dockercfg);
/// a secret that is missing or malformed is skipped, as upstream does.
pub(super) async fn pull_secrets(secrets: &Api<Secret>, pod: &Pod) -> RegistryAuth {
    let mut auth = RegistryAuth::anonymous();
    let names = pod
        .spec
        .as_ref()
        .and_then(|s| s.image_pull_secrets.as_ref())
        .into_iter()
        .flatten()
        .map(|r| r.name.clone());
    for name in names {
        let secret = match secrets.get(&name).await {
            Ok(secret) => secret,
            Err(e) => {
                tracing::warn!(secret = name, "reading an image pull secret: {e}");
                continue;
            }
        };
        let data = secret.data.unwrap_or_default();
        let parsed = if let Some(json) = data.get(".dockerconfigjson") {
            RegistryAuth::from_docker_config_json(&json.0)
        } else if let Some(cfg) = data.get(".dockercfg") {
            RegistryAuth::from_dockercfg(&cfg.0)
        } else {
            continue;
        };
        match parsed {
            Ok(found) => auth.merge(found),
            Err(e) => tracing::warn!(secret = name, "an image pull secret: {e}"),
        }
    }
    auth
}
