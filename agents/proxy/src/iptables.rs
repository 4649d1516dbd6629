//! The kernel side of a sync, behind a narrow trait: `iptables-save` of one table and
//! one `iptables-restore --noflush` per table, the input on stdin. The real one runs the
//! nft or legacy binaries, chosen like upstream's iptables-wrapper; tests use
//! [`crate::fake::FakeIptables`].

use std::io::Write;
use std::process::{Command, Stdio};

use crate::ruleset::TableName;

#[derive(Debug, thiserror::Error)]
pub enum IptablesError {
    #[error("running {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
}

pub trait IptablesRestore: Send {
    /// `iptables-save -t <table>`.
    fn save(&self, table: TableName) -> Result<String, IptablesError>;
    /// `iptables-restore --noflush` with `input` (one table) on stdin.
    fn restore(&self, table: TableName, input: &str) -> Result<(), IptablesError>;
}

/// Which iptables the kernel rules live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Nft,
    Legacy,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Nft => "nft",
            Backend::Legacy => "legacy",
        }
    }

    fn save_program(self) -> &'static str {
        match self {
            Backend::Nft => "iptables-nft-save",
            Backend::Legacy => "iptables-legacy-save",
        }
    }

    fn restore_program(self) -> &'static str {
        match self {
            Backend::Nft => "iptables-nft-restore",
            Backend::Legacy => "iptables-legacy-restore",
        }
    }

    /// Upstream's choice (iptables-wrapper): the backend that already holds Kubernetes
    /// rules; else the one with more rules; else the one the system's `iptables` is.
    pub fn detect() -> Backend {
        let nft = save_all(Backend::Nft);
        let legacy = save_all(Backend::Legacy);
        let system = system_default();
        choose(nft.as_deref(), legacy.as_deref(), system)
    }
}

/// The pure part of [`Backend::detect`], given both backends' `iptables-save` output.
pub fn choose(nft: Option<&str>, legacy: Option<&str>, system: Backend) -> Backend {
    let has_kube =
        |save: Option<&str>| save.is_some_and(|s| s.lines().any(|l| l.starts_with(":KUBE-")));
    let rules =
        |save: Option<&str>| save.map_or(0, |s| s.lines().filter(|l| l.starts_with('-')).count());
    match (has_kube(nft), has_kube(legacy)) {
        (true, false) => Backend::Nft,
        (false, true) => Backend::Legacy,
        _ => match rules(nft).cmp(&rules(legacy)) {
            std::cmp::Ordering::Greater => Backend::Nft,
            std::cmp::Ordering::Less => Backend::Legacy,
            std::cmp::Ordering::Equal => system,
        },
    }
}

fn save_all(backend: Backend) -> Option<String> {
    let out = Command::new(backend.save_program())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `iptables --version` says `(nf_tables)` or `(legacy)`.
fn system_default() -> Backend {
    let version = Command::new("iptables")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if version.contains("legacy") {
        Backend::Legacy
    } else {
        Backend::Nft
    }
}

/// The real thing: one process per call.
#[derive(Clone, Debug)]
pub struct SystemIptables {
    pub backend: Backend,
}

impl IptablesRestore for SystemIptables {
    fn save(&self, table: TableName) -> Result<String, IptablesError> {
        let program = self.backend.save_program();
        let out = Command::new(program)
            .args(["-t", table.as_str()])
            .output()
            .map_err(|source| IptablesError::Spawn {
                program: program.into(),
                source,
            })?;
        if !out.status.success() {
            return Err(IptablesError::Failed {
                program: program.into(),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn restore(&self, _table: TableName, input: &str) -> Result<(), IptablesError> {
        let program = self.backend.restore_program();
        let mut cmd = Command::new(program);
        cmd.arg("--noflush");
        if self.backend == Backend::Legacy {
            // Wait for the xtables lock rather than fail when another tool holds it.
            cmd.args(["-w", "5"]);
        }
        let spawn_err = |source| IptablesError::Spawn {
            program: program.into(),
            source,
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes()).map_err(spawn_err)?;
        }
        let out = child.wait_with_output().map_err(spawn_err)?;
        if !out.status.success() {
            return Err(IptablesError::Failed {
                program: program.into(),
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_with_kubernetes_rules_wins() {
        let kube = "*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n";
        let busy = "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j DROP\nCOMMIT\n";
        assert_eq!(
            choose(Some(busy), Some(kube), Backend::Nft),
            Backend::Legacy
        );
        assert_eq!(
            choose(Some(kube), Some(busy), Backend::Legacy),
            Backend::Nft
        );
        assert_eq!(choose(Some(""), Some(busy), Backend::Nft), Backend::Legacy);
        assert_eq!(choose(None, None, Backend::Legacy), Backend::Legacy);
        assert_eq!(choose(Some(""), Some(""), Backend::Nft), Backend::Nft);
    }
}
