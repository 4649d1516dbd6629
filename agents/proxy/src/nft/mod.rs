//! `--proxy-mode nftables`: upstream kube-proxy's nftables mode (GA in 1.33). Every sync
//! is one `nft -f -` transaction: a full sync declares, flushes and refills the whole
//! table `ip kube-proxy`; a partial sync touches only the chains, map elements and sets
//! of the service ports that changed.

#[cfg(test)]
pub mod fake;
pub mod render;
pub mod syncer;

use std::io::Write;
use std::process::{Command, Stdio};

/// Running `nft`.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("running nft: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("nft failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
}

/// The kernel side of an nftables sync, behind a trait so unit tests can record it.
pub trait Nft: Send {
    /// `nft -f -` with `input` on stdin: one atomic transaction.
    fn run(&self, input: &str) -> Result<(), NftError>;
}

/// The `nft` binary.
#[derive(Clone, Debug, Default)]
pub struct SystemNft;

impl Nft for SystemNft {
    fn run(&self, input: &str) -> Result<(), NftError> {
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(NftError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(())
    }
}

/// `--cleanup`: delete the table, if there is one (upstream's `CleanupLeftovers`).
/// Returns whether there was one.
pub fn cleanup(nft: &dyn Nft) -> Result<bool, NftError> {
    // `list tables` names them without dumping their contents.
    let existed = Command::new("nft")
        .args(["list", "tables", "ip"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == format!("table ip {}", render::TABLE))
        });
    // Adding first makes the deletion succeed when there is no table.
    nft.run(&format!(
        "add table ip {t}\ndelete table ip {t}\n",
        t = render::TABLE
    ))?;
    Ok(existed)
}
