use serde_json::{json, Map, Value};

use super::*;
use crate::resources::{find, Resource};

fn labels(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn res(group: &str, plural: &str) -> &'static Resource {
    let version = "v1";
    find(group, version, plural).expect("resource")
}

#[test]
fn label_selector_matching_table() {
    let cases: &[(&str, Value, bool)] = &[
        ("", json!({}), true),
        ("a=b", json!({"a": "b"}), true),
        ("a=b", json!({"a": "c"}), false),
        ("a=b", json!({}), false),
        ("a==b", json!({"a": "b"}), true),
        ("a!=b", json!({}), true),
        ("a!=b", json!({"a": "c"}), true),
        ("a!=b", json!({"a": "b"}), false),
        ("a in (b,c)", json!({"a": "c"}), true),
        ("a in (b,c)", json!({"a": "d"}), false),
        ("a notin (b)", json!({}), true),
        ("a notin (b)", json!({"a": "b"}), false),
        ("a", json!({"a": ""}), true),
        ("a", json!({"b": "x"}), false),
        ("!a", json!({"b": "x"}), true),
        ("!a", json!({"a": "x"}), false),
        ("a>5", json!({"a": "6"}), true),
        ("a>5", json!({"a": "5"}), false),
        ("a>5", json!({"a": "x"}), false),
        ("a>5", json!({}), false),
        ("a<5", json!({"a": "-3"}), true),
        ("a=", json!({"a": ""}), true),
        ("a in ()", json!({"a": ""}), true),
        ("a in (in)", json!({"a": "in"}), true),
        ("  a = b ,\tc  ", json!({"a": "b", "c": "1"}), true),
        ("  a = b ,\tc  ", json!({"a": "b"}), false),
        (
            "x in (foo,,baz),y,z notin ()",
            json!({"x": "", "y": "1"}),
            true,
        ),
        (
            "example.com/app=web",
            json!({"example.com/app": "web"}),
            true,
        ),
        ("a=b", json!({"a": 1}), false),
    ];
    for (sel, l, want) in cases {
        let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
        let l = labels(l.clone());
        assert_eq!(s.matches(Some(&l)), *want, "{sel} vs {l:?}");
    }
    assert!(LabelSelector::parse("").unwrap().is_empty());
    assert!(!LabelSelector::parse("a").unwrap().matches(None));
    assert!(LabelSelector::parse("!a").unwrap().matches(None));
}

#[test]
fn label_selector_strings() {
    let s = LabelSelector::parse("b in (z,y),a!=x,!c,d").unwrap();
    assert_eq!(s.to_string(), "a!=x,b in (y,z),!c,d");
    let s = LabelSelector::parse("a>1").unwrap();
    assert_eq!(s.to_string(), "a>1");
    assert_eq!(
        LabelSelector::parse("a=b,c in (d)")
            .unwrap()
            .requires_exact_match("c"),
        Some("d")
    );
}

#[test]
fn label_selector_errors() {
    const OPS: &str = "in, notin, =, ==, !=, gt, lt";
    let cases: &[(&str, String)] = &[
        (
            "a b",
            format!("unable to parse requirement: found 'b', expected: {OPS}"),
        ),
        ("a=b c", "found 'c', expected: ',' or 'end of string'".into()),
        (
            ",a",
            "found ',', expected: !, identifier, or 'end of string'".into(),
        ),
        ("a,", "found '', expected: identifier after ','".into()),
        (
            "a=(b)",
            "unable to parse requirement: found '(', expected: identifier".into(),
        ),
        (
            "a in b",
            "unable to parse requirement: found 'b' expected: '('".into(),
        ),
        (
            "a in (b c)",
            "unable to parse requirement: found 'c', expected: ',' or ')'".into(),
        ),
        (
            "a=>b",
            "unable to parse requirement: found '>', expected: identifier".into(),
        ),
        (
            "!=a",
            "found '!=', expected: !, identifier, or 'end of string'".into(),
        ),
        ("!a=b", "found '=', expected: ',' or 'end of string'".into()),
        (
            "a=b_",
            "unable to parse requirement: values[0][a]: Invalid value: \"b_\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".into(),
        ),
        (
            "-a=b",
            "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')".into(),
        ),
        (
            "a>b",
            "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer".into(),
        ),
    ];
    for (sel, want) in cases {
        assert_eq!(LabelSelector::parse(sel).unwrap_err(), *want, "{sel}");
    }
}

#[test]
fn label_selector_objects() {
    let nothing = LabelSelector::from_label_selector_json(&Value::Null).unwrap();
    assert!(!nothing.matches(Some(&labels(json!({})))));
    assert!(!nothing.is_empty());
    let all = LabelSelector::from_label_selector_json(&json!({})).unwrap();
    assert!(all.is_empty() && all.matches(None));
    let s = LabelSelector::from_label_selector_json(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "gone", "operator": "DoesNotExist"},
            {"key": "env", "operator": "Exists"},
            {"key": "x", "operator": "NotIn", "values": ["y"]}
        ]
    }))
    .unwrap();
    assert!(s.matches(Some(&labels(json!({"app": "web", "tier": "b", "env": ""})))));
    assert!(!s.matches(Some(&labels(
        json!({"app": "web", "tier": "b", "env": "", "gone": "1"})
    ))));
    assert!(!s.matches(Some(&labels(json!({"app": "web", "tier": "b"})))));
    assert_eq!(s.to_string(), "app=web,env,!gone,tier in (a,b),x notin (y)");

    let err = |v: Value| LabelSelector::from_label_selector_json(&v).unwrap_err();
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]})),
        "\"Foo\" is not a valid label selector operator"
    );
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "In"}]})),
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"
    );
    assert_eq!(
        err(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]})),
        "values: Invalid value: []string{\"b\"}: values set must be empty for exists and does not exist"
    );
    assert!(err(json!({"matchLabels": {"a b": "c"}}))
        .starts_with("key: Invalid value: \"a b\": name part"));
    assert!(LabelSelector::from_label_selector_json(&json!("x")).is_err());
    let m = LabelSelector::from_map(&labels(json!({"b": "2", "a": "1"})));
    assert_eq!(m.to_string(), "a=1,b=2");
}

#[test]
fn field_selector_parsing() {
    let s = FieldSelector::parse("metadata.name=foo,spec.nodeName!=n1").unwrap();
    assert_eq!(s.requirements().len(), 2);
    assert_eq!(s.to_string(), "metadata.name=foo,spec.nodeName!=n1");
    let s = FieldSelector::parse("metadata.name==a\\=b\\,c\\\\").unwrap();
    assert_eq!(s.requirements()[0].value, "a=b,c\\");
    assert_eq!(s.requires_exact_match("metadata.name"), Some("a=b,c\\"));
    assert!(FieldSelector::parse("").unwrap().is_empty());
    assert!(FieldSelector::parse(",,").unwrap().is_empty());
    let cases: &[(&str, &str)] = &[
        ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
        (
            "a=b,foo",
            "invalid selector: 'a=b,foo'; can't understand 'foo'",
        ),
        (
            "metadata.name=a\\x",
            "invalid field selector: invalid escape sequence: \\x",
        ),
        (
            "metadata.name=a\\",
            "invalid field selector: invalid escape sequence: \\",
        ),
        (
            "metadata.name=a=b",
            "invalid field selector: unescaped character in value: 61",
        ),
    ];
    for (sel, want) in cases {
        assert_eq!(FieldSelector::parse(sel).unwrap_err(), *want, "{sel}");
    }
}

#[test]
fn field_selector_validation() {
    let pods = res("", "pods");
    let err = |r: &Resource, s: &str| FieldSelector::parse(s).unwrap().validate(r).unwrap_err();
    assert_eq!(
        err(pods, "spec.foo=1"),
        "field label not supported: spec.foo"
    );
    assert_eq!(
        err(res("apps", "deployments"), "spec.replicas=1"),
        "\"spec.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    );
    assert_eq!(
        err(res("batch", "jobs"), "status.active=1"),
        "field label \"status.active\" not supported for batchv1.Job"
    );
    assert_eq!(
        err(res("", "nodes"), "metadata.namespace=x"),
        "field label not supported: metadata.namespace"
    );
    assert_eq!(
        err(res("events.k8s.io", "events"), "involvedObject.name=x"),
        "field label not supported: involvedObject.name"
    );
    // Terms are checked in sorted order: the first unsupported one is reported.
    assert_eq!(
        err(pods, "spec.zzz=1,spec.aaa=2"),
        "field label not supported: spec.aaa"
    );
    for r in crate::resources::RESOURCES {
        for f in selectable_fields(r) {
            let sel = FieldSelector::parse(&format!("{f}=x")).unwrap();
            assert_eq!(sel.validate(r), Ok(()), "{} {f}", r.qualified());
        }
    }
}

#[test]
fn field_selector_matching() {
    let pods = res("", "pods");
    let pod = json!({
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always"},
        "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]}
    });
    let m = |r: &Resource, s: &str, o: &Value| FieldSelector::parse(s).unwrap().matches(r, o);
    assert!(m(pods, "metadata.name=p,metadata.namespace=ns", &pod));
    assert!(!m(pods, "metadata.name=q", &pod));
    assert!(m(pods, "spec.host=n1", &pod));
    assert!(m(pods, "spec.nodeName!=n2", &pod));
    assert!(m(pods, "spec.hostNetwork=false", &pod));
    assert!(m(pods, "status.podIP=10.0.0.1", &pod));
    assert!(m(pods, "status.phase==Running", &pod));
    assert!(m(pods, "status.podIPs=", &pod));
    assert!(m(pods, "spec.schedulerName=", &pod));
    assert!(!m(pods, "spec.nodeName=", &pod));
    assert_eq!(field_value(pods, &pod, "status.podIPs"), None);

    let crs = res("rbac.authorization.k8s.io", "clusterroles");
    let cr = json!({"metadata": {"name": "admin"}});
    assert!(m(crs, "metadata.namespace=", &cr));
    assert!(!m(crs, "metadata.namespace=x", &cr));

    let nodes = res("", "nodes");
    assert!(m(
        nodes,
        "spec.unschedulable=true",
        &json!({"spec": {"unschedulable": true}})
    ));
    assert!(m(nodes, "spec.unschedulable=false", &json!({})));

    let core_ev = json!({
        "metadata": {"name": "e", "namespace": "ns"},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "reason": "Started", "type": "Normal", "reportingComponent": "kubelet",
        "source": {}
    });
    let new_ev = json!({
        "metadata": {"name": "e", "namespace": "ns"},
        "regarding": {"kind": "Pod", "name": "p"},
        "reason": "Started", "type": "Normal", "reportingController": "kubelet"
    });
    let events = res("", "events");
    let new_events = res("events.k8s.io", "events");
    for ev in [&core_ev, &new_ev] {
        assert!(m(
            events,
            "involvedObject.kind=Pod,involvedObject.name=p",
            ev
        ));
        assert!(m(events, "source=kubelet,reportingComponent=kubelet", ev));
        assert!(m(
            new_events,
            "regarding.name=p,reportingController=kubelet",
            ev
        ));
        assert!(!m(new_events, "type=Warning", ev));
    }
    let jobs = res("batch", "jobs");
    assert!(m(
        jobs,
        "status.successful=2",
        &json!({"status": {"succeeded": 2}})
    ));
    assert!(m(jobs, "status.successful=0", &json!({})));
    let secrets = res("", "secrets");
    assert!(m(secrets, "type=Opaque", &json!({"type": "Opaque"})));
    // Wrong types are harmless.
    assert!(!m(pods, "metadata.name=p", &json!({"metadata": "x"})));
    assert!(m(pods, "metadata.name=", &json!([1, 2])));
}
