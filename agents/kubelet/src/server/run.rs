//! `POST /run/{ns}/{pod}[/{uid}]/{container}?cmd=…` (a debugging handler): runs the command
//! inside the running container, as the container runs (`rkube container-init exec`), and
//! answers its combined output, as upstream's kubelet does for `kubectl`-less debugging
//! through the node proxy.

use std::time::Duration;

use http::{Response, StatusCode};

use super::node_logs::percent_decode;
use super::running::running_pods;
use super::{text, Body, KubeletServer};
use crate::runtime::container;

/// A command that runs longer is killed; its answer says so.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The container's PID 1 as the node sees it: the process of its cgroup whose innermost
/// PID namespace numbers it 1.
fn container_init(pids: &[u32]) -> Option<u32> {
    pids.iter().copied().find(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("NSpid:"))
            .and_then(|ids| ids.split_whitespace().last())
            == Some("1")
    })
}

/// The words of `cmd=` (upstream splits it on white space).
fn command(query: Option<&str>) -> Vec<String> {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "cmd")
        .and_then(|(_, v)| percent_decode(&v.replace('+', " ")))
        .map(|c| c.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

impl KubeletServer {
    pub(super) async fn run_in_container(
        &self,
        ns: &str,
        pod: &str,
        container: &str,
        query: Option<&str>,
    ) -> Response<Body> {
        let command = command(query);
        if command.is_empty() {
            return text(StatusCode::BAD_REQUEST, "missing cmd");
        }
        let running = running_pods(&self.pods, &self.rt.cgroups);
        let Some((uid, c)) = running
            .iter()
            .filter(|p| p.namespace() == ns && p.name() == pod)
            .flat_map(|p| p.containers.iter().map(|c| (p.uid(), c)))
            .find(|(_, c)| c.name == container)
        else {
            return text(
                StatusCode::NOT_FOUND,
                format!("container {container:?} of pod \"{ns}/{pod}\" is not running"),
            );
        };
        let Some(pid) = container_init(&self.rt.cgroups.pids(&c.cgroup)) else {
            return text(StatusCode::NOT_FOUND, "the container has no process");
        };
        let run = u32::try_from(c.restart).unwrap_or(0);
        let config =
            container::state_dir(&self.rt.pod_dir(uid), &c.name, run).join(container::CONFIG_FILE);
        let child = container::exec_command(&self.rt.exe, &config, pid, &command).output();
        match tokio::time::timeout(RUN_TIMEOUT, child).await {
            Ok(Ok(out)) => {
                let mut body = out.stdout;
                body.extend_from_slice(&out.stderr);
                let code = if out.status.success() {
                    StatusCode::OK
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                text(code, body)
            }
            Ok(Err(e)) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            Err(_) => text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the command ran longer than {RUN_TIMEOUT:?}"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_command() {
        assert_eq!(
            command(Some("cmd=echo%20rkube-run&x=1")),
            ["echo", "rkube-run"]
        );
        assert_eq!(command(Some("cmd=ls+-l")), ["ls", "-l"]);
        assert!(command(Some("x=1")).is_empty() && command(None).is_empty());
        assert_eq!(container_init(&[]), None);
    }
}
