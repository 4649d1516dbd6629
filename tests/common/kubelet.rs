//! A real `rkube kubelet` process against a test's apiserver, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::Apiserver;

pub struct Kubelet {
    child: Option<Child>,
    pub node_name: String,
    /// Holds --root-dir and --pod-logs-dir.
    pub dir: tempfile::TempDir,
}

impl Kubelet {
    /// `rkube kubelet` run by `command` (e.g. `ip netns exec <node> rkube`), talking to
    /// `apiserver`, with its own root dir and the extra `args`.
    pub fn start_with(
        mut command: Command,
        apiserver: &Apiserver,
        node_name: &str,
        args: &[&str],
    ) -> Kubelet {
        let dir = tempfile::tempdir().unwrap();
        let child = command
            .arg("kubelet")
            .arg("--kubeconfig")
            .arg(&apiserver.kubeconfig)
            .args(["--hostname-override", node_name])
            .arg("--root-dir")
            .arg(dir.path().join("root"))
            .arg("--pod-logs-dir")
            .arg(dir.path().join("pods-logs"))
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rkube kubelet");
        Kubelet {
            child: Some(child),
            node_name: node_name.to_string(),
            dir,
        }
    }

    /// A kubelet on the host (no network namespace).
    pub fn start(apiserver: &Apiserver, node_name: &str, args: &[&str]) -> Kubelet {
        Self::start_with(
            Command::new(env!("CARGO_BIN_EXE_rkube")),
            apiserver,
            node_name,
            args,
        )
    }

    pub fn root_dir(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.dir.path().join("pods-logs")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        Path::new(self.dir.path()).join(rel)
    }
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        self.kill();
    }
}
