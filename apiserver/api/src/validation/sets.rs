//! DaemonSets and StatefulSets.

use super::storage::validate_pvc_spec;

use super::workloads::int_or_percent_value;
use super::workloads::int_or_string_bad;
use super::workloads::not_more_than_100;
use super::workloads::positive_int_or_percent;
use super::workloads::selector_and_template;
use super::workloads::template_labels;
use super::workloads::template_labels_bad;

use super::field::{invalid, not_supported, required, Bad, Path};
use super::meta::{non_negative, validate_label_selector, validate_labels, validate_object_meta};
use super::names::NameRule;
use super::pod::validate_pod_template_spec;
use super::util::{arr, go_label_selector, int, s, selector_is_empty, selector_matches};
use crate::status::Cause;
use serde_json::Value;

/// `ValidateDaemonSet`.
pub fn validate_daemon_set(ds: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(ds, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = ds.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let template = spec.get("template").unwrap_or(&null);
    let sel = spec.get("selector").filter(|v| !v.is_null());
    match sel {
        None => out.push(required(&sp.child("selector"), "")),
        Some(sel) => out.extend(validate_label_selector(sel, &sp.child("selector"))),
    }
    let matches = sel.is_some_and(|sel| {
        selector_is_empty(sel) || selector_matches(sel, &template_labels(template))
    });
    if !matches {
        out.push(invalid(
            &sp.at(&["template", "metadata", "labels"]),
            template_labels_bad(template),
            "`selector` does not match template `labels`",
        ));
    }
    if let Some(sel) = sel {
        if selector_is_empty(sel) {
            out.push(invalid(
                &sp.child("selector"),
                Bad::Raw(go_label_selector(sel)),
                "empty selector is invalid for daemonset",
            ));
        }
    }
    out.extend(validate_pod_template_spec(template, &sp.child("template")));
    let tspec = template.get("spec").unwrap_or(&null);
    let rp = s(tspec, "restartPolicy");
    if rp != "Always" {
        out.push(not_supported(
            &sp.at(&["template", "spec", "restartPolicy"]),
            rp,
            &["Always"],
        ));
    }
    if let Some(ads) = int(tspec, "activeDeadlineSeconds") {
        out.push(invalid(
            &sp.at(&["template", "spec", "activeDeadlineSeconds"]),
            ads,
            "activeDeadlineSeconds must be nil for DaemonSets",
        ));
    }
    out.extend(non_negative(
        int(spec, "minReadySeconds").unwrap_or(0),
        &sp.child("minReadySeconds"),
    ));
    out.extend(non_negative(
        int(spec, "templateGeneration").unwrap_or(0),
        &sp.child("templateGeneration"),
    ));
    let us = spec.get("updateStrategy").unwrap_or(&null);
    let up = sp.child("updateStrategy");
    match s(us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match us.get("rollingUpdate").filter(|v| !v.is_null()) {
            None => out.push(required(&up.child("rollingUpdate"), "")),
            Some(ru) => {
                let rp = up.child("rollingUpdate");
                let mu = ru.get("maxUnavailable");
                let ms = ru.get("maxSurge");
                out.extend(positive_int_or_percent(mu, &rp.child("maxUnavailable")));
                out.extend(positive_int_or_percent(ms, &rp.child("maxSurge")));
                out.extend(not_more_than_100(mu, &rp.child("maxUnavailable")));
                out.extend(not_more_than_100(ms, &rp.child("maxSurge")));
                let hu = int_or_percent_value(mu) != 0;
                let hs = int_or_percent_value(ms) != 0;
                if hu && hs {
                    out.push(invalid(
                        &rp.child("maxSurge"),
                        int_or_string_bad(ms),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !hu && !hs {
                    out.push(required(
                        &rp.child("maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
            }
        },
        _ => out.push(not_supported(
            &up,
            Bad::Raw(super::util::go_struct("apps.DaemonSetUpdateStrategy", us)),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    if let Some(r) = int(spec, "revisionHistoryLimit") {
        out.extend(non_negative(r, &sp.child("revisionHistoryLimit")));
    }
    out
}

/// `ValidateStatefulSet`.
pub fn validate_stateful_set(sts: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta(sts, true, NameRule::Subdomain);
    let null = Value::Null;
    let spec = sts.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    match s(spec, "podManagementPolicy") {
        "" => out.push(required(&sp.child("podManagementPolicy"), "")),
        "OrderedReady" | "Parallel" => {}
        other => out.push(invalid(
            &sp.child("podManagementPolicy"),
            other,
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = spec.get("updateStrategy").unwrap_or(&null);
    let up = sp.child("updateStrategy");
    match s(us, "type") {
        "" => out.push(required(&up, "")),
        "OnDelete" => {
            if let Some(ru) = us.get("rollingUpdate").filter(|v| !v.is_null()) {
                out.push(invalid(
                    &up.child("rollingUpdate"),
                    Bad::Raw(super::util::go_struct(
                        "&apps.RollingUpdateStatefulSetStrategy",
                        ru,
                    )),
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = us.get("rollingUpdate").filter(|v| !v.is_null()) {
                out.extend(non_negative(
                    int(ru, "partition").unwrap_or(0),
                    &up.at(&["rollingUpdate", "partition"]),
                ));
                if let Some(mu) = ru.get("maxUnavailable").filter(|v| !v.is_null()) {
                    let p = up.at(&["rollingUpdate", "maxUnavailable"]);
                    out.extend(positive_int_or_percent(Some(mu), &p));
                    if int_or_percent_value(Some(mu)) == 0 {
                        out.push(invalid(&p, int_or_string_bad(Some(mu)), "cannot be 0"));
                    }
                    out.extend(not_more_than_100(Some(mu), &p));
                }
            }
        }
        _ => out.push(invalid(
            &up,
            Bad::Raw(super::util::go_struct("apps.StatefulSetUpdateStrategy", us)),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(p) = spec
        .get("persistentVolumeClaimRetentionPolicy")
        .filter(|v| v.is_object())
    {
        let pp = sp.child("persistentVolumeClaimRetentionPolicy");
        for f in ["whenDeleted", "whenScaled"] {
            match s(p, f) {
                "Retain" | "Delete" => {}
                other => out.push(not_supported(&pp.child(f), other, &["Retain", "Delete"])),
            }
        }
    }
    if let Some(ord) = spec.get("ordinals").filter(|v| v.is_object()) {
        let start = int(ord, "start").unwrap_or(0);
        out.extend(non_negative(start, &sp.at(&["ordinals", "start"])));
    }
    out.extend(non_negative(
        int(spec, "replicas").unwrap_or(0),
        &sp.child("replicas"),
    ));
    out.extend(non_negative(
        int(spec, "minReadySeconds").unwrap_or(0),
        &sp.child("minReadySeconds"),
    ));
    out.extend(selector_and_template(
        spec,
        &sp,
        "statefulset",
        "StatefulSet",
    ));
    for (i, t) in arr(spec, "volumeClaimTemplates").iter().enumerate() {
        let p = sp.child("volumeClaimTemplates").index(i);
        if let Some(m) = t.get("metadata") {
            out.extend(validate_labels(
                m.get("labels"),
                &p.at(&["metadata", "labels"]),
            ));
        }
        if let Some(pvc_spec) = t.get("spec") {
            out.extend(validate_pvc_spec(pvc_spec, &p.child("spec")));
        }
    }
    out
}
