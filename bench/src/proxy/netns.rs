//! Where the proxy benchmark runs: network namespaces it creates and deletes (the host's
//! iptables are never touched), and `iptables-restore` alone, bounded in time.

use std::io::Write;
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rkube_proxy::iptables::Backend;

/// A network namespace, removed (with its processes and its iptables) on drop.
pub struct BenchNetns {
    pub name: String,
}

impl BenchNetns {
    pub fn new(tag: &str) -> anyhow::Result<BenchNetns> {
        let name = format!("rkbench-proxy-{}-{tag}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()?
            .success();
        if !ok {
            bail!("ip netns add {name} failed (root is needed)");
        }
        let ns = BenchNetns { name };
        ns.cmd("ip").args(["link", "set", "lo", "up"]).status()?;
        Ok(ns)
    }

    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `f` on a thread inside this namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> anyhow::Result<T> + Send) -> anyhow::Result<T> {
        in_netns(&self.name, f)
    }
}

impl Drop for BenchNetns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs `f` on a thread inside the namespace; processes it starts run there too.
pub fn in_netns<T: Send>(
    name: &str,
    f: impl FnOnce() -> anyhow::Result<T> + Send,
) -> anyhow::Result<T> {
    let path = format!("/run/netns/{name}");
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::File::open(&path).with_context(|| path.clone())?;
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)?;
            f()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("benchmark thread panicked"))?
    })
}

pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn restore_program(backend: Backend) -> &'static str {
    match backend {
        Backend::Nft => "iptables-nft-restore",
        Backend::Legacy => "iptables-legacy-restore",
    }
}

pub fn iptables_program(backend: Backend) -> &'static str {
    match backend {
        Backend::Nft => "iptables-nft",
        Backend::Legacy => "iptables-legacy",
    }
}

/// `iptables-restore --noflush` alone on `input`, in the caller's namespace: its wall
/// time, or `None` when it was killed at `timeout`.
pub fn raw_restore(
    backend: Backend,
    input: &str,
    timeout: Duration,
) -> anyhow::Result<Option<Duration>> {
    let mut cmd = Command::new(restore_program(backend));
    cmd.arg("--noflush");
    if backend == Backend::Legacy {
        cmd.args(["-w", "5"]);
    }
    run_bounded(cmd, input, timeout)
}

/// Runs `cmd` with `input` on its stdin, in the caller's namespace: its wall time, or
/// `None` when it was killed at `timeout`; an error when it failed.
pub fn run_bounded(
    mut cmd: Command,
    input: &str,
    timeout: Duration,
) -> anyhow::Result<Option<Duration>> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| program.clone())?;
    let pid = child.id().to_string();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        let expired = finished.recv_timeout(timeout).is_err();
        if expired {
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
        expired
    });
    // A killed process closes its stdin: the write error is the timeout, seen below.
    let _ = child
        .stdin
        .take()
        .map(|mut s| s.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    let elapsed = start.elapsed();
    let _ = done.send(());
    let expired = watchdog
        .join()
        .map_err(|_| anyhow::anyhow!("watchdog panicked"))?;
    if expired {
        return Ok(None);
    }
    if !out.status.success() {
        bail!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(Some(elapsed))
}

/// The system CPU time of this process's children reaped so far (`getrusage` of
/// `RUSAGE_CHILDREN`): its growth across one child's wait is the time the kernel spent
/// working for that child, e.g. validating and committing what a restore tool sent.
pub fn children_kernel_time() -> Duration {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .map(|usage| {
            let t = usage.system_time();
            Duration::from_secs(t.tv_sec().max(0) as u64)
                + Duration::from_micros(t.tv_usec().max(0) as u64)
        })
        .unwrap_or_default()
}

/// The 1-minute load average, noted beside every figure.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reaped_child_s_kernel_time_is_counted() {
        let before = children_kernel_time();
        // Reading /dev/zero is work the kernel does: clearing the pages it copies out.
        let status = Command::new("dd")
            .args(["if=/dev/zero", "of=/dev/null", "bs=1M", "count=3000"])
            .stderr(Stdio::null())
            .status()
            .expect("dd runs");
        assert!(status.success());
        let grown = children_kernel_time().saturating_sub(before);
        assert!(
            grown >= Duration::from_millis(10),
            "3 GB read from /dev/zero cost {grown:?} of kernel time"
        );
    }
}
