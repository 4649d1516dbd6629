use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::*;
use crate::fixtures::{name, put, ready, service, RecordingConntrack, Step};
use crate::model::{Protocol, ServicePortName};
use crate::nft::fake::{FakeNft, Table};

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

fn port(svc: &str) -> ServicePortName {
    name("ns1", svc, "p80", Protocol::Tcp)
}

fn fake_syncer(nft: &FakeNft) -> NftSyncer<FakeNft, RecordingConntrack> {
    NftSyncer::new(
        nft.clone(),
        RecordingConntrack::default(),
        RenderConfig::default(),
    )
}

/// What one full sync of `state` leaves in a table of its own.
fn fresh_table(state: &ProxyState) -> Table {
    let nft = FakeNft::default();
    fake_syncer(&nft).sync(state, true).unwrap();
    nft.table().unwrap()
}

#[test]
fn a_named_change_sends_only_that_service_ports_lines() {
    let mut state = ProxyState::default();
    for i in 1..=100u8 {
        add(
            &mut state,
            &format!("s{i}"),
            i,
            &[1, 2, 3],
            Some(30000 + u16::from(i)),
        );
    }
    let nft = FakeNft::default();
    let mut syncer = fake_syncer(&nft);
    syncer.sync(&state, false).unwrap();
    add(&mut state, "s7", 7, &[1, 2, 9], Some(30007));
    // s8 changes too, but only s7 is named: nothing else is looked at.
    add(&mut state, "s8", 8, &[1, 2, 8], Some(30008));
    let report = syncer
        .sync_changed(&state, &BTreeSet::from([port("s7")]))
        .unwrap();
    assert_eq!(report.rendered, 1);
    let text = syncer.last_input().to_string();
    assert!(text.lines().all(|l| l.contains("/s7/")), "{text}");
    // Service chain rewritten (add, flush, 3 rules), new endpoint chain (add, flush, 2
    // rules), old endpoint chain flushed and deleted.
    assert_eq!(text.lines().count(), 11, "{text}");
    assert_eq!(report.nat_rules, {
        let mut synced = state.clone();
        add(&mut synced, "s8", 8, &[1, 2, 3], Some(30008));
        rule_count(&fresh_table(&synced)) - rule_count(&fresh_table(&ProxyState::default()))
    });
    // The full resync picks up s8 too.
    syncer.sync(&state, true).unwrap();
    assert_eq!(nft.table().unwrap(), fresh_table(&state));
}

fn rule_count(table: &Table) -> usize {
    table.chains.values().map(Vec::len).sum()
}

#[test]
fn a_deleted_service_named_as_changed_loses_its_chains_and_elements() {
    let mut state = ProxyState::default();
    for i in 1..=20u8 {
        add(
            &mut state,
            &format!("s{i}"),
            i,
            &[1, 2],
            Some(30000 + u16::from(i)),
        );
    }
    let nft = FakeNft::default();
    let mut syncer = fake_syncer(&nft);
    syncer.sync(&state, false).unwrap();
    state.services.remove(&port("s7"));
    state.endpoints.remove(&port("s7"));
    let report = syncer
        .sync_changed(&state, &BTreeSet::from([port("s7")]))
        .unwrap();
    // The service chain, the external chain and two endpoint chains.
    assert_eq!(report.chains_deleted, 4, "{report:?}");
    let table = nft.table().unwrap();
    assert!(!table.chains.keys().any(|c| c.contains("/s7/")));
    assert!(!format!("{:?}", table.elements).contains("/s7/"));
    assert_eq!(table, fresh_table(&state));
}

#[test]
fn a_full_resync_after_named_changes_leaves_what_a_fresh_full_sync_writes() {
    let mut state = ProxyState::default();
    for i in 1..=30u8 {
        add(&mut state, &format!("s{i}"), i, &[1, 2, 3], None);
    }
    let nft = FakeNft::default();
    let mut syncer = fake_syncer(&nft);
    syncer.sync(&state, false).unwrap();
    let steps: Vec<Step> = vec![
        // Endpoints move.
        (
            Box::new(|s| add(s, "s1", 1, &[7, 8], None)),
            vec![port("s1")],
        ),
        // A new service with a node port, and a service going away.
        (
            Box::new(|s| {
                add(s, "new", 150, &[30], Some(30150));
                s.services.remove(&port("s2"));
                s.endpoints.remove(&port("s2"));
            }),
            vec![port("new"), port("s2")],
        ),
        // A service loses every endpoint: its map element moves to no-endpoint-services.
        (Box::new(|s| add(s, "s3", 3, &[], None)), vec![port("s3")]),
        // Session affinity: affinity sets appear.
        (
            Box::new(|s| {
                s.services.get_mut(&port("s4")).unwrap().sticky_seconds = Some(60);
            }),
            vec![port("s4")],
        ),
        // ... and go again with the service.
        (
            Box::new(|s| {
                s.services.remove(&port("s4"));
                s.endpoints.remove(&port("s4"));
            }),
            vec![port("s4")],
        ),
    ];
    for (change, names) in steps {
        change(&mut state);
        let report = syncer
            .sync_changed(&state, &names.into_iter().collect())
            .unwrap();
        assert!(!report.full);
        assert_eq!(nft.table().unwrap(), fresh_table(&state));
    }
    let resync = syncer.sync(&state, true).unwrap();
    assert!(resync.full);
    assert_eq!(nft.table().unwrap(), fresh_table(&state));
    // The resync sent what a fresh full sync sends, but for replacing the table.
    let fresh = FakeNft::default();
    let mut other = fake_syncer(&fresh);
    other.sync(&state, true).unwrap();
    let without_replace = other
        .last_input()
        .strip_prefix("add table ip kube-proxy\ndelete table ip kube-proxy\n")
        .unwrap();
    assert_eq!(syncer.last_input(), without_replace);
}
