use std::collections::BTreeSet;

use super::*;
use crate::chains::ServiceChains;
use crate::fake::FakeIptables;
use crate::fixtures::{name, put, ready, service, RecordingConntrack, Step};
use crate::model::{Protocol, ServicePortName};

fn add(state: &mut ProxyState, svc: &str, protocol: Protocol, ip: u8, endpoints: &[u8]) {
    let eps = endpoints
        .iter()
        .map(|last| ready([10, 244, 0, *last], 8080, false))
        .collect();
    put(
        state,
        service(name("default", svc, "", protocol), [10, 96, 0, ip], 80),
        eps,
    );
}

fn syncer(fake: &FakeIptables) -> (Syncer<FakeIptables, RecordingConntrack>, RecordingConntrack) {
    let ct = RecordingConntrack::default();
    (
        Syncer::new(fake.clone(), ct.clone(), RenderConfig::default()),
        ct,
    )
}

fn two_services() -> ProxyState {
    let mut s = ProxyState::default();
    add(&mut s, "a", Protocol::Tcp, 1, &[1, 2]);
    add(&mut s, "b", Protocol::Tcp, 2, &[3]);
    s
}

#[test]
fn first_sync_is_full_and_keeps_foreign_rules() {
    let fake = FakeIptables::new();
    fake.add_rule(TableName::Nat, "PREROUTING", "-j FOREIGN-ACCEPT");
    fake.add_rule(TableName::Filter, "INPUT", "-p tcp --dport 22 -j ACCEPT");
    let (mut syncer, _) = syncer(&fake);
    let report = syncer.sync(&two_services(), false).unwrap();
    assert!(report.full);
    assert_eq!(report.restores, 2);
    let prerouting = fake.chain(TableName::Nat, "PREROUTING").unwrap();
    assert_eq!(
        prerouting,
        [
            "-m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES",
            "-j FOREIGN-ACCEPT"
        ]
    );
    let input = fake.chain(TableName::Filter, "INPUT").unwrap();
    assert!(input.contains(&"-p tcp --dport 22 -j ACCEPT".to_string()));
    let a = ServiceChains::new(&name("default", "a", "", Protocol::Tcp));
    assert_eq!(fake.chain(TableName::Nat, &a.cluster).unwrap().len(), 2);
}

#[test]
fn nothing_changed_means_no_restore() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    let report = syncer.sync(&two_services(), false).unwrap();
    assert!(!report.full);
    assert_eq!(report.restores, 0);
}

#[test]
fn an_endpoint_change_sends_only_that_service_chains() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    let mut changed = two_services();
    add(&mut changed, "a", Protocol::Tcp, 1, &[1, 4]);
    let report = syncer.sync(&changed, false).unwrap();
    assert_eq!(report.restores, 1, "only nat changed");
    let last = fake.state().restores.last().unwrap().clone();
    let a = ServiceChains::new(&name("default", "a", "", Protocol::Tcp));
    assert!(last.contains(&format!(":{} - [0:0]", a.cluster)));
    assert!(!last.contains(":KUBE-SERVICES"), "{last}");
    assert!(!last.contains("10.244.0.3"), "service b untouched: {last}");
    assert_eq!(last.matches("-X KUBE-SEP-").count(), 1, "{last}");
    // The result is what a full sync from scratch gives.
    let fresh = FakeIptables::new();
    let (mut other, _) = super::tests::syncer(&fresh);
    other.sync(&changed, false).unwrap();
    assert_eq!(
        fake.save(TableName::Nat).unwrap(),
        fresh.save(TableName::Nat).unwrap()
    );
}

#[test]
fn a_one_service_change_in_a_large_cluster_renders_and_sends_only_that_service() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    let mut state = ProxyState::default();
    for i in 0..250u8 {
        add(
            &mut state,
            &format!("s{i}"),
            Protocol::Tcp,
            i,
            &[1, 2, 3, 4, 5],
        );
    }
    let first = syncer.sync(&state, false).unwrap();
    assert_eq!(first.rendered, 250);
    add(&mut state, "s7", Protocol::Tcp, 7, &[1, 2, 3, 4, 9]);
    let report = syncer.sync(&state, false).unwrap();
    assert_eq!(report.rendered, 1);
    assert_eq!((report.chains_written, report.chains_deleted), (2, 1));
    let last = fake.state().restores.last().unwrap().clone();
    // *nat, two chain lines, one for the deleted chain, five -A of the service chain,
    // two of the new endpoint chain, one -X, COMMIT.
    assert_eq!(last.lines().count(), 13, "{last}");
    // A full resync renders nothing again (no input changed), writes every chain and
    // leaves the same rules.
    let before = fake.save(TableName::Nat).unwrap();
    let resync = syncer.sync(&state, true).unwrap();
    assert_eq!(resync.rendered, 0);
    assert_eq!(resync.chains_written, first.chains_written);
    assert_eq!(fake.save(TableName::Nat).unwrap(), before);
    let fresh = FakeIptables::new();
    let (mut other, _) = super::tests::syncer(&fresh);
    other.sync(&state, false).unwrap();
    assert_eq!(before, fresh.save(TableName::Nat).unwrap());
}

/// A periodic resync renders again the service ports whose inputs changed, also when
/// no caller named them, and writes every chain; after a failure everything is rendered.
#[test]
fn a_resync_renders_what_changed_unnamed_and_writes_everything() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    let mut state = many_services(20);
    let first = syncer.sync(&state, false).unwrap();
    assert_eq!(first.rendered, 20);
    add(&mut state, "s5", Protocol::Tcp, 5, &[40, 41]);
    let resync = syncer.sync(&state, true).unwrap();
    assert!(resync.full);
    assert_eq!(resync.rendered, 1);
    // s5 has two endpoint chains now, not five.
    assert_eq!(resync.chains_written, first.chains_written - 3);
    for table in TableName::ALL {
        assert_eq!(kernel_chains(&fake, table), rendered_chains(&state, table));
    }
    fake.state().fail_next = true;
    add(&mut state, "s6", Protocol::Tcp, 6, &[42]);
    assert!(syncer.sync(&state, false).is_err());
    assert_eq!(syncer.sync(&state, false).unwrap().rendered, 20);
    for table in TableName::ALL {
        assert_eq!(kernel_chains(&fake, table), rendered_chains(&state, table));
    }
}

#[test]
fn a_deleted_service_loses_its_chains() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    let mut fewer = ProxyState::default();
    add(&mut fewer, "b", Protocol::Tcp, 2, &[3]);
    syncer.sync(&fewer, false).unwrap();
    let nat = fake.save(TableName::Nat).unwrap();
    let a = ServiceChains::new(&name("default", "a", "", Protocol::Tcp));
    assert!(!nat.contains(&a.cluster));
    assert!(!nat.contains("10.244.0.1"));
    assert_eq!(nat.matches(":KUBE-SEP-").count(), 1);
}

#[test]
fn a_failed_restore_makes_the_next_sync_full() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    fake.state().fail_next = true;
    let mut changed = two_services();
    add(&mut changed, "a", Protocol::Tcp, 1, &[9]);
    assert!(syncer.sync(&changed, false).is_err());
    assert!(syncer.needs_full());
    let report = syncer.sync(&changed, false).unwrap();
    assert!(report.full);
    assert!(fake
        .save(TableName::Nat)
        .unwrap()
        .contains("10.244.0.9:8080"));
}

#[test]
fn a_restart_deletes_stale_chains_and_does_not_repeat_jumps() {
    let fake = FakeIptables::new();
    let (mut first, _) = syncer(&fake);
    first.sync(&two_services(), false).unwrap();
    // A new process, with one service fewer.
    let (mut second, _) = syncer(&fake);
    let mut fewer = ProxyState::default();
    add(&mut fewer, "b", Protocol::Tcp, 2, &[3]);
    second.sync(&fewer, false).unwrap();
    second.sync(&fewer, true).unwrap();
    let nat = fake.save(TableName::Nat).unwrap();
    assert!(!nat.contains(&ServiceChains::new(&name("default", "a", "", Protocol::Tcp)).cluster));
    assert_eq!(fake.chain(TableName::Nat, "PREROUTING").unwrap().len(), 1);
    assert_eq!(fake.chain(TableName::Filter, "FORWARD").unwrap().len(), 4);
}

#[test]
fn udp_endpoint_removal_deletes_its_conntrack_entries() {
    let fake = FakeIptables::new();
    let (mut syncer, ct) = syncer(&fake);
    let mut s = ProxyState::default();
    add(&mut s, "dns", Protocol::Udp, 10, &[1, 2]);
    syncer.sync(&s, false).unwrap();
    assert!(ct.0.lock().unwrap().is_empty());
    add(&mut s, "dns", Protocol::Udp, 10, &[2]);
    syncer.sync(&s, false).unwrap();
    assert_eq!(
        *ct.0.lock().unwrap(),
        ["-p udp --orig-dst 10.96.0.10 --orig-port-dst 80 --dst-nat 10.244.0.1"]
    );
}

#[test]
fn only_the_first_sync_and_the_one_after_a_failure_run_iptables_save() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    assert_eq!(syncer.sync(&two_services(), false).unwrap().saves, 2);
    let report = syncer.sync(&two_services(), true).unwrap();
    assert!(report.full);
    assert_eq!(report.saves, 0);
    assert_eq!(fake.state().saves, 2, "one save per table, at start-up");
    assert!(
        fake.state().lists > 0,
        "the full resync looked at the built-in chains"
    );

    fake.state().fail_next = true;
    let mut changed = two_services();
    add(&mut changed, "a", Protocol::Tcp, 1, &[7]);
    assert!(syncer.sync(&changed, false).is_err());
    // Something else may have happened to the kernel: look again, and find the
    // chain a restore of another process left behind.
    fake.add_rule(TableName::Nat, "KUBE-SVC-LEFTOVER", "-j RETURN");
    let report = syncer.sync(&changed, false).unwrap();
    assert!(report.full);
    assert_eq!(report.saves, 2);
    assert!(fake.chain(TableName::Nat, "KUBE-SVC-LEFTOVER").is_none());
}

#[test]
fn a_full_resync_puts_back_a_deleted_jump_once() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    let prerouting = fake.chain(TableName::Nat, "PREROUTING").unwrap();
    fake.state()
        .tables
        .get_mut("nat")
        .unwrap()
        .insert("PREROUTING".into(), vec!["-j FOREIGN".into()]);
    let report = syncer.sync(&two_services(), true).unwrap();
    assert_eq!(report.saves, 0);
    let mut expected = prerouting.clone();
    expected.push("-j FOREIGN".into());
    assert_eq!(fake.chain(TableName::Nat, "PREROUTING").unwrap(), expected);
    // Present jumps are not inserted again.
    syncer.sync(&two_services(), true).unwrap();
    assert_eq!(fake.chain(TableName::Nat, "PREROUTING").unwrap(), expected);
}

/// The legacy backend's way: a full resync over the rules in place runs no listing or
/// save; `-C` lines in its restores check the jumps from the built-in chains.
#[test]
fn a_resync_checking_jumps_in_its_restore_puts_back_a_deleted_jump_and_removes_stale_chains() {
    let fake = FakeIptables::new();
    fake.state().checks_in_restore = true;
    fake.add_rule(TableName::Nat, "PREROUTING", "-j FOREIGN-ACCEPT");
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    let counts = |f: &FakeIptables| {
        let s = f.state();
        (s.saves, s.lists, s.restores.len())
    };
    // Start-up: one save and one restore per table.
    assert_eq!(counts(&fake), (2, 0, 2));
    let prerouting = fake.chain(TableName::Nat, "PREROUTING").unwrap();

    // Jumps in place: one restore per table and nothing else; each restore checks its
    // table's jumps first, inserts none.
    let report = syncer.sync(&two_services(), true).unwrap();
    assert!(report.full);
    assert_eq!(counts(&fake), (2, 0, 4));
    let nat = fake.state().restores[3].clone();
    assert!(
        nat.starts_with(
            "*nat\n-C OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n"
        ),
        "{nat}"
    );
    assert_eq!(nat.matches("\n-C ").count(), 3, "{nat}");
    assert!(!nat.contains("\n-I "), "{nat}");
    assert_eq!(
        fake.chain(TableName::Nat, "PREROUTING").unwrap(),
        prerouting
    );

    // A jump deleted behind our back and a service gone: the nat restore fails on the
    // check, the built-in chains are listed, the restore runs again and inserts the one
    // missing jump; filter's restore alone suffices.
    fake.state()
        .tables
        .get_mut("nat")
        .unwrap()
        .insert("PREROUTING".into(), vec!["-j FOREIGN-ACCEPT".into()]);
    let mut fewer = ProxyState::default();
    add(&mut fewer, "b", Protocol::Tcp, 2, &[3]);
    let report = syncer.sync(&fewer, true).unwrap();
    assert_eq!(report.restores, 2);
    // The filter restore, the failed nat one, the listing of the nat table's three
    // built-in chains, the nat restore again.
    assert_eq!(counts(&fake), (2, 3, 7));
    assert!(fake.state().restores[6].contains("\n-I PREROUTING 1 "));
    assert_eq!(
        fake.chain(TableName::Nat, "PREROUTING").unwrap(),
        prerouting
    );
    let a = ServiceChains::new(&name("default", "a", "", Protocol::Tcp));
    assert!(fake.chain(TableName::Nat, &a.cluster).is_none());
    for table in TableName::ALL {
        assert_eq!(kernel_chains(&fake, table), rendered_chains(&fewer, table));
    }

    // Back to one restore per table, and no jump twice.
    syncer.sync(&fewer, true).unwrap();
    assert_eq!(counts(&fake), (2, 3, 9));
    assert_eq!(
        fake.chain(TableName::Nat, "PREROUTING").unwrap(),
        prerouting
    );
    assert_eq!(fake.chain(TableName::Filter, "FORWARD").unwrap().len(), 4);
}

/// A restore that fails for another reason than a missing jump still fails the sync
/// (after the second try), and the next sync is full with a save.
#[test]
fn a_resync_whose_restore_fails_for_another_reason_reports_it() {
    let fake = FakeIptables::new();
    fake.state().checks_in_restore = true;
    let (mut syncer, _) = syncer(&fake);
    syncer.sync(&two_services(), false).unwrap();
    // Something else jumps to service a's chain: deleting it is refused, every time.
    let a = ServiceChains::new(&name("default", "a", "", Protocol::Tcp));
    fake.add_rule(TableName::Nat, "INPUT", &format!("-j {}", a.cluster));
    let mut fewer = ProxyState::default();
    add(&mut fewer, "b", Protocol::Tcp, 2, &[3]);
    assert!(syncer.sync(&fewer, true).is_err());
    assert!(syncer.needs_full());
    assert_eq!(
        fake.state().lists,
        3,
        "the nat table's built-in chains, once"
    );
    fake.state()
        .tables
        .get_mut("nat")
        .unwrap()
        .insert("INPUT".into(), Vec::new());
    let report = syncer.sync(&fewer, false).unwrap();
    assert!(report.full);
    assert_eq!(report.saves, 2);
    assert!(fake.chain(TableName::Nat, &a.cluster).is_none());
}

#[test]
fn syncs_split_into_small_transactions_end_where_one_transaction_would() {
    let whole = FakeIptables::new();
    let split = FakeIptables::new();
    split.state().max_chains = Some(2);
    let (mut a, _) = syncer(&whole);
    let (mut b, _) = syncer(&split);
    let mut changed = two_services();
    add(&mut changed, "a", Protocol::Tcp, 1, &[5, 6, 7]);
    let mut fewer = ProxyState::default();
    add(&mut fewer, "b", Protocol::Tcp, 2, &[3, 4]);
    for (state, full) in [
        (two_services(), false),
        (changed.clone(), false),
        (changed, true),
        (fewer, false),
    ] {
        a.sync(&state, full).unwrap();
        b.sync(&state, full).unwrap();
        for table in TableName::ALL {
            assert_eq!(whole.save(table).unwrap(), split.save(table).unwrap());
        }
    }
    let restores = split.state().restores.clone();
    assert!(restores[1].matches("COMMIT").count() > 3, "{}", restores[1]);
}

#[test]
fn a_new_service_rewrites_the_top_level_chains_and_an_endpoint_change_does_not() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    let mut state = two_services();
    syncer.sync(&state, false).unwrap();
    add(&mut state, "c", Protocol::Udp, 3, &[5]);
    syncer.sync(&state, false).unwrap();
    let last = fake.state().restores.last().unwrap().clone();
    assert!(last.contains(":KUBE-SERVICES - [0:0]"), "{last}");
    add(&mut state, "c", Protocol::Udp, 3, &[6]);
    syncer.sync(&state, false).unwrap();
    let last = fake.state().restores.last().unwrap().clone();
    assert!(!last.contains(":KUBE-SERVICES"), "{last}");
    let fresh = FakeIptables::new();
    let (mut other, _) = super::tests::syncer(&fresh);
    other.sync(&state, false).unwrap();
    for table in TableName::ALL {
        assert_eq!(fake.save(table).unwrap(), fresh.save(table).unwrap());
    }
}

/// Our chains in the fake kernel's `table`.
fn kernel_chains(fake: &FakeIptables, table: TableName) -> Vec<(String, Vec<String>)> {
    fake.state().tables[table.as_str()]
        .iter()
        .filter(|(name, _)| name.starts_with("KUBE-"))
        .map(|(name, rules)| (name.clone(), rules.clone()))
        .collect()
}

/// The chains of a whole render of `state`, sorted by name like the fake's.
fn rendered_chains(state: &ProxyState, table: TableName) -> Vec<(String, Vec<String>)> {
    let rules = ProxyRules::render(&RenderConfig::default(), state);
    let mut chains: Vec<(String, Vec<String>)> = rules
        .table(table)
        .chains
        .iter()
        .map(|c| (c.name.clone(), c.rules.clone()))
        .collect();
    chains.sort();
    chains
}

fn port(svc: &str) -> ServicePortName {
    name("default", svc, "", Protocol::Tcp)
}

fn many_services(n: u8) -> ProxyState {
    let mut state = ProxyState::default();
    for i in 0..n {
        add(
            &mut state,
            &format!("s{i}"),
            Protocol::Tcp,
            i,
            &[1, 2, 3, 4, 5],
        );
    }
    state
}

#[test]
fn a_named_change_renders_and_writes_only_that_service_ports_chains() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    let mut state = many_services(250);
    syncer.sync(&state, false).unwrap();
    let restores = fake.state().restores.len();
    add(&mut state, "s7", Protocol::Tcp, 7, &[1, 2, 3, 4, 9]);
    // s8 changes too, but the caller names only s7: nothing else is looked at.
    add(&mut state, "s8", Protocol::Tcp, 8, &[1, 2, 3, 4, 8]);
    let report = syncer
        .sync_changed(&state, &BTreeSet::from([port("s7")]))
        .unwrap();
    assert!(!report.full);
    assert_eq!(report.rendered, 1);
    assert_eq!(fake.state().restores.len(), restores + 1);
    let input = fake.state().restores.last().unwrap().clone();
    let s7 = ServiceChains::new(&port("s7")).cluster;
    let declared: Vec<&str> = input.lines().filter(|l| l.starts_with(':')).collect();
    let old_endpoint =
        crate::chains::endpoint_chain(&port("s7"), &ready([10, 244, 0, 5], 8080, false));
    let new_endpoint =
        crate::chains::endpoint_chain(&port("s7"), &ready([10, 244, 0, 9], 8080, false));
    assert_eq!(
        declared,
        [
            format!(":{s7} - [0:0]"),
            format!(":{new_endpoint} - [0:0]"),
            format!(":{old_endpoint} - [0:0]"),
        ],
        "{input}"
    );
    assert!(input.contains(&format!("-X {old_endpoint}")), "{input}");
    // The report's rule counts are the whole ruleset's, kept without a walk over it.
    let whole = ProxyRules::render(&RenderConfig::default(), &state);
    let mut s8_unchanged = state.clone();
    add(&mut s8_unchanged, "s8", Protocol::Tcp, 8, &[1, 2, 3, 4, 5]);
    let synced = ProxyRules::render(&RenderConfig::default(), &s8_unchanged);
    assert_eq!(report.nat_rules, synced.nat.rule_count());
    assert_eq!(report.filter_rules, synced.filter.rule_count());
    // The next full resync picks up s8.
    syncer.sync(&state, true).unwrap();
    assert_eq!(kernel_chains(&fake, TableName::Nat), {
        let mut c: Vec<_> = whole
            .nat
            .chains
            .iter()
            .map(|c| (c.name.clone(), c.rules.clone()))
            .collect();
        c.sort();
        c
    });
}

#[test]
fn a_deleted_service_named_as_changed_loses_its_chains_and_its_top_level_rules() {
    let fake = FakeIptables::new();
    let (mut syncer, _) = syncer(&fake);
    let mut state = many_services(20);
    syncer.sync(&state, false).unwrap();
    let s7 = ServiceChains::new(&port("s7")).cluster;
    assert!(fake.chain(TableName::Nat, &s7).is_some());
    state.services.remove(&port("s7"));
    state.endpoints.remove(&port("s7"));
    let report = syncer
        .sync_changed(&state, &BTreeSet::from([port("s7")]))
        .unwrap();
    assert_eq!(report.chains_deleted, 6, "{report:?}");
    assert!(fake.chain(TableName::Nat, &s7).is_none());
    let services = fake.chain(TableName::Nat, "KUBE-SERVICES").unwrap();
    assert!(!services.iter().any(|r| r.contains(&s7)), "{services:?}");
    for table in TableName::ALL {
        assert_eq!(kernel_chains(&fake, table), rendered_chains(&state, table));
    }
}

#[test]
fn a_full_resync_after_named_changes_leaves_what_a_fresh_full_sync_writes() {
    let fake = FakeIptables::new();
    let (mut syncer, ct) = syncer(&fake);
    let mut state = many_services(30);
    add(&mut state, "dns", Protocol::Udp, 200, &[20, 21]);
    syncer.sync(&state, false).unwrap();
    let dns = name("default", "dns", "", Protocol::Udp);
    let steps: Vec<Step> = vec![
        // Endpoints move.
        (
            Box::new(|s| add(s, "s1", Protocol::Tcp, 1, &[7, 8])),
            vec![port("s1")],
        ),
        // A new service, and a service going away.
        (
            Box::new(|s| {
                add(s, "new", Protocol::Tcp, 150, &[30]);
                s.services.remove(&port("s2"));
                s.endpoints.remove(&port("s2"));
            }),
            vec![port("new"), port("s2")],
        ),
        // A service loses every endpoint (REJECT in filter), a UDP endpoint goes.
        (
            Box::new(|s| {
                add(s, "s3", Protocol::Tcp, 3, &[]);
                add(s, "dns", Protocol::Udp, 200, &[21]);
            }),
            vec![port("s3"), name("default", "dns", "", Protocol::Udp)],
        ),
        // A service becomes a NodePort.
        (
            Box::new(|s| {
                s.services.get_mut(&port("s4")).unwrap().node_port = Some(30004);
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
        for table in TableName::ALL {
            assert_eq!(kernel_chains(&fake, table), rendered_chains(&state, table));
        }
    }
    assert_eq!(
        *ct.0.lock().unwrap(),
        ["-p udp --orig-dst 10.96.0.200 --orig-port-dst 80 --dst-nat 10.244.0.20"]
    );
    assert!(state.services.contains_key(&dns));

    let fresh = FakeIptables::new();
    let (mut other, _) = super::tests::syncer(&fresh);
    other.sync(&state, true).unwrap();
    syncer.sync(&state, true).unwrap();
    for table in TableName::ALL {
        assert_eq!(fake.save(table).unwrap(), fresh.save(table).unwrap());
    }
    // The resync wrote the very chains, in the same order, that the fresh sync wrote.
    let chains_of = |input: &str| -> Vec<String> {
        input
            .lines()
            .filter(|l| l.starts_with(':'))
            .map(String::from)
            .collect()
    };
    let ours = syncer.last_inputs().to_vec();
    let theirs = other.last_inputs().to_vec();
    assert_eq!(ours.len(), theirs.len());
    for ((_, a), (_, b)) in ours.iter().zip(&theirs) {
        assert_eq!(chains_of(a), chains_of(b));
    }
}
