//! The kernel's floor of a one-service change: the least one new rule costs in a table of
//! N services, with no restore tool in the way.
//!
//! On nf_tables (iptables-nft's `ip nat`, the nftables mode's `ip kube-proxy`) a batch is
//! sent through our own netlink client ([`super::netlink`]) into a fresh chain that no
//! base chain reaches, in three shapes: a rule with only a `counter`, a rule whose verdict
//! is `accept`, a rule jumping to the mark-for-masquerade chain. A new rule holding an
//! expression the kernel must validate (any verdict, nat, masquerade, reject, compat
//! match/target) makes the commit validate the table: every base chain and every chain
//! reachable from one, 60,000 at 10,000 services, however small the change. The counter
//! rule is the commit without that validation. Upstream's rule structure puts a jump in
//! every one-service change, so the validated shapes are the floor of such a change.
//!
//! On iptables-legacy there is no partial change: any change, even one `-A`, reads the
//! whole table from the kernel and writes it back, so the floor is one `iptables-legacy -A`.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use super::netlink::{Expr, NftSocket, Op};
use super::netns::run_bounded;
use super::{median, ms, percentile};

/// The shapes of one new rule on nf_tables, with how the bench prints them.
fn shapes(mark_chain: &str) -> [(Expr, String); 3] {
    [
        (
            Expr::Counter,
            "one counter-only rule into a fresh unhooked chain (no validation)".into(),
        ),
        (
            Expr::Accept,
            "one ACCEPT rule into it (validates the table)".into(),
        ),
        (
            Expr::Jump(mark_chain.into()),
            format!("one rule jumping to {mark_chain} (validates the table)"),
        ),
    ]
}

/// The times of one shape, in milliseconds.
pub(crate) struct Floor {
    pub shape: String,
    pub times: Vec<f64>,
}

impl Floor {
    /// `<shape> p50 … ms p99 … ms (<count>)`.
    pub fn summary(&self) -> String {
        format!(
            "{} p50 {:7.2} ms p99 {:7.2} ms ({} changes)",
            self.shape,
            median(self.times.clone()),
            percentile(self.times.clone(), 0.99),
            self.times.len()
        )
    }
}

/// In the caller's namespace, which holds the table `ip <table>` with `mark_chain`:
/// for each shape, a fresh chain, then `changes` batches of one new rule each (timed,
/// from the send to the last ack), then the chain deleted again.
pub(crate) fn nf_tables_floor(
    table: &str,
    mark_chain: &str,
    changes: usize,
) -> anyhow::Result<Vec<Floor>> {
    let mut socket = NftSocket::open()?;
    let mut floors = vec![];
    for (i, (expr, shape)) in shapes(mark_chain).into_iter().enumerate() {
        let (table, chain) = (table.to_string(), format!("bench-floor-{i}"));
        socket.commit(&[Op::NewChain {
            table: table.clone(),
            chain: chain.clone(),
        }])?;
        let rule = [Op::NewRule {
            table: table.clone(),
            chain: chain.clone(),
            exprs: vec![expr],
        }];
        let mut times = vec![];
        for _ in 0..changes.max(1) {
            times.push(ms(socket.commit(&rule)?));
        }
        socket.commit(&[Op::DelChain { table, chain }])?;
        floors.push(Floor { shape, times });
    }
    Ok(floors)
}

/// In the caller's namespace, which holds the legacy `nat` table: `changes` times one
/// `iptables-legacy -w 5 -t nat -A <fresh chain> -j ACCEPT` (its wall time), then the
/// chain removed.
pub(crate) fn legacy_floor(changes: usize, timeout: Duration) -> anyhow::Result<Floor> {
    const CHAIN: &str = "BENCH-FLOOR";
    let iptables = |args: &[&str]| {
        let mut cmd = Command::new("iptables-legacy");
        cmd.args(["-w", "5", "-t", "nat"]).args(args);
        match run_bounded(cmd, "", timeout).with_context(|| format!("iptables-legacy {args:?}"))? {
            Some(took) => Ok(ms(took)),
            None => bail!("iptables-legacy {args:?} took > {timeout:?}"),
        }
    };
    iptables(&["-N", CHAIN])?;
    let mut times = vec![];
    for _ in 0..changes.max(1) {
        times.push(iptables(&["-A", CHAIN, "-j", "ACCEPT"])?);
    }
    iptables(&["-F", CHAIN])?;
    iptables(&["-X", CHAIN])?;
    Ok(Floor {
        shape: format!(
            "one `iptables-legacy -w 5 -t nat -A {CHAIN} -j ACCEPT` (the whole table is replaced)"
        ),
        times,
    })
}
