//! Container probes (liveness, readiness, startup) with their timing fields: httpGet and
//! tcpSocket from the kubelet's network namespace to the pod's IP, exec inside the
//! container as the container runs (`rkube container-init exec`: its namespaces, root,
//! cgroups, user, groups, capabilities and no_new_privs).
//! One task per probe and container run reports changes to the pod's worker.

use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    /// As upstream's events and messages name it.
    pub fn label(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// What a probe task tells the worker.
#[derive(Debug, Clone)]
pub struct ProbeEvent {
    pub container: String,
    /// The container run it is about (its container ID).
    pub id: String,
    pub kind: ProbeKind,
    pub healthy: bool,
}

/// Where a probe reaches its container.
#[derive(Debug, Clone)]
pub struct Target {
    pub container: String,
    pub id: String,
    pub pod_ip: Option<IpAddr>,
    pub pid: u32,
    /// The container's config, which an exec takes its identity from.
    pub config: std::path::PathBuf,
    /// The `rkube` binary, started as the exec helper.
    pub rkube: std::path::PathBuf,
}

/// Starts the container's probes. Readiness and liveness wait for the startup probe. Every
/// failed attempt is an `Unhealthy` event about the container, as upstream records it.
pub fn start(
    c: &Container,
    target: Target,
    events: mpsc::Sender<ProbeEvent>,
    recorder: crate::events::About,
) -> Vec<tokio::task::JoinHandle<()>> {
    let (started_tx, started_rx) = tokio::sync::watch::channel(c.startup_probe.is_none());
    let mut tasks = Vec::new();
    if let Some(p) = &c.startup_probe {
        tasks.push(tokio::spawn(run(
            ProbeKind::Startup,
            p.clone(),
            c.clone(),
            target.clone(),
            (events.clone(), recorder.clone()),
            started_rx.clone(),
            Some(started_tx),
        )));
    }
    for (kind, probe) in [
        (ProbeKind::Liveness, &c.liveness_probe),
        (ProbeKind::Readiness, &c.readiness_probe),
    ] {
        if let Some(p) = probe {
            tasks.push(tokio::spawn(run(
                kind,
                p.clone(),
                c.clone(),
                target.clone(),
                (events.clone(), recorder.clone()),
                started_rx.clone(),
                None,
            )));
        }
    }
    tasks
}

fn seconds(value: Option<i32>, default: i32) -> Duration {
    Duration::from_secs(value.unwrap_or(default).max(0) as u64)
}

async fn run(
    kind: ProbeKind,
    probe: Probe,
    c: Container,
    target: Target,
    (events, recorder): (mpsc::Sender<ProbeEvent>, crate::events::About),
    mut started: tokio::sync::watch::Receiver<bool>,
    started_tx: Option<tokio::sync::watch::Sender<bool>>,
) {
    if kind != ProbeKind::Startup && started.wait_for(|s| *s).await.is_err() {
        return;
    }
    let period = seconds(probe.period_seconds, 10).max(Duration::from_secs(1));
    let timeout = seconds(probe.timeout_seconds, 1).max(Duration::from_secs(1));
    let success_threshold = probe.success_threshold.unwrap_or(1).max(1);
    let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1);
    tokio::time::sleep(seconds(probe.initial_delay_seconds, 0)).await;
    let (mut successes, mut failures) = (0, 0);
    let mut reported: Option<bool> = None;
    loop {
        let result = match tokio::time::timeout(timeout, check(&probe, &c, &target)).await {
            Ok(result) => result,
            Err(_) => Err(timeout_message(&probe, &c, &target)),
        };
        let ok = match result {
            Ok(()) => true,
            Err(why) => {
                tracing::debug!(container = target.container, ?kind, "probe failed: {why}");
                recorder.warn("Unhealthy", format!("{} probe failed: {why}", kind.label()));
                false
            }
        };
        if ok {
            successes += 1;
            failures = 0;
        } else {
            failures += 1;
            successes = 0;
        }
        let verdict = if successes >= success_threshold {
            Some(true)
        } else if failures >= failure_threshold {
            Some(false)
        } else {
            None
        };
        if let Some(healthy) = verdict.filter(|v| reported != Some(*v)) {
            reported = Some(healthy);
            if kind == ProbeKind::Startup && healthy {
                if let Some(tx) = &started_tx {
                    let _ = tx.send(true);
                }
            }
            let event = ProbeEvent {
                container: target.container.clone(),
                id: target.id.clone(),
                kind,
                healthy,
            };
            if events.send(event).await.is_err() {
                return;
            }
            // A failed liveness or startup probe ends this run of the container.
            if !healthy && kind != ProbeKind::Readiness {
                return;
            }
            if healthy && kind == ProbeKind::Startup {
                return;
            }
        }
        tokio::time::sleep(period).await;
    }
}

/// Runs a lifecycle hook (preStop, postStart) to completion: exec, httpGet, tcpSocket or
/// sleep, as a probe runs them.
pub async fn run_hook(
    hook: &k8s_openapi::api::core::v1::LifecycleHandler,
    c: &Container,
    target: &Target,
) -> Result<(), String> {
    if let Some(sleep) = &hook.sleep {
        tokio::time::sleep(Duration::from_secs(sleep.seconds.max(0) as u64)).await;
        return Ok(());
    }
    if let Some(exec) = &hook.exec {
        let command = exec.command.clone().unwrap_or_default();
        return match exec_in(target, &command).await? {
            (0, _) => Ok(()),
            (code, output) => Err(format!(
                "command '{}' exited with {code}: {output}",
                command.join(" ")
            )),
        };
    }
    let probe = Probe {
        http_get: hook.http_get.clone(),
        tcp_socket: hook.tcp_socket.clone(),
        ..Default::default()
    };
    check(&probe, c, target).await
}

/// The FailedPostStartHook message for a failed hook, worded as upstream's.
pub fn hook_failure(
    hook: &k8s_openapi::api::core::v1::LifecycleHandler,
    c: &Container,
    pod: &k8s_openapi::api::core::v1::Pod,
    error: &str,
) -> String {
    let pod = crate::runtime::spec::pod_label(pod);
    if let Some(exec) = &hook.exec {
        let command = exec.command.clone().unwrap_or_default().join(" ");
        format!(
            "Exec lifecycle hook ([{command}]) for Container {:?} in Pod {pod:?} failed - error: {error}, message: \"\"",
            c.name
        )
    } else if let Some(http) = &hook.http_get {
        format!(
            "HTTP lifecycle hook ({}) for Container {:?} in Pod {pod:?} failed - error: {error}",
            http.path.as_deref().unwrap_or(""),
            c.name
        )
    } else {
        format!(
            "lifecycle hook for Container {:?} in Pod {pod:?} failed - error: {error}",
            c.name
        )
    }
}

/// A named or numbered container port.
fn port(c: &Container, port: &IntOrString) -> Result<u16, String> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).map_err(|_| format!("bad port {n}")),
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok())
            .ok_or_else(|| format!("no container port named {name:?}")),
    }
}

/// The URL an httpGet probe or hook requests.
fn http_url(
    http: &k8s_openapi::api::core::v1::HTTPGetAction,
    c: &Container,
    target: &Target,
) -> Result<String, String> {
    let host = match &http.host {
        Some(h) if !h.is_empty() => h.clone(),
        _ => pod_ip(target)?.to_string(),
    };
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host,
    };
    let path = http.path.clone().unwrap_or_else(|| "/".into());
    Ok(format!("http://{host}:{}{path}", port(c, &http.port)?))
}

/// The address a tcpSocket probe or hook connects to.
fn tcp_addr(
    tcp: &k8s_openapi::api::core::v1::TCPSocketAction,
    c: &Container,
    target: &Target,
) -> Result<std::net::SocketAddr, String> {
    let host = match &tcp.host {
        Some(h) if !h.is_empty() => h.parse::<IpAddr>().map_err(|e| e.to_string())?,
        _ => pod_ip(target)?,
    };
    Ok((host, port(c, &tcp.port)?).into())
}

fn pod_ip(target: &Target) -> Result<IpAddr, String> {
    target.pod_ip.ok_or_else(|| "the pod has no IP".to_string())
}

/// A failed connection as Go's net package words it (`dial tcp 10.0.0.1:80: connect:
/// connection refused`), which upstream's probe messages carry.
fn dial_error(addr: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let why = match e.kind() {
        ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        ErrorKind::TimedOut => "i/o timeout".to_string(),
        ErrorKind::HostUnreachable => "connect: no route to host".to_string(),
        ErrorKind::NetworkUnreachable => "connect: network is unreachable".to_string(),
        _ => e.to_string(),
    };
    format!("dial tcp {addr}: {why}")
}

/// What a probe that ran out of time reports, as upstream's handlers word it.
fn timeout_message(probe: &Probe, c: &Container, target: &Target) -> String {
    if let Some(http) = &probe.http_get {
        let url = http_url(http, c, target).unwrap_or_default();
        return format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        );
    }
    if let Some(tcp) = &probe.tcp_socket {
        let addr = tcp_addr(tcp, c, target).map_or(String::new(), |a| a.to_string());
        return format!("dial tcp {addr}: i/o timeout");
    }
    let command = probe
        .exec
        .as_ref()
        .and_then(|e| e.command.clone())
        .unwrap_or_default();
    format!("command {:?} timed out", command.join(" "))
}

async fn check(probe: &Probe, c: &Container, target: &Target) -> Result<(), String> {
    if let Some(http) = &probe.http_get {
        if http.scheme.as_deref() == Some("HTTPS") {
            return Err("HTTPS probes are not supported yet".into());
        }
        let url = http_url(http, c, target)?;
        let uri: http::Uri = url.parse().map_err(|e| format!("{e}"))?;
        let authority = uri.authority().map_or(String::new(), |a| a.to_string());
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Empty<bytes::Bytes>>();
        let mut request = http::Request::get(uri);
        for header in http.http_headers.iter().flatten() {
            request = request.header(header.name.as_str(), header.value.as_str());
        }
        let request = request
            .body(http_body_util::Empty::new())
            .map_err(|e| e.to_string())?;
        let response = client.request(request).await.map_err(|e| {
            // The connection's own error, if that is what failed.
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    return format!("Get {url:?}: {}", dial_error(&authority, io));
                }
                source = s.source();
            }
            format!("Get {url:?}: {e}")
        })?;
        let status = response.status();
        return if (200..400).contains(&status.as_u16()) {
            Ok(())
        } else {
            Err(format!(
                "HTTP probe failed with statuscode: {}",
                status.as_u16()
            ))
        };
    }
    if let Some(tcp) = &probe.tcp_socket {
        let addr = tcp_addr(tcp, c, target)?;
        return tokio::net::TcpStream::connect(addr)
            .await
            .map(|_| ())
            .map_err(|e| dial_error(&addr.to_string(), &e));
    }
    if let Some(exec) = &probe.exec {
        let command = exec.command.clone().unwrap_or_default();
        // Upstream's failure message is the command's output, however short.
        return match exec_in(target, &command).await? {
            (0, _) => Ok(()),
            (_, output) => Err(output),
        };
    }
    Err("the probe names no handler this kubelet supports (grpc is not yet)".into())
}

/// Runs `command` in the container's namespaces and root: its exit code and its output
/// (stdout then stderr, at most 10 KiB as upstream keeps).
async fn exec_in(target: &Target, command: &[String]) -> Result<(i32, String), String> {
    if command.is_empty() || target.pid == 0 {
        return Err("no command".into());
    }
    let out =
        crate::runtime::container::exec_command(&target.rkube, &target.config, target.pid, command)
            .output()
            .await
            .map_err(|e| e.to_string())?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    let code = out.status.code().unwrap_or(128);
    Ok((code, output.chars().take(10 * 1024).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{HTTPGetAction, TCPSocketAction};

    fn target() -> Target {
        Target {
            container: "main".into(),
            id: "id".into(),
            pod_ip: Some(IpAddr::from([127, 0, 0, 1])),
            pid: 0,
            config: Default::default(),
            rkube: Default::default(),
        }
    }

    /// A loopback port nothing listens on.
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[test]
    fn failures_are_worded_as_upstream_words_them() {
        let port = closed_port();
        let c = Container::default();
        let tcp = Probe {
            tcp_socket: Some(TCPSocketAction {
                port: IntOrString::Int(port.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let http = Probe {
            http_get: Some(HTTPGetAction {
                path: Some("/healthz".into()),
                port: IntOrString::Int(port.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        assert_eq!(
            runtime.block_on(check(&tcp, &c, &target())),
            Err(format!("dial tcp {addr}: connect: connection refused"))
        );
        assert_eq!(
            runtime.block_on(check(&http, &c, &target())),
            Err(format!(
                "Get \"http://{addr}/healthz\": dial tcp {addr}: connect: connection refused"
            ))
        );
        assert_eq!(
            timeout_message(&tcp, &c, &target()),
            format!("dial tcp {addr}: i/o timeout")
        );
        assert!(timeout_message(&http, &c, &target()).starts_with(&format!(
            "Get \"http://{addr}/healthz\": context deadline exceeded"
        )));
    }
}
