//! Jobs and CronJobs (`pkg/apis/batch/validation`).

pub use super::cron::*;

use serde_json::Value;

use super::field::{forbidden, invalid, not_supported, required, Bad, Path};
use super::meta::{
    immutable, non_negative, validate_label_selector, validate_object_meta,
    validate_object_meta_update, FIELD_IMMUTABLE,
};
use super::names::{is_dns1123_label, NameRule};
use super::pod::validate_pod_template_spec;
use super::util::{
    boolean, go_label_selector, go_string_map, go_struct, has, int, s, selector_matches,
};
use crate::status::Cause;

pub const MAX_PARALLELISM_INDEXED: i64 = 100_000;
pub const MAX_COMPLETIONS_PER_INDEX_LIMIT: i64 = 100_000;

pub fn template_labels(spec: &Value) -> Option<&Value> {
    spec.get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
}

/// `ValidateHasLabel`.
pub fn has_label(labels: Option<&Value>, key: &str, expected: &str, path: &Path) -> Vec<Cause> {
    let lp = path.child("labels").key(key);
    match labels.and_then(|l| l.get(key)).and_then(Value::as_str) {
        None => vec![required(&lp, &format!("must be '{expected}'"))],
        Some(v) if v != expected => vec![invalid(
            &lp,
            Bad::Raw(go_string_map(labels)),
            &format!("must be '{expected}'"),
        )],
        _ => vec![],
    }
}

/// `validateGeneratedSelector`.
pub fn generated_selector(job: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let spec = job.get("spec").unwrap_or(&null);
    if boolean(spec, "manualSelector") == Some(true) {
        return out;
    }
    // A missing selector is reported by the spec validation.
    let Some(sel) = spec.get("selector").filter(|v| !v.is_null()) else {
        return out;
    };
    let meta = job.get("metadata").unwrap_or(&null);
    let uid = s(meta, "uid");
    let name = s(meta, "name");
    if uid.is_empty() {
        out.push(required(&Path::new("metadata.uid"), ""));
    }
    let tp = Path::new("spec.template.metadata");
    let labels = template_labels(spec);
    out.extend(has_label(
        labels,
        "batch.kubernetes.io/controller-uid",
        uid,
        &tp,
    ));
    out.extend(has_label(labels, "batch.kubernetes.io/job-name", name, &tp));
    out.extend(has_label(labels, "controller-uid", uid, &tp));
    out.extend(has_label(labels, "job-name", name, &tp));
    let expected = serde_json::json!({
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    });
    let expected = expected.as_object().cloned().unwrap_or_default();
    if !selector_matches(sel, &expected) {
        out.push(invalid(
            &Path::new("spec.selector"),
            Bad::Raw(go_label_selector(sel)),
            "`selector` not auto-generated",
        ));
    }
    out
}

/// `validateJobSpec` (shared with CronJob job templates).
pub fn validate_job_spec_common(spec: &Value, sp: &Path) -> Vec<Cause> {
    let mut out = Vec::new();
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
    ] {
        if let Some(v) = int(spec, f) {
            out.extend(non_negative(v, &sp.child(f)));
        }
    }
    let mode = spec.get("completionMode").and_then(Value::as_str);
    let indexed = mode == Some("Indexed");
    if let Some(b) = int(spec, "backoffLimitPerIndex") {
        out.extend(non_negative(b, &sp.child("backoffLimitPerIndex")));
        if !indexed {
            out.push(invalid(
                &sp.child("backoffLimitPerIndex"),
                b,
                "requires indexed completion mode",
            ));
        }
    }
    if let Some(m) = int(spec, "maxFailedIndexes") {
        out.extend(non_negative(m, &sp.child("maxFailedIndexes")));
        if !has(spec, "backoffLimitPerIndex") {
            out.push(required(
                &sp.child("backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            ));
        }
    }
    if let Some(m) = mode {
        if m != "NonIndexed" && m != "Indexed" {
            out.push(not_supported(
                &sp.child("completionMode"),
                m,
                &["NonIndexed", "Indexed"],
            ));
        }
        if indexed {
            match int(spec, "completions") {
                None => out.push(required(
                    &sp.child("completions"),
                    "when completion mode is Indexed",
                )),
                Some(c)
                    if c > MAX_COMPLETIONS_PER_INDEX_LIMIT && has(spec, "backoffLimitPerIndex") =>
                {
                    out.push(invalid(
                        &sp.child("completions"),
                        c,
                        &format!("must be less than or equal to {MAX_COMPLETIONS_PER_INDEX_LIMIT} when backoffLimitPerIndex is specified"),
                    ));
                }
                _ => {}
            }
            if let Some(p) = int(spec, "parallelism") {
                if p > MAX_PARALLELISM_INDEXED {
                    out.push(invalid(
                        &sp.child("parallelism"),
                        p,
                        &format!("must be less than or equal to {MAX_PARALLELISM_INDEXED} when completion mode is Indexed"),
                    ));
                }
            }
        }
    }
    if !indexed && has(spec, "successPolicy") {
        out.push(invalid(
            &sp.child("successPolicy"),
            Bad::Raw(go_struct("&batch.SuccessPolicy", &spec["successPolicy"])),
            "requires indexed completion mode",
        ));
    }
    let pfp = has(spec, "podFailurePolicy");
    if let Some(p) = spec.get("podReplacementPolicy").and_then(Value::as_str) {
        if pfp {
            if p != "Failed" {
                out.push(not_supported(
                    &sp.child("podReplacementPolicy"),
                    p,
                    &["Failed"],
                ));
            }
        } else if p != "Failed" && p != "TerminatingOrFailed" {
            out.push(not_supported(
                &sp.child("podReplacementPolicy"),
                p,
                &["Failed", "TerminatingOrFailed"],
            ));
        }
    }
    let null = Value::Null;
    let template = spec.get("template").unwrap_or(&null);
    let tp = sp.child("template");
    out.extend(validate_pod_template_spec(template, &tp));
    let rp = template
        .get("spec")
        .map(|t| s(t, "restartPolicy"))
        .unwrap_or_default();
    let rpp = tp.at(&["spec", "restartPolicy"]);
    if rp == "Always" || rp.is_empty() {
        out.push(required(&rpp, "valid values: \"OnFailure\", \"Never\""));
    } else if rp != "OnFailure" && rp != "Never" {
        out.push(not_supported(&rpp, rp, &["OnFailure", "Never"]));
    } else if pfp && rp != "Never" {
        out.push(invalid(
            &rpp,
            rp,
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
    out
}

/// `ValidateJobSpec`.
pub fn validate_job_spec(spec: &Value, sp: &Path) -> Vec<Cause> {
    let mut out = validate_job_spec_common(spec, sp);
    let sel = spec.get("selector").filter(|v| !v.is_null());
    match sel {
        None => out.push(required(&sp.child("selector"), "")),
        Some(sel) => out.extend(validate_label_selector(sel, &sp.child("selector"))),
    }
    let labels = template_labels(spec)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if !sel.is_some_and(|sel| selector_matches(sel, &labels)) {
        out.push(invalid(
            &sp.at(&["template", "metadata", "labels"]),
            Bad::Raw(go_string_map(template_labels(spec))),
            "`selector` does not match template `labels`",
        ));
    }
    out
}

/// `ValidateJob` (+ `ValidateJobUpdate`).
pub fn validate_job(job: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(job, old));
    }
    out.extend(validate_object_meta(job, true, NameRule::Subdomain));
    out.extend(generated_selector(job));
    let null = Value::Null;
    let spec = job.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    out.extend(validate_job_spec(spec, &sp));
    if spec.get("completionMode").and_then(Value::as_str) == Some("Indexed") {
        if let Some(c) = int(spec, "completions").filter(|c| *c > 0) {
            let name = job
                .get("metadata")
                .map(|m| s(m, "name"))
                .unwrap_or_default();
            let host = format!("{name}-{}", c - 1);
            if !is_dns1123_label(&host).is_empty() {
                out.push(invalid(
                    &Path::new("metadata.name"),
                    name,
                    &format!("will not able to create pod with invalid DNS label: {host}"),
                ));
            }
        }
    }
    if let Some(old) = old {
        out.extend(validate_job_spec_update(job, old));
    }
    out
}

pub fn validate_job_spec_update(job: &Value, old: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let null = Value::Null;
    let ns = job.get("spec").unwrap_or(&null);
    let os = old.get("spec").unwrap_or(&null);
    let sp = Path::new("spec");
    let bad_int = |v: Option<&Value>| match v.and_then(Value::as_i64) {
        Some(i) => Bad::Int(i),
        None => Bad::Raw("null".into()),
    };
    let indexed = ns.get("completionMode").and_then(Value::as_str) == Some("Indexed");
    if !indexed {
        out.extend(immutable(
            ns.get("completions"),
            os.get("completions"),
            bad_int(ns.get("completions")),
            &sp.child("completions"),
        ));
    } else if ns.get("completions") != os.get("completions") {
        if let Some(c) = int(ns, "completions") {
            if Some(c) != int(ns, "parallelism") {
                out.push(invalid(
                    &sp.child("completions"),
                    c,
                    "can only be modified in tandem with spec.parallelism",
                ));
            }
        }
    }
    let sel = ns.get("selector");
    out.extend(immutable(
        sel,
        os.get("selector"),
        Bad::Raw(
            sel.filter(|v| !v.is_null())
                .map_or("null".into(), go_label_selector),
        ),
        &sp.child("selector"),
    ));
    // Suspended jobs that never started may change scheduling directives.
    let mutable_sched = boolean(os, "suspend") == Some(true)
        && !old.get("status").is_some_and(|st| has(st, "startTime"));
    let mut nt = ns.get("template").cloned().unwrap_or(Value::Null);
    let mut ot = os.get("template").cloned().unwrap_or(Value::Null);
    if mutable_sched {
        for t in [&mut nt, &mut ot] {
            if let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("labels");
                m.remove("annotations");
            }
            if let Some(m) = t.get_mut("spec").and_then(Value::as_object_mut) {
                m.remove("nodeSelector");
                m.remove("tolerations");
                m.remove("schedulingGates");
                if let Some(a) = m.get_mut("affinity").and_then(Value::as_object_mut) {
                    a.remove("nodeAffinity");
                }
            }
        }
    }
    if !super::pod::semantic_eq(&nt, &ot) {
        out.push(invalid(
            &sp.child("template"),
            Bad::Raw(go_struct(
                "core.PodTemplateSpec",
                ns.get("template").unwrap_or(&null),
            )),
            FIELD_IMMUTABLE,
        ));
    }
    let str_bad = |v: Option<&Value>| match v.and_then(Value::as_str) {
        Some(x) => Bad::Str(x.to_string()),
        None => Bad::Raw("null".into()),
    };
    out.extend(immutable(
        ns.get("completionMode"),
        os.get("completionMode"),
        str_bad(ns.get("completionMode")),
        &sp.child("completionMode"),
    ));
    out.extend(immutable(
        ns.get("podFailurePolicy"),
        os.get("podFailurePolicy"),
        Bad::Raw(
            ns.get("podFailurePolicy")
                .map_or("null".into(), |v| go_struct("&batch.PodFailurePolicy", v)),
        ),
        &sp.child("podFailurePolicy"),
    ));
    out.extend(immutable(
        ns.get("backoffLimitPerIndex"),
        os.get("backoffLimitPerIndex"),
        bad_int(ns.get("backoffLimitPerIndex")),
        &sp.child("backoffLimitPerIndex"),
    ));
    out.extend(immutable(
        ns.get("managedBy"),
        os.get("managedBy"),
        str_bad(ns.get("managedBy")),
        &sp.child("managedBy"),
    ));
    out.extend(immutable(
        ns.get("successPolicy"),
        os.get("successPolicy"),
        Bad::Raw(
            ns.get("successPolicy")
                .map_or("null".into(), |v| go_struct("&batch.SuccessPolicy", v)),
        ),
        &sp.child("successPolicy"),
    ));
    out
}

/// `ValidateJobUpdateStatus` (light: counters non-negative).
pub fn validate_job_status(job: &Value, old: &Value) -> Vec<Cause> {
    let mut out = validate_object_meta_update(job, old);
    let null = Value::Null;
    let st = job.get("status").unwrap_or(&null);
    for f in ["active", "succeeded", "failed", "ready", "terminating"] {
        if let Some(v) = int(st, f) {
            out.extend(non_negative(v, &Path::new("status").child(f)));
        }
    }
    out.extend(super::other::validate_conditions(st));
    out
}

/// `ValidateCronJobCreate` / `ValidateCronJobUpdate`.
pub fn validate_cron_job(cj: &Value, old: Option<&Value>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(old) = old {
        out.extend(validate_object_meta_update(cj, old));
    } else {
        out.extend(validate_object_meta(cj, true, NameRule::Subdomain));
    }
    let null = Value::Null;
    let spec = cj.get("spec").unwrap_or(&null);
    let old_spec = old.and_then(|o| o.get("spec"));
    let sp = Path::new("spec");
    let schedule = s(spec, "schedule");
    if schedule.is_empty() {
        out.push(required(&sp.child("schedule"), ""));
    } else {
        let allow_tz = old_spec.is_some_and(|o| s(o, "schedule").contains("TZ"));
        if let Err(e) = parse_cron(schedule) {
            out.push(invalid(&sp.child("schedule"), schedule, &e));
        }
        if allow_tz && schedule.contains("TZ") && has(spec, "timeZone") {
            out.push(invalid(
                &sp.child("schedule"),
                schedule,
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !allow_tz && schedule.contains("TZ") {
            out.push(invalid(
                &sp.child("schedule"),
                schedule,
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    if let Some(v) = int(spec, "startingDeadlineSeconds") {
        out.extend(non_negative(v, &sp.child("startingDeadlineSeconds")));
    }
    if old_spec.is_none_or(|o| o.get("timeZone") != spec.get("timeZone")) {
        if let Some(tz) = spec.get("timeZone").and_then(Value::as_str) {
            let tzp = sp.child("timeZone");
            if tz.is_empty() {
                out.push(invalid(
                    &tzp,
                    tz,
                    "timeZone must be nil or non-empty string",
                ));
            } else if tz.eq_ignore_ascii_case("local") {
                out.push(invalid(&tzp, tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"));
            } else if !valid_tz_name(tz) {
                out.push(invalid(&tzp, tz, &format!("unknown time zone {tz}")));
            }
        }
    }
    match s(spec, "concurrencyPolicy") {
        "Allow" | "Forbid" | "Replace" => {}
        "" => out.push(required(&sp.child("concurrencyPolicy"), "")),
        other => out.push(not_supported(
            &sp.child("concurrencyPolicy"),
            other,
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = spec.get("jobTemplate").unwrap_or(&null);
    let jtp = sp.child("jobTemplate");
    let jspec = jt.get("spec").unwrap_or(&null);
    out.extend(validate_job_spec_common(jspec, &jtp.child("spec")));
    if let Some(sel) = jspec.get("selector").filter(|v| !v.is_null()) {
        out.push(invalid(
            &jtp.at(&["spec", "selector"]),
            Bad::Raw(format!("&{}", go_label_selector(sel))),
            "`selector` will be auto-generated",
        ));
    }
    if boolean(jspec, "manualSelector") == Some(true) {
        out.push(not_supported(
            &jtp.at(&["spec", "manualSelector"]),
            Bad::Bool(true),
            &["nil", "false"],
        ));
    }
    for f in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        if let Some(v) = int(spec, f) {
            out.extend(non_negative(v, &sp.child(f)));
        }
    }
    if old.is_none() {
        let name = cj.get("metadata").map(|m| s(m, "name")).unwrap_or_default();
        if name.len() > 52 {
            out.push(invalid(
                &Path::new("metadata.name"),
                name,
                "must be no more than 52 characters",
            ));
        }
    }
    let _ = forbidden;
    out
}

pub fn valid_tz_name(tz: &str) -> bool {
    tz == "UTC"
        || tz == "GMT"
        || (!tz.starts_with('/')
            && !tz.contains("..")
            && tz
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c))
            && tz.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
}
