//! The client against the real kernel, in a network namespace each test creates (and
//! removes on drop), checked with `iptables-nft`, which reads the rules back from the
//! kernel on its own.

use nix::errno::Errno;

use super::{Expr, NetlinkError, NftSocket, Op};
use crate::proxy::netns::BenchNetns;

/// `iptables-nft -t nat <args>` in `ns`: its stdout, or an error with its stderr.
fn iptables(ns: &BenchNetns, args: &[&str]) -> anyhow::Result<String> {
    let out = ns
        .cmd("iptables-nft")
        .args(["-t", "nat"])
        .args(args)
        .output()?;
    if !out.status.success() {
        anyhow::bail!(
            "iptables-nft -t nat {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A namespace whose `ip nat` table (made by iptables-nft, with its base chains) holds
/// the chain `KUBE-MARK-MASQ`, as rkube-proxy leaves it.
fn nat_namespace(tag: &str) -> BenchNetns {
    let ns = BenchNetns::new(tag).expect("a network namespace (root is needed)");
    iptables(&ns, &["-N", "KUBE-MARK-MASQ"]).expect("iptables-nft -N KUBE-MARK-MASQ");
    ns
}

fn new_chain(chain: &str) -> Op {
    Op::NewChain {
        table: "nat".into(),
        chain: chain.into(),
    }
}

fn new_rule(chain: &str, expr: Expr) -> Op {
    Op::NewRule {
        table: "nat".into(),
        chain: chain.into(),
        exprs: vec![expr],
    }
}

#[test]
fn a_batch_creates_a_chain_with_accept_and_jump_rules_iptables_nft_reads_back() {
    let ns = nat_namespace("nl-accept");
    ns.run(|| {
        let mut socket = NftSocket::open()?;
        socket.commit(&[
            new_chain("FLOOR-TEST"),
            new_rule("FLOOR-TEST", Expr::Accept),
            new_rule("FLOOR-TEST", Expr::Jump("KUBE-MARK-MASQ".into())),
        ])?;
        // A second batch appends to the chain the first one made.
        socket.commit(&[new_rule("FLOOR-TEST", Expr::Counter)])?;
        Ok(())
    })
    .expect("the batches commit");
    let listed = iptables(&ns, &["-S", "FLOOR-TEST"]).expect("the chain exists");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(
        lines,
        [
            "-N FLOOR-TEST",
            "-A FLOOR-TEST -j ACCEPT",
            "-A FLOOR-TEST -j KUBE-MARK-MASQ",
            "-A FLOOR-TEST",
        ],
        "{listed}"
    );
}

#[test]
fn a_jump_to_a_missing_chain_is_refused_with_enoent_and_the_batch_leaves_nothing() {
    let ns = nat_namespace("nl-enoent");
    let result = ns.run(|| {
        let mut socket = NftSocket::open()?;
        Ok(socket.commit(&[
            new_chain("FLOOR-REFUSED"),
            new_rule("FLOOR-REFUSED", Expr::Jump("NO-SUCH-CHAIN".into())),
        ]))
    });
    match result.expect("the socket opens") {
        Err(NetlinkError::Refused { message, errno }) => {
            assert_eq!(errno, Errno::ENOENT, "{message}");
            assert!(
                message.starts_with("NEWRULE ip nat FLOOR-REFUSED")
                    && message.contains("NO-SUCH-CHAIN"),
                "the error names the refused message: {message}"
            );
        }
        other => panic!("expected the kernel's ENOENT, got {other:?}"),
    }
    // The kernel undid the whole batch: the chain of its first message is not there.
    let all = iptables(&ns, &["-S"]).expect("iptables-nft -S");
    assert!(!all.contains("FLOOR-REFUSED"), "{all}");
    assert!(iptables(&ns, &["-S", "FLOOR-REFUSED"]).is_err());
}

#[test]
fn deleting_a_chain_takes_its_rules_and_their_references_with_it() {
    let ns = nat_namespace("nl-delete");
    ns.run(|| {
        let mut socket = NftSocket::open()?;
        socket.commit(&[
            new_chain("FLOOR-GONE"),
            new_rule("FLOOR-GONE", Expr::Jump("KUBE-MARK-MASQ".into())),
        ])?;
        socket.commit(&[Op::DelChain {
            table: "nat".into(),
            chain: "FLOOR-GONE".into(),
        }])?;
        Ok(())
    })
    .expect("the batches commit");
    let all = iptables(&ns, &["-S"]).expect("iptables-nft -S");
    assert!(!all.contains("FLOOR-GONE"), "{all}");
    // Nothing jumps to KUBE-MARK-MASQ any more, so it can be deleted.
    iptables(&ns, &["-X", "KUBE-MARK-MASQ"]).expect("KUBE-MARK-MASQ is unreferenced");
}

#[test]
fn a_chain_that_exists_is_refused_with_eexist() {
    let ns = nat_namespace("nl-eexist");
    let result = ns.run(|| Ok(NftSocket::open()?.commit(&[new_chain("KUBE-MARK-MASQ")])));
    match result.expect("the socket opens") {
        Err(NetlinkError::Refused { message, errno }) => {
            assert_eq!(errno, Errno::EEXIST, "{message}");
            assert_eq!(message, "NEWCHAIN ip nat KUBE-MARK-MASQ");
        }
        other => panic!("expected the kernel's EEXIST, got {other:?}"),
    }
}
