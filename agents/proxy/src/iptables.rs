//! The kernel side of a sync, behind a narrow trait: `iptables-save` of one table (at
//! start-up and after a failure only), `iptables -S` of one built-in chain (to check our
//! jumps cheaply on nft), and one `iptables-restore --noflush` per table, the input on
//! stdin. The real one runs the nft or legacy binaries, chosen like upstream's
//! iptables-wrapper; tests use [`crate::fake::FakeIptables`].

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
    /// `iptables -t <table> -S <chain>`: one chain's rules as `-A <chain> …` lines. Much
    /// cheaper than a save when the table holds thousands of service chains.
    fn list_chain(&self, table: TableName, chain: &str) -> Result<String, IptablesError>;
    /// The rules of several chains of `table`, as [`IptablesRestore::list_chain`] of each.
    fn list_chains(&self, table: TableName, chains: &[&str]) -> Result<String, IptablesError> {
        let mut out = String::new();
        for chain in chains {
            out.push_str(&self.list_chain(table, chain)?);
        }
        Ok(out)
    }
    /// `iptables-restore --noflush` with `input` (one table, one or more transactions)
    /// on stdin.
    fn restore(&self, table: TableName, input: &str) -> Result<(), IptablesError>;
    /// Split a restore into transactions naming at most this many chains each (see
    /// `transactions.rs`); `None`: one transaction per table.
    fn max_chains_per_transaction(&self) -> Option<usize> {
        None
    }
    /// Whether a full resync checks the jumps from the built-in chains inside its restore
    /// (`-C` lines, see `TableChanges::check`) rather than listing those chains first.
    fn checks_jumps_in_restore(&self) -> bool {
        false
    }
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

    fn iptables_program(self) -> &'static str {
        match self {
            Backend::Nft => "iptables-nft",
            Backend::Legacy => "iptables-legacy",
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

/// Transactions of about this many chains (≈ 170 services of 5 endpoints) keep
/// iptables-nft's per-transaction O(lines × chains) cost small next to its fixed cost.
pub const NFT_CHAINS_PER_TRANSACTION: usize = 1000;

/// The real thing: one process per call.
#[derive(Clone, Debug)]
pub struct SystemIptables {
    pub backend: Backend,
}

/// Runs `cmd` to completion; its stdout, or the failure with its stderr.
fn output(program: &str, cmd: &mut Command) -> Result<String, IptablesError> {
    let out = cmd.output().map_err(|source| IptablesError::Spawn {
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

impl IptablesRestore for SystemIptables {
    fn save(&self, table: TableName) -> Result<String, IptablesError> {
        let program = self.backend.save_program();
        output(program, Command::new(program).args(["-t", table.as_str()]))
    }

    fn list_chain(&self, table: TableName, chain: &str) -> Result<String, IptablesError> {
        let program = self.backend.iptables_program();
        let mut cmd = Command::new(program);
        if self.backend == Backend::Legacy {
            cmd.args(["-w", "5"]);
        }
        output(program, cmd.args(["-t", table.as_str(), "-S", chain]))
    }

    /// nft fetches only the chain listed; legacy iptables reads the whole table from the
    /// kernel for any command, so there one save beats a listing per chain.
    fn list_chains(&self, table: TableName, chains: &[&str]) -> Result<String, IptablesError> {
        match self.backend {
            Backend::Legacy => self.save(table),
            Backend::Nft => {
                let mut out = String::new();
                for chain in chains {
                    out.push_str(&self.list_chain(table, chain)?);
                }
                Ok(out)
            }
        }
    }

    fn max_chains_per_transaction(&self) -> Option<usize> {
        (self.backend == Backend::Nft).then_some(NFT_CHAINS_PER_TRANSACTION)
    }

    /// Legacy: any command copies the whole table from the kernel and parses it, so a
    /// listing before the restore costs about what the restore's own read of the table
    /// costs (a third of a CPU second at 10,000 services); `-C` lines in the restore ride
    /// on that read. nft lists one chain cheaply and keeps its listings.
    fn checks_jumps_in_restore(&self) -> bool {
        self.backend == Backend::Legacy
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
