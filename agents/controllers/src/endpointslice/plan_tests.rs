use super::*;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::discovery::v1::{EndpointConditions, EndpointPort};

fn meta() -> SliceMeta {
    SliceMeta {
        namespace: "ns".into(),
        generate_name: "web-".into(),
        address_type: "IPv4".into(),
        labels: [("kubernetes.io/service-name".to_string(), "web".to_string())].into(),
        owner: OwnerReference {
            api_version: "v1".into(),
            kind: "Service".into(),
            name: "web".into(),
            uid: "svc-uid".into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
    }
}

fn ports() -> Vec<EndpointPort> {
    vec![EndpointPort {
        name: Some("http".into()),
        port: Some(80),
        protocol: Some("TCP".into()),
        app_protocol: None,
    }]
}

fn endpoint(i: usize, ready: bool) -> (String, Endpoint) {
    let name = format!("p{i:03}");
    let e = Endpoint {
        addresses: vec![format!("10.0.{}.{}", i / 200, i % 200 + 1)],
        conditions: Some(EndpointConditions {
            ready: Some(ready),
            serving: Some(ready),
            terminating: Some(false),
        }),
        target_ref: Some(ObjectReference {
            kind: Some("Pod".into()),
            namespace: Some("ns".into()),
            name: Some(name.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    (format!("ns/{name}"), e)
}

fn desired(ids: impl IntoIterator<Item = usize>, ready: bool) -> BTreeMap<PortsKey, Group> {
    let group = Group {
        ports: ports(),
        endpoints: ids.into_iter().map(|i| endpoint(i, ready)).collect(),
    };
    [(ports_key(&group.ports), group)].into_iter().collect()
}

fn existing(name: &str, ids: impl IntoIterator<Item = usize>) -> Arc<EndpointSlice> {
    let m = meta();
    let mut slice = new_slice(
        &m,
        ports(),
        ids.into_iter().map(|i| endpoint(i, true).1).collect(),
    );
    slice.metadata.name = Some(name.into());
    Arc::new(slice)
}

#[test]
fn new_endpoints_fill_slices_of_at_most_max() {
    let plan = plan(Vec::new(), desired(0..250, true), &meta(), 100);
    let sizes: Vec<usize> = plan.create.iter().map(|s| s.endpoints.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    assert!(plan.update.is_empty() && plan.delete.is_empty());
    let s = &plan.create[0];
    assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(s.address_type, "IPv4");
    assert_eq!(
        s.metadata.owner_references.as_ref().unwrap()[0].uid,
        "svc-uid"
    );
}

#[test]
fn nothing_changed_nothing_written() {
    let plan = plan(
        vec![existing("a", 0..100), existing("b", 100..150)],
        desired(0..150, true),
        &meta(),
        100,
    );
    assert!(plan.create.is_empty() && plan.update.is_empty() && plan.delete.is_empty());
}

#[test]
fn a_changed_endpoint_updates_only_its_slice() {
    let mut want = desired(0..150, true);
    let group = want.values_mut().next().unwrap();
    group
        .endpoints
        .insert(endpoint(120, false).0, endpoint(120, false).1);
    let plan = plan(
        vec![existing("a", 0..100), existing("b", 100..150)],
        want,
        &meta(),
        100,
    );
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    assert_eq!(plan.update.len(), 1);
    assert_eq!(plan.update[0].metadata.name.as_deref(), Some("b"));
    assert_eq!(plan.update[0].endpoints.len(), 50);
}

#[test]
fn a_replaced_pod_takes_the_freed_place() {
    let plan = plan(
        vec![existing("a", [1, 2])],
        desired([1, 3], true),
        &meta(),
        100,
    );
    assert!(plan.create.is_empty() && plan.delete.is_empty());
    let ids: Vec<String> = plan.update[0].endpoints.iter().map(endpoint_id).collect();
    assert_eq!(ids, vec!["ns/p001", "ns/p003"]);
}

#[test]
fn a_full_unchanged_slice_is_not_touched_for_one_more() {
    let plan1 = plan(
        vec![existing("a", 0..100)],
        desired(0..101, true),
        &meta(),
        100,
    );
    assert!(plan1.update.is_empty());
    assert_eq!(plan1.create.len(), 1);
    let plan2 = plan(
        vec![existing("a", 0..50)],
        desired(0..51, true),
        &meta(),
        100,
    );
    assert!(plan2.create.is_empty());
    assert_eq!(plan2.update[0].endpoints.len(), 51);
}

#[test]
fn no_endpoints_leaves_one_placeholder() {
    let plan1 = plan(vec![existing("a", 0..3)], BTreeMap::new(), &meta(), 100);
    assert_eq!(plan1.delete.len(), 1);
    assert_eq!(plan1.create.len(), 1);
    assert!(plan1.create[0].endpoints.is_empty());
    let mut placeholder = plan1.create[0].clone();
    placeholder.metadata.name = Some("ph".into());
    let placeholder = Arc::new(placeholder);
    let plan2 = plan(vec![placeholder.clone()], BTreeMap::new(), &meta(), 100);
    assert!(plan2.create.is_empty() && plan2.update.is_empty() && plan2.delete.is_empty());
    let plan3 = plan(vec![placeholder], desired([1], true), &meta(), 100);
    assert_eq!(plan3.create.len(), 1);
    assert_eq!(plan3.delete.len(), 1);
}
