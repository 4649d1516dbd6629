//! Child processes (killed on drop), free ports, readiness and memory of a process.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::http;

/// A child process that is killed (SIGKILL) and reaped when dropped.
pub struct Child {
    pub name: String,
    child: std::process::Child,
    pub log: PathBuf,
}

impl Child {
    /// Start `cmd` with stdout and stderr going to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> anyhow::Result<Child> {
        let out =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {name} ({:?})", cmd.get_program()))?;
        Ok(Child {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited, quoting the end of its log.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); the end of its log ({}):\n{}",
                self.name,
                self.log.display(),
                tail(&self.log, 2000)
            );
        }
        Ok(())
    }

    /// Kill (SIGKILL) and reap.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident set size in bytes (VmRSS).
    pub fn rss_bytes(&self) -> Option<u64> {
        rss_bytes(self.pid())
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last `max` bytes of a file, as text.
pub fn tail(path: &Path, max: usize) -> String {
    let data = std::fs::read(path).unwrap_or_default();
    let start = data.len().saturating_sub(max);
    String::from_utf8_lossy(&data[start..]).into_owned()
}

/// VmRSS of a process, in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// Poll `GET path` until it answers 200, the child dies, or `limit` passes. Returns the
/// time from `since` to the first 200.
pub async fn wait_ready(
    child: &mut Child,
    addr: SocketAddr,
    path: &str,
    since: Instant,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let request = http::get(&addr.to_string(), path);
    let deadline = since + limit;
    loop {
        if let Ok(mut c) = http::Conn::connect(addr).await {
            // One connection for as long as it answers (like a health checker).
            loop {
                match c.request(&request, false).await {
                    Ok(r) if r.status == 200 => {
                        let at = since.elapsed();
                        child.check_alive()?;
                        return Ok(at);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
                child.check_alive()?;
                if Instant::now() > deadline {
                    bail!(
                        "{} was not ready on {addr}{path} within {limit:?}",
                        child.name
                    );
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        child.check_alive()?;
        if Instant::now() > deadline {
            bail!("{} did not listen on {addr} within {limit:?}", child.name);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// `rkube apiserver` started from `binary` on a free port with `data_dir`.
pub struct Apiserver {
    pub child: Child,
    pub addr: SocketAddr,
    /// Spawn → `/readyz` 200.
    pub startup: Duration,
}

impl Apiserver {
    pub async fn start(binary: &Path, data_dir: &Path, log: &Path) -> anyhow::Result<Apiserver> {
        let mut last = None;
        // A port found free can be taken by someone else before the child binds it.
        for _ in 0..3 {
            let port = free_port()?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let mut cmd = Command::new(binary);
            cmd.arg("apiserver")
                .arg("--data-dir")
                .arg(data_dir)
                .arg("--insecure-bind-address=127.0.0.1")
                .arg(format!("--insecure-port={port}"));
            let start = Instant::now();
            let mut child = Child::spawn("rkube apiserver", cmd, log)?;
            match wait_ready(&mut child, addr, "/readyz", start, Duration::from_secs(120)).await {
                Ok(startup) => {
                    return Ok(Apiserver {
                        child,
                        addr,
                        startup,
                    })
                }
                Err(e) => {
                    let log_text = tail(log, 4000);
                    last = Some(e);
                    if !log_text.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(last.expect("tried at least once"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_from_proc_status() {
        let s = "Name:\trkube\nVmPeak:\t  10 kB\nVmRSS:\t   12345 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(s), Some(12345 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn children_are_killed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sleep");
        cmd.arg("60");
        let mut c = Child::spawn("sleep", cmd, &dir.path().join("log")).unwrap();
        c.check_alive().unwrap();
        let pid = c.pid();
        drop(c);
        // Reaped: no /proc entry (or at least not a live sleep).
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        assert!(!status.contains("State:\tS"), "{status}");
    }
}
