use std::cell::RefCell;

use serde_json::{json, Value};

use super::schema::Kind;
use super::*;

fn resource(group: &str, version: &str, plural: &str) -> &'static Resource {
    rkube_api::resources::find(group, version, plural).expect("served")
}

fn deployments() -> &'static Resource {
    resource("apps", "v1", "deployments")
}

fn kind_of(r: &Resource) -> Kind {
    Target::of(r, None).expect("schema").kind
}

/// Decode JSON text as `r`'s kind: (value, strict errors).
fn decode_as(r: &Resource, text: &str) -> (Value, Vec<String>) {
    let (v, p) = json::decode(text.as_bytes(), kind_of(r)).expect("decodes");
    (v, p.into_messages())
}

fn opts(directive: FieldValidation) -> WriteOptions {
    WriteOptions {
        field_validation: directive,
        ..WriteOptions::default()
    }
}

/// Run `f` with a warning recorder; what it recorded.
fn warnings_of<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    WARNINGS.sync_scope(RefCell::new(Vec::new()), || {
        let out = f();
        let w = WARNINGS.with(|w| w.borrow().clone());
        (out, w)
    })
}

const DEPLOYMENT: &str = r#"{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {"name": "web", "labels": {"app": "web", "any-key": "kept"}, "bogus": 1},
  "spec": {
    "replicas": 2,
    "foo": {"deep": {"deeper": true}},
    "selector": {"matchLabels": {"app": "web"}},
    "template": {
      "metadata": {"labels": {"app": "web"}},
      "spec": {
        "containers": [{
          "name": "c", "image": "nginx", "imagePullPolicyy": "Always",
          "ports": [{"containerPort": 80, "hostPortt": 1}, {"containerPort": 81}],
          "env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "x", "extra": 1}}}],
          "resources": {"limits": {"cpu": "1"}, "limitz": {}}
        }],
        "nodeSelector": {"disk": "ssd"}
      }
    }
  },
  "status": {"replicas": 9, "nope": 1}
}"#;

#[test]
fn unknown_fields_at_any_depth_in_document_order() {
    let (v, errs) = decode_as(deployments(), DEPLOYMENT);
    assert_eq!(
        errs,
        [
            r#"unknown field "metadata.bogus""#,
            r#"unknown field "spec.foo""#,
            r#"unknown field "spec.template.spec.containers[0].imagePullPolicyy""#,
            r#"unknown field "spec.template.spec.containers[0].ports[0].hostPortt""#,
            r#"unknown field "spec.template.spec.containers[0].env[1].valueFrom.fieldRef.extra""#,
            r#"unknown field "spec.template.spec.containers[0].resources.limitz""#,
            r#"unknown field "status.nope""#,
        ]
    );
    // Dropped; maps keep every key.
    assert!(v["metadata"].get("bogus").is_none());
    assert_eq!(v["metadata"]["labels"]["any-key"], "kept");
    assert!(v["spec"].get("foo").is_none());
    let c = &v["spec"]["template"]["spec"]["containers"][0];
    assert!(c.get("imagePullPolicyy").is_none());
    assert_eq!(c["ports"][0], json!({"containerPort": 80}));
    assert_eq!(c["ports"][1], json!({"containerPort": 81}));
    assert_eq!(
        c["env"][1]["valueFrom"],
        json!({"fieldRef": {"fieldPath": "x"}})
    );
    assert_eq!(c["resources"], json!({"limits": {"cpu": "1"}}));
    assert_eq!(
        v["spec"]["template"]["spec"]["nodeSelector"],
        json!({"disk": "ssd"})
    );
    assert_eq!(v["status"], json!({"replicas": 9}));
    // Everything else is as serde_json reads it.
    let mut expected: Value = serde_json::from_str(DEPLOYMENT).unwrap();
    walk::prune(
        &mut expected,
        kind_of(deployments()),
        false,
        &mut Problems::default(),
    );
    assert_eq!(v, expected);
}

#[test]
fn duplicate_fields_of_structs_and_maps() {
    let (v, errs) = decode_as(
        deployments(),
        r#"{"metadata": {"name": "a", "labels": {"x": "1", "x": "2"}, "name": "b"},
            "spec": {"replicas": 1, "foo": 1, "replicas": 3, "foo": 2},
            "metadata": {"namespace": "ns"}}"#,
    );
    assert_eq!(
        errs,
        [
            r#"duplicate field "metadata.labels.x""#,
            r#"duplicate field "metadata.name""#,
            r#"unknown field "spec.foo""#,
            r#"duplicate field "spec.replicas""#,
            r#"duplicate field "metadata""#,
        ]
    );
    // Scalars and map entries: the last wins; a repeated struct field is decoded
    // into what the first one left (Go's encoding/json).
    assert_eq!(
        v["metadata"],
        json!({"name": "b", "labels": {"x": "2"}, "namespace": "ns"})
    );
    assert_eq!(v["spec"], json!({"replicas": 3}));
}

#[test]
fn repeated_lists_merge_items_by_index() {
    let (v, errs) = decode_as(
        deployments(),
        r#"{"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "x"}, {"name": "b"}],
            "containers": [{"image": "y"}]}}}}"#,
    );
    assert_eq!(errs, [r#"duplicate field "spec.template.spec.containers""#]);
    assert_eq!(
        v["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "y"}])
    );
}

#[test]
fn nothing_is_checked_inside_unknown_fields_and_opaque_values() {
    let revisions = resource("apps", "v1", "controllerrevisions");
    let (v, errs) = decode_as(
        revisions,
        r#"{"metadata": {"name": "r", "managedFields": [{"manager": "m", "fieldsV1": {"f:a": {}, "f:a": {"x": 1}}}]},
            "revision": 1, "data": {"spec": {"anything": 1, "anything": 2}},
            "unknown": {"a": 1, "a": 2, "b": {"c": 1}}}"#,
    );
    assert_eq!(errs, [r#"unknown field "unknown""#]);
    assert_eq!(v["data"], json!({"spec": {"anything": 2}}));
    assert_eq!(
        v["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:a": {"x": 1}})
    );
}

#[test]
fn paths_are_quoted_like_go() {
    let (_, errs) = decode_as(
        deployments(),
        r#"{"spec": {"a\"b": 1, "ünï": 2, "tab\there": 3, "\u0001": 4}}"#,
    );
    assert_eq!(
        errs,
        [
            r#"unknown field "spec.a\"b""#,
            r#"unknown field "spec.ünï""#,
            r#"unknown field "spec.tab\there""#,
            r#"unknown field "spec.\x01""#,
        ]
    );
}

#[test]
fn at_most_100_problems_each_once() {
    let mut fields: Vec<String> = (0..150).map(|i| format!("\"f{i}\": 1")).collect();
    fields.push("\"f0\": 2".into());
    let text = format!("{{\"spec\": {{{}}}}}", fields.join(","));
    let (v, errs) = decode_as(deployments(), &text);
    assert_eq!(errs.len(), 100);
    assert_eq!(errs[0], r#"unknown field "spec.f0""#);
    assert_eq!(v["spec"], json!({}));
}

#[test]
fn json_patch_operations_and_untyped_maps() {
    let (_, p) = json::decode(
        br#"[{"op": "add", "path": "/a", "value": {"k": 1, "k": 2, "n": [{"z": 1, "z": 1}]}, "foo": 1, "op": "add"}]"#,
        Kind::JsonPatchOps,
    )
    .unwrap();
    assert_eq!(
        p.into_messages(),
        [
            r#"duplicate field "[0].value.k""#,
            r#"duplicate field "[0].value.n[0].z""#,
            r#"unknown field "[0].foo""#,
            r#"duplicate field "[0].op""#,
        ]
    );
    let (_, p) = json::decode(
        br#"{"spec": {"replicas": 1, "replicas": 2}}"#,
        Kind::Untyped,
    )
    .unwrap();
    assert_eq!(p.into_messages(), [r#"duplicate field "spec.replicas""#]);
}

#[test]
fn the_decoder_reads_what_serde_json_reads() {
    let samples = [
        r#"{"a": "x\"y\\z\/\b\f\n\r\t\u00e9\ud83d\ude00", "b": [1, -2, 3.5, 1e3, -0, 18446744073709551615, 1.7976931348623157e308], "c": null, "d": true, "e": false, "f": {}, "g": []}"#,
        "  [ ]  ",
        "\"\"",
        "-12",
    ];
    for s in samples {
        let (v, p) = json::decode(s.as_bytes(), Kind::Opaque).expect(s);
        let expected: Value = serde_json::from_str(s).unwrap();
        assert_eq!(v, expected, "{s}");
        assert!(p.into_messages().is_empty());
    }
}

/// A body the decoder accepts is not parsed by serde_json as well (`decode_json`):
/// it must refuse all that serde_json refuses.
#[test]
fn the_decoder_refuses_what_serde_json_refuses() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let refused = [
        "\"a\u{1}b\"".to_string(),
        "{\"k\tey\": 1}".to_string(),
        "\"line\nbreak\"".to_string(),
        r#""\ud800""#.to_string(),
        r#""\ud800x""#.to_string(),
        r#""\udc00""#.to_string(),
        r#""\ud800\u0041""#.to_string(),
        r#""\u+041""#.to_string(),
        r#""\u-041""#.to_string(),
        r#"{"a": 1,}"#.to_string(),
        "[1,]".to_string(),
        "01".to_string(),
        "1.".to_string(),
        nested(128),
        format!("{{\"a\": {}}}", nested(127)),
    ];
    for text in &refused {
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text:?}");
        for kind in [Kind::Untyped, Kind::Opaque] {
            assert!(json::decode(text.as_bytes(), kind).is_none(), "{text:?}");
        }
    }
    // The deepest nesting serde_json reads is read here too.
    for text in [nested(127), format!("{{\"a\": {}}}", nested(126))] {
        let expected: Value = serde_json::from_str(&text).unwrap();
        let (v, _) = json::decode(text.as_bytes(), Kind::Untyped).expect("decodes");
        assert_eq!(v, expected);
    }
}

/// Any bytes: no panic; what the decoder accepts serde_json accepts too.
#[test]
fn arbitrary_input_does_not_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let kind = kind_of(deployments());
    let base = DEPLOYMENT.as_bytes();
    let alphabet = b"{}[]\":,\\ u0123456789abcdef-+.eEtrunlsxD\n\t\x01\x1f";
    for round in 0..3000 {
        let mut b: Vec<u8> = match round % 3 {
            0 => base[..rng.gen_range(0..base.len())].to_vec(),
            1 => {
                let mut b = base.to_vec();
                for _ in 0..rng.gen_range(1..6) {
                    let i = rng.gen_range(0..b.len());
                    b[i] = alphabet[rng.gen_range(0..alphabet.len())];
                }
                b
            }
            _ => (0..rng.gen_range(0..64))
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect(),
        };
        if round % 7 == 0 {
            b.extend(std::iter::repeat_n(b'[', 2000));
        }
        for k in [kind, Kind::Untyped, Kind::JsonPatchOps] {
            if json::decode(&b, k).is_some() {
                assert!(
                    serde_json::from_slice::<Value>(&b).is_ok(),
                    "{:?}",
                    String::from_utf8_lossy(&b)
                );
            }
        }
        let _ = yaml::duplicates(&b);
    }
}

#[test]
fn yaml_duplicate_keys_with_lines() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\ndata:\n  k: v\n  k: w\nmetadata:\n  labels:\n    x: y\n";
    assert_eq!(
        yaml::duplicates(text.as_bytes()),
        [
            r#"line 5: key "name" already set in map"#,
            r#"line 8: key "k" already set in map"#,
            r#"line 10: key "metadata" already set in map"#,
        ]
    );
    // Flow style (kubectl sends JSON as apply-patch+yaml), numbers and nesting.
    assert_eq!(
        yaml::duplicates(br#"{"a": {"b": 1, "b": 2}, "a": 3, 1: x, 1: y, "1": z}"#),
        [
            r#"line 1: key "b" already set in map"#,
            r#"line 1: key "a" already set in map"#,
            r#"line 1: key 1 already set in map"#,
        ]
    );
    assert!(yaml::duplicates(b"a: 1\nb: [1, 1]\n").is_empty());
    assert!(yaml::duplicates(b"{{{").is_empty());
}

#[test]
fn create_strict_warn_ignore() {
    let body = br#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "name": "d"}, "spec": {"foo": 1, "selector": {}, "template": {}}}"#;
    let obj: Value = serde_json::from_slice(body).unwrap();
    let r = deployments();
    let err = decoded(
        body,
        BodyType::Json,
        obj.clone(),
        r,
        &opts(FieldValidation::Strict),
    )
    .unwrap_err();
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        r#"Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name", unknown field "spec.foo""#
    );
    let (out, warnings) = warnings_of(|| {
        decoded(
            body,
            BodyType::Json,
            obj.clone(),
            r,
            &opts(FieldValidation::Warn),
        )
    });
    let out = out.unwrap();
    assert!(out["spec"].get("foo").is_none());
    assert_eq!(
        warnings,
        [
            r#"duplicate field "metadata.name""#,
            r#"unknown field "spec.foo""#
        ]
    );
    let (out, warnings) = warnings_of(|| {
        decoded(
            body,
            BodyType::Json,
            obj.clone(),
            r,
            &opts(FieldValidation::Ignore),
        )
    });
    assert!(out.unwrap()["spec"].get("foo").is_none());
    assert!(warnings.is_empty());
    // Another kind is left to the registry's type check.
    let pod: Value = json!({"kind": "Pod", "spec": {"foo": 1}});
    let out = decoded(
        b"",
        BodyType::Protobuf,
        pod.clone(),
        r,
        &opts(FieldValidation::Strict),
    );
    assert_eq!(out.unwrap(), pod);
    let body = br#"{"kind": "Pod", "spec": {"foo": 1}}"#;
    let out = decoded(
        body,
        BodyType::Json,
        pod.clone(),
        r,
        &opts(FieldValidation::Strict),
    );
    assert_eq!(out.unwrap(), pod);
}

#[test]
fn yaml_bodies_report_sorted_keys_after_repeated_keys() {
    let body = b"kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: a\n  zzz: 1\n  name: b\n  aaa: 2\ndata:\n  k: v\n";
    let obj = crate::codec::parse_yaml(body).unwrap();
    assert_eq!(obj["metadata"]["name"], "b");
    let r = resource("", "v1", "configmaps");
    let err = decoded(
        body,
        BodyType::Yaml,
        obj.clone(),
        r,
        &opts(FieldValidation::Strict),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 6: key \"name\" already set in map, unknown field \"metadata.aaa\", unknown field \"metadata.zzz\""
    );
    let (out, warnings) = warnings_of(|| {
        decoded(
            body,
            BodyType::Yaml,
            obj.clone(),
            r,
            &opts(FieldValidation::Warn),
        )
    });
    assert_eq!(out.unwrap()["metadata"], json!({"name": "b"}));
    assert_eq!(
        warnings,
        [
            r#"line 6: key "name" already set in map"#,
            r#"unknown field "metadata.aaa""#,
            r#"unknown field "metadata.zzz""#,
        ]
    );
}

#[test]
fn subresource_bodies_use_their_kind() {
    let r = deployments();
    let o = WriteOptions {
        subresource: Some("scale".into()),
        ..opts(FieldValidation::Strict)
    };
    let body = br#"{"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "d"}, "spec": {"replicas": 2, "replicaz": 1}}"#;
    let obj: Value = serde_json::from_slice(body).unwrap();
    let err = decoded(body, BodyType::Json, obj, r, &o).unwrap_err();
    assert_eq!(
        err.message,
        r#"Scale in version "v1" cannot be handled as a Scale: strict decoding error: unknown field "spec.replicaz""#
    );
}

#[test]
fn patches_report_the_patch_and_the_result() {
    let r = deployments();
    let current = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1}});
    // Merge patch: repeated keys of the patch, then unknown fields of the result.
    let body = br#"{"spec": {"zeta": 1, "replicas": 2, "replicas": 3, "alpha": {"x": 1}}}"#;
    let patch: Value = serde_json::from_slice(body).unwrap();
    let result = rkube_patch::merge_patch(&current, &patch);
    let (out, warnings) = warnings_of(|| {
        patched(
            body,
            BodyType::MergePatch,
            result.clone(),
            r,
            &opts(FieldValidation::Warn),
        )
    });
    assert_eq!(out.unwrap()["spec"], json!({"replicas": 3}));
    assert_eq!(
        warnings,
        [
            r#"duplicate field "spec.replicas""#,
            r#"unknown field "spec.alpha""#,
            r#"unknown field "spec.zeta""#,
        ]
    );
    let err = patched(
        body,
        BodyType::MergePatch,
        result.clone(),
        r,
        &opts(FieldValidation::Strict),
    )
    .unwrap_err();
    assert_eq!(err.code, 422);
    assert_eq!(
        err.message,
        r#" "" is invalid: patch: Invalid value: "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{\"alpha\":{\"x\":1},\"replicas\":3,\"zeta\":1}}": strict decoding error: duplicate field "spec.replicas", unknown field "spec.alpha", unknown field "spec.zeta""#
    );
    assert_eq!(err.details.as_ref().unwrap()["causes"][0]["field"], "patch");
    let (out, warnings) = warnings_of(|| {
        patched(
            body,
            BodyType::MergePatch,
            result.clone(),
            r,
            &opts(FieldValidation::Ignore),
        )
    });
    assert_eq!(out.unwrap()["spec"], json!({"replicas": 3}));
    assert!(warnings.is_empty());

    // Strategic merge patch: the converter's unknown fields, the patch as a Go map.
    let body = br#"{"spec": {"template": {"spec": {"containers": [{"name": "c", "bogus": 1.5}]}}, "foo": "bar"}}"#;
    let patch: Value = serde_json::from_slice(body).unwrap();
    let result =
        rkube_patch::strategic_merge_patch(&current, &patch, "io.k8s.api.apps.v1.Deployment")
            .unwrap();
    let err = patched(
        body,
        BodyType::StrategicMergePatch,
        result,
        r,
        &opts(FieldValidation::Strict),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        r#" "" is invalid: patch: Invalid value: "map[spec:map[foo:bar template:map[spec:map[containers:[map[bogus:1.5 name:c]]]]]]": strict decoding error: unknown field "spec.template.spec.containers[0].bogus", unknown field "spec.foo""#
    );

    // JSON patch: the operations' own fields too.
    let body = br#"[{"op": "add", "path": "/spec/foo", "value": 1, "bar": 2}]"#;
    let result = rkube_patch::json_patch(&current, &serde_json::from_slice(body).unwrap()).unwrap();
    let (out, warnings) = warnings_of(|| {
        patched(
            body,
            BodyType::JsonPatch,
            result.clone(),
            r,
            &opts(FieldValidation::Warn),
        )
    });
    assert!(out.unwrap()["spec"].get("foo").is_none());
    assert_eq!(
        warnings,
        [
            r#"json patch unknown field "[0].bar""#,
            r#"unknown field "spec.foo""#
        ]
    );
}

#[test]
fn apply_refuses_undeclared_fields_and_checks_repeated_keys() {
    let r = deployments();
    let config = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": "ns", "labels": {"a": "b"}},
        "spec": {"foo": 1, "template": {"spec": {"containers": [{"name": "c", "bar": 1, "ports": [{"containerPort": 80, "baz": 1}]}]}}},
    });
    let err = apply_config(&config, r).unwrap_err();
    assert_eq!(err.code, 500);
    assert_eq!(
        err.message,
        "failed to create typed patch object (ns/d; apps/v1, Kind=Deployment): errors:\n  .spec.foo: field not declared in schema\n  .spec.template.spec.containers[name=\"c\"].bar: field not declared in schema\n  .spec.template.spec.containers[name=\"c\"].ports[containerPort=80,protocol=\"TCP\"].baz: field not declared in schema"
    );
    assert!(apply_config(
        &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
        r
    )
    .is_ok());

    let body = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n  replicas: 2\n";
    let err = applied(body, &opts(FieldValidation::Strict)).unwrap_err();
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key \"replicas\" already set in map"
    );
    let (out, warnings) = warnings_of(|| applied(body, &opts(FieldValidation::Warn)));
    assert!(out.is_ok());
    assert_eq!(warnings, [r#"line 7: key "replicas" already set in map"#]);
    assert!(applied(body, &opts(FieldValidation::Ignore)).is_ok());
}

#[test]
fn warning_header_values() {
    let h = warning_headers(&[
        r#"unknown field "spec.foo""#.to_string(),
        "back\\slash".into(),
        "bad\ncontrol".into(),
        "ünï".into(),
    ]);
    let h: Vec<&[u8]> = h.iter().map(|v| v.as_bytes()).collect();
    assert_eq!(
        h,
        [
            br#"299 - "unknown field \"spec.foo\"""#.as_slice(),
            br#"299 - "back\\slash""#.as_slice(),
            "299 - \"ünï\"".as_bytes(),
        ]
    );
    // Past 4096 characters: every text cut to 256, then no more than fits.
    let long: Vec<String> = (0..40)
        .map(|i| format!("{i:03}{}", "x".repeat(300)))
        .collect();
    let h = warning_headers(&long);
    assert_eq!(h.len(), 16);
    assert!(h.iter().all(|v| v.len() == "299 - \"\"".len() + 256));
    let few = warning_headers(&long[..3]);
    assert_eq!(few.len(), 3);
    assert_eq!(few[0].len(), "299 - \"\"".len() + 303);
    // Recording drops repeats.
    let ((), w) = warnings_of(|| {
        add_warning("a");
        add_warning("a");
        add_warning("");
        add_warning("b");
    });
    assert_eq!(w, ["a", "b"]);
    add_warning("outside a request: ignored");
}

#[test]
fn go_formatting() {
    assert_eq!(walk::go_float(1.5), "1.5");
    assert_eq!(walk::go_float(100000.0), "100000");
    assert_eq!(walk::go_float(1e6), "1e+06");
    assert_eq!(walk::go_float(1234567.5), "1.2345675e+06");
    assert_eq!(walk::go_float(0.0001), "0.0001");
    assert_eq!(walk::go_float(0.00001), "1e-05");
    assert_eq!(walk::go_float(1.5e-300), "1.5e-300");
    assert_eq!(
        walk::go_value(&json!({"b": [1, "x", null, true], "a": {"c": 18446744073709551615u64}})),
        "map[a:map[c:1.8446744073709552e+19] b:[1 x <nil> true]]"
    );
    assert_eq!(
        walk::go_json(&json!({"b": "<&>", "a": 1})),
        r#"{"a":1,"b":"\u003c\u0026\u003e"}"#
    );
}
