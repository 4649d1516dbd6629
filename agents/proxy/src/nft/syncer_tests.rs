use std::sync::{Arc, Mutex};

use super::*;
use crate::fixtures::{name, put, ready, service, RecordingConntrack};
use crate::model::Protocol;

/// Records every transaction; `fail_next` makes the next one fail.
#[derive(Clone, Default)]
struct RecordingNft(Arc<Mutex<(Vec<String>, bool)>>);

impl Nft for RecordingNft {
    fn run(&self, input: &str) -> Result<(), NftError> {
        let mut s = self.0.lock().unwrap();
        if std::mem::take(&mut s.1) {
            return Err(NftError::Failed {
                status: "exit status: 1".into(),
                stderr: "refused".into(),
            });
        }
        s.0.push(input.to_string());
        Ok(())
    }
}

impl RecordingNft {
    fn last(&self) -> String {
        self.0.lock().unwrap().0.last().cloned().unwrap_or_default()
    }
    fn count(&self) -> usize {
        self.0.lock().unwrap().0.len()
    }
}

fn add(state: &mut ProxyState, svc: &str, ip: u8, endpoints: &[u8], node_port: Option<u16>) {
    let eps = endpoints
        .iter()
        .map(|last| ready([10, 180, 0, *last], 80, false))
        .collect();
    let mut port = service(name("ns1", svc, "p80", Protocol::Tcp), [172, 30, 0, ip], 80);
    port.node_port = node_port;
    put(state, port, eps);
}

fn syncer(nft: &RecordingNft) -> NftSyncer<RecordingNft, RecordingConntrack> {
    let config = RenderConfig {
        cluster_cidr: Some("10.0.0.0/8".parse().unwrap()),
        ..RenderConfig::default()
    };
    NftSyncer::new(nft.clone(), RecordingConntrack::default(), config)
}

#[test]
fn names_match_upstream_nftables_mode() {
    let mut state = ProxyState::default();
    add(&mut state, "svc1", 41, &[1], None);
    let nft = RecordingNft::default();
    syncer(&nft).sync(&state, false).unwrap();
    let text = nft.last();
    // The names upstream's own nftables tests use for ns1/svc1:p80 and 10.180.0.1:80.
    assert!(text.contains(
        "add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }"
    ), "{text}");
    assert!(text.contains(
        "add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"
    ), "{text}");
    assert!(text.contains(
        "add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80"
    ));
    assert!(text.starts_with("add table ip kube-proxy\ndelete table ip kube-proxy\n"));
}

#[test]
fn a_one_service_change_is_a_small_transaction_and_deletions_follow() {
    let mut state = ProxyState::default();
    for i in 1..=200u8 {
        add(
            &mut state,
            &format!("s{i}"),
            i,
            &[1, 2, 3, 4, 5],
            Some(30000 + u16::from(i)),
        );
    }
    add(&mut state, "empty", 250, &[], Some(31000));
    let nft = RecordingNft::default();
    let mut syncer = syncer(&nft);
    let first = syncer.sync(&state, false).unwrap();
    assert!(first.full);
    assert_eq!(first.chains_written, 200 * 7);
    assert!(nft.last().contains("31000 : goto reject-chain"));

    // Nothing changed: no transaction.
    let none = syncer.sync(&state, false).unwrap();
    assert_eq!((none.restores, nft.count()), (0, 1));

    // One endpoint of one service moves.
    add(&mut state, "s7", 7, &[1, 2, 3, 4, 9], Some(30007));
    let report = syncer.sync(&state, false).unwrap();
    assert_eq!(report.rendered, 1);
    let text = nft.last();
    // Flush of the old endpoint chain; add+flush of the service chain and of the new
    // endpoint chain; six and two rules; the old endpoint chain deleted.
    assert_eq!(text.lines().count(), 14, "{text}");
    assert!(
        !text.contains("element"),
        "the map entry is unchanged: {text}"
    );
    let delete = text
        .lines()
        .position(|l| l.starts_with("delete chain"))
        .unwrap();
    assert_eq!(delete, text.lines().count() - 1, "{text}");

    // The service goes: its elements first, then its chains (flushed, then deleted).
    let name = state
        .services
        .keys()
        .find(|n| n.name == "s7")
        .unwrap()
        .clone();
    state.services.remove(&name);
    syncer.sync(&state, false).unwrap();
    let text = nft.last();
    let first_line = text.lines().next().unwrap();
    assert!(
        first_line.starts_with("delete element ip kube-proxy"),
        "{text}"
    );
    assert_eq!(text.matches("delete chain").count(), 7, "{text}");
    assert_eq!(text.matches("delete element").count(), 2, "{text}");
}

#[test]
fn a_failed_transaction_makes_the_next_sync_replace_the_table() {
    let mut state = ProxyState::default();
    add(&mut state, "a", 1, &[1], None);
    let nft = RecordingNft::default();
    let mut syncer = syncer(&nft);
    syncer.sync(&state, false).unwrap();
    add(&mut state, "a", 1, &[2], None);
    nft.0.lock().unwrap().1 = true;
    assert!(syncer.sync(&state, false).is_err());
    let report = syncer.sync(&state, false).unwrap();
    assert!(report.full);
    assert!(nft
        .last()
        .starts_with("add table ip kube-proxy\ndelete table"));
    // A periodic full resync keeps the table (and its affinity sets) and rewrites it.
    let resync = syncer.sync(&state, true).unwrap();
    assert!(resync.full);
    assert!(nft.last().starts_with("add table ip kube-proxy {"));
}
