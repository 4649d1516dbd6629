//! A real `rkube apiserver` process on a free loopback port with its own data dir.

#![allow(dead_code)]

pub mod cgroups;
pub mod cluster;
pub mod image_store;
pub mod kubelet;
pub mod netns;
pub mod oci_image;
pub mod proxy;
pub mod registry;
pub mod scheduler;
pub mod time;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Apiserver {
    /// Where it listens: 127.0.0.1 on the host, or an address inside `netns`.
    pub host: Ipv4Addr,
    pub port: u16,
    /// The network namespace it runs in (`None`: the host's, bound to loopback).
    pub netns: Option<String>,
    pub data: tempfile::TempDir,
    child: Option<Child>,
    pub kubeconfig: PathBuf,
    /// `--allow-privileged` (true unless started with [`Apiserver::start_refusing_privileged`],
    /// as e2e clusters run).
    allow_privileged: bool,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Apiserver {
    pub fn start() -> Apiserver {
        Self::start_at(Ipv4Addr::LOCALHOST, free_port(), None, true)
    }

    /// Like [`Apiserver::start`] with the apiserver's default `--allow-privileged=false`.
    pub fn start_refusing_privileged() -> Apiserver {
        Self::start_at(Ipv4Addr::LOCALHOST, free_port(), None, false)
    }

    /// An apiserver inside a test's network namespace, listening on `host:8080` there
    /// (e.g. the control-plane address of a [`netns::Topology`]), so that agents in other
    /// namespaces of the topology reach it. Its `kubectl` and [`Apiserver::request`] go
    /// through that namespace too.
    pub fn start_in(netns: &netns::Netns, host: Ipv4Addr) -> Apiserver {
        Self::start_at(host, 8080, Some(netns.name.clone()), true)
    }

    fn start_at(
        host: Ipv4Addr,
        port: u16,
        netns: Option<String>,
        allow_privileged: bool,
    ) -> Apiserver {
        let data = tempfile::tempdir().unwrap();
        let mut s = Apiserver {
            host,
            port,
            netns,
            data,
            child: None,
            kubeconfig: PathBuf::new(),
            allow_privileged,
        };
        s.kubeconfig = s.data.path().join("kubeconfig.yaml");
        std::fs::write(
            &s.kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: rk, cluster: {{server: \"{}\"}}}}]\ncontexts: [{{name: rk, context: {{cluster: rk, user: rk}}}}]\nusers: [{{name: rk, user: {{}}}}]\ncurrent-context: rk\n",
                s.url("")
            ),
        )
        .unwrap();
        s.spawn();
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}:{}{}", self.host, self.port, path)
    }

    /// A command run in the apiserver's network namespace (the host's when it has none).
    pub fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }

    pub fn spawn(&mut self) {
        let child = self
            .command(env!("CARGO_BIN_EXE_rkube"))
            .args([
                "apiserver",
                "--insecure-bind-address",
                &self.host.to_string(),
                "--insecure-port",
                &self.port.to_string(),
                "--data-dir",
            ])
            .arg(self.data.path().join("data"))
            .arg(format!("--allow-privileged={}", self.allow_privileged))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok((200, _)) = self.request("GET", "/readyz", &[], b"") {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("apiserver did not become ready");
    }

    /// One HTTP/1.1 request on a fresh connection (made in the apiserver's namespace).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let addr = SocketAddr::from((self.host, self.port));
        let stream = match &self.netns {
            Some(ns) => netns::connect_in(ns, addr)?,
            None => TcpStream::connect(addr)?,
        };
        exchange(stream, method, path, headers, body)
    }

    /// A JSON request (merge patch for PATCH) through [`Apiserver::request`].
    pub fn json(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        json_with(|m, p, h, b| self.request(m, p, h, b), method, path, body)
    }

    /// SIGKILL, no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn kubectl(&self, bin: &str, args: &[&str]) -> (bool, String, String) {
        let out = self
            .command(bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.data.path())
            .output()
            .unwrap_or_else(|e| panic!("running {bin}: {e}"));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn data_dir(&self) -> &Path {
        self.data.path()
    }
}

impl Drop for Apiserver {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One HTTP/1.1 request on a fresh connection; returns status and body.
pub fn raw(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    exchange(
        TcpStream::connect(("127.0.0.1", port))?,
        method,
        path,
        headers,
        body,
    )
}

fn exchange(
    mut s: TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    parse_response(&buf)
}

fn parse_response(buf: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad response");
    let head_end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(bad)?;
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad())?;
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(bad)?;
    let mut body = buf[head_end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((code, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..pos]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if n == 0 || b.len() < pos + 2 + n {
            break;
        }
        out.extend_from_slice(&b[pos + 2..pos + 2 + n]);
        b = &b[(pos + 4 + n).min(b.len())..];
    }
    out
}

pub fn json(
    port: u16,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    json_with(|m, p, h, b| raw(port, m, p, h, b), method, path, body)
}

fn json_with(
    request: impl Fn(&str, &str, &[(&str, &str)], &[u8]) -> std::io::Result<(u16, Vec<u8>)>,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let ct = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let (code, out) = request(
        method,
        path,
        &[("Content-Type", ct)],
        if body.is_null() { b"" } else { &bytes },
    )
    .unwrap();
    (
        code,
        serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null),
    )
}

/// kubectl binaries: the dispatcher and each version beside it.
pub fn kubectl_versions() -> Vec<String> {
    let dispatcher = which("kubectl").expect("kubectl is on the PATH (installed by .ci/run)");
    let real = std::fs::canonicalize(&dispatcher).unwrap();
    let dir = real.parent().unwrap();
    let mut out = vec![dispatcher.to_string_lossy().into_owned()];
    for minor in 27..=33 {
        let p = dir.join(format!("kubectl.1.{minor}"));
        assert!(p.exists(), "{} is missing", p.display());
        out.push(p.to_string_lossy().into_owned());
    }
    out
}

pub fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

/// A real `rkube controller-manager` process against an apiserver, killed on drop.
pub struct ControllerManager {
    child: Child,
}

impl ControllerManager {
    pub fn start(apiserver: &Apiserver) -> ControllerManager {
        ControllerManager::start_with(apiserver, &[])
    }

    /// With extra flags, e.g. `--max-endpoints-per-slice=3`.
    pub fn start_with(apiserver: &Apiserver, flags: &[&str]) -> ControllerManager {
        let child = apiserver
            .command(env!("CARGO_BIN_EXE_rkube"))
            .args(["controller-manager", "--master", &apiserver.url("")])
            .args(flags)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube controller-manager");
        ControllerManager { child }
    }

    /// With `extra` flags, logging at info level (no colours) to the file `log`: the log
    /// says which leader-election identity the process has and whether it leads.
    pub fn start_logged(apiserver: &Apiserver, extra: &[&str], log: &Path) -> ControllerManager {
        let child = Command::new(env!("CARGO_BIN_EXE_rkube"))
            .args(["controller-manager", "--master", &apiserver.url("")])
            .args(extra)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).expect("create the log file"))
            .spawn()
            .expect("spawn rkube controller-manager");
        ControllerManager { child }
    }

    /// SIGKILL: no chance to release anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ControllerManager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `check` until it returns Some, for up to `secs` seconds; panics with `what`.
pub fn eventually<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
